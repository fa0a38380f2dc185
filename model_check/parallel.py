"""Level-synchronous parallel BFS: worker processes expand states, the parent deduplicates.

Each BFS level is cut into chunks; a worker computes every successor of its chunk, counts them,
checks invariants, fingerprints the in-constraint ones and removes duplicates within the chunk.
The parent keeps the one fingerprint set, so counts are exactly those of the sequential search;
levels are processed in order and chunks in frontier order, so the first violation reported is
the one the sequential search finds and its trace is as short.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from model_check.model import Model
from model_check.search import (
    ProgressFn,
    Search,
    SearchResult,
    _identity,
    _ViolationFoundError,
    first_violated,
)

S = TypeVar("S")
A = TypeVar("A")

_model: Any = None
_symmetry = True

# One chunk's outcome: generated count, new (fingerprint, state, parent) triples in order, and
# the first violation (position in the triples list, invariant id, state, parent) if any.
ChunkOut = tuple[int, list[tuple[int, Any, int]], tuple[int, str, Any, int] | None]


def _init_worker(model: Any, symmetry: bool) -> None:
    global _model, _symmetry
    _model, _symmetry = model, symmetry


def _expand_chunk(chunk: list[tuple[Any, int]]) -> ChunkOut:
    model = _model
    key = model.canonical if _symmetry else _identity
    invariants = model.invariants
    local: set[int] = set()
    out: list[tuple[int, Any, int]] = []
    generated = 0
    for s, idx in chunk:
        for _action, t in model.successors(s):
            generated += 1
            if t is s:
                continue
            if not model.in_constraint(t):
                bad = first_violated(invariants, t)
                if bad is not None:
                    return generated, out, (len(out), bad.id, t, idx)
                continue
            canon: Hashable = key(t)
            fp = hash(canon)
            if fp in local:
                continue
            local.add(fp)
            out.append((fp, t, idx))
    return generated, out, None


class ParallelSearch(Search[S, A], Generic[S, A]):
    def __init__(self, model: Model[S, A], symmetry: bool, workers: int) -> None:
        super().__init__(model, symmetry)
        self.workers = workers
        self.pool: Any = None

    def run(
        self, progress: ProgressFn | None = None, every: float = 0.5, max_depth: int = 0
    ) -> SearchResult[S, A]:
        ctx = mp.get_context("fork")
        with ctx.Pool(self.workers, _init_worker, (self.model, self.key is not _identity)) as pool:
            self.pool = pool
            result = super().run(progress, every, max_depth)
        result.workers = self.workers
        return result

    def expand_level(self, frontier: list[tuple[S, int]]) -> list[tuple[S, int]]:
        if len(frontier) < 64:
            return self.expand(frontier)
        size = max(32, min(2000, len(frontier) // (self.workers * 8)))
        chunks = [frontier[k : k + size] for k in range(0, len(frontier), size)]
        nxt: list[tuple[S, int]] = []
        invariants = self.model.invariants
        for generated, found, bad in self.pool.imap(_expand_chunk, chunks):
            upto = len(found) if bad is None else bad[0]
            for fp, t, idx in found[:upto]:
                if fp in self.seen:
                    continue
                self.seen.add(fp)
                self.fps.append(fp)
                self.parents.append(idx)
                violated = first_violated(invariants, t)
                if violated is not None:
                    self.generated += generated
                    raise _ViolationFoundError(violated, t, idx)
                if self.pending_sometimes:
                    self.note_sometimes(t)
                nxt.append((t, len(self.fps) - 1))
            if bad is not None:
                self.generated += generated
                prop = next(p for p in invariants if p.id == bad[1])
                raise _ViolationFoundError(prop, bad[2], bad[3])
            self.generated += generated
        return nxt
