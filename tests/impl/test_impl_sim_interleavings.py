"""Hypothesis-chosen interleavings: arbitrary delivery order, loss, duplication, crashes,
restarts, forced elections and transfers, on a lockstep clock.

Where ``test_impl_sim`` draws faults from a scenario, here Hypothesis picks every single
event, so it explores orders the scenarios make rare (a grant delivered many terms late, a
TimeoutNow duplicated after a restart...) and shrinks a failure to a short event list, which
it prints. The simulator's checker is reused: one leader per term, one vote per node per
term, no overlapping leases, increasing tokens.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from electorate.impl.messages import Message
from electorate.testing.sim import _Network, _Options, _Sim

# Deliveries dominate so that elections complete; a few of everything else.
KINDS = ["tick"] * 3 + ["deliver"] * 16 + ["drop", "dup", "crash", "restart", "timeout"] * 1
KINDS += ["timeout", "campaign", "transfer", "resign"]
WARM_UP = 10  # lockstep ticks before the trace: past every restart guard
events = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(min_value=0, max_value=1000)),
    min_size=1,
    max_size=250,
)


class _Bag(_Network):
    """Messages wait here until the test delivers, drops or duplicates one of them."""

    def __init__(self) -> None:
        super().__init__(random.Random(0))
        self.flight: list[Message] = []

    def send(self, m: Message, now: int) -> None:
        self.flight.append(m)


def _apply(sim: _Sim, bag: _Bag, kind: str, arg: int) -> None:
    node = sim.ids[arg % len(sim.ids)]
    m = sim.nodes[node]
    if kind == "tick":
        for _ in range(1 + arg % 4):  # every live node ticks together: clocks do not drift
            sim.now += 1
            for i, n in sim.live():
                n.tick()
                sim.drain(i)
    elif kind in ("deliver", "drop", "dup") and bag.flight:
        msg = bag.flight[arg % len(bag.flight)]
        if kind == "dup":
            bag.flight.append(msg)
            return
        bag.flight.remove(msg)
        target = sim.nodes.get(msg.dst)
        if kind == "deliver" and target is not None:
            target.step(msg)
            sim.drain(msg.dst)
    elif kind == "crash":
        sim.nodes[node] = None
    elif kind == "restart" and m is None:
        sim.nodes[node] = sim._boot(node)
        sim.drain(node)
    elif m is not None:
        _operate(sim, node, kind, arg)


def _operate(sim: _Sim, node: str, kind: str, arg: int) -> None:
    m = sim.nodes[node]
    assert m is not None
    if kind == "timeout":
        m.election_timeout()
    elif kind == "campaign":
        m.campaign()
    elif kind == "transfer":
        m.transfer_leadership([None, *sim.ids][arg % (len(sim.ids) + 1)])
    elif kind == "resign":
        m.resign()
    sim.drain(node)


def _run(nodes: int, prevote: bool, trace: list[tuple[str, int]]) -> _Sim:
    opts = _Options(nodes, 10**9, 10**9 - 1, 1, frozenset(), prevote, True, False)
    sim = _Sim(0, "calm", opts)
    bag = _Bag()
    sim.net = bag
    for _ in range(WARM_UP):
        _apply(sim, bag, "tick", 0)
    for kind, arg in trace:
        _apply(sim, bag, kind, arg)
    return sim


@settings(derandomize=True, max_examples=120, deadline=None)
@given(trace=events, nodes=st.sampled_from([3, 4, 5]), prevote=st.booleans())
def test_no_interleaving_breaks_safety_or_leases(
    trace: list[tuple[str, int]], nodes: int, prevote: bool
) -> None:
    """§3.4 election safety and §6.4.1 lease exclusivity under any event order."""
    violations = _run(nodes, prevote, trace).result.violations
    assert not violations, violations


def test_interleavings_reach_leaders_and_leases() -> None:
    """The driver is not vacuous: a plain event order elects a leased leader."""
    sim = _run(3, True, [("timeout", 0)] + [("deliver", 0)] * 20)
    assert sim.result.leaderships >= 1
    assert any(m.is_leader() for _, m in sim.live())
