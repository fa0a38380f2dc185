"""What readers of a running node see: its ``Snapshot`` and the read-only ``NodeView``.

``impl.runtime.NodeRuntime`` is the one implementation. The status endpoint (``impl.status``)
and the metrics collector (``impl.metrics``) are written against the ``NodeView`` protocol
instead of the runtime class, so the runtime can serve them without an import circle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from electorate.impl.config import NodeConfig
from electorate.impl.core import Role
from electorate.impl.storage import Storage
from electorate.impl.transport import Network


@dataclass(frozen=True)
class Snapshot:
    """An immutable view of the node, replaced atomically so any thread can read it."""

    node_id: str
    role: Role
    term: int
    leader: str | None
    voted_for: str | None
    token: int | None
    lease_deadline: float | None  # monotonic seconds; None while no lease is held

    def lease_remaining(self, now: float | None = None) -> float:
        if self.role is not Role.LEADER or self.lease_deadline is None:
            return 0.0
        return max(0.0, self.lease_deadline - (time.monotonic() if now is None else now))

    def is_leader(self, now: float | None = None) -> bool:
        return self.lease_remaining(now) > 0.0


class MetricsRenderer(Protocol):
    """The node's Prometheus exposition (``impl.metrics.NodeMetrics``)."""

    def render(self, accept: str = "") -> tuple[bytes, str]: ...


class NodeView(Protocol):
    """The parts of a running node that its status endpoint and metrics read (never write)."""

    @property
    def config(self) -> NodeConfig: ...

    @property
    def snapshot(self) -> Snapshot: ...

    @property
    def transport(self) -> Network: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def metrics(self) -> MetricsRenderer: ...

    @property
    def max_lag_s(self) -> float:
        """The worst tick lateness seen so far, in seconds."""
        ...

    @property
    def lag_stepdowns(self) -> int:
        """Leaderships the loop-lag watchdog ended (the lease ran out before the core saw it)."""
        ...

    @property
    def last_tick_at(self) -> float | None:
        """Monotonic time of the newest tick (None before the first)."""
        ...

    @property
    def failure(self) -> BaseException | None: ...
