"""The suite: corpus replay, then the Hypothesis search; the kill matrix of the mutants."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from electorate.conformance import coverage, observe_level
from electorate.conformance.bundle import write_bundle
from electorate.conformance.harness import FEATURES, Failure, Session
from electorate.conformance.machine import Budget, search
from electorate.conformance.minimize import minimize, replay
from electorate.conformance.mutants import SPEC_ADMITTED
from electorate.conformance.protocol import Adapter, Client, Hello
from electorate.conformance.script import Script, bug_id, read_script, write_script
from electorate.spec.bugs import BUGS
from electorate.spec.ids import BugId

SPEC_PREFIX = "spec:"  # a negative control: the spec mutated, the implementation not
LEVELS = (
    ("observe", ("observe",)),
    ("step", ("step",)),
    ("crash_restart", ("crash_restart",)),
    ("prevote_check_quorum", ("prevote", "check_quorum")),
)
MINIMIZE_SECONDS = 20.0
FEATURE_LEVEL = "prevote_check_quorum"
FEATURE_STEPS = 40  # the level's examples are a third of the budget's, 40 steps each
# The checks whose firing kills a mutant; anything else (a protocol error, an "unsupported"
# answer, a crash, a timeout) means the run did not happen.
BEHAVIOURAL: frozenset[str] = frozenset({"refinement", "messages", "invariant"})


@dataclass
class Outcome:
    """The result of one suite run (one mutant, or none)."""

    passed: bool
    examples: int = 0
    steps: int = 0
    seconds: float = 0.0
    coverage: Counter[str] = field(default_factory=Counter)  # targets hit (canonical level)
    required: tuple[str, ...] = ()  # the targets the canonical level must hit
    failure: Failure | None = None
    script: Script | None = None  # minimized failing script
    found_by: str = ""  # "replayed scenario NAME", "search" or the feature level
    bundle: Path | None = None
    seed: int = 0
    observe_steps: int | None = None  # steps of an observe-level failure (not replayable)
    feature_coverage: Counter[str] | None = None  # the PreVote/CheckQuorum level's, if it ran
    feature_required: tuple[str, ...] = ()  # the targets that level must hit
    omitted: int = 0  # messages the spec sent and the implementation never emitted
    scenarios_skipped: list[str] = field(default_factory=list)  # not feasible on this adapter

    @property
    def not_run(self) -> bool:
        """The run stopped on something that is not a behavioural check: a protocol error,
        an error reply (``unsupported``...), a crash or a timeout of the adapter."""
        return self.failure is not None and self.failure.kind not in BEHAVIOURAL

    @property
    def excused(self) -> dict[str, str]:
        """Required targets this implementation's admitted choices make unreachable (never
        hit), with the reason (coverage.excused)."""
        why = coverage.excused(self.coverage)
        return {t: why[t] for t in self.required if t in why and not self.coverage[t]}

    @property
    def missing(self) -> list[str]:
        """The coverage targets the run never hit (a run that misses one is vacuous)."""
        excused = self.excused
        out = [t for t in self.required if not self.coverage[t] and t not in excused]
        if self.feature_coverage is not None:
            cov = self.feature_coverage
            out += [f"{FEATURE_LEVEL}: {t}" for t in self.feature_required if not cov[t]]
        return out


def corpus_dir() -> Path:
    return Path(str(resources.files("electorate.conformance").joinpath("scenarios")))


def load_corpus() -> list[Script]:
    """The minimized counterexamples of the mutants."""
    return [read_script(p) for p in sorted(corpus_dir().glob("*.jsonl"))]


def longest_scenario() -> Script:
    """The longest stored scenario: the determinism self-check's script when a run passed."""
    return max(load_corpus() + load_coverage_scenarios(), key=lambda s: len(s.steps))


def load_coverage_scenarios() -> list[Script]:
    """Seeded scenarios: each reaches one coverage target the search rarely reaches alone."""
    return [read_script(p) for p in sorted((corpus_dir() / "coverage").glob("*.jsonl"))]


def canonical_spec_bugs() -> list[str]:
    """Spec bugs of the canonical spec that a negative control can show (those of the
    features change featured actions only; those of SPEC_ADMITTED only widen the spec)."""
    return sorted(
        b.name
        for b in BUGS.values()
        if "features" not in b.overrides and b.name not in SPEC_ADMITTED
    )


