"""Confirm a `--reduce` counterexample in the exact lease model.

`--reduce` (spec/ext_reduce.py) over-approximates: a violation it reports may in principle be
spurious. `confirm` looks for a genuine behaviour of the exact model (the same Params with
reduce=False) that follows the reduced trace and violates the same invariant.

The reduced trace says what happens, not when: its states carry reduced time. So the search is
guided by each state's *time-free key* (the reduced state with every time field blanked, up to
server renaming). Stage j holds the exact states whose key is the key of the trace's state j.
A stage is first closed under the exact steps that keep its key (Ticks above all: the reduced
model skips them while idle and drops deadlines that the exact model must wait out); stage j+1
is then the successors of that closure with the key of state j+1. Every state found is reached
by exact `Next` steps from the exact Init, so a trace it returns is a real counterexample; when
it returns None the reduced violation is only "not confirmed", not shown spurious.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from spec import ext_reduce, symmetry
from spec.invariants import Invariant, invariants_for
from spec.messages import Bag, Message
from spec.next import Action, Init, Next, constraint
from spec.params import Params, ParamsError
from spec.state import State

Step = tuple[Action | None, State]
DEFAULT_BUDGET = 2_000_000  # exact states the search may visit before it gives up


def time_free_key(p: Params, s: State) -> State:
    """s reduced, with clocks, deadlines, rounds and heartbeat stamps blanked, and the smallest
    of its server renamings (a trace and its exact match may name the servers differently)."""
    t = ext_reduce.Reduce(p, s)
    blank = t._replace(
        clock=(), lease_until=(), round_at=(), round_acked=(), messages=_unstamped(t.messages)
    )
    return min(symmetry.permute(blank, *perm) for perm in symmetry._perms(p.servers))


def _unstamped(bag: Bag) -> Bag:
    counts: dict[Message, int] = {}
    for m, c in bag:
        k = m._replace(msent_at=0)
        counts[k] = counts.get(k, 0) + c
    return tuple(sorted(counts.items()))


class _Search:
    """Exact states found so far, each with the step that reached it and its parent's index."""

    def __init__(self, p: Params, exact: Params, inv: Invariant, budget: int) -> None:
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

    def successors(self, k: int) -> list[tuple[int, State]]:
        """Node k's exact successors, each recorded (and checked) as a node; none when k lies
        outside the constraint, as the checker does not expand such states either."""
        s = self.nodes[k][1]
        if not constraint(self.exact, s):
            return []
        out = []
        for a, t in Next(self.exact, s):
            if t is not s:  # stuttering adds nothing
                out.append((self.add(a, t, k), t))
        return out

    def closure(self, stage: list[int], key: State) -> list[int]:
        """The stage and every state its key-keeping steps reach (breadth first, by orbit)."""
        seen = {symmetry.canonical(self.nodes[k][1]) for k in stage}
        out, frontier = list(stage), list(stage)
        while frontier and self.found is None:
            later = []
            for k in frontier:
                for j, t in self.successors(k):
                    c = symmetry.canonical(t)
                    if c not in seen and time_free_key(self.p, t) == key:
                        seen.add(c)
                        later.append(j)
            out += later
            frontier = later
        return out

    def advance(self, closure: list[int], key: State) -> list[int]:
        """The successors of a closed stage whose key is `key`, one per orbit."""
        seen: set[State] = set()
        stage = []
        for k in closure:
            for j, t in self.successors(k):
                c = symmetry.canonical(t)
                if c not in seen and time_free_key(self.p, t) == key:
                    seen.add(c)
                    stage.append(j)
            if self.found is not None:
                break
        return stage

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
    keys = [time_free_key(p, s) for _, s in trace]
    search = _Search(p, exact, by_id[violated], budget)
    start = search.add(None, Init(exact), -1)
    if search.found is None and time_free_key(p, search.nodes[start][1]) != keys[0]:
        return None
    stage = [start]
    try:
        for j, key in enumerate(keys):
            if search.found is not None:
                break
            closed = search.closure(stage, key)
            if j + 1 < len(keys) and search.found is None:
                stage = search.advance(closed, keys[j + 1])
                if not stage and search.found is None:
                    return None
    except _OutOfBudgetError:
        pass  # a violation seen before the budget ran out still counts
    return None if search.found is None else search.trace(search.found)
