"""One conformance session: the spec, the network and the clocks, driving one adapter.

After every step three checks run on the adapter's answer (docs/conformance.md):
1. refinement: every live node's observation equals the spec state the step's composition
   (conformance.compose) allows, through the mapping of conformance.observe;
2. messages: the emitted messages equal, as a multiset, the messages the spec sent;
3. safety on the observations alone (one leader per term, one vote per term, terms never
   decrease, across restarts), so a bug shared by spec and implementation is still caught.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from electorate.conformance import compose
from electorate.conformance.canonical import (
    JSON,
    CanonicalError,
    from_canonical,
    node_id,
    show,
    show_action,
    show_wire,
)
from electorate.conformance.compose import Composite
from electorate.conformance.observe import NodeView, diff_views, observed_view, spec_view
from electorate.conformance.protocol import AdapterError, Client, Hello, ProtocolViolationError
from electorate.conformance.script import RunConfig, Step
from electorate.spec.messages import Message, MType
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State

CHECK_ORDER: Final = ("protocol", "refinement", "messages", "invariant")
EVENTS: Final = (
    "leader_elected",
    "split_vote",
    "stale_term_reply",
    "step_down_higher_term",
    "vote_refused_stale_log",
    "leader_after_heal",
    "restart",
)
NEEDS: Final = {"crash": "crash_restart", "restart": "crash_restart", "transfer": "transfer"}


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


class Session:
    """Spec state + network + adapter for one example; ``apply`` runs and checks one step."""

    def __init__(self, client: Client, hello: Hello, cfg: RunConfig) -> None:
        self.client, self.hello, self.cfg = client, hello, cfg
        self.p: Params = cfg.params()
        self.s: State = cfg.initial_state()
        # auxiliary variable, see compose.abandoned_after; only for adapters declaring it
        abandon = "abandon_lost_election" in hello.options
        self.ab: compose.Abandoned = compose.NONE if abandon else compose.DISABLED
        self.network: list[JSON] = []  # concrete messages in flight, as the adapter emitted them
        self.down: set[int] = set()
        self.group: frozenset[int] | None = None
        self.healed = False
        self.history = History()
        self.events: Counter[str] = Counter()
        self.steps: list[Step] = []
        self.raw: list[tuple[Step | None, JSON | None, JSON | None, Composite, frozenset[int]]]
        self.raw = []
        self._choices: dict[str, list[Step]] | None = None
        self._caps = hello.capabilities | {"step"}

    # ------------------------------------------------------------------ driving
    def start(self) -> None:
        resp = self._request("init", self.cfg.init_body(), "init")
        self._check(0, "init", [Composite(self.s, ())], resp, self.s, None)
        # the observe level: observing changes nothing and sends nothing
        seen = self._request("observe", {}, "observe")
        self._check(0, "observe", [Composite(self.s, ())], seen, self.s, None)
        self._record(None, {"type": "init", **self.cfg.init_body()}, resp, Composite(self.s, ()))

    def choices(self, op: str) -> list[Step]:
        """The enabled instances of ``op``, computed from the spec state and the harness's own
        bookkeeping (live nodes, partition), cached until the next step."""
        if self._choices is None:
            self._choices = {}
        if op not in self._choices:
            self._choices[op] = self._enabled(op) if NEEDS.get(op, "step") in self._caps else []
        return self._choices[op]

    def apply(self, step: Step) -> None:
        comps, command, concrete = self._plan(step)
        comp = comps[0]
        self._choices = None
        index = len(self.steps) + 1
        self.steps.append(step)
        before = self.s
        resp: JSON | None = None
        if command is not None:
            resp = self._request(str(command["type"]), command, str(step), index)
        self._network_effect(step, concrete)
        if resp is not None:
            delivered = step.msg if step.op == "deliver" else None
            try:
                comp = self._check(index, str(step), comps, resp, before, delivered)
            except DivergenceError:
                self._record(step, command, resp, comp)  # the bundle shows the failing step
                raise
            self.network += resp["emitted"]
        self._count_events(step, before, comp)
        self._adopt(comp)
        self._record(step, command, resp, comp)
        self._isolate()

    def _adopt(self, comp: Composite) -> None:
        """Make the matched composition the current spec state (and auxiliary variables)."""
        self.s, self.ab = comp.state, comp.abandoned

    # ------------------------------------------------------------------ planning
    def _enabled(self, op: str) -> list[Step]:
        s, n = self.s, self.p.servers
        up = [i for i in range(n) if i not in self.down]
        if op == "timeout":  # exactly Timeout's guard
            return [Step(op, i) for i in up if s.role[i] in (Role.Follower, Role.Candidate)]
        if op == "heartbeat":
            return [Step(op, i) for i in up if s.role[i] == Role.Leader]
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
        if op == "transfer":  # exactly compose.transfer's guard
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

    def _deliverable(self, m: Message) -> bool:
        if m.mdest in self.down or self._cut(m):
            return False
        c = compose.deliver(self.p, self.s, m, self.ab)
        if c is None:
            return False
        # impl-style adapters carry no log: a heartbeat that raft.tla rejects for a log mismatch
        # (a failure reply in the request's own term) is never delivered, only dropped.
        if m.mtype == MType.AppendEntriesRequest:
            return not any(
                x.mtype == MType.AppendEntriesResponse and not x.msuccess and x.mterm == m.mterm
                for x, _ in c.state.messages
                if x.msource == m.mdest and x.mdest == m.msource
            )
        return True

    def _cut(self, m: Message) -> bool:
        g = self.group
        return g is not None and (m.msource in g) != (m.mdest in g)

    def _plan(self, step: Step) -> tuple[list[Composite], JSON | None, JSON | None]:
        """The allowed spec compositions (eager first), the adapter command and the concrete
        message it uses."""
        allowed = self.choices(step.op)
        if step not in allowed:
            raise NotEnabledError(str(step))
        p, s, ab = self.p, self.s, self.ab
        name = node_id(step.node) if step.node >= 0 else ""
        if step.op == "timeout":
            comps = _both(lambda lead: compose.timeout(p, s, step.node, ab, lead))
            return comps, _fire(name, "election"), None
        if step.op == "heartbeat":
            comp = _some(compose.heartbeat(p, s, step.node, ab))
            return [comp], _fire(name, "heartbeat"), None
        if step.op == "transfer":
            comps = _both(lambda lead: compose.transfer(p, s, step.node, step.peer, ab, lead))
            return comps, {"type": "transfer", "from": name, "to": node_id(step.peer)}, None
        if step.op in ("deliver", "drop", "duplicate"):
            msg = step.msg
            assert msg is not None
            concrete = self._concrete(msg)
            if step.op == "deliver":
                comps = _both(lambda lead: compose.deliver(p, s, msg, ab, lead))
                return comps, {"type": "deliver", "message": concrete}, concrete
            fn = compose.drop if step.op == "drop" else compose.duplicate
            return [fn(p, s, msg, ab)], None, concrete
        if step.op == "crash":
            return [Composite(s, (), ab)], {"type": "crash", "node": name}, None
        if step.op == "restart":
            comp = compose.restart(p, s, step.node, ab)
            return [comp], {"type": "restart", "node": name}, None
        return [Composite(s, (), ab)], None, None  # partition, heal: the harness's network only

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
                self.s = compose.drop(self.p, self.s, m).state
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

    def _check(
        self,
        index: int,
        step: str,
        comps: list[Composite],
        resp: JSON,
        before: State,
        m: Message | None,
    ) -> Composite:
        """Check the answer against the allowed compositions; return the one it matches."""
        failure = Failure([], index, step)
        views = self._views(resp, failure)
        chosen = comps[0]
        if not failure.checks:
            for comp in comps:  # the first allowed successor the implementation matches
                attempt = Failure([], index, step)
                self._refinement(comp, views, attempt)
                self._messages(resp, _sent(before, comp.state, m), attempt)
                if not attempt.checks:
                    chosen, failure = comp, attempt
                    break
                if comp is comps[0]:
                    failure = attempt  # report against the eager composition
            for inv, text in self.history.check(views):
                failure.checks.append(f"invariant:{inv}")
                failure.rows.append((inv, "holds", text))
        if failure.checks:
            failure.checks.sort(key=lambda c: CHECK_ORDER.index(c.split(":")[0]))
            raise DivergenceError(failure)
        return chosen

    def _views(self, resp: JSON, failure: Failure) -> dict[int, NodeView]:
        nodes = resp.get("nodes")
        views: dict[int, NodeView] = {}
        try:
            if not isinstance(nodes, dict):
                raise CanonicalError("response has no nodes object")
            for i in range(self.p.servers):
                d = nodes.get(node_id(i))
                if not isinstance(d, dict):
                    raise CanonicalError(f"response lacks node {node_id(i)}")
                if bool(d.get("up")) != (i not in self.down):
                    want = "up" if i not in self.down else "down"
                    raise CanonicalError(f"{node_id(i)} reported up={show(d.get('up'))}, is {want}")
                if d.get("up"):
                    views[i] = observed_view(d, self.p.servers)
        except CanonicalError as e:
            failure.checks.append("protocol")
            failure.text = str(e)
        return views

    def _refinement(self, comp: Composite, views: dict[int, NodeView], failure: Failure) -> None:
        for i, got in sorted(views.items()):
            for f, want, have in diff_views(spec_view(self.p, comp.state, i, comp.abandoned), got):
                failure.rows.append((f"{node_id(i)}.{f}", show(want), show(have)))
        if failure.rows:
            failure.checks.append("refinement")

    def _messages(self, resp: JSON, sent: Counter[Message], failure: Failure) -> None:
        try:
            got = Counter(from_canonical(d, self.p.servers) for d in resp["emitted"])
        except (CanonicalError, KeyError, TypeError, ValueError) as e:
            failure.checks.append("protocol")
            failure.text = f"emitted message: {e}"
            return
        if got == sent:
            return
        failure.checks.append("messages")
        for m, k in sorted((sent - got).items()):
            failure.rows.append(("message", f"{show_wire(m)} x{k}", "not sent"))
        for m, k in sorted((got - sent).items()):
            failure.rows.append(("message", "not sent", f"{show_wire(m)} x{k}"))

    # ------------------------------------------------------------------ bookkeeping
    def _count_events(self, step: Step, before: State, comp: Composite) -> None:
        after = comp.state
        for a in comp.actions:
            if a.name == "BecomeLeader":
                self.events["leader_elected"] += 1
                if self.healed:
                    self.events["leader_after_heal"] += 1
            if a.detail == "UpdateTerm":
                i = a.args[0].mdest if isinstance(a.args[0], Message) else -1
                if before.role[i] in (Role.Leader, Role.Candidate):
                    self.events["step_down_higher_term"] += 1
        if step.op == "restart":
            self.events["restart"] += 1
        if step.op != "deliver" or step.msg is None:
            return
        m = step.msg
        if m.mterm < before.current_term[m.mdest] and m.mtype in (
            MType.RequestVoteRequest,
            MType.AppendEntriesRequest,
        ):
            self.events["stale_term_reply"] += 1
        if m.mtype == MType.RequestVoteRequest and m.mterm == after.current_term[m.mdest]:
            vote = after.voted_for[m.mdest]
            if vote not in (NIL, m.msource):
                self.events["split_vote"] += 1
            elif vote == NIL:
                self.events["vote_refused_stale_log"] += 1

    def _record(
        self, step: Step | None, command: JSON | None, resp: JSON | None, c: Composite
    ) -> None:
        """Keep the raw material of the step; rendered only if a bundle is written."""
        self.raw.append((step, command, resp, c, frozenset(self.down)))

    def records(self) -> list[JSON]:
        """One JSON object per step: command, response, spec actions and spec state."""
        out: list[JSON] = []
        n = self.p.servers
        for k, (step, command, resp, c, down) in enumerate(self.raw):
            out.append(
                {
                    "kind": "step" if step else "init",
                    "index": k,
                    **({"step": step.to_json()} if step else {}),
                    "spec_actions": [show_action(*a) for a in c.actions],
                    "command": command,
                    "response": resp,
                    "spec_state": {
                        node_id(i): spec_view(self.p, c.state, i, c.abandoned).fields()
                        for i in range(n)
                    },
                    "in_flight": [f"{show_wire(m)} x{x}" for m, x in c.state.messages],
                    "down": [node_id(i) for i in sorted(down)],
                }
            )
        return out


def _sent(before: State, after: State, delivered: Message | None) -> Counter[Message]:
    base = Counter(dict(before.messages))
    if delivered is not None:
        base[delivered] -= 1
    return Counter(dict(after.messages)) - base


def _both(make: Callable[[bool], Composite | None]) -> list[Composite]:
    """The eager composition, then the one without BecomeLeader if it differs."""
    eager = _some(make(True))
    if not any(a.name == "BecomeLeader" for a in eager.actions):
        return [eager]
    return [eager, _some(make(False))]


def _some(c: Composite | None) -> Composite:
    if c is None:
        raise NotEnabledError("step not enabled in the spec")
    return c


def _fire(node: str, timer: str) -> JSON:
    return {"type": "fire_timer", "node": node, "timer": timer}
