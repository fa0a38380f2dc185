"""Leader Completeness (log profile): the proof, its checks, its hypotheses."""

from __future__ import annotations

import pytest
import z3

from electorate.proofs import catalog, commit, leadercompleteness, vacuity
from electorate.proofs.core import Settings
from electorate.proofs.induction import obligations
from electorate.proofs.mutants import expected_breaks, mutant_obligations
from electorate.proofs.sanity import BadState, evaluate
from electorate.spec.messages import Entry
from electorate.spec.next import Init
from electorate.spec.params import Params

THEORY = leadercompleteness.LEADER_COMPLETENESS
MODEL = leadercompleteness.MODEL


@pytest.mark.slow
def test_leader_completeness_is_proved_for_every_cluster_size() -> None:
    failed = [o.name for o in obligations(THEORY) if not o.run(Settings()).holds]
    assert failed == []


def test_every_hypothesis_list_names_conjuncts_of_the_invariant() -> None:
    ids = {c.id for c in THEORY.conjuncts}
    assert set(THEORY.assumed) == {c.id for c in commit.CONJUNCTS}
    actions = {a.name for a in THEORY.actions()}
    for owner, used in THEORY.uses:
        action, _, name = owner.rpartition(":")
        assert action in actions | {""}, owner
        assert name in ids | {c.id for c in THEORY.corollaries}, owner
        assert set(used) <= ids, (owner, set(used) - ids)
    own = {lem.id for lem in leadercompleteness.LEMMAS}
    assert own <= {owner for owner, _ in THEORY.uses}


def test_the_commit_step_it_assumes_is_proved_in_the_same_model() -> None:
    assert commit.COMMIT.model == MODEL
    assert not commit.COMMIT.assumed  # commit-stored proves every conjunct it has


def test_no_log_check_breaks_it_with_a_readable_counterexample() -> None:
    """The voting step inside this invariant breaks (VoterPassesEntry' breaks too, but z3
    finds no counterexample to it within its budgets: docs/proofs.md)."""
    name = "HandleRequestVoteRequest => LeaderLogCoversVoters'"
    (broken,) = [o for o in mutant_obligations(leadercompleteness.MUTANT, THEORY) if o.name == name]
    outcome = broken.run(Settings(search_first=True))
    assert not outcome.holds and outcome.status == "sat" and outcome.detail
    assert outcome.detail.startswith("counterexample to induction: HandleRequestVoteRequest(")


@pytest.mark.parametrize("bug", leadercompleteness.MUTANTS)
def test_a_relation_mutant_breaks_a_lemma_of_its_own(bug: str) -> None:
    """The first obligation each mutant is known to break is one of this proof's own lemmas
    (not the voting step's it proves again), refuted by a counterexample to induction."""
    (first, *_) = expected_breaks(bug, THEORY)
    own = {lem.id for lem in leadercompleteness.LEMMAS}
    assert first.name.split(" => ")[1].rstrip("'") in own
    outcome = first.run(Settings(search_first=True))
    assert not outcome.holds and outcome.status == "sat" and outcome.detail
    action = first.name.split(" => ")[0]
    assert outcome.detail.startswith(f"counterexample to induction: {action}(")
    assert outcome.detail.count("    msg ") <= 4  # minimized: the step's message and its reply


def test_the_formula_is_false_on_a_later_leader_without_the_committed_entry() -> None:
    (cor, _) = THEORY.corollaries
    bad = catalog.ENTRY_BY_NAME[THEORY.name].bad()
    assert evaluate(cor.formula, MODEL, bad) is False
    held = bad.state._replace(log=((Entry(1, 1),), (Entry(1, 1),)))
    assert evaluate(cor.formula, MODEL, BadState(bad.params, held, bad.ghosts)) is True
    assert evaluate(lambda s, v: z3.BoolVal(True), MODEL, bad) is True


def test_committed_unique_is_false_on_two_terms_committed_at_one_index() -> None:
    (_, unique) = THEORY.corollaries
    p = Params(servers=2, profile="log", max_log=2, values=2)
    two = BadState(p, Init(p), {"committed": [(1, 1), (1, 2)]}, "index 1 committed in 1 and 2")
    assert evaluate(unique.formula, MODEL, two) is False
    one = BadState(p, Init(p), {"committed": [(1, 1), (2, 1)]}, "indexes 1 and 2 in term 1")
    assert evaluate(unique.formula, MODEL, one) is True


def test_the_proof_is_not_vacuous_on_states_of_a_spec_trace() -> None:
    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    obs = vacuity.theory_obligations(THEORY, entry.witness, entry.witness_words, entry.concrete)
    failed = [o.name for o in obs if not o.run(Settings()).holds]
    assert len(obs) == 17 and failed == []


def test_the_two_heaviest_steps_are_split_into_exhaustive_cases() -> None:
    """Each split obligation is 4 queries: every sign of its two predicates."""
    from electorate.proofs.induction import cases, context, relation_formula
    from electorate.proofs.model import ACTION_BY_NAME

    action = ACTION_BY_NAME["HandleAppendEntriesRequest"]
    _, args = relation_formula(action, None, MODEL)
    for name in ("StoredHolds", "RequestsAgreeBelow"):
        found = cases(THEORY, action.name, name, context(MODEL), args)
        assert len(found) == 4 and len({str(z3.And(*c)) for c in found}) == 4
        either = z3.Or(*[z3.And(*c) for c in found])
        solver = z3.Solver()
        solver.add(z3.Not(either))
        assert solver.check() == z3.unsat  # the cases cover every step
    assert cases(THEORY, action.name, "LaterEntryHolds", context(MODEL), args) == [[]]
