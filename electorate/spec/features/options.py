r"""The options: implementation choices raft.tla does not have, each shown safe by the checker.

Production Rafts deviate from raft.tla in ways that are safe but that raft.tla cannot express.
Each option restates the actions it changes on raft.tla's (or, with features, the featured)
action; spec/next.py puts them in the action table when the option is on (`Params.options`, off
by default). Every invariant of spec/properties.py holds with them on the small models of
tests/spec/test_options.py, where each option's action is also shown taken, so the conformance
suite can accept an implementation that declares them. They have no TLA+ mirror yet: TLC does
not cross-check these models.

- `bare_heartbeats`: a leader may send a heartbeat that carries no log position (prev 0@0, no
  entries, commit min(matchIndex, commitIndex)), as etcd's MsgHeartbeat. Its answer claims a
  match of 0, so it goes with `monotone_progress`.
- `monotone_progress`: a success answer never moves a leader's matchIndex or nextIndex back
  (raft.tla sets both from the answer): etcd's Progress.MaybeUpdate.
- `optimistic_next_index`: a leader advances nextIndex past the entry it sends, before any
  answer (PySyncObj; etcd's replicate state).
- `stale_append_success`: a request of an older term is refused with `success` set, in the
  receiver's term (etcd with PreVote or CheckQuorum: the answer only carries the term).
- `vote_refused_with_known_leader`: a follower that knows the leader of its term refuses that
  term's vote to anyone it has not voted for (etcd's canVote), `prevote_refused_with_known_leader`
  the same for a pre-vote of its term; they need the variable `knows_leader` (below).
- `prevote_granted_to_voted_candidate`: a pre-vote of the voter's own term from the candidate
  it voted for is granted even inside a leader's lease (etcd's canVote).
- `stale_prevote_grant_counted`: a pre-candidate counts a pre-vote granted for its current term
  (an answer to its previous round) as one for the next (etcd: `m.Term == r.Term` is polled).
- `newer_term_adopted_in_lease`: with CheckQuorum, a follower inside a leader's lease ignores
  only (pre-)vote requests of a newer term (the Raft thesis, section 9.6; etcd's `inLease`) and
  adopts the newer term of any other message, where the featured spec keeps a lease promise and
  ignores them all. Safe without leader leases; with the `lease` feature it is the lease hole of
  docs/failure-modes.md, so Params refuses that combination.

`knows_leader[i]`: i knows the leader of its term, as etcd's `r.lead`. Set
when i handles an AppendEntries of its term as follower, or becomes leader; cleared when its
term or role changes and on Restart.
"""

from __future__ import annotations

from electorate.spec import actions
from electorate.spec.features import lease, prevote, restated
from electorate.spec.ids import Option
from electorate.spec.messages import Message, MType
from electorate.spec.params import Params
from electorate.spec.state import NIL, Except, ExceptOn, Role, State


def knows(p: Params) -> bool:
    """The model keeps `knows_leader` (an option reads it)."""
    return p.opt("vote_refused_with_known_leader") or p.opt("prevote_refused_with_known_leader")


def _track(s: State, t: State) -> State:
    """knows_leader after a step from s to t: kept only by a server whose term and role stayed."""
    if not t.knows_leader:
        return t
    kept = tuple(
        k and t.current_term[i] == s.current_term[i] and t.role[i] == s.role[i]
        for i, k in enumerate(t.knows_leader)
    )
    return t if kept == t.knows_leader else t._replace(knows_leader=kept)


# ---- Server actions -------------------------------------------------------------------------


def Restart(p: Params, s: State, i: int) -> State:
    """Server i restarts from stable storage and knows no leader."""
    base = restated.Restart if p.features else actions.Restart
    t = base(p, s, i)
    t = t._replace(knows_leader=ExceptOn(t.knows_leader, i, False))
    return s if t == s else t


def Timeout(p: Params, s: State, i: int) -> State | None:
    """Server i times out (a new election, or a pre-vote round): it knows no leader."""
    base = restated.Timeout if p.features else actions.Timeout
    t = base(p, s, i)
    return None if t is None else _track(s, t)


