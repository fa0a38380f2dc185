"""--reduce (spec/features/reduce.py) is sound: for every state the exact relative-time model
reaches, the reduced model reaches its image or a state that differs from it only by follower
deadlines it has dropped (so can do at least as much), and no property can tell a state from
its image.
So "no violation" in the reduced model carries over to the exact one."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from itertools import combinations

import pytest

from electorate.app import check as check_cli
from electorate.spec import symmetry
from electorate.spec.features import reduce, relative_time
from electorate.spec.ids import FEATURES
from electorate.spec.messages import Message, MType
from electorate.spec.next import Init, Next, constraint
from electorate.spec.params import Params, ParamsError
from electorate.spec.properties import invariants_for, sometimes_for
from electorate.spec.state import Role, State

Reach = Callable[[Params], set[State]]
ALL = frozenset(FEATURES)
CASES = {
    "all features": Params(servers=2, features=ALL),
    "lease": Params(servers=2, features=frozenset({"lease"})),
    "lease-too-long": Params(servers=2, features=frozenset({"lease"}), lease_ticks=3),
    "lease-from-receive-time": Params(
        servers=2, features=frozenset({"lease"}), bug="lease-from-receive-time"
    ),
}


def _reduced(p: Params) -> Params:
    return replace(p, reduce=True)


@pytest.mark.slow  # 10-40 s each with the pure-Python spec
@pytest.mark.parametrize("name", sorted(CASES))
def test_reduced_model_covers_every_exact_state(name: str, reachable: Reach) -> None:
    exact_p = CASES[name]
    reduced_p = _reduced(exact_p)
    exact, reduced = reachable(exact_p), reachable(reduced_p)
    for s in exact:
        assert _dominated(reduced_p, s, reduced, lambda t: t), s
    assert len(reduced) * 3 < len(exact)  # it is a real reduction
    for s in exact:
        t = reduce.Reduce(reduced_p, s)
        for inv in invariants_for(exact_p) + sometimes_for(exact_p):
            assert inv.holds(exact_p, s) == inv.holds(reduced_p, t), (inv.id, s)


@pytest.mark.slow
def test_reduced_model_keeps_no_clock_while_idle(reachable: Reach) -> None:
    p = _reduced(CASES["all features"])
    o = relative_time.origin(p)
    for s in reachable(p):
        if Role.Leader not in s.role:
            assert s.clock == (o, o) and not any(s.lease_until), s


def test_skews_are_the_relative_clock_vectors_within_the_drift() -> None:
    p3 = Params(servers=3, features=frozenset({"lease"}))
    o = relative_time.origin(p3)
    assert len(reduce.skews(p3)) == 2**3 - 1  # each clock at o or o+1, not all at o+1
    assert all(min(v) == o and max(v) <= o + 1 for v in reduce.skews(p3))
    p2 = Params(servers=3, features=frozenset({"lease"}), drift=2, election_ticks=5)
    assert len(reduce.skews(p2)) == 3**3 - 2**3


def _with_leader(p: Params, **changes: object) -> State:
    """s1 leads term 2 (round begun now, no lease yet); s2 follows it, s3 is left in term 1."""
    o = relative_time.origin(p)
    s = Init(p)._replace(
        current_term=(2, 2, 1),
        role=(Role.Leader, Role.Follower, Role.Follower),
        heard_leader=(True, True, True),
        clock=(o, o, o + 1),
        lease_until=(0, o + 2, o + 3),
        round_at=(o, 0, 0),
        round_acked=(0b001, 0, 0),
    )
    return s._replace(**changes)  # type: ignore[arg-type]


def test_a_deadline_ends_unless_it_may_back_a_lease() -> None:
    p = _reduced(Params(servers=3, features=ALL))
    o = relative_time.origin(p)
    ack = Message(MType.AppendEntriesResponse, 2, 1, 0, msuccess=True, msent_at=o)
    old_ack = ack._replace(msent_at=o - 1)
    backing = {
        "s2's ack of the current round is counted": _with_leader(p, round_acked=(0b011, 0, 0)),
        "s2's ack of the current round is on its way": _with_leader(p, messages=((ack, 1),)),
        "s1 holds a lease": _with_leader(p, lease_until=(o + 1, o + 2, o + 3)),
    }
    for why, s in backing.items():
        t = reduce.Reduce(p, relative_time.Normalize(p, s))
        assert t.lease_until[1:] == (o + 2, 0), why  # s3's term-1 leader is gone for good
        assert t.heard_leader == s.heard_leader  # its timer may run out; votes still refused
        assert t.clock == s.clock  # a leader exists: clocks are kept
    idle_backing = {
        "s2 acked nothing of this round": _with_leader(p),
        "s2's ack is of an older round": _with_leader(p, messages=((old_ack, 1),)),
    }
    for why, s in idle_backing.items():
        assert reduce.Reduce(p, relative_time.Normalize(p, s)).lease_until == (0, 0, 0), why


@pytest.mark.parametrize(
    "kwargs",
    [
        {"features": frozenset({"prevote"})},
        {"features": frozenset({"lease"}), "max_clock": 3},
    ],
)
def test_the_abstraction_needs_the_relative_lease_model(kwargs: dict[str, object]) -> None:
    with pytest.raises(ParamsError, match="--reduce"):
        Params(reduce=True, **kwargs)  # type: ignore[arg-type]


def test_cli_refuses_it_without_the_lease(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_cli.main(["--features", "prevote", "--reduce"]) == 2
    err = capsys.readouterr().err
    assert "--reduce" in err and "Traceback" not in err


def test_cli_points_big_exact_lease_models_to_reduce(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_cli.main(["--servers", "3", "--features", "lease", "--max-depth", "2"]) == 0
    assert "--reduce checks a sound over-approximation" in capsys.readouterr().err
    assert (
        check_cli.main(["--servers", "3", "--features", "lease", "--max-depth", "2", "--reduce"])
        == 0
    )
    assert "--reduce checks" not in capsys.readouterr().err


def test_tlc_is_not_asked_to_mirror_the_reduction(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_cli.main(["--servers", "2", "--features", "lease", "--reduce", "--tlc"]) == 0
    assert "TLC mirrors the exact model only: drop --reduce" in capsys.readouterr().err


def _dominated(p: Params, s: State, reduced: set[State], key: Callable[[State], State]) -> bool:
    """Some reduced state is s's image with none, some or all of the follower deadlines that
    rule 1 of spec/features/reduce.py may have dropped earlier on the way dropped."""
    live = [f for f, v in enumerate(s.lease_until) if v and s.role[f] != Role.Leader]
    for k in range(len(live) + 1):
        for dropped in combinations(live, k):
            lease = tuple(0 if f in dropped else v for f, v in enumerate(s.lease_until))
            if key(reduce.Reduce(p, s._replace(lease_until=lease))) in reduced:
                return True
    return False


def _canonical_states(p: Params, max_depth: int = 0) -> set[State]:
    """Every state reached within max_depth BFS levels (0: all), as canonical representatives."""
    start = symmetry.canonical(Init(p))
    seen, frontier, depth = {start}, [start], 1
    while frontier and (not max_depth or depth < max_depth):
        later: list[State] = []
        for s in frontier:
            if not constraint(p, s):
                continue
            for _, t in Next(p, s):
                c = symmetry.canonical(t)
                if c not in seen:
                    seen.add(c)
                    later.append(c)
        frontier, depth = later, depth + 1
    return seen


@pytest.mark.skipif(
    not os.environ.get("ELECTORATE_LONG"),
    reason="long (about 12 min compiled): set ELECTORATE_LONG=1; figures in docs/failure-modes.md",
)
def test_three_server_exact_states_are_dominated_by_reduced_states() -> None:
    """The 2-server test, on 3 servers with every feature: each exact state within the first
    levels the exact model can reach in minutes is matched in the reduced model's complete
    state set (up to dropped follower deadlines), with every property agreeing."""
    exact_p = Params(servers=3, features=ALL)
    reduced_p = _reduced(exact_p)
    reduced = _canonical_states(reduced_p)
    depth = int(os.environ.get("ELECTORATE_LONG_DEPTH", "30"))
    exact = _canonical_states(exact_p, depth)
    props = invariants_for(exact_p) + sometimes_for(exact_p)
    for s in exact:
        t = reduce.Reduce(reduced_p, s)
        assert _dominated(reduced_p, s, reduced, symmetry.canonical), s
        assert all(inv.holds(exact_p, s) == inv.holds(reduced_p, t) for inv in props), s
    inside = sum(constraint(exact_p, s) for s in exact)
    print(f"3 servers: {len(exact):,} exact states within {depth} levels ({inside:,} inside the")
    print(f" constraint), each matched among the {len(reduced):,} reduced states (counting those")
    print(" outside the constraint, which are checked but not expanded)")
