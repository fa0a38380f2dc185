"""raft.tla's actions, one pure function each: guards first, then the one new state (or None).

Each function's first line names the actor, as raft.tla's comments do; `TLA+:` gives the action.
Bug variants (spec.bugs) change an action where it says `p.bug == ...`, nowhere else. The
features replace some of these actions by versions built on them (spec/features/restated.py);
spec/next.py puts the right one in each slot of Next.
"""

from __future__ import annotations

from electorate.spec.messages import (
    Bag,
    Entry,
    Message,
    MType,
    WithMessage,
    WithoutMessage,
)
from electorate.spec.params import Params
from electorate.spec.state import NIL, Except, LastTerm, Role, State


def IsQuorum(p: Params, mask: int) -> bool:
    """mask \\in Quorum: a strict majority (raft.tla builds Quorum from SUBSET Server)."""
    if p.bug == "quorum-half":  # bug: "at least half" — two disjoint halves of an even cluster
        return mask.bit_count() * 2 >= p.servers
    return mask.bit_count() * 2 > p.servers


def Send(m: Message, s: State) -> State:
    """s with m sent (TLA+ Send(m)); nothing else changes."""
    return s._replace(messages=WithMessage(m, s.messages))


def Discard(m: Message, s: State) -> State:
    """s with one copy of m consumed (TLA+ Discard(m)); nothing else changes."""
    return s._replace(messages=WithoutMessage(m, s.messages))


def Reply(response: Message, request: Message, s: State) -> State:
    """s with the request consumed and the response sent (TLA+ Reply(response, request))."""
    return s._replace(messages=Replied(response, request, s.messages))


def Replied(response: Message, request: Message, msgs: Bag) -> Bag:
    """The bag after Reply: for an action that changes other variables in the same step."""
    return WithoutMessage(request, WithMessage(response, msgs))


# ---- Server actions -------------------------------------------------------------------------


def Restart(p: Params, s: State, i: int) -> State:
    """Server i restarts from stable storage, keeping currentTerm, votedFor and log.

    TLA+: Restart(i). Enabled in every state, so a follower already reset stutters.
    """
    n = p.servers
    if _is_reset(p, s, i):
        return s  # stuttering step: nothing to lose (the checker counts it without rehashing)
    voted_for = s.voted_for
    if p.bug == "forget-vote-on-restart":  # bug: votedFor was never made durable
        voted_for = Except(voted_for, i, NIL)
    return s._replace(
        role=Except(s.role, i, Role.Follower),
        voted_for=voted_for,
        votes_responded=Except(s.votes_responded, i, 0),
        votes_granted=Except(s.votes_granted, i, 0),
        next_index=Except(s.next_index, i, (1,) * n),
        match_index=Except(s.match_index, i, (0,) * n),
        commit_index=Except(s.commit_index, i, 0),
    )


def _is_reset(p: Params, s: State, i: int) -> bool:
    """Restart(i) would change nothing."""
    n = p.servers
    return (
        s.role[i] == Role.Follower
        and not s.votes_responded[i]
        and not s.votes_granted[i]
        and not s.commit_index[i]
        and s.next_index[i] == (1,) * n
        and s.match_index[i] == (0,) * n
        and (p.bug != "forget-vote-on-restart" or s.voted_for[i] == NIL)
    )


def Timeout(p: Params, s: State, i: int) -> State | None:
    """Server i times out and starts a new election.

    TLA+: Timeout(i). The self-vote is not set here: i sends itself a RequestVote later.
    raft.tla also resets the history variable voterLog[i]; history is left out (spec/state.py).
    """
    if s.role[i] not in (Role.Follower, Role.Candidate):
        return None
    term = s.current_term[i] if p.bug == "no-term-increment" else s.current_term[i] + 1
    return s._replace(
        role=Except(s.role, i, Role.Candidate),
        current_term=Except(s.current_term, i, term),
        voted_for=Except(s.voted_for, i, NIL),
        votes_responded=Except(s.votes_responded, i, 0),
        votes_granted=Except(s.votes_granted, i, 0),
    )


def RequestVote(p: Params, s: State, i: int, j: int) -> State | None:
    """Candidate i sends j (possibly itself) a RequestVote request.

    TLA+: RequestVote(i, j).
    """
    if s.role[i] != Role.Candidate or s.votes_responded[i] >> j & 1:
        return None
    m = Message(
        MType.RequestVoteRequest,
        s.current_term[i],
        i,
        j,
        mlast_log_term=LastTerm(s.log[i]),
        mlast_log_index=len(s.log[i]),
    )
    return Send(m, s)


