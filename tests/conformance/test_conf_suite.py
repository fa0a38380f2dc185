"""The suite end to end: the reference adapters pass, the corpus replays, the mutants die.

The standard budget (300 examples x 50 steps) runs once, in process, against impl/; the other
adapters run a smaller budget (the protocol path is what they add, not more coverage).
"""

from __future__ import annotations

import pytest

from electorate.conformance import coverage, suite
from electorate.conformance.adapters.impl_host import ImplHost
from electorate.conformance.adapters.spec_host import SpecHost
from electorate.conformance.adapters.transport import (
    InProcessAdapter,
    SubprocessAdapter,
    adapter_argv,
)
from electorate.conformance.machine import Budget, search
from electorate.conformance.minimize import replay
from electorate.conformance.protocol import Client, Hello
from electorate.conformance.script import Script

SEED = 20260


def _connect(host: ImplHost | SpecHost) -> tuple[Client, Hello]:
    client = Client(InProcessAdapter(host), strict=False)
    return client, client.hello()


def test_impl_passes_the_standard_budget_and_reaches_every_target() -> None:
    client, hello = _connect(ImplHost())
    out = suite.run(client, hello, Budget(300, 50, SEED), corpus=True)
    assert out.passed, f"seed {SEED}: {out.failure}"
    assert out.missing == [], f"seed {SEED}: never reached {out.missing}"
    assert out.omitted == 0, "impl sends every message raft.tla sends"


def test_the_double_vote_bug_is_caught_at_seed_0_with_the_default_budget() -> None:
    """A candidate that steps down on a same-term AppendEntries and clears votedFor (it can
    then vote twice in that term): the search must deliver such a heartbeat to a candidate."""
    client, hello = _connect(ImplHost())
    mutant = "clear-vote-on-same-term-stepdown"
    out = suite.run(client, hello, Budget(), mutant, corpus=False)
    assert not out.passed and not out.not_run, "seed 0: the double-vote bug survived"
    assert out.failure is not None and out.failure.check == "refinement", out.failure
    # the canonical search alone finds it too (the suite runs the PreVote level first)
    targets = coverage.required(False, hello.capabilities, hello.options)
    res = search(client, hello, Budget(), (mutant,), None, (), targets)
    assert res.failure is not None and res.failure.check == "refinement", "seed 0: survived"


def test_spec_adapter_passes() -> None:
    client, hello = _connect(SpecHost())
    out = suite.run(client, hello, Budget(60, 50, SEED), corpus=True)
    assert out.passed, f"seed {SEED}: {out.failure}"


def test_subprocess_impl_adapter_passes_with_schemas() -> None:
    adapter = SubprocessAdapter(adapter_argv("electorate adapter impl"), "impl")
    try:
        client = Client(adapter, strict=True)
        hello = client.hello()
        out = suite.run(client, hello, Budget(20, 50, SEED), corpus=True)
        assert out.passed, f"seed {SEED}: {out.failure}"
        assert out.script is None
    finally:
        adapter.close()


def test_corpus_scenarios_kill_their_mutants_and_pass_clean() -> None:
    client, hello = _connect(ImplHost())
    corpus = suite.load_corpus()
    assert corpus, "the scenario corpus is empty"
    for sc in corpus:
        clean = replay(client, hello, sc)
        assert clean.feasible and clean.failure is None, f"{sc.name} fails on the clean impl"
        mutations, bug = suite.faults(sc.expect["mutant"])
        bad = replay(client, hello, Script(sc.config.with_faults(mutations, bug), sc.steps))
        assert bad.failure is not None, f"{sc.name} no longer kills {sc.expect['mutant']}"


def test_spec_bug_in_the_adapter_is_detected() -> None:
    """Negative control the other way round: a mutated spec as the implementation."""
    client, hello = _connect(SpecHost("vote-twice"))
    out = suite.run(client, hello, Budget(300, 50, SEED), corpus=False)
    assert not out.passed


def test_determinism_self_check() -> None:
    client, hello = _connect(ImplHost())
    script = max(suite.load_corpus(), key=lambda s: len(s.steps))
    assert suite.determinism(client, hello, script)


@pytest.mark.slow
def test_every_mutant_is_killed_by_the_search_alone() -> None:
    """The kill matrix without the corpus: the search must find every bug on its own."""
    client, hello = _connect(ImplHost())
    survivors = []
    for name in suite.mutant_names(hello):
        out = suite.run(client, hello, Budget(300, 50, SEED), name, corpus=False)
        if not out.failure or out.not_run:
            survivors.append(name)
    assert survivors == [], f"seed {SEED}: mutants not killed: {survivors}"


def test_each_seeded_coverage_scenario_reaches_its_target() -> None:
    client, hello = _connect(ImplHost())
    scenarios = suite.load_coverage_scenarios()
    assert len(scenarios) >= 6
    for sc in scenarios:
        r = replay(client, hello, sc)
        assert r.feasible and r.failure is None, f"{sc.name}: {r.failure}"
        target = sc.expect["target"]
        level = coverage.FEATURE_TARGETS + coverage.ABANDON_TARGETS if sc.config.features else ()
        assert target in coverage.RECEIVE_TARGETS + level, target
        assert r.session.coverage[target], f"{sc.name} no longer reaches {target}"


def test_a_featured_scenario_counts_towards_the_feature_levels_coverage() -> None:
    """A pre-candidate that a majority refused and gave up is rare in the featured search (seed
    9 of the default budget missed it); its seeded scenario counts for that level."""
    client, hello = _connect(ImplHost())
    out = suite.run(client, hello, Budget(2, 3, 0), corpus=True)
    assert out.feature_coverage is not None and out.feature_coverage["prevote abandoned"]
