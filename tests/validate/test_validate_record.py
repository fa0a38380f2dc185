"""Runs of conformance adapters recorded as traces (python -m electorate.validate.record) and
judged by the trace validator alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from electorate.validate import record, report
from electorate.validate.search import validate
from electorate.validate.tracefile import read_trace


@pytest.mark.parametrize("features", ["", "prevote,check_quorum"], ids=["canonical", "features"])
def test_a_recorded_run_of_the_production_core_adapter_validates(
    features: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run.ndjson"
    args = [str(out), "--adapter", "impl", "--seed", "4", "--steps", "300"]
    assert record.main([*args, "--features", features] if features else args) == 0
    assert "recorded" in capsys.readouterr().out
    v = validate(read_trace(out))
    assert v.status == "valid", report.text(v)
    kinds = {e.kind for log in read_trace(out).logs.values() for e in log.events}
    assert {"start", "recv", "send", "timer", "term", "role", "vote"} <= kinds


def test_a_recorded_run_of_a_planted_bug_fails(tmp_path: Path) -> None:
    """The spec adapter with a bug planted (spec:vote-twice) is a third party to the recorder."""
    out = tmp_path / "run.ndjson"
    found = False
    for seed in range(6):
        path = tmp_path / f"{seed}.ndjson"
        assert record.main([str(path), "--adapter", "spec:vote-twice", "--seed", str(seed)]) == 0
        v = validate(read_trace(path))
        if v.status == "invalid":
            assert v.failure is not None and "votedFor" in report.text(v)
            found = True
            break
    assert found, out


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    out = str(tmp_path / "x.ndjson")
    assert record.main([out, "--adapter", "impl", "--features", "lease"]) == 2
    assert record.main([out, "--adapter", "no-such-adapter-binary-xyz"]) == 2
