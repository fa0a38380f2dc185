"""Nodes on in-memory storage and network and a virtual clock: the runtime's timing rules,
checked without sockets, disks or real time, so a busy machine cannot make them flaky."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from electorate.impl.config import NodeConfig
from electorate.impl.core import HardState, Role
from electorate.impl.messages import AppendEntries, RequestVote, RequestVoteResponse
from electorate.impl.runtime import NodeRuntime
from electorate.impl.storage import StorageFatalError
from electorate.testing.fakes import MemoryNetwork, MemoryStorage, VirtualClock

SECRET = b"virtual-test-secret-0123456789ab"
TICK = 0.015  # heartbeat 15 ms, election timeout 150 ms: lease 8 ticks (120 ms)
LEASE = 8 * TICK


def configs(n: int) -> list[NodeConfig]:
    ids = [f"n{i + 1}" for i in range(n)]
    return [
        NodeConfig(
            node_id=me,
            listen=("127.0.0.1", 7001 + i),
            peers={p: ("127.0.0.1", 7001 + j) for j, p in enumerate(ids) if p != me},
            data_dir=Path("/nonexistent"),
            secret=SECRET,
            election_timeout_ms=150,
            heartbeat_ms=15,
            seed=100 + i,
        )
        for i, me in enumerate(ids)
    ]


class Cluster:
    def __init__(self, n: int) -> None:
        self.clock = VirtualClock()
        self.net = MemoryNetwork()
        self.disks = {c.node_id: MemoryStorage() for c in configs(n)}
        self.nodes = {
            c.node_id: NodeRuntime(
                c, storage=self.disks[c.node_id], network=self.net.attach, clock=self.clock
            )
            for c in configs(n)
        }
        self.stops: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, node: str) -> None:
        self.stops[node] = asyncio.Event()
        self.tasks[node] = asyncio.create_task(self.nodes[node].run(self.stops[node]))

    async def crash(self, node: str) -> BaseException | None:
        """Stop ``node`` (its run ends as after a crash); the error it stopped on, if any."""
        self.stops[node].set()
        task = self.tasks.pop(node)
        done, _ = await asyncio.wait({task}, timeout=5.0)
        assert done, f"{node} did not stop"
        return task.exception()

    def leaders(self) -> list[str]:
        return [i for i, n in self.nodes.items() if i in self.tasks and n.is_leader()]

    async def until(self, cond: Callable[[], bool], limit_s: float) -> float:
        """Advance virtual time tick by tick until ``cond``; the virtual seconds it took."""
        start = self.clock.now
        while not cond():
            assert self.clock.now - start < limit_s, f"not within {limit_s}s of virtual time"
            await self.clock.advance(TICK / 3)
        return self.clock.now - start

    async def close(self) -> None:
        for node in list(self.tasks):
            await self.crash(node)


def run(scenario: Callable[[Cluster], Awaitable[None]], n: int = 3) -> None:
    async def main() -> None:
        c = Cluster(n)
        for node in c.nodes:
            c.start(node)
        try:
            await asyncio.wait_for(scenario(c), 60.0)
        finally:
            await c.close()

    asyncio.run(main())


def test_a_leader_is_elected_and_holds_a_lease_measured_on_the_virtual_clock() -> None:
    async def scenario(c: Cluster) -> None:
        took = await c.until(lambda: len(c.leaders()) == 1, 2.0)
        # Restart guard (one election timeout) plus a draw from [150, 300) ms plus round trips.
        assert 0.150 <= took < 0.700
        leader = c.nodes[c.leaders()[0]]
        deadline = leader.snapshot.lease_deadline
        assert deadline is not None and 0 < deadline - c.clock.now <= 8 * TICK
        await c.clock.advance(2.0)  # a healthy cluster keeps its leader and renews its lease
        assert c.leaders() == [leader.config.node_id]
        assert {n.snapshot.term for n in c.nodes.values()} == {leader.snapshot.term}

    run(scenario)


def test_failover_after_a_crash_takes_one_election_timeout_and_a_vote() -> None:
    """Thesis §3.4: a follower campaigns once its randomized timeout [T, 2T) runs out; with
    PreVote one more round trip. In virtual time the bound is exact, whatever the load."""

    async def scenario(c: Cluster) -> None:
        await c.until(lambda: len(c.leaders()) == 1, 2.0)
        old = c.leaders()[0]
        token = c.nodes[old].snapshot.token
        await c.clock.advance(0.5)
        await c.crash(old)
        took = await c.until(lambda: len(c.leaders()) == 1, 2.0)
        new = c.nodes[c.leaders()[0]]
        assert new.config.node_id != old
        assert 0.150 - TICK <= took < 0.300 + 4 * TICK
        assert new.snapshot.token is not None and token is not None and new.snapshot.token > token
        # The vote that elected it was durable before it was sent.
        assert c.disks[new.config.node_id].state == HardState(new.snapshot.term, new.config.node_id)

    run(scenario)


def test_a_frozen_leader_loop_loses_its_lease_at_the_deadline_and_steps_down() -> None:
    """The lease is read from the clock at the call: a leader whose loop is frozen past its
    deadline answers False before it runs anything, then the watchdog steps it down."""

    async def scenario(c: Cluster) -> None:
        await c.until(lambda: len(c.leaders()) == 1, 2.0)
        node = c.nodes[c.leaders()[0]]
        deadline = node.snapshot.lease_deadline
        assert deadline is not None
        c.clock.now = deadline + 0.001  # time passes, nothing runs: a frozen loop
        assert not node.is_leader()
        await c.clock.advance(0)
        assert node.lag_stepdowns == 1 and node.snapshot.role is not Role.LEADER

    run(scenario)


def stepdowns(node: NodeRuntime) -> dict[str, int]:
    """The node's step-down counts by reason label (the non-zero ones)."""
    out = {}
    for metric in node.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "electorate_leader_stepdowns_total" and sample.value:
                out[sample.labels["reason"]] = int(sample.value)
    return out


