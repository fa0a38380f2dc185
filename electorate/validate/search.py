"""The BFS over spec states consistent with a trace, and its verdict.

The per-node logs are merged in an order consistent with message causality: a node's next
step is taken once every message it receives has been sent (by a step already taken), else
a repeated receive is inferred to be a duplicate only when nothing else can move. Among the
steps that may go next the one with the earliest wall clock goes first, which changes nothing
but the reading order: the spec's actions of different nodes commute (each reads its own
server's variables and the bag), so every causal merge has the same verdict.

The frontier is the set of spec states reached by the steps taken so far (unobserved
variables are free, so it may hold several). Each step maps every frontier state to the
successors that explain it (electorate.validate.match); none left means the step is the first
no spec behaviour explains. A frontier wider than ``max_frontier`` stops the search with an
"inconclusive" verdict (never "valid").
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from electorate.spec.actions import DropMessage
from electorate.spec.messages import Message
from electorate.spec.next import Action, Next
from electorate.spec.state import NIL, Except, Role, State, members
from electorate.validate.events import Event
from electorate.validate.mapping import (
    Model,
    Step,
    first_state,
    model_for,
    spec_message,
    split_steps,
    started_in_lease,
    wire_key,
)
from electorate.validate.match import Attempt, Matcher, Targets
from electorate.validate.rules import Rules, RuleViolation
from electorate.validate.tracefile import Trace
from electorate.validate.why import show_action

Status = Literal["valid", "invalid", "inconclusive", "running"]
MAX_FRONTIER = 4096
SHOWN_STATES = 6  # frontier states detailed in a failure report


@dataclass
class Frame:
    """A frontier state and how it was reached (a chain back to the first state)."""

    state: State
    parent: Frame | None
    actions: tuple[Action, ...]
    step: int  # the index of the step that led here (-1: the first state)


@dataclass
class StateReport:
    """One frontier state at a failure: the node's variables, what it could do, what failed."""

    summary: str
    enabled: list[str]
    attempts: list[Attempt]


@dataclass
class Failure:
    """The first event no spec behaviour explains, with the frontier it was tried from."""

    event: Event
    step: Step
    problem: str
    frontier: list[StateReport]
    width: int
    rules: list[RuleViolation] = field(default_factory=list)
    note: str = ""


@dataclass
class Verdict:
    source: str
    status: Status
    events: int = 0
    steps: int = 0
    widths: list[int] = field(default_factory=list)
    seconds: float = 0.0
    failure: Failure | None = None
    rule: RuleViolation | None = None  # a rule broken where the search went on
    note: str = ""
    behaviour: list[tuple[Step, tuple[Action, ...]]] = field(default_factory=list)
    model: Model | None = None
    first: State | None = None

    @property
    def max_width(self) -> int:
        return max(self.widths, default=0)


