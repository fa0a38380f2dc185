"""Fair-cycle search: liveness properties checked on the reachable state graph.

A liveness property is violated by an infinite fair behaviour, and in a finite graph such a
behaviour ends in a cycle: a lasso (a stem from an initial state, then a cycle repeated
forever). This module knows nothing of the protocol it checks (it imports no spec); a model
gives it states, labelled successors, the fairness of each action instance, and each property
as a `Query`: the cycles that violate it.

The algorithm (the standard one for weak and strong fairness, as in TLC and SPIN):

1. Explore the reachable graph breadth-first, keeping fingerprints, a BFS parent per state
   (stems are shortest paths), edges in flat arrays, and one bit per state and per edge for
   each predicate the queries ask about. A successor that is the state itself (`t is s`) is a
   stuttering step: never an edge, and the action it belongs to is not enabled there (TLA+'s
   <<A>>_vars). A successor outside the model's constraint is cut: its action still counts as
   enabled, and the cut is reported (it can make fairness vacuous, TLC's tlaplus#839).
2. For each query: the strongly connected components (scipy's csgraph) of the states it allows.
   A component is a fair cycle unless some weakly fair instance is enabled in all its states
   and taken on none of its edges (then every cycle in it is unfair: drop it). A strongly fair
   instance enabled somewhere in it and taken nowhere: drop the states where it is enabled and
   recompute the components of the rest. A component left must also visit each of the query's
   state predicates and take each of its edge predicates.
3. Every state may also stutter forever (TLA+'s [Next]_vars): that is a fair cycle exactly
   where no fair instance is enabled.
4. A violating component becomes a lasso: the BFS stem to it, then a cycle through it that
   takes each fair instance taken in it (or visits a state where the instance is disabled) and
   meets the query's predicates, rebuilt by replaying the model.
"""

from __future__ import annotations

import gc
import sys
import time
from array import array
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

S = TypeVar("S")
A = TypeVar("A")
S_contra = TypeVar("S_contra", contravariant=True)

IntArray = NDArray[np.int64]


class Fairness(Enum):
    WEAK = "weak"  # WF: continuously enabled => eventually taken
    STRONG = "strong"  # SF: enabled infinitely often => taken infinitely often


class LivenessModel(Protocol[S, A]):
    """What the fair-cycle search needs from a spec."""

    def init_states(self) -> list[S]: ...

    def successors(self, s: S) -> Iterable[tuple[A, S]]:
        """Every enabled action instance; a successor that `is` s is a stuttering step."""
        ...

    def in_constraint(self, s: S) -> bool: ...

    def fairness(self, a: A) -> tuple[Hashable, Fairness] | None:
        """The fair instance an action belongs to and its fairness, or None (unfair)."""
        ...


class MemoryBound(Protocol):
    """A bound on the memory of the process (app/memory.py's Budget)."""

    def fits(self, need: int) -> bool:
        """Whether the process can take `need` more bytes and stay within the bound. False
        also marks the bound reached: every search under way stops at its next check."""
        ...


# What judging a graph (steps 2 and 3, every query) takes beyond the stored graph, in bytes:
# measured (peak RSS less RSS before) at 44 to 51 a stored edge on the packed search for holds
# (howard with PreVote, full 3; 0.3 to 10.7 million edges) and 61 to 70 on the depth-first
# searches for violations (more of their states lie on cycles), with a margin;
# tests/model_check/test_liveness_memory.py holds the estimate above what judging takes.
JUDGE_PER_EDGE = 80  # a (state, instance) pair cut by a constraint counts as an edge
JUDGE_PER_STATE = 64
JUDGE_FIXED = 32 << 20  # numpy's and scipy's work buffers, a small graph's rounding
# Building a lasso through a component: its cycle's search keeps the component's edges and
# enabled instances in Python lists, dicts and sets (about 50 bytes an edge, 500 a state).
LASSO_PER_EDGE = 160
LASSO_PER_STATE = 800


def judging_bytes(states: int, edges: int, extra: int = 0) -> int:
    """The memory the fair-cycle search on a graph of `states` states, `edges` edges and
    `extra` (state, instance) pairs cut by a constraint takes beyond the graph itself."""
    return JUDGE_FIXED + JUDGE_PER_EDGE * (edges + extra) + JUDGE_PER_STATE * states


@dataclass(frozen=True)
class Query(Generic[S, A]):
    """The cycles that violate a property: every state satisfies `stay`, some state satisfies
    each of `visit`, some edge satisfies each of `take`."""

    name: str
    stay: Callable[[S], bool] | None = None
    visit: tuple[Callable[[S], bool], ...] = ()
    take: tuple[Callable[[S, A, S], bool], ...] = ()


@dataclass(frozen=True)
class LiveProperty(Generic[S, A]):
    id: str
    description: str
    queries: tuple[Query[S, A], ...]


@dataclass
class Lasso(Generic[S, A]):
    """A violating behaviour: `stem` from an initial state (its first action None) to the
    cycle's first state, then `cycle`: steps back to that state, repeated forever (empty: the
    behaviour stutters there forever)."""

    property: str
    description: str
    query: str
    stem: list[tuple[A | None, S]]
    cycle: list[tuple[A, S]]


