"""Issue 3's features (PreVote, CheckQuorum, leader lease): the Next of a featured model.

The features change Timeout, Restart, BecomeLeader and parts of Receive (spec/ext_actions.py)
and add actions of their own; everything else is raft.tla's action from spec/actions.py.
Timers are explicit nondeterministic actions (ElectionTimer), not real time, except that with
the lease a follower's timer cannot run out before its deadline on its own discrete clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from electorate.spec import actions, ext_actions, ext_props, ext_reduce, ext_state, ext_time
from electorate.spec.params import Params
from electorate.spec.state import Role, State

if TYPE_CHECKING:
    from electorate.spec.invariants import Invariant
    from electorate.spec.next import Action


def init_extension_vars(p: Params, s: State) -> State:
    """Init with the feature variables set up: nobody has heard a leader, clocks at 0."""
    return ext_state.init_vars(p, s)


def NextWithFeatures(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """Every enabled action instance of the featured spec and its successor (relative time:
    normalised, see spec/ext_time.py; with --reduce, reduced, see spec/ext_reduce.py)."""
    if not ext_time.relative(p):
        yield from _next(p, s)
    elif not p.reduce:
        for a, t in _next(p, s):
            yield a, ext_time.Normalize(p, t)
    else:
        yield from _next_reduced(p, s)


def _next_reduced(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """--reduce: a cluster with no leader keeps no clocks, so its Ticks are not taken (they
    would change nothing) and BecomeLeader takes every clock skew within the drift."""
    idle = ext_reduce.idle(s)
    for a, t in _next(p, s):
        if idle and a.name == "Tick":
            continue
        if idle and a.name == "BecomeLeader":
            i = a.args[0]
            assert isinstance(i, int)
            for clocks in ext_reduce.skews(p):
                elected = ext_actions.BecomeLeader(p, s._replace(clock=clocks), i)
                assert elected is not None  # its guard does not read clocks
                yield a, ext_reduce.Reduce(p, ext_time.Normalize(p, elected))
            continue
        yield a, ext_reduce.Reduce(p, ext_time.Normalize(p, t))


def _next(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    from electorate.spec.next import Action

    servers = range(p.servers)
    for i in servers:
        yield Action("Restart", (i,)), ext_actions.Restart(p, s, i)
    for i in servers:
        t = ext_actions.Timeout(p, s, i)
        if t is not None:
            yield Action("Timeout", (i,)), t
    if p.has("prevote"):
        yield from _prevote_actions(p, s)
    for i in servers:
        for j in servers:
            t = actions.RequestVote(p, s, i, j)
            if t is not None:
                yield Action("RequestVote", (i, j)), t
    for i in servers:
        t = ext_actions.BecomeLeader(p, s, i)
        if t is not None:
            yield Action("BecomeLeader", (i,)), t
    if p.profile != "election":
        yield from _log_actions(p, s)
    yield from _timer_actions(p, s)
    yield from _message_actions(p, s)


def _prevote_actions(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    from electorate.spec.next import Action

    servers = range(p.servers)
    for i in servers:
        for j in servers:
            t = ext_actions.RequestPreVote(p, s, i, j)
            if t is not None:
                yield Action("RequestPreVote", (i, j)), t
    for i in servers:
        t = ext_actions.StartElection(p, s, i)
        if t is not None:
            yield Action("StartElection", (i,)), t


def _log_actions(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """ClientRequest and AdvanceCommitIndex, unchanged (heartbeat and log profiles)."""
    from electorate.spec.next import Action

    for i in range(p.servers):
        for v in range(1, p.values + 1):
            t = actions.ClientRequest(p, s, i, v)
            if t is not None:
                yield Action("ClientRequest", (i, v)), t
    for i in range(p.servers):
        t = actions.AdvanceCommitIndex(p, s, i)
        if t is not None:
            yield Action("AdvanceCommitIndex", (i,)), t


def _timer_actions(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """Heartbeats (every profile: the features need a leader to be heard), rounds, timers."""
    from electorate.spec.next import Action

    servers = range(p.servers)
    for i in servers:
        for j in servers:
            t = ext_actions.AppendEntries(p, s, i, j)
            if t is not None:
                yield Action("AppendEntries", (i, j)), t
    lease = p.has("lease")
    if lease:
        for i in servers:
            t = ext_actions.HeartbeatRound(p, s, i)
            if t is not None:
                yield Action("HeartbeatRound", (i,)), t
    for i in servers:
        fired = ext_actions.ElectionTimer(p, s, i)
        if fired is not None:
            yield Action("ElectionTimer", (i,), fired[0]), fired[1]
    if lease:
        for i in servers:
            t = ext_actions.Tick(p, s, i)
            if t is not None:
                yield Action("Tick", (i,)), t


def _message_actions(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    from electorate.spec.next import Action

    for m, _ in s.messages:
        received = ext_actions.Receive(p, s, m)
        if received is not None:
            yield Action("Receive", (m,), received[0]), received[1]
    for m, _ in s.messages:
        yield Action("DuplicateMessage", (m,)), actions.DuplicateMessage(p, s, m)
    for m, _ in s.messages:
        yield Action("DropMessage", (m,)), actions.DropMessage(p, s, m)


def extension_constraint(p: Params, s: State) -> bool:
    """The term bound applied to pre-votes: no pre-candidate proposes a term beyond max_term
    (as no candidate may hold one). Tick itself keeps clocks within max_clock."""
    if not p.has("prevote"):
        return True
    for i, role in enumerate(s.role):
        if role == Role.PreCandidate and s.current_term[i] >= p.max_term:
            return False
    return True


def invariants_for(p: Params) -> tuple[Invariant, ...]:
    return ext_props.invariants_for(p)


def sometimes_for(p: Params) -> tuple[Invariant, ...]:
    return ext_props.sometimes_for(p)
