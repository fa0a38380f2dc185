"""A liveness lasso as a conformance script: its stem, then its cycle k times.

The liveness models' actions are the conformance suite's steps (spec/liveness/steps.py): a
timeout, a heartbeat, a message handled to the end, a message lost. The lasso is replayed in
the concrete model (terms as they grow) and each action becomes the harness step that drives
an implementation the same way, beside the conformance model (spec actions completed eagerly,
as the harness does for the spec itself):

- Timeout(i) and LuckyTimeout(i): `timeout(i)`; Heartbeat(i): `heartbeat(i)`;
- ElectionTimer(i): `period(i)` with PreVote or CheckQuorum, except a leader's period that
  ends with a quorum heard (it changes no role or term, and the harness draws a leader's period
  only without a quorum heard); a classic conformance model has no election period (its
  timeouts need none);
- Receive(m): `deliver(m)`; DropMessage(m): `drop(m)`;
- Stabilize and Lull: no step (the environment's bookkeeping: timing, not events).

A model with a feature the conformance protocol lacks (the lease) has no script: refused.

The liveness network drops at once what could only ever be lost or discarded (a message on a
link outside the topology, one superseded in its slot, a response nobody can use any more):
each is a `drop` step here, which raft.tla's network allows at any time. After every action
the conformance model must agree with the concrete lasso on every server's term, role and
vote; otherwise the export fails (LassoScriptError) rather than write a script of another
behaviour. `electorate conform replay FILE --adapter ...` then runs it against an
implementation: a pass means the implementation took the lasso's steps, cycle after cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from electorate.conformance.compose import Aux, compositions
from electorate.conformance.harness import FEATURES as CONFORMANCE_FEATURES
from electorate.conformance.model import Model, model
from electorate.conformance.script import RunConfig, Script, Step
from electorate.model_check.liveness import Lasso
from electorate.spec.liveness import quotient
from electorate.spec.liveness.model import concrete_run
from electorate.spec.liveness.network import STALE, slot
from electorate.spec.messages import Message
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import State


class LassoScriptError(ValueError):
    """The lasso cannot be written as a conformance script; the text says why."""


def lasso_script(
    p: Params,
    lasso: Lasso[State, Action],
    repetitions: int,
    name: str = "",
    normalise: Callable[[State], State] = quotient.normalise,
) -> Script:
    """The script of `lasso` (its states as `normalise` gives them): its stem, then its cycle
    `repetitions` times."""
    missing = sorted(set(p.features) - set(CONFORMANCE_FEATURES))
    if missing:
        raise LassoScriptError(
            f"the conformance protocol has no {', '.join(missing)} feature (only "
            f"{', '.join(CONFORMANCE_FEATURES)}): this lasso cannot be a script"
        )
    run = concrete_run(p, lasso, repetitions, normalise)
    if run is None:
        raise LassoScriptError(f"the {lasso.property} lasso does not replay in the concrete model")
    cfg = RunConfig(p.servers, ((0, 0),) * p.servers, features=tuple(sorted(p.features)))
    mdl = model(cfg.params())
    c, aux = cfg.initial_state(), Aux()
    out: list[Step] = []
    stem = len(lasso.stem)
    for k, (action, live) in enumerate(run[1:], start=2):
        assert action is not None
        for step in _steps(mdl, c, action):
            c, aux = _apply(mdl, c, aux, step, k)
            out.append(step)
        for step in list(_surplus(c, live, action)):
            c, aux = _apply(mdl, c, aux, step, k)
            out.append(step)
        _agree(c, live, action, k)
        if k == stem:
            stem_steps = len(out)
    if stem == 1:
        stem_steps = 0
    expect = {
        "liveness": lasso.property,
        "query": lasso.query,
        "stem_steps": stem_steps,
        "cycle_steps": (len(out) - stem_steps) // max(1, repetitions),
        "repetitions": repetitions,
    }
    return Script(cfg, tuple(out), name or f"lasso {lasso.property}", expect)


def _steps(mdl: Model, c: State, action: Action) -> list[Step]:
    name, args = action.name, action.args
    if name in ("Timeout", "LuckyTimeout"):
        return [Step("timeout", _server(args[0]))]
    if name == "Heartbeat":
        return [Step("heartbeat", _server(args[0]))]
    if name == "ElectionTimer":
        if mdl.election_timer is None or action.detail == "quorum heard":
            return []  # nothing to observe; the harness draws a leader's period only without
            # a quorum heard (conformance/harness.py)
        return [Step("period", _server(args[0]))]
    if name in ("Receive", "DropMessage"):
        m = args[0]
        assert isinstance(m, Message)
        op = "deliver" if name == "Receive" else "drop"
        return [Step(op, msg=_match(c, m, action))]
    if name in ("Stabilize", "Lull"):
        return []
    raise LassoScriptError(f"no conformance step for {action}")


def _server(x: object) -> int:
    assert isinstance(x, int)
    return x


def _same(x: Message, m: Message, c: State) -> bool:
    """x (in the conformance model's network) is the message the liveness model names m: same
    slot and answer, and the same term (a stale request: any term older than its receiver's)."""
    if slot(x) != slot(m) or (x.mvote_granted, x.msuccess) != (m.mvote_granted, m.msuccess):
        return False
    if m.mterm == STALE:
        return x.mterm < c.current_term[x.mdest]
    return x.mterm == m.mterm


def _match(c: State, m: Message, action: Action) -> Message:
    for x, _ in c.messages:
        if _same(x, m, c):
            return x
    raise LassoScriptError(f"{action}: no such message in the conformance model's network")


def _surplus(c: State, live: State, action: Action) -> Iterator[Step]:
    """A drop for every copy the conformance network holds beyond the liveness network's."""
    want = [m for m, _ in live.messages]
    for x, copies in c.messages:
        for _ in range(copies):
            hit = next((k for k, m in enumerate(want) if _same(x, m, c)), None)
            if hit is None:
                yield Step("drop", msg=x)
            else:
                del want[hit]
    if want:
        raise LassoScriptError(f"{action}: the conformance model did not send {want[0]}")


def _apply(mdl: Model, c: State, aux: Aux, step: Step, k: int) -> tuple[State, Aux]:
    comp = next(compositions(mdl, c, aux, step, None), None)
    if comp is None:
        raise LassoScriptError(f"lasso step {k}: {step} is not enabled in the conformance model")
    return comp.state, comp.aux


def _agree(c: State, live: State, action: Action, k: int) -> None:
    for field in ("current_term", "role", "voted_for"):
        if getattr(c, field) != getattr(live, field):
            raise LassoScriptError(
                f"lasso step {k} ({action}): the conformance model's {field} "
                f"{getattr(c, field)} differs from the lasso's {getattr(live, field)}"
            )
