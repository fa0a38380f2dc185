"""The allowed compositions of spec actions per implementation step (docs/conformance.md).

One implementation step (a timer firing, a message handled to quiescence, a restart) is a fixed
sequence of raft.tla actions. Each function returns the successor spec state with the actions
applied, or None when the step is not enabled in the spec. The only choice is ``lead``: when a
candidate's votes form a quorum, BecomeLeader and its heartbeats are appended (``lead=True``,
eager) or not (``lead=False``: raft.tla's BecomeLeader is a separate action that need not fire
at once). So at most two spec states are allowed per step; the harness accepts either.
"""

from __future__ import annotations

from dataclasses import dataclass

from electorate.spec import actions
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import Role, State

MAX_RECEIVES = 4  # UpdateTerm, candidate -> follower, the handler: 3 at most; 1 of slack


@dataclass(frozen=True)
class Composite:
    """A step's successor spec state, the spec actions that produced it (in order), and the
    auxiliary variable ``abandoned`` (see :func:`abandoned_after`)."""

    state: State
    actions: tuple[Action, ...]
    abandoned: frozenset[int] = frozenset()


Abandoned = frozenset[int]
NONE: Abandoned = frozenset()
# The adapter did not declare option abandon_lost_election: no candidacy is ever abandoned
# (a value outside every server index, so no membership test ever succeeds).
DISABLED: Abandoned = frozenset({-1})


def quorum_size(p: Params) -> int:
    """The smallest count the spec's IsQuorum accepts (bug variants included)."""
    return next(k for k in range(p.servers + 1) if actions.IsQuorum(p, (1 << k) - 1))


def lost(p: Params, s: State, i: int) -> bool:
    """Candidate i holds more refusals than n - quorum: it cannot win with first answers."""
    refused = (s.votes_responded[i] & ~s.votes_granted[i]).bit_count()
    return s.role[i] == Role.Candidate and refused > p.servers - quorum_size(p)


def abandoned_after(p: Params, before: State, after: State, ab: Abandoned) -> Abandoned:
    """Auxiliary variable: the candidates whose current election is abandoned.

    An implementation may give up an election once it holds more refusals than n - quorum
    (impl/core.py _tally returns to follower). raft.tla keeps such a candidate, and a later
    grant in the same term (a voter refuses a stale request, then grants) could still make it
    leader, since raft.tla's tally is monotone in grants. BecomeLeader is a separate action in
    raft.tla that need never fire, so the compositions simply never take it for an abandoned
    candidate, and the refinement mapping shows the candidate as a follower. A candidacy stays
    abandoned until the node's role or term changes.
    """
    if ab == DISABLED:
        return ab
    out = set()
    for i in range(p.servers):
        if after.role[i] != Role.Candidate:
            continue
        same = before.role[i] == Role.Candidate and before.current_term[i] == after.current_term[i]
        if (same and i in ab) or lost(p, after, i):
            out.add(i)
    return frozenset(out)


def timeout(
    p: Params, s: State, i: int, ab: Abandoned = NONE, lead: bool = True
) -> Composite | None:
    """Election timer of i: Timeout(i); RequestVote(i, i); Receive of that request (the
    self-vote); Receive of its response; RequestVote(i, j) for every j != i in order; then
    BecomeLeader(i) and AppendEntries(i, j) for every j != i if the self-vote is a quorum."""
    t = actions.Timeout(p, s, i)
    if t is None:
        return None
    acts = [Action("Timeout", (i,))]
    t = _request_vote(p, t, i, i, acts)
    t = _drain_self(p, t, i, acts)
    for j in range(p.servers):
        if j != i:
            t = _request_vote(p, t, i, j, acts)
    if lead:
        t = _maybe_lead(p, t, i, acts)
    return Composite(t, tuple(acts), abandoned_after(p, s, t, ab))


