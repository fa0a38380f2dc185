"""The application API (asyncio): wait for leadership, run leader-only work, follow changes.

    async with Elector(config) as elector:
        while True:
            try:
                async with elector.leadership() as lead:
                    lead.create_task(serve_writes(fencing_token=lead.token))
                    await lead.lost()          # or do leader-only work here
            except LeadershipLostError:
                continue                       # every leader-only task was cancelled

By default the node runs on its own thread and event loop, so a busy or blocked application loop
cannot delay heartbeats. Everything here is called from the application's loop.

Two ways to follow the leadership: ``changes()`` yields every change in order (an unbounded
queue per subscriber), ``watch()`` the current ``LeaderState`` first and then the newest after
each change (``impl.watch``, as the threaded ``Elector`` does): a busy subscriber skips to the
latest state, and any number of them cost the node nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from electorate.impl.config import NodeConfig
from electorate.impl.core import LeadershipAcquired, LeadershipLost, Notification, Role
from electorate.impl.nodeview import Snapshot
from electorate.impl.runtime import NodeRuntime
from electorate.impl.watch import LeaderState, Subscription, Watch, leader_state, recheck_after

_T = TypeVar("_T")


class LeadershipLostError(Exception):
    """Leadership ended while leader-only work was running; that work has been cancelled."""

    def __init__(self, term: int, reason: str) -> None:
        super().__init__(f"leadership of term {term} lost: {reason}")
        self.term = term
        self.reason = reason


class NodeFailedError(Exception):
    """The node stopped on its own (e.g. its state could not be persisted)."""


@dataclass(frozen=True)
class Leadership:
    """One tenure. ``token`` (the term it was won in) is the fencing token: pass it to every
    resource you write, and have the resource reject tokens lower than the highest it has seen."""

    term: int
    token: int
    _node: NodeRuntime = field(repr=False, compare=False)

    @property
    def lease_deadline(self) -> float:
        """Monotonic time (``time.monotonic()``) until which the lease is currently held."""
        snap = self._node.snapshot
        if not self._same_tenure(snap) or snap.lease_deadline is None:
            return 0.0
        return snap.lease_deadline

    def lease_remaining(self) -> float:
        return max(0.0, self.lease_deadline - time.monotonic())

    def is_valid(self) -> bool:
        """True while this node is still leader of this term and holds its lease."""
        return self.lease_remaining() > 0.0

    def _same_tenure(self, snap: Snapshot) -> bool:
        return snap.role is Role.LEADER and snap.term == self.term and snap.token == self.token


@dataclass(frozen=True)
class LeadershipChange:
    """Who leads which term, as seen by this node. ``leader`` None: no known leader."""

    leader: str | None
    term: int
    is_self: bool
    token: int | None = None
    reason: str | None = None


class ChangeStream:
    """Async iterator over leadership changes. It starts with the state at subscription time,
    then yields every change in order; nothing is dropped (the queue is unbounded)."""

    def __init__(self, elector: Elector, first: LeadershipChange) -> None:
        self._elector = elector
        self._queue: asyncio.Queue[LeadershipChange] = asyncio.Queue()
        self._last: tuple[str | None, int, bool] | None = None
        self._push(first)

    def _push(self, change: LeadershipChange) -> None:
        key = (change.leader, change.term, change.is_self)
        if key != self._last:  # the same state again is not a change
            self._last = key
            self._queue.put_nowait(change)

    def __aiter__(self) -> ChangeStream:
        return self

    async def __anext__(self) -> LeadershipChange:
        return await self._queue.get()

    def close(self) -> None:
        self._elector._streams.discard(self)


class LeaderScope:
    """Handed out by ``Elector.leadership()``: the tenure plus a task group for leader-only work."""

    def __init__(self, lead: Leadership, group: asyncio.TaskGroup, lost: asyncio.Event) -> None:
        self.leadership = lead
        self.token = lead.token
        self.term = lead.term
        self._group = group
        self._lost = lost
        self._tasks: set[asyncio.Task[Any]] = set()

    def create_task(self, coro: Coroutine[Any, Any, _T]) -> asyncio.Task[_T]:
        """Run ``coro`` as leader-only work: it is cancelled the moment leadership is lost."""
        task = self._group.create_task(coro)
        self._tasks.add(task)
        return task

    async def lost(self) -> None:
        """Wait until leadership is lost (the scope then raises LeadershipLostError)."""
        await self._lost.wait()


class Elector:
    """Runs one node and tells the application when it leads. Use as ``async with``."""

    def __init__(self, config: NodeConfig, *, own_thread: bool = True) -> None:
        self.config = config
        self.node = NodeRuntime(config)
        self.own_thread = own_thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Event] = set()
        self._streams: set[ChangeStream] = set()
        self._inline: asyncio.Task[None] | None = None
        self._stop_inline = asyncio.Event()
        self._state: Watch[LeaderState] = Watch(leader_state(self.node.snapshot, time.monotonic()))
        self._tracker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.node.listeners.append(self._from_node)
        if self.own_thread:
            self.node.start_in_thread()
        else:
            self._inline = asyncio.create_task(self.node.run(self._stop_inline))
            await asyncio.sleep(0)
        self._raise_if_failed()
        self._tracker = asyncio.create_task(self._track(), name="electorate-watch")

    async def stop(self) -> None:
        """Stop the node (hand leadership over first with ``transfer_leadership``).

        Subscribers of ``watch()`` then get a last state that does not lead, and their
        iteration ends.
        """
        if self._tracker is not None:
            self._tracker.cancel()
            await asyncio.wait({self._tracker})  # the caller's own cancellation propagates
        if self._inline is not None:
            self._stop_inline.set()
            with contextlib.suppress(Exception):
                await self._inline
        else:
            await asyncio.to_thread(self.node.stop)
        snap = self.node.snapshot
        self._state.set(LeaderState(snap.leader, snap.term, False, None))
        self._state.close()

    async def __aenter__(self) -> Elector:
        await self.start()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- queries -------------------------------------------------------------------------------

    def is_leader(self) -> bool:
        """True only while this node leads and holds a lease (checked on the monotonic clock)."""
        return self.node.is_leader()

    def current_leader(self) -> tuple[str | None, int]:
        """``(leader id or None, term)`` as this node currently knows it."""
        snap = self.node.snapshot
        return snap.leader, snap.term

    def changes(self) -> ChangeStream:
        """Subscribe to leadership changes (call ``close()`` on the stream when done)."""
        snap = self.node.snapshot
        stream = ChangeStream(self, self._change_from(snap.leader, snap.term, snap))
        self._streams.add(stream)
        return stream

    def watch(self) -> Subscription[LeaderState]:
        """The leadership as seen here: the current state first, then the newest after each
        change (``async for state in elector.watch()``, or ``await sub.anext(timeout)``).

        ``is_self`` is true only while this node holds a lease: it turns false at the lease
        deadline even when the node's own thread is frozen. A subscriber that is busy skips to
        the latest state; the node never waits for one. Any number of subscribers.
        """
        return self._state.subscribe()

    async def wait_until_leader(self) -> Leadership:
        """Return once this node leads with a valid lease."""
        while True:
            self._raise_if_failed()
            snap = self.node.snapshot
            if snap.is_leader() and snap.token is not None:
                return Leadership(snap.term, snap.token, self.node)
            await self._next_notification(self.node.tick_s)

    @contextlib.asynccontextmanager
    async def leadership(self) -> AsyncIterator[LeaderScope]:
        """Wait for leadership, then run the body and its tasks until done or leadership ends.

        On loss every task of the scope and the body itself are cancelled at once and
        LeadershipLostError is raised.
        """
        lead = await self.wait_until_leader()
        lost = asyncio.Event()
        failure: list[LeadershipLostError] = []
        try:
            async with asyncio.TaskGroup() as group:
                guard = group.create_task(self._guard(lead, lost, failure))
                scope = LeaderScope(lead, group, lost)
                yield scope
                while pending := [t for t in scope._tasks if not t.done()]:
                    await asyncio.wait(pending)
                guard.cancel()
        except* LeadershipLostError:
            pass
        if failure:
            raise failure[0]

    async def transfer_leadership(self, to: str | None = None, timeout: float = 2.0) -> bool:
        """Hand leadership to ``to`` (or the most caught-up peer); True once someone else leads.

        A no-op returning False when this node does not lead. ValueError for an unknown ``to``.
        """
        if to is not None and to not in self.config.peers:
            raise ValueError(f"cannot transfer leadership to {to!r}: not a peer")
        if self.node.snapshot.role is not Role.LEADER:
            return False
        self.node.transfer_leadership(to)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.node.snapshot
            if snap.role is not Role.LEADER and snap.leader not in (None, self.config.node_id):
                return True
            await asyncio.sleep(self.node.tick_s)
        return False

    def resign(self) -> None:
        """Step down now without picking a successor."""
        self.node.resign()

    # -- internals -----------------------------------------------------------------------------

    async def _guard(
        self, lead: Leadership, lost: asyncio.Event, failure: list[LeadershipLostError]
    ) -> None:
        # Sleep until the current lease deadline or any notification; at the deadline the lease
        # has usually been extended already, otherwise leadership is over.
        while lead.is_valid():
            await self._next_notification(max(lead.lease_remaining(), 0.0005))
        reason = "lease expired" if self.node.snapshot.role is Role.LEADER else "stepped down"
        lost.set()
        failure.append(LeadershipLostError(lead.term, reason))
        raise failure[-1]

    async def _track(self) -> None:
        """Publish the leadership to the watch after each notification, at the lease deadline
        and at least every idle interval (``impl.watch.recheck_after``)."""
        while True:
            snap, now = self.node.snapshot, time.monotonic()
            self._state.set(leader_state(snap, now))
            await self._next_notification(recheck_after(snap, now, self.node.tick_s))

    async def _next_notification(self, timeout: float) -> None:
        """Sleep until the node's next notification or ``timeout``, whichever comes first."""
        # One event per waiter: a shared one cleared by one waiter could hide a wake-up
        # from another.
        # asyncio.timeout, not asyncio.wait_for: on Python 3.11 wait_for can swallow the
        # caller's cancellation when the event is set at the same moment.
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await event.wait()
        finally:
            self._waiters.discard(event)

    def _raise_if_failed(self) -> None:
        if self.node.failure is not None:
            raise NodeFailedError(f"node {self.config.node_id} stopped: {self.node.failure}")

    def _from_node(self, n: Notification, snap: Snapshot) -> None:
        # Called on the node's loop; hop to the application's loop.
        assert self._loop is not None
        if self.own_thread:
            with contextlib.suppress(RuntimeError):  # application loop already closed
                self._loop.call_soon_threadsafe(self._on_notification, n, snap)
        else:
            self._on_notification(n, snap)

    def _on_notification(self, n: Notification, snap: Snapshot) -> None:
        for waiter in self._waiters:
            waiter.set()
        if isinstance(n, LeadershipAcquired):
            change = LeadershipChange(self.config.node_id, n.term, True, n.token)
        elif isinstance(n, LeadershipLost):
            change = LeadershipChange(None, n.term, False, None, n.reason)
        else:
            change = self._change_from(n.leader, n.term, snap)
        for stream in list(self._streams):
            stream._push(change)

    def _change_from(self, leader: str | None, term: int, snap: Snapshot) -> LeadershipChange:
        is_self = leader == self.config.node_id and snap.role is Role.LEADER
        return LeadershipChange(leader, term, is_self, snap.token if is_self else None)
