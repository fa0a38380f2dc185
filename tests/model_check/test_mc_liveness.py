"""The generic fair-cycle search on toy models (no spec): weak and strong fairness, stuttering,
the queries' predicates, lassos, and a constraint that cuts a fair step."""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np

from electorate.model_check.liveness import (
    Explorer,
    Fairness,
    LiveProperty,
    Query,
    _Bits,
    _Cycles,
    _layout,
    check,
    sorted_unique,
)
from electorate.model_check.liveness_packed import shortest_paths_tree

Edge = tuple[int, str, int]


@dataclass
class Toy:
    """A graph over ints: edges (source, action, target), each action's fairness."""

    edges: list[Edge]
    fair: dict[str, Fairness] = field(default_factory=dict)
    bound: int = 1_000

    def init_states(self) -> list[int]:
        return [0]

    def successors(self, s: int) -> Iterable[tuple[str, int]]:
        return [(a, t) for src, a, t in self.edges if src == s]

    def in_constraint(self, s: int) -> bool:
        return s <= self.bound

    def fairness(self, a: str) -> tuple[Hashable, Fairness] | None:
        kind = self.fair.get(a)
        return None if kind is None else (a, kind)


def key(s: int) -> Hashable:
    return s


def eventually_two(states: int = 3) -> LiveProperty[int, str]:
    """<>(s == 2), violated by a fair cycle that never visits 2 (stay: s != 2)."""
    return LiveProperty("EventuallyTwo", "reach 2", (Query("never 2", stay=lambda s: s != 2),))


def test_weak_fairness_rules_out_a_loop_that_ignores_an_enabled_action() -> None:
    # 0 <-> 1 forever, while `go` (0 -> 2 and 1 -> 2) is enabled in both: WF(go) forbids it
    toy = Toy([(0, "a", 1), (1, "b", 0), (0, "go", 2), (1, "go", 2), (2, "stay", 2)])
    toy.fair = {"a": Fairness.WEAK, "b": Fairness.WEAK, "go": Fairness.WEAK}
    assert check(toy, key, [eventually_two()]).lassos["EventuallyTwo"] is None
    toy.fair = {"a": Fairness.WEAK, "b": Fairness.WEAK}  # go unfair: the loop is fair
    lasso = check(toy, key, [eventually_two()]).lassos["EventuallyTwo"]
    assert lasso is not None
    assert [s for _, s in lasso.stem] == [0]
    assert sorted(a for a, _ in lasso.cycle) == ["a", "b"]


def test_weak_fairness_allows_a_loop_where_the_action_is_disabled_somewhere() -> None:
    # go is enabled only in state 1: WF(go) holds on 0 <-> 1; SF(go) does not
    toy = Toy([(0, "a", 1), (1, "b", 0), (1, "go", 2), (2, "stay", 2)])
    toy.fair = {"a": Fairness.WEAK, "b": Fairness.WEAK, "go": Fairness.WEAK}
    assert check(toy, key, [eventually_two()]).lassos["EventuallyTwo"] is not None
    toy.fair["go"] = Fairness.STRONG
    assert check(toy, key, [eventually_two()]).lassos["EventuallyTwo"] is None


def test_strong_fairness_refines_the_component_to_the_states_that_avoid_it() -> None:
    # 0 <-> 1 <-> 3 and 0 <-> 3; go (SF) is enabled in 1 only: the cycle 0 <-> 3 is fair
    toy = Toy([(0, "a", 1), (1, "b", 0), (0, "c", 3), (3, "d", 0), (1, "go", 2), (2, "stay", 2)])
    toy.fair = {"go": Fairness.STRONG, "c": Fairness.WEAK, "d": Fairness.WEAK}
    lasso = check(toy, key, [eventually_two()]).lassos["EventuallyTwo"]
    assert lasso is not None
    assert {s for _, s in lasso.cycle} == {0, 3}


def test_stuttering_for_ever_is_fair_where_no_fair_action_is_enabled() -> None:
    toy = Toy([(0, "u", 1), (1, "v", 2)])  # 0 may stutter for ever: u has no fairness
    lasso = check(toy, key, [eventually_two()]).lassos["EventuallyTwo"]
    assert lasso is not None and lasso.cycle == [] and lasso.stem[-1][1] == 0
    toy.fair = {"u": Fairness.WEAK}  # now 1 stutters for ever: v has none
    lasso = check(toy, key, [eventually_two()]).lassos["EventuallyTwo"]
    assert lasso is not None and lasso.cycle == [] and lasso.stem[-1][1] == 1
    toy.fair = {"u": Fairness.WEAK, "v": Fairness.WEAK}
    assert check(toy, key, [eventually_two()]).lassos["EventuallyTwo"] is None


