"""The fair-cycle search on one state per symmetry orbit (model_check/liveness_symmetry.py):
on a toy where a naive orbit quotient is wrong, and on the Raft liveness models, where it must
give the verdicts of the search on every state and lassos that are concrete cycles."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Hashable, Iterable

import pytest

from electorate.app import liveness_search as search
from electorate.model_check.liveness import Fairness, LiveProperty, Query, _Cycles, _layout, check
from electorate.model_check.liveness_symmetry import (
    SymmetricExplorer,
    check_symmetric,
    compose,
    inverse,
)
from electorate.spec import next as spec_next
from electorate.spec.liveness.model import LivenessRaftModel, automorphisms, confirm
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.params import Params, features_named
from electorate.spec.state import State
from electorate.spec.topology import topology_from

Bits = tuple[int, int]


class Ticks:
    """Two processes, each with a bit it flips (Tick(i), weakly fair, always enabled). The
    swap of the processes is a symmetry."""

    def init_states(self) -> list[Bits]:
        return [(0, 0)]

    def successors(self, s: Bits) -> Iterable[tuple[str, Bits]]:
        return [("T0", (1 - s[0], s[1])), ("T1", (s[0], 1 - s[1]))]

    def in_constraint(self, s: Bits) -> bool:
        return True

    def fairness(self, a: str) -> tuple[Hashable, Fairness] | None:
        return a, Fairness.WEAK

    def automorphisms(self) -> list[tuple[int, ...]]:
        return [(0, 1), (1, 0)]

    def permute(self, s: Bits, pi: tuple[int, ...]) -> Bits:
        out = [0, 0]
        for k in range(2):
            out[pi[k]] = s[k]
        return out[0], out[1]

    def permute_view(self, s: Bits, pi: tuple[int, ...]) -> Bits:
        return self.permute(s, pi)

    def signature(self, s: Bits) -> tuple[Hashable, ...]:
        return (0, 0)  # every renaming a candidate: the fingerprint decides

    def permute_instance(self, key: Hashable, pi: tuple[int, ...]) -> Hashable:
        assert isinstance(key, str)
        return f"T{pi[int(key[1])]}"


# "No bit stays 0 for ever", one query per process (renamed as a set, as CandidateProgress's
# are): a cycle keeping bit k at 0 flips the other bit only, so Tick(k) is enabled throughout
# and never taken: unfair. The property holds.
NEVER_BOTH: LiveProperty[Bits, str] = LiveProperty(
    "NeverBoth",
    "no bit stays 0 for ever",
    (
        Query("bit 0 stays 0", stay=lambda s: s[0] == 0),
        Query("bit 1 stays 0", stay=lambda s: s[1] == 0),
    ),
)


def test_the_toy_holds_on_every_state() -> None:
    r = check(Ticks(), lambda s: s, [NEVER_BOTH])
    assert r.complete and r.lassos == {"NeverBoth": None}


def test_a_naive_orbit_quotient_finds_a_cycle_that_is_not_fair() -> None:
    """One state per orbit with the labels as taken from each representative: the orbit cycle
    (0,0) -> [(1,0), (0,1)] -> (0,0) seems to take both Ticks (one on the way out, renamed,
    one on the way back), but concretely it is one process flipping its bit twice. This is
    the unsoundness the unfolded graph removes."""
    ex = SymmetricExplorer(Ticks(), lambda s: s, [NEVER_BOTH])
    ex.run(-1)
    layout = _layout([NEVER_BOTH])[0]
    assert any(_Cycles(ex.g).find(bits) is not None for bits in layout)  # naive: "violated"
    assert all(ex.cycles().find(bits) is None for bits in layout)  # unfolded: none


def test_the_symmetric_search_agrees_and_counts_orbits() -> None:
    r = check_symmetric(Ticks(), lambda s: s, [NEVER_BOTH])
    assert r.complete and r.lassos == {"NeverBoth": None}
    assert r.distinct == 3  # (0,0), {(0,1),(1,0)}, (1,1)
    loose: LiveProperty[Bits, str] = LiveProperty(
        "Stuck", "some bit stays 0", (Query("any fair cycle"),)
    )
    lasso = check_symmetric(Ticks(), lambda s: s, [loose]).lassos["Stuck"]
    assert lasso is not None and lasso.cycle  # a concrete cycle: back to its first state
    assert lasso.cycle[-1][1] == lasso.stem[-1][1]
    assert {a for a, _ in lasso.cycle} == {"T0", "T1"}


def test_renamings_compose() -> None:
    a, b = (1, 2, 0), (0, 2, 1)
    assert compose(a, inverse(a)) == (0, 1, 2)
    assert compose(a, b) == (1, 0, 2)  # 1 -> 2 by b, then 2 -> 0 by a


def _params(topology: str, n: int, features: str = "", randomized: bool = True) -> Params:
    base = Params(servers=n, features=features_named(x for x in features.split(",") if x))
    return dataclasses.replace(base, topology=topology_from(topology, n), randomized=randomized)


def test_the_automorphisms_of_the_catalogue() -> None:
    assert automorphisms(topology_from("howard", 5)) == [(0, 1, 2, 3, 4), (0, 2, 1, 4, 3)]
    assert automorphisms(topology_from("chained", 3)) == [(0, 1, 2), (2, 1, 0)]
    assert len(automorphisms(topology_from("full", 3))) == 6
    assert len(automorphisms(topology_from("star", 4))) == 6
    assert automorphisms(topology_from("1>2,2-3", 3)) == [(0, 1, 2)]


def _walk(p: Params, count: int, seed: int) -> list[State]:
    """States of the quotient model met on random walks from the initial state."""
    rng = random.Random(seed)
    model = LivenessRaftModel(p)
    out: list[State] = []
    while len(out) < count:
        s = model.init_states()[0]
        for _ in range(rng.randrange(5, 40)):
            steps = [t for _, t in model.successors(s) if t is not s]
            if not steps:
                break
            s = rng.choice(steps)
        out.append(s)
    return out


def _steps(model: LivenessRaftModel, s: State) -> set[tuple[Hashable, State]]:
    out: set[tuple[Hashable, State]] = set()
    for a, t in model.successors(s):
        if t is not s:
            fair = model.fairness(a)
            out.add((None if fair is None else fair[0], t))
    return out


@pytest.mark.parametrize(
    ("topology", "n", "features"),
    [
        ("full", 3, ""),
        ("full", 3, "prevote,check_quorum"),
        ("howard", 5, ""),
        ("howard", 5, "prevote,check_quorum"),
        ("chained", 3, "check_quorum"),
        ("star", 4, "prevote"),
    ],
)
def test_each_automorphism_maps_steps_to_steps(topology: str, n: int, features: str) -> None:
    """What the search's exactness rests on: renaming a state by an automorphism of the
    topology renames its successors and their fair instances, and keeps the properties'
    predicates (the state ones renamed as a set, the edge ones unchanged)."""
    p = _params(topology, n, features)
    model = LivenessRaftModel(p)
    props = liveness_properties(p)
    assert spec_next.Init(p) == model.permute(spec_next.Init(p), model.automorphisms()[-1])
    for s in _walk(p, 25, seed=n):
        here = _steps(model, s)
        for pi in model.automorphisms()[1:]:
            moved = model.permute(s, pi)
            renamed = {
                (None if k is None else model.permute_instance(k, pi), model.permute(t, pi))
                for k, t in here
            }
            assert renamed == _steps(model, moved)
            view = model.permute_view(s, pi)
            assert model.signature(moved) == tuple(model.signature(s)[x] for x in inverse(pi))
            for prop in props:
                for q in prop.queries:
                    for f in (*q.visit, *([q.stay] if q.stay else [])):
                        assert f(view) == f(moved)
                visits = [q.visit for q in prop.queries]
                stays = sorted(q.stay(s) for q in prop.queries if q.stay is not None)
                stays_moved = sorted(q.stay(moved) for q in prop.queries if q.stay is not None)
                assert stays == stays_moved
                for preds in visits:
                    assert sorted(f(s) for f in preds) == sorted(f(moved) for f in preds)
                for q in prop.queries:
                    for a, t in model.successors(s):
                        if t is s:
                            continue
                        for take in q.take:
                            assert take(s, a, t) == take(moved, a, model.permute(t, pi))


@pytest.mark.parametrize(
    ("topology", "n", "features", "randomized"),
    [
        ("full", 2, "", True),
        ("full", 2, "", False),
        pytest.param("full", 2, "check_quorum", True, marks=pytest.mark.slow),
        pytest.param("full", 2, "check_quorum", False, marks=pytest.mark.slow),
    ],
)
def test_symmetry_gives_the_verdicts_of_the_search_on_every_state(
    topology: str, n: int, features: str, randomized: bool
) -> None:
    """The search for holds with and without symmetry: the same verdict per property, and every
    lasso of the symmetric search replays in the concrete model."""
    p = _params(topology, n, features, randomized)
    model = LivenessRaftModel(p)
    props = liveness_properties(p)
    plain = check(model, model.key, props, rank=model.rank)
    sym = check_symmetric(model, model.key, props, rank=model.rank)
    assert plain.complete and sym.complete
    assert sym.distinct < plain.distinct
    assert {k: v is None for k, v in sym.lassos.items()} == {
        k: v is None for k, v in plain.lassos.items()
    }
    for lasso in sym.lassos.values():
        if lasso is not None:
            assert confirm(p, lasso).replayed


def test_the_search_for_holds_says_it_used_symmetry() -> None:
    p = _params("full", 2)
    out = search.run(p, liveness_properties(p), budget=200, fast=False)
    assert set(out.verdicts.values()) == {"holds"}
    assert "one state per orbit of the topology's 2 automorphisms" in out.searches[-1].graph
    off = search.run(p, liveness_properties(p), budget=200, symmetry=False, fast=False)
    assert off.verdicts == out.verdicts
    assert "orbit" not in off.searches[-1].graph


def test_on_the_fly_the_symmetric_search_finds_concrete_lassos() -> None:
    """Classic Raft on chained violates every property (docs/liveness.md). The symmetric
    search finds each on a partial graph, as a lasso of the quotient's states (a cycle of
    states, not of orbits) that replays in the concrete model."""
    p = _params("chained", 3)
    model = LivenessRaftModel(p)
    props = liveness_properties(p)
    sym = check_symmetric(model, model.key, props, rank=model.rank, on_the_fly=500, budget=8000)
    assert not sym.complete
    for lasso in sym.lassos.values():
        assert lasso is not None and lasso.cycle
        assert lasso.cycle[-1][1] == lasso.stem[-1][1]
        c = confirm(p, lasso)
        assert c.replayed and c.periodic
