"""The fair-cycle search's exploration on packed states, expanded by a compiled successor function.

The same graph as the plain Explorer's (model_check/liveness.py), built faster: a state is a
bytes object the model's compiled successor function expands into (successor, instance code)
pairs, each pair once; its fingerprint is the hash of those bytes. The readable model stays
the reference and does everything but the expansion: its `key` packs a readable state into the
same bytes (so a lasso is rebuilt by replaying the readable model along the fingerprints, as
for the plain search), its fairness judges each instance code once, and the properties'
predicates run on a readable *view* of a packed state: a readable state that agrees with it on
everything the predicates read, built once per distinct view and memoized (a liveness model's
properties read the servers' roles only). The graph differs from the readable one's only in
parallel edges: two steps to one state by one instance are one edge here (fairness and the
properties read instances and states, not how many edges join them).

A `Restriction` explores a sub-model: its steps (instance codes it names, successors longer
than it allows) are treated as the constraint's cuts are, enabled where they were and never
edges. So every cycle found is a cycle of the whole model and its fairness is judged with the
whole model's enabledness: a cycle fair only because the sub-model lacks a step is rejected.
A sub-model's search never decides "holds" (its graph is not the model's).
"""

from __future__ import annotations

import copy
import random
import time
from array import array
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from electorate.model_check.liveness import (
    Explorer,
    Fairness,
    IntArray,
    Lasso,
    LivenessModel,
    LiveProperty,
    MemoryBound,
    Query,
    _Cycles,
    _rebuild,
)

S = TypeVar("S")
A = TypeVar("A")
S_co = TypeVar("S_co", covariant=True)
A_co = TypeVar("A_co", covariant=True)


# The shortest paths' tree of a graph: its sparse matrix (32-bit indexes, then a float copy in
# scipy's breadth-first search) and the parents in three integer arrays.
STEMS_PER_EDGE = 32
STEMS_PER_STATE = 48


class PackedLiveness(Protocol[S_co, A_co]):
    """A model's packed form, beside its readable LivenessModel."""

    @property
    def cut(self) -> int:
        """A flag of instance codes: the successor is outside the model's constraint (its
        action counts as enabled, as the plain Explorer's cuts); 0 without a constraint."""
        ...

    def successors(self, b: bytes) -> list[tuple[bytes, int]]:
        """Every (successor, instance code) pair of packed state b, each once (no stutters)."""
        ...

    def fairness(self, code: int) -> tuple[Hashable, Fairness] | None:
        """The fair instance of an instance code, as the readable model's `fairness`."""
        ...

    def action(self, code: int) -> A_co:
        """The readable action of an instance code (what an edge predicate is given)."""
        ...

    def view_key(self, b: bytes) -> bytes:
        """The part of b the properties' predicates read."""
        ...

    def view(self, key: bytes) -> S_co:
        """A readable state with that part, for the predicates."""
        ...

    def rank(self, b: bytes) -> int:
        """The readable model's rank of b (lower first)."""
        ...


@dataclass(frozen=True)
class Restriction:
    """A sub-model (module docstring): the steps whose instance code is in `codes`, and the
    successors longer than `max_len` bytes (0: no bound), are outside it."""

    codes: frozenset[int] = frozenset()
    max_len: int = 0


def shortest_paths_tree(size: int, src: IntArray, dst: IntArray) -> IntArray:
    """Each state's parent on a shortest path from state 0 (the initial state) along the edges
    (src, dst); -1 for state 0 and for states it does not reach."""
    m = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(size, size))
    _, pred = breadth_first_order(m, 0, directed=True, return_predecessors=True)
    return np.where(pred < 0, -1, pred).astype(np.int64)