def test_visit_and_take_predicates_shape_the_cycle() -> None:
    # two loops from 0: via 1 (action "x") and via 2 (action "y"); a query that must take y
    toy = Toy([(0, "x", 1), (1, "back", 0), (0, "y", 2), (2, "back", 0)])
    toy.fair = {"back": Fairness.WEAK, "x": Fairness.WEAK}  # no stuttering for ever
    prop: LiveProperty[int, str] = LiveProperty(
        "NoY", "y only finitely often", (Query("y taken", take=(lambda s, a, t: a == "y",)),)
    )
    lasso = check(toy, key, [prop]).lassos["NoY"]
    assert lasso is not None and "y" in [a for a, _ in lasso.cycle]
    visit: LiveProperty[int, str] = LiveProperty(
        "Never1", "", (Query("1 visited", visit=(lambda s: s == 1,)),)
    )
    lasso = check(toy, key, [visit]).lassos["Never1"]
    assert lasso is not None and 1 in [s for _, s in lasso.cycle]
    assert lasso.cycle[-1][1] == lasso.stem[-1][1]  # the cycle returns to its start


def test_a_constraint_that_cuts_a_fair_step_is_reported() -> None:
    toy = Toy([(0, "a", 1), (1, "b", 0), (1, "go", 5), (5, "stay", 5)], bound=3)
    toy.fair = {"go": Fairness.WEAK, "a": Fairness.WEAK, "b": Fairness.WEAK}
    result = check(toy, key, [eventually_two()])
    assert result.vacuous
    assert [(c.instance, c.states) for c in result.cuts] == [("go", 1)]


def test_on_the_fly_a_violation_is_found_before_the_graph_is_whole() -> None:
    # the fair loop 0 <-> 1 never visits 2; a long fair tail 0 -> 3 -> ... -> 39 -> 2 too
    tail = [(0, "t", 3)] + [(k, "t", k + 1) for k in range(3, 39)] + [(39, "t", 2)]
    toy = Toy([(0, "a", 1), (1, "b", 0), *tail])
    toy.fair = {"a": Fairness.WEAK, "b": Fairness.WEAK, "t": Fairness.WEAK}
    partial = check(toy, key, [eventually_two()], on_the_fly=2)
    whole = check(toy, key, [eventually_two()])
    assert not partial.complete and partial.expanded == 2 and partial.distinct < whole.distinct
    assert whole.complete and whole.expanded == whole.distinct == 40
    for r in (partial, whole):
        lasso = r.lassos["EventuallyTwo"]
        assert lasso is not None and {s for _, s in lasso.cycle} == {0, 1}


def test_on_the_fly_a_state_not_expanded_yet_never_stutters() -> None:
    # 0 -u-> 1 -v-> 2, both weakly fair: every fair behaviour reaches 2 (holds). After
    # expanding 0 alone, 1's enabled actions are unknown: it must not pass for a stutter.
    toy = Toy([(0, "u", 1), (1, "v", 2)])
    toy.fair = {"u": Fairness.WEAK, "v": Fairness.WEAK}
    r = check(toy, key, [eventually_two()], on_the_fly=1)
    assert r.lassos["EventuallyTwo"] is None and r.complete


def test_the_rank_orders_the_expansion() -> None:
    # rank 0 for the loop's states: it is expanded (and its violation found) first
    tail = [(0, "t", 3)] + [(k, "t", k + 1) for k in range(3, 40)]
    toy = Toy([(0, "t", 5), *tail[1:], (0, "a", 1), (1, "b", 0)])
    toy.fair = {"a": Fairness.WEAK, "b": Fairness.WEAK}
    r = check(toy, key, [eventually_two()], rank=lambda s: 0 if s < 2 else 1, on_the_fly=2)
    assert r.expanded == 2 and r.lassos["EventuallyTwo"] is not None


