"""Fair-cycle search on one state per symmetry orbit, with the fairness of the whole model.

A symmetry of a model is a renaming of its processes (a permutation pi) that maps every
transition s -a-> t to a transition pi(s) -pi(a)-> pi(t), keeps the initial states, maps each
fair instance to a fair instance of the same kind, and keeps every query (its edge predicates
unchanged, its state predicates as a set). Reducing to orbits is sound for safety, but not
directly for liveness: a cycle of orbits is a path from s to a renamed copy pi(s), and which
instance a step takes, or which is enabled, depends on the renaming it was reached under
(TLC's liveness checking under SYMMETRY misses violations for this reason, tlaplus#59).

The search here expands one state per orbit (the successor function, where the time goes, runs
once per orbit) and records on each edge the renaming gamma that took its target to the orbit's
representative. The fair-cycle search then runs on the unfolded graph U: a node (c, sigma) for
each representative c and each renaming sigma of the group G, standing for the state sigma(c);
for each edge c -a-> t of the model with gamma(t) = d, an edge
(c, sigma) -sigma(a)-> (d, sigma . gamma^-1), for every sigma. Built from the stored edges by
array operations, never by calling the model again.

Why U decides exactly what the whole model M decides:

- U covers M: node (c, sigma) stands for the M state sigma(c), every M state has such a node
  (sigma(c) for c the representative of its orbit, as the initial states are closed under G),
  and the out-edges of (c, sigma) are sigma applied to the out-edges of c in M: exactly the
  out-edges of sigma(c) in M (s -> t is an M edge iff sigma(s) -> sigma(t) is one). So the
  instances enabled at (c, sigma) are those enabled at sigma(c), and the state predicates of
  (c, sigma) are those of sigma(c) (computed on sigma(c); edge predicates are invariant).
- A cycle of U projects to a cycle of M through the same instances, enabled sets and
  predicates, so it is fair and violating in U iff its image is in M.
- A cycle of M lifts to a path of U from any node standing for its first state: each M edge out
  of sigma(c) is the image of exactly one U edge out of (c, sigma). The path ends at a node that
  stands for the same M state; repeating the cycle, the finitely many such nodes recur, so some
  number of repetitions closes a cycle of U, with the same instances, enabled sets and
  predicates as the M cycle (repeated). So M has a fair violating cycle iff U has one, and the
  standard search on U (components, weak and strong fairness) is exact for M.

U has |G| nodes per orbit, so the component search costs as much as on M, but that part is
array operations; the successor function runs |G| times less. Only edges inside a component of
the orbit graph can lie on a cycle of U (a cycle of U projects to a cycle of orbits); the others
count only for what is enabled. A lasso is rebuilt in M: the stem replays the model along the
orbit graph's BFS tree, ending in some renaming rho(c) of the cycle's entry c, and the cycle of
U, renamed so that it starts there, is replayed step by step (each step a real successor
checked against the U edge's state and instance): the lasso is concrete, not an orbit path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from electorate.model_check.liveness import (
    A,
    Explorer,
    Fairness,
    IntArray,
    Lasso,
    LivenessModel,
    LivenessResult,
    LiveProperty,
    MemoryBound,
    Query,
    S,
    _Cycles,
    check,
    judging_bytes,
    unique_pairs,
)

Perm = tuple[int, ...]  # pi[k]: the new name of process k
S2 = TypeVar("S2")
A2 = TypeVar("A2")


class SymmetricModel(LivenessModel[S2, A2], Protocol):
    """A liveness model with a symmetry group (see the module docstring for what it must keep)."""

    def automorphisms(self) -> list[Perm]:
        """The group, the identity first."""
        ...

    def permute(self, s: S2, pi: Perm) -> S2: ...

    def permute_instance(self, key: Hashable, pi: Perm) -> Hashable: ...

    def permute_view(self, s: S2, pi: Perm) -> S2:
        """s renamed as far as the properties' state predicates read it (permute, or less)."""
        ...

    def signature(self, s: S2) -> tuple[Hashable, ...]:
        """Per process, what it looks like with names erased (renaming s permutes these), so
        that only the renamings that sort them least need a renamed state."""
        ...