class Validator:
    """Validates one trace: feed it events (all at once, or as a log grows), then `advance`."""

    def __init__(
        self,
        trace: Trace,
        max_frontier: int = MAX_FRONTIER,
        keep_behaviour: bool = True,
        receives: Counter[object] | None = None,
    ) -> None:
        # Without keep_behaviour, each frontier state forgets how it was reached and events
        # already cut into steps are dropped: memory stays flat for a log followed for days.
        self.keep_behaviour = keep_behaviour
        self.trace = trace
        self.mdl = model_for(trace)
        self.matcher = Matcher(self.mdl)
        self.rules = Rules(self.mdl, trace.observes)
        self.max_frontier = max_frontier
        self.first = first_state(self.mdl, trace)
        self.frontier: list[Frame] = [Frame(self.first, None, (), -1)]
        self.taken: list[Step] = []
        self.step_count = 0
        self.widths: list[int] = []
        self.events = 0
        n = self.mdl.p.servers
        self._queue: list[list[Step]] = [[] for _ in range(n)]
        self._used = [0] * n  # events of each node already cut into steps
        self._available: Counter[object] = Counter()  # sent and not yet received, by key
        self._sent: Counter[object] = Counter()  # ever sent, by key
        # With the whole trace known: how often each message is still to be received. A copy
        # beyond that is never received: dropped when sent (a loss), so the bag stays small.
        self._future = receives
        self._hard: dict[int, tuple[int, int]] = {}
        self._role: dict[int, Role] = {}
        self._started: set[int] = set()
        self._fresh: set[int] = set()  # nodes that have not timed out since they started
        self._rule_hit: RuleViolation | None = None
        self._seconds = 0.0
        # The first event seen with a non-empty log position, for the failure's note (found as
        # events are cut into steps: without keep_behaviour they are dropped after that).
        self._log_event: Event | None = None
        self.result: Verdict | None = None

    # ------------------------------------------------------------------ feeding

    def refresh(self, final: bool, settled: frozenset[str] = frozenset()) -> None:
        """Cut the nodes' new events into steps; a node's last step only when ``final`` or
        when the node is in ``settled`` (it has written nothing for a while: its step is
        whole, as a writer flushes a step at once)."""
        earliest: Event | None = None
        for name, log in self.trace.logs.items():
            i = self.mdl.index[name]
            events = log.events[self._used[i] :]
            steps, used = split_steps(self.mdl, i, events, final or name in settled)
            if self._log_event is None:
                logged = (e for e in events[:used] if e.msg is not None and e.msg.has_log)
                found = next(logged, None)
                if found is not None and (earliest is None or found.line < earliest.line):
                    earliest = found  # this batch's earliest line, of all the nodes
            self._queue[i] += steps
            self._used[i] += used
            if not self.keep_behaviour and self._used[i]:
                del log.events[: self._used[i]]  # their steps hold them now
                self._used[i] = 0
        self._log_event = self._log_event or earliest

    def advance(self, final: bool, settled: frozenset[str] = frozenset()) -> Verdict:
        """Take every step that can go now; with ``final`` the trace is complete."""
        if self.result is not None:
            return self.result
        started = time.perf_counter()
        v = self._advance(final, settled)
        self._seconds += time.perf_counter() - started
        v.seconds = self._seconds
        return v

    def _advance(self, final: bool, settled: frozenset[str]) -> Verdict:
        self.refresh(final, settled)
        while True:
            step = self._pick()
            if step is None:
                break
            failure = self._take(step)
            if failure is not None:
                return self._finish("invalid", failure)
            if len(self.frontier) > self.max_frontier:
                return self._finish(
                    "inconclusive",
                    note=f"the frontier grew to {len(self.frontier)} states (more than "
                    f"--max-frontier {self.max_frontier}) at {step.input.show()} "
                    f"({step.input.where}); raise the bound to go on",
                )
        blocked = self._blocked()
        if final and blocked is not None:
            return self._finish("invalid", blocked)
        if final:
            return self._finish("valid" if self._rule_hit is None else "invalid")
        return self._verdict("running")

    # ------------------------------------------------------------------ merge

    def _pick(self) -> Step | None:
        """The next step in a causal merge (earliest wall clock first among those ready);
        a duplicate is inferred only when no step is ready."""
        best: Step | None = None
        best_key: tuple[float, int] | None = None
        for q in self._queue:
            if not q:
                continue
            step = q[0]
            if step.kind == "recv" and self._available[step.key] <= 0:
                continue
            key = (step.input.data.get("t", math.inf), step.node)
            if best_key is None or key < best_key:
                best, best_key = step, key
        if best is not None:
            return best
        for q in self._queue:
            if q and q[0].kind == "recv" and self._sent[q[0].key] > 0:
                return q[0]
        return None

    def _blocked(self) -> Failure | None:
        """At the end: a receive whose message no step sent (before it)."""
        waiting = [q[0] for q in self._queue if q]
        if not waiting:
            return None
        step = min(waiting, key=lambda s: (s.input.data.get("t", math.inf), s.node))
        assert step.input.msg is not None
        return Failure(
            step.input,
            step,
            f"{step.input.show()}: no node sent this message before it was received "
            "(no send event matches it; a receive needs a send)",
            [],
            len(self.frontier),
            self._rules_at(step),
        )

    # ------------------------------------------------------------------ one step

    def _take(self, step: Step) -> Failure | None:
        i = step.node
        self._queue[i].pop(0)
        want = self._targets(step)
        duplicate = False
        if step.kind == "recv":
            duplicate = self._available[step.key] <= 0
        index = self.step_count
        nxt: list[Frame] = []
        reports: list[tuple[Frame, list[Attempt]]] = []
        keep = self.keep_behaviour
        for frame in self.frontier:
            s = frame.state
            if step.kind == "start" and i not in self._started:
                s = self._start_state(s, step)
            found, failed = self.matcher.explain(s, step, want, duplicate)
            if not found:
                reports.append((frame, failed))
            for e in found:
                acts = e.actions if keep else ()
                nxt.append(Frame(e.state, frame if keep else None, acts, index))
        hits = self.rules.step(step)
        if hits and self._rule_hit is None:
            self._rule_hit = hits[0]
        if not nxt:
            return self._failure(step, reports, hits)
        self.step_count += 1
        if keep:
            self.taken.append(step)
        self.events += 1 + len(step.outputs)
        if len(nxt) > 1:  # one state per distinct spec state (hashing a state costs: only now)
            nxt = list({f.state: f for f in reversed(nxt)}.values())[::-1]
        self.frontier = nxt
        self._after(step)
        self.widths.append(len(self.frontier))
        return None

    def _lose_unreceived(self, key: object, m: Message) -> None:
        """Copies of m beyond the receives still to come are lost now (DropMessage)."""
        assert self._future is not None
        excess = self._available[key] - self._future[key]
        if excess <= 0:
            return
        self._available[key] -= excess
        drop = Action("DropMessage", (m,), "never received")
        for f in self.frontier:
            s = f.state
            for _ in range(excess):
                s = DropMessage(self.mdl.p, s, m)
            f.state = s
            if self.keep_behaviour:
                f.actions = (*f.actions, *([drop] * excess))

    def _start_state(self, s: State, step: Step) -> State:
        """A node's first start: its term and vote as recorded (Init's values until then;
        nothing has read them, so this is the state it had from the beginning)."""
        assert step.hard is not None
        i = step.node
        term, vote = step.hard
        if s.current_term[i] == term and s.voted_for[i] == vote:
            return s
        s = s._replace(
            current_term=Except(s.current_term, i, term), voted_for=Except(s.voted_for, i, vote)
        )
        return started_in_lease(self.mdl, s, i)

    def _targets(self, step: Step) -> Targets:
        """What the trace says node i holds after the step (None: not logged)."""
        i = step.node
        seen = self.trace.observes.get(self.mdl.names[i], frozenset())
        hard = step.hard if step.hard is not None else self._hard.get(i)
        if "term" not in seen and step.kind not in ("start", "restart"):
            hard = None
        role = step.role
        if role is None and step.kind in ("start", "restart"):
            role = Role.Follower
        if role is None:
            role = self._role.get(i, Role.Follower)
        return Targets(hard, role if "role" in seen else None, i in self._fresh)

    def _after(self, step: Step) -> None:
        i = step.node
        self._started.add(i)
        if step.kind in ("start", "restart"):
            self._fresh.add(i)
        elif step.kind == "timer" and any(
            e.kind == "role" and e.data["role"] != "follower" for e in step.outputs
        ):
            self._fresh.discard(i)  # its election timer ran out: past the start-up window
        if step.hard is not None:
            self._hard[i] = step.hard
        if step.role is not None:
            self._role[i] = step.role
        elif step.kind in ("start", "restart"):
            self._role[i] = Role.Follower
        if step.kind == "recv":
            if self._available[step.key] > 0:
                self._available[step.key] -= 1
            if self._future is not None:
                self._future[step.key] -= 1
        for ev, m in step.sends:
            assert ev.msg is not None
            key = m if m is not None else (ev.msg.type, ev.msg.src, ev.msg.dst, ev.msg.term)
            self._available[key] += 1
            self._sent[key] += 1
            if self._future is not None and m is not None:
                self._lose_unreceived(key, m)

    # ------------------------------------------------------------------ verdicts

    def _finish(self, status: Status, failure: Failure | None = None, note: str = "") -> Verdict:
        if self.keep_behaviour:
            self.first = first_state(self.mdl, self.trace)  # every node's start known by now
        v = self._verdict(status)
        v.failure, v.note = failure, note
        if status == "valid" or (status == "invalid" and failure is None):
            v.behaviour = self._behaviour()
        if status == "invalid" and failure is None and self._rule_hit is not None:
            v.note = (
                "every step has a spec behaviour, yet the events break a rule: "
                + self._rule_hit.show()
            )
        self.result = v
        return v

    def _verdict(self, status: Status) -> Verdict:
        return Verdict(
            self.trace.source,
            status,
            events=self.events,
            steps=self.step_count,
            widths=list(self.widths),
            seconds=self._seconds,
            rule=self._rule_hit,
            model=self.mdl,
            first=self.first,
        )

    def _behaviour(self) -> list[tuple[Step, tuple[Action, ...]]]:
        """The matched behaviour: one surviving frame's chain, step by step."""
        out: list[tuple[Step, tuple[Action, ...]]] = []
        if not self.keep_behaviour:
            return out
        f: Frame | None = self.frontier[0]
        while f is not None and f.step >= 0:
            out.append((self.taken[f.step], f.actions))
            f = f.parent
        out.reverse()
        return out

    def _rules_at(self, step: Step) -> list[RuleViolation]:
        hits = [] if self._rule_hit is None else [self._rule_hit]
        return hits

    def _failure(
        self, step: Step, reports: list[tuple[Frame, list[Attempt]]], hits: list[RuleViolation]
    ) -> Failure:
        event, problem = _first_unexplained(step, [a for _, atts in reports for a in atts])
        shown = [self._state_report(f.state, step, atts) for f, atts in reports[:SHOWN_STATES]]
        rules = ([self._rule_hit] if self._rule_hit is not None else []) + [
            h for h in hits if h is not self._rule_hit
        ]
        return Failure(event, step, problem, shown, len(self.frontier), rules, self._log_note())

    def _log_note(self) -> str:
        """Logs are abstracted (empty): say so when the trace shows a non-empty one."""
        ev = self._log_event
        if ev is None:
            return ""
        return (
            f"this trace carries log positions (for instance {ev.show()}, {ev.where}); "
            "logs are abstracted here (every log is empty), so a step that depends "
            "on a node's log cannot be explained"
        )

    def _state_report(self, s: State, step: Step, attempts: list[Attempt]) -> StateReport:
        mdl = self.mdl
        i = step.node
        n = mdl.name(i)
        parts = [
            f"currentTerm[{n}] = {s.current_term[i]}",
            f"state[{n}] = {s.role[i].name}",
            f"votedFor[{n}] = {mdl.name(s.voted_for[i])}",
            f"votesGranted[{n}] = {_set(mdl, s.votes_granted[i])}",
        ]
        if s.heard_leader:
            parts.append(f"heardLeader[{n}] = {s.heard_leader[i]}")
        if s.prevotes_granted:
            parts.append(f"prevotesGranted[{n}] = {_set(mdl, s.prevotes_granted[i])}")
        inflight = sum(c for m, c in s.messages if m.mdest == i)
        parts.append(f"{inflight} message(s) in flight to {n}")
        enabled = sorted(
            {
                show_action(mdl, Action(a.name, a.args, ""))
                for a, _ in Next(mdl.p, s)
                if _actor(a) == i and a.name not in ("DuplicateMessage", "DropMessage")
            }
        )
        return StateReport(", ".join(parts), enabled, attempts)


