"""A trace in the spec's terms: the model (Params) its nodes run, server indices, messages,
roles, the first state, and each node's steps (an input event and the outputs after it).

What is abstracted (docs/trace-validation.md, "What is checked"):
- time: timer lengths, clocks and lease durations are not compared; a timer may fire at any
  step, as the spec's untimed ElectionTimer and Timeout allow;
- logs: every node's log is empty (the implementation's election has none), so vote
  requests must carry last log index and term 0;
- the lease: with ``lease`` on, a (re)started node is inside a lease (it may have acked a
  heartbeat just before crashing), as the spec's lease feature restates Restart, and a
  ``lease_start`` needs a quorum of acks (checked on the events, electorate.validate.rules);
  lease lengths and clocks are not modelled;
- message identity: messages are compared by their spec fields (heartbeat rounds and the
  transfer flag are not in the spec), so identical messages are interchangeable copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from electorate.spec.ids import Feature, Profile
from electorate.spec.messages import Entry, Message, MType, WithMessage
from electorate.spec.next import (
    Init,
    LabelledMessageAction,
    LabelledServerAction,
    PairAction,
    ServerAction,
    actions_for,
)
from electorate.spec.params import MAX_SERVERS, Params
from electorate.spec.state import NIL, Except, Role, State
from electorate.validate.events import Event, Msg, TraceFormatError
from electorate.validate.tracefile import Trace

ROLE_OF = {
    "follower": Role.Follower,
    "pre_candidate": Role.PreCandidate,
    "candidate": Role.Candidate,
    "leader": Role.Leader,
}
ROLE_NAME = {r: n for n, r in ROLE_OF.items()}
REQUESTS = (MType.RequestVoteRequest, MType.AppendEntriesRequest)


@dataclass(frozen=True)
class Model:
    """The spec model of a trace: its Params, node ids by server index, the lease flag."""

    p: Params
    names: tuple[str, ...]
    lease: bool
    index: dict[str, int] = field(compare=False, hash=False)

    @property
    def featured(self) -> bool:
        return bool(self.p.features)

    def name(self, i: int) -> str:
        return "Nil" if i == NIL else self.names[i]

    def vote_index(self, v: str | None) -> int:
        return NIL if v is None else self.index[v]


def model_for(trace: Trace) -> Model:
    """The spec model the trace's nodes run: their features (PreVote, CheckQuorum) on the
    election profile, or raft.tla's heartbeat profile without features (its AppendEntries)."""
    n = len(trace.voters)
    if n > MAX_SERVERS:
        raise TraceFormatError(
            f"{trace.source}: {n} voters; the spec is checked for at most {MAX_SERVERS}"
        )
    wanted: tuple[Feature, ...] = ("prevote", "check_quorum")
    features = frozenset(f for f in wanted if trace.config[f])
    profile: Profile = "election" if features else "heartbeat"
    p = Params(servers=n, profile=profile, max_term=1, max_msgs=1, features=features)
    index = {v: k for k, v in enumerate(trace.voters)}
    return Model(p, trace.voters, trace.config["lease"], index)


def spec_message(mdl: Model, m: Msg) -> Message | None:
    """The spec's record of a trace message (None: TimeoutNow, which the spec does not have)."""
    src, dst = mdl.index[m.src], mdl.index[m.dst]
    if m.type == "request_vote":
        return Message(
            MType.RequestVoteRequest,
            m.term,
            src,
            dst,
            mlast_log_term=m.last_log_term,
            mlast_log_index=m.last_log_index,
            mpre_vote=m.pre_vote,
        )
    if m.type == "request_vote_res":
        return Message(
            MType.RequestVoteResponse, m.term, src, dst, mvote_granted=m.granted,
            mpre_vote=m.pre_vote,
        )  # fmt: skip
    if m.type == "append_entries":
        # Log positions and entries as the trace gives them (entries by count: their terms are
        # not logged); the spec's heartbeat carries none, so a non-empty log cannot match.
        entries = (Entry(0, 0),) * m.entries
        return Message(
            MType.AppendEntriesRequest,
            m.term,
            src,
            dst,
            mprev_log_index=m.prev_log_index,
            mprev_log_term=m.prev_log_term,
            mentries=entries,
        )
    if m.type == "append_entries_res":
        return Message(MType.AppendEntriesResponse, m.term, src, dst, msuccess=m.success)
    return None


@dataclass(frozen=True)
class Table:
    """The spec actions a trace's steps are explained by (spec/next.py's action table, the
    slots a trace model always has made non-optional)."""

    Restart: ServerAction
    Timeout: ServerAction
    RequestPreVote: PairAction | None
    StartElection: ServerAction | None
    RequestVote: PairAction
    BecomeLeader: ServerAction
    AppendEntries: PairAction | None
    ElectionTimer: LabelledServerAction | None
    Receive: LabelledMessageAction


