"""CheckQuorum (Raft thesis §6.2): a leader that has not heard from a quorum steps down.

A leader counts the followers it heard from (`acked`); each time its own timer runs out it ends
a period, and without a quorum in it the leader steps down, so a leader cut off from the majority
does not lead on beside a newly elected one. Voters inside a live leader's period refuse votes
("sticky", spec/features/variables.py). The ghost variable `quiet` records a period ended
without a quorum, for the properties below.
"""

from __future__ import annotations

from electorate.spec.actions import IsQuorum
from electorate.spec.features.variables import as_follower, lose_leader
from electorate.spec.params import Params
from electorate.spec.state import Except, Role, State


def LeaderTimer(p: Params, s: State, i: int) -> tuple[str, State] | None:
    """Leader i's timer runs out: it ends a CheckQuorum period, stepping down without a quorum.

    TLA+: LeaderTimer(i); the Python label says which way it went.
    """
    if s.role[i] != Role.Leader:
        return None
    own = Except(s.acked, i, 1 << i)  # the next period starts with the leader's own ack
    if IsQuorum(p, s.acked[i]):
        return "quorum heard", s._replace(acked=own)
    if p.bug == "no-check-quorum-zombie":  # bug: the leader never checks; it leads on
        return "no quorum, keeps leading", s._replace(acked=own, quiet=Except(s.quiet, i, True))
    t = lose_leader(as_follower(s, i), i)
    return "no quorum, steps down", t._replace(quiet=Except(t.quiet, i, True))


def count_ack(s: State, i: int, j: int) -> State:
    """Leader i heard from j in this period (an AppendEntries response of its term)."""
    return s._replace(acked=Except(s.acked, i, s.acked[i] | 1 << j))


# ---- Properties (spec/properties.py lists them) ----------------------------------------------


def CheckQuorumStepDown(p: Params, s: State) -> bool:
    """A leader that ends a CheckQuorum period (one step of its own timer) without having heard
    from a quorum is no longer leader: an isolated leader is gone after at most two timer
    steps (the first may still count acks from before the partition)."""
    return not any(q and r == Role.Leader for q, r in zip(s.quiet, s.role, strict=True))


def CheckQuorumFired(p: Params, s: State) -> bool:
    """Sometimes: a leader ended a CheckQuorum period without a quorum."""
    return any(s.quiet)


def ZombieBesideNewLeader(p: Params, s: State) -> bool:
    """Witness goal (no-check-quorum-zombie): a leader that ended a period without hearing a
    quorum still leads while a leader of a newer term was elected beside it."""
    for i, (quiet, role) in enumerate(zip(s.quiet, s.role, strict=True)):
        if quiet and role == Role.Leader:
            newer = [j for j, t in enumerate(s.current_term) if t > s.current_term[i]]
            if any(s.role[j] == Role.Leader for j in newer):
                return True
    return False
