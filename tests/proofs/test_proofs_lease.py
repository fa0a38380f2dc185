"""The lease proof's per-conjunct hypotheses and the counterexample search of its mutant: what
keeps `electorate prove`'s lease row cheap under every seed (docs/proofs.md, "Timings")."""

from __future__ import annotations

import pytest
import z3

from electorate.proofs import cti
from electorate.proofs.core import Settings
from electorate.proofs.induction import (
    background,
    check_step,
    context,
    lemma_formula,
    relation_formula,
)
from electorate.proofs.lease import LEASE, USES_BY_CONJUNCT, WHOLE_INVARIANT_ACTIONS
from electorate.proofs.model import ACTION_BY_NAME
from electorate.proofs.mutants import MUTANTS, breaks_in

IDS = [c.id for c in LEASE.conjuncts]


def test_the_uses_table_names_every_conjunct_and_only_conjuncts() -> None:
    assert sorted(USES_BY_CONJUNCT) == sorted(IDS)
    for name, ids in USES_BY_CONJUNCT.items():
        assert set(ids) <= set(IDS), (name, set(ids) - set(IDS))
        assert name not in ids, name  # the conjunct itself is always assumed


def test_the_mutants_actions_keep_the_whole_invariant() -> None:
    """A lease mutant's counterexample is one to the whole invariant, not to a conjunct's
    hypotheses."""
    changed = {a for m in MUTANTS.values() if "lease" in m.theories for a in m.actions}
    assert changed <= set(WHOLE_INVARIANT_ACTIONS)
    for action in WHOLE_INVARIANT_ACTIONS:
        for conj in IDS:
            assert LEASE.hypotheses_of(conj, action) == LEASE.conjuncts, (action, conj)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(
    ("action", "conj"),
    [("BecomeLeader", "NoNewerWhileGainable"), ("HeartbeatRound", "NoNewerWhileGainable")],
)
def test_a_once_slow_obligation_is_proved_in_one_small_attempt(
    action: str, conj: str, seed: int
) -> None:
    """With the whole invariant, BecomeLeader => NoNewerWhileGainable' ran out of 10 million
    units under seeds 4 and 7 (7 attempts, 22 to 27 CPU s); with its conjunct's hypotheses one
    attempt of 5 million units proves it (about a fifth of a million is used)."""
    one = Settings(seed=seed, quick=0, attempts=1, first_rlimit=5_000_000)
    held = LEASE.hypotheses_of(conj, action)
    assert len(held) < len(LEASE.conjuncts)
    outcome = check_step(LEASE, ACTION_BY_NAME[action], LEASE.conjunct(conj), None, one, held)
    assert outcome.status == "unsat" and outcome.attempts == 1, outcome


def test_the_counterexample_search_restarts_often_enough() -> None:
    """Six quick attempts at an eighth of the budget per tier (three at a sixteenth found
    lease-too-long's counterexample under 8 of 16 seeds in a row, these under 15 of 16), then
    the whole budget under the run's seed; each attempt under its own seed."""
    quick, last = cti._passes(7)
    assert len(quick) >= 6 and all(r >= cti.SHRINK_RLIMIT // 8 for _, r in quick)
    assert len({s for s, _ in quick}) == len(quick)
    assert last == [(7, cti.SHRINK_RLIMIT)]
    # With logs (many tiers), three at a sixteenth: more cost leader-completeness's mutants 44
    # CPU s instead of 5 in a whole run under seed 0.
    quick, last = cti._passes(7, logged=True)
    assert [r for _, r in quick] == [cti.SHRINK_RLIMIT // 16] * 3
    assert last == [(7, cti.SHRINK_RLIMIT)]


@pytest.mark.parametrize("seed", range(4))
def test_the_quick_pass_finds_the_lease_mutants_counterexample(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lease-too-long's two-server counterexample needs 0.9 to 19 million units depending on
    the seed (and on what the z3 context built before): the quick restarts find it."""
    bug = "lease-too-long"
    ((name),) = breaks_in(bug, LEASE)
    action_name, conj_name = name.removesuffix("'").split(" => ")
    action, conj = ACTION_BY_NAME[action_name], LEASE.conjunct(conj_name)
    model = LEASE.model
    ctx = context(model)
    step, _ = relation_formula(action, bug, model)
    goal = [
        *background(LEASE, bug),
        *[lemma_formula(c, False, model) for c in LEASE.hypotheses_of(conj.id, action.name)],
        step,
        z3.Not(lemma_formula(conj, True, model)),
    ]
    monkeypatch.setattr(cti, "PASSES", cti.PASSES[:1])  # the quick pass only
    assert cti._shrink(goal, ctx, Settings(seed=seed)) is not None
