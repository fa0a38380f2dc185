"""Init, Next and the state constraint: one model, built from an action table per Params.

As spec/RaftElectionFeatures.tla EXTENDS RaftElection.tla and restates only the actions the
features change, `actions_for(p)` fills each slot of raft.tla's Next with the canonical action or
its featured replacement (spec/features/restated.py) and adds the features' own actions where
their feature is on; the options (spec/features/options.py) restate theirs on top. `Next`
enumerates every enabled instance of the table's actions, in the order of FNext, stuttering
steps included, because TLC counts every generated successor and our figures must equal TLC's.
With the lease in relative time every successor is normalised (features/relative_time.py), and
with `--reduce` reduced (features/reduce.py). raft.tla's Next also accumulates the history
variable allLogs, left out here (spec/state.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import NamedTuple

from electorate.spec import actions
from electorate.spec.features import lease, options, prevote, reduce, restated, variables
from electorate.spec.features.relative_time import Normalize, relative
from electorate.spec.liveness import network, quotient, steps, timing
from electorate.spec.messages import EMPTY_BAG, Message, copies, server_name, show_message
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State


class Action(NamedTuple):
    """One action instance: the TLA+ action name, its arguments, and the Receive handler."""

    name: str
    args: tuple[int | Message, ...]
    detail: str = ""

    def __str__(self) -> str:
        shown = [show_message(a) if isinstance(a, Message) else server_name(a) for a in self.args]
        if self.name == "ClientRequest":
            shown[-1] = f"v{self.args[-1]}"
        text = f"{self.name}({', '.join(shown)})"
        return f"{text} [{self.detail}]" if self.detail else text


# What an action ranges over, by its arguments: a server i, a pair (i, j) or (i, value v), or a
# message in the bag. A labelled action also names the branch it took (Receive's handler).
ServerAction = Callable[[Params, State, int], State | None]
PairAction = Callable[[Params, State, int, int], State | None]
MessageAction = Callable[[Params, State, Message], State | None]
LabelledServerAction = Callable[[Params, State, int], tuple[str, State] | None]
LabelledMessageAction = Callable[[Params, State, Message], tuple[str, State] | None]
GlobalAction = Callable[[Params, State], State | None]


@dataclass(frozen=True)
class ActionTable:
    """The actions of one model, slot by slot in FNext's order: the canonical action or the
    featured replacement, and None for an action the model does not have."""

    Restart: ServerAction | None  # none in liveness models
    Timeout: ServerAction
    LuckyTimeout: ServerAction | None  # liveness: assumption R (spec/liveness/timing.py)
    RequestPreVote: PairAction | None  # prevote
    StartElection: ServerAction | None  # prevote
    RequestVote: PairAction | None  # none in liveness models (steps.Timeout asks everyone)
    BecomeLeader: ServerAction | None  # none in liveness models (steps.Deliver leads at once)
    ClientRequest: PairAction | None  # heartbeat and log profiles
    AdvanceCommitIndex: ServerAction | None  # heartbeat and log profiles
    AppendEntries: PairAction | None  # heartbeat and log profiles; with features, every profile
    BareHeartbeat: PairAction | None  # option bare_heartbeats
    Heartbeat: ServerAction | None  # liveness: a leader's heartbeat to every other server
    HeartbeatRound: ServerAction | None  # lease
    ElectionTimer: LabelledServerAction | None  # every feature
    Tick: ServerAction | None  # lease
    Receive: LabelledMessageAction
    DuplicateMessage: MessageAction | None  # none in liveness models
    DropMessage: MessageAction
    Stabilize: GlobalAction | None  # liveness: the network stabilizes
    Lull: GlobalAction | None  # liveness: assumption R (spec/liveness/timing.py)


@cache
def actions_for(p: Params) -> ActionTable:
    """The action table of the model `p` (built once per Params)."""
    if p.topology is not None:
        return _liveness_table(p)
    table = _featured_table(p) if p.features else _canonical_table(p)
    return _with_options(p, table) if p.options else table


def _canonical_table(p: Params) -> ActionTable:
    logs = p.profile != "election"
    return ActionTable(
        Restart=actions.Restart,
        Timeout=actions.Timeout,
        LuckyTimeout=None,
        RequestPreVote=None,
        StartElection=None,
        RequestVote=actions.RequestVote,
        BecomeLeader=actions.BecomeLeader,
        ClientRequest=actions.ClientRequest if logs else None,
        AdvanceCommitIndex=actions.AdvanceCommitIndex if logs else None,
        AppendEntries=actions.AppendEntries if logs else None,
        BareHeartbeat=None,
        Heartbeat=None,
        HeartbeatRound=None,
        ElectionTimer=None,
        Tick=None,
        Receive=actions.Receive,
        DuplicateMessage=actions.DuplicateMessage,
        DropMessage=actions.DropMessage,
        Stabilize=None,
        Lull=None,
    )


def _featured_table(p: Params) -> ActionTable:
    logs = p.profile != "election"
    pre, timed = p.has("prevote"), lease.timed(p)
    return ActionTable(
        Restart=restated.Restart,
        Timeout=restated.Timeout,
        LuckyTimeout=None,
        RequestPreVote=prevote.RequestPreVote if pre else None,
        StartElection=prevote.StartElection if pre else None,
        RequestVote=actions.RequestVote,
        BecomeLeader=restated.BecomeLeader,
        ClientRequest=actions.ClientRequest if logs else None,
        AdvanceCommitIndex=actions.AdvanceCommitIndex if logs else None,
        AppendEntries=restated.AppendEntries,  # the features need a leader to be heard
        BareHeartbeat=None,
        Heartbeat=None,
        HeartbeatRound=lease.HeartbeatRound if timed else None,
        ElectionTimer=restated.ElectionTimer,
        Tick=lease.Tick if timed else None,
        Receive=restated.Receive,
        DuplicateMessage=actions.DuplicateMessage,
        DropMessage=actions.DropMessage,
        Stabilize=None,
        Lull=None,
    )


def _with_options(p: Params, t: ActionTable) -> ActionTable:
    """The table with the options' restated actions (spec/features/options.py) in their slots:
    the send of a leader, the handlers, and what keeps `knows_leader` where an option reads it."""
    o = options
    t = replace(
        t,
        Receive=o.Receive,
        AppendEntries=o.AppendEntries if t.AppendEntries is not None else None,
        BareHeartbeat=o.BareHeartbeat if p.opt("bare_heartbeats") else None,
    )
    if not o.knows(p):
        return t
    return replace(
        t,
        Restart=o.Restart,
        Timeout=o.Timeout,
        StartElection=o.StartElection if t.StartElection is not None else None,
        BecomeLeader=o.BecomeLeader,
        ElectionTimer=o.ElectionTimer if t.ElectionTimer is not None else None,
    )


def _liveness_table(p: Params) -> ActionTable:
    """A liveness model (spec/liveness/): the featured actions (their timers, with no feature
    too) composed into whole reactions (spec/liveness/steps.py), the timing assumptions on
    the timers, the environment's Stabilize and LuckyTimeout, a network that loses messages
    only before it stabilizes, and no Restart or duplication. Each action's fairness is in
    spec/liveness/fairness.py."""
    return ActionTable(
        Restart=None,
        Timeout=steps.Timeout,
        LuckyTimeout=steps.LuckyTimeout,
        RequestPreVote=None,
        StartElection=None,
        RequestVote=None,
        BecomeLeader=None,
        ClientRequest=None,
        AdvanceCommitIndex=None,
        AppendEntries=None,
        BareHeartbeat=None,
        Heartbeat=steps.Heartbeat,
        HeartbeatRound=None,
        ElectionTimer=steps.ElectionTimer,
        Tick=None,
        Receive=steps.Deliver,
        DuplicateMessage=None,
        DropMessage=network.DropMessage,
        Stabilize=steps.Stabilize,
        Lull=steps.Lull,
    )


def Init(p: Params) -> State:
    """Every server a follower in term 1 with no vote, empty logs, an empty network.

    TLA+: Init (with features, FInit: features/variables.py; options add knows_leader).
    """
    n = p.servers
    s = State(
        current_term=(1,) * n,
        role=(Role.Follower,) * n,
        voted_for=(NIL,) * n,
        votes_responded=(0,) * n,
        votes_granted=(0,) * n,
        next_index=((1,) * n,) * n,
        match_index=((0,) * n,) * n,
        log=((),) * n,
        commit_index=(0,) * n,
        messages=EMPTY_BAG,
    )
    if p.features or p.topology is not None:
        s = variables.Init(p, s)
    return s._replace(knows_leader=(False,) * n) if options.knows(p) else s


def Next(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """Every enabled action instance and its successor, in FNext's disjunct order.

    TLA+: Next (with features, FNext).
    """
    table = actions_for(p)
    if p.topology is not None:
        return _liveness(p, table, s, abstract=True)
    if not relative(p):
        return _instances(p, table, s)
    if not p.reduce:
        return ((a, Normalize(p, t)) for a, t in _instances(p, table, s))
    return _reduced(p, table, s)


def _instances(p: Params, a: ActionTable, s: State) -> Iterator[tuple[Action, State]]:
    servers = range(p.servers)
    if a.Restart is not None:
        for i in servers:
            t = a.Restart(p, s, i)
            if t is not None:
                yield Action("Restart", (i,)), t
    for i in servers:
        t = a.Timeout(p, s, i)
        if t is not None:
            yield Action("Timeout", (i,)), t
    if a.LuckyTimeout is not None:
        for i in servers:
            t = a.LuckyTimeout(p, s, i)
            if t is not None:  # its situation (quiet or not) names its fair instance
                yield Action("LuckyTimeout", (i,), timing.situation(s)), t
    if a.RequestPreVote is not None:
        for i in servers:
            for j in servers:
                t = a.RequestPreVote(p, s, i, j)
                if t is not None:
                    yield Action("RequestPreVote", (i, j)), t
    if a.StartElection is not None:
        for i in servers:
            t = a.StartElection(p, s, i)
            if t is not None:
                yield Action("StartElection", (i,)), t
    # Only candidates can RequestVote or BecomeLeader, only leaders act on logs and send
    # heartbeats: skip the instances whose role guard fails (every action checks its guards
    # anyway; this only saves calls in the hot path).
    candidates = [i for i in servers if s.role[i] == Role.Candidate]
    if a.RequestVote is not None:
        for i in candidates:
            for j in servers:
                t = a.RequestVote(p, s, i, j)
                if t is not None:
                    yield Action("RequestVote", (i, j)), t
    if a.BecomeLeader is not None:
        for i in candidates:
            t = a.BecomeLeader(p, s, i)
            if t is not None:
                yield Action("BecomeLeader", (i,)), t
    leaders = [i for i in servers if s.role[i] == Role.Leader]
    if a.ClientRequest is not None:
        for i in leaders:
            for v in range(1, p.values + 1):
                t = a.ClientRequest(p, s, i, v)
                if t is not None:
                    yield Action("ClientRequest", (i, v)), t
    if a.AdvanceCommitIndex is not None:
        for i in leaders:
            t = a.AdvanceCommitIndex(p, s, i)
            if t is not None:
                yield Action("AdvanceCommitIndex", (i,)), t
    if a.AppendEntries is not None:
        for i in leaders:
            for j in servers:
                t = a.AppendEntries(p, s, i, j)
                if t is not None:
                    yield Action("AppendEntries", (i, j)), t
    if a.BareHeartbeat is not None:
        for i in leaders:
            for j in servers:
                t = a.BareHeartbeat(p, s, i, j)
                if t is not None:
                    yield Action("BareHeartbeat", (i, j)), t
    if a.Heartbeat is not None:
        for i in leaders:
            t = a.Heartbeat(p, s, i)
            if t is not None:
                yield Action("Heartbeat", (i,)), t
    if a.HeartbeatRound is not None:
        for i in leaders:
            t = a.HeartbeatRound(p, s, i)
            if t is not None:
                yield Action("HeartbeatRound", (i,)), t
    if a.ElectionTimer is not None:
        for i in servers:
            fired = a.ElectionTimer(p, s, i)
            if fired is not None:
                yield Action("ElectionTimer", (i,), fired[0]), fired[1]
    if a.Tick is not None:
        for i in servers:
            t = a.Tick(p, s, i)
            if t is not None:
                yield Action("Tick", (i,)), t
    for m, _ in s.messages:
        received = a.Receive(p, s, m)
        if received is not None:
            yield Action("Receive", (m,), received[0]), received[1]
    if a.DuplicateMessage is not None:
        for m, _ in s.messages:
            t = a.DuplicateMessage(p, s, m)
            if t is not None:
                yield Action("DuplicateMessage", (m,)), t
    for m, _ in s.messages:
        t = a.DropMessage(p, s, m)
        if t is not None:
            yield Action("DropMessage", (m,)), t
    if a.Stabilize is not None:
        t = a.Stabilize(p, s)
        if t is not None:
            yield Action("Stabilize", ()), t
    if a.Lull is not None:
        t = a.Lull(p, s)
        if t is not None:
            yield Action("Lull", ()), t


def _reduced(p: Params, a: ActionTable, s: State) -> Iterator[tuple[Action, State]]:
    """--reduce: a cluster with no leader keeps no clocks, so its Ticks are not taken (they
    would change nothing) and BecomeLeader takes every clock skew within the drift."""
    idle = reduce.idle(s)
    for action, t in _instances(p, a, s):
        if idle and action.name == "Tick":
            continue
        if idle and action.name == "BecomeLeader":
            i = action.args[0]
            assert isinstance(i, int) and a.BecomeLeader is not None
            for clocks in reduce.skews(p):
                elected = a.BecomeLeader(p, s._replace(clock=clocks), i)
                assert elected is not None  # its guard does not read clocks
                yield action, reduce.Reduce(p, Normalize(p, elected))
            continue
        yield action, reduce.Reduce(p, Normalize(p, t))


def _liveness(
    p: Params, a: ActionTable, s: State, abstract: bool
) -> Iterator[tuple[Action, State]]:
    """A liveness model's steps: each action of the table, then the network settles, the lucky
    window is kept (spec/liveness/timing.py) and dead variables are cleared; in the quotient
    (`abstract`) terms are normalised and every representative of s is stepped
    (spec/liveness/quotient.py). A step that changes nothing yields s itself (a stutter)."""
    done: set[tuple[str, object, str, State]] = set()
    reps = quotient.representatives(s) if abstract else [s]
    for rep in reps:
        for action, t in _instances(p, a, rep):
            u = liveness_step(p, rep, action, t)
            if u == rep:
                if rep is s:
                    yield action, s
                continue
            if abstract:
                u = quotient.normalise(u)
            key = (action.name, _instance(action), action.detail, u)
            if key in done:
                continue
            done.add(key)
            yield action, u


def ConcreteNext(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """A liveness model's steps without the term quotient (terms grow without bound): what a
    lasso of the quotient is replayed in before it is reported."""
    assert p.topology is not None, "ConcreteNext is the liveness models' Next"
    return _liveness(p, actions_for(p), s, abstract=False)


def liveness_step(p: Params, s: State, action: Action, t: State) -> State:
    """What follows an action in a liveness model: the network settles, the lucky server's
    round is recorded and its window closed when the round is over, dead variables cleared."""
    if t is s:
        return s
    t = network.settle(p, s, t)
    return quotient.clear_dead(timing.close_window(p, t))


def _instance(action: Action) -> object:
    """An action instance's arguments with a message named by its slot (one per slot)."""
    return tuple(network.slot(x) if isinstance(x, Message) else x for x in action.args)


def constraint(p: Params, s: State) -> bool:
    """The TLC state constraint that keeps the model finite.

    TLA+: Constraint (with PreVote, FConstraint: features/prevote.py). A liveness model has
    none: its quotient is finite (spec/liveness/quotient.py).
    """
    if p.topology is not None:
        return True
    if max(s.current_term) > p.max_term or copies(s.messages) > p.max_msgs:
        return False
    if p.profile == "log" and max(len(log) for log in s.log) > p.max_log:
        return False
    return not p.has("prevote") or prevote.constraint(p, s)
