"""The leader lease (Raft thesis §6.4.1): reads served by a leader no rival can have replaced.

Every server has a discrete clock (`Tick`, no two more than `drift` ticks apart). A leader sends
heartbeats in rounds stamped with the round's start on its clock; once a quorum acked a round,
it holds a lease until that start plus `lease_ticks`. A follower that acked promises to vote for
nobody until its own deadline, `election_ticks` after the heartbeat on its own clock, and
`lease_ticks = election_ticks - 2 * drift` keeps the lease inside every such promise. Clocks are
unbounded in relative time (features/relative_time.py) or bounded by `max_clock`.

In a liveness model (a topology, spec/liveness/) the lease is untimed (`timed` is false): no
clocks, rounds or stamps, only the follower's promise. A follower that heard the leader of its
term (`heard_leader`) ignores vote requests and messages of a newer term, and the leader vote
requests (features/restated.py, as with CheckQuorum: `sticky`), until its timer runs out, and
when that may happen is stated by the timing assumptions (spec/liveness/timing.py, T1) instead
of a deadline in ticks. The leader's side of the lease (reads while a quorum's promises last)
changes no role or term, so the liveness properties do not read it. docs/liveness.md, "The
lease", says why this is sound.
"""

from __future__ import annotations

from electorate.spec.actions import IsQuorum
from electorate.spec.messages import Message, WithMessage, WithoutMessage
from electorate.spec.params import Params
from electorate.spec.state import Except, Role, State


def timed(p: Params) -> bool:
    """The lease keeps clocks, rounds and stamps: in the safety models, not in a liveness model
    (there the timing assumptions bound the follower's promise instead; module doc)."""
    return p.has("lease") and p.topology is None


def Tick(p: Params, s: State, i: int) -> State | None:
    """Server i's clock advances one tick, within the drift bound (and max_clock, if set).

    TLA+: Tick(i).
    """
    k = p.knobs
    now = s.clock[i]
    if (k.max_clock and now >= k.max_clock) or now + 1 - min(s.clock) > k.drift:
        return None
    return s._replace(clock=Except(s.clock, i, now + 1))


def HeartbeatRound(p: Params, s: State, i: int) -> State | None:
    """Leader i begins a new heartbeat round at its current clock.

    TLA+: HeartbeatRound(i).
    """
    if s.role[i] != Role.Leader or s.clock[i] <= s.round_at[i]:
        return None
    return begin_round(p, s, i, s.lease_until[i])


def begin_round(p: Params, s: State, i: int, lease_until: int) -> State:
    """Leader i's round starts now, acked by i alone; its lease so far is `lease_until`."""
    return grant(
        p,
        s._replace(
            round_at=Except(s.round_at, i, s.clock[i]),
            round_acked=Except(s.round_acked, i, 1 << i),
            lease_until=Except(s.lease_until, i, lease_until),
        ),
        i,
    )


def grant(p: Params, s: State, i: int) -> State:
    """A quorum acked leader i's current round: lease until the round's send time + lease.

    TLA+: LeaseAfter(i, acks).
    """
    if not IsQuorum(p, s.round_acked[i]):
        return s
    start = s.round_at[i]
    if p.bug == "lease-from-receive-time":  # bug: measured from the ack's arrival
        start = s.clock[i]
    until = max(s.lease_until[i], start + p.knobs.lease_ticks)
    return s._replace(lease_until=Except(s.lease_until, i, until))


def count_ack(p: Params, s: State, i: int, m: Message) -> State:
    """Leader i got a response m: a successful ack of its current round counts to the lease."""
    if not m.msuccess or m.msent_at != s.round_at[i]:
        return s
    acked = Except(s.round_acked, i, s.round_acked[i] | 1 << m.msource)
    return grant(p, s._replace(round_acked=acked), i)


def stamp(before: State, after: State, sent_at: int) -> State:
    """Stamp the message(s) a step sent with msent_at (the round a heartbeat or ack belongs to).

    The canonical action builds its message without a stamp; the lease adds the field (TLA+:
    msentAt, written where the message is built).
    """
    old = dict(before.messages)
    msgs = after.messages
    for m, c in after.messages:
        if c > old.get(m, 0) and m.msent_at != sent_at:
            msgs = WithMessage(m._replace(msent_at=sent_at), WithoutMessage(m, msgs))
    return after._replace(messages=msgs)


# ---- Properties (spec/properties.py lists them) ----------------------------------------------


def is_leader(p: Params, s: State, i: int) -> bool:
    """The application's view (impl's `is_leader()`): leader and inside its lease.

    TLA+: IsLeaderView(i).
    """
    return s.role[i] == Role.Leader and s.clock[i] < s.lease_until[i]


def LeaseSafety(p: Params, s: State) -> bool:
    """At no time do two servers both see is_leader true (given the drift bound)."""
    return sum(is_leader(p, s, i) for i in range(p.servers)) <= 1


def LeaseBacked(p: Params, s: State) -> bool:
    """While a leader has is_leader, a quorum (it and followers of its term inside its lease)
    will vote for nobody else: the lemma behind LeaseSafety, checked at every state."""
    for i in range(p.servers):
        if is_leader(p, s, i):
            term = s.current_term[i]
            mask = 1 << i
            for j in range(p.servers):
                if s.current_term[j] == term and s.heard_leader[j] and s.role[j] == Role.Follower:
                    mask |= 1 << j
            if not IsQuorum(p, mask):
                return False
    return True


def LeaseHeld(p: Params, s: State) -> bool:
    """Sometimes: some leader holds a lease."""
    return any(is_leader(p, s, i) for i in range(p.servers))
