"""Runtime: persist before send, fsync errors stop the node, restart keeps state, watchdog."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from electorate.impl.cluster import free_ports
from electorate.impl.config import NodeConfig
from electorate.impl.core import HardState, Role
from electorate.impl.messages import Message, RequestVote, RequestVoteResponse
from electorate.impl.runtime import NodeRuntime
from electorate.impl.storage import STATE_FILE, StorageError, StorageFatalError

SECRET = b"runtime-test-secret-0123456789ab"
LO = "127.0.0.1"


def config(tmp: Path, peers: int = 2, seed: int = 7) -> NodeConfig:
    ports = free_ports(peers + 1)
    return NodeConfig(
        node_id="n1",
        listen=(LO, ports[0]),
        peers={f"n{i + 2}": (LO, p) for i, p in enumerate(ports[1:])},
        data_dir=tmp / "n1",
        secret=SECRET,
        election_timeout_ms=150,
        heartbeat_ms=15,
        seed=seed,
    )


def recording(node: NodeRuntime) -> list[tuple[str, object]]:
    """Replace the node's disk write and network send with a shared, ordered event log."""
    events: list[tuple[str, object]] = []
    save, send = node.storage.save, node.transport.send

    def rec_save(s: HardState) -> None:
        save(s)
        events.append(("persist", s))

    def rec_send(m: Message) -> None:
        events.append(("send", m))
        send(m)

    node.storage.save = rec_save  # type: ignore[method-assign,assignment]
    node.transport.send = rec_send  # type: ignore[method-assign,assignment]
    return events


def age(node: NodeRuntime) -> None:
    """Tick past the start-up period in which a fresh node neither votes nor campaigns."""
    for _ in range(node.config.election_ticks):
        node.core.tick()
        node._flush()


def test_rpc_request_vote_is_sent_only_after_the_vote_is_durable(tmp_path: Path) -> None:
    node = NodeRuntime(config(tmp_path))
    events = recording(node)
    age(node)
    events.clear()
    node.core.campaign()
    node._flush()
    kinds = [k for k, _ in events]
    assert kinds[0] == "persist" and events[0][1] == HardState(1, "n1")
    assert kinds[1:] == ["send", "send"]
    assert all(isinstance(m, RequestVote) and not m.pre_vote for _, m in events[1:])


def test_vote_grant_is_sent_only_after_the_vote_is_durable(tmp_path: Path) -> None:
    node = NodeRuntime(config(tmp_path))
    events = recording(node)
    age(node)
    events.clear()
    node._on_message(RequestVote("electorate", "n2", "n1", 5, 0, 0, False))
    assert events[0] == ("persist", HardState(5, "n2"))
    reply = events[1][1]
    assert isinstance(reply, RequestVoteResponse) and reply.granted and reply.term == 5
    assert HardState(5, "n2") == node.storage.load()


def test_fsync_failure_stops_the_node_and_nothing_is_sent(tmp_path: Path) -> None:
    node = NodeRuntime(config(tmp_path))
    sent: list[Message] = []
    node.transport.send = sent.append  # type: ignore[method-assign,assignment]

    def broken(_: HardState) -> None:
        raise StorageFatalError("cannot persist state: EIO")

    node.storage.save = broken  # type: ignore[method-assign,assignment]
    age(node)
    node.core.campaign()
    node._flush()
    assert sent == [] and isinstance(node.failure, StorageFatalError)
    assert node.snapshot.role is Role.FOLLOWER and not node.is_leader()
    node._on_message(RequestVote("electorate", "n2", "n1", 9, 0, 0, False))
    assert sent == []  # a stopped node ignores everything


def test_restart_keeps_term_and_vote(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    node = NodeRuntime(cfg)
    age(node)
    node.core.campaign()
    node.core.campaign()
    node._flush()
    with pytest.raises(StorageError, match="in use by another node"):
        NodeRuntime(cfg)  # the data directory is still held
    node.storage.close()  # what a stopped (or killed) node leaves behind
    again = NodeRuntime(cfg)
    assert (again.core.term, again.core.voted_for) == (2, "n1")


def test_corrupt_state_refuses_start(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    cfg.data_dir.mkdir(parents=True)
    (cfg.data_dir / STATE_FILE).write_text('{"term": 3')
    with pytest.raises(StorageError, match=str(cfg.data_dir / STATE_FILE)):
        NodeRuntime(cfg)


async def _wait(cond: object, timeout: float = 3.0) -> None:
    assert callable(cond)
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.005)


def test_single_node_leads_with_a_lease_and_the_watchdog_catches_a_frozen_loop(
    tmp_path: Path,
) -> None:
    node = NodeRuntime(config(tmp_path, peers=0))
    lease_s = node.config.lease_ticks * node.tick_s

    async def main() -> None:
        stop = asyncio.Event()
        runner = asyncio.create_task(node.run(stop))
        try:
            await _wait(node.is_leader)
            snap = node.snapshot
            assert snap.token == snap.term >= 1
            assert snap.lease_deadline is not None
            assert 0 < snap.lease_deadline - time.monotonic() <= lease_s
            # Freeze this loop (a blocked application, a GC pause) beyond the lease.
            time.sleep(lease_s + 0.05)
            assert not node.is_leader()  # false at once, before the loop runs anything else
            await _wait(lambda: node.lag_stepdowns == 1)
            assert node.snapshot.role is Role.FOLLOWER
            assert node.max_lag_s >= lease_s - node.tick_s
        finally:
            stop.set()
            await runner

    asyncio.run(main())
