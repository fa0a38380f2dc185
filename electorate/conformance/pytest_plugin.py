"""Run the conformance suite from another project's pytest suite, in one line.

Installed with electorate, this module is a pytest plugin (entry point ``pytest11``) providing
the fixture ``electorate_conformance``::

    def test_my_raft(electorate_conformance):
        electorate_conformance("node my-adapter.mjs")

or, without the fixture::

    from electorate.conformance.pytest_plugin import conformance_test

    test_my_raft = conformance_test("node my-adapter.mjs")

Either runs the whole suite (the stored scenarios, the PreVote/CheckQuorum level if the adapter
declares it, the search, the determinism self-check and the coverage targets) and fails the test
with the first divergence, the missing coverage, or the adapter's protocol error. ``mutants=True``
runs the kill matrix of the mutants the adapter offers instead. The budget arguments are
``electorate conform``'s: ``examples``, ``steps``, ``seed``; failure bundles go to
``bundle_dir`` (default: pytest's ``tmp_path`` with the fixture, none without it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported when used: the plugin loads in every pytest session
    from electorate.conformance.machine import Budget
    from electorate.conformance.protocol import Client, Hello


def run_conformance(
    adapter: str,
    *,
    examples: int = 300,
    steps: int = 50,
    seed: int = 0,
    mutants: bool = False,
    bundle_dir: Path | None = None,
) -> None:
    """Run the suite against ``adapter`` (a built-in name or a command line); raise
    AssertionError saying why when it does not pass."""
    from electorate.conformance import suite
    from electorate.conformance.adapters.transport import open_adapter
    from electorate.conformance.machine import Budget
    from electorate.conformance.protocol import ProtocolViolationError

    try:
        handle = open_adapter(adapter)
        client, hello = suite.connect(handle, strict=True)
    except (ValueError, ProtocolViolationError) as e:
        raise AssertionError(f"adapter {adapter!r} could not start: {e}") from None
    try:
        budget = Budget(examples, steps, seed)
        if mutants:
            _matrix(client, hello, budget, bundle_dir)
        else:
            _plain(client, hello, budget, bundle_dir)
    finally:
        handle.close()


def _plain(client: Client, hello: Hello, budget: Budget, bundle_dir: Path | None) -> None:
    from electorate.conformance import suite

    out = suite.run(client, hello, budget, None, True, bundle_dir)
    problems = []
    if out.failure is not None:
        f = out.failure
        rows = "; ".join(f"{a}: spec {b}, implementation {c}" for a, b, c in f.rows[:6])
        where = f"after step {f.step_index} ({f.step})"
        problems.append(f"{', '.join(f.checks)} {where}: {f.text or rows}")
        if out.bundle is not None:
            problems.append(f"bundle: {out.bundle}")
    elif not suite.determinism(client, hello, suite.longest_scenario()):
        problems.append("the same script gave different responses (not deterministic)")
    elif out.missing:
        problems.append("vacuous run, never reached: " + "; ".join(out.missing))
    if problems:
        raise AssertionError(f"conformance (seed {out.seed}): " + " | ".join(problems))


def _matrix(client: Client, hello: Hello, budget: Budget, bundle_dir: Path | None) -> None:
    from electorate.conformance import suite

    bad = []
    for name in suite.mutant_names(hello):
        out = suite.run(client, hello, budget, name, True, bundle_dir)
        if out.passed or out.not_run:
            bad.append(f"{name}: {'not run' if out.not_run else 'survived'}")
    if bad:
        raise AssertionError("mutants not killed: " + "; ".join(bad))


def conformance_test(
    adapter: str,
    *,
    examples: int = 300,
    steps: int = 50,
    seed: int = 0,
    mutants: bool = False,
    bundle_dir: Path | None = None,
) -> Callable[[], None]:
    """A test function running the suite against ``adapter`` (``run_conformance``'s options)."""

    def test() -> None:
        run_conformance(
            adapter,
            examples=examples,
            steps=steps,
            seed=seed,
            mutants=mutants,
            bundle_dir=bundle_dir,
        )

    test.__name__ = "test_conformance"
    return test


@pytest.fixture
def electorate_conformance(tmp_path: Path) -> Iterator[Callable[..., None]]:
    """``electorate_conformance(adapter, **options)`` runs the suite; bundles in tmp_path."""

    def run(
        adapter: str,
        *,
        examples: int = 300,
        steps: int = 50,
        seed: int = 0,
        mutants: bool = False,
        bundle_dir: Path | None = None,
    ) -> None:
        where = bundle_dir or tmp_path / "conformance-failures"
        run_conformance(
            adapter, examples=examples, steps=steps, seed=seed, mutants=mutants, bundle_dir=where
        )

    yield run