def heartbeat(p: Params, s: State, i: int, ab: Abandoned = NONE) -> Composite | None:
    """Heartbeat timer of leader i: AppendEntries(i, j) for every j != i."""
    if s.role[i] != Role.Leader:
        return None
    acts: list[Action] = []
    return Composite(_broadcast(p, s, i, acts), tuple(acts), ab)


def deliver(
    p: Params, s: State, m: Message, ab: Abandoned = NONE, lead: bool = True
) -> Composite | None:
    """Message m handled to quiescence: Receive(m) until one copy of m has left the bag
    (UpdateTerm and a candidate's return to follower leave it in flight), then, if m was a vote
    response that completed a quorum of a candidacy not abandoned, BecomeLeader and its
    heartbeats."""
    if not any(x == m for x, _ in s.messages):
        return None
    before, t = _count(s, m), s
    acts: list[Action] = []
    for _ in range(MAX_RECEIVES):
        r = actions.Receive(p, t, m)
        if r is None:
            return None  # the spec cannot consume m here: not deliverable, only droppable
        t = r[1]
        acts.append(Action("Receive", (m,), r[0]))
        if _count(t, m) < before:
            break
    else:
        return None
    ab = abandoned_after(p, s, t, ab)
    if lead and m.mtype == MType.RequestVoteResponse and m.mdest not in ab:
        t = _maybe_lead(p, t, m.mdest, acts)
    return Composite(t, tuple(acts), ab)


def restart(p: Params, s: State, i: int, ab: Abandoned = NONE) -> Composite:
    """Crash then restart of i from durable state: Restart(i)."""
    t = actions.Restart(p, s, i)
    return Composite(t, (Action("Restart", (i,)),), abandoned_after(p, s, t, ab))


def transfer(
    p: Params, s: State, i: int, j: int, ab: Abandoned = NONE, lead: bool = True
) -> Composite | None:
    """Leader i hands over to j (TimeoutNow delivered at once): j's election timer composition.
    Only when j is a follower or candidate in i's term: the TimeoutNow message itself is not a
    raft.tla message, so the step is modelled as j timing out."""
    if i == j or s.role[i] != Role.Leader or s.role[j] == Role.Leader:
        return None
    if s.current_term[j] != s.current_term[i]:
        return None
    return timeout(p, s, j, ab, lead)


def drop(p: Params, s: State, m: Message, ab: Abandoned = NONE) -> Composite:
    return Composite(actions.DropMessage(p, s, m), (Action("DropMessage", (m,)),), ab)


def duplicate(p: Params, s: State, m: Message, ab: Abandoned = NONE) -> Composite:
    t = actions.DuplicateMessage(p, s, m)
    return Composite(t, (Action("DuplicateMessage", (m,)),), ab)


def _count(s: State, m: Message) -> int:
    return next((n for x, n in s.messages if x == m), 0)


def _request_vote(p: Params, s: State, i: int, j: int, acts: list[Action]) -> State:
    t = actions.RequestVote(p, s, i, j)
    if t is None:
        return s
    acts.append(Action("RequestVote", (i, j)))
    return t


def _drain_self(p: Params, s: State, i: int, acts: list[Action]) -> State:
    """Receive every message i sent itself (the self-vote request, then its response)."""
    for _ in range(2 * MAX_RECEIVES):
        mine = [m for m, _ in s.messages if m.msource == i and m.mdest == i]
        if not mine:
            return s
        r = actions.Receive(p, s, mine[0])
        if r is None:
            return s
        acts.append(Action("Receive", (mine[0],), r[0]))
        s = r[1]
    return s


def _maybe_lead(p: Params, s: State, i: int, acts: list[Action]) -> State:
    t = actions.BecomeLeader(p, s, i)
    if t is None:
        return s
    acts.append(Action("BecomeLeader", (i,)))
    return _broadcast(p, t, i, acts)


def _broadcast(p: Params, s: State, i: int, acts: list[Action]) -> State:
    for j in range(p.servers):
        t = actions.AppendEntries(p, s, i, j)
        if t is not None:
            acts.append(Action("AppendEntries", (i, j)))
            s = t
    return s
