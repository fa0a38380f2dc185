"""The actions of issue 3's features, each built on the canonical action it extends.

Same conventions as spec/actions.py: guards first, then the one new state, or None when the
action is disabled. Bug variants of the features are read here, where it says `p.bug == ...`.
"""

from __future__ import annotations

from electorate.spec import actions
from electorate.spec.actions import IsQuorum
from electorate.spec.ext_state import clear_role_vars, hear_leader, lose_leader, put, sticky
from electorate.spec.messages import Message, MType, WithMessage, WithoutMessage
from electorate.spec.params import Params, lease_knobs
from electorate.spec.state import NIL, Except, LastTerm, Role, State


def _as_follower(s: State, i: int) -> State:
    return s._replace(role=Except(s.role, i, Role.Follower))


def _retag(before: State, after: State, sent_at: int) -> State:
    """Stamp the message(s) a step sent with msent_at (the lease's heartbeat send time)."""
    old = dict(before.messages)
    msgs = after.messages
    for m, c in after.messages:
        if c > old.get(m, 0) and m.msent_at != sent_at:
            msgs = WithMessage(m._replace(msent_at=sent_at), WithoutMessage(m, msgs))
    return after._replace(messages=msgs)


# ---- Server actions -------------------------------------------------------------------------


def Restart(p: Params, s: State, i: int) -> State:
    """Server i restarts. With a lease it behaves as inside one until its deadline (impl's
    guard: it may have acknowledged a heartbeat just before crashing). Without a lease its
    timer is not reset: the untimed timer may run out at any step after, as the guard allows.
    """
    t = clear_role_vars(actions.Restart(p, s, i), i)
    if s.role[i] == Role.Leader:
        t = put(t, "heard_leader", i, False)
    if p.has("lease"):
        t = hear_leader(p, t, i)
    return s if t == s else t


def Timeout(p: Params, s: State, i: int) -> State | None:
    """Server i's election timer has run out (no live leader heard): PreVote, or an election."""
    if s.heard_leader[i] or s.role[i] == Role.Leader:
        return None
    if not p.has("prevote") or p.bug == "no-prevote-disruption":
        return actions.Timeout(p, _as_follower(s, i), i)  # straight to candidate, term + 1
    term, voted = s.current_term[i], s.voted_for[i]
    if p.bug == "prevote-bumps-term":  # bug: the pre-candidate bumps its own term
        term, voted = term + 1, NIL
    t = s._replace(
        role=Except(s.role, i, Role.PreCandidate),
        current_term=Except(s.current_term, i, term),
        voted_for=Except(s.voted_for, i, voted),
        votes_responded=Except(s.votes_responded, i, 0),
        votes_granted=Except(s.votes_granted, i, 0),
    )
    return put(t, "prevotes_granted", i, 0)


def RequestPreVote(p: Params, s: State, i: int, j: int) -> State | None:
    """Pre-candidate i asks j (possibly itself) whether it would vote for i in term + 1."""
    if s.role[i] != Role.PreCandidate or s.prevotes_granted[i] >> j & 1:
        return None
    m = Message(
        MType.RequestVoteRequest,
        s.current_term[i] + 1,
        i,
        j,
        mlast_log_term=LastTerm(s.log[i]),
        mlast_log_index=len(s.log[i]),
        mpre_vote=True,
    )
    return actions.Send(m, s)


def StartElection(p: Params, s: State, i: int) -> State | None:
    """Pre-candidate i, granted pre-votes by a quorum, starts the real election (term + 1)."""
    if s.role[i] != Role.PreCandidate or not IsQuorum(p, s.prevotes_granted[i]):
        return None
    t = actions.Timeout(p, _as_follower(s, i), i)
    assert t is not None
    t = put(t, "prevotes_granted", i, 0)
    return t._replace(earned_terms=t.earned_terms | 1 << t.current_term[i])


def BecomeLeader(p: Params, s: State, i: int) -> State | None:
    """Candidate i becomes leader; it is inside its own lease and starts heartbeat round 1."""
    t = actions.BecomeLeader(p, s, i)
    if t is None:
        return None
    t = put(put(put(t, "heard_leader", i, True), "acked", i, 1 << i), "quiet", i, False)
    if p.has("lease"):
        t = put(put(t, "round_at", i, t.clock[i]), "round_acked", i, 1 << i)
        t = _maybe_lease(p, put(t, "lease_until", i, 0), i)
    return t