def _actor(a: Action) -> int:
    x = a.args[0] if a.args else NIL
    if isinstance(x, int):
        return x
    return x.mdest


def _set(mdl: Model, mask: int) -> str:
    return "{" + ", ".join(mdl.name(j) for j in members(mask)) + "}"


def _first_unexplained(step: Step, attempts: Iterable[Attempt]) -> tuple[Event, str]:
    """The event beyond which no composition explains the step: for each attempt, the
    earliest event its problems are about; the latest of those (the attempt that got
    furthest), with its problem."""
    best: tuple[int, Event, str] | None = None
    for a in attempts:
        if not a.problems:
            continue
        first = min(a.problems, key=lambda p: (p.event or step.input).seq)
        ev = first.event or step.input
        if best is None or ev.seq > best[0]:
            best = (ev.seq, ev, first.text)
    if best is None:
        return step.input, f"{step.input.show()}: no spec action explains this step"
    return best[1], best[2]


def validate(
    trace: Trace, max_frontier: int = MAX_FRONTIER, keep_behaviour: bool = True
) -> Verdict:
    """Validate a complete trace (its receives known in advance: see `Validator`)."""
    mdl = model_for(trace)
    receives: Counter[object] = Counter(
        wire_key(e.msg, spec_message(mdl, e.msg))
        for log in trace.logs.values()
        for e in log.events
        if e.kind == "recv" and e.msg is not None
    )
    return Validator(trace, max_frontier, keep_behaviour, receives).advance(final=True)
