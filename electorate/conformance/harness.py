"""One conformance session: the spec, the network and the clocks, driving one adapter.

After every step three checks run on the adapter's answer (docs/conformance.md):
1. refinement: every live node's observation equals the spec state of one of the step's allowed
   compositions (conformance.compose), through the mapping of conformance.observe;
2. messages: every emitted message is one the composition sends (a message the spec sends and
   the implementation does not is a lost one, which raft.tla allows);
3. safety on the observations alone (one leader per term, one vote per term, terms never
   decrease, across restarts), so a bug shared by spec and implementation is still caught.

The same session runs the canonical level and the PreVote/CheckQuorum level (``cfg.features``):
the spec's action table (conformance.model) and the steps drawn differ, nothing else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, overload

from electorate.conformance import coverage
from electorate.conformance.canonical import (
    JSON,
    CanonicalError,
    from_canonical,
    node_id,
    show,
    show_action,
    show_wire,
)
from electorate.conformance.compose import Aux, Composite, Observation, compositions, cores
from electorate.conformance.model import Model, model
from electorate.conformance.observe import NodeView, diff_views, observed_view, spec_view
from electorate.conformance.protocol import AdapterError, Client, Hello, ProtocolViolationError
from electorate.conformance.script import RunConfig, Step
from electorate.spec.ids import Feature
from electorate.spec.messages import Message, MType
from electorate.spec.state import Role, State

CHECK_ORDER: Final = ("protocol", "refinement", "messages", "invariant")
NEEDS: Final = {"crash": "crash_restart", "restart": "crash_restart", "transfer": "transfer"}
CANONICAL_OPS: Final = (
    "timeout",
    "heartbeat",
    "deliver",
    "drop",
    "duplicate",
    "partition",
    "heal",
    "crash",
    "restart",
    "transfer",
)
# The PreVote/CheckQuorum level adds the election period and draws no crash, restart or
# transfer (docs/conformance.md, "Divergences by design").
FEATURED_OPS: Final = ("timeout", "heartbeat", "period", "deliver", "drop", "duplicate")
FEATURES: Final[tuple[Feature, ...]] = ("check_quorum", "prevote")


@dataclass
class Failure:
    """The first divergence: which checks fired, at which step, and the field-by-field rows."""

    checks: list[str]
    step_index: int  # 0 = init, k = after the k-th step
    step: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (field, spec, impl)
    text: str = ""

    @property
    def check(self) -> str:
        return self.checks[0]

    @property
    def kind(self) -> str:
        return self.check.split(":")[0]


class DivergenceError(AssertionError):
    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.check} after step {failure.step_index} ({failure.step})")
        self.failure = failure


class NotEnabledError(Exception):
    """A scripted step is not enabled in the spec state (replay of a shortened script)."""


class History:
    """Safety on observations alone: what each node reported, across restarts."""

    def __init__(self) -> None:
        self.terms: dict[int, int] = {}
        self.votes: dict[tuple[int, int], int] = {}
        self.leaders: dict[int, int] = {}

    def check(self, views: dict[int, NodeView]) -> list[tuple[str, str]]:
        bad: list[tuple[str, str]] = []
        for i, v in sorted(views.items()):
            name = node_id(i)
            if v.term < self.terms.get(i, v.term):
                bad.append(("TermsNeverDecrease", f"{name}: term {self.terms[i]} -> {v.term}"))
            self.terms[i] = v.term
            old = self.votes.get((i, v.term))
            if old is not None and v.voted_for != old:
                now = "nobody" if v.voted_for is None else node_id(v.voted_for)
                bad.append(
                    ("OneVotePerTerm", f"{name} voted {node_id(old)} then {now} in term {v.term}")
                )
            elif old is None and v.voted_for is not None:
                self.votes[(i, v.term)] = v.voted_for
            if v.role == "leader":
                first = self.leaders.setdefault(v.term, i)
                if first != i:
                    bad.append(
                        ("OneLeaderPerTerm", f"{node_id(first)} and {name} lead term {v.term}")
                    )
        return bad


@dataclass
class Record:
    """The raw material of one step, rendered only if a bundle is written."""

    step: Step | None
    command: JSON | None
    response: JSON | None
    comp: Composite
    down: frozenset[int]


class Session:
    """Spec state + network + adapter for one example; ``apply`` runs and checks one step."""

    def __init__(self, client: Client, hello: Hello, cfg: RunConfig) -> None:
        self.client, self.hello, self.cfg = client, hello, cfg
        opts = hello.options
        self.model: Model = model(cfg.params(opts))  # the spec with the declared options
        self.p = self.model.p
        n = self.p.servers
        self.featured = self.model.featured
        self.s: State = cfg.initial_state(opts)
        self.aux = Aux(abandon="abandon_lost_election" in opts)
        if self.featured and "restart_guard" in opts:  # every node starts inside a lease
            self.s = self.s._replace(heard_leader=(True,) * n)
        self.ops = FEATURED_OPS if self.featured else CANONICAL_OPS
        self.votes_observed = "votes_granted" in hello.observables
        self.network: list[JSON] = []  # concrete messages in flight, as the adapter emitted them
        self.down: set[int] = set()
        self.group: frozenset[int] | None = None
        self.healed = False
        self.history = History()
        self.coverage: Counter[str] = Counter()
        self.omitted = 0  # messages the spec sent and the implementation did not (lost)
        self.steps: list[Step] = []
        self.raw: list[Record] = []
        self._choices: dict[str, list[Step]] | None = None
        self._frontier: tuple[frozenset[str], list[Step]] | None = None
        self._caps = hello.capabilities | {"step"}

    # ------------------------------------------------------------------ driving
    def start(self) -> None:
        body = self.cfg.init_body()
        resp = self._request("init", body, "init")
        init = Composite(self.s, (), self.aux)
        self._check(0, "init", [self._nothing(resp, 0, "init")], resp)
        seen = self._request("observe", {}, "observe")  # observing changes nothing
        self._check(0, "observe", [self._nothing(seen, 0, "observe")], seen)
        self.raw.append(Record(None, {"type": "init", **body}, resp, init, frozenset()))

    def _nothing(self, resp: JSON, index: int, step: str) -> Composite:
        """No spec action: whatever the adapter emitted is unexplained."""
        emitted = self._emitted(resp, index, step)
        extra = tuple(m for m, k in sorted(emitted.items()) for _ in range(k))
        return Composite(self.s, (), self.aux, unexplained=extra)

    def choices(self, op: str) -> list[Step]:
        """The enabled instances of ``op``, computed from the spec state and the harness's own
        bookkeeping (live nodes, partition), cached until the next step."""
        if self._choices is None:
            self._choices = {}
        if op not in self._choices:
            ok = op in self.ops and NEEDS.get(op, "step") in self._caps
            self._choices[op] = self._enabled(op) if ok else []
        return self._choices[op]

    def frontier(self, wanted: set[str]) -> list[Step]:
        """The enabled steps that would hit one of the ``wanted`` coverage targets."""
        key = frozenset(wanted)
        if self._frontier is not None and self._frontier[0] == key and self._choices is not None:
            return self._frontier[1]
        shown = self._shown()
        steps = [
            step
            for op in self.ops
            for step in self.choices(op)
            if wanted.intersection(coverage.predict(step, self.s, shown))
        ]
        self._frontier = (key, steps)
        return steps

    def apply(self, step: Step) -> None:
        if step not in self.choices(step.op):
            raise NotEnabledError(str(step))
        command, concrete = self._command(step)
        self._choices, self._frontier = None, None
        index = len(self.steps) + 1
        self.steps.append(step)
        before, shown = self.s, self._shown()
        if command is None:  # the harness's network only: no adapter, one composition
            comp = next(compositions(self.model, self.s, self.aux, step, None))
            self._network_effect(step, concrete)
        else:
            resp = self._request(str(command["type"]), command, str(step), index)
            self._network_effect(step, concrete)
            comps = self._compositions(step, resp, index)
            try:
                comp = self._check(index, str(step), comps, resp)
            except DivergenceError:
                self.raw.append(Record(step, command, resp, comps[0], frozenset(self.down)))
                raise
            self.network += resp["emitted"]
            self.omitted += comp.omitted
            self.coverage.update(coverage.hits(step, before, shown, comp, self.healed))
        self.s, self.aux = comp.state, comp.aux
        self.raw.append(
            Record(step, command, None if command is None else resp, comp, frozenset(self.down))
        )
        self._isolate()

    def _compositions(self, step: Step, resp: JSON, index: int) -> _Lazy:
        """The allowed compositions, completed one at a time as the check asks for them."""
        views = self._views(resp, index, str(step))
        obs = Observation(views, self._emitted(resp, index, str(step)))
        comps = _Lazy(compositions(self.model, self.s, self.aux, step, obs))
        if not comps:
            raise NotEnabledError(f"{step}: not enabled in the spec")  # a harness bug
        return comps

    def _shown(self) -> dict[int, str]:
        return {
            i: spec_view(self.p, self.s, i, self.aux.abandoned).role for i in range(self.p.servers)
        }

    # ------------------------------------------------------------------ planning
    def _enabled(self, op: str) -> list[Step]:
        s, n, mdl = self.s, self.p.servers, self.model
        up = [i for i in range(n) if i not in self.down]
        if op == "timeout":  # exactly Timeout's guard
            return [Step(op, i) for i in up if mdl.timeout(self.p, s, i) is not None]
        if op == "heartbeat":
            return [Step(op, i) for i in up if s.role[i] == Role.Leader]
        if op == "period":
            return [Step(op, i) for i in up if self._period_ok(i)]
        if op == "deliver":
            return [Step(op, msg=m) for m, _ in s.messages if self._deliverable(m)]
        if op in ("drop", "duplicate"):
            return [Step(op, msg=m) for m, _ in s.messages]
        if op == "crash":
            return [Step(op, i) for i in up]
        if op == "restart":
            return [Step(op, i) for i in sorted(self.down)]
        if op == "heal":
            return [Step(op)] if self.group is not None else []
        if op == "transfer":  # a leader hands over to a live non-leader of its term
            return [
                Step(op, i, j)
                for i in up
                if s.role[i] == Role.Leader
                for j in up
                if j != i and s.role[j] != Role.Leader and s.current_term[j] == s.current_term[i]
            ]
        if op == "partition" and self.group is None and n > 1:
            # one side of each cut, named by the side without the last node: no cut twice
            return [
                Step(op, group=tuple(k for k in range(n) if mask >> k & 1))
                for mask in range(1, 2 ** (n - 1))
            ]
        return []

    def _period_ok(self, i: int) -> bool:
        """A leader's period is drawn only when it heard no quorum: an implementation's lease
        (shorter than the period) runs out within a period in which no ack can arrive, so it
        steps down where the spec (no lease feature) keeps a leader that heard a quorum."""
        s = self.s
        timer = self.model.election_timer
        if timer is None:
            return False
        if s.role[i] == Role.Leader:
            return not self.model.is_quorum(s.acked[i])
        return True

    def _deliverable(self, m: Message) -> bool:
        """m can be handled in full here. Log repair is not tested: a heartbeat raft.tla
        rejects for a log mismatch (a failure reply in the request's own term), and a failure
        reply that would move a leader's nextIndex back, are never delivered, only dropped
        (adapters report a heartbeat's prev_log_index/term from the sender's static log)."""
        if m.mdest in self.down or self._cut(m):
            return False
        step = Step("deliver", msg=m)
        full = next((c for c in cores(self.model, self.s, step) if c.kind == "full"), None)
        if full is None:
            return False
        if m.mtype == MType.AppendEntriesRequest:
            return not any(
                x.mtype == MType.AppendEntriesResponse and not x.msuccess and x.mterm == m.mterm
                for x, _ in full.state.messages
                if x.msource == m.mdest and x.mdest == m.msource
            )
        if m.mtype == MType.AppendEntriesResponse and not m.msuccess:
            # it would move the leader's nextIndex back (a refusal of an older request of the
            # same leader can carry its new term): log repair is not tested either
            return m.mterm != self.s.current_term[m.mdest] or self.s.role[m.mdest] != Role.Leader
        return True

    def _cut(self, m: Message) -> bool:
        g = self.group
        return g is not None and (m.msource in g) != (m.mdest in g)

    def _command(self, step: Step) -> tuple[JSON | None, JSON | None]:
        """The adapter command of a step (None: the harness's network only) and the concrete
        message it delivers, drops or duplicates."""
        name = node_id(step.node) if step.node >= 0 else ""
        if step.op == "timeout":
            return _fire(name, "election"), None
        if step.op == "heartbeat":
            return _fire(name, "heartbeat"), None
        if step.op == "period":
            return _fire(name, "period"), None
        if step.op == "transfer":
            return {"type": "transfer", "from": name, "to": node_id(step.peer)}, None
        if step.op in ("crash", "restart"):
            return {"type": step.op, "node": name}, None
        if step.msg is not None:
            concrete = self._concrete(step.msg)
            if step.op == "deliver":
                return {"type": "deliver", "message": concrete}, concrete
            return None, concrete
        return None, None  # partition, heal

    def _concrete(self, m: Message) -> JSON:
        for d in self.network:
            if from_canonical(d, self.p.servers) == m:
                return d
        raise ProtocolViolationError(f"harness lost track of {show_wire(m)}")  # a harness bug

    def _network_effect(self, step: Step, concrete: JSON | None) -> None:
        if step.op in ("deliver", "drop") and concrete is not None:
            self.network.remove(concrete)
        elif step.op == "duplicate" and concrete is not None:
            self.network.append(concrete)
        elif step.op == "partition":
            self.group = frozenset(step.group)
        elif step.op == "heal":
            self.group, self.healed = None, True
        elif step.op == "crash":
            self.down.add(step.node)
        elif step.op == "restart":
            self.down.discard(step.node)

    def _isolate(self) -> None:
        """While partitioned, messages crossing the cut are lost: DropMessage each copy."""
        if self.group is None:
            return
        keep: list[JSON] = []
        for d in self.network:
            m = from_canonical(d, self.p.servers)
            if self._cut(m):
                self.s = self.s._replace(messages=_without(self.s, m))
            else:
                keep.append(d)
        self.network = keep

    # ------------------------------------------------------------------ checking
    def _request(self, kind: str, body: JSON, step: str, index: int = 0) -> JSON:
        fields = {k: v for k, v in body.items() if k != "type"}
        try:
            return self.client.request(kind, **fields)
        except (ProtocolViolationError, AdapterError) as e:
            raise DivergenceError(Failure(["protocol"], index, step, text=str(e))) from e

    def _check(self, index: int, step: str, comps: Sequence[Composite], resp: JSON) -> Composite:
        """Check the answer against the allowed compositions; return the first it matches."""
        views = self._views(resp, index, step)
        failure = Failure([], index, step)
        chosen = comps[0]
        for comp in comps:
            attempt = Failure([], index, step)
            self._refinement(comp, views, attempt)
            self._messages(comp, attempt)
            if not attempt.checks:
                chosen, failure = comp, attempt
                break
            if comp is comps[0]:
                failure = attempt  # report against the preferred composition
        for inv, text in self.history.check(views):
            failure.checks.append(f"invariant:{inv}")
            failure.rows.append((inv, "holds", text))
        if failure.checks:
            failure.checks.sort(key=lambda c: CHECK_ORDER.index(c.split(":")[0]))
            failure.text = failure.text or self._hint(comps[0], views)
            raise DivergenceError(failure)
        return chosen

    def _views(self, resp: JSON, index: int, step: str) -> dict[int, NodeView]:
        nodes = resp.get("nodes")
        views: dict[int, NodeView] = {}
        try:
            if not isinstance(nodes, dict):
                raise CanonicalError("the reply has no nodes object")
            for i in range(self.p.servers):
                d = nodes.get(node_id(i))
                if not isinstance(d, dict):
                    raise CanonicalError(f"the reply lacks node {node_id(i)}")
                if bool(d.get("up")) != (i not in self.down):
                    want = "up" if i not in self.down else "down"
                    raise CanonicalError(f"{node_id(i)} reported up={show(d.get('up'))}, is {want}")
                if d.get("up"):
                    views[i] = observed_view(d, self.p.servers, self.votes_observed)
        except CanonicalError as e:
            raise DivergenceError(Failure(["protocol"], index, step, text=str(e))) from e
        return views

    def _emitted(self, resp: JSON, index: int, step: str) -> Counter[Message]:
        try:
            return Counter(from_canonical(d, self.p.servers) for d in resp["emitted"])
        except (CanonicalError, KeyError, TypeError, ValueError) as e:
            text = f"emitted message: {e}"
            raise DivergenceError(Failure(["protocol"], index, step, text=text)) from e

    def _refinement(self, comp: Composite, views: dict[int, NodeView], failure: Failure) -> None:
        rows = refinement_rows(self.model, comp, views)
        if rows:
            failure.checks.append("refinement")
            failure.rows += rows

    def _messages(self, comp: Composite, failure: Failure) -> None:
        rows = message_rows(comp)
        if rows:
            failure.checks.append("messages")
            failure.rows += rows

    def _hint(self, comp: Composite, views: dict[int, NodeView]) -> str:
        """Why the step failed when an option would have accepted it."""
        if self.aux.abandon:
            return ""
        gave_up = [
            node_id(i)
            for i, v in sorted(views.items())
            if v.role == "follower"
            and comp.state.role[i] in (Role.Candidate, Role.PreCandidate)
            and v.term == comp.state.current_term[i]
        ]
        if not gave_up:
            return ""
        return (
            f"{', '.join(gave_up)} gave up its candidacy (raft.tla keeps a candidate until its "
            "timer fires or a message moves it): an implementation that gives up a lost "
            "election declares option abandon_lost_election"
        )

    # ------------------------------------------------------------------ bookkeeping
    def records(self) -> list[JSON]:
        """One JSON object per step: command, response, spec actions and spec state."""
        out: list[JSON] = []
        n = self.p.servers
        for k, r in enumerate(self.raw):
            c = r.comp
            out.append(
                {
                    "kind": "step" if r.step else "init",
                    "index": k,
                    **({"step": r.step.to_json()} if r.step else {}),
                    "spec_actions": [show_action(*a) for a in c.actions],
                    "command": r.command,
                    "response": r.response,
                    "spec_state": {
                        node_id(i): spec_view(self.p, c.state, i, c.aux.abandoned).fields()
                        for i in range(n)
                    },
                    "in_flight": [f"{show_wire(m)} x{x}" for m, x in c.state.messages],
                    "down": [node_id(i) for i in sorted(r.down)],
                }
            )
        return out


class _Lazy(Sequence[Composite]):
    """A sequence of compositions computed only as far as it is read (most steps match the
    first one; completing every alternative up front would double the cost of a step)."""

    def __init__(self, source: Iterator[Composite]) -> None:
        self._source = source
        self._done: list[Composite] = []

    def _fill(self, k: int) -> bool:
        while len(self._done) <= k:
            nxt = next(self._source, None)
            if nxt is None:
                return False
            self._done.append(nxt)
        return True

    @overload
    def __getitem__(self, k: int) -> Composite: ...

    @overload
    def __getitem__(self, k: slice) -> Sequence[Composite]: ...

    def __getitem__(self, k: int | slice) -> Composite | Sequence[Composite]:
        if isinstance(k, slice):
            self._fill(1 << 30)
            return self._done[k]
        if not self._fill(k):
            raise IndexError(k)
        return self._done[k]

    def __len__(self) -> int:
        self._fill(1 << 30)
        return len(self._done)

    def __bool__(self) -> bool:
        return self._fill(0)

    def __iter__(self) -> Iterator[Composite]:
        k = 0
        while self._fill(k):
            yield self._done[k]
            k += 1


def refinement_rows(
    mdl: Model, comp: Composite, views: Mapping[int, NodeView]
) -> list[tuple[str, str, str]]:
    """(field, spec, implementation) for every observed field that does not conform."""
    rows = []
    for i, got in sorted(views.items()):
        want = spec_view(mdl.p, comp.state, i, comp.aux.abandoned)
        for f, a, b in diff_views(want, got):
            rows.append((f"{node_id(i)}.{f}", show(a), show(b)))
    return rows


def message_rows(comp: Composite) -> list[tuple[str, str, str]]:
    """One row per emitted message that no spec action sends in this composition."""
    return [
        ("message", "not sendable here", f"{show_wire(m)} x{k}")
        for m, k in sorted(Counter(comp.unexplained).items())
    ]


def first_match(mdl: Model, s: State, aux: Aux, step: Step, obs: Observation) -> Composite | None:
    """The first allowed composition of ``step`` that ``obs`` conforms to, if any."""
    for comp in compositions(mdl, s, aux, step, obs):
        if not refinement_rows(mdl, comp, obs.views) and not comp.unexplained:
            return comp
    return None


def _without(s: State, m: Message) -> tuple[tuple[Message, int], ...]:
    """The bag without every copy of m."""
    return tuple((x, k) for x, k in s.messages if x != m)


def _fire(node: str, timer: str) -> JSON:
    return {"type": "fire_timer", "node": node, "timer": timer}
