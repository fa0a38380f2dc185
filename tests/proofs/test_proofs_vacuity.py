"""Anti-vacuity: satisfiable axioms and Init, every action enabled, the property's situation."""

from __future__ import annotations

import pytest

from electorate.proofs import vacuity
from electorate.proofs.catalog import ENTRIES, Entry
from electorate.proofs.core import Obligation, Settings


@pytest.mark.parametrize("ob", vacuity.obligations(), ids=lambda o: o.name)
def test_not_vacuous(ob: Obligation) -> None:
    outcome = ob.run(Settings())
    assert outcome.holds, f"{ob.name}: {outcome.status}"


def test_unrolling_can_fail() -> None:
    """Without BecomeLeader nobody leads after the same steps: the check is not trivially sat."""
    schedule = [*vacuity.LEADER_SCHEDULE[:-1], "HandleRequestVoteResponse"]
    outcome = vacuity.check_leader_reachable(Settings(), schedule)
    assert not outcome.holds and outcome.status == "unsat"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.theory.name)
def test_every_theory_is_not_vacuous(entry: Entry) -> None:
    failed = []
    obs = vacuity.theory_obligations(
        entry.theory, entry.witness, entry.witness_words, entry.concrete
    )
    for ob in obs:
        outcome = ob.run(Settings())
        if not outcome.holds:
            failed.append(f"{ob.name}: {outcome.status}")
    assert not failed, failed


def test_a_witness_can_fail() -> None:
    """A situation the invariant excludes (a quiet leader) has no witness."""
    import z3

    from electorate.proofs.checkquorum import CHECK_QUORUM

    def quiet_leader(s: object, v: object) -> z3.BoolRef:
        i = z3.Const("qi", v.sorts.node)  # type: ignore[attr-defined]
        return z3.Exists([i], z3.And(v.fn("quiet")(i), v.role(i) == v.roles.leader))  # type: ignore[attr-defined]

    outcome = vacuity.check_witness(CHECK_QUORUM, quiet_leader, Settings())
    assert not outcome.holds and outcome.status == "unsat"
