"""The failover client's own Prometheus metrics (a registry per client unless one is given)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest

from electorate.client.policy import BreakerState


class ClientMetrics:
    """Calls, attempts, discoveries and each node's circuit breaker."""

    def __init__(self, nodes: Iterable[str], registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "electorate_client_requests", "Calls by outcome (ok, failed)", ["outcome"], registry=r
        )
        self.retried = Counter(
            "electorate_client_requests_retried",
            "Calls that needed more than one attempt",
            registry=r,
        )
        self.attempts = Counter(
            "electorate_client_attempts",
            "Attempts by node and result (ok, not_leader, unreachable, error)",
            ["node", "result"],
            registry=r,
        )
        self.discoveries = Counter(
            "electorate_client_discoveries",
            "Leader discoveries by result (confirmed, unconfirmed, none)",
            ["result"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "electorate_client_breaker_state",
            "1 for the state each node's circuit breaker is in",
            ["node", "state"],
            registry=r,
        )
        self.breaker_transitions = Counter(
            "electorate_client_breaker_transitions",
            "Circuit breaker transitions by node and the state entered",
            ["node", "state"],
            registry=r,
        )
        for outcome in ("ok", "failed"):
            self.requests.labels(outcome)
        for node in nodes:
            self._show(node, BreakerState.CLOSED)
            for state in BreakerState:
                self.breaker_transitions.labels(node, state.value)

    def breaker_moved(self, node: str, state: BreakerState) -> None:
        self.breaker_transitions.labels(node, state.value).inc()
        self._show(node, state)

    def _show(self, node: str, state: BreakerState) -> None:
        for s in BreakerState:
            self.breaker_state.labels(node, s.value).set(1.0 if s is state else 0.0)

    def text(self) -> bytes:
        """The Prometheus text exposition of these metrics."""
        return generate_latest(self.registry)
