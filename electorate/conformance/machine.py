"""The search: Hypothesis draws each example's configuration and a choice per step.

Every step is chosen among ``Session.choices(op)``, computed from the spec state and the
harness's network only, never from what the implementation said. Every draw is a coin flip
and an example always has the budget's number of steps, so the seed alone fixes the run (a
Hypothesis state machine would add integer draws, into which Hypothesis mixes constants found
in whatever modules the process has loaded). Shrinking is off: a failing
script is minimized afterwards by delta debugging through the adapter (conformance.minimize).

The search is steered towards coverage (conformance.coverage): besides one kind per step, a
``steer`` kind is enabled whenever some enabled step would hit a target no example has hit
yet, and draws among those steps. Coverage so far is a function of the earlier examples, so a
seed still fixes the whole run.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from electorate.conformance.harness import DivergenceError, Failure, Session
from electorate.conformance.protocol import Client, Hello
from electorate.conformance.script import RunConfig, Script, Step
from electorate.spec.ids import BugId, Feature


def bits(width: int) -> st.SearchStrategy[int]:
    """A number made of ``width`` coin flips. Every draw of the search is a coin flip, never an
    integer draw: Hypothesis mixes into integer draws the constants it finds in the source of
    the local modules loaded so far, which would make a seed's run depend on what else the
    process imported (a test suite, a plugin), not on the seed alone."""
    return st.tuples(*[st.booleans()] * width).map(lambda flips: _number(flips))


def _number(flips: tuple[bool, ...]) -> int:
    return sum(1 << k for k, flip in enumerate(flips) if flip)


# Every draw has the same shape whatever the state (two numbers per step): the harness, not
# Hypothesis, turns them into a step, so steering by the coverage of earlier examples never
# makes Hypothesis see an example behave differently on the same choices. Eight coins make 256
# values, taken modulo at most about thirty kinds or enabled steps: near uniform.
CHOICE = bits(8)
SIZES = (3, 4, 3, 4, 5, 2, 1, 3)  # mostly 3 and 4 (4 and 5: double counting needs q > 2)
# The weight of each kind of step among the enabled ones. Delivery dominates so that elections
# complete between the faults; ``steer`` (enabled only while an uncovered target is one step
# away) then takes about a quarter of the steps.
RULE_WEIGHTS = {
    "deliver": 10,
    "timeout": 2,
    "heartbeat": 2,
    "period": 2,
    "drop": 1,
    "duplicate": 1,
    "partition": 1,
    "heal": 1,
    "crash": 1,
    "restart": 1,
    "transfer": 1,
    "steer": 8,
}


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
    coverage: Counter[str] = field(default_factory=Counter)
    omitted: int = 0
    failure: Failure | None = None
    script: Script | None = None
    session: Session | None = None


@st.composite
def run_configs(
    draw: st.DrawFn,
    seed_value: int,
    mutations: tuple[str, ...],
    bug: BugId | None,
    features: tuple[Feature, ...] = (),
) -> RunConfig:
    n = SIZES[draw(bits(3))]
    if draw(st.booleans()):
        logs = tuple((0, 0) for _ in range(n))
    else:
        pair = st.tuples(bits(2), bits(1)).map(lambda t: (t[0], t[1] + 1) if t[0] else (0, 0))
        logs = tuple(draw(pair) for _ in range(n))
    return RunConfig(n, logs, seed_value, mutations, bug, features)


def search(
    client: Client,
    hello: Hello,
    budget: Budget,
    mutations: tuple[str, ...] = (),
    spec_bug: BugId | None = None,
    features: tuple[Feature, ...] = (),
    targets: tuple[str, ...] = (),
) -> SearchResult:
    """Run the search for the budget; stop at the first failing example. ``targets``:
    the coverage targets to steer towards; ``features``: the featured level."""
    result = SearchResult()
    wanted = set(targets)

    def _uncovered(session: Session) -> set[str]:
        return {t for t in wanted if not result.coverage[t] and not session.coverage[t]}

    def _apply(session: Session, step: Step) -> None:
        result.steps += 1
        try:
            session.apply(step)
        except DivergenceError as d:
            _first_failure(result, d.failure, Script(session.cfg, tuple(session.steps)), session)
            raise

    @given(cfg=run_configs(budget.seed, mutations, spec_bug, features), data=st.data())
    def example(cfg: RunConfig, data: st.DataObject) -> None:
        session = Session(client, hello, cfg)
        result.examples += 1
        try:
            try:
                session.start()
            except DivergenceError as d:
                _first_failure(result, d.failure, Script(cfg, ()), session)
                raise
            for _ in range(budget.steps):
                k = data.draw(CHOICE, label="step kind")
                j = data.draw(CHOICE, label="step")
                step = _choose(session, _uncovered(session), k, j)
                if step is not None:
                    _apply(session, step)
        finally:
            result.coverage.update(session.coverage)
            result.omitted += session.omitted

    conf = settings(
        max_examples=budget.examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    run = seed(budget.seed)(conf(example))
    t0 = time.perf_counter()
    try:
        run()
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


def _choose(session: Session, uncovered: set[str], k: int, j: int) -> Step | None:
    """The step of choice (k, j): k picks a kind of step among the enabled ones by weight
    (``steer``: the steps that would hit an uncovered target), j one step of that kind."""
    kinds: list[tuple[str, list[Step]]] = []
    frontier = session.frontier(uncovered) if uncovered else []
    if frontier:
        kinds.append(("steer", frontier))
    kinds += [(op, session.choices(op)) for op in session.ops]
    weighted = [(op, steps) for op, steps in kinds if steps for _ in range(RULE_WEIGHTS[op])]
    if not weighted:
        return None
    steps = weighted[k % len(weighted)][1]
    return steps[j % len(steps)]
