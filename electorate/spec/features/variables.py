"""The feature variables: which ones a feature set uses, their initial values, shared updates.

A feature's variables are empty tuples while it is off, so the states of a smaller feature set
stay small (`ExceptOn` leaves such a variable empty). `heard_leader` is kept by every feature:
the election timer is an explicit action with features, and it only runs out when no live
leader was heard (TLA+: RaftElectionFeatures.tla's heardLeader).
"""

from __future__ import annotations

from electorate.spec.features.lease import timed
from electorate.spec.features.relative_time import origin, relative
from electorate.spec.params import Params
from electorate.spec.state import Except, ExceptOn, Role, State


def sticky(p: Params) -> bool:
    """Voters inside a live leader's lease refuse real votes (CheckQuorum; leases need it;
    the untimed lease of a liveness model is this promise alone: features/lease.py).

    TLA+: Sticky.
    """
    return p.has("check_quorum") or p.has("lease")


def Init(p: Params, s: State) -> State:
    """raft.tla's Init with the features' variables: nobody has heard a leader, clocks level.

    TLA+: FInit (there every variable exists; here those of a feature that is off stay empty).
    """
    n = p.servers
    zeros, falses = (0,) * n, (False,) * n
    check_quorum, lease = p.has("check_quorum"), timed(p)
    clock = (origin(p),) * n if relative(p) else zeros
    return s._replace(
        heard_leader=falses,
        prevotes_granted=zeros if p.has("prevote") else (),
        acked=zeros if check_quorum else (),
        quiet=falses if check_quorum else (),
        clock=clock if lease else (),
        lease_until=zeros if lease else (),
        round_at=zeros if lease else (),
        round_acked=zeros if lease else (),
    )


def as_follower(s: State, i: int) -> State:
    return s._replace(role=Except(s.role, i, Role.Follower))


def clear_role_vars(s: State, i: int) -> State:
    """Forget i's leader and pre-candidate bookkeeping once i is neither (role already set).

    TLA+: ClearLeader(i), and prevotesGranted[i] emptied.
    """
    role = s.role[i]
    prevotes = s.prevotes_granted
    if role != Role.PreCandidate:
        prevotes = ExceptOn(prevotes, i, 0)
    if role == Role.Leader:
        return s._replace(prevotes_granted=prevotes)
    return s._replace(
        prevotes_granted=prevotes,
        acked=ExceptOn(s.acked, i, 0),
        round_at=ExceptOn(s.round_at, i, 0),
        round_acked=ExceptOn(s.round_acked, i, 0),
        lease_until=ExceptOn(s.lease_until, i, 0),
    )


def lose_leader(s: State, i: int) -> State:
    """i no longer knows a live leader: out of any lease, its timer free to run out."""
    t = s._replace(
        heard_leader=ExceptOn(s.heard_leader, i, False),
        lease_until=ExceptOn(s.lease_until, i, 0),
    )
    return clear_role_vars(t, i)


def hear_leader(p: Params, s: State, i: int) -> State:
    """i heard from a live leader (or restarted): no vote, no timeout for an election period."""
    lease_until = s.lease_until
    if timed(p):
        lease_until = Except(lease_until, i, s.clock[i] + p.knobs.election_ticks)
    return s._replace(heard_leader=ExceptOn(s.heard_leader, i, True), lease_until=lease_until)
