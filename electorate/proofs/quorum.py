"""Item 1: quorum facts for every cluster size N, by linear arithmetic over Venn regions.

"valid" facts are proved by showing their negation unsatisfiable for symbolic N; "witness" facts
are existence claims, proved either by an explicit parametric construction (checked valid for all
N) or, for a single counterexample, by a satisfiable query whose model is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import z3

from electorate.proofs.core import Obligation, Outcome, Property, Settings, expect_sat, expect_unsat
from electorate.proofs.venn import Venn

N = z3.Int("N")


def majority(size: z3.ArithRef, universe: z3.ArithRef) -> z3.BoolRef:
    """Strict majority: the spec's `Cardinality(S) * 2 > Cardinality(Server)`."""
    return size * 2 > universe


def smallest_majority(universe: z3.ArithRef) -> z3.ArithRef:
    """floor(N/2) + 1, the spec's `Params.quorum_size` (z3 `/` on Ints floors for N >= 0)."""
    return universe / 2 + 1


@dataclass(frozen=True)
class Fact:
    """`kind` is "valid" (negation must be unsat) or "witness" (assertions must be sat)."""

    id: str
    statement: str
    kind: str
    build: Callable[[], tuple[list[z3.BoolRef], Venn | None]]


def _two_sets() -> Venn:
    return Venn(["A", "B"], N, tag="2")


def _majorities_intersect() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _two_sets()
    a, b = v.size(["A"]), v.size(["B"])
    return [v.well_formed(), majority(a, N), majority(b, N), v.disjoint("A", "B")], v


def _overlap_bound() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _two_sets()
    claim = v.size(["A", "B"]) >= v.size(["A"]) + v.size(["B"]) - N
    return [v.well_formed(), z3.Not(claim)], v


def _smallest_majority() -> tuple[list[z3.BoolRef], Venn | None]:
    k = z3.Int("k")
    q = smallest_majority(N)
    claim = z3.And(
        (k >= q) == majority(k, N),  # the threshold is exactly "strict majority"
        z3.Not(majority(q - 1, N)),  # one fewer is not a majority: q is the smallest
        q <= N,  # and a majority exists
    )
    return [N >= 1, z3.Not(claim)], None


def _tolerated_failures() -> tuple[list[z3.BoolRef], Venn | None]:
    claim = N - smallest_majority(N) == (N - 1) / 2
    return [N >= 1, z3.Not(claim)], None


def _upward_closed() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _two_sets()
    a, b = v.size(["A"]), v.size(["B"])
    return [v.well_formed(), v.subset("B", "A"), majority(b, N), z3.Not(majority(a, N))], v


def _disjoint_pair_valid(
    threshold_a: z3.ArithRef, threshold_b: z3.ArithRef, given: z3.BoolRef
) -> tuple[list[z3.BoolRef], Venn | None]:
    """The explicit construction A = first threshold_a elements, B = the next threshold_b ones
    is a pair of disjoint sets of those sizes inside N, for every N satisfying `given`."""
    v = _two_sets()
    construction = z3.And(
        v.size(["A"], ["B"]) == threshold_a,
        v.size(["B"], ["A"]) == threshold_b,
        v.size(["A", "B"]) == 0,
        v.size([], ["A", "B"]) == N - threshold_a - threshold_b,
    )
    # The construction pins all four regions; what must hold for every N is that they form a
    # valid partition (no negative region, sum N).
    return [given, construction, z3.Not(v.well_formed())], v


def _floor_half_split() -> tuple[list[z3.BoolRef], Venn | None]:
    # Both "quorums" are non-empty too (N/2 >= 1), so this is a real split brain.
    half = N / 2
    (given, construction, invalid), v = _disjoint_pair_valid(half, half, N >= 2)
    return [given, construction, z3.Or(invalid, half < 1)], v


def _at_least_half_odd_safe() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _two_sets()
    a, b = v.size(["A"]), v.size(["B"])
    return [v.well_formed(), N % 2 == 1, a * 2 >= N, b * 2 >= N, v.disjoint("A", "B")], v


def _at_least_half_even_unsafe() -> tuple[list[z3.BoolRef], Venn | None]:
    return _disjoint_pair_valid(N / 2, N / 2, z3.And(N >= 2, N % 2 == 0))


E, R = z3.Ints("E R")