def StartElection(p: Params, s: State, i: int) -> State | None:
    """Pre-candidate i, granted a quorum of pre-votes, starts its election in a new term."""
    t = prevote.StartElection(p, s, i)
    return None if t is None else _track(s, t)


def BecomeLeader(p: Params, s: State, i: int) -> State | None:
    """Candidate i becomes leader; it knows the leader of its term, itself."""
    base = restated.BecomeLeader if p.features else actions.BecomeLeader
    t = base(p, s, i)
    if t is None:
        return None
    return t._replace(knows_leader=ExceptOn(t.knows_leader, i, True))


def ElectionTimer(p: Params, s: State, i: int) -> tuple[str, State] | None:
    """Server i's election timer runs out; a leader that steps down knows no leader."""
    fired = restated.ElectionTimer(p, s, i)
    return None if fired is None else (fired[0], _track(s, fired[1]))


def AppendEntries(p: Params, s: State, i: int, j: int) -> State | None:
    """Leader i sends j an AppendEntries request; optimistic, it advances nextIndex past it."""
    base = restated.AppendEntries if p.features else actions.AppendEntries
    t = base(p, s, i, j)
    if t is None or not p.opt("optimistic_next_index"):
        return t
    last = min(len(s.log[i]), s.next_index[i][j])  # raft.tla's lastEntry
    return t._replace(next_index=Except(t.next_index, i, Except(t.next_index[i], j, last + 1)))


def BareHeartbeat(p: Params, s: State, i: int, j: int) -> State | None:
    """Leader i sends j a heartbeat that carries no log position (prev 0@0, no entries).

    Its commit index is what j is known to store (etcd's MsgHeartbeat).
    """
    if i == j or s.role[i] != Role.Leader:
        return None
    commit = min(s.match_index[i][j], s.commit_index[i])
    m = Message(MType.AppendEntriesRequest, s.current_term[i], i, j, mcommit_index=commit)
    t = actions.Send(m, s)
    return lease.stamp(s, t, s.round_at[i]) if lease.timed(p) else t


# ---- Message handlers: i = recipient, j = sender, m = message ------------------------------


def Receive(p: Params, s: State, m: Message) -> tuple[str, State] | None:
    """Server m.mdest receives m: an option's handler where one applies, else the model's own."""
    r = _option_handler(p, s, m)
    if r is None:
        base = restated.Receive if p.features else actions.Receive
        r = base(p, s, m)
        if r is None:
            return None
        if r[0] == "HandleAppendEntriesResponse" and p.opt("monotone_progress"):
            r = KeepProgress(p, s, r[1], m)
    if not s.knows_leader:
        return r
    return r[0], _heard(s, _track(s, r[1]), m, r[0])


def _heard(s: State, t: State, m: Message, label: str) -> State:
    """Follower i that handled an AppendEntries of its term knows its leader."""
    i = m.mdest
    if label != "HandleAppendEntriesRequest" or s.role[i] != Role.Follower:
        return t
    if m.mterm != t.current_term[i] or t.knows_leader[i]:
        return t
    return t._replace(knows_leader=Except(t.knows_leader, i, True))


def _option_handler(p: Params, s: State, m: Message) -> tuple[str, State] | None:
    """The handler of the first option that takes m in state s, if any."""
    i = m.mdest
    term = s.current_term[i]
    if p.opt("newer_term_adopted_in_lease") and _adopts_in_lease(p, s, m):
        return AdoptNewerTermInLease(p, s, i, m.msource, m)
    if m.mtype == MType.AppendEntriesRequest:
        if m.mterm < term and p.opt("stale_append_success"):
            return AckStaleAppendEntries(p, s, i, m.msource, m)
        return None
    if m.mtype == MType.RequestVoteResponse:
        stale_grant = m.mpre_vote and m.mvote_granted and m.mterm == term
        if stale_grant and s.role[i] == Role.PreCandidate and p.opt("stale_prevote_grant_counted"):
            return CountStalePreVote(p, s, i, m.msource, m)
        return None
    if m.mtype != MType.RequestVoteRequest or m.mterm != term:
        return None
    j = m.msource
    voted = m.mpre_vote and s.voted_for[i] == j and actions.LogOk(p, s, i, m)
    if voted and p.opt("prevote_granted_to_voted_candidate"):
        return GrantPreVoteToVotedCandidate(p, s, i, j, m)
    refuse: Option = (
        "prevote_refused_with_known_leader" if m.mpre_vote else "vote_refused_with_known_leader"
    )
    known = bool(s.knows_leader) and s.knows_leader[i] and s.voted_for[i] == NIL
    return RefuseKnowingLeader(p, s, i, j, m) if known and p.opt(refuse) else None


