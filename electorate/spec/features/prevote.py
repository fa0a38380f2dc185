"""PreVote (Raft thesis §9.6): a server whose timer runs out first asks whether it could win.

A pre-candidate keeps its term and vote and asks every server, itself included, whether it would
vote for it in term + 1; only with a quorum of yes does it start the real election. So a server
cut off from the majority cannot raise its term and depose a live leader when it rejoins. The
ghost variables `earned_terms` and `unearned_deposition` record the terms pre-vote quorums
opened and whether a leader was ever deposed by another term, for the properties below.
"""

from __future__ import annotations

from electorate.spec import actions
from electorate.spec.actions import IsQuorum, LogOk
from electorate.spec.features.variables import as_follower
from electorate.spec.messages import Message, MType
from electorate.spec.params import Params
from electorate.spec.state import NIL, Except, LastTerm, Role, State


def PreVoteTimeout(p: Params, s: State, i: int) -> State:
    """Server i's timer has run out: it becomes a pre-candidate, its term and vote unchanged.

    TLA+: the pre-vote branch of FTimeout(i) (the restated Timeout checks the guards).
    """
    term, voted = s.current_term[i], s.voted_for[i]
    if p.bug == "prevote-bumps-term":  # bug: the pre-candidate bumps its own term
        term, voted = term + 1, NIL
    return s._replace(
        role=Except(s.role, i, Role.PreCandidate),
        current_term=Except(s.current_term, i, term),
        voted_for=Except(s.voted_for, i, voted),
        votes_responded=Except(s.votes_responded, i, 0),
        votes_granted=Except(s.votes_granted, i, 0),
        prevotes_granted=Except(s.prevotes_granted, i, 0),
    )


def RequestPreVote(p: Params, s: State, i: int, j: int) -> State | None:
    """Pre-candidate i asks j (possibly itself) whether it would vote for i in term + 1.

    TLA+: RequestPreVote(i, j).
    """
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
    """Pre-candidate i, granted pre-votes by a quorum, starts the real election (term + 1).

    TLA+: StartElection(i), built here on raft.tla's Timeout(i) (which it equals, plus the
    pre-vote bookkeeping), so the Timeout bug variants apply to it too.
    """
    if s.role[i] != Role.PreCandidate or not IsQuorum(p, s.prevotes_granted[i]):
        return None
    t = actions.Timeout(p, as_follower(s, i), i)
    assert t is not None  # a follower may always time out
    return t._replace(
        prevotes_granted=Except(t.prevotes_granted, i, 0),
        earned_terms=t.earned_terms | 1 << t.current_term[i],
    )


def HandlePreVoteRequest(p: Params, s: State, i: int, j: int, m: Message) -> tuple[str, State]:
    """Server i answers j's pre-vote from its current state; its term and vote stay put.

    TLA+: HandlePreVoteRequest(i, j, m). Inside a live leader's lease a pre-vote of a newer term
    is dropped unanswered (as the impl does); otherwise i grants when it would vote for j in m's
    term (newer, or equal with its vote free) and has heard no live leader.
    """
    term = s.current_term[i]
    if m.mterm > term and s.heard_leader[i]:
        return "IgnorePreVoteInLease", actions.Discard(m, s)
    fresh = m.mterm > term or (m.mterm == term and s.voted_for[i] in (NIL, j))
    grant = fresh and LogOk(p, s, i, m) and not s.heard_leader[i]
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
    """Pre-candidate i tallies j's pre-vote for term + 1; a stale one or a refusal is dropped.

    TLA+: HandlePreVoteResponse(i, j, m), less its refusal of a newer term, which the restated
    Receive hands to UpdateTerm first.
    """
    if not m.mvote_granted:
        return "DropPreVoteRefusal", actions.Discard(m, s)
    if s.role[i] != Role.PreCandidate or m.mterm != s.current_term[i] + 1:
        return "DropStalePreVoteResponse", actions.Discard(m, s)
    tallied = Except(s.prevotes_granted, i, s.prevotes_granted[i] | 1 << j)
    return "HandlePreVoteResponse", actions.Discard(m, s._replace(prevotes_granted=tallied))


def deposes_unearned(p: Params, s: State, i: int, m: Message) -> bool:
    """Ghost: leader i adopting m's newer term is deposed by a term no pre-vote quorum opened.

    TLA+: the unearnedDeposition' conjunct of FUpdateTerm(i, m).
    """
    return p.has("prevote") and s.role[i] == Role.Leader and not s.earned_terms >> m.mterm & 1


def constraint(p: Params, s: State) -> bool:
    """The term bound applied to pre-votes: no pre-candidate proposes a term beyond max_term
    (as no candidate may hold one). TLA+: the PreVote conjunct of FConstraint."""
    for i, role in enumerate(s.role):
        if role == Role.PreCandidate and s.current_term[i] >= p.max_term:
            return False
    return True


# ---- Properties (spec/properties.py lists them) ----------------------------------------------


def PreVoteTermsEarned(p: Params, s: State) -> bool:
    """Every term beyond the initial one was opened by a server holding a quorum of pre-votes
    for exactly that term. So a server that cannot collect a pre-vote quorum never raises its
    own term: it only adopts terms that some quorum already agreed to."""
    return all(t == 1 or s.earned_terms >> t & 1 for t in s.current_term)


def NoUnearnedDeposition(p: Params, s: State) -> bool:
    """No leader was ever deposed by a term that no quorum of pre-votes opened (a rejoining
    node that could not collect pre-votes cannot depose a leader)."""
    return not s.unearned_deposition


def PreVoteSucceeded(p: Params, s: State) -> bool:
    """Sometimes: a pre-vote round succeeded (some term was opened by a pre-vote quorum)."""
    return s.earned_terms != 0
