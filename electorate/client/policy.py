"""The failover policy, pure: which node to try next, when to rediscover, how long to wait.

No sockets, no sleeping, no clock of its own: every decision takes ``now`` (seconds on a
monotonic clock) and returns a step for a driver to carry out (``client.sync`` with threads,
``client.aio`` with asyncio), so both flavours behave the same and tests run on virtual time.

One call is a sequence of steps: ``Try(node)``, ``Discover()``, ``Wait(seconds)``, until the
driver reports success or the policy says ``GiveUp``:

- a known leader (from the last success, a hint or discovery) is tried first, if its circuit
  breaker lets a request through;
- a ``NotLeaderError`` with a hint to another node is followed at once, without waiting; a
  hint is followed at most ``max_hops`` times in a row, so two nodes that point at each other
  cannot bounce a request forever;
- otherwise discovery asks every node's status endpoint who leads; with no answer the call
  waits a jittered exponential backoff ("full jitter": uniform in [0, min(cap, base * 2^n)]),
  then discovers again;
- every attempt counts towards ``max_attempts`` and nothing runs past the call's deadline.

Written here rather than taken from tenacity/pybreaker/purgatory: the breakers are consulted
when choosing a node (not only wrapped around a call), everything runs on an injected clock,
and one implementation serves the threaded and asyncio clients.
"""

from __future__ import annotations

import enum
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from electorate.client.errors import FailoverError, NotLeaderError


class BreakerState(enum.Enum):
    CLOSED = "closed"  # requests flow
    OPEN = "open"  # requests refused until reset_after has passed
    HALF_OPEN = "half_open"  # one trial request decides: closed again or open again


