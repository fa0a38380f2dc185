"""The thread-based Elector: callbacks as in client-go, a blocking leadership() scope, the
coalesced watch, and a tenure that ends at the lease deadline even with the node frozen."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from electorate.impl.api import LeadershipLostError
from electorate.impl.threaded import Elector, LeaderState, Tenure

from .conftest import configs, wait_for

pytestmark = pytest.mark.timeout(60)


def scheduling_lag() -> float:
    """How late a 10 ms sleep wakes on this machine right now (worst of five)."""
    worst = 0.0
    for _ in range(5):
        start = time.monotonic()
        time.sleep(0.01)
        worst = max(worst, time.monotonic() - start - 0.01)
    return worst


def test_callbacks_follow_each_tenure_on_threads_of_their_own(tmp_path: Path) -> None:
    started: list[Tenure] = []
    stopped = threading.Event()
    threads: list[str] = []
    leaders: list[tuple[str | None, int]] = []

    def on_started(tenure: Tenure) -> None:
        threads.append(threading.current_thread().name)
        started.append(tenure)
        tenure.lost.wait(10)

    config = configs(tmp_path, 1)[0]
    with Elector(
        config,
        on_started_leading=on_started,
        on_stopped_leading=stopped.set,
        on_new_leader=lambda leader, term: leaders.append((leader, term)),
    ) as elector:
        first = wait_for(lambda: started[0] if started else None, 10, "on_started_leading")
        assert first.token == first.term >= 1 and first.is_valid()
        assert elector.is_leader() and elector.current_tenure() is first
        assert threads[0].startswith("electorate-n1-leading-")
        elector.resign()
        assert stopped.wait(5) and first.lost.is_set() and first.reason == "stepped down"
        with pytest.raises(LeadershipLostError):
            first.check()
        # A single node takes over again once its resignation pause is over: a new tenure.
        second = wait_for(lambda: started[1] if len(started) > 1 else None, 10, "a 2nd tenure")
        assert second.term > first.term
    assert second.lost.is_set()
    assert ("n1", first.term) in leaders and ("n1", second.term) in leaders


def freeze(elector: Elector, tenure: Tenure, seconds: float) -> bool:
    """Stop the node's own loop for ``seconds`` (no renewal, no notification); return once it
    is frozen, with whether ``tenure`` was still valid at that moment."""
    frozen = threading.Event()
    valid: list[bool] = []

    def body() -> None:
        valid.append(tenure.is_valid())
        frozen.set()
        time.sleep(seconds)

    elector.node.call(body)
    assert frozen.wait(10)
    return valid[0]


def test_a_frozen_node_thread_cannot_keep_the_tenure(tmp_path: Path) -> None:
    config = configs(tmp_path, 1)[0]
    lease = config.lease_ticks * config.heartbeat_ms / 1000
    with Elector(config) as elector:
        for _attempt in range(5):
            tenure = elector.wait_for_leadership(10)
            margin = 0.05 + 10 * scheduling_lag()
            valid = freeze(elector, tenure, 3 * lease + margin)
            start = time.monotonic()
            if valid:
                break
            # On a loaded machine the lease may have lapsed before the freeze began: retry.
            assert tenure.lost.wait(10)
        else:
            pytest.skip("the machine is too loaded to hold a lease until the freeze")
        assert tenure.lost.wait(lease + margin)
        waited = time.monotonic() - start
        assert waited <= lease + margin, f"noticed after {waited:.3f} s (lease {lease:.3f} s)"
        assert tenure.reason == "lease expired" and not tenure.is_valid()


def test_the_leadership_scope_raises_when_the_tenure_ended_during_the_body(
    tmp_path: Path,
) -> None:
    config = configs(tmp_path, 1)[0]
    with Elector(config) as elector:
        with pytest.raises(LeadershipLostError), elector.leadership(timeout=10) as tenure:
            assert tenure.is_valid()
            elector.resign()
            assert tenure.lost.wait(5)
        with elector.leadership(timeout=10) as again:  # a clean body raises nothing
            assert again.term > tenure.term


def test_the_watch_starts_with_the_state_and_ends_leading(tmp_path: Path) -> None:
    config = configs(tmp_path, 1)[0]
    with Elector(config) as elector:
        updates = elector.watch()
        first = updates.next(5)
        assert isinstance(first, LeaderState)
        seen = [first]
        while not seen[-1].is_self:
            seen.append(updates.next(10))
        assert seen[-1] == LeaderState("n1", seen[-1].term, True, seen[-1].term)
        assert not any(s.is_self for s in seen[:-1])


def test_a_node_that_cannot_win_times_out_waiting(tmp_path: Path) -> None:
    config = configs(tmp_path, 3)[0]  # two peers that never start
    with Elector(config) as elector, pytest.raises(TimeoutError):
        elector.wait_for_leadership(0.5)


def test_stop_hands_leadership_over_and_reports_the_end_first(tmp_path: Path) -> None:
    cs = configs(tmp_path, 3)
    stopped = threading.Event()
    electors = [
        Elector(c, on_stopped_leading=stopped.set) if i == 0 else Elector(c)
        for i, c in enumerate(cs)
    ]
    for e in electors:
        e.start()
    try:
        # Let n1 lead: the others hand over to it until it does.
        def n1_leads() -> bool:
            for e in electors[1:]:
                if e.is_leader():
                    e.transfer_leadership("n1")
            return electors[0].current_tenure() is not None

        wait_for(n1_leads, 15, "n1 to lead")
        electors[0].stop()
        assert stopped.is_set()  # before stop() returned
        start = time.monotonic()
        new = wait_for(
            lambda: next((e for e in electors[1:] if e.is_leader()), None), 5, "a successor"
        )
        assert new.current_leader()[1] > 0
        # Handed over: the successor leads well within one election timeout of the stop.
        assert time.monotonic() - start < cs[0].election_timeout_ms / 1000
    finally:
        for e in electors[1:]:
            e.stop(handover=False)