U_PER_EDGE = 80  # U's source, target, instance and bits (8 bytes each) and their temporaries


def compose(a: Perm, b: Perm) -> Perm:
    """a . b: rename by b, then by a."""
    return tuple(a[x] for x in b)


def inverse(a: Perm) -> Perm:
    out = [0] * len(a)
    for k, x in enumerate(a):
        out[x] = k
    return tuple(out)


class SymmetricExplorer(Explorer[S, A]):
    """Explores one state per orbit (the one with the smallest fingerprint of its key) and
    judges fairness on the unfolded graph U (module docstring)."""

    def __init__(
        self,
        model: SymmetricModel[S, A],
        key: Callable[[S], Hashable],
        props: Sequence[LiveProperty[S, A]],
        rank: Callable[[S], int] | None = None,
        depth_first: bool = False,
    ) -> None:
        self.sym = model
        self.group = model.automorphisms()
        assert self.group and self.group[0] == tuple(range(len(self.group[0])))
        index = {g: k for k, g in enumerate(self.group)}
        assert len(index) == len(self.group)
        n = len(self.group)
        # after[s, e]: the index of group[s] . group[e]^-1 (the U edge's target renaming)
        self.after = np.array(
            [
                [index[compose(self.group[s], inverse(self.group[e]))] for e in range(n)]
                for s in range(n)
            ],
            dtype=np.int64,
        )
        self.perm_bits: list[int] = []  # per state and renaming: the state bits of sigma(c)
        self.inverses = [inverse(g) for g in self.group]
        self.seen: dict[int, tuple[int, int]] = {}  # a state's fingerprint: (index, renaming)
        super().__init__(model, key, props, rank, depth_first)

    def _target(self, t: S, parent: int) -> tuple[int, int]:
        """As the plain explorer's, with what each state (by its own fingerprint) was found to
        be kept: most successors were met before, and their renaming need not be sought."""
        fp = hash(self.key(t))
        known = self.seen.get(fp)
        if known is None:
            rep, perm = self._canon(t)
            known = self.seen[fp] = (self._add(rep, parent), perm)
        return known

    def _canon(self, t: S) -> tuple[S, int]:
        """The orbit's representative and the renaming that makes it of t: among the renamings
        whose renamed signature is least, the renamed state with the smallest fingerprint.
        Both steps depend on the orbit only (renaming t first renames every candidate)."""
        sig = self.sym.signature(t)
        least: list[int] = []
        low: tuple[Hashable, ...] | None = None
        for k, inv in enumerate(self.inverses):
            mine = tuple([sig[x] for x in inv])  # slot j holds old process inv[j]
            if low is None or mine < low:
                low, least = mine, [k]
            elif mine == low:
                least.append(k)
        best: S | None = None
        best_k, best_fp = 0, 0
        for k in least:
            u = t if k == 0 else self.sym.permute(t, self.group[k])
            fp = hash(self.key(u))
            if best is None or fp < best_fp:
                best, best_k, best_fp = u, k, fp
        assert best is not None
        return best, best_k

    def _add(self, s: S, parent: int) -> int:
        before = self.g.size
        k = super()._add(s, parent)
        if self.g.size > before:
            for n, pi in enumerate(self.group):
                u = s if n == 0 else self.sym.permute_view(s, pi)
                bits = 0
                for b, pred in enumerate(self.state_preds):
                    if pred(u):
                        bits |= 1 << b
                self.perm_bits.append(bits)
        return k

    def cycles(self) -> _Cycles:
        """The unfolded graph U, built from the stored edges. Only edges inside one component
        of the orbit graph can lie on a cycle of U (a cycle of U projects to one of orbits);
        the others count only for what is enabled. A component of the orbit graph in which a
        weakly fair instance that every renaming keeps (Stabilize) is enabled everywhere and
        taken nowhere is unfair in U as well (each of its U nodes enables that very instance,
        and no U edge above it takes it), so its edges are left out of U."""
        g, n = self.g, len(self.group)
        src, dst, inst, ebits = g.arrays()  # views: U's arrays are built anew
        perm = np.frombuffer(g.perms, dtype=np.int64)
        itab = self._instance_table()
        size = g.size
        m = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(size, size))
        count, labels = connected_components(m, directed=True, connection="strong")
        inner = labels[src] == labels[dst]
        fair = inst >= 0
        cut = np.array(g.cut_pairs, dtype=np.int64).reshape(-1, 2)
        width = len(g.kinds)
        enabled = unique_pairs(
            np.concatenate([np.stack([src[fair], inst[fair]], axis=1), cut]), width
        )
        inner &= ~self._unfair_components(count, labels, src, inner, inst, enabled, itab)
        # enabled pairs no kept edge carries, then renamed for every sigma
        rest = unique_pairs(
            np.concatenate([np.stack([src[~inner & fair], inst[~inner & fair]], axis=1), cut]),
            width,
        )
        sig = np.arange(n, dtype=np.int64)
        extra = np.stack(
            [(rest[:, 0][:, None] * n + sig[None, :]).ravel(), itab[rest[:, 1]].ravel()], axis=1
        )
        e = np.flatnonzero(inner)
        u_src = (src[e][:, None] * n + sig[None, :]).ravel()
        u_dst = (dst[e][:, None] * n + self.after[:, perm[e]].T).ravel()
        ie = inst[e]
        u_inst = np.where(ie[:, None] >= 0, itab[np.maximum(ie, 0)], -1).ravel()
        u_bits = np.repeat(ebits[e], n)
        expanded = np.repeat(np.frombuffer(g.expanded, dtype=np.uint8).astype(bool), n)
        return _Cycles.of(
            size * n,
            list(g.kinds),
            (u_src, u_dst, u_inst, u_bits),
            np.array(self.perm_bits, dtype=np.int64),
            expanded,
            extra.reshape(-1, 2),
        )

    def judging_need(self) -> int:
        """Judging U (|G| nodes per orbit, |G| edges per stored edge inside a component of
        the orbit graph) and building it: its edges' four arrays beside the stored graph."""
        g, n = self.g, len(self.group)
        edges = len(g.targets) * n
        return judging_bytes(g.size * n, edges, len(g.cut_pairs) * n) + U_PER_EDGE * edges

    def growth_need(self) -> int:
        return super().growth_need() + 2 * sys.getsizeof(self.seen)

    def _unfair_components(
        self,
        count: int,
        labels: IntArray,
        src: IntArray,
        inner: NDArray[np.bool_],
        inst: IntArray,
        enabled: IntArray,
        itab: IntArray,
    ) -> NDArray[np.bool_]:
        """Per edge: inside a component where a weakly fair instance kept by every renaming is
        enabled in every state and taken on no inner edge."""
        kinds = self.g.kinds
        kept = [
            k for k in range(len(kinds)) if kinds[k] == Fairness.WEAK and bool((itab[k] == k).all())
        ]
        dead = np.zeros(count, dtype=bool)
        sizes = np.bincount(labels, minlength=count)
        for k in kept:
            at = enabled[enabled[:, 1] == k, 0]
            full = np.bincount(labels[at], minlength=count) == sizes
            taken = np.zeros(count, dtype=bool)
            taken[labels[src[inner & (inst == k)]]] = True
            dead |= full & ~taken
        return dead[labels[src]]

    def _instance_table(self) -> IntArray:
        """itab[k, s]: the fair instance group[s] makes of instance k (registered if new)."""
        g = self.g
        by_id = list(g.instance_ids)  # insertion order is id order
        rows: list[list[int]] = []
        while len(rows) < len(by_id):
            key = by_id[len(rows)]
            kind = g.kinds[len(rows)]
            row: list[int] = []
            for pi in self.group:
                renamed = self.sym.permute_instance(key, pi)
                new = renamed not in g.instance_ids
                row.append(g.instance(renamed, kind))
                if new:
                    by_id.append(renamed)
            rows.append(row)
        return np.array(rows, dtype=np.int64).reshape(-1, len(self.group))

    def lasso(
        self,
        cycles: _Cycles,
        prop: LiveProperty[S, A],
        q: Query[S, A],
        entry: int,
        edges: list[int],
    ) -> Lasso[S, A]:
        """The stem along the orbit graph's BFS tree, replayed in the model, then U's cycle
        renamed to start where the stem ends, replayed step by step."""
        g, n, model = self.g, len(self.group), self.sym
        names = {v: k for k, v in g.instance_ids.items()}
        orbit, sigma = divmod(entry, n)
        chain: list[int] = []
        k = orbit
        while k >= 0:
            chain.append(k)
            k = g.parents[k]
        chain.reverse()
        here = next(s for s in model.init_states() if self._fp(s) == g.fp_list[chain[0]])
        stem: list[tuple[A | None, S]] = [(None, here)]
        for k in chain[1:]:
            step = next(
                (a, t)
                for a, t in model.successors(here)
                if t is not here and self._fp(t) == g.fp_list[k]
            )
            stem.append(step)
            here = step[1]
        _, gamma = self._canon(here)
        rho = inverse(self.group[gamma])  # here = rho(rep)
        pi = compose(rho, inverse(self.group[sigma]))  # U's (entry orbit, sigma) to `here`
        cycle: list[tuple[A, S]] = []
        for e in edges:
            d, tau = divmod(int(cycles.dst[e]), n)
            ren = compose(pi, self.group[tau])
            inst = int(cycles.inst[e])
            want = None if inst < 0 else model.permute_instance(names[inst], pi)
            step = self._follow(here, g.fp_list[d], ren, want)
            cycle.append(step)
            here = step[1]
        return Lasso(prop.id, prop.description, q.name, stem, cycle)

    def _fp(self, s: S) -> int:
        return hash(self.key(self._canon(s)[0]))

    def _follow(self, s: S, fp: int, ren: Perm, want: Hashable | None) -> tuple[A, S]:
        """The successor of s that is ren(representative with fingerprint fp), by an action of
        fair instance `want` (None: an unfair action)."""
        for a, t in self.sym.successors(s):
            if t is s:
                continue
            rep, _ = self._canon(t)
            if hash(self.key(rep)) != fp or self.sym.permute(rep, ren) != t:
                continue
            fair = self.sym.fairness(a)
            if (None if fair is None else fair[0]) == want:
                return a, t
        raise AssertionError("a U edge with no step in the model (is the model symmetric?)")


def check_symmetric(
    model: SymmetricModel[S, A],
    key: Callable[[S], Hashable],
    props: Sequence[LiveProperty[S, A]],
    progress: Callable[[int, int, float], None] | None = None,
    rank: Callable[[S], int] | None = None,
    on_the_fly: int = 0,
    budget: int = 0,
    seconds: float = 0.0,
    stop: Callable[[], bool] | None = None,
    memory: MemoryBound | None = None,
) -> LivenessResult[S, A]:
    """`liveness.check` on one state per orbit of the model's symmetry group, with the fairness
    and lassos of the whole model (module docstring). Counts are of orbits."""
    ex: Explorer[S, A] = SymmetricExplorer(model, key, props, rank)
    return check(
        model,
        key,
        props,
        progress,
        rank=rank,
        on_the_fly=on_the_fly,
        budget=budget,
        seconds=seconds,
        explorer=ex,
        stop=stop,
        memory=memory,
    )
