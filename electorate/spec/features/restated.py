r"""raft.tla's actions that the features change, each built on the canonical one.

As RaftElectionFeatures.tla restates `FBecomeLeader == BecomeLeader(i) /\ ...`, each function
here calls the action of spec/actions.py and adds the features' bookkeeping; spec/next.py puts
it in the action table in place of the canonical one whenever a feature is on. ElectionTimer,
the timer every feature makes explicit, is here too: a follower's branch for all features, a
leader's for CheckQuorum.

Deviation from raft.tla, stated once: with features, Timeout is enabled only while a server has
heard no live leader (its timer may run out), where raft.tla lets any follower time out at any
step; Restart and the heartbeat handlers set or clear that.
"""

from __future__ import annotations

from electorate.spec import actions
from electorate.spec.features import check_quorum, lease, prevote
from electorate.spec.features.variables import (
    as_follower,
    clear_role_vars,
    hear_leader,
    lose_leader,
    sticky,
)
from electorate.spec.messages import Message, MType
from electorate.spec.params import Params
from electorate.spec.state import Except, ExceptOn, Role, State

# ---- Server actions -------------------------------------------------------------------------


def Restart(p: Params, s: State, i: int) -> State:
    """Server i restarts from stable storage, its feature bookkeeping cleared.

    With a lease it behaves as inside one until its deadline (impl's guard: it may have
    acknowledged a heartbeat just before crashing); without, its untimed timer may run out at
    any later step. TLA+: FRestart(i).
    """
    t = clear_role_vars(actions.Restart(p, s, i), i)
    if p.has("lease"):  # its promise; hear_leader sets a deadline only where clocks tick
        t = hear_leader(p, t, i)
    elif s.role[i] == Role.Leader:
        t = t._replace(heard_leader=Except(t.heard_leader, i, False))
    return s if t == s else t


def Timeout(p: Params, s: State, i: int) -> State | None:
    """Server i's election timer has run out (no live leader heard): PreVote, or an election.

    TLA+: FTimeout(i). Deviation from raft.tla, whose Timeout is enabled for any follower or
    candidate at any step: with features the timer runs out only while i has heard no live
    leader (heard_leader, set by heartbeats and cleared by ElectionTimer).
    """
    if s.heard_leader[i] or s.role[i] == Role.Leader:
        return None
    if not p.has("prevote") or p.bug == "no-prevote-disruption":
        return actions.Timeout(p, as_follower(s, i), i)  # straight to candidate, term + 1
    return prevote.PreVoteTimeout(p, s, i)


def BecomeLeader(p: Params, s: State, i: int) -> State | None:
    """Candidate i becomes leader; it is inside its own lease and starts heartbeat round 1.

    TLA+: FBecomeLeader(i).
    """
    t = actions.BecomeLeader(p, s, i)
    if t is None:
        return None
    t = t._replace(
        heard_leader=ExceptOn(t.heard_leader, i, True),
        acked=ExceptOn(t.acked, i, 1 << i),
        quiet=ExceptOn(t.quiet, i, False),
    )
    return lease.begin_round(p, t, i, 0) if lease.timed(p) else t


def AppendEntries(p: Params, s: State, i: int, j: int) -> State | None:
    """Leader i sends j a heartbeat of its current round (stamped with the round's send time).

    TLA+: FAppendEntries(i, j).
    """
    t = actions.AppendEntries(p, s, i, j)
    if t is None or not lease.timed(p):
        return t
    return lease.stamp(s, t, s.round_at[i])


def ElectionTimer(p: Params, s: State, i: int) -> tuple[str, State] | None:
    """Server i's election timer runs out: a follower forgets its leader, a leader checks.

    A follower's lease check ends (with a lease, no earlier than its deadline); a leader ends a
    CheckQuorum period. TLA+: FollowerTimer(i) \\/ LeaderTimer(i).
    """
    if s.role[i] == Role.Leader:
        return check_quorum.LeaderTimer(p, s, i) if p.has("check_quorum") else None
    if not s.heard_leader[i]:
        return None
    if lease.timed(p) and s.clock[i] < s.lease_until[i]:
        return None
    return "expired", lose_leader(s, i)


# ---- Message handlers: i = recipient, j = sender, m = message ------------------------------


