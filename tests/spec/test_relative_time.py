"""Relative time (spec/features/relative_time.py) is exact: it reaches the normalised states of the
absolute-clock model (the one RaftElectionFeatures.tla mirrors), no more and no fewer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from electorate.spec.features import relative_time
from electorate.spec.messages import Message, MType
from electorate.spec.next import Init
from electorate.spec.params import Params
from electorate.spec.state import Role, State

# Two servers, one term: 61,663 relative states (lease alone). Clocks up to 4 ticks already
# reach every relative state, so the absolute model's image must be all of them.
CASES = {
    "lease": Params(servers=2, features=frozenset({"lease"})),
    "lease-from-receive-time": Params(
        servers=2, features=frozenset({"lease"}), bug="lease-from-receive-time"
    ),
}


@pytest.mark.slow  # about 20 s each with the pure-Python spec
@pytest.mark.parametrize("name", sorted(CASES))
def test_relative_states_are_the_normalised_absolute_states(
    name: str, reachable: Callable[[Params], set[State]]
) -> None:
    rel = CASES[name]
    relative = reachable(rel)
    absolute = reachable(
        Params(servers=rel.servers, features=rel.features, bug=rel.bug, max_clock=4)
    )
    image = {relative_time.Normalize(rel, s) for s in absolute}
    assert image - relative == set(), "the absolute model reaches a state relative time misses"
    assert relative - image == set(), "relative time reaches a state the absolute model cannot"
    assert len(absolute) > len(relative)  # the quotient is a real reduction


LEASE = Params(servers=3, features=frozenset({"lease"}))


def _leader_state(**changes: object) -> State:
    s = Init(LEASE)._replace(
        role=(Role.Leader, Role.Follower, Role.Follower), current_term=(2, 2, 2)
    )
    return s._replace(**changes)  # type: ignore[arg-type]


def test_times_shift_to_the_slowest_clock() -> None:
    assert relative_time.origin(LEASE) == 2  # lease_ticks 1 + 1
    s = _leader_state(clock=(5, 4, 5), lease_until=(6, 7, 0), round_at=(5, 0, 0))
    t = relative_time.Normalize(LEASE, s)
    assert t.clock == (3, 2, 3)
    assert t.lease_until == (4, 5, 0)
    assert t.round_at == (3, 0, 0)


def test_every_normalised_time_is_positive(reachable: Callable[[Params], set[State]]) -> None:
    """The checker fingerprints with hash(), and CPython hashes -1 and -2 alike."""
    p = Params(servers=2, features=frozenset({"lease"}), lease_ticks=3, election_ticks=5)
    states = reachable(p)
    times = {
        v
        for s in states
        for v in (*s.clock, *s.lease_until, *s.round_at, *(m.msent_at for m, _ in s.messages))
    }
    assert min(times) >= 0
    assert len(states) == len({hash(s) for s in states})


def test_expired_deadlines_become_zero() -> None:
    s = _leader_state(clock=(3, 3, 4), lease_until=(3, 1, 4))
    assert relative_time.Normalize(LEASE, s).lease_until == (0, 0, 0)


def test_dead_round_forgets_its_time_and_acks() -> None:
    s = _leader_state(clock=(5, 5, 5), round_at=(4, 0, 0), round_acked=(0b011, 0, 0))
    t = relative_time.Normalize(LEASE, s)
    assert t.round_at[0] == relative_time.dead_round(LEASE) == 1
    assert t.round_acked[0] == 0b001


def test_live_round_keeps_its_time_and_acks() -> None:
    p = Params(servers=3, features=frozenset({"lease"}), lease_ticks=2, election_ticks=5)
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower, Role.Follower),
        clock=(5, 5, 5),
        round_at=(4, 0, 0),
        round_acked=(0b011, 0, 0),
    )
    t = relative_time.Normalize(p, s)  # origin 3: shift by 2
    assert (t.clock[0], t.round_at[0], t.round_acked[0]) == (3, 2, 0b011)


def _heartbeat(stamp: int) -> Message:
    return Message(MType.AppendEntriesRequest, 2, 0, 1, msent_at=stamp)


def test_stale_heartbeats_merge_into_one_message() -> None:
    s = _leader_state(
        clock=(4, 4, 4),
        round_at=(4, 0, 0),
        messages=((_heartbeat(2), 1), (_heartbeat(3), 1), (_heartbeat(4), 1)),
    )
    t = relative_time.Normalize(LEASE, s)
    stale = relative_time.stale_stamp(LEASE)
    assert t.messages == ((_heartbeat(stale), 2), (_heartbeat(2), 1))


def test_heartbeat_of_a_deposed_leader_is_stale() -> None:
    s = _leader_state(
        role=(Role.Follower, Role.Follower, Role.Follower),
        clock=(3, 3, 3),
        messages=((_heartbeat(3), 1),),
    )
    t = relative_time.Normalize(LEASE, s)
    assert t.messages == ((_heartbeat(relative_time.stale_stamp(LEASE)), 1),)


def test_receive_time_bug_keeps_old_rounds_distinct_from_stale_stamps() -> None:
    p = Params(servers=3, features=frozenset({"lease"}), bug="lease-from-receive-time")
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower, Role.Follower),
        current_term=(2, 2, 2),
        clock=(6, 6, 6),
        round_at=(1, 0, 0),
        messages=((_heartbeat(1), 1),),
    )
    t = relative_time.Normalize(p, s)
    old = relative_time.origin(p) - 1
    assert t.round_at[0] == old
    assert t.messages == ((_heartbeat(old), 1),)
    assert relative_time.stale_stamp(p) != old


def test_absolute_mode_is_left_alone() -> None:
    p = Params(servers=2, features=frozenset({"lease"}), max_clock=3)
    assert not relative_time.relative(p)
    assert relative_time.relative(Params(servers=2, features=frozenset({"lease"})))
    assert not relative_time.relative(Params(servers=2, features=frozenset({"prevote"})))
