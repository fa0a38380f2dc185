"""Fixtures shared by the spec tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from electorate.spec.next import Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.state import State


def _reachable(p: Params) -> set[State]:
    """Every state the spec reaches under the model's constraint (no invariant stops it, no
    symmetry merges it)."""
    start = Init(p)
    seen, frontier = {start}, [start]
    while frontier:
        later: list[State] = []
        for s in frontier:
            if not constraint(p, s):
                continue
            for _, t in Next(p, s):
                if t not in seen:
                    seen.add(t)
                    later.append(t)
        frontier = later
    return seen


@pytest.fixture
def reachable() -> Callable[[Params], set[State]]:
    return _reachable
