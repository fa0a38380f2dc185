"""Relative time for the lease feature: an unbounded horizon in a finite state space.

With `max_clock = 0` the lease model has no last tick. Every time value (clocks, lease
deadlines, round send times, heartbeat stamps) is kept relative to the slowest clock, and a value
that can no longer change the outcome is replaced by one canonical value. This is the zone
normalisation of timed automata, specialised to this spec. `Normalize` maps states that no
step, guard or property can tell apart to one state, so the quotient has the same reachable
behaviours (tests/spec/test_relative_time.py checks this against the bounded absolute-clock
model, which is the one RaftElectionFeatures.tla mirrors for TLC).

Why each rule is exact:
- Shift (the slowest clock to `origin`): every guard and property compares two time values
  (`clock[i] < lease_until[i]`, `clock[i] > round_at[i]`, stamp = round) or adds a constant to
  one; none reads a clock alone.
- An expired deadline (`lease_until[i] <= clock[i]`) stays expired (clocks only grow) and is
  only ever raised with `max`, so every expired value acts like 0.
- Init starts every clock at `origin`, the normal form of "all clocks equal".
- A dead round (`round_at[i] + lease_ticks <= clock[i]`) can only yield a lease that is already
  over, so its time and its acks are irrelevant: it becomes DEAD with only the leader's own ack.
  Under `lease-from-receive-time` a round's acks grant a lease whatever its age, so an old round
  is clamped to origin - 1 instead, which keeps every comparison it takes part in.
- A heartbeat stamp can only matter while it equals its leader's current round in the same term;
  any other stamp never matches again (rounds only move forward) and becomes STALE.

`--reduce` shrinks the lease model further, soundly but not exactly: features/reduce.py.
"""

from __future__ import annotations

from electorate.spec.features.lease import timed
from electorate.spec.messages import Bag, Message, MType
from electorate.spec.params import Params
from electorate.spec.state import Role, State


def relative(p: Params) -> bool:
    """The lease model runs on relative time (no max_clock bound; a liveness model's lease has
    no clocks at all)."""
    return timed(p) and p.knobs.max_clock == 0


def origin(p: Params) -> int:
    """Where the slowest clock stands after normalising: lease_ticks + 1, so that every stored
    time is positive. Negative values would be unsafe to fingerprint: CPython hashes -1 and -2
    alike, and the checker keeps only hashes of states."""
    return p.knobs.lease_ticks + 1


def dead_round(p: Params) -> int:
    """The one value of a round that can no longer grant a lease (its lease ends at origin)."""
    return origin(p) - p.knobs.lease_ticks


def stale_stamp(p: Params) -> int:
    """The one stamp of a heartbeat that no round will ever match (below any round value)."""
    return 0


def Normalize(p: Params, s: State) -> State:
    """The canonical state of s's class: times relative to the slowest clock, dead values merged."""
    d = min(s.clock) - origin(p)
    clock = tuple(c - d for c in s.clock)
    lease = tuple(v - d if v - d > c else 0 for v, c in zip(s.lease_until, clock, strict=True))
    round_at, round_acked = _rounds(p, s, d, clock)
    messages = _stamps(p, s, d, round_at)
    t = s._replace(
        clock=clock,
        lease_until=lease,
        round_at=round_at,
        round_acked=round_acked,
        messages=messages,
    )
    return s if t == s else t


def _rounds(
    p: Params, s: State, d: int, clock: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ticks = p.knobs.lease_ticks
    from_receive = p.bug == "lease-from-receive-time"
    rounds, acked = list(s.round_at), list(s.round_acked)
    for i, role in enumerate(s.role):
        if role != Role.Leader:
            continue  # not a leader: its round fields are 0 already (variables.clear_role_vars)
        r = s.round_at[i] - d
        if from_receive:
            r = max(r, origin(p) - 1)
        elif r + ticks <= clock[i]:
            r, acked[i] = dead_round(p), 1 << i
        rounds[i] = r
    return tuple(rounds), tuple(acked)


def _stamps(p: Params, s: State, d: int, round_at: tuple[int, ...]) -> Bag:
    """Heartbeat stamps: the (normalised) current round of their leader, or STALE."""
    changed = False
    counts: dict[Message, int] = {}
    for m, n in s.messages:
        new = _stamp(p, s, d, round_at, m)
        if new != m.msent_at:
            m, changed = m._replace(msent_at=new), True
        counts[m] = counts.get(m, 0) + n
    if not changed:
        return s.messages
    return tuple(sorted(counts.items()))


def _stamp(p: Params, s: State, d: int, round_at: tuple[int, ...], m: Message) -> int:
    if m.mtype == MType.AppendEntriesRequest:
        leader = m.msource
    elif m.mtype == MType.AppendEntriesResponse and m.msuccess:
        leader = m.mdest
    else:
        return m.msent_at  # no stamp (0): vote traffic and refusals never count to a lease
    current = (
        s.role[leader] == Role.Leader
        and s.current_term[leader] == m.mterm
        and m.msent_at == s.round_at[leader]
    )
    return round_at[leader] if current else stale_stamp(p)