def AppendEntries(p: Params, s: State, i: int, j: int) -> State | None:
    """Leader i sends j a heartbeat of its current round (stamped with the round's send time)."""
    t = actions.AppendEntries(p, s, i, j)
    if t is None or not p.has("lease"):
        return t
    return _retag(s, t, s.round_at[i])


def HeartbeatRound(p: Params, s: State, i: int) -> State | None:
    """Leader i begins a new heartbeat round at its current clock (lease)."""
    if s.role[i] != Role.Leader or s.clock[i] <= s.round_at[i]:
        return None
    t = put(put(s, "round_at", i, s.clock[i]), "round_acked", i, 1 << i)
    return _maybe_lease(p, t, i)


def ElectionTimer(p: Params, s: State, i: int) -> tuple[str, State] | None:
    """Server i's timer runs out: a follower forgets its leader (its lease check ends, with a
    lease no earlier than its deadline); a leader ends a CheckQuorum period."""
    if s.role[i] != Role.Leader:
        if not s.heard_leader[i]:
            return None
        if p.has("lease") and s.clock[i] < s.lease_until[i]:
            return None
        return "expired", lose_leader(s, i)
    if not p.has("check_quorum"):
        return None
    if IsQuorum(p, s.acked[i]):
        return "quorum heard", put(s, "acked", i, 1 << i)
    if p.bug == "no-check-quorum-zombie":  # bug: the leader never checks; it leads on
        return "no quorum, keeps leading", put(put(s, "acked", i, 1 << i), "quiet", i, True)
    t = lose_leader(_as_follower(s, i), i)
    return "no quorum, steps down", put(t, "quiet", i, True)


def Tick(p: Params, s: State, i: int) -> State | None:
    """Server i's clock advances one tick, within the drift bound (and max_clock, if set)."""
    k = lease_knobs(p)
    now = s.clock[i]
    if (k.max_clock and now >= k.max_clock) or now + 1 - min(s.clock) > k.drift:
        return None
    return put(s, "clock", i, now + 1)


def _maybe_lease(p: Params, s: State, i: int) -> State:
    """A quorum acked leader i's current round: lease until the round's send time + lease."""
    if not IsQuorum(p, s.round_acked[i]):
        return s
    start = s.round_at[i]
    if p.bug == "lease-from-receive-time":  # bug: measured from the ack's arrival
        start = s.clock[i]
    return put(s, "lease_until", i, max(s.lease_until[i], start + lease_knobs(p).lease_ticks))


# ---- Message handlers ------------------------------------------------------------------------


def Receive(p: Params, s: State, m: Message) -> tuple[str, State] | None:
    """Server m.mdest receives m: pre-vote traffic and the lease check first, then raft.tla's
    handlers with the features' bookkeeping around them."""
    i = m.mdest
    if m.mpre_vote and m.mtype == MType.RequestVoteRequest:
        return HandlePreVoteRequest(p, s, i, m.msource, m)
    term = s.current_term[i]
    if m.mtype == MType.RequestVoteRequest and m.mterm > term and sticky(p) and s.heard_leader[i]:
        return "IgnoreVoteRequestInLease", actions.Discard(m, s)
    if _keeps_lease_promise(p, s, i, m):
        return "IgnoreNewerTermInLease", actions.Discard(m, s)
    if m.mpre_vote:
        return HandlePreVoteResponse(p, s, i, m.msource, m)
    leader_of_my_term = m.mtype == MType.AppendEntriesRequest and m.mterm == term
    if leader_of_my_term and s.role[i] == Role.PreCandidate:  # back to follower; m stays
        return "HandleAppendEntriesRequest", clear_role_vars(_as_follower(s, i), i)
    received = actions.Receive(p, s, m)
    if received is None:
        return None
    name, t = received
    if name == "UpdateTerm":
        return name, _after_update_term(p, s, t, i, m)
    if name == "HandleAppendEntriesRequest":
        return name, _after_heartbeat(p, s, t, i, m)
    if name == "HandleAppendEntriesResponse" and s.role[i] == Role.Leader:
        return name, _after_ack(p, t, i, m)
    return name, t


