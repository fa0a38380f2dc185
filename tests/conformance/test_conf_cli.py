"""electorate conform / adapter: exit codes, JSON output, bundles and replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from electorate.conformance.cli import main


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform"]) == 2
    assert main(["conform", "--adapter", "impl", "--examples", "0"]) == 2
    assert main(["conform", "--adapter", "impl", "--mutant", "spec:no-such"]) == 2
    assert main(["conform", "--adapter", "/nonexistent/adapter"]) == 2
    assert main(["nothing"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "spec:no-such" in err
    assert "command not found: /nonexistent/adapter" in err and "Errno" not in err


def test_a_mutant_the_adapter_does_not_offer_is_not_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["conform", "--adapter", "impl", "--mutant", "no-such"]) == 1
    out = capsys.readouterr().out
    assert "not run" in out and "unsupported" in out


def test_json_result_of_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conform", "--adapter", "spec", "--examples", "5", "--json", "--no-corpus"])
    out = json.loads(capsys.readouterr().out)
    assert {"result", "examples", "steps", "seconds"} <= set(out)
    # 5 examples is below the standard budget: some events may be missing, which fails
    assert code == (0 if out["result"] == "pass" else 1)


def test_mutant_json_bundle_and_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["conform", "--adapter", "impl", "--mutant", "vote-twice", "--json"]
    code = main([*argv, "--no-corpus", "--bundle-dir", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["result"] == "pass"
    row = out["mutants"]["vote-twice"]
    assert row["killed"] and row["steps"] >= 1 and row["check"]
    bundle = tmp_path / "vote-twice-seed0"
    assert {p.name for p in bundle.iterdir()} == {
        "script.jsonl",
        "divergence.md",
        "timeline.md",
        "sequence.mmd",
    }
    assert (bundle / "sequence.mmd").read_text().startswith("sequenceDiagram")
    header = json.loads((bundle / "script.jsonl").read_text().splitlines()[0])
    assert header["config"]["mutations"] == ["vote-twice"]  # the bundle reproduces the kill
    assert main(["conform", "replay", str(bundle / "script.jsonl"), "--adapter", "impl"]) == 1


def test_replay_reproduces_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "conform",
            "--adapter",
            "impl",
            "--mutant",
            "spec:vote-twice",
            "--no-corpus",
            "--bundle-dir",
            str(tmp_path),
        ]
    )
    capsys.readouterr()
    script = tmp_path / "spec-vote-twice-seed0" / "script.jsonl"
    header = json.loads(script.read_text().splitlines()[0])
    assert header["config"]["spec_bug"] == "vote-twice"
    assert main(["conform", "replay", str(script), "--adapter", "impl"]) == 1
    assert "first divergence" in capsys.readouterr().out


def test_replay_of_a_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text("not json\n")
    assert main(["conform", "replay", str(bad), "--adapter", "impl"]) == 2


def test_a_tiny_budget_is_reported_vacuous(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conform", "--adapter", "impl", "--examples", "1", "--steps", "1", "--no-corpus"])
    out = capsys.readouterr().out
    assert code == 1 and "vacuous run" in out and "seed 0" in out


def test_adapter_bug_needs_the_spec_adapter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapter", "impl", "--bug", "vote-twice"]) == 2
    assert main(["adapter", "spec", "--bug", "no-such-bug"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_list_adapters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conform", "--list-adapters", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["adapters"]}
    assert {"impl", "spec"} <= set(rows)
    assert rows["impl"]["available"] is True and rows["impl"]["install"]
    assert main(["conform", "--list-adapters"]) == 0
    assert "impl" in capsys.readouterr().out


def test_a_mutant_list_runs_in_order_and_bundles_are_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = tmp_path / "mutants.txt"
    names.write_text("# two planted bugs\nquorum-half\nvote-twice  # the classic\n")
    argv = ["conform", "--adapter", "impl", "--mutants", f"@{names}", "--json"]
    argv += ["--bundle-dir", str(tmp_path / "b")]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["mutants"]) == ["quorum-half", "vote-twice"]
    assert all(r["result"] == "killed" for r in out["mutants"].values())
    assert main(argv) == 0
    capsys.readouterr()
    made = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert made == [
        "quorum-half-seed0",
        "quorum-half-seed0-2",
        "vote-twice-seed0",
        "vote-twice-seed0-2",
    ]
    # a bundle directory replays as it is
    assert (
        main(["conform", "replay", str(tmp_path / "b" / "vote-twice-seed0"), "--adapter", "impl"])
        == 1
    )
    assert "first divergence" in capsys.readouterr().out


def test_replay_of_a_missing_file_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conform", "replay", str(tmp_path / "nope.jsonl"), "--adapter", "impl"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Errno" not in err
    assert main(["conform", "replay", str(tmp_path), "--adapter", "impl"]) == 2
    assert "not a bundle" in capsys.readouterr().err