def table_for(mdl: Model) -> Table:
    t = actions_for(mdl.p)
    assert t.Restart is not None and t.RequestVote is not None and t.BecomeLeader is not None
    return Table(
        t.Restart,
        t.Timeout,
        t.RequestPreVote,
        t.StartElection,
        t.RequestVote,
        t.BecomeLeader,
        t.AppendEntries,
        t.ElectionTimer,
        t.Receive,
    )


# ---------------------------------------------------------------------------- steps


@dataclass
class Step:
    """One step of one node: its input event and the outputs up to its next input."""

    node: int
    input: Event
    outputs: list[Event]
    msg: Message | None = None  # recv: the spec message (None: not a spec message)
    key: object = None  # recv: what a send must have carried (causality)
    sends: list[tuple[Event, Message | None]] = field(default_factory=list)
    hard: tuple[int, int] | None = None  # the last `term` event: (term, voted_for index)
    role: Role | None = None  # the last `role` event
    votes: list[Event] = field(default_factory=list)
    lease: list[Event] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.input.kind

    @property
    def events(self) -> Iterator[Event]:
        yield self.input
        yield from self.outputs


def wire_key(m: Msg, spec: Message | None) -> object:
    """What ties a receive to a send: the spec message, or the wire fields for TimeoutNow."""
    return spec if spec is not None else (m.type, m.src, m.dst, m.term)


def build_step(mdl: Model, node: int, events: list[Event]) -> Step:
    """The step made of ``events`` (an input first, then outputs)."""
    first = events[0]
    step = Step(node, first, events[1:])
    if first.msg is not None:
        step.msg = spec_message(mdl, first.msg)
        step.key = wire_key(first.msg, step.msg)
    for ev in step.outputs:
        k = ev.kind
        if k == "send":
            assert ev.msg is not None
            step.sends.append((ev, spec_message(mdl, ev.msg)))
        elif k == "term":
            step.hard = (ev.data["term"], mdl.vote_index(_voter(mdl, ev, ev.data["voted_for"])))
        elif k == "role":
            step.role = ROLE_OF[ev.data["role"]]
        elif k == "vote":
            _voter(mdl, ev, ev.data["candidate"])
            step.votes.append(ev)
        else:
            step.lease.append(ev)
    if first.kind in ("start", "restart"):
        d = first.data
        step.hard = (d["term"], mdl.vote_index(_voter(mdl, first, d["voted_for"])))
    return step


def _voter(mdl: Model, ev: Event, v: str | None) -> str | None:
    if v is not None and v not in mdl.index:
        known = ", ".join(mdl.names)
        raise TraceFormatError(f"{ev.where}: unknown node {v!r} (voters: {known})")
    return v


def split_steps(mdl: Model, node: int, events: list[Event], final: bool) -> tuple[list[Step], int]:
    """The complete steps of a node's events, and how many events they use. The last step is
    complete only when the next input follows it, or when the log is ``final``."""
    steps: list[Step] = []
    start = 0
    for k in range(1, len(events) + 1):
        at_end = k == len(events)
        if (at_end and final) or (not at_end and events[k].kind in _INPUTS):
            if events[start].kind not in _INPUTS:
                ev = events[start]
                raise TraceFormatError(f"{ev.where}: {ev.kind} event outside any step")
            steps.append(build_step(mdl, node, events[start:k]))
            start = k
    return steps, start


_INPUTS = frozenset({"start", "restart", "recv", "timer"})


# ---------------------------------------------------------------------------- first state


def first_state(mdl: Model, trace: Trace) -> State:
    """The spec state before the first step: each node as its first start record says (a
    follower with that term and vote), inside a lease if the nodes run one, nothing in
    flight. A voter that never started keeps Init's values."""
    p = mdl.p
    s = Init(p)
    terms, votes = list(s.current_term), list(s.voted_for)
    for name, log in trace.logs.items():
        ev = log.events[0]
        i = mdl.index[name]
        terms[i] = ev.data["term"]
        votes[i] = mdl.vote_index(_voter(mdl, ev, ev.data["voted_for"]))
    s = s._replace(current_term=tuple(terms), voted_for=tuple(votes))
    if mdl.lease and mdl.featured:
        for name in trace.logs:
            s = started_in_lease(mdl, s, mdl.index[name])
    return s


def started_in_lease(mdl: Model, s: State, i: int) -> State:
    """A (re)started node running a lease behaves as inside one (heardLeader, as the spec's
    lease feature restates Restart: FRestart); clocks are not modelled."""
    if not mdl.lease or not mdl.featured:
        return s
    return s._replace(heard_leader=Except(s.heard_leader, i, True)) if s.heard_leader else s


def with_copy(s: State, m: Message) -> State:
    """One more copy of m in flight (a duplication inferred for a repeated receive)."""
    return s._replace(messages=WithMessage(m, s.messages))