@dataclass
class Cut:
    """A fair instance whose step the constraint cut, and in how many states."""

    instance: Hashable
    states: int


@dataclass
class LivenessResult(Generic[S, A]):
    distinct: int
    edges: int
    fair_instances: int
    explore_seconds: float
    cycle_seconds: float
    lassos: dict[str, Lasso[S, A] | None]
    cuts: list[Cut] = field(default_factory=list)
    complete: bool = True  # the whole reachable graph was explored
    expanded: int = 0  # states whose successors were computed
    out_of_memory: bool = False  # stopped by the memory bound (check's `memory`)

    @property
    def vacuous(self) -> bool:
        """A constraint cut fair steps: "no fair cycle found" proves nothing."""
        return bool(self.cuts)


class Graph:
    """The explored graph: states by discovery index, edges in expansion order (each with its
    source), and which states have been expanded (their successors and enabledness known)."""

    def __init__(self) -> None:
        self.fps: dict[int, int] = {}
        self.fp_list = array("q")
        self.parents = array("q")
        self.sources = array("q")
        self.targets = array("q")
        self.instances = array("q")  # fair instance id, -1 for an unfair action
        self.edge_bits = array("q")
        self.perms = array("q")  # per edge: the renaming that made its target canonical (0: none)
        self.state_bits = array("q")
        self.expanded = bytearray()  # 1 once the state's successors are all in the graph
        self.cut_pairs: list[tuple[int, int]] = []  # (state, fair instance) cut by the constraint
        self.instance_ids: dict[Hashable, int] = {}
        self.kinds: list[Fairness] = []

    def instance(self, key: Hashable, kind: Fairness) -> int:
        k = self.instance_ids.get(key)
        if k is None:
            k = self.instance_ids[key] = len(self.kinds)
            self.kinds.append(kind)
        return k

    @property
    def size(self) -> int:
        return len(self.fp_list)

    def arrays(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """(sources, targets, instances, edge bits) as numpy arrays."""
        return (
            np.frombuffer(self.sources, dtype=np.int64),
            np.frombuffer(self.targets, dtype=np.int64),
            np.frombuffer(self.instances, dtype=np.int64),
            np.frombuffer(self.edge_bits, dtype=np.int64),
        )


def _predicates(
    props: Sequence[LiveProperty[S, A]],
) -> tuple[list[Callable[[S], bool]], list[Callable[[S, A, S], bool]]]:
    states: list[Callable[[S], bool]] = []
    edges: list[Callable[[S, A, S], bool]] = []
    for prop in props:
        for q in prop.queries:
            if q.stay is not None:
                states.append(q.stay)
            states += q.visit
            edges += q.take
    if len(states) > 62 or len(edges) > 62:
        raise ValueError("at most 62 state and 62 edge predicates per run")
    return states, edges


class Explorer(Generic[S, A]):
    """Step 1, resumable: the reachable graph with the predicates' bits, expanded a batch at a
    time. States are expanded in the order of the model's `rank` (lower first; breadth-first
    within a rank), so a model can steer the search towards its cycles (a liveness model's
    stable states: every fair cycle lies among them)."""

    def __init__(
        self,
        model: LivenessModel[S, A],
        key: Callable[[S], Hashable],
        props: Sequence[LiveProperty[S, A]],
        rank: Callable[[S], int] | None = None,
        depth_first: bool = False,
    ) -> None:
        self.model, self.key, self.rank = model, key, rank
        self.depth_first = depth_first
        self.state_preds, self.edge_preds = _predicates(props)
        self.g = Graph()
        self.queues: list[deque[tuple[S, int]]] = []
        self.queued = 0
        self.out_of_memory = False  # run() stopped: judging a bigger graph would not fit
        for s in model.init_states():
            self._add(self._canon(s)[0], -1)

    @property
    def done(self) -> bool:
        return self.queued == 0

    def _add(self, s: S, parent: int) -> int:
        g = self.g
        fp = hash(self.key(s))
        k = g.fps.get(fp)
        if k is not None:
            return k
        k = g.fps[fp] = len(g.fp_list)
        g.fp_list.append(fp)
        g.parents.append(parent)
        g.expanded.append(0)
        bits = 0
        for b, pred in enumerate(self.state_preds):
            if pred(s):
                bits |= 1 << b
        g.state_bits.append(bits)
        r = 0 if self.rank is None else self.rank(s)
        while len(self.queues) <= r:
            self.queues.append(deque())
        self.queues[r].append((s, k))
        self.queued += 1
        return k

    def _target(self, t: S, parent: int) -> tuple[int, int]:
        """The graph index of successor t (added if new) and the renaming that made it."""
        rep, perm = self._canon(t)
        return self._add(rep, parent), perm

    def _canon(self, t: S) -> tuple[S, int]:
        """The state the graph keeps for successor t, and the renaming that made it (none
        here; liveness_symmetry.SymmetricExplorer keeps one state per orbit)."""
        return t, 0

    def cycles(self) -> _Cycles:
        """Steps 2 and 3 on the graph explored so far (views of its arrays: drop them before
        the graph grows again)."""
        return _Cycles(self.g)

    def judging_need(self) -> int:
        """The bytes judging the graph so far would take beyond the graph (`judging_bytes`)."""
        g = self.g
        return judging_bytes(g.size, len(g.targets), len(g.cut_pairs))

    def lasso_need(self, cycles: _Cycles, comp: IntArray) -> int:
        """The bytes building a lasso through component `comp` takes (its cycle's search holds
        the component's edges and enabled instances in Python objects)."""
        inner = int(np.count_nonzero(cycles.internal(comp)))
        masks = len(cycles.src) + 2 * cycles.size  # the component's and its edges' masks
        return JUDGE_FIXED + LASSO_PER_EDGE * inner + LASSO_PER_STATE * len(comp) + masks

    def growth_need(self) -> int:
        """The bytes the graph's next growth may take at once: its fingerprint index (a dict)
        allocates a table about twice its size when it fills up."""
        return 2 * sys.getsizeof(self.g.fps)

    def has_room(self, memory: MemoryBound | None, need: int | None = None) -> bool:
        """Whether `need` more bytes fit in `memory` (None: whether the graph may grow: its
        next growth, and judging it, would fit). False marks the explorer `out_of_memory`."""
        if need is None and memory is not None:
            need = max(self.judging_need(), self.growth_need())
        if memory is None or memory.fits(need or 0):
            return True
        self.out_of_memory = True
        return False

    def release(self) -> None:
        """Frees what only the exploration needs (the states not expanded yet, the fingerprint
        index), keeping the counts and what the judging and the lassos read; for a final
        judging: the explorer cannot run again."""
        self.queues = []
        self.g.fps = {}

    def lasso(
        self,
        cycles: _Cycles,
        prop: LiveProperty[S, A],
        q: Query[S, A],
        entry: int,
        edges: list[int],
    ) -> Lasso[S, A]:
        """The lasso through state `entry` of `cycles`' graph and its cycle `edges`."""
        return _rebuild(self.model, self.key, self.g, cycles, prop, q, entry, edges)

    def _pop(self) -> tuple[S, int]:
        self.queued -= 1
        q = next(q for q in self.queues if q)
        return q.pop() if self.depth_first else q.popleft()

    def run(
        self,
        limit: int,
        progress: Callable[[int, int, float], None] | None = None,
        start: float | None = None,
        deadline: float = 0.0,
        stop: Callable[[], bool] | None = None,
        memory: MemoryBound | None = None,
    ) -> None:
        """Expand up to `limit` more states (all of them when limit < 0), stopping at the
        `deadline` (a time.perf_counter() value; 0: none), once `stop()` says so (checked
        about once a second) or once judging the graph would not fit in `memory` (checked
        every 256 states)."""
        g, model = self.g, self.model
        start = time.perf_counter() if start is None else start
        last = time.perf_counter()
        n = 0
        while self.queued and limit != 0:
            if not n & 255 and not self.has_room(memory):
                return
            n += 1
            limit -= 1
            s, k = self._pop()
            for a, t in model.successors(s):
                if t is s:
                    continue
                fair = model.fairness(a)
                inst = -1 if fair is None else g.instance(*fair)
                if not model.in_constraint(t):
                    if inst >= 0:
                        g.cut_pairs.append((k, inst))
                    continue
                bits = 0
                for b, pred in enumerate(self.edge_preds):
                    if pred(s, a, t):
                        bits |= 1 << b
                j, perm = self._target(t, k)
                g.sources.append(k)
                g.targets.append(j)
                g.instances.append(inst)
                g.edge_bits.append(bits)
                g.perms.append(perm)
            g.expanded[k] = 1
            now = time.perf_counter()
            if now - last >= 1.0:
                last = now
                if progress is not None:
                    progress(g.size, self.queued, now - start)
                if (deadline and now > deadline) or (stop is not None and stop()):
                    return


def explore(
    model: LivenessModel[S, A],
    key: Callable[[S], Hashable],
    props: Sequence[LiveProperty[S, A]],
    progress: Callable[[int, int, float], None] | None = None,
) -> Graph:
    """Step 1: the whole reachable graph with the predicates' bits."""
    ex = Explorer(model, key, props)
    ex.run(-1, progress)
    return ex.g


@dataclass
class _Bits:
    """Where a query's predicates sit in the state and edge bit vectors."""

    stay: int | None
    visit: list[int]
    take: list[int]


def _layout(props: Sequence[LiveProperty[S, A]]) -> list[list[_Bits]]:
    out: list[list[_Bits]] = []
    sb = eb = 0
    for prop in props:
        per: list[_Bits] = []
        for q in prop.queries:
            stay = None
            if q.stay is not None:
                stay, sb = sb, sb + 1
            visit = list(range(sb, sb + len(q.visit)))
            sb += len(q.visit)
            take = list(range(eb, eb + len(q.take)))
            eb += len(q.take)
            per.append(_Bits(stay, visit, take))
        out.append(per)
    return out


def unique_pairs(pairs: IntArray, width: int) -> IntArray:
    """The distinct rows of (state, instance) pairs, sorted; instances below `width` (one
    integer key per pair: far faster than np.unique over rows)."""
    if not len(pairs):
        return pairs.reshape(0, 2)
    k = max(1, width)
    keys = sorted_unique(pairs[:, 0] * k + pairs[:, 1])
    return np.stack([keys // k, keys % k], axis=1)


def sorted_unique(a: IntArray) -> IntArray:
    """np.unique(a) for integers, by one sort: numpy's np.unique hashes integer arrays, which
    took 60% of the fair-cycle search's time on graphs of millions of edges."""
    return dedup_sorted(np.sort(a))


def dedup_sorted(b: IntArray) -> IntArray:
    """The distinct values of the sorted array b."""
    if not len(b):
        return b.copy()
    keep = np.empty(len(b), dtype=bool)
    keep[0] = True
    np.not_equal(b[1:], b[:-1], out=keep[1:])
    return b[keep]


def member_of(a: IntArray, sorted_set: IntArray) -> NDArray[np.bool_]:
    """a's elements that are in the sorted distinct array `sorted_set` (np.isin sorts both
    together: several copies of the larger)."""
    if not len(sorted_set):
        return np.zeros(len(a), dtype=bool)
    at = np.searchsorted(sorted_set, a)
    np.minimum(at, len(sorted_set) - 1, out=at)
    found: NDArray[np.bool_] = sorted_set[at] == a
    return found


class _Cycles:
    """Step 2 and 3 for one graph: fair components meeting a query's predicates. The graph may
    be partial (states not expanded yet): such a state has no edge, so it is in no component,
    and it is never taken to stutter (its enabled instances are not known yet)."""

    def __init__(self, g: Graph) -> None:
        # views, not copies (a copy of every edge was a quarter of the judging's memory): the
        # graph cannot grow while they live (array.array refuses to resize an exported buffer)
        self._setup(
            g.size,
            list(g.kinds),
            g.arrays(),
            np.frombuffer(g.state_bits, dtype=np.int64),
            np.frombuffer(g.expanded, dtype=np.uint8).astype(bool),
            np.array(g.cut_pairs, dtype=np.int64).reshape(-1, 2),
        )

    @classmethod
    def of(
        cls,
        size: int,
        kinds: list[Fairness],
        edges: tuple[IntArray, IntArray, IntArray, IntArray],
        sbits: IntArray,
        expanded: NDArray[np.bool_],
        extra: IntArray,
    ) -> _Cycles:
        """From arrays: `edges` (sources, targets, instances, edge bits), the states' bits,
        which are expanded, and `extra` (state, fair instance) pairs enabled by no edge here."""
        self = cls.__new__(cls)
        self._setup(size, kinds, edges, sbits, expanded, extra)
        return self

    def _setup(
        self,
        size: int,
        kinds: list[Fairness],
        edges: tuple[IntArray, IntArray, IntArray, IntArray],
        sbits: IntArray,
        expanded: NDArray[np.bool_],
        extra: IntArray,
    ) -> None:
        self.size, self.kinds = size, kinds
        self.src, self.dst, self.inst, self.ebits = edges
        self.sbits, self.expanded = sbits, expanded
        self.strong = np.array([k == Fairness.STRONG for k in kinds], dtype=bool)
        fair = self.inst >= 0
        k = max(1, len(kinds))
        keys = self.src[fair] * k
        keys += self.inst[fair]
        del fair
        if len(extra):
            keys = np.concatenate([keys, extra[:, 0] * k + extra[:, 1]])
        keys.sort()
        keys = dedup_sorted(keys)
        # enabled: the distinct (state, fair instance) pairs
        self.enabled = np.empty((len(keys), 2), dtype=np.int64)
        np.floor_divide(keys, k, out=self.enabled[:, 0])
        np.remainder(keys, k, out=self.enabled[:, 1])
        self.any_enabled = np.zeros(size, dtype=bool)
        self.any_enabled[self.enabled[:, 0]] = True

    def find(self, bits: _Bits) -> tuple[IntArray, bool] | None:
        """The states of a violating fair component and whether it is a stutter (one state
        with no fair instance enabled); None if there is none."""
        n = self.size
        allowed = np.ones(n, dtype=bool)
        if bits.stay is not None:
            allowed &= (self.sbits >> bits.stay & 1).astype(bool)
        # Step 3: stuttering forever in one state.
        stutter = allowed & ~self.any_enabled & self.expanded
        for b in bits.visit:
            stutter &= (self.sbits >> b & 1).astype(bool)
        if not bits.take and stutter.any():
            return np.array([int(np.argmax(stutter))], dtype=np.int64), True
        nodes = np.flatnonzero(allowed)
        while len(nodes):
            again: list[IntArray] = []
            for comp, verdict in self._judge(nodes, bits):
                if verdict is True:
                    return comp, False
                if verdict is not False:
                    again.append(verdict)
            # The states left of every refined component, judged together in one pass: each
            # lies inside one component of this pass, and no cycle joins two components, so
            # the components of their union are those of each part (one pass over the graph's
            # edges instead of one per component: quadratic on graphs with many of them).
            nodes = np.concatenate(again) if again else nodes[:0]
        return None

    def _judge(self, nodes: IntArray, bits: _Bits) -> list[tuple[IntArray, bool | IntArray]]:
        """`_check` for every component of the subgraph on `nodes` at once, in array
        operations over the subgraph (a component at a time would cost the whole graph's size
        per component: quadratic when there are many)."""
        if len(nodes) == 0:
            return []
        inside = np.zeros(self.size, dtype=bool)
        inside[nodes] = True
        keep = np.flatnonzero(inside[self.src] & inside[self.dst])
        # 32-bit indexes where they fit: the sparse matrix takes them as they are
        index: NDArray[np.signedinteger[Any]] = np.full(
            self.size, -1, dtype=np.int32 if len(nodes) < 1 << 31 else np.int64
        )
        index[nodes] = np.arange(len(nodes))
        s, d = _gather(index, self.src, keep), _gather(index, self.dst, keep)
        del keep  # found again below: not held beside the components' search
        m = csr_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(len(nodes), len(nodes)))
        count, labels32 = connected_components(m, directed=True, connection="strong")
        del m
        same = labels32[s] == labels32[d]
        keep = np.flatnonzero(inside[self.src] & inside[self.dst])
        labels = labels32.astype(np.int64)  # component * instance keys pass 2**31 on big graphs
        edges = keep[same]  # the internal edges of each component (global edge indexes)
        ecomp = labels[s[same]]
        del s, d, keep, same
        has_edge = np.zeros(count, dtype=bool)
        has_edge[ecomp] = True
        k = max(1, len(self.kinds))
        fair = self.inst[edges] >= 0
        taken = sorted_unique(ecomp[fair] * k + self.inst[edges][fair])
        del fair
        # what is enabled in the components with an edge (the others are no cycle; on a
        # partial graph they hold most states)
        inside[nodes[~has_edge[labels]]] = False
        on = inside[self.enabled[:, 0]]
        del inside
        en_state = self.enabled[on, 0]
        en_key = labels[index[en_state]] * k
        en_key += self.enabled[on, 1]
        del on
        keys, counts = np.unique(en_key, return_counts=True)
        comp_of, inst_of = keys // k, keys % k
        sizes = np.bincount(labels, minlength=count)
        untaken = ~member_of(keys, taken)
        weak_bad = untaken & ~self.strong[inst_of] & (counts == sizes[comp_of])
        dead = np.zeros(count, dtype=bool)
        dead[comp_of[weak_bad]] = True  # a weakly fair instance enabled throughout, untaken
        strong_bad = untaken & self.strong[inst_of]
        refine = np.zeros(count, dtype=bool)
        refine[comp_of[strong_bad]] = True
        drop = np.zeros(self.size, dtype=bool)
        drop[en_state[member_of(en_key, keys[strong_bad])]] = True
        meets = np.ones(count, dtype=bool)
        for b in bits.visit:
            hit = np.zeros(count, dtype=bool)
            hit[labels[(self.sbits[nodes] >> b & 1).astype(bool)]] = True
            meets &= hit
        for b in bits.take:
            hit = np.zeros(count, dtype=bool)
            hit[ecomp[(self.ebits[edges] >> b & 1).astype(bool)]] = True
            meets &= hit
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(count + 1))
        out: list[tuple[IntArray, bool | IntArray]] = []
        for c in np.flatnonzero(has_edge & ~dead).tolist():
            comp = nodes[order[bounds[c] : bounds[c + 1]]]
            if refine[c]:
                rest = comp[~drop[comp]]
                if len(rest):
                    out.append((comp, rest))
            elif meets[c]:
                out.append((comp, True))
        return out

    def _components(self, nodes: IntArray) -> list[IntArray]:
        """The strongly connected components of the subgraph on `nodes` that have an edge (with
        `_check`, the one-component-at-a-time reference `_judge` is tested against)."""
        if len(nodes) == 0:
            return []
        index = np.full(self.size, -1, dtype=np.int64)
        index[nodes] = np.arange(len(nodes))
        keep = (index[self.src] >= 0) & (index[self.dst] >= 0)
        s, d = index[self.src[keep]], index[self.dst[keep]]
        m = csr_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(len(nodes), len(nodes)))
        count, labels = connected_components(m, directed=True, connection="strong")
        has_edge = np.zeros(count, dtype=bool)
        same = labels[s] == labels[d]
        has_edge[labels[s[same]]] = True
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(count + 1))
        return [nodes[order[bounds[c] : bounds[c + 1]]] for c in range(count) if has_edge[c]]

    def internal(self, comp: IntArray) -> NDArray[np.bool_]:
        member = np.zeros(self.size, dtype=bool)
        member[comp] = True
        return member[self.src] & member[self.dst]

    def _check(self, comp: IntArray, bits: _Bits) -> bool | IntArray:
        """True: a fair violating component; False: none in it; an array: the states left once
        a strongly fair instance's enabling states are dropped (search them again)."""
        member = np.zeros(self.size, dtype=bool)
        member[comp] = True
        inside = member[self.src] & member[self.dst]
        taken = np.zeros(len(self.kinds), dtype=bool)
        taken[self.inst[inside & (self.inst >= 0)]] = True
        rows = self.enabled[member[self.enabled[:, 0]]]
        count = np.bincount(rows[:, 1], minlength=len(self.kinds))
        untaken = (count > 0) & ~taken
        if (untaken & ~self.strong & (count == len(comp))).any():
            return False  # a weakly fair instance enabled throughout and never taken
        bad_strong = untaken & self.strong
        if bad_strong.any():
            drop = np.unique(rows[bad_strong[rows[:, 1]], 0])
            rest = np.setdiff1d(comp, drop)
            return rest if len(rest) else False
        visited = all((self.sbits[comp] >> b & 1).any() for b in bits.visit)
        return visited and all((self.ebits[inside] >> b & 1).any() for b in bits.take)

    def cycle(self, comp: IntArray, bits: _Bits, entry: int) -> list[int]:
        """Edge indexes of a cycle from `entry` through `comp` that is fair and meets the
        query. First the shortest tour that meets the query's predicates; while it is unfair,
        the instances that make it so become obligations (a weakly fair one: take it or visit
        a state where it is disabled; a strongly fair one: take it) and the tour is rebuilt.
        Each round adds an obligation the component can meet (it passed `_check`), so this
        ends; the tour that meets every instance of the component is the last resort."""
        inside = np.flatnonzero(self.internal(comp))
        by_src: dict[int, list[int]] = {}
        for e in inside.tolist():
            by_src.setdefault(int(self.src[e]), []).append(e)
        in_comp = np.zeros(self.size, dtype=bool)
        in_comp[comp] = True
        enabled_at: dict[int, set[int]] = {}
        for st, ins in self.enabled[in_comp[self.enabled[:, 0]]].tolist():
            enabled_at.setdefault(st, set()).add(ins)
        del in_comp
        either: set[int] = set()
        take: set[int] = set()
        for _ in range(len(self.kinds) + 1):
            path = self._tour(entry, by_src, enabled_at, bits, either, take)
            weak, strong = self._unfair(path, enabled_at)
            if not weak and not strong:
                return path
            either |= weak
            take |= strong
        taken = {int(self.inst[e]) for e in inside.tolist() if self.inst[e] >= 0}
        never = set().union(*enabled_at.values()) - taken  # weakly fair: visit where disabled
        path = self._tour(entry, by_src, enabled_at, bits, never, taken)
        assert self._unfair(path, enabled_at) == (set(), set()), "an unfair cycle"
        return path

    def _unfair(self, path: list[int], enabled_at: dict[int, set[int]]) -> tuple[set[int], ...]:
        """The instances that make the cycle `path` unfair: weakly fair ones enabled in each of
        its states and never taken, strongly fair ones enabled in one and never taken."""
        states = [int(self.dst[e]) for e in path]
        taken = {int(self.inst[e]) for e in path}
        on = [enabled_at.get(st, set()) for st in states]
        somewhere = set().union(*on) - taken
        everywhere = set.intersection(*on) - taken if on else set()
        weak = {x for x in everywhere if not self.strong[x]}
        strong = {x for x in somewhere if self.strong[x]}
        return weak, strong

    def _tour(
        self,
        entry: int,
        by_src: dict[int, list[int]],
        enabled_at: dict[int, set[int]],
        bits: _Bits,
        either: set[int],
        take: set[int],
    ) -> list[int]:
        """A cycle from entry that visits/takes each of the query's predicates, takes each
        instance of `take`, and takes or visits a state disabling each instance of `either`."""
        wanted_take = set(take) | set(either)
        wanted_off = set(either)
        visits = list(bits.visit)
        takes = list(bits.take)

        def done_state(st: int) -> None:
            nonlocal visits
            here = enabled_at.get(st, set())
            off = [x for x in wanted_off if x not in here]
            wanted_off.difference_update(off)
            wanted_take.difference_update(x for x in off if x not in take)
            visits = [b for b in visits if not (int(self.sbits[st]) >> b & 1)]

        def done_edge(e: int) -> None:
            nonlocal takes
            x = int(self.inst[e])
            wanted_take.discard(x)
            wanted_off.discard(x)
            takes = [b for b in takes if not (int(self.ebits[e]) >> b & 1)]

        def goal_edge(e: int) -> bool:
            return int(self.inst[e]) in wanted_take or any(
                int(self.ebits[e]) >> b & 1 for b in takes
            )

        def goal_state(st: int) -> bool:
            if any(int(self.sbits[st]) >> b & 1 for b in visits):
                return True
            here = enabled_at.get(st, set())
            return any(x not in here for x in wanted_off)

        path: list[int] = []
        here = entry
        done_state(here)
        while wanted_take or wanted_off or visits or takes:
            step = self._bfs(here, by_src, goal_state, goal_edge)
            if not step:
                raise AssertionError("a fair component without a path to its obligations")
            for e in step:
                done_edge(e)
                done_state(int(self.dst[e]))
            path += step
            here = int(self.dst[step[-1]])
        if here != entry or not path:
            back = self._bfs(here, by_src, lambda st: st == entry, lambda e: False)
            path += back
        return path

    def _bfs(
        self,
        start: int,
        by_src: dict[int, list[int]],
        goal_state: Callable[[int], bool],
        goal_edge: Callable[[int], bool],
    ) -> list[int]:
        """The shortest path (at least one edge) from start that takes a goal edge or ends in a
        goal state."""
        seen = {start}
        prev: dict[int, int] = {}
        queue = deque([start])
        while queue:
            st = queue.popleft()
            for e in by_src.get(st, []):
                t = int(self.dst[e])
                if goal_edge(e) or goal_state(t):
                    path = [e]
                    while st != start:
                        back = prev[st]
                        path.append(back)
                        st = int(self.src[back])
                    return path[::-1]
                if t not in seen:
                    seen.add(t)
                    prev[t] = e
                    queue.append(t)
        return []