def _adopts_in_lease(p: Params, s: State, m: Message) -> bool:
    """m is a newer-term message the featured spec ignores inside a lease, other than a
    (pre-)vote request and a granted pre-vote (which names a term not yet held)."""
    if m.mtype == MType.RequestVoteRequest or (m.mpre_vote and m.mvote_granted):
        return False
    return restated.keeps_lease_promise(p, s, m.mdest, m)


def AdoptNewerTermInLease(p: Params, s: State, i: int, j: int, m: Message) -> tuple[str, State]:
    """Follower i, inside a leader's lease, adopts the newer term of j's message m (not a vote
    request) as raft.tla's UpdateTerm does: a follower of that term that knows no leader; m
    stays in the network and is handled next."""
    t = restated.UpdateTerm(p, s, i, j, m)
    assert t is not None  # m's term is newer
    return "AdoptNewerTermInLease", t


def AckStaleAppendEntries(p: Params, s: State, i: int, j: int, m: Message) -> tuple[str, State]:
    """Server i answers j's AppendEntries of an older term with success, in its own term.

    The answer only tells j the newer term (j adopts it before reading the flag).

    """
    ok = Message(MType.AppendEntriesResponse, s.current_term[i], i, j, msuccess=True)
    return "AckStaleAppendEntries", actions.Reply(ok, m, s)


def RefuseKnowingLeader(p: Params, s: State, i: int, j: int, m: Message) -> tuple[str, State]:
    """Server i, which knows the leader of its term and voted for nobody, refuses j's (pre-)vote
    request of that term.
    """
    no = Message(MType.RequestVoteResponse, m.mterm, i, j, mpre_vote=m.mpre_vote)
    label = "RefusePreVoteKnowingLeader" if m.mpre_vote else "RefuseVoteKnowingLeader"
    return label, actions.Reply(no, m, s)


def GrantPreVoteToVotedCandidate(
    p: Params, s: State, i: int, j: int, m: Message
) -> tuple[str, State]:
    """Server i grants a pre-vote of its own term to j, the candidate it voted for (j's log is
    up to date), whether or not it heard a leader.
    """
    reply = Message(MType.RequestVoteResponse, m.mterm, i, j, mvote_granted=True, mpre_vote=True)
    return "GrantPreVoteToVotedCandidate", actions.Reply(reply, m, s)


def CountStalePreVote(p: Params, s: State, i: int, j: int, m: Message) -> tuple[str, State]:
    """Pre-candidate i counts j's pre-vote granted for its current term (an answer to its
    previous round) as one for the next term.
    """
    tallied = Except(s.prevotes_granted, i, s.prevotes_granted[i] | 1 << j)
    return "CountStalePreVote", actions.Discard(m, s._replace(prevotes_granted=tallied))


def KeepProgress(p: Params, before: State, t: State, m: Message) -> tuple[str, State]:
    """Leader i's progress for j after j's success answer: never moved back.

    matchIndex and nextIndex only grow (raft.tla sets them from the answer).
    """
    i, j = m.mdest, m.msource
    if not m.msuccess:
        return "HandleAppendEntriesResponse", t
    match = max(before.match_index[i][j], m.mmatch_index)
    nxt = max(before.next_index[i][j], m.mmatch_index + 1)
    label = "HandleAppendEntriesResponse"
    if (match, nxt) != (t.match_index[i][j], t.next_index[i][j]):
        label = "KeepProgress"  # raft.tla would have moved it back
    return label, t._replace(
        match_index=Except(t.match_index, i, Except(t.match_index[i], j, match)),
        next_index=Except(t.next_index, i, Except(t.next_index[i], j, nxt)),
    )
