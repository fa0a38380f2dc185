"""The lease proof's per-conjunct hypotheses and the counterexample search of its mutant: what
keeps `electorate prove`'s lease row cheap under every seed (docs/proofs.md, "Timings")."""

from __future__ import annotations

import pytest

from electorate.proofs import cti
from electorate.proofs.core import Settings
from electorate.proofs.induction import (
    check_step,
)
from electorate.proofs.lease import LEASE, USES_BY_CONJUNCT, WHOLE_INVARIANT_ACTIONS
from electorate.proofs.model import ACTION_BY_NAME
from electorate.proofs.mutants import MUTANTS

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
    """With the whole invariant, BecomeLeader => NoNewerWhileGainable' ran out of the quick
    attempts and the first long one (10 million units) under seeds 4 and 7 (7 attempts, 22 to
    27 CPU s); with its conjunct's hypotheses the quick attempts and the first long one prove it
    (one attempt under each of seeds 0 to 7 alone; what z3 built before in the process can cost
    it a retry)."""
    short = Settings(seed=seed, attempts=1)  # no counterexample search, no larger budgets
    held = LEASE.hypotheses_of(conj, action)
    assert len(held) < len(LEASE.conjuncts)
    outcome = check_step(LEASE, ACTION_BY_NAME[action], LEASE.conjunct(conj), None, short, held)
    assert outcome.status == "unsat", outcome


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
