"""Confirm a `--reduce` counterexample in the exact lease model.

`--reduce` (features/reduce.py) over-approximates: a violation it reports may in principle be
spurious. `confirm` looks for a genuine behaviour of the exact model (the same Params with
reduce=False) that follows the reduced trace and violates the same invariant.

The reduced trace says what happens, not when: its states carry reduced time. So the search is
guided by each state's *time-free key* (the reduced state with every time field blanked, up to
server renaming). Stage j holds the exact states whose key is the key of the trace's state j.
A state of stage j moves on by any exact step that keeps its key (Ticks above all: the reduced
model skips them while idle and drops deadlines that the exact model must wait out) and to
stage j+1 by any exact step to the key of state j+1. One breadth-first search over these
(stage, state) pairs checks the invariant on every exact successor it generates, so the trace
it returns is the shortest exact counterexample that follows the reduced one this way (the
exact model may violate before the reduced trace ends). Every state is reached by exact `Next`
steps from the exact Init, so a returned trace is a real counterexample; None means only
"not confirmed", not that the reduced violation is spurious.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace

from electorate.spec import symmetry
from electorate.spec.features.reduce import Reduce
from electorate.spec.messages import Bag, Message
from electorate.spec.next import Action, Init, Next, constraint
from electorate.spec.params import Params, ParamsError
from electorate.spec.properties import Property, invariants_for
from electorate.spec.state import State

Step = tuple[Action | None, State]
DEFAULT_BUDGET = 2_000_000  # exact states the search may visit before it gives up


def time_free_key(p: Params, s: State) -> State:
    """s reduced, with clocks, deadlines, rounds and heartbeat stamps blanked, and the smallest
    of its server renamings (a trace and its exact match may name the servers differently)."""
    t = Reduce(p, s)
    blank = t._replace(
        clock=(), lease_until=(), round_at=(), round_acked=(), messages=_unstamped(t.messages)
    )
    return symmetry.canonical_bruteforce(blank)


def _unstamped(bag: Bag) -> Bag:
    counts: dict[Message, int] = {}
    for m, c in bag:
        k = m._replace(msent_at=0)
        counts[k] = counts.get(k, 0) + c
    return tuple(sorted(counts.items()))


class _Search:
    """Exact states found so far, each with the step that reached it and its parent's index."""

    def __init__(self, p: Params, exact: Params, inv: Property, budget: int) -> None:
        self.p, self.exact, self.inv, self.budget = p, exact, inv, budget
        self.nodes: list[tuple[Action | None, State, int]] = []
        self.found: int | None = None  # the node of the first violating state

    def add(self, action: Action | None, s: State, parent: int) -> int:
        self.nodes.append((action, s, parent))
        k = len(self.nodes) - 1
        if self.found is None and not self.inv.holds(self.exact, s):
            self.found = k
        if len(self.nodes) > self.budget:
            raise _OutOfBudgetError
        return k

    def run(self, keys: list[State]) -> None:
        """Breadth first over (stage, state orbit) pairs from the exact Init until a violation."""
        start = self.add(None, Init(self.exact), -1)
        if self.done() or time_free_key(self.p, Init(self.exact)) != keys[0]:
            return
        seen = {(0, symmetry.canonical(self.nodes[start][1]))}
        frontier = [(0, start)]
        while frontier:
            later: list[tuple[int, int]] = []
            for j, k in frontier:
                later += self.expand(keys, j, k, seen)
                if self.done():
                    return
            frontier = later

    def done(self) -> bool:
        return self.found is not None

    def expand(
        self, keys: list[State], j: int, k: int, seen: set[tuple[int, State]]
    ) -> list[tuple[int, int]]:
        """Node k of stage j: its exact successors that stay in stage j or reach stage j+1 (none
        when k lies outside the constraint: the checker does not expand such states either)."""
        s = self.nodes[k][1]
        if not constraint(self.exact, s):
            return []
        out = []
        for a, t in Next(self.exact, s):
            if t is s:
                continue  # stuttering adds nothing
            n = self.add(a, t, k)
            if self.done():
                break
            c = symmetry.canonical(t)
            stages = [i for i in (j, j + 1) if i < len(keys) and (i, c) not in seen]
            if not stages:
                continue
            key = time_free_key(self.p, t)
            for i in stages:
                if key == keys[i]:
                    seen.add((i, c))
                    out.append((i, n))
        return out

    def trace(self, k: int) -> list[Step]:
        steps: list[Step] = []
        while k >= 0:
            action, s, k = self.nodes[k]
            steps.append((action, s))
        steps.reverse()
        return steps


class _OutOfBudgetError(Exception):
    pass


def confirm(
    p: Params, trace: Sequence[Step], violated: str, budget: int = DEFAULT_BUDGET
) -> list[Step] | None:
    """An exact trace (from the exact Init, every step an exact Next step) ending in a state
    that violates `violated`, guided by the reduced counterexample `trace`; None if the guided
    search finds none (within `budget` exact states)."""
    exact = replace(p, reduce=False)
    by_id = {inv.id: inv for inv in invariants_for(exact)}
    if violated not in by_id:
        raise ParamsError(f"unknown invariant {violated!r}; known: {', '.join(by_id)}")
    if not trace:
        return None
    search = _Search(p, exact, by_id[violated], budget)
    with suppress(_OutOfBudgetError):  # a violation seen before the budget ran out counts
        search.run([time_free_key(p, s) for _, s in trace])
    return None if search.found is None else search.trace(search.found)
