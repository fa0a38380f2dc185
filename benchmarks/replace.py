"""NamedTuple's own `_replace` against spec/state_replace.py's, on the spec's State record.

    python benchmarks/replace.py

Printed: microseconds per call for one and for three changed fields, and the ratio
NamedTuple / ours (above 1: ours is cheaper). Then the effect on the checker's work: CPU seconds
to generate every successor of the first 5,000 states (BFS order) of the 3-server model with
every feature, with each `_replace` installed in turn. All of it runs in this process.
"""

from __future__ import annotations

import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from electorate.spec.ids import FEATURES
from electorate.spec.next import Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.state import State

ORIGINAL: Callable[..., Any] = State._namedtuple_replace  # type: ignore[attr-defined]


def per_call(fn: Callable[[], object], number: int = 200_000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    s = Init(Params(servers=3, features=frozenset(FEATURES)))
    ones = (1, 1, 1)
    cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "one field": (lambda: ORIGINAL(s, acked=ones), lambda: s._replace(acked=ones)),
        "three fields": (
            lambda: ORIGINAL(s, acked=ones, clock=ones, quiet=(True,) * 3),
            lambda: s._replace(acked=ones, clock=ones, quiet=(True,) * 3),
        ),
    }
    print(f"{'change':<14} {'NamedTuple':>12} {'ours':>10} {'x':>6}")
    for name, (original, ours) in cases.items():
        a, b = per_call(original), per_call(ours)
        print(f"{name:<14} {a:>9.3f} us {b:>7.3f} us {a / b:>6.2f}")
    checker_work()


def successors_cpu(states: list[State], p: Params) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for s in states:
            for _a, t in Next(p, s):
                hash(t)
        best = min(best, time.process_time() - start)
    return best


def first_states(p: Params, count: int) -> list[State]:
    seen = [Init(p)]
    known = set(seen)
    k = 0
    while len(seen) < count and k < len(seen):
        for _a, t in Next(p, seen[k]):
            if t not in known and constraint(p, t):
                known.add(t)
                seen.append(t)
        k += 1
    return seen[:count]


def checker_work() -> None:
    p = Params(servers=3, features=frozenset(FEATURES))
    states = first_states(p, 5_000)
    ours = State._replace
    State._replace = ORIGINAL  # type: ignore[method-assign]
    try:
        slow = successors_cpu(states, p)
    finally:
        State._replace = ours  # type: ignore[method-assign]
    fast = successors_cpu(states, p)
    print(f"successors of {len(states):,} states: NamedTuple {slow:.2f} s, ours {fast:.2f} s,")
    print(f"  {slow / fast:.2f}x")


if __name__ == "__main__":
    main()
