"""The failover client for threaded code: reach whoever leads, ride through failover.

    nodes = {"n1": Node(status=("10.0.0.1", 8001), service="http://10.0.0.1:9000"), ...}
    with FailoverClient(nodes, RetryPolicy(deadline=5.0), seed=7) as client:
        client.wait_for_leader(timeout=10)
        result = client.call(lambda node, url: post(url, payload))

``request(node_id, service)`` sends one request to that node's service and returns its result;
it raises ``NotLeaderError`` when the node answered that it does not lead, and an exception of
``retry_on`` (default: ``OSError``, which covers refused, reset and timed-out connections, and
``http.client.HTTPException``) when the node could not be reached. Any other exception is the
application's and propagates at once. The client retries per ``RetryPolicy`` (``client.policy``).

A retried write may already have been applied (the node died after applying it, before the
answer arrived): make writes idempotent, e.g. with a request id the service remembers.
"""

from __future__ import annotations

import http.client
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry

from electorate.client.discovery import leader_from, poll_all
from electorate.client.errors import NoLeaderError, NotLeaderError
from electorate.client.metrics import ClientMetrics
from electorate.client.policy import (
    Call,
    Discover,
    GiveUp,
    LeaderInfo,
    RetryPolicy,
    Router,
    Wait,
)
from electorate.impl.config import Addr

S = TypeVar("S")
R = TypeVar("R")

DEFAULT_RETRY_ON: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Node(Generic[S]):
    """Where a node's status endpoint is, and how its service is reached (``service`` is
    handed to the request function as is: a URL, an address, a connection pool)."""

    status: Addr
    service: S


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """A successful call: its value, the node that answered, attempts made, seconds taken."""

    value: R
    node: str
    attempts: int
    seconds: float


class FailoverClient(Generic[S]):
    """Sends requests to the leader of an Electorate-backed service (see the module doc)."""

    def __init__(
        self,
        nodes: Mapping[str, Node[S]],
        policy: RetryPolicy | None = None,
        *,
        seed: int | None = None,
        retry_on: tuple[type[BaseException], ...] = DEFAULT_RETRY_ON,
        status_timeout: float = 0.5,
        registry: CollectorRegistry | None = None,
    ) -> None:
        if not nodes:
            raise ValueError("a failover client needs at least one node")
        self.nodes = dict(nodes)
        self.metrics = ClientMetrics(self.nodes, registry)
        self.router = Router(
            list(self.nodes), policy or RetryPolicy(), seed, self.metrics.breaker_moved
        )
        self.seed = self.router.seed  # print it: a failure replays with the same seed
        self.retry_on = retry_on
        self.status_timeout = status_timeout
        self._pool = ThreadPoolExecutor(len(self.nodes), thread_name_prefix="electorate-discover")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> FailoverClient[S]:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- discovery -----------------------------------------------------------------------------

    def discover(self, timeout: float | None = None) -> LeaderInfo | None:
        """Ask every node's status endpoint who leads (see ``client.discovery``)."""
        status = {n: node.status for n, node in self.nodes.items()}
        answers = poll_all(self._pool, status, timeout or self.status_timeout)
        info = leader_from(answers)
        kind = "none" if info is None else ("confirmed" if info.confirmed else "unconfirmed")
        self.metrics.discoveries.labels(kind).inc()
        return info

    def wait_for_leader(self, timeout: float) -> LeaderInfo:
        """Block until a node reports leading with a lease; NoLeaderError after ``timeout``."""
        end = time.monotonic() + timeout
        rng, pause = random.Random(self.seed), 0.01
        while True:
            left = end - time.monotonic()
            info = self.discover(min(self.status_timeout, max(left, 0.01)))
            if info is not None and info.confirmed:
                self.router.learn(info.node, info.term)
                return info
            left = end - time.monotonic()
            if left <= 0:
                raise NoLeaderError(f"no leader within {timeout} s")
            time.sleep(min(left, rng.uniform(0.0, pause)))
            pause = min(2 * pause, 0.25)

    # -- requests ------------------------------------------------------------------------------

    def call(self, request: Callable[[str, S], R]) -> R:
        """``request`` on the leader, retried through failover; FailoverError if it cannot."""
        return self.call_detailed(request).value

    def call_detailed(self, request: Callable[[str, S], R]) -> Outcome[R]:
        call = Call(self.router, time.monotonic())
        while True:
            step = call.next(time.monotonic())
            if isinstance(step, GiveUp):
                self.metrics.requests.labels("failed").inc()
                raise step.error
            if isinstance(step, Wait):
                time.sleep(step.seconds)
            elif isinstance(step, Discover):
                left = call.deadline - time.monotonic()
                call.discovered(self.discover(max(0.01, min(self.status_timeout, left))))
            else:
                done = self._attempt(call, step.node, request)
                if done is not None:
                    return done

    def _attempt(self, call: Call, node: str, request: Callable[[str, S], R]) -> Outcome[R] | None:
        try:
            value = request(node, self.nodes[node].service)
        except NotLeaderError as e:
            self.metrics.attempts.labels(node, "not_leader").inc()
            call.not_leader(node, e)
            return None
        except self.retry_on as e:
            self.metrics.attempts.labels(node, "unreachable").inc()
            call.failed(node, e, time.monotonic())
            return None
        except Exception:
            self.metrics.attempts.labels(node, "error").inc()
            self.router.release(node)
            raise
        self.metrics.attempts.labels(node, "ok").inc()
        call.succeeded(node)
        self.metrics.requests.labels("ok").inc()
        if call.attempts > 1:
            self.metrics.retried.inc()
        return Outcome(value, node, call.attempts, time.monotonic() - call.started)