def _flexible_sufficient() -> tuple[list[z3.BoolRef], Venn | None]:
    v = Venn(["E1", "E2", "Rq"], N, tag="f")
    e1, e2, rq = v.size(["E1"]), v.size(["E2"]), v.size(["Rq"])
    bad = z3.Or(v.disjoint("E1", "E2"), v.disjoint("E1", "Rq"))
    sizes = z3.And(e1 >= E, e2 >= E, rq >= R)
    return [v.well_formed(), 2 * E > N, E + R > N, sizes, bad], v


def _flexible_needs_election_overlap() -> tuple[list[z3.BoolRef], Venn | None]:
    return _disjoint_pair_valid(E, E, z3.And(E >= 0, 2 * E <= N))


def _flexible_needs_cross_overlap() -> tuple[list[z3.BoolRef], Venn | None]:
    return _disjoint_pair_valid(E, R, z3.And(E >= 0, R >= 0, E + R <= N))


def _config_venn() -> Venn:
    return Venn(["Old", "New", "Q1", "Q2"], N, tag="c")


def _joint_quorum(v: Venn, q: str) -> z3.BoolRef:
    return z3.And(
        majority(v.size([q, "Old"]), v.size(["Old"])),
        majority(v.size([q, "New"]), v.size(["New"])),
    )


def _joint_intersect() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _config_venn()
    return [
        v.well_formed(),
        _joint_quorum(v, "Q1"),
        _joint_quorum(v, "Q2"),
        v.disjoint("Q1", "Q2"),
    ], v


def _change(v: Venn, added: int, removed: int) -> list[z3.BoolRef]:
    """C_new = C_old plus `added` servers minus `removed` ones; Q1 an old, Q2 a new majority,
    and the two disjoint (the split-brain shape)."""
    return [
        v.well_formed(),
        v.size(["New"], ["Old"]) == added,
        v.size(["Old"], ["New"]) == removed,
        v.subset("Q1", "Old"),
        v.subset("Q2", "New"),
        majority(v.size(["Q1"]), v.size(["Old"])),
        majority(v.size(["Q2"]), v.size(["New"])),
        v.disjoint("Q1", "Q2"),
    ]


def _single_add() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _config_venn()
    return _change(v, 1, 0), v


def _single_remove() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _config_venn()
    return _change(v, 0, 1), v


def _double_add() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _config_venn()
    return _change(v, 2, 0), v


def _double_remove() -> tuple[list[z3.BoolRef], Venn | None]:
    v = _config_venn()
    return _change(v, 0, 2), v


FACTS: tuple[Fact, ...] = (
    Fact(
        "Q1-majorities-intersect",
        "any two strict majorities of N servers share a server",
        "valid",
        _majorities_intersect,
    ),
    Fact(
        "Q1b-overlap-bound",
        "|A∩B| >= |A| + |B| - N for any subsets A, B of N servers",
        "valid",
        _overlap_bound,
    ),
    Fact(
        "Q2-smallest-majority",
        "k >= floor(N/2)+1 iff 2k > N; floor(N/2) is not a majority; floor(N/2)+1 <= N (N >= 1)",
        "valid",
        _smallest_majority,
    ),
    Fact(
        "Q3-tolerated-failures",
        "N - (floor(N/2)+1) = floor((N-1)/2) servers may fail (N >= 1)",
        "valid",
        _tolerated_failures,
    ),
    Fact(
        "Q4-upward-closed",
        "a superset of a majority is a majority (so 'vg contains a quorum' "
        "is the same as 'vg is a quorum')",
        "valid",
        _upward_closed,
    ),
    Fact(
        "S1-floor-half-splits",
        "threshold floor(N/2): for every N >= 2 two disjoint non-empty "
        "'quorums' exist (first N/2 servers vs the next N/2)",
        "valid",
        _floor_half_split,
    ),
    Fact(
        "S2a-at-least-half-odd-safe",
        "threshold 2|S| >= N: for odd N any two such sets meet",
        "valid",
        _at_least_half_odd_safe,
    ),
    Fact(
        "S2b-at-least-half-even-splits",
        "threshold 2|S| >= N: for every even N >= 2 the two halves are disjoint 'quorums'",
        "valid",
        _at_least_half_even_unsafe,
    ),
    Fact(
        "F1-flexible-sufficient",
        "election size E, replication size R: 2E > N and E + R > N "
        "make every election quorum meet every election and every replication quorum",
        "valid",
        _flexible_sufficient,
    ),
    Fact(
        "F2a-flexible-needs-2E>N",
        "if 2E <= N, two disjoint election quorums exist (all N, E)",
        "valid",
        _flexible_needs_election_overlap,
    ),
    Fact(
        "F2b-flexible-needs-E+R>N",
        "if E + R <= N, a disjoint election and replication quorum exist (all N, E, R)",
        "valid",
        _flexible_needs_cross_overlap,
    ),
    Fact(
        "J1-joint-quorums-intersect",
        "joint consensus: two sets that are each a majority of C_old and of C_new share a server",
        "valid",
        _joint_intersect,
    ),
    Fact(
        "M1a-add-one-safe",
        "adding one server: every C_old majority meets every C_new majority",
        "valid",
        _single_add,
    ),
    Fact(
        "M1b-remove-one-safe",
        "removing one server: every C_old majority meets every C_new majority",
        "valid",
        _single_remove,
    ),
    Fact(
        "M2a-add-two-splits",
        "adding two servers at once: disjoint C_old and C_new majorities exist (witness)",
        "witness",
        _double_add,
    ),
    Fact(
        "M2b-remove-two-splits",
        "removing two servers at once: disjoint C_old and C_new majorities exist (witness)",
        "witness",
        _double_remove,
    ),
)


