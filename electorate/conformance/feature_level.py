"""The PreVote + CheckQuorum level: the three checks against the featured spec.

The adapter runs its implementation with ``features: ["prevote", "check_quorum"]`` and the
harness runs spec/features/ with the same features; every step is refined exactly as on
the canonical level (conformance.harness.Session), with the compositions of
conformance.feature_compose and one more harness step, ``period(i)``: an election period
elapses at node i (adapter command ``fire_timer`` with timer ``period``), mapped to the spec's
ElectionTimer(i). Crash, restart and transfer are not drawn on this level (docs/conformance.md).
"""

from __future__ import annotations

from typing import Final

from electorate.conformance import feature_compose as fc
from electorate.conformance.canonical import JSON, node_id
from electorate.conformance.compose import Composite
from electorate.conformance.harness import NotEnabledError, Session
from electorate.conformance.protocol import Client, Hello
from electorate.conformance.script import RunConfig, Step
from electorate.spec.actions import IsQuorum
from electorate.spec.features import restated
from electorate.spec.messages import Message, MType
from electorate.spec.state import Role, State

FEATURES: Final = ("check_quorum", "prevote")
# Anti-vacuity: the level fails if its search never reached one of these.
FEATURE_EVENTS: Final = (
    "prevote_won",  # a quorum of pre-votes started a real election (StartElection)
    "prevote_ignored_in_lease",  # a voter inside a leader's lease dropped a pre-vote
    "vote_ignored_in_lease",  # a voter inside a leader's lease dropped a real vote request
    "check_quorum_step_down",  # a leader that heard no quorum in a period stepped down
    "leader_elected",  # every election on this level follows a PreVote round
    "prevote_abandoned",  # a pre-candidate gave up on a quorum of refusals
)


def required_events(hello: Hello) -> tuple[str, ...]:
    """The level's anti-vacuity events for this adapter: an abandoned pre-candidacy only for
    adapters that declare they abandon lost elections."""
    if "abandon_lost_election" in hello.options:
        return FEATURE_EVENTS
    return tuple(e for e in FEATURE_EVENTS if e != "prevote_abandoned")


OPS: Final = ("timeout", "heartbeat", "period", "deliver", "drop", "duplicate")
NOT_DRAWN: Final = ("crash", "restart", "transfer")


class FeatureSession(Session):
    """A Session whose spec has PreVote and CheckQuorum (see the module docstring)."""

    def __init__(self, client: Client, hello: Hello, cfg: RunConfig) -> None:
        super().__init__(client, hello, cfg)
        if "restart_guard" in hello.options:
            self.s = fc.initial(self.s)
        self.known_leader_refuses = "prevote_refused_with_known_leader" in hello.options
        self.boxes: tuple[fc.Box, ...] = (fc.EMPTY,) * self.p.servers
        self.knows: tuple[bool, ...] = (False,) * self.p.servers

    def _adopt(self, comp: Composite) -> None:
        before = self.s
        super()._adopt(comp)
        if isinstance(comp, fc.FComposite):
            self.boxes = comp.boxes
        self.knows = fc.knows_leader_after(before, self.s, comp.actions, self.knows)

    # ------------------------------------------------------------------ planning
    def _enabled(self, op: str) -> list[Step]:
        s, n = self.s, self.p.servers
        up = [i for i in range(n) if i not in self.down]
        if op in NOT_DRAWN:
            return []
        if op == "timeout":  # exactly the featured Timeout's guard
            return [Step(op, i) for i in up if restated.Timeout(self.p, s, i) is not None]
        if op == "period":
            return [Step(op, i) for i in up if self._period_ok(s, i)]
        return super()._enabled(op)

    def _period_ok(self, s: State, i: int) -> bool:
        """A leader's period is drawn only when it heard no quorum: the implementation's lease
        (lease_ticks < election_ticks) runs out within a period in which no ack can arrive, so
        it steps down where the spec (no lease feature) keeps a leader that heard a quorum."""
        return s.role[i] != Role.Leader or not IsQuorum(self.p, s.acked[i])

    def _deliverable(self, m: Message) -> bool:
        if m.mdest in self.down or self._cut(m):
            return False
        if self.known_leader_refuses and fc.prevote_to_leader_follower(self.s, m, self.knows):
            return False
        c = fc.deliver(self.p, self.s, m, self.ab, self.boxes, True)
        if c is None:
            return False
        if m.mtype == MType.AppendEntriesRequest:  # the canonical log-mismatch restriction
            return not any(
                x.mtype == MType.AppendEntriesResponse and not x.msuccess and x.mterm == m.mterm
                for x, _ in c.state.messages
                if x.msource == m.mdest and x.mdest == m.msource
            )
        return True

    def _plan(self, step: Step) -> tuple[list[Composite], JSON | None, JSON | None]:
        if step.op not in ("timeout", "heartbeat", "period", "deliver"):
            return super()._plan(step)
        if step not in self.choices(step.op):
            raise NotEnabledError(str(step))
        p, s, ab, bx = self.p, self.s, self.ab, self.boxes
        name = node_id(step.node) if step.node >= 0 else ""
        comps: list[fc.FComposite | None]
        if step.op == "timeout":
            comps = [fc.timeout(p, s, step.node, ab, bx, lead) for lead in (True, False)]
            return _some(comps), _fire(name, "election"), None
        if step.op == "heartbeat":
            return _some([fc.heartbeat(p, s, step.node, ab, bx)]), _fire(name, "heartbeat"), None
        if step.op == "period":
            return _some(list(fc.period(p, s, step.node, ab, bx))), _fire(name, "period"), None
        msg = step.msg
        assert msg is not None
        concrete = self._concrete(msg)
        comps = [fc.deliver(p, s, msg, ab, bx, lead) for lead in (True, False)]
        return _some(comps), {"type": "deliver", "message": concrete}, concrete

    # ------------------------------------------------------------------ bookkeeping
    def _count_events(self, step: Step, before: State, comp: Composite) -> None:
        super()._count_events(step, before, comp)
        for a in comp.actions:
            if a.name == "StartElection":
                self.events["prevote_won"] += 1
            elif a.detail == "IgnorePreVoteInLease":
                self.events["prevote_ignored_in_lease"] += 1
            elif a.detail == "IgnoreVoteRequestInLease":
                self.events["vote_ignored_in_lease"] += 1
            elif a.detail == "IgnoreNewerTermInLease":  # counted, not required: it is rare
                self.events["newer_term_ignored_in_lease"] += 1
            elif a.name == "ElectionTimer" and "steps down" in a.detail:
                self.events["check_quorum_step_down"] += 1
        fresh = comp.abandoned - self.ab
        if any(before.role[i] == Role.PreCandidate for i in fresh):
            self.events["prevote_abandoned"] += 1


def make_session(client: Client, hello: Hello, cfg: RunConfig) -> Session:
    """The session for a run configuration: featured when the config has features."""
    if cfg.features:
        return FeatureSession(client, hello, cfg)
    return Session(client, hello, cfg)


def _some(comps: list[fc.FComposite | None]) -> list[Composite]:
    """The distinct enabled compositions, in order of preference (at least one)."""
    out: list[Composite] = []
    for c in comps:
        if c is not None and all(c.state != o.state or c.abandoned != o.abandoned for o in out):
            out.append(c)
    if not out:
        raise NotEnabledError("step not enabled in the featured spec")
    return out


def _fire(node: str, timer: str) -> JSON:
    return {"type": "fire_timer", "node": node, "timer": timer}
