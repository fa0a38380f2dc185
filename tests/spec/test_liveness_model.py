"""The liveness models' pieces: topologies, the term quotient's claims, verdicts on 2 servers."""

from __future__ import annotations

import random
import re

import pytest

from electorate.model_check.liveness import Fairness, check
from electorate.spec import next as spec_next
from electorate.spec import symmetry
from electorate.spec.liveness import quotient, timing
from electorate.spec.liveness.model import LivenessRaftModel, confirm
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.params import Params, ParamsError
from electorate.spec.state import NIL, State
from electorate.spec.topology import TopologyError, howard, parse_edges, topology_from


def test_howard_is_the_papers_topology() -> None:
    t = howard(5)
    assert t.edge_list() == "1-2,1-3,2-3,2-4,3-5"
    assert [t.quorum_connected(i) for i in range(5)] == [True, True, True, False, False]
    assert t.up(3, 1) and not t.up(3, 0) and t.up(3, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1-9", "names server 9, but there are 3 servers"),
        ("1~2", "write A-B (both directions) or A>B (one)"),
        ("1-1", "a server always reaches itself"),
        ("mesh", "unknown topology 'mesh'"),
    ],
)
def test_bad_topologies_say_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(TopologyError, match=re.escape(message)):
        topology_from(text, 3)


def test_a_topology_without_a_connected_quorum_is_refused() -> None:
    with pytest.raises(ParamsError, match="no server of edges"):
        Params(servers=5, topology=parse_edges("1-2,3-4", 5))


def _concrete_states(p: Params, count: int, seed: int) -> list[State]:
    """States of the concrete model (terms not normalised) along random walks."""
    rng = random.Random(seed)
    out: list[State] = []
    for _ in range(count):
        s = spec_next.Init(p)
        for _ in range(rng.randrange(1, 30)):
            steps = [t for _, t in spec_next.ConcreteNext(p, s) if t is not s]
            if not steps:
                break
            s = rng.choice(steps)
        out.append(s)
    return out


P2 = Params(servers=3, topology=topology_from("chain", 3), features=frozenset({"prevote"}))


def _labels(p: Params, s: State) -> set[tuple[str, object, str]]:
    return {
        (a.name, spec_next._instance(a), a.detail)
        for a, t in spec_next.ConcreteNext(p, s)
        if t is not s
    }


def test_shifting_every_term_is_exact() -> None:
    for s in _concrete_states(P2, 40, seed=1):
        moved = quotient.shift(s, 7)
        ahead = {
            (a.name, spec_next._instance(a), quotient.shift(t, 7))
            for a, t in spec_next.ConcreteNext(P2, s)
            if t is not s
        }
        there = {
            (a.name, spec_next._instance(a), t)
            for a, t in spec_next.ConcreteNext(P2, moved)
            if t is not moved
        }
        assert ahead == there


def test_the_quotient_keeps_enabledness_and_covers_every_concrete_step() -> None:
    """A concrete state and the quotient state it maps to enable the same action instances,
    and every concrete successor maps to a successor of the quotient state."""
    for s in _concrete_states(P2, 40, seed=2):
        q = quotient.normalise(s)
        assert _labels(P2, s) == _labels(P2, q)
        abstract = {(a.name, spec_next._instance(a), t) for a, t in spec_next.Next(P2, q)}
        for a, t in spec_next.ConcreteNext(P2, s):
            if t is not s:
                assert (a.name, spec_next._instance(a), quotient.normalise(t)) in abstract


@pytest.mark.slow
def test_full_connectivity_on_two_servers() -> None:
    """With randomized timeouts every property holds; without, the split vote is a lasso
    that replays in the concrete model with terms rising by a fixed amount per cycle."""
    with_r = Params(servers=2, topology=topology_from("full", 2))
    model = LivenessRaftModel(with_r)
    result = check(model, model.key, liveness_properties(with_r))
    assert result.lassos == dict.fromkeys(
        ("EventuallyLeader", "LeaderStability", "CandidateProgress")
    )
    without = Params(servers=2, topology=topology_from("full", 2), randomized=False)
    model = LivenessRaftModel(without)
    result = check(model, model.key, liveness_properties(without, "EventuallyLeader"))
    lasso = result.lassos["EventuallyLeader"]
    assert lasso is not None and lasso.cycle
    replay = confirm(without, lasso)
    assert replay.replayed and replay.periodic and replay.shift > 0


def test_a_server_renaming_carries_the_environment_variables() -> None:
    """symmetry.permute maps a liveness state's lucky server and keeps `stable`, so renaming a
    state and stepping commute on the full topology (every renaming is an automorphism)."""
    p = Params(servers=3, topology=topology_from("full", 3))
    states = _concrete_states(p, 60, seed=3)
    assert any(s.lucky not in (NIL, timing.LULL) for s in states)
    assert any(s.stable for s in states)
    for s in states:
        for perm in symmetry._perms(3):
            moved = symmetry.permute(s, *perm)
            assert moved.stable == s.stable
            assert moved.lucky == (perm[0][s.lucky] if 0 <= s.lucky < 3 else s.lucky)
            ahead = {symmetry.permute(t, *perm) for _, t in spec_next.ConcreteNext(p, s)}
            assert ahead == {t for _, t in spec_next.ConcreteNext(p, moved)}


def _after(p: Params, s: State, name: str, arg: object = None) -> State:
    """The concrete successor of s by the first instance of `name` (with argument `arg`)."""
    for a, t in spec_next.ConcreteNext(p, s):
        if a.name == name and (arg is None or a.args[0] == arg):
            return t
    raise AssertionError(f"{name}({arg}) not enabled")


def test_a_lucky_timeout_comes_whatever_is_in_flight_and_lasts_its_own_round() -> None:
    """R as modelled: with s2's vote request in flight, s1 may still be lucky (the step names
    its situation, which is its fair instance); s1's window blocks s2's timeout and stays
    open while s1's own round is in flight, and closes when it is over although s2's request
    is still on its way."""
    p = Params(servers=3, topology=topology_from("full", 3))
    s = _after(p, spec_next.Init(p), "Stabilize")
    s = _after(p, s, "Timeout", 1)  # s2 campaigns: its requests are in flight
    assert timing.situation(s) == "votes in flight"
    lucky = [a for a, _ in spec_next.ConcreteNext(p, s) if a.name == "LuckyTimeout"]
    assert [a.detail for a in lucky] == ["votes in flight"] * 3  # s2 may time out again too
    keys = {LivenessRaftModel(p).fairness(a) for a in lucky}
    assert keys == {(("LuckyTimeout", i, "votes in flight"), Fairness.STRONG) for i in range(3)}
    s = _after(p, s, "LuckyTimeout", 0)
    assert s.lucky == 0 and timing.round_traffic(s, 0)
    assert not any(a.name in ("Timeout", "LuckyTimeout") for a, _ in spec_next.ConcreteNext(p, s))
    # s3 grants s1's request (term 3): a quorum with s1's own vote.
    for m, _ in s.messages:
        if m.msource == 0 and m.mdest == 2:
            s = _after(p, s, "Receive", m)
    assert s.lucky == 0  # s3's answer to s1 is in flight: s1's round is not over
    s = _after(p, s, "Receive", next(m for m, _ in s.messages if (m.msource, m.mdest) == (2, 0)))
    assert s.role[0].name == "Leader" and s.lucky == NIL
    assert timing.vote_traffic(s)  # s2's round is still in flight: not s1's window's business
