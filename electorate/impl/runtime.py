"""The asyncio driver: feeds the pure core with ticks and messages, persists, then sends.

Ticks: one core tick is one heartbeat interval, scheduled on the monotonic clock. If the loop was
late (a blocked loop, a GC pause, SIGSTOP) the missed ticks are replayed at once, so the core's
timers follow real time.

Persist before send: every ``Ready`` is handled in order — its hard state is written and fsynced
first, only then are its messages handed to the transport. A failed fsync stops the node.

Lease: the core reports its lease as a tick (``lease_expiry`` = send tick of the newest heartbeat
round a quorum acknowledged + ``lease_ticks``). The runtime maps that back to the monotonic time
at which that tick was processed, which is no later than the round's real send time, so the
deadline it derives is conservative. ``is_leader()`` compares that deadline to the monotonic clock
at the moment of the call, from any thread: a leader whose loop was frozen past its lease answers
False before it runs any other code. The loop-lag watchdog then makes the core step down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from electorate.impl.config import NodeConfig
from electorate.impl.core import (
    MAX_TERM,
    CoreConfig,
    LeaderChanged,
    LeadershipAcquired,
    LeadershipLost,
    Notification,
    Ready,
    Role,
    RoleMachine,
)
from electorate.impl.messages import Message
from electorate.impl.metrics import NodeMetrics
from electorate.impl.nodeview import Snapshot
from electorate.impl.status import serve_status
from electorate.impl.storage import FileStorage, Storage, StorageFatalError
from electorate.impl.tracelog import NodeTracer
from electorate.impl.transport import Network, Transport

log = logging.getLogger("electorate.runtime")


Listener = Callable[[Notification, Snapshot], None]
NetworkFactory = Callable[[NodeConfig, Callable[[Message], None]], Network]


class Clock(Protocol):
    """The runtime's time: a monotonic reading in seconds, and a way to wait on it."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def core_config(c: NodeConfig) -> CoreConfig:
    """The core's tick-based view of a node config (tick = one heartbeat interval)."""
    return CoreConfig(
        node_id=c.node_id,
        voters=c.voters,
        cluster=c.cluster,
        election_ticks=c.election_ticks,
        heartbeat_ticks=1,
        lease_ticks=c.lease_ticks,
        prevote=c.prevote,
        check_quorum=c.check_quorum,
    )


