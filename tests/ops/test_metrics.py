"""Prometheus metrics and health probes on the node's status address."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from pathlib import Path
from threading import current_thread

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from electorate.impl import transport
from electorate.impl.config import NodeConfig
from electorate.impl.core import HardState, Role, RoleMachine
from electorate.impl.messages import AppendEntries, Message
from electorate.impl.metrics import NodeMetrics, stepdown_label
from electorate.impl.runtime import core_config
from electorate.impl.status import health
from electorate.impl.transport import NONCE_LEN, build_frame

from .conftest import Cluster, configs, http_get, wait_for

pytestmark = pytest.mark.timeout(60)

# Every series issue 15 asks for (family names as the parser gives them: counters without
# their _total suffix).
EXPECTED = {
    "electorate_term": "gauge",
    "electorate_role": "gauge",
    "electorate_has_leader": "gauge",
    "electorate_is_leader": "gauge",
    "electorate_lease_remaining_seconds": "gauge",
    "electorate_leader_changes_seen": "counter",
    "electorate_elections_started": "counter",
    "electorate_elections_won": "counter",
    "electorate_elections_lost": "counter",
    "electorate_prevotes_received": "counter",
    "electorate_prevotes_cast": "counter",
    "electorate_leader_stepdowns": "counter",
    "electorate_loop_lag_seconds": "histogram",
    "electorate_loop_lag_lease_fraction": "histogram",
    "electorate_heartbeat_lateness_seconds": "histogram",
    "electorate_fsync_duration_seconds": "histogram",
    "electorate_frames_rejected": "counter",
    "electorate_messages_sent": "counter",
    "electorate_messages_received": "counter",
    "electorate_messages_dropped": "counter",
    "electorate_send_task_restarts": "counter",
    "electorate_election_timeout_seconds": "gauge",
    "electorate_lease_duration_seconds": "gauge",
}


class Net:
    """Three pure cores and a network that delivers every message unless a node is cut off."""

    def __init__(self, root: Path, seed: int) -> None:
        self.configs = configs(root, 3, seed=seed)
        self.cores = {
            c.node_id: RoleMachine(core_config(c), HardState(0, None), random.Random(c.seed))
            for c in self.configs
        }
        self.metrics = {c.node_id: NodeMetrics(c, 0) for c in self.configs}
        self.cut: set[str] = set()  # nothing in or out
        self.mute: set[str] = set()  # nothing out
        self.now = 0.0

    def drain(self) -> None:
        pending: list[Message] = []
        for node_id, core in self.cores.items():
            while core.has_ready():
                rd = core.ready()
                self.metrics[node_id].on_ready(rd)
                pending.extend(rd.messages)
        for m in pending:
            if m.src not in self.cut | self.mute and m.dst not in self.cut:
                self.metrics[m.dst].on_message(m, self.now)
                self.cores[m.dst].step(m)
        if pending:
            self.drain()

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            self.now += 0.015
            for core in self.cores.values():
                core.tick()
            self.drain()

    def leader(self) -> str | None:
        leaders = [i for i, c in self.cores.items() if c.role is Role.LEADER]
        return leaders[0] if len(leaders) == 1 else None

    def value(self, node_id: str, name: str, labels: dict[str, str] | None = None) -> float:
        v = self.metrics[node_id].registry.get_sample_value(name, labels or {})
        assert v is not None, name
        return v


def test_the_ready_stream_counts_elections_leader_changes_and_stepdowns(tmp_path: Path) -> None:
    net = Net(tmp_path, seed=5)
    net.tick(30)
    first = net.leader()
    assert first is not None
    for node_id in net.cores:
        won = 1.0 if node_id == first else 0.0
        assert net.value(node_id, "electorate_elections_started_total") == won
        assert net.value(node_id, "electorate_elections_won_total") == won
        assert net.value(node_id, "electorate_leader_changes_seen_total") == 1.0
        # Each node's loss-free pre-vote round ends at a quorum: the winner heard a grant.
    assert net.value(first, "electorate_prevotes_received_total", {"result": "granted"}) >= 1
    cast = sum(
        net.value(i, "electorate_prevotes_cast_total", {"result": "granted"}) for i in net.cores
    )
    assert cast >= 1

    # The leader hands over to a follower whose messages are lost: its election times out
    # unanswered (lost) and the transfer times out on the leader.
    rival = next(i for i in net.cores if i != first)
    net.mute = {rival}
    net.cores[first].transfer_leadership(rival)
    net.drain()
    assert net.cores[rival].role is Role.CANDIDATE
    net.tick(2 * net.configs[0].election_ticks)
    assert net.value(rival, "electorate_elections_started_total") == 1
    assert net.value(rival, "electorate_elections_lost_total") == 1
    stepdowns = "electorate_leader_stepdowns_total"
    assert net.value(first, stepdowns, {"reason": "transfer_timeout"}) == 1

    # Cut the leader off: it steps down when its lease runs out, the others elect a new one.
    net.mute = set()
    net.tick(60)
    second = net.leader()
    assert second is not None
    won_before = net.value(second, "electorate_elections_won_total")
    net.cut = {second}
    net.tick(60)
    assert net.cores[second].role is not Role.LEADER
    assert net.value(second, stepdowns, {"reason": "lease_expired"}) == 1
    third = net.leader()
    assert third is not None and third != second
    assert net.value(third, "electorate_leader_changes_seen_total") >= 2.0
    assert net.value(second, "electorate_elections_won_total") == won_before
    # The heartbeats of the newest leader reached a follower one tick apart: no lateness.
    follower = next(i for i in net.cores if i not in (second, third))
    count = net.value(follower, "electorate_heartbeat_lateness_seconds_count")
    assert count > 10
    late = "electorate_heartbeat_lateness_seconds_bucket"
    assert net.value(follower, late, {"le": "0.001"}) == count


def test_stepdown_reasons_map_to_bounded_labels() -> None:
    assert stepdown_label("check quorum failed") == "check_quorum"
    assert stepdown_label("lease expired") == "lease_expired"
    assert stepdown_label("transfer timed out") == "transfer_timeout"
    assert stepdown_label("heartbeat from a newer leader") == "higher_term"
    assert stepdown_label("higher term in a response") == "higher_term"
    assert stepdown_label("resigned") == "resigned"
    assert stepdown_label("cosmic rays") == "other"


def _families(text: str) -> dict[str, Metric]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(fams: dict[str, Metric], sample: str, **labels: str) -> float:
    for fam in fams.values():
        for s in fam.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise AssertionError(f"no sample {sample} {labels}")


async def _bad_frame(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readexactly(12 + NONCE_LEN + 32)  # the challenge
    writer.write(build_frame(b"wrong-secret-0123456789", b"x" * NONCE_LEN, 1, 2, b"{}"))
    await writer.drain()
    await reader.read()  # the node closes the connection
    writer.close()


def test_a_3_node_cluster_exports_every_series_and_the_parser_reads_them(
    cluster: Cluster,
) -> None:
    leader = cluster.leader()
    asyncio.run(_bad_frame(leader.config.listen[1]))
    for node in cluster.nodes.values():
        assert node.config.status is not None
        code, ctype, body = http_get(node.config.status, "/metrics")
        assert code == 200 and ctype.startswith("text/plain")
        fams = _families(body)
        missing = {n: t for n, t in EXPECTED.items() if fams.get(n) is None or fams[n].type != t}
        assert not missing, f"{node.config.node_id}: missing or mistyped {missing}"
        if node is not leader:
            assert _value(fams, "electorate_is_leader") == 0.0
            assert _value(fams, "electorate_lease_remaining_seconds") == 0.0
        assert _value(fams, "electorate_term") >= 1
        assert _value(fams, "electorate_has_leader") == 1.0
        assert _value(fams, "electorate_leader_changes_seen_total") >= 1
        assert _value(fams, "electorate_messages_sent_total") > 0
        assert _value(fams, "electorate_messages_received_total") > 0
        assert _value(fams, "electorate_loop_lag_seconds_count") > 0
        assert _value(fams, "electorate_fsync_duration_seconds_count") >= 1
        assert _value(fams, "electorate_role", role=node.snapshot.role.value) == 1.0
        assert _value(fams, "electorate_election_timeout_seconds") == 0.15
    assert leader.config.status is not None
    fams = _families(http_get(leader.config.status, "/metrics")[2])
    assert _value(fams, "electorate_frames_rejected_total", reason="bad-mac") == 1.0

    def leading() -> float | None:  # the lease is renewed every heartbeat; retry a lapse
        assert leader.config.status is not None
        f = _families(http_get(leader.config.status, "/metrics")[2])
        lease = _value(f, "electorate_lease_remaining_seconds")
        return lease if _value(f, "electorate_is_leader") == 1.0 else None

    lease = wait_for(leading, 5.0, "the leader to report its lease")
    assert 0 < lease <= leader.config.lease_ticks * leader.config.heartbeat_ms / 1000
    won = sum(
        _value(
            _families(http_get(n.config.status, "/metrics")[2]), "electorate_elections_won_total"
        )
        for n in cluster.nodes.values()
        if n.config.status is not None
    )
    assert won >= 1


def test_openmetrics_is_served_when_asked_for(cluster: Cluster) -> None:
    node = cluster.leader()
    assert node.config.status is not None
    accept = "application/openmetrics-text; version=1.0.0"
    code, ctype, body = http_get(node.config.status, "/metrics", accept=accept)
    assert code == 200 and ctype.startswith("application/openmetrics-text")
    names = {f.name for f in openmetrics_families(body)}  # type: ignore[no-untyped-call]
    assert {"electorate_term", "electorate_leader_changes_seen"} <= names


def test_healthz_and_readyz_answer_with_kubernetes_status_codes(cluster: Cluster) -> None:
    leader = cluster.leader()
    for node in cluster.nodes.values():
        addr = node.config.status
        assert addr is not None
        code, _, body = http_get(addr, "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"

        def ready(addr: tuple[str, int] = addr) -> dict[str, object] | None:
            # Retried: a follower learns the leader one heartbeat later, and under load the
            # leader's lease may lapse for a moment between two rounds.
            code, _, body = http_get(addr, "/readyz")
            doc: dict[str, object] = json.loads(body)
            assert code in (200, 503) and (code == 200) == (doc["status"] == "ok")
            return doc if code == 200 else None

        doc = wait_for(ready, 5.0, f"{node.config.node_id} to be ready")
        assert doc["leader"] == leader.config.node_id
    assert leader.config.status is not None
    assert http_get(leader.config.status, "/nope")[0] == 404


def test_a_node_that_knows_no_leader_is_alive_but_not_ready(tmp_path: Path) -> None:
    # One node of three, alone: it can never win, so it never knows a leader.
    config: NodeConfig = configs(tmp_path, 3)[0]
    assert config.status is not None
    lone = Cluster([config], {})
    node = lone.start(config.node_id)
    try:
        time.sleep(3 * config.election_timeout_ms / 1000)
        assert http_get(config.status, "/healthz")[0] == 200
        code, _, body = http_get(config.status, "/readyz")
        assert code == 503 and "no leader known" in body
        # A loop that has not ticked for longer than an election timeout is not alive.
        assert node.last_tick_at is not None
        ok, doc = health(node, node.last_tick_at + 2 * config.election_timeout_ms / 1000)
        assert not ok and doc["status"] == "stalled"
    finally:
        lone.stop(config.node_id)


def test_transport_failures_show_in_status_and_metrics(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    leader = cluster.leader()
    me, addr = leader.config.node_id, leader.config.status
    assert addr is not None
    peer = next(iter(leader.config.peers))
    # A term too long for JSON's integer conversion: the transport drops the message.
    unencodable = AppendEntries(leader.config.cluster, me, peer, 10**5000, 0, 1)
    # One frame of this node's sending tasks fails unexpectedly: the task logs and restarts.
    real, failures = transport.build_frame, [RuntimeError("injected")]

    def flaky(secret: bytes, nonce: bytes, seq: int, kind: int, payload: bytes) -> bytes:
        if kind == transport.KIND_MESSAGE and current_thread().name == f"electorate-{me}":
            with contextlib.suppress(IndexError):
                raise failures.pop()
        return real(secret, nonce, seq, kind, payload)

    monkeypatch.setattr(transport, "build_frame", flaky)
    leader.call(lambda: leader.transport.send(unencodable))
    wait_for(lambda: leader.transport.stats.send_task_restarts == 1, 10, "a restart")
    wait_for(lambda: leader.transport.stats.dropped_unencodable == 1, 10, "the drop")

    doc = json.loads(http_get(addr, "/status")[2])
    assert doc["send_task_restarts"] == 1
    assert doc["messages_dropped"]["unencodable"] == 1
    assert set(doc["messages_dropped"]) == {"outbox", "injected", "unencodable"}
    fams = _families(http_get(addr, "/metrics")[2])
    assert _value(fams, "electorate_send_task_restarts_total") == 1.0
    assert _value(fams, "electorate_messages_dropped_total", cause="unencodable") == 1.0
    # The restarted task reconnected: the peer still follows this leader.
    follower = cluster.nodes[peer]
    wait_for(lambda: follower.snapshot.leader == me, 5, f"{peer} to follow {me}")
