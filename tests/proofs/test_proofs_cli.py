"""`electorate prove` as the lead wires it: main(argv) -> exit code."""

from __future__ import annotations

import json

import pytest

from electorate.proofs.cli import main


def test_prove_passes_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["result"] == "ok"
    names = [p["name"] for p in data["properties"]]
    assert names == ["quorum", "election", "election+prevote+checkquorum", "vacuity"]
    for p in data["properties"]:
        assert p["result"] == "ok" and p["obligations"] > 0 and p["seconds"] >= 0
    assert err.count("\n") == sum(p["obligations"] for p in data["properties"])  # progress


def test_prove_table_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--property", "quorum", "--explain"]) == 0
    out, _ = capsys.readouterr()
    assert "CountedVoteIsVote" in out and "needed:" in out and "Quorum bridge" in out
    assert "quorum" in out and " ok " in out


def test_bug_variant_fails_with_counterexample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bug", "forget-vote-on-restart", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["result"] == "failed"
    failures = data["properties"][0]["failures"]
    assert failures and all("Restart" in f["counterexample"] for f in failures)


@pytest.mark.parametrize(
    "argv", [["--property", "nope"], ["--bug", "nope"], ["--frob"], ["--timeout-ms", "0"]]
)
def test_usage_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("electorate prove: ")


def test_z3_is_the_pinned_version() -> None:
    """The solver is part of the result: the installed z3 is the one pyproject pins."""
    import tomllib
    from pathlib import Path

    import z3

    from electorate.proofs.core import Z3_PIN

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pinned = next(d for d in deps if d.startswith("z3-solver=="))
    assert pinned.removeprefix("z3-solver==").startswith(Z3_PIN)
    assert z3.get_version_string() == Z3_PIN
