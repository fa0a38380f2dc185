"""The checker's figures, symmetry, workers and counterexamples on small Raft models.

Expected counts are TLC's (spec/models/expected.json records TLC's own runs; the TLC
cross-check test re-derives them); here they pin our checker without needing Java.
"""

from __future__ import annotations

import itertools
import random

import pytest

from electorate.app.api import check
from electorate.model_check.search import Search
from electorate.spec import symmetry
from electorate.spec.bugs import BUGS
from electorate.spec.ids import BugId
from electorate.spec.model import RaftModel
from electorate.spec.next import Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.state import State

# (params, symmetry) -> (distinct, generated, depth), all equal to TLC 2.15's figures.
PINNED = [
    (Params(servers=2), False, (1249, 9743, 18)),
    (Params(servers=2), True, (633, 4916, 18)),
    (Params(servers=2, profile="heartbeat"), False, (1301, 10213, 20)),
    (Params(servers=2, profile="heartbeat"), True, (659, 5151, 20)),
    (Params(servers=2, profile="log", values=1), False, (1645, 12861, 28)),
]


@pytest.mark.parametrize(("params", "sym", "expected"), PINNED)
def test_counts_equal_tlc(params: Params, sym: bool, expected: tuple[int, int, int]) -> None:
    r = check(params, symmetry=sym)
    assert (r.distinct_states, r.states_generated, r.depth) == expected
    assert r.result == "ok" and not r.vacuous


@pytest.mark.parametrize("profile", ["election", "log"])
def test_workers_give_the_same_counts(profile: str) -> None:
    p = Params(servers=2, profile=profile, values=1 if profile == "log" else 0)  # type: ignore[arg-type]
    one, two = check(p, workers=1), check(p, workers=2)
    assert (one.distinct_states, one.states_generated, one.depth) == (
        two.distinct_states,
        two.states_generated,
        two.depth,
    )


def reachable_sample(p: Params, limit: int) -> list[State]:
    """The first `limit` states of a plain BFS (no symmetry), for property tests."""
    seen = {Init(p)}
    queue = [Init(p)]
    for s in queue:
        for _, t in Next(p, s):
            if constraint(p, t) and t not in seen:
                seen.add(t)
                queue.append(t)
        if len(queue) >= limit:
            break
    return queue[:limit]


def test_canonical_form_is_the_same_for_every_renaming() -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    p = Params(servers=3, max_msgs=2)
    perms = symmetry._perms(3)
    for s in rng.sample(reachable_sample(p, 4000), 400):
        canon = symmetry.canonical(s)
        for pi, inv, masks in perms:
            image = symmetry.permute(s, pi, inv, masks)
            assert symmetry.canonical(image) == canon, f"seed {seed}"
        assert canon in {symmetry.permute(s, *perm) for perm in perms}, f"seed {seed}"


def test_signature_canonicalisation_counts_exact_orbits() -> None:
    """Same orbit count as trying all N! renamings (the definition of TLC's SYMMETRY)."""

    class BruteForce(RaftModel):
        def canonical(self, s: State) -> State:
            return symmetry.canonical_bruteforce(s)

    p = Params(servers=3, max_term=2, max_msgs=1, profile="election")
    fast = Search(RaftModel(p), symmetry=True)
    slow = Search(BruteForce(p), symmetry=True)
    # Compare level by level on the first levels (the full model takes minutes brute force).
    a, b = fast.run(max_depth=12), slow.run(max_depth=12)
    assert a.distinct > 1000
    assert (a.distinct, a.generated, a.depth) == (b.distinct, b.generated, b.depth)


def test_sometimes_property_reached() -> None:
    r = check(Params(servers=2))
    assert r.search.sometimes == {"LeaderElected": True}


# Observed shortest counterexamples (length in states) for each bug variant, defaults only.
BUG_TRACES: dict[BugId, tuple[str, int]] = {
    "quorum-half": ("ElectionSafety", 11),
    "vote-twice": ("VotesGrantedAreVotes", 8),
    "forget-vote-on-restart": ("VoteResponsesAreVotes", 5),
    "stale-votes-counted": ("VotesGrantedAreVotes", 6),
    "leader-keeps-role": ("VotesGrantedAreVotes", 13),
}


@pytest.mark.parametrize("name", sorted(BUG_TRACES))
def test_bug_variant_is_refuted_with_a_shortest_trace(name: BugId) -> None:
    bug = BUGS[name]
    p = Params(bug=name, **bug.overrides)
    r = check(p)
    assert r.search.violation is not None
    invariant, length = BUG_TRACES[name]
    assert r.search.violation.invariant == invariant == bug.breaks
    assert len(r.search.violation.trace) == length
    # Shortest: a search stopped one level earlier finds no violation at all.
    shorter = Search(RaftModel(p)).run(max_depth=length - 1)
    assert shorter.violation is None


@pytest.mark.slow
def test_no_log_check_is_refuted() -> None:
    """The log-profile variant: a voter with a newer log elects a leader without its entry."""
    bug = BUGS["no-log-check"]
    r = check(Params(bug="no-log-check", **bug.overrides), workers=1)
    assert r.search.violation is not None
    assert r.search.violation.invariant == bug.breaks == "LeaderLogCoversVoters"
    assert len(r.search.violation.trace) == 20


def test_trace_replays_through_the_spec() -> None:
    p = Params(bug="vote-twice")
    r = check(p)
    assert r.search.violation is not None
    trace = r.search.violation.trace
    assert trace[0][1] == Init(p)
    for (_, before), (action, after) in itertools.pairwise(trace):
        assert (action, after) in list(Next(p, before))


def test_fingerprints_are_hashes_so_minus_one_and_minus_two_merge() -> None:
    """Why specs keep -1 and -2 apart (spec/features/relative_time.py keeps times positive): the
    checker keeps hash() of states only, and CPython gives -1 and -2 the same hash."""
    assert hash((0, -1)) == hash((0, -2))
    p = Params(servers=2, features=frozenset({"prevote", "lease"}), lease_ticks=2, election_ticks=5)
    start = Init(p)
    seen, frontier = {start}, [start]
    while frontier and len(seen) < 3_000:  # the first BFS levels suffice
        later = {t for s in frontier for _, t in Next(p, s) if constraint(p, t)} - seen
        seen.update(later)
        frontier = list(later)
    values = {v for s in seen for v in _ints(s)}
    assert -2 not in values  # NIL (-1) is the only negative value a state holds
    assert len({hash(s) for s in seen}) == len(seen)


def _ints(x: object) -> list[int]:
    if isinstance(x, bool):
        return []
    if isinstance(x, int):
        return [x]
    if isinstance(x, tuple):
        return [v for item in x for v in _ints(item)]
    return []
