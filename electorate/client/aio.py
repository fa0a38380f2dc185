"""The failover client for asyncio code; the same policy as ``client.sync``.

    async with AsyncFailoverClient(nodes, RetryPolicy(deadline=5.0), seed=7) as client:
        await client.wait_for_leader(timeout=10)
        result = await client.call(lambda node, url: post(url, payload))   # a coroutine

``request(node_id, service)`` returns an awaitable; errors as in ``client.sync``. Status
endpoints are read on worker threads (``asyncio.to_thread``), so discovery never blocks the loop.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry

from electorate.client.discovery import leader_from, poll_status
from electorate.client.errors import NoLeaderError, NotLeaderError
from electorate.client.metrics import ClientMetrics
from electorate.client.policy import Call, Discover, GiveUp, LeaderInfo, RetryPolicy, Router, Wait
from electorate.client.sync import DEFAULT_RETRY_ON, Node, Outcome

S = TypeVar("S")
R = TypeVar("R")


class AsyncFailoverClient(Generic[S]):
    """Sends requests to the leader of an Electorate-backed service, from asyncio."""

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
        self.seed = self.router.seed
        self.retry_on = retry_on
        self.status_timeout = status_timeout

    async def __aenter__(self) -> AsyncFailoverClient[S]:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def discover(self, timeout: float | None = None) -> LeaderInfo | None:
        """Ask every node's status endpoint who leads (see ``client.discovery``)."""
        t = timeout or self.status_timeout
        names = list(self.nodes)
        docs = await asyncio.gather(
            *(asyncio.to_thread(poll_status, self.nodes[n].status, t) for n in names)
        )
        info = leader_from({n: d for n, d in zip(names, docs, strict=True) if d is not None})
        kind = "none" if info is None else ("confirmed" if info.confirmed else "unconfirmed")
        self.metrics.discoveries.labels(kind).inc()
        return info

    async def wait_for_leader(self, timeout: float) -> LeaderInfo:
        """Wait until a node reports leading with a lease; NoLeaderError after ``timeout``."""
        end = time.monotonic() + timeout
        rng, pause = random.Random(self.seed), 0.01
        while True:
            left = end - time.monotonic()
            info = await self.discover(min(self.status_timeout, max(left, 0.01)))
            if info is not None and info.confirmed:
                self.router.learn(info.node, info.term)
                return info
            left = end - time.monotonic()
            if left <= 0:
                raise NoLeaderError(f"no leader within {timeout} s")
            await asyncio.sleep(min(left, rng.uniform(0.0, pause)))
            pause = min(2 * pause, 0.25)

    async def call(self, request: Callable[[str, S], Awaitable[R]]) -> R:
        """``request`` on the leader, retried through failover; FailoverError if it cannot."""
        return (await self.call_detailed(request)).value

    async def call_detailed(self, request: Callable[[str, S], Awaitable[R]]) -> Outcome[R]:
        call = Call(self.router, time.monotonic())
        while True:
            step = call.next(time.monotonic())
            if isinstance(step, GiveUp):
                self.metrics.requests.labels("failed").inc()
                raise step.error
            if isinstance(step, Wait):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Discover):
                left = call.deadline - time.monotonic()
                call.discovered(await self.discover(max(0.01, min(self.status_timeout, left))))
            else:
                done = await self._attempt(call, step.node, request)
                if done is not None:
                    return done

    async def _attempt(
        self, call: Call, node: str, request: Callable[[str, S], Awaitable[R]]
    ) -> Outcome[R] | None:
        try:
            value = await request(node, self.nodes[node].service)
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