def UpdateTerm(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i sees a newer term and adopts it as a follower that knows no leader of it yet.

    TLA+: FUpdateTerm(i, m).
    """
    t = actions.UpdateTerm(p, s, i, j, m)
    if t is None:
        return None
    if prevote.deposes_unearned(p, s, i, m):
        t = t._replace(unearned_deposition=True)
    return lose_leader(t, i)


def HandleAppendEntriesRequest(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i handles j's heartbeat, noting a live leader if it follows j in j's term.

    From the leader of its own term, as follower, i has heard a live leader (and its ack names
    the heartbeat's round); a pre-candidate steps down first, keeping m.
    TLA+: FHandleAppendEntriesRequest(i, j, m).
    """
    own_term = m.mterm == s.current_term[i]
    if own_term and s.role[i] == Role.PreCandidate:  # back to follower; m stays
        return clear_role_vars(as_follower(s, i), i)
    t = actions.HandleAppendEntriesRequest(p, s, i, j, m)
    if t is None or not (own_term and s.role[i] == Role.Follower):
        return t
    t = hear_leader(p, t, i)
    return lease.stamp(s, t, m.msent_at) if lease.timed(p) else t


def HandleAppendEntriesResponse(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Leader i heard from j (CheckQuorum); an ack of its current round counts to the lease.

    TLA+: FHandleAppendEntriesResponse(i, j, m).
    """
    t = actions.HandleAppendEntriesResponse(p, s, i, j, m)
    if t is None or s.role[i] != Role.Leader:
        return t
    if p.has("check_quorum"):
        t = check_quorum.count_ack(t, i, j)
    return lease.count_ack(p, t, i, m) if lease.timed(p) else t


def keeps_lease_promise(p: Params, s: State, i: int, m: Message) -> bool:
    """A follower inside a live leader's lease adopts a newer term only from that term's leader.

    Its ack promised to vote for nobody until its deadline; adopting a newer term from a vote
    response (say a late refusal of its own old vote request) would wipe that promise, and it
    could then vote a rival in while the old leader still holds its lease. Found with the
    LeaseBacked lemma: docs/failure-modes.md, "A lease hole found by the model".
    TLA+: KeepsLeasePromise(i, m).
    """
    newer = m.mterm > s.current_term[i] and m.mtype != MType.AppendEntriesRequest
    return newer and sticky(p) and s.heard_leader[i] and s.role[i] != Role.Leader


def Receive(p: Params, s: State, m: Message) -> tuple[str, State] | None:
    """Server m.mdest receives m: pre-votes and lease promises first, then raft.tla's handlers.

    raft.tla's handlers are restated where the features keep books. TLA+: FReceive(m). At most
    one disjunct is enabled for a given m and state.
    """
    i, j = m.mdest, m.msource
    if m.mpre_vote and m.mtype == MType.RequestVoteRequest:
        return prevote.HandlePreVoteRequest(p, s, i, j, m)
    newer = m.mterm > s.current_term[i]
    if newer and m.mtype == MType.RequestVoteRequest and sticky(p) and s.heard_leader[i]:
        return "IgnoreVoteRequestInLease", actions.Discard(m, s)
    if keeps_lease_promise(p, s, i, m):
        return "IgnoreNewerTermInLease", actions.Discard(m, s)
    if not (m.mpre_vote and m.mvote_granted):  # a granted pre-vote names a term not yet held
        t = UpdateTerm(p, s, i, j, m)
        if t is not None:
            return "UpdateTerm", t
    if m.mpre_vote:
        return prevote.HandlePreVoteResponse(p, s, i, j, m)
    if m.mtype == MType.RequestVoteRequest:
        t = actions.HandleRequestVoteRequest(p, s, i, j, m)
        return None if t is None else ("HandleRequestVoteRequest", t)
    if m.mtype == MType.AppendEntriesRequest:
        t = HandleAppendEntriesRequest(p, s, i, j, m)
        return None if t is None else ("HandleAppendEntriesRequest", t)
    t = actions.DropStaleResponse(p, s, i, j, m)
    if t is not None:
        return "DropStaleResponse", t
    if m.mtype == MType.RequestVoteResponse:
        t = actions.HandleRequestVoteResponse(p, s, i, j, m)
        return None if t is None else ("HandleRequestVoteResponse", t)
    t = HandleAppendEntriesResponse(p, s, i, j, m)
    return None if t is None else ("HandleAppendEntriesResponse", t)