def check(
    model: LivenessModel[S, A],
    key: Callable[[S], Hashable],
    props: Sequence[LiveProperty[S, A]],
    progress: Callable[[int, int, float], None] | None = None,
    rank: Callable[[S], int] | None = None,
    on_the_fly: int = 0,
    depth_first: bool = False,
    budget: int = 0,
    seconds: float = 0.0,
    explorer: Explorer[S, A] | None = None,
    stop: Callable[[], bool] | None = None,
    memory: MemoryBound | None = None,
) -> LivenessResult[S, A]:
    """Check every property of `props` on `model`; a lasso for each one violated.

    With `on_the_fly` > 0 the fair-cycle search also runs on the partial graph: after the
    first `on_the_fly` states are expanded, and again each time the expanded states double.
    A fair violating cycle found there is one of the whole graph (every state on it is
    expanded, so what is enabled in it is known exactly, and fairness is a property of the
    cycle alone), and the property is decided; the search stops once every property is. A
    property holds only on the whole graph. `rank` orders the expansion (lower first), depth
    first within a rank if `depth_first` (long paths close cycles early). With a `budget` the
    search stops after that many expanded states (`complete` False: a property without a
    lasso is then undecided), and likewise after `seconds` (0: no limit) or once `stop()` says
    so (a signal: the graph so far is judged and reported). With `memory` the exploration
    stops while judging its graph still fits in it (`judging_bytes` beyond what the process
    holds), and a judging or a lasso that would not fit is not run: what it would have
    decided stays undecided (`out_of_memory`). An `explorer` built beforehand
    (liveness_symmetry's) replaces the plain one."""
    t0 = time.perf_counter()
    deadline = t0 + seconds if seconds else 0.0
    ex = explorer or Explorer(model, key, props, rank, depth_first)
    layout = _layout(props)
    lassos: dict[str, Lasso[S, A] | None] = {prop.id: None for prop in props}
    pending = list(zip(props, layout, strict=True))
    cycle_seconds = 0.0
    batch = on_the_fly if on_the_fly > 0 else (budget or -1)
    while True:
        ex.run(batch, progress, t0, deadline, stop, memory)
        t1 = time.perf_counter()
        expanded = ex.g.size - ex.queued
        late = (deadline and time.perf_counter() > deadline) or (stop is not None and stop())
        final = ex.done or (budget and expanded >= budget) or late or ex.out_of_memory
        if final:
            ex.release()
        # After a stop for memory the judging was found to fit before the last few states
        # were expanded (run() checks every 256); otherwise it is checked now.
        if ex.out_of_memory or ex.has_room(memory):
            pending = _judge(ex, pending, lassos, memory)
            _growable(ex.g)
        cycle_seconds += time.perf_counter() - t1
        if final or not pending or ex.out_of_memory:
            break
        batch = expanded  # the expanded states double before the next search
        if budget:
            batch = min(batch, budget - expanded)
    g = ex.g
    names = {v: k for k, v in g.instance_ids.items()}
    return LivenessResult(
        distinct=g.size,
        edges=len(g.targets),
        fair_instances=len(g.kinds),
        explore_seconds=time.perf_counter() - t0 - cycle_seconds,
        cycle_seconds=cycle_seconds,
        lassos=lassos,
        cuts=[Cut(names[i], n) for i, n in _cut_counts(g.cut_pairs, len(g.kinds))],
        complete=ex.done,
        expanded=g.size - ex.queued,
        out_of_memory=ex.out_of_memory,
    )