class CircuitBreaker:
    """Per-node breaker: ``failure_threshold`` consecutive failures open it for ``reset_after``
    seconds; then one trial request is let through. Not thread-safe: the Router locks it."""

    def __init__(
        self,
        failure_threshold: int,
        reset_after: float,
        on_transition: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._opened_at = 0.0
        self._trial = False
        self._on_transition = on_transition

    def allow(self, now: float) -> bool:
        """May a request go to this node now? (In half-open state: only the one trial.)"""
        if self.state is BreakerState.OPEN and now >= self._opened_at + self.reset_after:
            self._move(BreakerState.HALF_OPEN)
        if self.state is BreakerState.HALF_OPEN:
            if self._trial:
                return False
            self._trial = True
        return self.state is not BreakerState.OPEN

    def success(self) -> None:
        self.failures = 0
        self._trial = False
        if self.state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def release(self) -> None:
        """The request ended without telling whether the node works (an application error)."""
        self._trial = False

    def failure(self, now: float) -> None:
        self.failures += 1
        self._trial = False
        if self.state is BreakerState.HALF_OPEN or (
            self.state is BreakerState.CLOSED and self.failures >= self.failure_threshold
        ):
            self._opened_at = now
            self._move(BreakerState.OPEN)

    def _move(self, state: BreakerState) -> None:
        self.state = state
        if self._on_transition is not None:
            self._on_transition(state)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of one call. Durations in seconds."""

    deadline: float = 5.0
    max_attempts: int = 10
    backoff_base: float = 0.02
    backoff_cap: float = 0.5
    max_hops: int = 2
    failure_threshold: int = 3
    reset_after: float = 1.0

    def validate(self) -> None:
        if self.deadline <= 0 or self.max_attempts < 1 or self.max_hops < 0:
            raise ValueError("deadline must be > 0, max_attempts >= 1, max_hops >= 0")
        if not 0 < self.backoff_base <= self.backoff_cap:
            raise ValueError("backoff needs 0 < backoff_base <= backoff_cap")
        if self.failure_threshold < 1 or self.reset_after <= 0:
            raise ValueError("breakers need failure_threshold >= 1 and reset_after > 0")


@dataclass(frozen=True)
class LeaderInfo:
    """A leader found by discovery; ``confirmed``: it reported holding a lease itself."""

    node: str
    term: int
    confirmed: bool


class Router:
    """What calls share: the known leader and one breaker per node. Thread-safe."""

    def __init__(
        self,
        nodes: list[str],
        policy: RetryPolicy,
        seed: int | None = None,
        on_transition: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        policy.validate()
        self.nodes = list(nodes)
        self.policy = policy
        self.seed = seed if seed is not None else random.randrange(2**32)
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self.leader: str | None = None
        self.term = 0

        def hook(node: str) -> Callable[[BreakerState], None] | None:
            if on_transition is None:
                return None
            return lambda state: on_transition(node, state)

        self.breakers = {
            n: CircuitBreaker(policy.failure_threshold, policy.reset_after, hook(n)) for n in nodes
        }

    def allow(self, node: str, now: float) -> bool:
        with self._lock:
            return self.breakers[node].allow(now)

    def succeeded(self, node: str, leader: bool) -> None:
        with self._lock:
            self.breakers[node].success()
            if leader:
                self.leader = node

    def release(self, node: str) -> None:
        with self._lock:
            self.breakers[node].release()

    def failed(self, node: str, now: float) -> None:
        with self._lock:
            self.breakers[node].failure(now)
            if self.leader == node:
                self.leader = None

    def learn(self, node: str | None, term: int) -> None:
        """A leader was named (by discovery or a hint) for ``term``; older news is ignored."""
        with self._lock:
            if term >= self.term:
                self.term = term
                self.leader = node

    def forget(self, node: str) -> None:
        with self._lock:
            if self.leader == node:
                self.leader = None

    def jitter(self, ceiling: float) -> float:
        with self._lock:
            return self._rng.uniform(0.0, ceiling)


@dataclass(frozen=True)
class Try:
    node: str


@dataclass(frozen=True)
class Discover:
    pass


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class GiveUp:
    error: FailoverError


Step = Try | Discover | Wait | GiveUp


@dataclass
class Call:
    """The state of one call: feed it outcomes, ask it for the next step."""

    router: Router
    started: float
    attempts: int = 0
    backoffs: int = 0
    hops: int = 0
    hint: str | None = None
    last: BaseException | None = None
    _discovered: bool = False
    _wait: float | None = None
    _tried: list[str] = field(default_factory=list)

    @property
    def deadline(self) -> float:
        return self.started + self.router.policy.deadline

    def next(self, now: float) -> Step:
        p = self.router.policy
        if now >= self.deadline:
            return self._give_up(f"deadline of {p.deadline} s passed")
        if self.attempts >= p.max_attempts:
            return self._give_up(f"{p.max_attempts} attempts made")
        if self._wait is not None:
            wait, self._wait = self._wait, None
            return Wait(min(wait, self.deadline - now))
        target = self.hint or self.router.leader
        self.hint = None
        if target is not None and self.router.allow(target, now):
            self.attempts += 1
            self._tried.append(target)
            return Try(target)
        if not self._discovered:
            self._discovered = True
            return Discover()
        self._back_off()
        return self.next(now)

    def discovered(self, info: LeaderInfo | None) -> None:
        if info is not None:
            self.router.learn(info.node, info.term)

    def succeeded(self, node: str) -> None:
        self.router.succeeded(node, leader=True)

    def not_leader(self, node: str, err: NotLeaderError) -> None:
        """``node`` answered but does not lead: follow its hint, or rediscover after a pause."""
        self.last = err
        self.router.succeeded(node, leader=False)  # it answered: its breaker stays closed
        self.router.forget(node)
        hint = err.leader_hint
        known = hint is not None and hint != node and hint in self.router.breakers
        if known and self.hops < self.router.policy.max_hops:
            self.hops += 1
            self.router.learn(hint, err.term)
            self.hint = hint
            return
        self._back_off()

    def failed(self, node: str, err: BaseException, now: float) -> None:
        """``node`` could not be reached (refused, reset, timed out)."""
        self.last = err
        self.router.failed(node, now)
        self._back_off()

    def _back_off(self) -> None:
        p = self.router.policy
        self._wait = self.router.jitter(min(p.backoff_cap, p.backoff_base * 2**self.backoffs))
        self.backoffs += 1
        self.hops = 0
        self._discovered = False  # after the pause, ask the cluster again

    def _give_up(self, why: str) -> GiveUp:
        tried = ", ".join(self._tried) or "no node"
        msg = f"request failed: {why} (tried {tried}; last error: {self.last})"
        return GiveUp(FailoverError(msg, self.attempts, self.last))
