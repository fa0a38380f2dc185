"""The application API for services that are not asyncio (Flask, Django, Celery, plain threads).

    def run_jobs(tenure: Tenure) -> None:          # on a thread of its own, once per tenure
        while not tenure.lost.wait(1.0):
            do_one_job(fencing_token=tenure.token)

    with Elector(config, on_started_leading=run_jobs, on_stopped_leading=flush) as elector:
        serve_forever()                            # elector.is_leader() from any thread

The shape follows Kubernetes client-go's ``leaderelection``: ``on_started_leading`` runs on a
new thread at the start of each tenure and should return once ``tenure.lost`` is set;
``on_stopped_leading`` runs when that tenure ends; ``on_new_leader`` whenever the known leader
changes. Or block instead: ``with elector.leadership() as tenure: ...``.

Threads cannot be cancelled, so leader-only work must look at ``tenure.lost`` (or call
``tenure.check()``) and pass ``tenure.token`` to every resource it writes: a fencing token is
what stops a deposed leader whose thread was descheduled at the wrong moment. ``tenure.lost``
is set when the node steps down and also at the lease deadline if the node's own thread is
frozen, by a dispatcher thread that sleeps until that deadline.

The node runs on its own thread and event loop (as with ``impl.api.Elector``); the dispatcher
is one more thread; callbacks never run on the node's thread, so a slow callback cannot delay
heartbeats. ``watch()`` gives the leadership as a coalesced stream (``impl.watch``, shared with
the asyncio ``Elector``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType

from electorate.impl.api import Leadership, LeadershipLostError, NodeFailedError
from electorate.impl.config import NodeConfig
from electorate.impl.core import Notification, Role
from electorate.impl.nodeview import Snapshot
from electorate.impl.runtime import NodeRuntime
from electorate.impl.watch import (
    IDLE_RECHECK_S,
    MIN_RECHECK_S,
    Subscription,
    Watch,
    recheck_after,
)
from electorate.impl.watch import LeaderState as LeaderState

log = logging.getLogger("electorate.elector")


class Tenure:
    """One period of leadership. ``token`` is the fencing token (the term it was won in)."""

    def __init__(self, lead: Leadership) -> None:
        self._lead = lead
        self.term = lead.term
        self.token = lead.token
        self.lost = threading.Event()  # set when the tenure ends, for whatever reason
        self.reason: str | None = None

    def is_valid(self) -> bool:
        """True while this node still leads this term and holds its lease (monotonic clock)."""
        return not self.lost.is_set() and self._lead.is_valid()

    def lease_remaining(self) -> float:
        return 0.0 if self.lost.is_set() else self._lead.lease_remaining()

    def check(self) -> None:
        """Raise LeadershipLostError unless the tenure is still valid."""
        if not self.is_valid():
            raise LeadershipLostError(self.term, self.reason or "lease expired")

    def __repr__(self) -> str:
        state = f"lost: {self.reason}" if self.lost.is_set() else "valid"
        return f"Tenure(term={self.term}, token={self.token}, {state})"


StartedCallback = Callable[[Tenure], None]
StoppedCallback = Callable[[], None]
NewLeaderCallback = Callable[[str | None, int], None]


class Elector:
    """Runs one node and tells a threaded application when it leads (see the module doc)."""

    def __init__(
        self,
        config: NodeConfig,
        *,
        on_started_leading: StartedCallback | None = None,
        on_stopped_leading: StoppedCallback | None = None,
        on_new_leader: NewLeaderCallback | None = None,
    ) -> None:
        self.config = config
        self.node = NodeRuntime(config)
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._state: Watch[LeaderState] = Watch(self._state_of(self.node.snapshot, None))
        self._tenure: Tenure | None = None
        self._kick = threading.Event()
        self._stopping = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._workers: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the node (its own thread and loop) and the dispatcher thread."""
        self.node.listeners.append(self._from_node)
        self.node.start_in_thread()
        self._raise_if_failed()
        name = f"electorate-{self.config.node_id}-dispatch"
        self._dispatcher = threading.Thread(target=self._dispatch, name=name, daemon=True)
        self._dispatcher.start()

    def stop(self, *, handover: bool = True, timeout: float = 5.0) -> None:
        """Hand leadership over first (if ``handover`` and leading), then stop everything.

        ``on_stopped_leading`` runs before this returns if the node was leading.
        """
        if handover:
            budget = 2 * self.config.election_timeout_ms / 1000.0
            self.transfer_leadership(timeout=min(timeout, budget))
        self.node.stop()
        self._stopping.set()
        self._kick.set()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout)
        try:
            self._end_tenure("node stopped")
        except Exception:
            log.exception("%s: on_stopped_leading failed", self.config.node_id)
        self._state.close()
        for worker in self._workers:
            worker.join(timeout)

    def __enter__(self) -> Elector:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- queries -------------------------------------------------------------------------------

    def is_leader(self) -> bool:
        """True only while this node leads and holds a lease (checked on the monotonic clock)."""
        return self.node.is_leader()

    def current_leader(self) -> tuple[str | None, int]:
        """``(leader id or None, term)`` as this node currently knows it."""
        snap = self.node.snapshot
        return snap.leader, snap.term

    def current_tenure(self) -> Tenure | None:
        """The tenure in progress if this node leads with a valid lease now, else None."""
        tenure = self._tenure
        if tenure is not None and tenure.is_valid():
            return tenure
        return None

    def watch(self) -> Subscription[LeaderState]:
        """The leadership as seen here: the current state first, then the newest after each
        change; many subscribers; a slow one skips to the latest state (never blocks the node)."""
        return self._state.subscribe()

    def wait_for_leadership(self, timeout: float | None = None) -> Tenure:
        """Block until this node leads with a lease; TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        updates = self.watch()
        while True:
            self._raise_if_failed()
            tenure = self.current_tenure()
            if tenure is not None:
                return tenure
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"{self.config.node_id} did not lead within {timeout} s")
            with contextlib.suppress(TimeoutError):
                updates.next(IDLE_RECHECK_S if left is None else min(left, IDLE_RECHECK_S))

    @contextlib.contextmanager
    def leadership(self, timeout: float | None = None) -> Iterator[Tenure]:
        """Block until leading, run the body with the tenure, and raise LeadershipLostError at
        the end of the body if the tenure ended meanwhile (the body's work may be incomplete).

        The body is not interrupted: it must watch ``tenure.lost`` or call ``tenure.check()``.
        """
        tenure = self.wait_for_leadership(timeout)
        yield tenure
        if tenure.lost.is_set():
            raise LeadershipLostError(tenure.term, tenure.reason or "lost")

    # -- commands ------------------------------------------------------------------------------

    def transfer_leadership(self, to: str | None = None, timeout: float = 2.0) -> bool:
        """Hand leadership to ``to`` (or the most caught-up peer); True once another node leads.

        False at once if this node does not lead. ValueError for an unknown ``to``.
        """
        if to is not None and to not in self.config.peers:
            raise ValueError(f"cannot transfer leadership to {to!r}: not a peer")
        if self.node.snapshot.role is not Role.LEADER or self.node.failure is not None:
            return False
        self.node.transfer_leadership(to)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.node.snapshot
            if snap.role is not Role.LEADER and snap.leader not in (None, self.config.node_id):
                return True
            time.sleep(self.node.tick_s)
        return False

    def resign(self) -> None:
        """Step down now without picking a successor."""
        self.node.resign()

    # -- the dispatcher ------------------------------------------------------------------------

    def _from_node(self, n: Notification, snap: Snapshot) -> None:
        self._kick.set()  # on the node's thread: never block it

    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            self._kick.wait(self._sleep_time())
            self._kick.clear()
            if self._stopping.is_set():
                return
            try:
                self._evaluate()
            except Exception:  # a callback's failure must not end the dispatcher
                log.exception("%s: leadership callback failed", self.config.node_id)

    def _sleep_time(self) -> float:
        tenure = self._tenure
        if tenure is not None:
            # Wake at the lease deadline: if the node's thread is frozen no notification comes,
            # and the tenure must still end then.
            return max(tenure.lease_remaining(), MIN_RECHECK_S)
        return recheck_after(self.node.snapshot, time.monotonic(), self.node.tick_s)

    def _evaluate(self) -> None:
        snap = self.node.snapshot
        tenure = self._tenure
        if tenure is not None and not tenure.is_valid():
            self._end_tenure("stepped down" if snap.role is not Role.LEADER else "lease expired")
        if self._tenure is None and self.node.failure is None and snap.is_leader():
            assert snap.token is not None
            self._begin_tenure(Tenure(Leadership(snap.term, snap.token, self.node)))
        old = self._state.get()
        new = self._state_of(self.node.snapshot, self._tenure)
        self._state.set(new)
        if (new.leader, new.term) != (old.leader, old.term) and self._on_new_leader is not None:
            self._on_new_leader(new.leader, new.term)

    def _begin_tenure(self, tenure: Tenure) -> None:
        self._tenure = tenure
        log.info("%s: leading, term %d, token %d", self.config.node_id, tenure.term, tenure.token)
        if self._on_started is not None:
            self._workers = [w for w in self._workers if w.is_alive()]
            name = f"electorate-{self.config.node_id}-leading-{tenure.term}"
            worker = threading.Thread(target=self._run_started, args=(tenure,), name=name)
            worker.daemon = True
            self._workers.append(worker)
            worker.start()

    def _run_started(self, tenure: Tenure) -> None:
        assert self._on_started is not None
        try:
            self._on_started(tenure)
        except LeadershipLostError:
            pass
        except Exception:
            log.exception("%s: on_started_leading failed", self.config.node_id)

    def _end_tenure(self, reason: str) -> None:
        tenure, self._tenure = self._tenure, None
        if tenure is None:
            return
        tenure.reason = reason
        tenure.lost.set()
        log.info("%s: stopped leading term %d: %s", self.config.node_id, tenure.term, reason)
        self._state.set(self._state_of(self.node.snapshot, None))
        if self._on_stopped is not None:
            self._on_stopped()

    def _state_of(self, snap: Snapshot, tenure: Tenure | None) -> LeaderState:
        if tenure is not None:
            return LeaderState(self.config.node_id, tenure.term, True, tenure.token)
        return LeaderState(snap.leader, snap.term, False, None)

    def _raise_if_failed(self) -> None:
        if self.node.failure is not None:
            raise NodeFailedError(f"node {self.config.node_id} stopped: {self.node.failure}")
