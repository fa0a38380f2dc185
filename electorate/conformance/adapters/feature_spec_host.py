"""The featured spec as an implementation: the positive control of the PreVote/CheckQuorum level.

With ``features`` at init it runs the compositions of conformance.feature_compose on its own
spec state (the first allowed one of each step), so the level must pass it 100 %: a failure is
a harness bug. Without features it is the canonical spec adapter. It declares no crash/restart
or transfer, as the level draws none.
"""

from __future__ import annotations

from electorate.conformance import feature_compose as fc
from electorate.conformance.adapters.host import CommandError
from electorate.conformance.adapters.spec_host import SpecHost
from electorate.conformance.canonical import JSON, from_canonical
from electorate.conformance.feature_level import FEATURES
from electorate.spec.messages import EMPTY_BAG, WithMessage
from electorate.spec.next import Init
from electorate.spec.params import Params


class FeatureSpecHost(SpecHost):
    name = "spec-features"
    implementation = "electorate spec/ with PreVote and CheckQuorum"
    capabilities = ("step", "prevote", "check_quorum")
    # It runs the compositions of conformance.feature_compose: a pre-candidate whose box holds
    # too many refusals is abandoned, and every node starts inside the restart guard.
    options = ("abandon_lost_election", "restart_guard")

    def __init__(self, bug: str | None = None) -> None:
        super().__init__(bug)
        self._featured = False
        self._boxes: tuple[fc.Box, ...] = ()

    def cmd_init(self, req: JSON) -> JSON:
        wanted = sorted(req.get("features") or [])
        self._featured = bool(wanted)
        if not wanted:
            return super().cmd_init(req)
        if wanted != sorted(FEATURES):
            raise CommandError("unsupported", f"features {wanted}: only {sorted(FEATURES)}")
        super().cmd_init({**req, "features": []})
        p = Params(
            servers=self._p.servers, profile="heartbeat", bug=self.bug, features=fc.features()
        )
        s = Init(p)._replace(
            current_term=self._s.current_term, log=self._s.log, voted_for=self._s.voted_for
        )
        self._p, self._s = p, fc.initial(s)
        self._boxes = (fc.EMPTY,) * p.servers
        return self._answer(None)

    def cmd_fire_timer(self, req: JSON) -> JSON:
        if not self._featured:
            return super().cmd_fire_timer(req)
        i, p, s, ab, bx = self._up(req["node"]), self._p, self._s, self._ab, self._boxes
        if req["timer"] == "election":
            c = fc.timeout(p, s, i, ab, bx)
        elif req["timer"] == "heartbeat":
            c = fc.heartbeat(p, s, i, ab, bx)
        elif req["timer"] == "period":
            c = next(iter(fc.period(p, s, i, ab, bx)), None)
        else:
            raise CommandError("bad_request", f"unknown timer {req['timer']!r}")
        return self._featured_answer(c)

    def cmd_deliver(self, req: JSON) -> JSON:
        if not self._featured:
            return super().cmd_deliver(req)
        m = from_canonical(req["message"], self._p.servers)
        self._up_index(m.mdest)
        s = self._s._replace(messages=WithMessage(m, EMPTY_BAG))
        return self._featured_answer(fc.deliver(self._p, s, m, self._ab, self._boxes, True))

    def _featured_answer(self, c: fc.FComposite | None) -> JSON:
        if c is not None:
            self._boxes = c.boxes
        return self._answer(c)
