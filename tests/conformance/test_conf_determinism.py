"""A seed fixes the search's run, whatever else the process has imported.

Hypothesis mixes into integer draws the literals it finds in the local modules loaded so far;
a search built on integer draws therefore ran differently inside a large test suite than
alone (one coverage target missed at the standard seed). Loading a module full of integer
literals between two runs of the same seed must change nothing.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from electorate.conformance.adapters.impl_host import ImplHost
from electorate.conformance.adapters.transport import InProcessAdapter
from electorate.conformance.machine import Budget, SearchResult, search
from electorate.conformance.protocol import Client


def _run(seed: int) -> SearchResult:
    client = Client(InProcessAdapter(ImplHost()), strict=False)
    hello = client.hello()
    return search(client, hello, Budget(25, 30, seed))


def test_a_module_full_of_literals_loaded_between_two_runs_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _run(7)
    literals = ", ".join(str(v) for v in range(3, 70_000, 97))
    (tmp_path / "many_literals_probe.py").write_text(f"VALUES = ({literals})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("many_literals_probe")
    try:
        after = _run(7)
    finally:
        sys.modules.pop("many_literals_probe", None)
    assert (after.examples, after.steps) == (before.examples, before.steps)
    assert after.coverage == before.coverage
