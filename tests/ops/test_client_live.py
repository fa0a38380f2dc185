"""The failover clients against a live 3-node cluster, through a leader's crash."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from electorate.client import (
    AsyncFailoverClient,
    FailoverClient,
    FailoverError,
    Node,
    NoLeaderError,
    NotLeaderError,
    RetryPolicy,
)

from .conftest import Cluster

pytestmark = pytest.mark.timeout(60)


def service(cluster: Cluster) -> dict[str, Node[str]]:
    """Each node's status address; the 'service' is reached by node id (in process)."""
    out = {}
    for c in cluster.configs:
        assert c.status is not None
        out[c.node_id] = Node(c.status, c.node_id)
    return out


def write(cluster: Cluster, node_id: str) -> int:
    """A leader-only operation: the token, or NotLeaderError; refused if the node is down."""
    node = cluster.nodes.get(node_id)
    if node is None:
        raise ConnectionRefusedError(f"{node_id} is down")
    snap = node.snapshot
    if not node.is_leader() or snap.token is None:
        hint = snap.leader if snap.leader != node_id else None
        raise NotLeaderError(hint, snap.term)
    return snap.token


def test_the_sync_client_rides_through_a_leader_crash(cluster: Cluster) -> None:
    policy = RetryPolicy(deadline=10.0, max_attempts=100)
    with FailoverClient(service(cluster), policy, seed=5) as client:
        info = client.wait_for_leader(10)
        assert info.confirmed and cluster.nodes[info.node].is_leader()
        first = client.call_detailed(lambda n, s: write(cluster, s))
        assert first.node == info.node and first.attempts == 1

        cluster.stop(first.node)  # a crash, as far as the others can tell
        after = client.call_detailed(lambda n, s: write(cluster, s))
        assert after.node != first.node and after.value > first.value
        assert after.attempts >= 2

        text = client.metrics.text().decode()
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
        }
        unreachable = ("node", first.node), ("result", "unreachable")
        assert samples[("electorate_client_attempts_total", unreachable)] >= 1
        assert samples[("electorate_client_requests_retried_total", ())] == 1
        assert samples[("electorate_client_requests_total", (("outcome", "ok"),))] == 2
        for node in service(cluster):
            states = [samples[("electorate_client_breaker_state", (("node", node), ("state", st)))]
                      for st in ("closed", "open", "half_open")]  # fmt: skip
            assert sorted(states) == [0.0, 0.0, 1.0]


def test_the_sync_client_gives_up_within_its_deadline(cluster: Cluster) -> None:
    for node_id in list(cluster.nodes):
        cluster.stop(node_id)
    policy = RetryPolicy(deadline=0.5, max_attempts=100)
    with FailoverClient(service(cluster), policy, seed=5, status_timeout=0.1) as client:
        with pytest.raises(FailoverError) as err:
            client.call(lambda n, s: write(cluster, s))
        assert "deadline" in str(err.value)
        with pytest.raises(NoLeaderError):
            client.wait_for_leader(0.3)


def test_the_asyncio_client_rides_through_a_leader_crash(cluster: Cluster) -> None:
    async def request(node: str, s: str) -> int:
        await asyncio.sleep(0)
        return write(cluster, s)

    async def scenario() -> None:
        policy = RetryPolicy(deadline=10.0, max_attempts=100)
        async with AsyncFailoverClient(service(cluster), policy, seed=9) as client:
            info = await client.wait_for_leader(10)
            first = await client.call_detailed(request)
            assert first.node == info.node
            cluster.stop(first.node)
            after = await client.call_detailed(request)
            assert after.node != first.node and after.value > first.value
            assert after.attempts >= 2

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_an_application_error_is_not_retried(cluster: Cluster) -> None:
    calls = []

    def broken(node: str, s: str) -> int:
        calls.append(node)
        raise KeyError("application bug")

    with FailoverClient(service(cluster), seed=1) as client:
        client.wait_for_leader(10)
        with pytest.raises(KeyError):
            client.call(broken)
    assert len(calls) == 1
