"""Adapter backed by the spec itself: the spec acting as an implementation.

It runs the same compositions the harness allows (conformance.compose) on its own spec state, so
it must pass 100 %: a failure here is a harness or protocol bug, not an implementation bug. With
``bug`` set it is a mutated spec, a negative control for the harness.
"""

from __future__ import annotations

from electorate.conformance import compose
from electorate.conformance.adapters.host import CommandError, Host
from electorate.conformance.canonical import (
    JSON,
    from_canonical,
    node_index,
    static_log,
    to_canonical,
)
from electorate.conformance.observe import spec_node_json
from electorate.spec.messages import EMPTY_BAG, WithMessage
from electorate.spec.next import Init
from electorate.spec.params import Params
from electorate.spec.state import NIL, State


class SpecHost(Host):
    name = "spec"
    implementation = "electorate spec/ (raft.tla mirror)"
    capabilities = ("step", "crash_restart", "transfer")

    def __init__(self, bug: str | None = None) -> None:
        super().__init__()
        self.bug = bug
        self._p = Params()
        self._s: State = Init(self._p)
        self._down: set[int] = set()
        self._ab = self._no_abandoned()

    def cmd_init(self, req: JSON) -> JSON:
        if req.get("features"):
            raise CommandError("unsupported", "the spec adapter runs the canonical spec only")
        if req.get("mutations"):
            raise CommandError("unsupported", "the spec adapter takes no mutations")
        ids = list(req["nodes"])
        n = len(ids)
        self._p = Params(servers=n, profile="heartbeat", bug=self.bug)
        s = Init(self._p)
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
        self._s = s._replace(current_term=tuple(terms), log=tuple(logs), voted_for=tuple(votes))
        self._down, self._ab = set(), self._no_abandoned()
        self.initialized = True
        return self._answer(None)

    def cmd_fire_timer(self, req: JSON) -> JSON:
        i = self._up(req["node"])
        if req["timer"] == "election":
            c = compose.timeout(self._p, self._s, i, self._ab)
        else:
            c = compose.heartbeat(self._p, self._s, i, self._ab)
        return self._answer(c)  # None: disabled, ignored like impl does

    def cmd_deliver(self, req: JSON) -> JSON:
        m = from_canonical(req["message"], self._p.servers)
        self._up_index(m.mdest)
        s = self._s._replace(messages=WithMessage(m, EMPTY_BAG))
        c = compose.deliver(self._p, s, m, self._ab)
        return self._answer(c)  # None: not receivable, dropped

    def cmd_crash(self, req: JSON) -> JSON:
        self._down.add(self._up(req["node"]))
        return self._answer(None)

    def cmd_restart(self, req: JSON) -> JSON:
        i = node_index(req["node"], self._p.servers)
        self._down.discard(i)
        return self._answer(compose.restart(self._p, self._s, i, self._ab))

    def cmd_transfer(self, req: JSON) -> JSON:
        i, j = self._up(req["from"]), self._up(req["to"])
        c = compose.transfer(self._p, self._s, i, j, self._ab)
        return self._answer(c)

    def cmd_observe(self, req: JSON) -> JSON:
        return self._answer(None)

    def _no_abandoned(self) -> compose.Abandoned:
        """The initial auxiliary variable: empty, or DISABLED without the option."""
        abandon = "abandon_lost_election" in self.options
        return compose.NONE if abandon else compose.DISABLED

    def _up(self, nid: object) -> int:
        return self._up_index(node_index(nid, self._p.servers))

    def _up_index(self, i: int) -> int:
        if i in self._down:
            raise CommandError("node_down", f"node n{i + 1} is crashed")
        return i

    def _answer(self, c: compose.Composite | None) -> JSON:
        """Emit whatever the step left in the bag, then keep an empty bag: the network is the
        harness's. ``c`` None: nothing happened."""
        s = self._s if c is None else c.state
        if c is not None:
            self._ab = c.abandoned
        emitted = [to_canonical(m) for m, k in s.messages for _ in range(k)]
        self._s = s._replace(messages=EMPTY_BAG)
        nodes: JSON = {}
        for i in range(self._p.servers):
            up = i not in self._down
            nodes[f"n{i + 1}"] = (
                spec_node_json(self._p, self._s, i, self._ab) if up else {"up": False}
            )
        return {"emitted": emitted, "nodes": nodes}
