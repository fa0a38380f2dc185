"""The pytest plugin: another project runs the suite from its own tests in one line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from electorate.conformance.pytest_plugin import conformance_test


def test_the_fixture_fails_with_the_first_divergence(
    electorate_conformance: Callable[..., None],
) -> None:
    with pytest.raises(AssertionError, match=r"(refinement|invariant).*after step \d+"):
        electorate_conformance("spec:vote-twice", examples=20)


def test_a_built_test_fails_a_vacuous_run() -> None:
    test = conformance_test("spec", examples=2, steps=5)
    assert test.__name__ == "test_conformance"
    with pytest.raises(AssertionError, match="vacuous run, never reached"):
        test()


def test_an_adapter_that_cannot_start_is_one_clear_failure(
    electorate_conformance: Callable[..., None],
) -> None:
    with pytest.raises(AssertionError, match="could not start: command not found"):
        electorate_conformance("/nonexistent/adapter")