def AppendEntries(p: Params, s: State, i: int, j: int) -> State | None:
    """Leader i sends j an AppendEntries request with at most one entry (a heartbeat if none).

    TLA+: AppendEntries(i, j).
    """
    if i == j or s.role[i] != Role.Leader:
        return None
    log = s.log[i]
    next_index = s.next_index[i][j]
    prev_log_index = next_index - 1
    prev_log_term = log[prev_log_index - 1].term if prev_log_index > 0 else 0
    last_entry = min(len(log), next_index)
    entries = log[next_index - 1 : last_entry]  # SubSeq(log[i], nextIndex[i][j], lastEntry)
    m = Message(
        MType.AppendEntriesRequest,
        s.current_term[i],
        i,
        j,
        mprev_log_index=prev_log_index,
        mprev_log_term=prev_log_term,
        mentries=tuple(entries),
        mcommit_index=min(s.commit_index[i], last_entry),
    )
    return Send(m, s)


def BecomeLeader(p: Params, s: State, i: int) -> State | None:
    """Candidate i becomes leader once the votes granted to it form a quorum.

    TLA+: BecomeLeader(i). raft.tla also records the election in the history variable
    `elections`, left out here.
    """
    if s.role[i] != Role.Candidate or not IsQuorum(p, s.votes_granted[i]):
        return None
    n = p.servers
    return s._replace(
        role=Except(s.role, i, Role.Leader),
        next_index=Except(s.next_index, i, (len(s.log[i]) + 1,) * n),
        match_index=Except(s.match_index, i, (0,) * n),
    )


def ClientRequest(p: Params, s: State, i: int, v: int) -> State | None:
    """Leader i receives a client request to append value v to its log.

    TLA+: ClientRequest(i, v).
    """
    if s.role[i] != Role.Leader:
        return None
    entry = Entry(s.current_term[i], v)
    return s._replace(log=Except(s.log, i, (*s.log[i], entry)))


def AdvanceCommitIndex(p: Params, s: State, i: int) -> State | None:
    """Leader i advances its commitIndex to the highest index a quorum stores from its term.

    TLA+: AdvanceCommitIndex(i). Stutters when nothing new can commit (as TLC counts it).
    """
    if s.role[i] != Role.Leader:
        return None
    log = s.log[i]
    match = s.match_index[i]

    def agree(index: int) -> int:
        mask = 1 << i
        for k in range(p.servers):
            if match[k] >= index:
                mask |= 1 << k
        return mask

    agree_indexes = [index for index in range(1, len(log) + 1) if IsQuorum(p, agree(index))]
    new_commit = s.commit_index[i]
    if agree_indexes and log[max(agree_indexes) - 1].term == s.current_term[i]:
        new_commit = max(agree_indexes)
    if new_commit == s.commit_index[i]:
        return s  # stuttering step, as TLC counts it
    return s._replace(commit_index=Except(s.commit_index, i, new_commit))


# ---- Message handlers: i = recipient, j = sender, m = message ------------------------------


def LogOk(p: Params, s: State, i: int, m: Message) -> bool:
    """The candidate's log is at least as up to date as i's (Raft §5.4.1)."""
    if p.bug == "no-log-check":  # bug: votes granted without the up-to-date check
        return True
    my_last = LastTerm(s.log[i])
    return m.mlast_log_term > my_last or (
        m.mlast_log_term == my_last and m.mlast_log_index >= len(s.log[i])
    )


