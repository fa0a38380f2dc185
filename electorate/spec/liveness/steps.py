"""The liveness models' actions: raft.tla's actions composed into one server's reaction.

A liveness check explores every interleaving forever, so its actions are a server's whole
reaction to one event, each built by running raft.tla's actions (the featured ones of
spec/features/restated.py) in the order an implementation does them (Raft §5.2):

- `Timeout(i)`: the timer runs out; i becomes a candidate (or pre-candidate), votes (or
  pre-votes) for itself and asks every other server at once.
- `Heartbeat(i)`: leader i sends a heartbeat to every other server.
- `Deliver(m)`: the receiver handles m to the end (UpdateTerm leaves m in flight for its
  handler), and a vote that completes a quorum makes the candidate leader (with its first
  heartbeats) or starts the real election after a pre-vote quorum, at once.

These are the step granularities of the conformance suite (conformance/compose.py and
feature_compose.py), so a lasso is a conformance script step for step. What it leaves out
of raft.tla's interleavings, each stated once: a candidate never sits on a quorum of votes, a
message to oneself is handled at once, and a candidate does not re-send a request (after
stabilization none is lost, and before it the candidate times out again).
"""

from __future__ import annotations

from electorate.spec import actions
from electorate.spec.actions import IsQuorum
from electorate.spec.features import prevote, restated
from electorate.spec.liveness import timing
from electorate.spec.messages import Message
from electorate.spec.params import Params
from electorate.spec.state import Role, State

MAX_RECEIVES = 4  # UpdateTerm, a candidate's return to follower, the handler; one to spare


def Timeout(p: Params, s: State, i: int) -> State | None:
    """Server i's election timer runs out: it campaigns (or pre-campaigns) and asks everyone.

    TLA+: LTimeout(i).
    """
    if not timing.may_time_out(p, s, i):
        return None
    t = restated.Timeout(p, s, i)
    return None if t is None else campaign(p, t, i)


def LuckyTimeout(p: Params, s: State, i: int) -> State | None:
    """Server i's timer runs out first by a margin (assumption R), whatever is in flight: as
    Timeout(i), and no other server times out until i's round is over (timing.close_window).

    TLA+: LuckyTimeout(i).
    """
    if not timing.may_be_lucky(p, s, i):
        return None
    t = Timeout(p, s, i)
    return None if t is None else t._replace(lucky=i)


def campaign(p: Params, s: State, i: int) -> State:
    """A new (pre-)candidate i votes for itself, asks every other server, and moves on at once
    if its own vote is a quorum (one server)."""
    ask = prevote.RequestPreVote if s.role[i] == Role.PreCandidate else actions.RequestVote
    t = ask(p, s, i, i)
    assert t is not None  # a new (pre-)candidate has asked nobody yet
    t = _drain_self(p, t, i)
    for j in range(p.servers):
        if j != i:
            t = ask(p, t, i, j) or t
    return advance(p, t, i)


def advance(p: Params, s: State, i: int) -> State:
    """A quorum of pre-votes starts the real election; a quorum of votes makes i leader."""
    if s.role[i] == Role.PreCandidate:
        t = prevote.StartElection(p, s, i)
        return s if t is None else campaign(p, t, i)
    if s.role[i] == Role.Candidate and IsQuorum(p, s.votes_granted[i]):
        t = restated.BecomeLeader(p, s, i)
        assert t is not None
        return broadcast(p, t, i)
    return s


def Heartbeat(p: Params, s: State, i: int) -> State | None:
    """Leader i sends every other server a heartbeat.

    TLA+: LHeartbeat(i).
    """
    if s.role[i] != Role.Leader:
        return None
    return broadcast(p, s, i)


def broadcast(p: Params, s: State, i: int) -> State:
    for j in range(p.servers):
        if j != i:
            s = restated.AppendEntries(p, s, i, j) or s
    return s


def Deliver(p: Params, s: State, m: Message) -> tuple[str, State] | None:
    """m's receiver handles it to the end; a quorum it completes is acted on at once.

    TLA+: LDeliver(m). The label is the last handler raft.tla's Receive ran.
    """
    before = _copies(s, m)
    t, label = s, ""
    for _ in range(MAX_RECEIVES):
        r = restated.Receive(p, t, m)
        if r is None:
            return None  # the receiver cannot take m now: it waits in its slot
        label, t = r
        if _copies(t, m) < before:
            break
    else:
        return None
    return label, advance(p, t, m.mdest)


def ElectionTimer(p: Params, s: State, i: int) -> tuple[str, State] | None:
    """Server i's timer runs out with a live leader heard: a follower forgets it; a leader ends
    a CheckQuorum period (both restricted by T1 and T2 once stable).

    TLA+: LElectionTimer(i).
    """
    if not timing.timer_may_run_out(p, s, i):
        return None
    return restated.ElectionTimer(p, s, i)


def Lull(p: Params, s: State) -> State | None:
    """Elections stop overlapping: no timer runs out until the votes in flight are answered.

    TLA+: Lull (assumption R; spec/liveness/timing.py).
    """
    return timing.Lull(p, s)


def Stabilize(p: Params, s: State) -> State | None:
    """The network stabilizes: from now on no message on a link is lost.

    TLA+: Stabilize.
    """
    return None if s.stable else s._replace(stable=True)


def _drain_self(p: Params, s: State, i: int) -> State:
    """Handle every message i sent itself (its own (pre-)vote request, then the answer)."""
    for _ in range(2 * MAX_RECEIVES):
        mine = [m for m, _ in s.messages if m.msource == i and m.mdest == i]
        if not mine:
            return s
        r = restated.Receive(p, s, mine[0])
        if r is None:
            return s
        s = r[1]
    return s


def _copies(s: State, m: Message) -> int:
    return next((n for x, n in s.messages if x == m), 0)
