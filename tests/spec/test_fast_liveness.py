"""The packed liveness quotient in C (spec/fast/_liveness.c) against the readable spec.

On every state of small models (and the first states, then seeded random walks, of bigger
ones), for each topology and feature mix the C module covers: the same set of (fair instance,
successor) pairs as the readable quotient's Next (successors compared as packed bytes, which
`pack` makes one-to-one), and the same bits of every liveness property's predicates on the
readable view of a packed state as on the state itself. Then the packed search against the
readable one on whole graphs: the same states and the same verdicts.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterator

import pytest

from electorate.model_check import liveness as fair
from electorate.model_check.liveness_packed import PackedExplorer
from electorate.spec.fast import liveness as fast
from electorate.spec.liveness.model import LivenessRaftModel, ShiftedRaftModel
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.next import Action, Init, Next, _instance
from electorate.spec.params import Params
from electorate.spec.state import State
from electorate.spec.topology import topology_from

MIXES = ["", "prevote", "check_quorum", "prevote,check_quorum", "lease", "prevote,lease"]
Pairs = set[tuple[Hashable, bytes]]


def params(topology: str, n: int, features: str, randomized: bool = True) -> Params:
    chosen = frozenset(f for f in features.split(",") if f)
    return Params(
        servers=n,
        topology=topology_from(topology, n),
        features=chosen,  # type: ignore[arg-type]
        randomized=randomized,
    )


def key(a: Action) -> Hashable:
    """An instance as fairness sees it: a LuckyTimeout's label is its situation (quiet or votes
    in flight, two fair instances); a Receive's is the handler, which the C module does not
    name."""
    return (a.name, _instance(a), a.detail if a.name == "LuckyTimeout" else "")


def readable(p: Params, steps: list[tuple[Action, State]]) -> Pairs:
    return {(key(a), fast.pack(p, t)) for a, t in steps}


def packed(p: Params, space: fast.PackedQuotient, s: State) -> Pairs:
    return {(key(fast.instance(c)), b) for b, c in space.successors(fast.pack(p, s))}


def bfs(p: Params, limit: int) -> Iterator[State]:
    """The quotient's first `limit` states, breadth first."""
    s0 = Init(p)
    seen, queue = {s0}, [s0]
    for s in queue:
        yield s
        for _, t in Next(p, s):
            if t not in seen and len(seen) < limit:
                seen.add(t)
                queue.append(t)


def walk(p: Params, seed: int, length: int) -> Iterator[State]:
    rng = random.Random(seed)
    s = Init(p)
    for _ in range(length):
        yield s
        options = [t for _, t in Next(p, s) if t is not s]
        if not options:
            return
        s = rng.choice(options)


def agree(p: Params, states: Iterator[State]) -> int:
    assert fast.not_covered(p) is None, fast.not_covered(p)
    space = fast.PackedQuotient(p)
    props = liveness_properties(p)
    preds = [x for prop in props for q in prop.queries for x in (q.stay, *q.visit) if x]
    deposing = [x for prop in props for q in prop.queries for x in q.take]
    count = 0
    for s in states:
        steps = [(a, t) for a, t in Next(p, s) if t is not s]
        assert readable(p, steps) == packed(p, space, s), s
        view = space.view(space.view_key(fast.pack(p, s)))
        assert [f(s) for f in preds] == [f(view) for f in preds]
        for a, t in steps:
            tv = space.view(space.view_key(fast.pack(p, t)))
            assert [f(s, a, t) for f in deposing] == [f(view, a, tv) for f in deposing]
        count += 1
    return count


@pytest.mark.parametrize("features", MIXES)
def test_every_state_of_two_servers(features: str) -> None:
    p = params("full", 2, features)
    assert agree(p, bfs(p, 15_000)) == len(list(bfs(p, 15_000)))


@pytest.mark.parametrize(
    ("topology", "n", "features"),
    [
        ("chained", 3, "prevote,check_quorum"),
        ("chained", 3, ""),
        ("full", 3, "prevote"),
        ("full", 3, "check_quorum"),
        ("howard", 5, ""),
        ("howard", 5, "prevote,check_quorum"),
        ("star", 4, "prevote,check_quorum"),
        ("howard", 5, "prevote,lease"),
        ("chained", 3, "lease,check_quorum"),
    ],
)
def test_first_states_and_walks(topology: str, n: int, features: str) -> None:
    p = params(topology, n, features)
    assert agree(p, bfs(p, 600)) == 600
    seed = random.randrange(1 << 30)
    print(f"random walks: seed {seed}")
    for k in range(4):
        agree(p, walk(p, seed + k, 150))


