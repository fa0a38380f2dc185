"""Breadth-first search over fingerprints, counting exactly as TLC does.

- distinct states: the fingerprints of every reachable state inside the constraint;
- states generated: initial states plus every successor of every expanded state, stuttering,
  already-seen and out-of-constraint successors included;
- depth: the number of BFS levels, the initial states being level 1;
- invariants are evaluated on every new state and on every out-of-constraint successor.

Only 64-bit fingerprints (Python's hash of the canonical state) are kept for visited states, with
a parent index per state, so a counterexample is rebuilt by replaying the spec from Init.
A spec must keep its values apart under hash(): CPython hashes -1 and -2 to the same value, so
two states differing only there would be one fingerprint (spec/features/relative_time.py keeps
times positive for this reason; tests/model_check/test_mc_search.py pins the hazard).
"""

from __future__ import annotations

import sys
import time
from array import array
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from electorate.model_check.model import Model, Property

S = TypeVar("S")
A = TypeVar("A")


@dataclass
class Progress:
    distinct: int
    generated: int
    queue: int
    depth: int
    seconds: float


@dataclass
class Violation(Generic[S, A]):
    """A violated invariant and the shortest behaviour reaching it: (action, state) steps."""

    invariant: str
    description: str
    trace: list[tuple[A | None, S]]


@dataclass
class SearchResult(Generic[S, A]):
    distinct: int
    generated: int
    depth: int
    seconds: float
    violation: Violation[S, A] | None
    sometimes: dict[str, bool] = field(default_factory=dict)
    bytes_per_state: float = 0.0
    workers: int = 1
    unexplored: int = 0  # states left queued when a max_depth bound (or a stop) ended it
    interrupted: bool = False  # stopped by a request (Ctrl-C, SIGTERM): partial figures
    peak_rss: int = 0  # bytes: the peak resident memory of the search's processes
    successors: str = "readable"  # the successor function searched: readable, or packed
    successors_note: str = ""  # what it was and why (model_check.packed.choose)


ProgressFn = Callable[[Progress], None]


class _ViolationFoundError(Exception):
    def __init__(self, prop: Property[Any], state: Any, parent: int) -> None:
        self.prop, self.state, self.parent = prop, state, parent


def first_violated(invariants: Sequence[Property[S]], s: S) -> Property[S] | None:
    for inv in invariants:
        if not inv.holds(s):
            return inv
    return None