def _judge(
    ex: Explorer[S, A],
    pending: list[tuple[LiveProperty[S, A], list[_Bits]]],
    lassos: dict[str, Lasso[S, A] | None],
    memory: MemoryBound | None,
) -> list[tuple[LiveProperty[S, A], list[_Bits]]]:
    """Steps 2 to 4 on the graph so far for the `pending` properties: their lassos into
    `lassos`, the properties still without one returned. The judging's arrays are views of
    the graph's: they are gone when this returns, before the graph grows again."""
    cycles = ex.cycles()
    still: list[tuple[LiveProperty[S, A], list[_Bits]]] = []
    for prop, per in pending:
        lasso = _violation(ex, cycles, prop, per, memory)
        if lasso is None:
            still.append((prop, per))
        lassos[prop.id] = lasso
    return still


def _growable(g: Graph) -> None:
    """Makes sure no view of the graph's arrays outlives a judging (array.array cannot grow
    while one does): a view caught in a reference cycle goes with a garbage collection."""
    for a in (g.sources, g.targets, g.instances, g.edge_bits, g.state_bits):
        try:
            a.append(0)
        except BufferError:
            gc.collect()
            a.append(0)
        a.pop()


def _cut_counts(pairs: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    """(fair instance, how many states it was cut in) for each instance the constraint cut."""
    rows = unique_pairs(np.array(pairs, dtype=np.int64).reshape(-1, 2), width)
    counts = np.bincount(rows[:, 1], minlength=width)
    return [(i, int(counts[i])) for i in np.flatnonzero(counts).tolist()]


def unfair_instances(model: LivenessModel[S, A], lasso: Lasso[S, A]) -> list[Hashable]:
    """The fair instances that make `lasso`'s cycle unfair in `model`, judged afresh from the
    model's own successors at each state of the cycle (every step counted, whatever a
    search's constraint or sub-model left out); empty: the cycle is fair. A weakly fair
    instance is unfair there if enabled in every state of the cycle and never taken, a
    strongly fair one if enabled in some state and never taken; an empty cycle (stuttering
    for ever) if any fair instance is enabled in its state."""
    states = [s for _, s in lasso.cycle] or [lasso.stem[-1][1]]
    taken: set[Hashable] = set()
    for a, _ in lasso.cycle:
        fair = model.fairness(a)
        if fair is not None:
            taken.add(fair[0])
    kinds: dict[Hashable, Fairness] = {}
    on: list[set[Hashable]] = []
    for s in states:
        here: set[Hashable] = set()
        for a, t in model.successors(s):
            fair = None if t is s else model.fairness(a)
            if fair is not None:
                here.add(fair[0])
                kinds[fair[0]] = fair[1]
        on.append(here)
    somewhere = set().union(*on) - taken
    everywhere = set.intersection(*on) - taken
    bad = [x for x in everywhere if kinds[x] == Fairness.WEAK]
    bad += [x for x in somewhere if kinds[x] == Fairness.STRONG]
    return sorted(bad, key=repr)


def _gather(
    table: NDArray[np.signedinteger[Any]], a: IntArray, at: IntArray, chunk: int = 1 << 20
) -> NDArray[np.signedinteger[Any]]:
    """table[a[at]], a chunk at a time (no temporary as long as `at`)."""
    out = np.empty(len(at), dtype=table.dtype)
    for i in range(0, len(at), chunk):
        out[i : i + chunk] = table[a[at[i : i + chunk]]]
    return out


def _violation(
    ex: Explorer[S, A],
    cycles: _Cycles,
    prop: LiveProperty[S, A],
    per: list[_Bits],
    memory: MemoryBound | None = None,
) -> Lasso[S, A] | None:
    """The lasso of the first of prop's queries with a fair violating component, if any;
    None as well when building it would not fit in `memory` (the explorer then says so)."""
    for q, bits in zip(prop.queries, per, strict=True):
        found = cycles.find(bits)
        if found is None:
            continue
        comp, stutter = found
        if not ex.has_room(memory, ex.lasso_need(cycles, comp)):
            return None
        entry = int(comp.min())  # the first discovered: the shortest stem
        edges = [] if stutter else cycles.cycle(comp, bits, entry)
        return ex.lasso(cycles, prop, q, entry, edges)
    return None


def _rebuild(
    model: LivenessModel[S, A],
    key: Callable[[S], Hashable],
    g: Graph,
    cycles: _Cycles,
    prop: LiveProperty[S, A],
    q: Query[S, A],
    entry: int,
    edges: list[int],
) -> Lasso[S, A]:
    """Replay the model along the stored fingerprints: the stem, then the cycle's edges."""
    chain: list[int] = []
    k = entry
    while k >= 0:
        chain.append(k)
        k = g.parents[k]
    chain.reverse()
    first = next(s for s in model.init_states() if hash(key(s)) == g.fp_list[chain[0]])
    stem: list[tuple[A | None, S]] = [(None, first)]
    for k in chain[1:]:
        a, t = _step(model, key, stem[-1][1], g.fp_list[k])
        stem.append((a, t))
    cycle: list[tuple[A, S]] = []
    here = stem[-1][1]
    for e in edges:
        step = _step(model, key, here, g.fp_list[int(cycles.dst[e])], int(cycles.inst[e]), g)
        cycle.append(step)
        here = step[1]
    return Lasso(prop.id, prop.description, q.name, stem, cycle)


def _step(
    model: LivenessModel[S, A],
    key: Callable[[S], Hashable],
    s: S,
    fp: int,
    inst: int = -2,
    g: Graph | None = None,
) -> tuple[A, S]:
    """The successor of s with fingerprint fp (by the action of fair instance `inst`, when
    given, so that the replayed cycle takes the instances the search counted on)."""
    fallback: tuple[A, S] | None = None
    for a, t in model.successors(s):
        if t is s or hash(key(t)) != fp:
            continue
        if inst == -2 or g is None:
            return a, t
        fair = model.fairness(a)
        here = -1 if fair is None else g.instance_ids.get(fair[0], -1)
        if here == inst:
            return a, t
        fallback = fallback or (a, t)
    if fallback is None:
        raise AssertionError("a stored edge the model no longer has (nondeterministic spec?)")
    return fallback


def describe_instance(key: Hashable) -> str:
    if isinstance(key, tuple):
        return f"{key[0]}({', '.join(str(x) for x in key[1:])})"
    return str(key)
