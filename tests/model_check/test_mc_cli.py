"""`electorate check` as a user meets it: exit codes, messages, JSON, traces."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from electorate.app.check import main
from electorate.app.main import main as electorate


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--servers", "0"], "--servers must be between 1 and 7, got 0"),
        (["--profile", "paxos"], "unknown profile 'paxos'"),
        (["--bug", "nope"], "unknown bug 'nope'; see --list-bugs"),
        (["--max-term", "-1"], "--max-term must be >= 0"),
        (["--max-msgs", "-2"], "--max-msgs must be >= 0"),
        (["--features", "warp"], "unknown feature(s) warp"),
        (["--values", "2"], "--values only applies to the log profile"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--max-depth", "-1"], "--max-depth must be >= 0"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(args, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_json_result_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--servers", "2", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["result"] == "ok"
    assert (doc["distinct_states"], doc["states_generated"], doc["depth"]) == (633, 4916, 18)
    assert doc["params"]["servers"] == 2 and doc["params"]["symmetry"] is True
    assert "ElectionSafety" in doc["invariants"] and isinstance(doc["seconds"], float)


def test_violation_json_carries_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--bug", "forget-vote-on-restart", "--json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["result"] == "violation"
    v = doc["violation"]
    assert v["invariant"] == "VoteResponsesAreVotes"
    assert v["trace"][0]["action"] == "Init"
    assert "Restart" in [step["action"] for step in v["trace"]]
    assert all("state" in step for step in v["trace"])


def test_text_trace_shows_numbered_steps_and_changes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--bug", "vote-twice"], capsys)
    assert code == 1
    assert "  1. Init" in out and "  2. Timeout(s" in out
    assert "votedFor[s" in out and "Invariant VotesGrantedAreVotes is violated" in out


def test_mermaid_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--bug", "vote-twice", "--trace", "mermaid"], capsys)
    assert code == 1
    assert out.count("sequenceDiagram") == 1 and "participant s3" in out
    assert "->>" in out and "Note over" in out and "violates VotesGrantedAreVotes" in out


def test_bug_defaults_give_way_to_explicit_options(capsys: pytest.CaptureFixture[str]) -> None:
    # quorum-half defaults to 2 servers; an explicit --servers wins (no messages: quick).
    args = ["--bug", "quorum-half", "--servers", "3", "--max-msgs", "0", "--json"]
    code, out, _ = run(args, capsys)
    doc = json.loads(out)
    assert code == 1  # nobody can be elected without messages: LeaderElected is never reached
    assert doc["params"]["servers"] == 3 and doc["sometimes"] == {"LeaderElected": False}


def test_list_bugs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--list-bugs"], capsys)
    assert code == 0
    for name in ("quorum-half", "vote-twice", "forget-vote-on-restart", "no-log-check"):
        assert name in out


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert electorate(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_console_entry_point_runs_as_a_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "electorate", "check", "--servers", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == "ok"


@pytest.mark.tlc
def test_tlc_second_opinion_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    if shutil.which("java") is None:
        pytest.skip("java is not installed: TLC cannot run (install a JRE 11+ to enable)")
    code, out, _ = run(["--servers", "2", "--no-symmetry", "--json", "--tlc"], capsys)
    doc = json.loads(out)
    assert code == 0
    ours = (doc["distinct_states"], doc["states_generated"], doc["depth"])
    tlc = doc["tlc"]
    assert (tlc["distinct_states"], tlc["states_generated"], tlc["depth"]) == ours


def test_lease_knobs_are_options_and_validated(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["--servers", "2", "--features", "lease", "--drift", "5"], capsys)
    assert code == 2 and "must exceed 2 * --drift (10)" in err


def test_witness_prints_the_shortest_trace_to_a_sometimes_property(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--servers", "2", "--features", "check_quorum", "--witness", "CheckQuorumFired"]
    code, out, _err = run([*args, "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["result"] == "witness"
    steps = doc["witness"]["trace"]
    assert "ElectionTimer" in json.dumps(steps[-1]) and "BecomeLeader" in json.dumps(steps)
    code, out, _err = run(args, capsys)
    assert code == 0 and f"CheckQuorumFired is reached (shortest trace: {len(steps)} states)" in out


def test_witness_that_cannot_be_reached_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        ["--servers", "2", "--max-term", "1", "--witness", "LeaderElected"], capsys
    )
    assert code == 1 and "LeaderElected is never reached" in out


def test_unknown_witness_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["--servers", "2", "--witness", "LeaseHeld"], capsys)
    assert code == 2 and "unknown sometimes property 'LeaseHeld'" in err
    assert len(err.strip().splitlines()) == 1


def test_max_depth_is_a_bounded_check_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["--servers", "2", "--max-depth", "5", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["result"] == "bounded" and doc["depth"] == 5
    assert doc["unexplored"] > 0
    code, out, _err = run(["--servers", "2", "--max-depth", "5"], capsys)
    assert "No invariant violated within 4 steps (bounded check" in out
    code, out, _err = run(["--servers", "2", "--max-depth", "500", "--json"], capsys)
    doc = json.loads(out)
    assert (doc["result"], doc["unexplored"], doc["distinct_states"]) == ("ok", 0, 633)


def test_max_depth_still_finds_a_violation_within_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["--bug", "quorum-half", "--max-depth", "11", "--json"], capsys)
    assert code == 1 and json.loads(out)["result"] == "violation"
    code, out, _err = run(["--bug", "quorum-half", "--max-depth", "10", "--json"], capsys)
    assert code == 0 and json.loads(out)["result"] == "bounded"