def _keeps_lease_promise(p: Params, s: State, i: int, m: Message) -> bool:
    """A follower inside a live leader's lease adopts a newer term only from that term's leader.

    Its ack promised to vote for nobody until its deadline; adopting a newer term from a vote
    response (say a late refusal of its own old vote request) would wipe that promise, and it
    could then vote a rival in while the old leader still holds its lease. Found with the
    LeaseBacked lemma: docs/failure-modes.md, "A lease hole found by the model".
    """
    newer = m.mterm > s.current_term[i] and m.mtype != MType.AppendEntriesRequest
    return newer and sticky(p) and s.heard_leader[i] and s.role[i] != Role.Leader


def UpdateTerm(p: Params, s: State, i: int, m: Message) -> State | None:
    t = actions.UpdateTerm(p, s, i, m.msource, m)
    return None if t is None else _after_update_term(p, s, t, i, m)


def _after_update_term(p: Params, s: State, t: State, i: int, m: Message) -> State:
    """A newer term: i knows no leader of it yet. The PreVote ghost notes a leader deposed by a
    term no pre-vote quorum opened."""
    if p.has("prevote") and s.role[i] == Role.Leader and not s.earned_terms >> m.mterm & 1:
        t = t._replace(unearned_deposition=True)
    return lose_leader(t, i)


def _after_heartbeat(p: Params, s: State, t: State, i: int, m: Message) -> State:
    """i handled a heartbeat; from the leader of its own term, as follower: leader heard."""
    if m.mterm == s.current_term[i] and s.role[i] == Role.Follower:
        t = hear_leader(p, t, i)
        if p.has("lease"):
            t = _retag(s, t, m.msent_at)  # the ack names the round it acknowledges
    return t


def _after_ack(p: Params, t: State, i: int, m: Message) -> State:
    """Leader i heard from j (CheckQuorum); an ack of its current round counts to the lease."""
    j = m.msource
    if t.role[i] != Role.Leader:
        return t
    if p.has("check_quorum"):
        t = put(t, "acked", i, t.acked[i] | 1 << j)
    if p.has("lease") and m.msuccess and m.msent_at == t.round_at[i]:
        t = _maybe_lease(p, put(t, "round_acked", i, t.round_acked[i] | 1 << j), i)
    return t


def HandlePreVoteRequest(p: Params, s: State, i: int, j: int, m: Message) -> tuple[str, State]:
    """Server i answers j's pre-vote from its current state; its term and vote stay put.

    Inside a live leader's lease a pre-vote of a newer term is dropped unanswered (as the impl
    does); otherwise i grants when it would vote for j in m's term (newer, or equal with its vote
    free) and has heard no live leader.
    """
    term = s.current_term[i]
    if m.mterm > term and s.heard_leader[i]:
        return "IgnorePreVoteInLease", actions.Discard(m, s)
    fresh = m.mterm > term or (m.mterm == term and s.voted_for[i] in (NIL, j))
    grant = fresh and actions.LogOk(p, s, i, m) and not s.heard_leader[i]
    reply = Message(
        MType.RequestVoteResponse,
        m.mterm if grant else term,
        i,
        j,
        mvote_granted=grant,
        mpre_vote=True,
    )
    return "HandlePreVoteRequest", actions.Reply(reply, m, s)


def HandlePreVoteResponse(p: Params, s: State, i: int, j: int, m: Message) -> tuple[str, State]:
    """Pre-candidate i tallies a pre-vote for term + 1; a refusal of a newer term is adopted."""
    if m.mvote_granted:
        if s.role[i] == Role.PreCandidate and m.mterm == s.current_term[i] + 1:
            t = put(s, "prevotes_granted", i, s.prevotes_granted[i] | 1 << j)
            return "HandlePreVoteResponse", actions.Discard(m, t)
        return "DropStalePreVoteResponse", actions.Discard(m, s)
    adopted = UpdateTerm(p, s, i, m)
    if adopted is not None:  # the refusal carries a newer term
        return "UpdateTerm", adopted
    return "DropPreVoteRefusal", actions.Discard(m, s)
