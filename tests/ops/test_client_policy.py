"""The failover policy on virtual time: breakers, backoff, hints, deadline; and discovery."""

from __future__ import annotations

import pytest

from electorate.client import NotLeaderError, RetryPolicy
from electorate.client.discovery import leader_from
from electorate.client.policy import (
    BreakerState,
    Call,
    CircuitBreaker,
    Discover,
    GiveUp,
    LeaderInfo,
    Router,
    Try,
    Wait,
)

pytestmark = pytest.mark.timeout(30)

NODES = ["n1", "n2", "n3"]


def state(b: CircuitBreaker) -> BreakerState:
    return b.state  # read through a call: mypy would narrow the attribute between asserts


def test_a_breaker_opens_after_the_threshold_and_lets_one_trial_through_later() -> None:
    moves: list[BreakerState] = []
    b = CircuitBreaker(failure_threshold=2, reset_after=1.0, on_transition=moves.append)
    assert b.allow(0.0)
    b.failure(0.0)
    assert state(b) is BreakerState.CLOSED and b.allow(0.1)
    b.failure(0.1)
    assert state(b) is BreakerState.OPEN
    assert not b.allow(1.0)  # 0.9 s after opening
    assert b.allow(1.1) and state(b) is BreakerState.HALF_OPEN  # the one trial
    assert not b.allow(1.1)  # no second request while the trial runs
    b.failure(1.2)
    assert state(b) is BreakerState.OPEN and not b.allow(2.1)
    assert b.allow(2.2)
    b.success()
    assert state(b) is BreakerState.CLOSED and b.allow(2.2) and b.allow(2.2)
    assert moves == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


def test_a_trial_ended_by_an_application_error_frees_the_half_open_breaker() -> None:
    b = CircuitBreaker(failure_threshold=1, reset_after=1.0)
    b.failure(0.0)
    assert b.allow(1.0) and not b.allow(1.0)
    b.release()
    assert b.allow(1.0)


def _call(router: Router, now: float = 0.0) -> Call:
    return Call(router, now)


def test_a_hint_is_followed_at_once_and_hops_are_bounded() -> None:
    router = Router(NODES, RetryPolicy(max_hops=2), seed=1)
    router.learn("n1", 1)
    call = _call(router)
    assert call.next(0.0) == Try("n1")
    call.not_leader("n1", NotLeaderError("n2", 2))
    assert call.next(0.0) == Try("n2")  # no wait, no discovery
    call.not_leader("n2", NotLeaderError("n1", 2))
    assert call.next(0.0) == Try("n1")
    call.not_leader("n1", NotLeaderError("n2", 2))  # a third hop is refused: pause instead
    step = call.next(0.0)
    assert isinstance(step, Wait)
    assert call.next(step.seconds) == Discover()
    assert call.attempts == 3


def test_an_unreachable_leader_is_forgotten_then_discovered_again_after_a_backoff() -> None:
    router = Router(NODES, RetryPolicy(), seed=1)
    router.learn("n1", 3)
    call = _call(router)
    assert call.next(0.0) == Try("n1")
    call.failed("n1", ConnectionRefusedError(), 0.01)
    assert router.leader is None
    wait = call.next(0.01)
    assert isinstance(wait, Wait) and 0 <= wait.seconds <= RetryPolicy().backoff_base
    assert call.next(0.02) == Discover()
    call.discovered(LeaderInfo("n2", 4, confirmed=True))
    assert call.next(0.03) == Try("n2")
    call.succeeded("n2")
    assert router.leader == "n2"


def test_backoff_grows_within_its_cap_and_replays_with_the_seed() -> None:
    policy = RetryPolicy(deadline=1000, max_attempts=1000, backoff_base=0.01, backoff_cap=0.2)

    def waits(seed: int) -> list[float]:
        call = _call(Router(NODES, policy, seed=seed))
        out: list[float] = []
        now = 0.0
        while len(out) < 12:
            step = call.next(now)
            if isinstance(step, Discover):
                call.discovered(None)
            elif isinstance(step, Wait):
                out.append(step.seconds)
                now += step.seconds
        return out

    a, b = waits(7), waits(7)
    assert a == b and waits(8) != a
    assert all(0 <= w <= min(0.2, 0.01 * 2**i) for i, w in enumerate(a))
    assert max(a[6:]) > 0.01  # grew past the base


def test_a_call_gives_up_at_its_deadline_or_after_its_attempts() -> None:
    router = Router(NODES, RetryPolicy(deadline=1.0, max_attempts=2, failure_threshold=10))
    router.learn("n1", 1)
    call = _call(router)
    assert call.next(0.0) == Try("n1")
    call.failed("n1", ConnectionRefusedError(), 0.0)
    assert isinstance(call.next(0.0), Wait)
    assert call.next(0.1) == Discover()
    call.discovered(LeaderInfo("n1", 1, confirmed=False))
    assert call.next(0.1) == Try("n1")
    call.failed("n1", TimeoutError(), 0.2)
    step = call.next(0.3)
    assert isinstance(step, GiveUp) and step.error.attempts == 2
    assert "2 attempts" in str(step.error) and isinstance(step.error.last, TimeoutError)

    late = _call(router, now=0.0)
    step = late.next(1.0)
    assert isinstance(step, GiveUp) and "deadline" in str(step.error)


def test_an_open_breaker_sends_the_call_to_discovery_instead() -> None:
    router = Router(NODES, RetryPolicy(failure_threshold=1, reset_after=5.0), seed=3)
    router.learn("n1", 1)
    router.failed("n1", 0.0)  # open
    router.learn("n1", 1)  # a stale hint names it again
    call = _call(router)
    assert call.next(0.1) == Discover()


def test_discovery_prefers_a_confirmed_leader_then_the_majority_of_answering_nodes() -> None:
    def doc(term: int, leader: str | None, is_leader: bool = False) -> dict[str, object]:
        return {"term": term, "leader": leader, "is_leader": is_leader}

    # Two claim a lease (a deposed leader's runs out): the higher term wins.
    both = {"n1": doc(3, "n1", True), "n2": doc(4, "n2", True), "n3": doc(4, "n2")}
    assert leader_from(both) == LeaderInfo("n2", 4, confirmed=True)
    # Nobody holds a lease right now: the leader named in the highest term, unconfirmed.
    named = {"n2": doc(5, "n3"), "n3": doc(5, "n3")}
    assert leader_from(named) == LeaderInfo("n3", 5, confirmed=False)
    # The followers of a dead leader still name it; it did not answer: no leader.
    dead = {"n2": doc(5, "n1"), "n3": doc(5, "n1")}
    assert leader_from(dead) is None
    assert leader_from({}) is None


def test_not_leader_errors_travel_as_json() -> None:
    err = NotLeaderError("n2", 7)
    back = NotLeaderError.from_json(err.to_json())
    assert back is not None and (back.leader_hint, back.term) == ("n2", 7)
    assert NotLeaderError.from_json(NotLeaderError(None, 3).to_json()) is not None
    for junk in (b"", b"[]", b'{"error": "other"}', b'{"error": "not_leader", "term": "x"}'):
        assert NotLeaderError.from_json(junk) is None


def test_bad_policies_are_refused() -> None:
    for bad in (
        RetryPolicy(deadline=0),
        RetryPolicy(max_attempts=0),
        RetryPolicy(backoff_base=1.0, backoff_cap=0.5),
        RetryPolicy(failure_threshold=0),
    ):
        with pytest.raises(ValueError):
            Router(NODES, bad)