def test_the_lasso_cycle_is_a_short_fair_one_not_the_whole_component() -> None:
    # one component 0 <-> 1 <-> 3 (all weakly fair); 0 <-> 1 alone is fair (c is disabled
    # in 0, d in 1), so the cycle need not take c and d; with c strongly fair it must
    toy = Toy([(0, "a", 1), (1, "b", 0), (1, "c", 3), (3, "d", 1)])
    toy.fair = {"a": Fairness.WEAK, "b": Fairness.WEAK, "c": Fairness.WEAK, "d": Fairness.WEAK}
    lasso = check(toy, key, [eventually_two()]).lassos["EventuallyTwo"]
    assert lasso is not None and sorted(a for a, _ in lasso.cycle) == ["a", "b"]
    toy.fair["c"] = Fairness.STRONG
    lasso = check(toy, key, [eventually_two()]).lassos["EventuallyTwo"]
    assert lasso is not None and sorted(a for a, _ in lasso.cycle) == ["a", "b", "c", "d"]


def test_all_components_at_once_agree_with_one_at_a_time() -> None:
    """`_judge` (array operations over every component) against `_check` (one component at a
    time, the plain statement of the fairness conditions) on random graphs and queries."""
    rng = random.Random(11)
    for _ in range(300):
        n = rng.randint(2, 9)
        edges = [(rng.randrange(n), rng.choice("abcdef"), rng.randrange(n)) for _ in range(20)]
        edges = [(a, x, b) for a, x, b in edges if a != b] + [(0, "z", 1)]
        kinds = (Fairness.WEAK, Fairness.STRONG)
        toy = Toy(edges, {x: rng.choice(kinds) for x in "abcdefz" if rng.random() < 0.6})
        target = rng.randrange(n)

        def other(s: int, target: int = target) -> bool:
            return s != target

        def hit(s: int, target: int = target) -> bool:
            return s == target

        def takes_b(s: int, a: str, u: int) -> bool:
            return a == "b"

        props: list[LiveProperty[int, str]] = [
            LiveProperty("P", "", (Query("q", stay=other),)),
            LiveProperty("V", "", (Query("q", visit=(hit,)),)),
            LiveProperty("T", "", (Query("q", take=(takes_b,)),)),
        ]
        ex = Explorer(toy, key, props)
        ex.run(-1)
        cycles = _Cycles(ex.g)
        nodes = np.arange(ex.g.size, dtype=np.int64)
        for per in _layout(props):
            for bits in per:
                judged = {tuple(c.tolist()): v for c, v in cycles._judge(nodes, bits)}
                for comp in cycles._components(nodes):
                    want = cycles._check(comp, bits)
                    got = judged.get(tuple(comp.tolist()), False)
                    if isinstance(want, np.ndarray):
                        assert isinstance(got, np.ndarray) and got.tolist() == want.tolist()
                    else:
                        assert got is want


def test_shortest_paths_tree_gives_each_state_a_parent_on_a_shortest_path() -> None:
    # 0 -> 1 -> 2 -> 3 and a shortcut 0 -> 3; 4 unreachable
    src = np.array([0, 1, 2, 0, 3], dtype=np.int64)
    dst = np.array([1, 2, 3, 3, 0], dtype=np.int64)
    assert shortest_paths_tree(5, src, dst).tolist() == [-1, 0, 1, 0, -1]


def test_sorted_unique_is_np_unique() -> None:
    rng = np.random.default_rng(7)
    for n in (0, 1, 5, 1000, 50_000):
        a = rng.integers(0, n // 3 + 2, n).astype(np.int64)
        assert np.array_equal(sorted_unique(a), np.unique(a))


def test_component_keys_do_not_overflow_with_many_instances() -> None:
    """Components times fair instances past 2**31: scipy's component labels are 32-bit, and
    a (component, instance) key computed in 32 bits wraps, so that an instance taken in one
    component passed for taken in another. Here state 0 enables the strongly fair instance X
    and never takes it (the only state visiting the query's predicate); 4,099 other states
    each take X on a self-loop. Its component is not fair."""
    n, width, x = 4_100, 1 << 21, 5
    kinds = [Fairness.STRONG] * width
    src = np.arange(n, dtype=np.int64)
    inst = np.full(n, x, dtype=np.int64)
    inst[0] = -1  # state 0's loop is an unfair step
    edges = (src, src.copy(), inst, np.zeros(n, dtype=np.int64))
    sbits = np.zeros(n, dtype=np.int64)
    sbits[0] = 1
    extra = np.array([[0, x]], dtype=np.int64)  # X enabled at state 0 (no edge of its own)
    cycles = _Cycles.of(n, kinds, edges, sbits, np.ones(n, dtype=bool), extra)
    assert cycles.find(_Bits(stay=None, visit=[0], take=[])) is None
