"""Election safety: the inductive invariant holds, every lemma is needed, the CTIs are readable."""

from __future__ import annotations

import os

import pytest

from electorate.proofs import election
from electorate.proofs.core import Settings
from electorate.proofs.induction import check_step
from electorate.proofs.invariant import CONJUNCTS, LEMMAS, Lemma, conjunct
from electorate.proofs.model import ACTION_BY_NAME

ELECTION = election.ELECTION

# Minimizing a counterexample costs tens of solver calls: CI checks the cheaper lemmas' necessity
# (the proof graph test covers every lemma's obligations by unsat cores), ELECTORATE_LONG=1 all.
LONG_ONLY = pytest.mark.skipif(
    not os.environ.get("ELECTORATE_LONG"), reason="long: set ELECTORATE_LONG=1"
)
LONG_LEMMAS = {"CountedVoterTerm", "ResponseTermBounded", "GrantIsVote"}


@pytest.mark.parametrize("seed", [0, pytest.param(7, marks=LONG_ONLY)])
def test_all_obligations_hold(seed: int) -> None:
    obligations = election.obligations()
    assert len(obligations) == 3 + len(CONJUNCTS) * (1 + len(ELECTION.actions()))  # 3 bridge facts
    assert len(obligations) == 147
    failed = []
    for ob in obligations:
        outcome = ob.run(Settings(seed=seed))
        if not outcome.holds:
            failed.append(f"{ob.name}: {outcome.status}\n{outcome.detail}")
    assert not failed, f"seed={seed}\n" + "\n".join(failed)


def test_the_featured_model_has_237_obligations() -> None:
    assert len(election.obligations(features=True)) == 237


@pytest.mark.parametrize(
    "lemma",
    [pytest.param(m, marks=LONG_ONLY) if m.id in LONG_LEMMAS else m for m in LEMMAS],
    ids=lambda x: x.id,
)
def test_every_lemma_is_necessary(lemma: Lemma) -> None:
    """Without the lemma, the obligations it supports have counterexamples to induction."""
    dropped = [c for c in CONJUNCTS if c is not lemma]
    assert lemma.broken_without
    for name in lemma.broken_without:
        action_name, goal = name.removesuffix("'").split(" => ")
        outcome = check_step(
            ELECTION, ACTION_BY_NAME[action_name], conjunct(goal), None, Settings(), dropped
        )
        assert not outcome.holds and outcome.status == "sat", name
        assert outcome.detail is not None
        assert f"counterexample to induction: {action_name}(" in outcome.detail
        assert f"breaks {goal}" in outcome.detail


def test_counterexample_is_small() -> None:
    """Minimized CTIs use few servers and small terms."""
    dropped = [c for c in CONJUNCTS if c.id != "VotesDisjoint"]
    outcome = check_step(
        ELECTION,
        ACTION_BY_NAME["BecomeLeader"],
        conjunct("ElectionSafety"),
        None,
        Settings(),
        dropped,
    )
    assert outcome.detail is not None
    servers = {
        line.split(":")[0].strip()
        for line in outcome.detail.splitlines()
        if line.startswith("    n")
    }
    assert 1 <= len(servers) <= 3, outcome.detail
    assert "Leader" in outcome.detail


def test_unknown_conjunct_and_bug_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown conjunct"):
        conjunct("Nope")
    with pytest.raises(ValueError, match="unknown bug"):
        election.obligations("nope")


def test_proof_graph_agrees_with_lemma_necessity() -> None:
    """A lemma whose removal breaks an obligation is in every unsat core of that obligation."""
    from electorate.proofs.graph import uses

    for lemma in LEMMAS:
        for name in lemma.broken_without:
            action_name, goal = name.removesuffix("'").split(" => ")
            used = uses(ACTION_BY_NAME[action_name], conjunct(goal), Settings())
            assert used is not None, f"{name} is not proved"
            assert lemma.id in used, f"{name} proved without {lemma.id}: core {used}"