class PackedExplorer(Explorer[S, A]):
    """Explorer on packed states (module docstring). `key` must pack a readable state into
    the bytes the packed successor function yields. States are expanded in the packed model's
    rank order, breadth first within a rank, or depth first (`depth_first`). `restrict`: a
    sub-model (`Restriction`). `seed`: each state's successors are shuffled by a random
    generator seeded with it (another depth-first order; None: the C module's order)."""

    def __init__(
        self,
        model: LivenessModel[S, A],
        key: Callable[[S], bytes],
        props: Sequence[LiveProperty[S, A]],
        packed: PackedLiveness[S, A],
        depth_first: bool = False,
        shortest_stems: bool = False,
        restrict: Restriction | None = None,
        seed: int | None = None,
    ) -> None:
        self.packed = packed
        self.restrict = restrict or Restriction()
        self.rng = None if seed is None else random.Random(seed)
        self.shortest_stems = shortest_stems
        self.pack = key
        self.instance_of: dict[int, int] = {}
        self.state_bits_of: dict[bytes, int] = {}
        self.edge_bits_of: dict[tuple[bytes, bytes, int], int] = {}
        super().__init__(model, key, props, depth_first=depth_first)

    def lasso(
        self,
        cycles: _Cycles,
        prop: LiveProperty[S, A],
        q: Query[S, A],
        entry: int,
        edges: list[int],
    ) -> Lasso[S, A]:
        """The lasso through `entry`; with `shortest_stems`, its stem a shortest path of the
        graph explored so far (a depth-first search's discovery tree has paths as long as its
        stack was deep: each of their steps is replayed in the readable model)."""
        if not self.shortest_stems:
            return super().lasso(cycles, prop, q, entry, edges)
        g = copy.copy(self.g)
        g.parents = array("q", shortest_paths_tree(cycles.size, cycles.src, cycles.dst).tobytes())
        return _rebuild(self.model, self.pack, g, cycles, prop, q, entry, edges)

    def lasso_need(self, cycles: _Cycles, comp: IntArray) -> int:
        """As the plain explorer's, and with `shortest_stems` the shortest paths' tree of the
        whole graph (a sparse matrix of its edges)."""
        need = super().lasso_need(cycles, comp)
        if self.shortest_stems:
            need += STEMS_PER_EDGE * len(cycles.src) + STEMS_PER_STATE * cycles.size
        return need

    def _add(self, s: object, parent: int) -> int:
        b = s if isinstance(s, bytes) else self.pack(s)  # type: ignore[arg-type]
        g = self.g
        fp = hash(b)
        k = g.fps.get(fp)
        if k is not None:
            return k
        k = g.fps[fp] = len(g.fp_list)
        g.fp_list.append(fp)
        g.parents.append(parent)
        g.expanded.append(0)
        g.state_bits.append(self._state_bits(b))
        r = self.packed.rank(b)
        while len(self.queues) <= r:
            self.queues.append(deque())
        self.queues[r].append((b, k))  # type: ignore[arg-type]
        self.queued += 1
        return k

    def _state_bits(self, b: bytes) -> int:
        v = self.packed.view_key(b)
        bits = self.state_bits_of.get(v)
        if bits is None:
            s = self.packed.view(v)
            bits = sum(1 << n for n, pred in enumerate(self.state_preds) if pred(s))
            self.state_bits_of[v] = bits
        return bits

    def _edge_bits(self, vs: bytes, vt: bytes, code: int) -> int:
        if not self.edge_preds:
            return 0
        k = (vs, vt, code)
        bits = self.edge_bits_of.get(k)
        if bits is None:
            s, t = self.packed.view(vs), self.packed.view(vt)
            a = self.packed.action(code)
            bits = sum(1 << n for n, pred in enumerate(self.edge_preds) if pred(s, a, t))
            self.edge_bits_of[k] = bits
        return bits

    def _instance(self, code: int) -> int:
        inst = self.instance_of.get(code)
        if inst is None:
            fair = self.packed.fairness(code)
            inst = self.instance_of[code] = -1 if fair is None else self.g.instance(*fair)
        return inst

    def run(
        self,
        limit: int,
        progress: Callable[[int, int, float], None] | None = None,
        start: float | None = None,
        deadline: float = 0.0,
        stop: Callable[[], bool] | None = None,
        memory: MemoryBound | None = None,
    ) -> None:
        g, packed = self.g, self.packed
        fps = g.fps
        sources, targets, instances = g.sources, g.targets, g.instances
        edge_bits = g.edge_bits  # no renamings (g.perms): only the symmetric search reads them
        instance_of, view_key = self.instance_of, packed.view_key
        edge_bits_of, any_edge_preds = self.edge_bits_of, bool(self.edge_preds)
        cut, cut_pairs = packed.cut, g.cut_pairs
        outside, max_len, rng = self.restrict.codes, self.restrict.max_len, self.rng
        start = time.perf_counter() if start is None else start
        last = time.perf_counter()
        n = 0
        while self.queued and limit != 0:
            if not n & 255 and not self.has_room(memory):
                return
            n += 1
            limit -= 1
            b, k = self._pop()
            vs = view_key(b)  # type: ignore[arg-type]
            steps = packed.successors(b)  # type: ignore[arg-type]
            if rng is not None:
                rng.shuffle(steps)
            for t, code in steps:
                inst = instance_of.get(code)
                if inst is None:
                    inst = self._instance(code)
                if code & cut or code in outside or (max_len and len(t) > max_len):
                    # outside the constraint or the sub-model: enabled here, not an edge
                    if inst >= 0:
                        cut_pairs.append((k, inst))
                    continue
                j = fps.get(hash(t))
                if j is None:
                    j = self._add(t, k)
                sources.append(k)
                targets.append(j)
                instances.append(inst)
                if any_edge_preds:
                    bits = edge_bits_of.get((vs, view_key(t), code))
                    edge_bits.append(
                        self._edge_bits(vs, view_key(t), code) if bits is None else bits
                    )
                else:
                    edge_bits.append(0)
            g.expanded[k] = 1
            if not limit & 255:
                now = time.perf_counter()
                if now - last >= 1.0:
                    last = now
                    if progress is not None:
                        progress(g.size, self.queued, now - start)
                    if (deadline and now > deadline) or (stop is not None and stop()):
                        return
