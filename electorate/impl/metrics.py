"""Prometheus metrics of one node, in a registry of its own (never the process-global one).

Two kinds of series. Counters and histograms of events are fed by the runtime as they happen:
the ``Ready`` batches it drains (elections, leader changes, step-downs, pre-votes cast), the
messages it receives (pre-votes received, heartbeat arrival gaps), each tick's lateness and each
state write's duration. Gauges of state (term, role, leader, lease) and the transport's counters
are read at scrape time by a collector, so ``electorate_is_leader`` and the lease are computed on
the monotonic clock when Prometheus asks, like ``GET /status``.

Derived from the ``Ready`` stream alone, with no hook in the pure core: a node starts an election
when it persists a vote for itself in a newer term; it wins on ``LeadershipAcquired`` of that
term; it loses when it is no longer a candidate of that term without having won.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from electorate.impl.config import NodeConfig
from electorate.impl.core import (
    LeaderChanged,
    LeadershipAcquired,
    LeadershipLost,
    Ready,
    Role,
)
from electorate.impl.messages import AppendEntries, Message, RequestVoteResponse
from electorate.impl.nodeview import NodeView

# Seconds: from a healthy loop (about a millisecond) to a frozen one (seconds).
LAG_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A state write is a write, an fsync, a rename and a directory fsync.
FSYNC_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Tick lateness as a fraction of the lease: at 1.0 the lease can run out between two ticks.
LEASE_FRACTION_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0)

# Step-down reasons as the core words them, grouped into a few stable label values.
_REASON_LABELS: Final = (
    ("check quorum", "check_quorum"),
    ("lease expired", "lease_expired"),
    ("transfer timed out", "transfer_timeout"),
    ("transfer", "transfer"),
    ("newer leader", "higher_term"),
    ("higher term", "higher_term"),
    ("resigned", "resigned"),
)


def stepdown_label(reason: str) -> str:
    """A bounded label value for a ``LeadershipLost`` reason (``other`` if unknown)."""
    for phrase, label in _REASON_LABELS:
        if phrase in reason:
            return label
    return "other"


class NodeMetrics:
    """The event counters and histograms of one node; ``render`` produces the exposition."""

    def __init__(self, config: NodeConfig, term: int) -> None:
        self.config = config
        self.registry = CollectorRegistry(auto_describe=True)
        self._lease_s = config.lease_ticks * config.heartbeat_ms / 1000.0
        self._heartbeat_s = config.heartbeat_ms / 1000.0
        self._make_event_metrics()
        self._role = Role.FOLLOWER
        self._term = term
        self._campaign: int | None = None  # term of the election in progress, if any
        self._leadership: tuple[str, int] | None = None  # last known (leader, term)
        self._last_heartbeat: tuple[str, int, float] | None = None  # (src, term, monotonic)
        self._cause: str | None = None

    def _make_event_metrics(self) -> None:
        r = self.registry
        self.leader_changes = Counter(
            "electorate_leader_changes_seen",
            "New leaderships (leader, term) this node has learnt of",
            registry=r,
        )
        self.elections_started = Counter(
            "electorate_elections_started", "Elections this node started as candidate", registry=r
        )
        self.elections_won = Counter(
            "electorate_elections_won", "Elections this node won", registry=r
        )
        self.elections_lost = Counter(
            "electorate_elections_lost",
            "Elections this node started and did not win (refused, superseded or timed out)",
            registry=r,
        )
        self.prevotes_received = Counter(
            "electorate_prevotes_received",
            "Answers to this node's pre-vote requests",
            ["result"],
            registry=r,
        )
        self.prevotes_cast = Counter(
            "electorate_prevotes_cast",
            "This node's answers to other nodes' pre-vote requests",
            ["result"],
            registry=r,
        )
        self.stepdowns = Counter(
            "electorate_leader_stepdowns",
            "Times this node stopped leading, by reason (check_quorum, lease_expired, "
            "loop_stall: its loop ran more than a lease late and the lease ran out, higher_term, "
            "transfer, transfer_timeout, resigned, other)",
            ["reason"],
            registry=r,
        )
        self.loop_lag = Histogram(
            "electorate_loop_lag_seconds",
            "How late each tick of the node's event loop ran",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.loop_lag_lease = Histogram(
            "electorate_loop_lag_lease_fraction",
            "How late each tick ran, as a fraction of the lease (1: a lease can lapse unseen)",
            buckets=LEASE_FRACTION_BUCKETS,
            registry=r,
        )
        self.heartbeat_lateness = Histogram(
            "electorate_heartbeat_lateness_seconds",
            "Follower: gap between two heartbeats of the same leader beyond one interval",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.fsync = Histogram(
            "electorate_fsync_duration_seconds",
            "Durable write of the term and vote (write, fsync, rename, directory fsync)",
            buckets=FSYNC_BUCKETS,
            registry=r,
        )
        for result in ("granted", "refused"):
            self.prevotes_received.labels(result)
            self.prevotes_cast.labels(result)
        for reason in ("check_quorum", "lease_expired", "loop_stall"):
            self.stepdowns.labels(reason)

    def bind(self, node: NodeView) -> None:
        """Add the scrape-time view of ``node`` (state gauges, transport counters)."""
        self.registry.register(_NodeCollector(node))

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition in the format ``accept`` asks for; (body, content type)."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    # -- events, called by the runtime on the node's loop ---------------------------------------

    def observe_tick(self, lag_s: float) -> None:
        lag = max(0.0, lag_s)
        self.loop_lag.observe(lag)
        self.loop_lag_lease.observe(lag / self._lease_s)

    def observe_state_write(self, seconds: float) -> None:
        self.fsync.observe(seconds)

    @contextlib.contextmanager
    def stepdown_cause(self, label: str) -> Iterator[None]:
        """Attribute the step-downs inside this block to ``label`` (e.g. ``loop_stall``)."""
        self._cause = label
        try:
            yield
        finally:
            self._cause = None

    def on_message(self, msg: Message, now: float) -> None:
        if isinstance(msg, RequestVoteResponse) and msg.pre_vote:
            self.prevotes_received.labels("granted" if msg.granted else "refused").inc()
        elif isinstance(msg, AppendEntries):
            self._heartbeat_arrived(msg, now)

    def _heartbeat_arrived(self, msg: AppendEntries, now: float) -> None:
        last = self._last_heartbeat
        if last is not None and last[:2] == (msg.src, msg.term):
            self.heartbeat_lateness.observe(max(0.0, now - last[2] - self._heartbeat_s))
        self._last_heartbeat = (msg.src, msg.term, now)

    def on_ready(self, rd: Ready) -> None:
        """Count what one Ready batch shows (in the order the runtime handles it)."""
        if rd.hard_state is not None:
            hs = rd.hard_state
            if hs.term > self._term and hs.voted_for == self.config.node_id:
                self._end_campaign()  # a candidate that timed out and tries again lost
                self._campaign = hs.term
                self.elections_started.inc()
            self._term = max(self._term, hs.term)
        for m in rd.messages:
            if isinstance(m, RequestVoteResponse) and m.pre_vote:
                self.prevotes_cast.labels("granted" if m.granted else "refused").inc()
        if rd.soft_state is not None:
            self._role = rd.soft_state.role
        for n in rd.notifications:
            self._on_notification(n)
        if self._campaign is not None and self._role is not Role.CANDIDATE:
            self._end_campaign()

    def _on_notification(self, n: LeadershipAcquired | LeadershipLost | LeaderChanged) -> None:
        if isinstance(n, LeadershipAcquired):
            if self._campaign == n.term:
                self.elections_won.inc()
                self._campaign = None
        elif isinstance(n, LeadershipLost):
            self.stepdowns.labels(self._cause or stepdown_label(n.reason)).inc()
        elif n.leader is not None and (n.leader, n.term) != self._leadership:
            self._leadership = (n.leader, n.term)
            self.leader_changes.inc()

    def _end_campaign(self) -> None:
        """The election in progress ended without a win."""
        if self._campaign is not None:
            self.elections_lost.inc()
            self._campaign = None


class _NodeCollector:
    """State gauges and transport counters, read from the node when scraped."""

    def __init__(self, node: NodeView) -> None:
        self.node = node

    def collect(self) -> Iterable[Metric]:
        node, c = self.node, self.node.config
        snap, now = node.snapshot, time.monotonic()
        yield _gauge("electorate_term", "Current term", snap.term)
        role = GaugeMetricFamily(
            "electorate_role", "1 for the node's current role", labels=["role"]
        )
        for r in Role:
            role.add_metric([r.value], 1.0 if snap.role is r else 0.0)
        yield role
        yield _gauge("electorate_has_leader", "1 if a leader is known", snap.leader is not None)
        yield _gauge(
            "electorate_is_leader",
            "1 while this node leads with a valid lease",
            snap.is_leader(now),
        )
        yield _gauge(
            "electorate_lease_remaining_seconds",
            "Lease left on the leader at scrape time (0 elsewhere)",
            snap.lease_remaining(now),
        )
        yield _gauge(
            "electorate_election_timeout_seconds",
            "Configured minimum election timeout",
            c.election_timeout_ms / 1000.0,
        )
        yield _gauge(
            "electorate_heartbeat_interval_seconds", "Configured heartbeat", c.heartbeat_ms / 1000.0
        )
        yield _gauge(
            "electorate_lease_duration_seconds",
            "Lease granted by each acknowledged heartbeat round",
            c.lease_ticks * c.heartbeat_ms / 1000.0,
        )
        info = GaugeMetricFamily(
            "electorate_node_info", "This node's id and cluster", labels=["node", "cluster"]
        )
        info.add_metric([c.node_id, c.cluster], 1.0)
        yield info
        yield from self._transport()

    def _transport(self) -> Iterable[Metric]:
        stats = self.node.transport.stats
        yield _counter("electorate_messages_sent", "Messages written to peers", stats.sent)
        yield _counter(
            "electorate_messages_received", "Authenticated messages accepted", stats.received
        )
        dropped = CounterMetricFamily(
            "electorate_messages_dropped",
            "Outbound messages dropped (outbox: full or stale; injected: test loss or isolation; "
            "unencodable: a field the wire format cannot carry)",
            labels=["cause"],
        )
        dropped.add_metric(["outbox"], stats.dropped_outbox)
        dropped.add_metric(["injected"], stats.dropped_injected)
        dropped.add_metric(["unencodable"], stats.dropped_unencodable)
        yield dropped
        yield _counter(
            "electorate_send_task_restarts",
            "Times a peer's sending task failed unexpectedly and was restarted (logged)",
            stats.send_task_restarts,
        )
        rejected = CounterMetricFamily(
            "electorate_frames_rejected",
            "Inbound frames refused (connection closed), by reason",
            labels=["reason"],
        )
        for reason, n in sorted(stats.rejected.items()):
            rejected.add_metric([reason], n)
        yield rejected
        yield _counter(
            "electorate_state_writes", "Durable writes of term and vote", self.node.storage.writes
        )


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=float(value))
