"""Every server's commitIndex points at committed entries (log profile): the proof, its checks,
and the formula on a spec trace in which a follower learns a commit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
import z3

from electorate.proofs import catalog, commitindex, tie, vacuity
from electorate.proofs.core import Settings
from electorate.proofs.mutants import expected_breaks, mutant_obligations
from electorate.proofs.sanity import BadState, evaluate
from electorate.spec.messages import Entry
from electorate.spec.next import Action, Init
from electorate.spec.params import Params
from electorate.spec.state import Role, State

THEORY = commitindex.COMMIT_INDEX
MODEL = commitindex.MODEL
FORMULA = commitindex.PROPERTY_LEMMA.formula


def test_commit_index_committed_is_proved_for_every_cluster_size() -> None:
    obs = commitindex.obligations()
    assert len(obs) == 41  # 4 derived facts, 2 x (Init + 15 actions), 3 bridge, 2 corollaries
    assert [o.name for o in obs[:4]] == [
        f"leader-completeness invariant => {d.id}" for d in commitindex.DERIVED
    ]
    failed = [o.name for o in obs if not o.run(Settings()).holds]
    assert failed == []


def test_an_unbounded_mcommit_index_breaks_it_with_a_readable_counterexample() -> None:
    (broken,) = expected_breaks(commitindex.MUTANT, THEORY)
    outcome = broken.run(Settings(search_first=True))
    assert not outcome.holds and outcome.status == "sat" and outcome.detail
    assert outcome.detail.startswith("counterexample to induction: AppendEntries(")
    assert "breaks RequestCommitIndexCommitted" in outcome.detail
    assert "msg AppendEntriesRequest" in outcome.detail and " commit " in outcome.detail


@pytest.mark.slow
def test_the_unbounded_mcommit_index_breaks_only_the_request_lemma() -> None:
    wanted = {o.name for o in expected_breaks(commitindex.MUTANT, THEORY)}
    assert wanted == {"AppendEntries => RequestCommitIndexCommitted'"}
    for ob in mutant_obligations(commitindex.MUTANT, THEORY):
        outcome = ob.run(Settings(search_first=ob.name in wanted))
        assert outcome.holds == (ob.name not in wanted), (ob.name, outcome.status)


def test_the_formula_is_false_on_a_commit_index_at_another_entry() -> None:
    bad = catalog.ENTRY_BY_NAME[THEORY.name].bad()
    assert evaluate(FORMULA, MODEL, bad) is False
    logs = bad.state.log
    agreeing = BadState(bad.params, bad.state._replace(log=(logs[0], logs[0])), bad.ghosts)
    assert evaluate(FORMULA, MODEL, agreeing) is True
    assert evaluate(lambda s, v: z3.BoolVal(True), MODEL, bad) is True


def test_the_spec_s_leader_completeness_and_state_machine_safety_follow() -> None:
    """Both corollaries are proved with the rest (test above); here: each is false where it
    must be."""
    spec_lc, sms = THEORY.corollaries
    p = Params(servers=2, profile="log", max_log=2, values=2)
    ahead = Init(p)._replace(
        role=(Role.Leader, Role.Follower), log=((), (Entry(1, 1),)), commit_index=(0, 1)
    )
    assert evaluate(spec_lc.formula, MODEL, BadState(p, ahead)) is False
    apart = Init(p)._replace(log=((Entry(1, 2),), (Entry(1, 1),)), commit_index=(1, 1))
    assert evaluate(sms.formula, MODEL, BadState(p, apart)) is False


def test_the_proof_is_not_vacuous_on_states_of_a_spec_trace() -> None:
    """Every action is enabled, under the invariant and its hypotheses, on a state of the
    witness trace (proofs.witnesses), and the situation occurs on its last state."""
    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    obs = vacuity.theory_obligations(THEORY, entry.witness, entry.witness_words, entry.concrete)
    failed = [o.name for o in obs if not o.run(Settings()).holds]
    assert len(obs) == 17 and failed == []


# ---- a follower learns the commit (the scripted spec trace of conftest.py) ---------------


def _history(
    steps: list[tuple[State, Action, State]],
) -> list[dict[str, Iterable[tuple[Any, ...]]]]:
    """The ghosts the formula reads after each step: who was elected in which term, which
    (index, term) was committed (raft.tla's history, as the relation records it)."""
    elected: list[tuple[Any, ...]] = []
    committed: list[tuple[Any, ...]] = []
    found: list[dict[str, Iterable[tuple[Any, ...]]]] = []
    for _s, a, t in steps:
        i = a.args[0] if a.args and isinstance(a.args[0], int) else None
        if (a.detail or a.name) == "BecomeLeader" and i is not None:
            elected.append((i, t.current_term[i]))
        if (a.detail or a.name) == "AdvanceCommitIndex" and i is not None:
            committed.append((t.commit_index[i], t.current_term[i]))
        found.append({"elected": list(elected), "committed": list(committed)})
    return found


def test_a_follower_learns_a_commit_and_the_formula_holds_at_every_step(
    commit_trace: tuple[Params, list[tuple[State, Action, State]]],
) -> None:
    p, steps = commit_trace
    assert steps[-1][2].commit_index == (1, 1) and steps[-1][2].log[1] == (Entry(2, 1),)
    result = tie.check(p, MODEL, 0, steps=iter(steps))
    assert result.ok and result.steps == len(steps), result.rejected[:1]
    formula = FORMULA
    for (_s, _a, t), ghosts in zip(steps, _history(steps), strict=True):
        assert evaluate(formula, MODEL, BadState(p, t, ghosts)) is True, t
    # The follower's commitIndex with a history that lacks the commit: false.
    last = steps[-1][2]
    assert (
        evaluate(formula, MODEL, BadState(p, last, {"elected": [(0, 2)], "committed": []})) is False
    )
