"""The allowed compositions of spec actions per implementation step (docs/conformance.md).

One implementation step (a timer firing, a message handled to quiescence, a restart) is a fixed
sequence of raft.tla actions. Each function returns the successor spec state with the actions
applied, or None when the step is not enabled in the spec. The compositions are deterministic:
given the spec state and the step, exactly one spec state is allowed, so refinement is an
equality check.
"""

from __future__ import annotations

from dataclasses import dataclass

from spec import actions
from spec.messages import Message, MType
from spec.next import Action
from spec.params import Params
from spec.state import Role, State

MAX_RECEIVES = 4  # UpdateTerm, candidate -> follower, the handler: 3 at most; 1 of slack


@dataclass(frozen=True)
class Composite:
    """A step's successor spec state and the spec actions that produced it, in order."""

    state: State
    actions: tuple[Action, ...]


def quorum_size(p: Params) -> int:
    """The smallest count the spec's IsQuorum accepts (bug variants included)."""
    return next(k for k in range(p.servers + 1) if actions.IsQuorum(p, (1 << k) - 1))


def lost(p: Params, s: State, i: int) -> bool:
    """Candidate i can no longer win: more refusals than n - quorum. The implementation then
    returns to follower (impl/core.py _tally); raft.tla keeps it a candidate until a heartbeat
    or a timeout. The refinement mapping identifies the two (see observe.spec_view)."""
    refused = (s.votes_responded[i] & ~s.votes_granted[i]).bit_count()
    return s.role[i] == Role.Candidate and refused > p.servers - quorum_size(p)


def timeout(p: Params, s: State, i: int) -> Composite | None:
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
    return Composite(_maybe_lead(p, t, i, acts), tuple(acts))


def heartbeat(p: Params, s: State, i: int) -> Composite | None:
    """Heartbeat timer of leader i: AppendEntries(i, j) for every j != i."""
    if s.role[i] != Role.Leader:
        return None
    acts: list[Action] = []
    return Composite(_broadcast(p, s, i, acts), tuple(acts))


def deliver(p: Params, s: State, m: Message) -> Composite | None:
    """Message m handled to quiescence: Receive(m) until one copy of m has left the bag
    (UpdateTerm and a candidate's return to follower leave it in flight), then, if m was a vote
    response that completed a quorum, BecomeLeader and its heartbeats."""
    if not any(x == m for x, _ in s.messages):
        return None
    before = _count(s, m)
    acts: list[Action] = []
    for _ in range(MAX_RECEIVES):
        r = actions.Receive(p, s, m)
        if r is None:
            return None  # the spec cannot consume m here: not deliverable, only droppable
        s = r[1]
        acts.append(Action("Receive", (m,), r[0]))
        if _count(s, m) < before:
            break
    else:
        return None
    if m.mtype == MType.RequestVoteResponse:
        s = _maybe_lead(p, s, m.mdest, acts)
    return Composite(s, tuple(acts))


def restart(p: Params, s: State, i: int) -> Composite:
    """Crash then restart of i from durable state: Restart(i)."""
    return Composite(actions.Restart(p, s, i), (Action("Restart", (i,)),))


def transfer(p: Params, s: State, i: int, j: int) -> Composite | None:
    """Leader i hands over to j (TimeoutNow delivered at once): j's election timer composition.
    Only when j is a follower or candidate in i's term: the TimeoutNow message itself is not a
    raft.tla message, so the step is modelled as j timing out."""
    if i == j or s.role[i] != Role.Leader or s.role[j] == Role.Leader:
        return None
    if s.current_term[j] != s.current_term[i]:
        return None
    return timeout(p, s, j)


def drop(p: Params, s: State, m: Message) -> Composite:
    return Composite(actions.DropMessage(p, s, m), (Action("DropMessage", (m,)),))


def duplicate(p: Params, s: State, m: Message) -> Composite:
    return Composite(actions.DuplicateMessage(p, s, m), (Action("DuplicateMessage", (m,)),))


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
