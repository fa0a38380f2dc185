"""The Hypothesis state machine: one rule per harness step, arguments drawn from the spec.

Every rule draws its argument from ``Session.choices(op)``, computed from the spec state and the
harness's network only, never from what the implementation said. Shrinking is off: a failing
script is minimized afterwards by delta debugging through the adapter (conformance.minimize).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from electorate.conformance.feature_level import make_session
from electorate.conformance.harness import DivergenceError, Failure, Session
from electorate.conformance.protocol import Client, Hello
from electorate.conformance.script import RunConfig, Script

SIZES = (3, 4, 3, 4, 5, 2, 1)  # mostly 3 and 4 (4 and 5: double counting needs q > 2)
# Hypothesis picks uniformly among the enabled rules; a rule registered k times is k times as
# likely. Delivery dominates so that elections complete between the faults.
RULE_WEIGHTS = {
    "deliver": 10,
    "timeout": 2,
    "heartbeat": 2,
    "drop": 1,
    "duplicate": 1,
    "partition": 1,
    "heal": 1,
    "crash": 1,
    "restart": 1,
    "transfer": 1,
}
# The PreVote/CheckQuorum level (conformance.feature_level) adds the election period; crash,
# restart and transfer are never enabled there.
FEATURE_WEIGHTS = {**RULE_WEIGHTS, "period": 2}


@dataclass(frozen=True)
class Budget:
    examples: int = 300
    steps: int = 50
    seed: int = 0


@dataclass
class SearchResult:
    examples: int = 0
    steps: int = 0
    seconds: float = 0.0
    events: Counter[str] = field(default_factory=Counter)
    failure: Failure | None = None
    script: Script | None = None
    session: Session | None = None


@st.composite
def run_configs(
    draw: st.DrawFn,
    seed_value: int,
    mutations: tuple[str, ...],
    bug: str | None,
    features: tuple[str, ...] = (),
) -> RunConfig:
    n = draw(st.sampled_from(SIZES))
    if draw(st.booleans()):
        logs = tuple((0, 0) for _ in range(n))
    else:
        pair = st.tuples(st.integers(0, 3), st.integers(1, 2)).map(lambda t: t if t[0] else (0, 0))
        logs = tuple(draw(pair) for _ in range(n))
    return RunConfig(n, logs, seed_value, mutations, bug, features)


def search(
    client: Client,
    hello: Hello,
    budget: Budget,
    mutations: tuple[str, ...] = (),
    spec_bug: str | None = None,
    features: tuple[str, ...] = (),
) -> SearchResult:
    """Run the state machine for the budget; stop at the first failing example. With
    ``features``, the featured level (conformance.feature_level) and its rules."""
    result = SearchResult()
    current: list[Session] = []

    def _pick(machine: RuleBasedStateMachine, data: st.DataObject, op: str) -> None:
        session = current[-1]
        step = data.draw(st.sampled_from(session.choices(op)), label=op)
        result.steps += 1
        try:
            session.apply(step)
        except DivergenceError as d:
            _first_failure(result, d.failure, Script(session.cfg, tuple(session.steps)), session)
            raise

    def _has(op: str) -> object:
        return precondition(lambda self: bool(current) and bool(current[-1].choices(op)))

    class Conformance(RuleBasedStateMachine):
        @initialize(cfg=run_configs(budget.seed, mutations, spec_bug, features))
        def init(self, cfg: RunConfig) -> None:
            session = make_session(client, hello, cfg)
            current.append(session)
            if len(current) > 1:
                current.pop(0)
            result.examples += 1
            try:
                session.start()
            except DivergenceError as d:
                _first_failure(result, d.failure, Script(cfg, ()), session)
                raise

        def teardown(self) -> None:
            if current:
                result.events.update(current[-1].events)

    for op, weight in (FEATURE_WEIGHTS if features else RULE_WEIGHTS).items():
        for k in range(weight):
            setattr(Conformance, f"{op}_{k}", _make_rule(op, _pick, _has))

    factory = seed(budget.seed)(Conformance)
    conf = settings(
        max_examples=budget.examples,
        stateful_step_count=budget.steps,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    t0 = time.perf_counter()
    try:
        run_state_machine_as_test(factory, settings=conf)
    except Exception:
        if result.failure is None:
            raise  # not a divergence: a harness bug, let it surface
    result.seconds = time.perf_counter() - t0
    return result


def _first_failure(result: SearchResult, f: Failure, script: Script, session: Session) -> None:
    """Keep the first failure only: Hypothesis replays a failing example (to tell a flaky
    test), and a replay through a dead adapter would overwrite the real failure."""
    if result.failure is None:
        result.failure, result.script, result.session = f, script, session


Pick = Callable[[RuleBasedStateMachine, st.DataObject, str], None]


def _make_rule(op: str, pick: Pick, has: Callable[[str], object]) -> object:
    def body(self: RuleBasedStateMachine, data: st.DataObject) -> None:
        pick(self, data, op)

    # One name for every rule: Hypothesis's swarm testing switches rules off per example by
    # name, which would leave whole examples without deliveries; RULE_WEIGHTS decides instead.
    body.__name__ = "step"
    guarded = rule(data=st.data())(body)
    return has(op)(guarded)  # type: ignore[operator]
