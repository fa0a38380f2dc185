"""The node runtime writes traces that validate: NodeRuntime on in-memory storage and network
and a virtual clock, with ``trace=`` files (the hooks of electorate/impl/runtime.py), through
an election, a crash and restart from the same storage, an isolated leader and a frozen loop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from electorate.impl.config import NodeConfig
from electorate.impl.runtime import NodeRuntime
from electorate.testing.fakes import MemoryNetwork, MemoryStorage, VirtualClock
from electorate.validate import report
from electorate.validate.search import validate
from electorate.validate.tracefile import read_trace

SECRET = b"virtual-test-secret-0123456789ab"
TICK = 0.015


def config(me: str, ids: list[str], seed: int) -> NodeConfig:
    return NodeConfig(
        node_id=me,
        listen=("127.0.0.1", 7001 + ids.index(me)),
        peers={p: ("127.0.0.1", 7001 + ids.index(p)) for p in ids if p != me},
        data_dir=Path("/nonexistent"),
        secret=SECRET,
        election_timeout_ms=150,
        heartbeat_ms=15,
        seed=seed,
    )


class TracedCluster:
    def __init__(self, root: Path, n: int = 3) -> None:
        self.root = root
        self.ids = [f"n{i + 1}" for i in range(n)]
        self.clock = VirtualClock()
        self.net = MemoryNetwork()
        self.disks = {i: MemoryStorage() for i in self.ids}
        self.nodes: dict[str, NodeRuntime] = {}
        self.stops: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.boots = 0

    def start(self, node: str) -> None:
        self.boots += 1
        rt = NodeRuntime(
            config(node, self.ids, 100 + self.boots),
            storage=self.disks[node],
            network=self.net.attach,
            clock=self.clock,
            trace=self.root / f"{node}.ndjson",
        )
        self.nodes[node] = rt
        self.stops[node] = asyncio.Event()
        self.tasks[node] = asyncio.create_task(rt.run(self.stops[node]))

    async def crash(self, node: str) -> None:
        self.stops[node].set()
        await asyncio.wait_for(self.tasks.pop(node), 5.0)

    def leaders(self) -> list[str]:
        return [i for i in self.tasks if self.nodes[i].is_leader()]

    async def until_leader(self, limit_s: float = 3.0) -> str:
        start = self.clock.now
        while len(self.leaders()) != 1:
            assert self.clock.now - start < limit_s, "no leader in virtual time"
            await self.clock.advance(TICK / 3)
        return self.leaders()[0]


def test_a_traced_cluster_through_crash_isolation_and_a_frozen_loop_validates(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        c = TracedCluster(tmp_path)
        for node in c.ids:
            c.start(node)
        try:
            first = await c.until_leader()
            await c.clock.advance(0.3)
            await c.crash(first)  # like kill -9: the loop stops where it is
            second = await c.until_leader()
            assert second != first
            c.start(first)  # the same storage: a restart
            await c.clock.advance(0.3)
            c.net.nodes[second].isolated = True  # the leader is cut off
            await c.clock.advance(0.6)
            c.net.nodes[second].isolated = False
            third = await c.until_leader()
            deadline = c.nodes[third].snapshot.lease_deadline
            assert deadline is not None
            c.clock.now = deadline + 0.001  # a frozen loop: its watchdog steps it down
            await c.clock.advance(0.6)
        finally:
            for node in list(c.tasks):
                await c.crash(node)

    asyncio.run(scenario())
    v = validate(read_trace(tmp_path))
    assert v.status == "valid", report.text(v)
    events = [json.loads(x) for f in tmp_path.glob("*.ndjson") for x in f.read_text().splitlines()]
    kinds = {e["kind"] for e in events}
    assert {"start", "restart", "recv", "send", "timer", "term", "vote", "role"} <= kinds
    assert {"lease_start", "lease_end"} <= kinds
