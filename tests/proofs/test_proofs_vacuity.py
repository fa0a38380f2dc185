"""Anti-vacuity: satisfiable axioms and Init, every action enabled, a leader reachable."""

from __future__ import annotations

import pytest

from electorate.proofs import vacuity
from electorate.proofs.core import Settings


@pytest.mark.parametrize("ob", vacuity.obligations(), ids=lambda o: o.name)
def test_not_vacuous(ob: object) -> None:
    outcome = ob.run(Settings())  # type: ignore[attr-defined]
    assert outcome.holds, f"{ob.name}: {outcome.status}"  # type: ignore[attr-defined]


def test_unrolling_can_fail() -> None:
    """Without BecomeLeader nobody leads after the same steps: the check is not trivially sat."""
    schedule = [*vacuity.LEADER_SCHEDULE[:-1], "HandleRequestVoteResponse"]
    outcome = vacuity.check_leader_reachable(Settings(), schedule)
    assert not outcome.holds and outcome.status == "unsat"
