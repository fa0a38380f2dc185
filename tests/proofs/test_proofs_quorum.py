"""Quorum facts for all N, the bridge to the spec's quorum predicate, and that they can fail."""

from __future__ import annotations

import pytest
import z3

from electorate.proofs.core import Settings
from electorate.proofs.quorum import (
    FACTS,
    N,
    obligations,
    quorum_predicate,
    quorum_threshold_obligations,
)
from electorate.proofs.venn import Venn
from electorate.spec.actions import IsQuorum
from electorate.spec.ids import BugId
from electorate.spec.params import MAX_SERVERS, Params


@pytest.mark.parametrize("ob", obligations(), ids=lambda o: o.name)
def test_quorum_fact_holds(ob: object) -> None:
    outcome = ob.run(Settings())  # type: ignore[attr-defined]
    assert outcome.holds, f"{ob.name}: {outcome.status}\n{outcome.detail}"  # type: ignore[attr-defined]


def test_every_fact_is_stated() -> None:
    assert len({f.id for f in FACTS}) == len(FACTS) >= 16
    assert all(f.statement and f.kind in ("valid", "witness") for f in FACTS)


@pytest.mark.parametrize("bug", [None, "quorum-half"])
def test_predicate_matches_spec_is_quorum(bug: BugId | None) -> None:
    """The arithmetic quorum predicate is the spec's IsQuorum, mask by mask, N = 1..MAX."""
    for n in range(1, MAX_SERVERS + 1):
        p = Params(servers=n, bug=bug)
        for mask in range(1 << n):
            size = mask.bit_count()
            expected = IsQuorum(p, mask)
            got = z3.simplify(quorum_predicate(z3.IntVal(size), z3.IntVal(n), bug))
            assert z3.is_true(got) == expected, (n, bin(mask), bug)


def test_bridge_holds_for_majorities() -> None:
    assert all(o.run(Settings()).holds for o in quorum_threshold_obligations(None))


def test_bridge_fails_for_quorum_half_with_an_even_witness() -> None:
    outcomes = [o.run(Settings()) for o in quorum_threshold_obligations("quorum-half")]
    intersect = outcomes[0]
    assert not intersect.holds and intersect.status == "sat"
    assert intersect.detail is not None
    witness_n = int(intersect.detail.split(":")[0].removeprefix("N="))
    assert witness_n % 2 == 0, intersect.detail  # odd N is safe even with "at least half"


def test_a_weaker_threshold_is_refuted() -> None:
    """The method can fail: with floor(N/2) as threshold, disjoint quorums exist (sat)."""
    v = Venn(["A", "B"], N, tag="neg")
    s = z3.Solver()
    s.add(v.well_formed(), N >= 1, v.size(["A"]) >= N / 2, v.size(["B"]) >= N / 2)
    s.add(v.size(["A"]) >= 1, v.size(["B"]) >= 1, v.disjoint("A", "B"))
    assert s.check() == z3.sat


def test_venn_rejects_unknown_sets() -> None:
    v = Venn(["A"], N)
    with pytest.raises(ValueError, match="unknown set 'B'"):
        v.size(["B"])
