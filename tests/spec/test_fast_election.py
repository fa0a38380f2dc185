"""The packed election model in C (spec/fast) against the readable spec, state by state.

For every reachable state of small models, and for states sampled along seeded random walks of
bigger ones, with every bug variant the election profile has: the same successors in the same
order as `Next` (stuttering steps included, as TLC counts them), the same verdict of every
invariant and "sometimes" property and of the constraint, on the state and on each successor
(also those outside the constraint, which the search checks too), a packed row that unpacks to
the state, and a symmetry key shared exactly by the states of one orbit.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest

from electorate.model_check.packed import PackedSpace
from electorate.spec import symmetry
from electorate.spec.fast import election
from electorate.spec.fast.election import ElectionSpace, space_for
from electorate.spec.ids import BugId
from electorate.spec.messages import Message, MType
from electorate.spec.model import RaftModel
from electorate.spec.next import Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.properties import invariants_for, sometimes_for
from electorate.spec.state import Role, State

PROFILE_BUGS: list[BugId] = sorted(election.BUGS)


def spaces(p: Params) -> tuple[ElectionSpace, ElectionSpace]:
    """The packed model of p without and with symmetry, checking p's properties."""
    invariants = [(i.id, False) for i in invariants_for(p)]
    goals = [g.id for g in sometimes_for(p)]
    plain = space_for(p, invariants, goals, False)
    sym = space_for(p, invariants, goals, True)
    assert isinstance(plain, ElectionSpace) and isinstance(sym, ElectionSpace), plain
    return plain, sym


def reachable(p: Params, limit: int | None = None) -> list[State]:
    """Every state of the model in BFS order (no symmetry), or the first `limit` of them."""
    seen = {Init(p)}
    queue = [Init(p)]
    for s in queue:
        for _, t in Next(p, s):
            if constraint(p, t) and t not in seen and (limit is None or len(seen) < limit):
                seen.add(t)
                queue.append(t)
    return queue


def walks(p: Params, seed: int, count: int, length: int) -> Iterator[State]:
    """States along seeded random walks inside the constraint."""
    rng = random.Random(seed)
    for _ in range(count):
        s = Init(p)
        for _ in range(length):
            yield s
            inside = [t for _, t in Next(p, s) if constraint(p, t) and t is not s]
            if not inside:
                break
            s = rng.choice(inside)


def agree(p: Params, space: ElectionSpace, s: State) -> None:
    """The packed model says of s what the readable spec says."""
    row = space.pack(s)
    assert space.unpack(row) == s
    fast = [space.unpack(r) for r in space.successors(row)]
    readable = [t for _, t in Next(p, s)]
    assert fast == readable, s
    for t, r in zip(readable, space.successors(row), strict=True):
        holds, reached, inside = space.check(r)
        assert list(holds) == [i.holds(p, t) for i in invariants_for(p)], t
        assert list(reached) == [g.holds(p, t) for g in sometimes_for(p)], t
        assert inside == constraint(p, t), t


SMALL = [
    Params(servers=1),
    Params(servers=2),
    Params(servers=2, max_term=3),
    Params(servers=2, max_msgs=2),
    *[Params(servers=2, bug=b) for b in PROFILE_BUGS],
    Params(servers=2, max_term=3, bug="stale-votes-counted"),
    Params(servers=2, max_term=3, bug="leader-keeps-role"),
]


@pytest.mark.parametrize("p", SMALL, ids=lambda p: p.describe())
def test_every_state_of_a_small_model_agrees(p: Params) -> None:
    plain, _ = spaces(p)
    states = reachable(p)
    for s in states:
        agree(p, plain, s)
    assert len(states) > 10


@pytest.mark.slow
@pytest.mark.parametrize("bug", [None, "vote-twice", "quorum-half"])
def test_the_first_states_of_the_three_server_model_agree(bug: BugId | None) -> None:
    p = Params(servers=3, bug=bug)
    plain, _ = spaces(p)
    states = reachable(p, limit=30_000)  # of 535,491 (the search tests count them all)
    for s in states:
        agree(p, plain, s)
    assert len(states) == 30_000