def test_a_stalled_leader_handed_a_newer_term_first_still_counts_the_stall() -> None:
    """A leader frozen past its lease resumes with a newer leader's heartbeat waiting: the
    watchdog steps it down for the stall before that message deposes it."""

    async def scenario(c: Cluster) -> None:
        await c.until(lambda: len(c.leaders()) == 1, 2.0)
        old = c.nodes[c.leaders()[0]]
        me, term = old.config.node_id, old.snapshot.term
        rival = next(i for i in c.nodes if i != me)
        c.clock.now += 3 * LEASE  # time passes, nothing runs: a frozen loop
        # The first thing the loop handles when it resumes is a newer leader's heartbeat.
        c.net.nodes[me].receive(AppendEntries(old.config.cluster, rival, me, term + 1, 0, 1))
        assert stepdowns(old) == {"loop_stall": 1}
        assert old.lag_stepdowns == 1
        assert (old.snapshot.role, old.snapshot.term) == (Role.FOLLOWER, term + 1)
        assert old.snapshot.leader == rival

    run(scenario)


def test_a_leader_cut_off_from_its_majority_steps_down_and_the_majority_elects_another() -> None:
    async def scenario(c: Cluster) -> None:
        await c.until(lambda: len(c.leaders()) == 1, 2.0)
        old = c.leaders()[0]
        for other in c.nodes:
            if other != old:
                c.net.block(old, other)
                c.net.block(other, old)
        lost = await c.until(lambda: not c.nodes[old].is_leader(), 1.0)
        assert lost <= 8 * TICK + TICK  # no longer than its lease
        await c.until(lambda: c.nodes[old].snapshot.role is not Role.LEADER, TICK)
        # Its loop never stalled (virtual time): the lease ran out, nothing else.
        assert stepdowns(c.nodes[old]) == {"lease_expired": 1}
        await c.until(lambda: any(i != old for i in c.leaders()), 2.0)
        c.net.heal()
        await c.until(lambda: c.nodes[old].snapshot.leader not in (None, old), 2.0)
        assert len({n.snapshot.term for n in c.nodes.values()}) == 1

    run(scenario)


def test_a_failing_disk_stops_the_node_before_it_sends_a_vote() -> None:
    async def scenario(c: Cluster) -> None:
        for disk in c.disks.values():
            disk.fail = True
        await c.clock.advance(1.0)
        assert c.leaders() == []
        # Pre-votes need no disk write and went out; no vote request, no grant ever did.
        assert any(isinstance(m, RequestVote) and m.pre_vote for m in c.net.sent)
        assert not [m for m in c.net.sent if isinstance(m, RequestVote) and not m.pre_vote]
        assert not [m for m in c.net.sent if isinstance(m, RequestVoteResponse) and m.granted
                    and not m.pre_vote]  # fmt: skip
        # Each node that reached a vote stopped on it (a lone survivor never gets that far).
        failed = {i for i, n in c.nodes.items() if n.failure is not None}
        assert len(failed) >= 2
        for node in list(c.tasks):
            error = await c.crash(node)
            assert isinstance(error, StorageFatalError) if node in failed else error is None

    run(scenario)
