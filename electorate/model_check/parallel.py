"""Level-synchronous parallel BFS over forked workers.

At each BFS level the parent forks its workers; they inherit the frontier and the fingerprint
set copy-on-write, so nothing is sent to them. Each worker expands a slice of the frontier,
counts every successor, checks invariants, and returns only the in-constraint successors whose
fingerprints are new to the inherited set (and to its own slice). The parent merges the slices
in frontier order into the one fingerprint set, so counts are exactly the sequential search's,
the first violation reported is the one it finds, and the trace is as short.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Any, Generic, TypeVar

from electorate.model_check.model import Model
from electorate.model_check.search import (
    ProgressFn,
    Search,
    SearchResult,
    _identity,
    _ViolationFoundError,
    first_violated,
)

S = TypeVar("S")
A = TypeVar("A")

# Inherited by forked workers (set just before each level's fork).
_model: Any = None
_key: Any = None
_frontier: list[tuple[Any, int]] = []
_seen: set[int] = set()

# One slice's outcome: generated count, new (fingerprint, state, parent) triples in order, and
# the first violation (position in the triples list, invariant id, state, parent) if any.
SliceOut = tuple[int, list[tuple[int, Any, int]], tuple[int, str, Any, int] | None]


def _expand_slice(bounds: tuple[int, int]) -> SliceOut:
    model, key, seen = _model, _key, _seen
    invariants = model.invariants
    local: set[int] = set()
    out: list[tuple[int, Any, int]] = []
    generated = 0
    for s, idx in _frontier[bounds[0] : bounds[1]]:
        for _action, t in model.successors(s):
            generated += 1
            if t is s:
                continue
            if not model.in_constraint(t):
                bad = first_violated(invariants, t)
                if bad is not None:
                    return generated, out, (len(out), bad.id, t, idx)
                continue
            fp = hash(key(t))
            if fp in seen or fp in local:
                continue
            local.add(fp)
            bad = first_violated(invariants, t)
            if bad is not None:
                return generated, out, (len(out), bad.id, t, idx)
            out.append((fp, t, idx))
    return generated, out, None


class ParallelSearch(Search[S, A], Generic[S, A]):
    def __init__(self, model: Model[S, A], symmetry: bool, workers: int) -> None:
        super().__init__(model, symmetry)
        self.workers = workers

    def run(
        self, progress: ProgressFn | None = None, every: float = 0.5, max_depth: int = 0
    ) -> SearchResult[S, A]:
        result = super().run(progress, every, max_depth)
        result.workers = self.workers
        return result

    def expand_level(self, frontier: list[tuple[S, int]]) -> list[tuple[S, int]]:
        if len(frontier) < 256:
            return self.expand(frontier)
        global _model, _key, _frontier, _seen
        _model, _key, _frontier, _seen = self.model, self.key, frontier, self.seen
        step = -(-len(frontier) // (self.workers * 4))
        slices = [(k, min(k + step, len(frontier))) for k in range(0, len(frontier), step)]
        try:
            with mp.get_context("fork").Pool(self.workers) as pool:
                outcomes = pool.map(_expand_slice, slices, chunksize=1)
        finally:
            _frontier, _seen = [], set()
        return self.merge(outcomes)

    def merge(self, outcomes: list[SliceOut]) -> list[tuple[S, int]]:
        """Fold the slices into the fingerprint set in frontier order."""
        nxt: list[tuple[S, int]] = []
        for generated, found, bad in outcomes:
            self.generated += generated
            for fp, t, idx in found:
                if fp in self.seen:
                    continue
                self.seen.add(fp)
                self.fps.append(fp)
                self.parents.append(idx)
                if self.pending_sometimes:
                    self.note_sometimes(t)
                nxt.append((t, len(self.fps) - 1))
            if bad is not None:
                prop = next(p for p in self.model.invariants if p.id == bad[1])
                raise _ViolationFoundError(prop, bad[2], bad[3])
        return nxt


__all__ = ["ParallelSearch", "_identity"]