class Search(Generic[S, A]):
    """One BFS run. The level loop is the hot path; keep it plain."""

    def __init__(self, model: Model[S, A], symmetry: bool = True) -> None:
        self.model = model
        self.key: Callable[[S], Hashable] = model.canonical if symmetry else _identity
        self.seen: set[int] = set()
        self.fps = array("q")  # discovery order -> fingerprint
        self.parents = array("q")  # discovery order -> parent's discovery index (-1: initial)
        self.generated = 0
        self.pending_sometimes = list(model.sometimes)
        self.reached: dict[str, bool] = {p.id: False for p in model.sometimes}

    def add(self, s: S, parent: int) -> int | None:
        """Record s if new; its discovery index, or None when seen already."""
        fp = hash(self.key(s))
        if fp in self.seen:
            return None
        self.seen.add(fp)
        self.fps.append(fp)
        self.parents.append(parent)
        return len(self.fps) - 1

    def note_sometimes(self, s: S) -> None:
        for prop in self.pending_sometimes:
            if prop.holds(s):
                self.reached[prop.id] = True
        self.pending_sometimes = [p for p in self.pending_sometimes if not self.reached[p.id]]

    def expand(self, frontier: list[tuple[S, int]]) -> list[tuple[S, int]]:
        """All new in-constraint successors of one BFS level, checking invariants as TLC does."""
        model, invariants = self.model, self.model.invariants
        in_constraint, add = model.in_constraint, self.add
        nxt: list[tuple[S, int]] = []
        generated = 0
        for s, idx in frontier:
            for _action, t in model.successors(s):
                generated += 1
                if t is s:
                    continue  # stuttering: counted as generated, already seen and checked
                if not in_constraint(t):
                    bad = first_violated(invariants, t)
                    if bad is not None:
                        self.generated += generated
                        raise _ViolationFoundError(bad, t, idx)
                    continue
                k = add(t, idx)
                if k is None:
                    continue
                bad = first_violated(invariants, t)
                if bad is not None:
                    self.generated += generated
                    raise _ViolationFoundError(bad, t, idx)
                if self.pending_sometimes:
                    self.note_sometimes(t)
                nxt.append((t, k))
        self.generated += generated
        return nxt

    def run(
        self, progress: ProgressFn | None = None, every: float = 0.5, max_depth: int = 0
    ) -> SearchResult[S, A]:
        """Search to the end (or to `max_depth` BFS levels when it is positive)."""
        start = time.perf_counter()
        frontier: list[tuple[S, int]] = []
        depth = 0
        try:
            for s in self.model.init_states():
                self.generated += 1
                bad = first_violated(self.model.invariants, s)
                if bad is not None:
                    raise _ViolationFoundError(bad, s, -1)
                if not self.model.in_constraint(s):
                    continue
                k = self.add(s, -1)
                if k is not None:
                    self.note_sometimes(s)
                    frontier.append((s, k))
            depth = 1 if frontier else 0
            last = start
            while frontier and depth != max_depth:
                frontier = self.expand_level(frontier)
                if frontier:
                    depth += 1
                now = time.perf_counter()
                if progress and now - last >= every:
                    last = now
                    progress(
                        Progress(len(self.fps), self.generated, len(frontier), depth, now - start)
                    )
        except _ViolationFoundError as stop:
            trace = self.rebuild_trace(stop.parent, stop.state)
            return self.result(
                start, len(trace), Violation(stop.prop.id, stop.prop.description, trace)
            )
        done = self.result(start, depth, None)
        done.unexplored = len(frontier)
        return done

    def expand_level(self, frontier: list[tuple[S, int]]) -> list[tuple[S, int]]:
        return self.expand(frontier)

    def result(
        self, start: float, depth: int, violation: Violation[S, A] | None
    ) -> SearchResult[S, A]:
        return SearchResult(
            distinct=len(self.fps),
            generated=self.generated,
            depth=depth,
            seconds=time.perf_counter() - start,
            violation=violation,
            sometimes=dict(self.reached),
            bytes_per_state=self.bytes_per_state(),
        )

    def bytes_per_state(self) -> float:
        """Memory held per visited state: the set, its int objects, the two arrays."""
        n = len(self.fps)
        if not n:
            return 0.0
        ints = sum(sys.getsizeof(fp) for fp in self.fps[: min(n, 1000)]) / min(n, 1000)
        total = sys.getsizeof(self.seen) + ints * n
        total += self.fps.buffer_info()[1] * self.fps.itemsize * 2
        return total / n

    def rebuild_trace(self, parent: int, last: S) -> list[tuple[A | None, S]]:
        """Replay the spec along the stored fingerprints from an initial state to `last`."""
        chain: list[int] = []
        k = parent
        while k >= 0:
            chain.append(self.fps[k])
            k = self.parents[k]
        chain.reverse()
        if not chain:
            return [(None, last)]
        inits = [s for s in self.model.init_states() if hash(self.key(s)) == chain[0]]
        trace: list[tuple[A | None, S]] = [(None, inits[0])]
        for fp in chain[1:]:
            here = trace[-1][1]
            step = next((a, t) for a, t in self.model.successors(here) if hash(self.key(t)) == fp)
            trace.append(step)
        here = trace[-1][1]
        last_key = self.key(last)
        trace.append(
            next((a, t) for a, t in self.model.successors(here) if self.key(t) == last_key)
        )
        return trace


def _identity(s: Any) -> Hashable:
    return s  # type: ignore[no-any-return]


def check(
    model: Model[S, A],
    symmetry: bool = True,
    workers: int = 1,
    progress: ProgressFn | None = None,
    max_depth: int = 0,
) -> SearchResult[S, A]:
    """Exhaustively check `model` (only its first `max_depth` BFS levels when that is positive)
    with the reference search, in this process (model_check.engine has the worker processes)."""
    if workers != 1:
        raise ValueError(f"the reference search runs in one process, not {workers}: use engine")
    return Search(model, symmetry).run(progress, max_depth=max_depth)