def HandleRequestVoteRequest(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i answers j's RequestVote request of a term no newer than its own.

    TLA+: HandleRequestVoteRequest(i, j, m). raft.tla's response also carries i's log in the
    history field mlog, left out here.
    """
    if m.mterm > s.current_term[i]:
        return None
    vote_free = s.voted_for[i] in (NIL, j) or p.bug == "vote-twice"  # bug: votedFor ignored
    grant = m.mterm == s.current_term[i] and LogOk(p, s, i, m) and vote_free
    response = Message(MType.RequestVoteResponse, s.current_term[i], i, j, mvote_granted=grant)
    return s._replace(
        voted_for=Except(s.voted_for, i, j) if grant else s.voted_for,
        messages=Replied(response, m, s.messages),
    )


def HandleRequestVoteResponse(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i tallies j's vote response of its current term (even when not a candidate).

    TLA+: HandleRequestVoteResponse(i, j, m). raft.tla also records j's log in the history
    variable voterLog, left out here.
    """
    if p.bug == "stale-votes-counted":  # bug: responses from older terms are tallied too
        if m.mterm > s.current_term[i]:
            return None
    elif m.mterm != s.current_term[i]:
        return None
    granted = s.votes_granted
    if m.mvote_granted:
        granted = Except(granted, i, granted[i] | 1 << j)
    return s._replace(
        votes_responded=Except(s.votes_responded, i, s.votes_responded[i] | 1 << j),
        votes_granted=granted,
        messages=WithoutMessage(m, s.messages),
    )


def HandleAppendEntriesRequest(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i handles j's AppendEntries request of a term no newer than its own.

    TLA+: HandleAppendEntriesRequest(i, j, m): reject, return to follower, or accept
    (already done / conflict: remove one entry / no conflict: append one entry).
    """
    term = s.current_term[i]
    if m.mterm > term:
        return None
    log = s.log[i]
    log_ok = m.mprev_log_index == 0 or (
        0 < m.mprev_log_index <= len(log) and m.mprev_log_term == log[m.mprev_log_index - 1].term
    )
    role = s.role[i]
    if m.mterm < term or (role == Role.Follower and not log_ok):  # reject request
        fail = Message(MType.AppendEntriesResponse, term, i, j, msuccess=False, mmatch_index=0)
        return Reply(fail, m, s)
    if role == Role.Candidate:  # return to follower state
        return s._replace(role=Except(s.role, i, Role.Follower))
    if role != Role.Follower:  # a leader of the same term: no disjunct applies
        return None
    index = m.mprev_log_index + 1
    if not m.mentries or (len(log) >= index and log[index - 1].term == m.mentries[0].term):
        # already done with request
        ok = Message(
            MType.AppendEntriesResponse,
            term,
            i,
            j,
            msuccess=True,
            mmatch_index=m.mprev_log_index + len(m.mentries),
        )
        return s._replace(
            commit_index=Except(s.commit_index, i, m.mcommit_index),
            messages=Replied(ok, m, s.messages),
        )
    if len(log) >= index:  # conflict: remove one entry
        return s._replace(log=Except(s.log, i, log[: len(log) - 1]))
    if len(log) == m.mprev_log_index:  # no conflict: append the entry
        return s._replace(log=Except(s.log, i, (*log, m.mentries[0])))
    return None


def HandleAppendEntriesResponse(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i handles j's AppendEntries response of its current term.

    TLA+: HandleAppendEntriesResponse(i, j, m).
    """
    if m.mterm != s.current_term[i]:
        return None
    next_index, match_index = s.next_index[i], s.match_index[i]
    if m.msuccess:
        next_index = Except(next_index, j, m.mmatch_index + 1)
        match_index = Except(match_index, j, m.mmatch_index)
    else:
        next_index = Except(next_index, j, max(next_index[j] - 1, 1))
    return s._replace(
        next_index=Except(s.next_index, i, next_index),
        match_index=Except(s.match_index, i, match_index),
        messages=WithoutMessage(m, s.messages),
    )


def UpdateTerm(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i sees a newer term in any message and adopts it as a follower.

    TLA+: UpdateTerm(i, j, m). The message stays in the bag so i can process it next.
    """
    if m.mterm <= s.current_term[i]:
        return None
    role = s.role[i]
    if not (p.bug == "leader-keeps-role" and role == Role.Leader):  # bug: leader stays leader
        role = Role.Follower
    return s._replace(
        current_term=Except(s.current_term, i, m.mterm),
        role=Except(s.role, i, role),
        voted_for=Except(s.voted_for, i, NIL),
    )


def DropStaleResponse(p: Params, s: State, i: int, j: int, m: Message) -> State | None:
    """Server i discards a response from an older term.

    TLA+: DropStaleResponse(i, j, m).
    """
    if m.mterm >= s.current_term[i]:
        return None
    if p.bug == "stale-votes-counted" and m.mtype == MType.RequestVoteResponse:
        return None  # bug: the stale vote is tallied instead (HandleRequestVoteResponse)
    return Discard(m, s)


def Receive(p: Params, s: State, m: Message) -> tuple[str, State] | None:
    """Server m.mdest receives m; returns the handler that fired and the new state.

    TLA+: Receive(m). At most one disjunct is enabled for a given m and state.
    """
    i, j = m.mdest, m.msource
    t = UpdateTerm(p, s, i, j, m)
    if t is not None:
        return "UpdateTerm", t
    if m.mtype == MType.RequestVoteRequest:
        t = HandleRequestVoteRequest(p, s, i, j, m)
        return None if t is None else ("HandleRequestVoteRequest", t)
    if m.mtype == MType.AppendEntriesRequest:
        t = HandleAppendEntriesRequest(p, s, i, j, m)
        return None if t is None else ("HandleAppendEntriesRequest", t)
    t = DropStaleResponse(p, s, i, j, m)
    if t is not None:
        return "DropStaleResponse", t
    if m.mtype == MType.RequestVoteResponse:
        t = HandleRequestVoteResponse(p, s, i, j, m)
        return None if t is None else ("HandleRequestVoteResponse", t)
    t = HandleAppendEntriesResponse(p, s, i, j, m)
    return None if t is None else ("HandleAppendEntriesResponse", t)


# ---- Network -------------------------------------------------------------------------------


def DuplicateMessage(p: Params, s: State, m: Message) -> State:
    """The network duplicates a message in flight. TLA+: DuplicateMessage(m)."""
    return Send(m, s)


def DropMessage(p: Params, s: State, m: Message) -> State:
    """The network loses one copy of a message in flight. TLA+: DropMessage(m)."""
    return Discard(m, s)
