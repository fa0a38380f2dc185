"""Adapter backed by the spec itself: the spec acting as an implementation.

It runs the harness's own compositions (conformance.compose) on its own spec state, choosing
eagerly (every send and promotion the step enables), canonical or with PreVote and CheckQuorum
as ``init.features`` asks. So it must pass 100 %: a failure here is a harness or protocol bug,
not an implementation bug. With ``bug`` set it is a mutated spec, a negative control.
"""

from __future__ import annotations

from electorate.conformance.adapters.host import CommandError, Host
from electorate.conformance.canonical import (
    JSON,
    from_canonical,
    node_index,
    show,
    static_log,
    to_canonical,
)
from electorate.conformance.compose import Aux, Composite, compositions
from electorate.conformance.harness import FEATURES
from electorate.conformance.model import Model, model
from electorate.conformance.observe import spec_node_json
from electorate.conformance.script import Step
from electorate.spec.messages import EMPTY_BAG, WithMessage
from electorate.spec.next import Init
from electorate.spec.params import Params, bug_named, features_named
from electorate.spec.state import NIL, State

TIMERS = {"election": "timeout", "heartbeat": "heartbeat", "period": "period"}


class SpecHost(Host):
    name = "spec"
    implementation = "electorate spec (raft.tla mirror)"
    capabilities = ("step", "crash_restart", "transfer", "prevote", "check_quorum")

    def __init__(self, bug: str | None = None) -> None:
        super().__init__()
        self.bug = bug
        self._model: Model = model(Params(profile="heartbeat"))
        self._s: State = Init(self._model.p)
        self._down: set[int] = set()
        self._aux = Aux()

    def cmd_init(self, req: JSON) -> JSON:
        if req.get("mutations"):
            raise CommandError("unsupported", "the spec adapter plants no mutants")
        features = sorted(req.get("features") or [])
        if features and features != sorted(FEATURES):
            raise CommandError("unsupported", f"features {show(features)}: only {show(FEATURES)}")
        ids = list(req["nodes"])
        n = len(ids)
        p = Params(
            servers=n,
            profile="heartbeat",
            bug=bug_named(self.bug),
            features=features_named(features),
        )
        s = Init(p)
        initial = req.get("initial", {})
        terms, logs, votes = list(s.current_term), list(s.log), list(s.voted_for)
        for i, nid in enumerate(ids):
            if node_index(nid, n) != i:
                raise CommandError("bad_request", f"nodes must be n1..n{n} in order")
            init = initial.get(nid, {})
            terms[i] = int(init.get("term", terms[i]))
            logs[i] = static_log(
                int(init.get("last_log_index", 0)), int(init.get("last_log_term", 0))
            )
            vote = init.get("voted_for")
            votes[i] = NIL if vote is None else node_index(vote, n)
        self._model = model(p)
        self._s = s._replace(current_term=tuple(terms), log=tuple(logs), voted_for=tuple(votes))
        self._down, self._aux = set(), Aux()
        self.initialized = True
        return self._answer(None)

    def cmd_fire_timer(self, req: JSON) -> JSON:
        i = self._up(req["node"])
        op = TIMERS.get(req["timer"])
        if op is None:
            raise CommandError("bad_request", f"unknown timer {show(req['timer'])}")
        return self._step(Step(op, i))  # not enabled: ignored, as an implementation does

    def cmd_deliver(self, req: JSON) -> JSON:
        m = from_canonical(req["message"], self._model.p.servers)
        self._up_index(m.mdest)
        self._s = self._s._replace(messages=WithMessage(m, EMPTY_BAG))
        return self._step(Step("deliver", msg=m))

    def cmd_crash(self, req: JSON) -> JSON:
        self._down.add(self._up(req["node"]))
        return self._answer(None)

    def cmd_restart(self, req: JSON) -> JSON:
        i = node_index(req["node"], self._model.p.servers)
        if i not in self._down:
            raise CommandError("bad_request", f"node {req['node']} is not crashed")
        self._down.discard(i)
        return self._step(Step("restart", i))

    def cmd_transfer(self, req: JSON) -> JSON:
        i, j = self._up(req["from"]), self._up(req["to"])
        return self._step(Step("transfer", i, j))

    def cmd_observe(self, req: JSON) -> JSON:
        return self._answer(None)

    def _step(self, step: Step) -> JSON:
        """The first allowed composition, completed eagerly (None: the step is disabled)."""
        comp = next(compositions(self._model, self._s, self._aux, step, None), None)
        return self._answer(comp)

    def _up(self, nid: object) -> int:
        return self._up_index(node_index(nid, self._model.p.servers))

    def _up_index(self, i: int) -> int:
        if i in self._down:
            raise CommandError("node_down", f"node n{i + 1} is crashed")
        return i

    def _answer(self, c: Composite | None) -> JSON:
        """Emit whatever the step left in the bag, then keep an empty bag: the network is the
        harness's."""
        s = self._s if c is None else c.state
        if c is not None:
            self._aux = c.aux
        emitted = [to_canonical(m) for m, k in s.messages for _ in range(k)]
        self._s = s._replace(messages=EMPTY_BAG)
        nodes: JSON = {}
        for i in range(self._model.p.servers):
            up = i not in self._down
            nodes[f"n{i + 1}"] = (
                spec_node_json(self._model.p, self._s, i, self._aux.abandoned)
                if up
                else {"up": False}
            )
        return {"emitted": emitted, "nodes": nodes}