class NodeRuntime:
    """One node: core + storage + transport on one event loop (its own thread if started so).

    The I/O seams default to the real thing (a data directory, TCP, the system clock); tests
    pass in-memory doubles (``electorate.testing.fakes``) to run nodes without disks, sockets
    or real time.
    """

    def __init__(
        self,
        config: NodeConfig,
        *,
        storage: Storage | None = None,
        network: NetworkFactory | None = None,
        clock: Clock | None = None,
        trace: str | Path | None = None,
    ) -> None:
        self.config = config
        self.tick_s = config.heartbeat_ms / 1000.0
        self.clock: Clock = clock or SystemClock()
        self.storage: Storage = storage or FileStorage(config.data_dir)
        # StorageError refuses start-up before anything runs.
        stored = self.storage.load(fresh_start=config.fresh_start)
        rng = random.Random(config.seed)
        cc = core_config(config)
        cc.validate()
        self.core = RoleMachine(cc, stored, rng)
        # The trace for `electorate validate` (electorate/impl/tracelog.py), if asked for.
        self.tracer = None if trace is None else NodeTracer.to_file(trace, self.core)
        self.transport: Network = (network or Transport)(config, self._on_message)
        self.listeners: list[Listener] = []
        self.max_lag_s = 0.0
        self.lag_stepdowns = 0
        self.metrics = NodeMetrics(config, stored.term)
        self.last_tick_at: float | None = None  # monotonic time of the newest tick (health)
        self._next_tick_due: float | None = None  # when the tick loop should run next
        self._lease_s = config.lease_ticks * self.tick_s
        self._tick_time: dict[int, float] = {}
        self._snapshot = self._make_snapshot()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._started = threading.Event()
        self.metrics.bind(self)  # reads the snapshot: last

    # -- thread-safe observers -----------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def is_leader(self) -> bool:
        return self._snapshot.is_leader(self.clock.monotonic())

    # -- running -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run on the current loop until ``stop`` is set; raise StorageFatalError on fsync loss."""
        self._loop = asyncio.get_running_loop()
        self._stopping = stop or asyncio.Event()
        await self.transport.start()
        status: asyncio.Server | None = None
        ticker: asyncio.Task[None] | None = None
        try:
            if self.config.status is not None:
                status = await serve_status(self, self.config.status)
            self._tick_time[self.core.now] = self.clock.monotonic()
            ticker = asyncio.create_task(self._tick_loop(), name="ticks")
            self._started.set()
            stopper = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({ticker, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if ticker.done():
                ticker.result()  # re-raise an unexpected error from the driver
            if isinstance(self._failure, StorageFatalError):
                raise self._failure
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError, StorageFatalError):
                    await ticker
            if status is not None:
                status.close()
            await self.transport.stop()
            self.storage.close()
            if self.tracer is not None:
                self.tracer.close()

    def start_in_thread(self) -> None:
        """Run the node on its own thread and loop, so a busy application loop cannot starve it."""

        def main() -> None:
            try:
                asyncio.run(self.run())
            except BaseException as e:  # reported to the owner via .failure
                self._failure = e
                log.critical("node stopped: %s", e)
            finally:
                self._started.set()

        self._thread = threading.Thread(target=main, name=f"electorate-{self.config.node_id}")
        self._thread.daemon = True
        self._thread.start()
        self._started.wait(10.0)

    def stop(self) -> None:
        """Stop a node started with ``start_in_thread`` (or from another thread)."""
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(5.0)

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the node's loop (thread-safe), then flush its Ready."""
        assert self._loop is not None, "node not started"

        def run() -> None:
            fn()
            self._flush()

        self._loop.call_soon_threadsafe(run)

    def transfer_leadership(self, to: str | None = None) -> None:
        self.call(lambda: self.core.transfer_leadership(to))

    def resign(self) -> None:
        self.call(self.core.resign)

    def set_isolated(self, isolated: bool) -> None:
        def flip() -> None:
            self.transport.isolated = isolated

        self.call(flip)

    # -- the driver ----------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        start, done = self.clock.monotonic(), 0
        while True:
            target = start + (done + 1) * self.tick_s
            self._next_tick_due = target
            delay = target - self.clock.monotonic()
            if delay > 0:
                await self.clock.sleep(delay)
            now = self.clock.monotonic()
            self.last_tick_at = now
            self.metrics.observe_tick(now - target)
            self._watchdog(now, now - target)
            due = int((now - start) / self.tick_s) - done
            for _ in range(max(1, due)):
                if self._failure is not None:
                    return
                self.core.tick()
                self._tick_time[self.core.now] = now
                done += 1
                self._flush()
            self._forget_old_ticks()

    def _watchdog(self, now: float, lag: float) -> None:
        """Step a leader down whose lease ran out before the core saw it; ``lag``: how far
        behind its tick schedule the loop runs now.

        Runs before each tick and each received message: a leader whose lease ran out must stop
        acting as leader before it processes anything else (a newer leader's heartbeat waiting
        in its socket included), and tell the application at once. If the loop ran more than a
        lease behind, it stalled past its lease (``loop_stall``): whatever deposes it next, the
        stall is what operators must hear of. Otherwise the lease ran out between two ticks, as
        the core would have found at this tick (``lease_expired``).
        """
        self.max_lag_s = max(self.max_lag_s, lag)
        snap = self._snapshot
        deadline = snap.lease_deadline
        if snap.role is Role.LEADER and deadline is not None and now >= deadline:
            self.lag_stepdowns += 1
            stalled = lag > self._lease_s
            log.warning(
                "%s: lease ran out %.0f ms ago, loop %.0f ms behind%s: stepping down",
                self.config.node_id,
                (now - deadline) * 1000,
                max(lag, 0.0) * 1000,
                " (stalled past the lease)" if stalled else "",
            )
            with self.metrics.stepdown_cause("loop_stall" if stalled else "lease_expired"):
                self.core.resign()
                self._flush()

    def _forget_old_ticks(self) -> None:
        horizon = self.core.now - 4 * self.config.election_ticks - self.config.lease_ticks
        for t in [t for t in self._tick_time if t < horizon]:
            del self._tick_time[t]

    def _on_message(self, msg: Message) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("recv %s", msg)
        now = self.clock.monotonic()
        self.metrics.on_message(msg, now)
        if self._failure is None:
            if self._next_tick_due is not None:
                self._watchdog(now, now - self._next_tick_due)
            if self.tracer is not None:
                self.tracer.received(msg)
            self.core.step(msg)
            self._flush()

    def _flush(self) -> None:
        if self._failure is not None:
            return
        try:
            while self.core.has_ready():
                self._handle(self.core.ready())
        except StorageFatalError as e:
            # The node can no longer keep its promises (a vote it cannot persist): freeze it,
            # never send again, and stop the driver, which re-raises the error from run().
            self._failure = e
            self._snapshot = Snapshot(
                self.config.node_id,
                Role.FOLLOWER,
                self.core.term,
                None,
                self.core.voted_for,
                None,
                None,
            )
            log.critical("stopping: %s", e)
            if self._stopping is not None:
                self._stopping.set()
            return
        if self.tracer is not None:
            self.tracer.step_done()
        self._publish_snapshot()

    def _handle(self, rd: Ready) -> None:
        if rd.hard_state is not None and rd.hard_state.term == MAX_TERM:
            log.error(
                "%s: term is now 2**64 - 1, the last uint64: this node can no longer campaign "
                "(a peer sent that term: a bug, or a hostile node holding the secret)",
                self.config.node_id,
            )
        if self.tracer is not None:
            self.tracer.ready(rd)  # written before rd's state is durable or its messages leave
        if rd.hard_state is not None:
            # Durable before any message of this batch leaves (a vote or a RequestVote).
            started = time.perf_counter()
            self.storage.save(rd.hard_state)
            self.metrics.observe_state_write(time.perf_counter() - started)
        self.metrics.on_ready(rd)
        trace = log.isEnabledFor(logging.DEBUG)
        for m in rd.messages:
            if trace:
                log.debug("send %s", m)
            self.transport.send(m)
        if trace and rd.soft_state is not None:
            log.debug("now %s (leader %s) at tick %d", rd.soft_state.role.value,
                      rd.soft_state.leader, self.core.now)  # fmt: skip
        if rd.notifications:
            self._publish_snapshot()
            # Loss first: the application must stop leader-only work before anything else.
            notes = sorted(rd.notifications, key=lambda n: not isinstance(n, LeadershipLost))
            for n in notes:
                _log_notification(self.config.node_id, n)
                for listener in list(self.listeners):
                    listener(n, self._snapshot)

    def _lease_deadline(self) -> float | None:
        expiry = self.core.lease_expiry
        if self.core.role is not Role.LEADER or expiry is None:
            return None
        sent = self._tick_time.get(expiry - self.config.lease_ticks)
        if sent is None:
            return None  # older than anything we remember: certainly expired
        return sent + self.config.lease_ticks * self.tick_s

    def _make_snapshot(self) -> Snapshot:
        c = self.core
        return Snapshot(
            node_id=self.config.node_id,
            role=c.role,
            term=c.term,
            leader=c.leader,
            voted_for=c.voted_for,
            token=c.token,
            lease_deadline=self._lease_deadline(),
        )

    def _publish_snapshot(self) -> None:
        snap = self._make_snapshot()
        if snap != self._snapshot:
            self._snapshot = snap


def _log_notification(node: str, n: Notification) -> None:
    if isinstance(n, LeadershipAcquired):
        log.info("%s: leader for term %d (token %d)", node, n.term, n.token)
    elif isinstance(n, LeadershipLost):
        log.info("%s: lost leadership of term %d: %s", node, n.term, n.reason)
    elif isinstance(n, LeaderChanged):
        log.info("%s: leader is now %s (term %d)", node, n.leader, n.term)