def _run_fact(fact: Fact, settings: Settings) -> Outcome:
    assertions, venn = fact.build()

    def render(model: z3.ModelRef) -> str:
        if venn is None:
            return str(model)
        return venn.describe(model)

    if fact.kind == "witness":
        return expect_sat(assertions, settings, render)
    return expect_unsat(assertions, settings, lambda s: render(s.model()))


def obligations() -> list[Obligation]:
    return [Obligation(f.id, lambda s, f=f: _run_fact(f, s)) for f in FACTS]  # type: ignore[misc]


PROPERTY = Property(
    "quorum",
    "quorum intersection facts for every cluster size (Venn-region arithmetic)",
    obligations,
)


# ---- the bridge to the spec's quorum predicate (spec.actions.IsQuorum) ----------------------


def quorum_predicate(size: z3.ArithRef, universe: z3.ArithRef, bug: str | None) -> z3.BoolRef:
    """The spec's `IsQuorum` as arithmetic: a strict majority, or at least half under the bug
    `quorum-half`. tests/proofs check it against spec.actions.IsQuorum mask by mask."""
    if bug == "quorum-half":
        return size * 2 >= universe
    return majority(size, universe)


def _bridge_intersection(bug: str | None) -> tuple[list[z3.BoolRef], Venn | None]:
    v = Venn(["A", "B"], N, tag="b")
    a, b = v.size(["A"]), v.size(["B"])
    both = [quorum_predicate(a, N, bug), quorum_predicate(b, N, bug)]
    return [v.well_formed(), N >= 1, *both, v.disjoint("A", "B")], v


def _bridge_upward(bug: str | None) -> tuple[list[z3.BoolRef], Venn | None]:
    v = Venn(["Q", "VG"], N, tag="u")
    q, vg = v.size(["Q"]), v.size(["VG"])
    return [
        v.well_formed(),
        v.subset("Q", "VG"),
        quorum_predicate(q, N, bug),
        z3.Not(quorum_predicate(vg, N, bug)),
    ], v


def _bridge_nonempty(bug: str | None) -> tuple[list[z3.BoolRef], Venn | None]:
    v = Venn(["Q"], N, tag="e")
    q = v.size(["Q"])
    return [v.well_formed(), N >= 1, quorum_predicate(q, N, bug), q == 0], v


def quorum_threshold_obligations(bug: str | None) -> list[Obligation]:
    """Bridge: the spec's quorums satisfy both axioms (they intersect, none is empty) for every
    N >= 1, and the abstract guard "votesGranted contains a quorum" is the spec's "votesGranted
    is a quorum"."""
    facts = (
        Fact(
            "Bridge: spec quorums intersect (the axiom)",
            "",
            "valid",
            lambda: _bridge_intersection(bug),
        ),
        Fact(
            "Bridge: spec quorums are upward closed (the guard)",
            "",
            "valid",
            lambda: _bridge_upward(bug),
        ),
        Fact(
            "Bridge: spec quorums are non-empty (the second axiom)",
            "",
            "valid",
            lambda: _bridge_nonempty(bug),
        ),
    )
    return [Obligation(f.id, lambda s, f=f: _run_fact(f, s)) for f in facts]  # type: ignore[misc]
