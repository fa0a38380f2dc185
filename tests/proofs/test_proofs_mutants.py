"""Mutation: each spec bug makes the proof fail with a counterexample, exactly where expected."""

from __future__ import annotations

import pytest

from electorate.proofs import election
from electorate.proofs.core import Settings
from electorate.proofs.mutants import MUTANTS, mutant_obligations
from electorate.spec.bugs import BUGS

SAFETY_BUGS = [
    "quorum-half",
    "vote-twice",
    "forget-vote-on-restart",
    "stale-votes-counted",
    "leader-keeps-role",
]


def test_every_spec_bug_has_a_mutant() -> None:
    assert set(BUGS) <= set(MUTANTS), set(BUGS) - set(MUTANTS)


@pytest.mark.parametrize("bug", sorted(MUTANTS))
def test_mutant_fails_exactly_where_expected(bug: str) -> None:
    """Over the obligations the bug can affect (its actions and the bridge; the full set is
    run by `electorate prove --bug` and the benchmark, with the same result)."""
    failures = {}
    for ob in mutant_obligations(bug):
        outcome = ob.run(Settings())
        if not outcome.holds:
            assert outcome.status == "sat", f"{bug}: {ob.name} is {outcome.status}, not a CTI"
            failures[ob.name] = outcome.detail or ""
    assert sorted(failures) == sorted(MUTANTS[bug].breaks), bug
    for name, detail in failures.items():
        assert detail, f"{bug}: {name} failed without a counterexample"
    if bug in SAFETY_BUGS:
        assert failures, f"{bug} must break the proof"


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
