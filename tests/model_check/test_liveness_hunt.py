"""The search for violations in sub-models (app/liveness_hunt.py, liveness_packed.Restriction):
a step left out of the sub-model still counts as enabled, so a cycle that is fair only in the
sub-model is rejected; and every lasso's fairness is judged again on the whole model."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterator

import pytest

from electorate.app import liveness_search as search
from electorate.app.liveness_hunt import SubModelError, restriction
from electorate.model_check import liveness as fair
from electorate.model_check.liveness import Fairness, LiveProperty, Query
from electorate.model_check.liveness_packed import PackedExplorer, Restriction
from electorate.spec.fast import liveness as fast
from electorate.spec.liveness.model import ShiftedRaftModel
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.params import Params, features_named
from electorate.spec.state import State
from electorate.spec.topology import topology_from

FLIP_A, FLIP_B = 0, 1  # two bits, each flipped by its own weakly fair action


class TwoBits:
    """A toy model on packed states (two bytes): A flips the first bit, B the second; both
    weakly fair and always enabled. Its only violation of "b stays 0" would be a cycle of A
    alone, which is unfair (B is enabled throughout and never taken)."""

    cut = 0

    def __init__(self, drop: frozenset[int] = frozenset()) -> None:
        self.drop = drop  # codes dropped outright: the sub-model as a model of its own

    def init_states(self) -> list[bytes]:
        return [bytes((0, 0))]

    def steps(self, s: bytes) -> list[tuple[bytes, int]]:
        out = [(bytes((1 - s[0], s[1])), FLIP_A), (bytes((s[0], 1 - s[1])), FLIP_B)]
        return [(t, code) for t, code in out if code not in self.drop]

    def successors(self, s: bytes) -> Iterator[tuple[int, bytes]]:  # the readable side
        for t, code in self.steps(s):
            yield code, t

    def in_constraint(self, s: bytes) -> bool:
        return True

    def fairness(self, code: int) -> tuple[Hashable, Fairness]:
        return ("flip", code), Fairness.WEAK

    def action(self, code: int) -> int:
        return code

    def view_key(self, b: bytes) -> bytes:
        return b

    def view(self, key: bytes) -> bytes:
        return key

    def rank(self, b: bytes) -> int:
        return 0


B_STAYS_0: LiveProperty[bytes, int] = LiveProperty(
    "BStays0", "b does not stay 0", (Query("b stays 0", stay=lambda s: s[1] == 0),)
)


def _toy(model: TwoBits, restrict: Restriction | None) -> fair.LivenessResult[bytes, int]:
    class Packed(TwoBits):
        def successors(self, s: bytes) -> list[tuple[bytes, int]]:  # type: ignore[override]
            return model.steps(s)

    ex = PackedExplorer(
        model,
        lambda s: s,
        [B_STAYS_0],
        Packed(model.drop),
        depth_first=True,
        restrict=restrict,
    )
    return fair.check(model, lambda s: s, [B_STAYS_0], explorer=ex)


def test_a_cycle_fair_only_in_the_sub_model_is_rejected() -> None:
    """The sub-model without B: as a model of its own, the cycle of A alone is fair there; as
    a sub-model (B left out, still enabled) it is not, and the whole model agrees."""
    own = _toy(TwoBits(drop=frozenset({FLIP_B})), None)
    lasso = own.lassos["BStays0"]
    assert lasso is not None and lasso.cycle  # fair in the sub-model taken on its own
    assert fair.unfair_instances(TwoBits(), lasso) == [("flip", FLIP_B)]
    sub = _toy(TwoBits(), Restriction(codes=frozenset({FLIP_B})))
    assert sub.lassos["BStays0"] is None
    assert sub.cuts  # what it left out is reported, so the search is never a "holds"
    assert _toy(TwoBits(), None).lassos["BStays0"] is None


def _params(topology: str, n: int, features: str = "") -> Params:
    base = Params(servers=n, features=features_named(x for x in features.split(",") if x))
    return dataclasses.replace(base, topology=topology_from(topology, n))


LUCKY = fast.KINDS.index("LuckyTimeout") * 1024
NO_LUCK = frozenset(LUCKY + i + busy for i in range(2) for busy in (0, fast.IN_TRAFFIC))


class WithoutLuck(fast.PackedQuotient):
    """Two servers' exact quotient with every LuckyTimeout dropped outright (R's luck gone)."""

    def __init__(self, p: Params) -> None:
        super().__init__(p, span=search.SPAN)
        inner = self.space.successors
        self.successors = lambda b: [(t, c) for t, c in inner(b) if c not in NO_LUCK]


def _raft(restrict: Restriction | None, drop: bool) -> search.Outcome:
    p = _params("full", 2)
    props = liveness_properties(p, "EventuallyLeader")
    exact = ShiftedRaftModel(p, search.SPAN)
    packed = WithoutLuck(p) if drop else fast.PackedQuotient(p, span=search.SPAN)

    def pack(s: State) -> bytes:
        return fast.pack(p, s)

    ex = PackedExplorer(exact, pack, props, packed, depth_first=True, restrict=restrict)
    out = search.Outcome({"EventuallyLeader": "undecided"}, {"EventuallyLeader": None})
    result = fair.check(exact, pack, props, budget=20_000, explorer=ex)
    lasso = result.lassos["EventuallyLeader"]
    if lasso is not None:
        search._found(out, p, "EventuallyLeader", lasso, "hunt test")
    return out


@pytest.mark.skipif(fast.not_covered(_params("full", 2)) is not None, reason="no C module")
def test_raft_without_luck_splits_the_vote_only_as_a_model_of_its_own() -> None:
    """Two servers, every property holds under R. With every LuckyTimeout dropped outright the
    split vote is a fair cycle; the whole model's fairness rejects it (LuckyTimeout is
    strongly fair and enabled on it), and the sub-model that leaves LuckyTimeout out finds no
    lasso at all."""
    own = _raft(None, drop=True)
    assert own.verdicts == {"EventuallyLeader": "violated (unconfirmed)"}
    c = own.confirmations["EventuallyLeader"]
    assert c.replayed and any("LuckyTimeout" in x for x in c.unfair)
    sub = _raft(Restriction(codes=NO_LUCK), drop=False)
    assert sub.verdicts == {"EventuallyLeader": "undecided"}


def test_sub_model_names() -> None:
    p = _params("howard", 5)
    r = restriction(p, "lucky-outer+msgs-4")
    assert r.codes == {3, 4} and r.max_len == 8 * 5 + 2 + 3 * 4
    assert restriction(p, "lucky").codes == set(range(5))
    with pytest.raises(SubModelError, match="unknown sub-model 'msgs-x'"):
        restriction(p, "msgs-x")