def feature_spec_bugs() -> list[str]:
    """Spec bugs of the features the PreVote/CheckQuorum level runs (not the lease's)."""
    ours = frozenset(FEATURES)

    def fits(wanted: object) -> bool:
        return isinstance(wanted, frozenset) and wanted <= ours

    return sorted(b.name for b in BUGS.values() if fits(b.overrides.get("features")))


def mutant_names(hello: Hello) -> list[str]:
    """The matrix of ``--all-mutants``: every mutant the adapter offers (``hello_ok.mutants``)
    and every spec bug of the canonical spec (negative controls), plus the featured spec's bugs
    when the adapter runs the PreVote/CheckQuorum level."""
    return list(hello.mutants) + spec_controls(hello)


def spec_controls(hello: Hello) -> list[str]:
    """The negative controls that apply to this adapter, as ``spec:BUG`` names."""
    bugs = canonical_spec_bugs()
    if runs_feature_level(hello):
        bugs += feature_spec_bugs()
    return [SPEC_PREFIX + b for b in bugs]


def runs_feature_level(hello: Hello) -> bool:
    return set(FEATURES) <= hello.capabilities


def faults(mutant: str | None) -> tuple[tuple[str, ...], BugId | None]:
    """The implementation mutants and the spec bug (``spec:NAME``) a run plants."""
    if mutant is None:
        return (), None
    if mutant.startswith(SPEC_PREFIX):
        return (), bug_id(mutant[len(SPEC_PREFIX) :])
    return (mutant,), None


def run(
    client: Client,
    hello: Hello,
    budget: Budget,
    mutant: str | None = None,
    corpus: bool = True,
    bundle_dir: Path | None = None,
) -> Outcome:
    """Corpus, then the PreVote level, then the search; minimize and bundle the first failure."""
    t0 = time.perf_counter()
    mutations, bug = faults(mutant)
    out = Outcome(passed=True, seed=budget.seed)
    out.required = coverage.required(False, hello.capabilities, hello.options)
    if corpus:
        _replay_corpus(client, hello, mutations, bug, out)
    if out.passed and runs_feature_level(hello):  # cheaper than the canonical search
        _feature_level(client, hello, budget, mutations, bug, out)
    elif out.passed and "prevote" in hello.capabilities:
        _prevote_level(client, budget, mutations, out)
    if out.passed:
        res = search(client, hello, budget, mutations, bug, targets=out.required)
        out.examples += res.examples
        out.steps += res.steps
        out.coverage.update(res.coverage)
        out.omitted += res.omitted
        if res.failure is not None and res.script is not None:
            out.passed, out.failure, out.found_by = False, res.failure, "search"
            out.script = res.script
    out.seconds = time.perf_counter() - t0
    if out.failure is not None and out.script is not None and not out.not_run:
        _minimize_and_bundle(client, hello, out, mutant, bundle_dir)
    return out


def _replay_corpus(
    client: Client, hello: Hello, mutations: tuple[str, ...], bug: BugId | None, out: Outcome
) -> None:
    """Replay the stored scenarios (the mutants' counterexamples, then the coverage seeds); a
    failure is credited to the check that fired, the scenario only named as the steps that
    were replayed."""
    seeds = load_coverage_scenarios()
    for scenario in load_corpus() + seeds:
        cfg = scenario.config.with_faults(mutations, bug)
        if cfg.features and not runs_feature_level(hello):
            continue
        r = replay(client, hello, Script(cfg, scenario.steps, scenario.name), scenario in seeds)
        out.examples += 1
        out.steps += len(r.session.steps)
        if r.failure is not None:
            out.passed, out.failure = False, r.failure
            out.found_by = f"replayed scenario {scenario.name}"
            out.script = Script(cfg, scenario.steps, scenario.name)
            return
        if not r.feasible:  # this implementation's choices took the spec elsewhere
            out.scenarios_skipped.append(scenario.name)
        elif cfg.features:  # a seed of the PreVote/CheckQuorum level's coverage
            out.feature_coverage = out.feature_coverage or Counter()
            out.feature_coverage.update(r.session.coverage)
        else:
            out.coverage.update(r.session.coverage)


