"""A client library for services backed by Electorate: reach whoever leads, ride through failover.

- ``FailoverClient`` (threads) and ``AsyncFailoverClient`` (asyncio): leader discovery from the
  nodes' status endpoints, hints followed from ``NotLeaderError``, bounded retries with jittered
  exponential backoff (seeded) inside an overall deadline, a circuit breaker per node (closed,
  open, half-open; counts exported as Prometheus metrics), ``wait_for_leader(timeout)``.
- ``NotLeaderError(leader_hint, term)`` and ``not_leader(elector)``: what an application server
  answers when a request reaches a node that does not lead.

The policy itself is pure (``client.policy``); the two clients only carry out its steps.
"""

from electorate.client.aio import AsyncFailoverClient
from electorate.client.errors import (
    NOT_LEADER_HTTP_STATUS,
    FailoverError,
    NoLeaderError,
    NotLeaderError,
    not_leader,
)
from electorate.client.policy import BreakerState, LeaderInfo, RetryPolicy
from electorate.client.sync import FailoverClient, Node, Outcome

__all__ = [
    "NOT_LEADER_HTTP_STATUS",
    "AsyncFailoverClient",
    "BreakerState",
    "FailoverClient",
    "FailoverError",
    "LeaderInfo",
    "NoLeaderError",
    "Node",
    "NotLeaderError",
    "Outcome",
    "RetryPolicy",
    "not_leader",
]