def exact_readable(
    p: Params, model: ShiftedRaftModel, s: State
) -> set[tuple[Hashable, bytes, bool]]:
    return {
        (key(a), fast.pack(p, t), not model.in_constraint(t))
        for a, t in model.successors(s)
        if t is not s
    }


def exact_packed(
    p: Params, space: fast.PackedQuotient, s: State
) -> set[tuple[Hashable, bytes, bool]]:
    return {
        (key(fast.instance(c)), b, bool(c & fast.CUT)) for b, c in space.successors(fast.pack(p, s))
    }


def exact_states(p: Params, model: ShiftedRaftModel, limit: int, seed: int) -> Iterator[State]:
    """The exact quotient's first `limit` states inside the span, breadth first, then seeded
    random walks inside it."""
    s0 = model.init_states()[0]
    seen, queue = {s0}, [s0]
    for s in queue:
        yield s
        for _, t in model.successors(s):
            if t not in seen and len(seen) < limit and model.in_constraint(t):
                seen.add(t)
                queue.append(t)
    rng = random.Random(seed)
    for _ in range(4):
        s = s0
        for _ in range(150):
            options = [t for _, t in model.successors(s) if t is not s and model.in_constraint(t)]
            if not options:
                break
            s = rng.choice(options)
            yield s


@pytest.mark.parametrize(
    ("topology", "n", "features"),
    [
        ("full", 2, ""),
        ("full", 2, "prevote,check_quorum"),
        ("full", 3, ""),
        ("chained", 3, "prevote"),
        ("howard", 5, ""),
        ("howard", 5, "prevote"),
        ("howard", 5, "prevote,check_quorum"),
        ("howard", 5, "lease"),
    ],
)
def test_the_exact_quotient_in_c(topology: str, n: int, features: str) -> None:
    """With a span the C module steps the exact quotient (ShiftedRaftModel): the same
    (instance, successor) pairs, and the same ones marked outside the span."""
    p = params(topology, n, features)
    model = ShiftedRaftModel(p, 3)
    space = fast.PackedQuotient(p, span=3)
    seed = random.randrange(1 << 30)
    print(f"random walks: seed {seed}")
    count = 0
    for s in exact_states(p, model, 600, seed):
        assert exact_readable(p, model, s) == exact_packed(p, space, s), s
        count += 1
    assert count > 600


def test_pack_is_one_to_one_on_a_graph() -> None:
    p = params("full", 2, "prevote,check_quorum")
    states = list(bfs(p, 20_000))
    assert len({fast.pack(p, s) for s in states}) == len(states)


def test_not_covered_says_why() -> None:
    assert fast.not_covered(Params(servers=3)) == "not a liveness model"
    assert fast.not_covered(params("full", 3, "prevote,check_quorum")) is None


@pytest.mark.parametrize(
    ("features", "randomized"), [("", True), ("", False), ("check_quorum", True)]
)
def test_packed_search_finds_what_the_readable_one_does(features: str, randomized: bool) -> None:
    p = params("full", 2, features, randomized)
    model = LivenessRaftModel(p)
    props = liveness_properties(p)

    def pack(s: State) -> bytes:
        return fast.pack(p, s)

    ex = PackedExplorer(model, pack, props, fast.PackedQuotient(p))
    got = fair.check(model, pack, props, rank=model.rank, on_the_fly=2000, explorer=ex)
    want = fair.check(model, model.key, props, rank=model.rank, on_the_fly=2000)
    assert got.complete and want.complete
    assert got.distinct == want.distinct
    assert {k: v is None for k, v in got.lassos.items()} == {
        k: v is None for k, v in want.lassos.items()
    }
    for lasso in got.lassos.values():
        if lasso is not None:  # a lasso of the packed graph is a path of the readable model
            here = lasso.stem[-1][1]
            for a, t in lasso.cycle:
                assert any(b == a and u == t for b, u in Next(p, here))
                here = t
            assert here == lasso.stem[-1][1]
