"""The watched value: current first, then the latest after each change, coalesced, never
blocking the publisher; from threads and asyncio."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from electorate.impl.watch import Watch, WatchClosedError

pytestmark = pytest.mark.timeout(30)


def test_a_subscriber_gets_the_current_value_first_then_each_change() -> None:
    w = Watch(0)
    sub = w.subscribe()
    assert sub.next(0) == 0
    with pytest.raises(TimeoutError):
        sub.next(0.01)
    w.set(1)
    assert sub.next(0) == 1
    w.set(1)  # the same value again is not a change
    with pytest.raises(TimeoutError):
        sub.next(0.01)


def test_a_slow_subscriber_skips_to_the_latest_value() -> None:
    w = Watch(0)
    sub = w.subscribe()
    assert sub.next() == 0
    for i in range(1, 1001):
        w.set(i)
    assert sub.next(0) == 1000
    late = w.subscribe()  # subscribing late: the current value, not the history
    assert late.next(0) == 1000


def test_the_publisher_never_waits_for_subscribers() -> None:
    w = Watch(0)
    idle = [w.subscribe() for _ in range(50)]  # nobody ever reads these
    done = threading.Event()

    def publish() -> None:
        for i in range(1, 20001):
            w.set(i)
        done.set()

    t = threading.Thread(target=publish)
    t.start()
    t.join(20)
    assert done.is_set()
    assert all(s.next(0) == 20000 for s in idle)


def test_many_waiting_subscribers_all_see_the_final_value() -> None:
    w = Watch(0)
    finals: list[int] = []
    lock = threading.Lock()

    def consume() -> None:
        last = -1
        for value in w.subscribe():
            last = value
            time.sleep(0.001)  # slower than the publisher
        with lock:
            finals.append(last)

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for t in threads:
        t.start()
    for i in range(1, 501):
        w.set(i)
    w.close()
    for t in threads:
        t.join(10)
    assert finals == [500] * 8


def test_close_ends_iteration_after_the_last_value() -> None:
    w = Watch("a")
    sub = w.subscribe()
    w.set("b")
    w.close()
    assert list(sub) == ["b"]
    with pytest.raises(WatchClosedError):
        sub.next(0)


def test_asyncio_subscribers_wait_without_blocking_their_loop() -> None:
    w = Watch(0)

    async def scenario() -> list[int]:
        sub = w.subscribe()
        seen = [await sub.anext()]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        tick_task = asyncio.create_task(ticker())
        threading.Timer(0.05, w.set, (7,)).start()
        seen.append(await sub.anext(timeout=5))
        tick_task.cancel()
        assert ticks > 5  # the loop kept running while the subscriber waited
        threading.Timer(0.01, w.close).start()
        seen.extend([v async for v in sub])
        return seen

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) == [0, 7]


def test_cancelling_an_asyncio_subscriber_always_cancels_it() -> None:
    """Even when a new value wakes it at that very moment (``asyncio.wait_for`` of Python 3.11
    returned the value and dropped the cancellation there)."""

    async def attempt(steps: int) -> tuple[bool, bool]:
        w = Watch(0)
        sub = w.subscribe()
        await sub.anext()
        task = asyncio.create_task(sub.anext(timeout=5))
        for _ in range(3):
            await asyncio.sleep(0)  # the subscriber is waiting
        w.set(1)
        for _ in range(steps):
            await asyncio.sleep(0)  # the wake-up travels through the loop
        requested = task.cancel()
        await asyncio.wait({task})
        return requested, task.cancelled()

    async def scenario() -> list[tuple[bool, bool]]:
        return [await attempt(steps) for steps in range(12)]

    outcomes = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert any(requested for requested, _ in outcomes)  # some attempts did hit the race window
    assert all(cancelled for requested, cancelled in outcomes if requested), outcomes
