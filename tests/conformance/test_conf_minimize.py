"""Delta debugging of step lists (conformance.minimize.ddmin)."""

from __future__ import annotations

from electorate.conformance.minimize import ddmin


def test_ddmin_finds_the_two_needed_items() -> None:
    calls: list[list[int]] = []

    def fails(xs: list[int]) -> bool:
        calls.append(xs)
        return 3 in xs and 17 in xs

    assert ddmin(list(range(40)), fails, seconds=10) == [3, 17]
    assert len(calls) < 200  # ddmin is O(n log n) here, far from trying every subset


def test_ddmin_removes_a_pair_that_only_goes_together() -> None:
    """Removing 5 alone or 30 alone makes the script infeasible (not failing): like a crash
    whose restart stays in the script. Only the pair pass can remove both."""

    def fails(xs: list[int]) -> bool:
        feasible = (5 in xs) == (30 in xs)
        return feasible and 12 in xs

    assert ddmin([5, 12, 30], fails, seconds=10) == [12]