@pytest.mark.parametrize(
    "p",
    [
        Params(servers=3, max_term=3, max_msgs=2),
        Params(servers=4, max_term=3, max_msgs=2),
        Params(servers=5, max_term=3, max_msgs=3),
        Params(servers=7, max_term=4, max_msgs=3),
        *[Params(servers=4, max_term=3, max_msgs=2, bug=b) for b in PROFILE_BUGS],
    ],
    ids=lambda p: p.describe(),
)
def test_states_sampled_from_bigger_models_agree(p: Params) -> None:
    seed = random.randrange(1 << 32)
    plain, _ = spaces(p)
    visited = 0
    for s in walks(p, seed, count=20, length=40):
        agree(p, plain, s)
        visited += 1
    assert visited > 100, f"seed {seed}"


def renamings(s: State) -> list[State]:
    n = len(s.current_term)
    return [symmetry.permute(s, *perm) for perm in symmetry._perms(n)]


@pytest.mark.parametrize(
    "p",
    [Params(servers=2), Params(servers=2, max_term=3), Params(servers=2, max_msgs=2)],
    ids=lambda p: p.describe(),
)
def test_the_symmetry_key_is_one_per_orbit(p: Params) -> None:
    _, sym = spaces(p)
    states = reachable(p)
    keys = {s: sym.key(sym.pack(s)) for s in states}
    for s in states:  # every renaming of s has its key (and its fingerprint)
        for image in renamings(s):
            assert sym.key(sym.pack(image)) == keys[s]
        assert sym.fingerprint(s) == sym.fingerprint(renamings(s)[-1])
    # ...and states of different orbits have different keys: as many keys as orbits.
    assert len(set(keys.values())) == len({symmetry.canonical(s) for s in states})


def test_the_symmetry_key_is_one_per_orbit_on_sampled_big_states() -> None:
    seed = random.randrange(1 << 32)
    p = Params(servers=4, max_term=3, max_msgs=3)
    _, sym = spaces(p)
    rng = random.Random(seed)
    states = list(walks(p, seed, count=10, length=30))
    for s in rng.sample(states, 40):
        key = sym.key(sym.pack(s))
        assert all(sym.key(sym.pack(t)) == key for t in renamings(s)), f"seed {seed}"
    orbits = Counter(symmetry.canonical(s) for s in states)
    assert len({sym.key(sym.pack(s)) for s in states}) == len(orbits), f"seed {seed}"


def test_a_witness_search_checks_the_negated_goal() -> None:
    p = Params(servers=2)
    space = space_for(p, [("LeaderElected", True)], [], False)
    assert isinstance(space, ElectionSpace)
    leaderless = space.pack(Init(p))
    assert space.check(leaderless)[0] == (True,)
    led = next(s for s in reachable(p) if Role.Leader in s.role)
    assert space.check(space.pack(led))[0] == (False,)


def test_the_packed_model_is_offered_only_where_it_covers_the_model() -> None:
    covered = RaftModel(Params(servers=3, bug="vote-twice")).packed(True)
    assert isinstance(covered, ElectionSpace) and "election profile" in covered.note
    for p, why in [
        (Params(servers=2, profile="heartbeat"), "the election profile, not heartbeat"),
        (Params(servers=2, features=frozenset({"prevote"})), "no features (prevote given)"),
        (Params(servers=2, max_msgs=16), "at most 15 messages"),
    ]:
        reason = RaftModel(p).packed(False)
        assert isinstance(reason, str) and why in reason
    log_bug = Params(bug="no-log-check", profile="log", values=1)
    assert isinstance(RaftModel(log_bug).packed(False), str)


def test_a_state_outside_the_profile_is_refused() -> None:
    p = Params(servers=2)
    plain, _ = spaces(p)
    s = Init(p)
    with pytest.raises(ValueError, match="election profile"):
        plain.pack(s._replace(commit_index=(1, 0)))
    append = Message(MType.AppendEntriesRequest, 1, 0, 1)
    with pytest.raises(ValueError, match="not a message of the election profile"):
        plain.pack(s._replace(messages=((append, 1),)))
    with pytest.raises(ValueError, match="election profile without features"):
        plain.pack(s._replace(knows_leader=(True, False)))
    with pytest.raises(ValueError, match="out of the packed range"):
        plain.pack(s._replace(current_term=(9, 1)))  # terms up to max_term + 1 are packed


def test_the_election_space_is_a_packed_space() -> None:
    space: PackedSpace[State] = spaces(Params(servers=2))[0]
    assert space.words == 1
