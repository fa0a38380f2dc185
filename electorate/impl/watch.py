"""A watched value: every subscriber sees the current value first, then the latest one after
each change, from threads or from asyncio. Both Electors (``impl.api``, ``impl.threaded``)
publish their node's leadership through one, as a ``LeaderState``.

The publisher never blocks and never waits for a subscriber: ``set`` stores the value, bumps a
version and wakes the waiters. A subscriber that falls behind skips intermediate values and gets
the newest one (coalesced), so a slow consumer can neither stall the node nor miss the final
state. This is the shape hashicorp/raft's users asked for after its blocking ``LeaderCh``
deadlocked consumers that were busy when a change arrived (hashicorp/raft #426).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from electorate.impl.core import Role
from electorate.impl.nodeview import Snapshot

_T = TypeVar("_T")

# An Elector re-reads its node at least this often: a term can change with no notification
# (a candidate's), and a failed node sends none.
IDLE_RECHECK_S: Final = 0.5
# Shortest wait at a lease deadline, so that a deadline just passed is not a busy loop.
MIN_RECHECK_S: Final = 0.0005


@dataclass(frozen=True)
class LeaderState:
    """Who leads which term as this node sees it; ``is_self`` only while it holds a lease."""

    leader: str | None
    term: int
    is_self: bool
    token: int | None


def leader_state(snap: Snapshot, now: float) -> LeaderState:
    """The leadership ``snap`` shows at ``now`` (monotonic): this node leads only with a lease."""
    if snap.is_leader(now) and snap.token is not None:
        return LeaderState(snap.node_id, snap.term, True, snap.token)
    return LeaderState(snap.leader, snap.term, False, None)


def recheck_after(snap: Snapshot, now: float, tick_s: float) -> float:
    """How long the leadership ``snap`` shows may stand without a notification: until the lease
    deadline on a leader with a lease (a frozen node thread sends no notification when it
    lapses), one heartbeat on a leader still waiting for its first lease, else the idle poll."""
    if snap.is_leader(now):
        return max(snap.lease_remaining(now), MIN_RECHECK_S)
    if snap.role is Role.LEADER:
        return tick_s
    return IDLE_RECHECK_S


class WatchClosedError(Exception):
    """The watched value will not change any more (its owner stopped)."""


class Watch(Generic[_T]):
    """A value that changes over time; thread-safe; see the module doc."""

    def __init__(self, initial: _T) -> None:
        self._cond = threading.Condition()
        self._value = initial
        self._version = 0
        self._closed = False
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def get(self) -> _T:
        with self._cond:
            return self._value

    def set(self, value: _T) -> None:
        """Publish ``value`` (a value equal to the current one is not a change)."""
        with self._cond:
            if self._closed or value == self._value:
                return
            self._value = value
            self._version += 1
            self._wake()

    def close(self) -> None:
        """Wake every subscriber: each gets the last value, then WatchClosedError."""
        with self._cond:
            self._closed = True
            self._wake()

    def subscribe(self) -> Subscription[_T]:
        return Subscription(self)

    def _wake(self) -> None:
        self._cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed: its waiter is gone
                self._async_waiters.discard((loop, event))

    def _newer(self, seen: int) -> tuple[int, _T] | None:
        """(version, value) if newer than ``seen``; None if not; WatchClosedError at the end."""
        if self._version > seen:
            return self._version, self._value
        if self._closed:
            raise WatchClosedError("the watch is closed")
        return None


class Subscription(Generic[_T]):
    """One subscriber's view: iterate (threads) or ``async for`` (asyncio)."""

    def __init__(self, watch: Watch[_T]) -> None:
        self._watch = watch
        self._seen = -1  # so the first call returns the current value

    def next(self, timeout: float | None = None) -> _T:
        """The current value on the first call, then the newest value after a change.

        TimeoutError if nothing changed within ``timeout``; WatchClosedError once closed.
        """
        w = self._watch
        with w._cond:
            got = w._newer(self._seen)
            if got is None:
                w._cond.wait_for(lambda: w._version > self._seen or w._closed, timeout)
                got = w._newer(self._seen)
            if got is None:
                raise TimeoutError(f"no change within {timeout} s")
            self._seen, value = got
            return value

    def __iter__(self) -> Iterator[_T]:
        while True:
            try:
                yield self.next()
            except WatchClosedError:
                return

    async def anext(self, timeout: float | None = None) -> _T:
        """``next`` for asyncio: waits without blocking the event loop.

        A cancellation of the caller always propagates (``asyncio.timeout``, unlike
        ``asyncio.wait_for`` of Python 3.11, never trades it for a value that arrived at once).
        """
        w, loop = self._watch, asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        with w._cond:
            w._async_waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    with w._cond:
                        got = w._newer(self._seen)
                        if got is not None:
                            self._seen, value = got
                            return value
                        event.clear()
                    await event.wait()
        finally:
            with w._cond:
                w._async_waiters.discard(waiter)

    async def __aiter__(self) -> AsyncIterator[_T]:
        while True:
            try:
                yield await self.anext()
            except WatchClosedError:
                return