def _feature_level(
    client: Client,
    hello: Hello,
    budget: Budget,
    mutations: tuple[str, ...],
    bug: BugId | None,
    out: Outcome,
) -> None:
    """The PreVote/CheckQuorum level: the three checks against the featured spec, a third of
    the budget's examples."""
    small = Budget(max(1, budget.examples // 3), FEATURE_STEPS, budget.seed)
    out.feature_required = coverage.required(True, hello.capabilities, hello.options)
    res = search(client, hello, small, mutations, bug, FEATURES, out.feature_required)
    out.examples += res.examples
    out.steps += res.steps
    out.omitted += res.omitted
    out.feature_coverage = out.feature_coverage or Counter()
    out.feature_coverage.update(res.coverage)
    if res.failure is not None and res.script is not None:
        out.passed, out.failure, out.found_by = False, res.failure, FEATURE_LEVEL
        out.script = res.script


def _prevote_level(
    client: Client, budget: Budget, mutations: tuple[str, ...], out: Outcome
) -> None:
    """The observe-only PreVote level (conformance.observe_level): invariants only."""
    obs = observe_level.run(client, ("prevote",), mutations, budget.seed)
    out.examples += obs.examples
    out.steps += obs.steps
    if not obs.passed:
        out.passed, out.found_by = False, "prevote-observe"
        out.failure = Failure([obs.check], len(obs.trace), obs.trace[-1], text=obs.text)
        out.failure.rows = [("trace", "", " ; ".join(obs.trace))]
        out.observe_steps = len(obs.trace)


def _minimize_and_bundle(
    client: Client, hello: Hello, out: Outcome, mutant: str | None, bundle_dir: Path | None
) -> None:
    assert out.script is not None and out.failure is not None
    name = mutant or "implementation"
    expect = {"mutant": mutant, "check": out.failure.check}
    small = minimize(client, hello, out.script, out.failure.check, MINIMIZE_SECONDS)
    r = replay(client, hello, small)
    if r.failure is None:  # cannot happen with a deterministic adapter; keep the original
        small, r = out.script, replay(client, hello, out.script)
    out.script = Script(small.config, small.steps, _slug(name), expect)
    if r.failure is not None:
        out.failure = r.failure
    if bundle_dir is not None and r.failure is not None:
        slug = f"{_slug(name)}-seed{out.seed}"
        out.bundle = write_bundle(bundle_dir, slug, out.script, r.session, r.failure)


def _slug(name: str) -> str:
    return name.replace(":", "-").replace("/", "-")


def save_scenario(script: Script) -> Path:
    """Add a minimized counterexample to the corpus (its faults are recorded in ``expect``,
    the stored config carries none: the corpus replays against whatever is under test)."""
    clean = Script(script.config.with_faults((), None), script.steps, script.name, script.expect)
    path = corpus_dir() / f"{script.name}.jsonl"
    write_script(path, clean)
    return path


def determinism(client: Client, hello: Hello, script: Script) -> bool:
    """The same script run twice must give identical responses (reply ids aside)."""

    def responses(session: Session) -> list[object]:
        return [_strip(r.response) for r in session.raw]

    a = replay(client, hello, script)
    b = replay(client, hello, script)
    return responses(a.session) == responses(b.session)


def _strip(resp: dict[str, object] | None) -> object:
    if resp is None:
        return None
    return {k: v for k, v in resp.items() if k not in ("msg_id", "in_reply_to")}


def levels(hello: Hello, passed: bool) -> dict[str, str]:
    """Conformance levels: passed, failed, or unsupported (what the adapter did not declare)."""
    caps = hello.capabilities | {"observe"}
    out: dict[str, str] = {}
    for name, needs in LEVELS:
        missing = [c for c in needs if c not in caps]
        if missing:
            out[name] = "unsupported (" + ", ".join(missing) + ")"
        elif name == FEATURE_LEVEL:
            state = "pass" if passed else "fail"
            out[name] = f"{state} (refined against the featured spec; no crash/restart/transfer)"
        else:
            out[name] = "pass" if passed else "fail"
    return out


def connect(adapter: Adapter, strict: bool) -> tuple[Client, Hello]:
    client = Client(adapter, strict=strict)
    return client, client.hello()
