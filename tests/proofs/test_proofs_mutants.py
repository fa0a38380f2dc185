"""Mutation: each spec bug makes a proof fail with a counterexample, exactly where expected."""

from __future__ import annotations

import os

import pytest

from electorate.proofs import election
from electorate.proofs.catalog import ENTRY_BY_NAME
from electorate.proofs.core import Settings
from electorate.proofs.mutants import MUTANTS, breaks_in, mutant_obligations
from electorate.spec.bugs import BUGS
from electorate.spec.ids import BUG_IDS

# Each counterexample is minimized (tens of solver calls), so a bug that breaks many obligations
# costs minutes on a loaded machine: CI runs the cheaper ones, ELECTORATE_LONG=1 runs them all
# (the figures in docs/proofs.md are from such a run). `electorate prove` checks one mutant per
# property on every run.
LONG = bool(os.environ.get("ELECTORATE_LONG"))
LONG_ONLY = [
    pytest.mark.skipif(not LONG, reason="long: set ELECTORATE_LONG=1"),
    pytest.mark.timeout(1800),
]
LONG_BUGS = {"leader-keeps-role", "vote-twice"}
LONG_PAIRS = {("vote-twice", "election-history"), ("lease-from-receive-time", "lease")}

SAFETY_BUGS = [
    "quorum-half",
    "vote-twice",
    "forget-vote-on-restart",
    "stale-votes-counted",
    "leader-keeps-role",
]


def test_every_spec_bug_has_a_mutant() -> None:
    assert set(BUGS) <= set(MUTANTS), set(BUGS) - set(MUTANTS)
    assert set(MUTANTS) <= set(BUG_IDS)


def _failures(bug: str, theory_name: str) -> dict[str, str]:
    theory = ENTRY_BY_NAME[theory_name].theory
    failures = {}
    # One attempt more than prove's default: a counterexample search may need a larger budget
    # (lease-from-receive-time's NoNewerWhileLeased'); only `sat` counts as breaking.
    for ob in mutant_obligations(bug, theory):
        outcome = ob.run(Settings(attempts=4))
        if not outcome.holds:
            assert outcome.status == "sat", f"{bug}: {ob.name} is {outcome.status}, not a CTI"
            assert outcome.detail, f"{bug}: {ob.name} failed without a counterexample"
            failures[ob.name] = outcome.detail
    return failures


@pytest.mark.parametrize(
    "bug", [pytest.param(b, marks=LONG_ONLY) if b in LONG_BUGS else b for b in sorted(MUTANTS)]
)
def test_mutant_fails_exactly_where_expected(bug: str) -> None:
    """Over the obligations the bug can affect (its actions and the bridge; the full set is
    run by `electorate prove --bug` and the benchmark, with the same result)."""
    theory = "election+prevote+checkquorum" if MUTANTS[bug].features else "election"
    failures = _failures(bug, theory)
    assert sorted(failures) == sorted(MUTANTS[bug].breaks), bug
    if bug in SAFETY_BUGS:
        assert failures, f"{bug} must break the proof"


CHEAP = [
    (bug, theory)
    for bug, m in MUTANTS.items()
    for theory in m.theories
    # no-log-check in leader-completeness: one more obligation it breaks is `unknown`, not a
    # counterexample (mutants.py); `prove` and test_proofs_leadercompleteness check the rest.
    if (bug, theory)
    not in {("leader-keeps-role", "election-history"), ("no-log-check", "leader-completeness")}
]


@pytest.mark.parametrize(
    ("bug", "theory"),
    [pytest.param(b, t, marks=LONG_ONLY) if (b, t) in LONG_PAIRS else (b, t) for b, t in CHEAP],
    ids=[f"{b}-{t}" for b, t in CHEAP],
)
def test_mutant_breaks_the_other_theories_exactly_where_expected(bug: str, theory: str) -> None:
    failures = _failures(bug, theory)
    assert sorted(failures) == sorted(breaks_in(bug, ENTRY_BY_NAME[theory].theory)), (bug, theory)
    assert failures


def test_each_property_has_a_mutant_that_breaks_it() -> None:
    for name, entry in ENTRY_BY_NAME.items():
        assert breaks_in(entry.mutant, entry.theory), f"{name}: {entry.mutant} breaks nothing"


@pytest.mark.slow
def test_a_full_mutant_run_fails_only_at_its_actions() -> None:
    bug = "no-term-increment"
    failed = [o.name for o in election.obligations(bug) if not o.run(Settings()).holds]
    assert failed == list(MUTANTS[bug].breaks)


def test_mutant_obligations_are_the_changed_actions() -> None:
    for bug, mutant in MUTANTS.items():
        names = {o.name for o in mutant_obligations(bug)}
        assert all(
            n.startswith("Bridge") or n.startswith("Init") or n.split(" => ")[0] in mutant.actions
            for n in names
        )
        assert set(mutant.breaks) <= names
