"""NamedTuple's own `_replace` against spec/state_replace.py's, on the spec's State record.

    python benchmarks/replace.py

Printed: microseconds per call for one and for three changed fields, and the ratio
NamedTuple / ours (above 1: ours is cheaper). Both run in this process on the same state.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec.next import Init
from spec.params import FEATURES, Params
from spec.state import State

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


if __name__ == "__main__":
    main()
