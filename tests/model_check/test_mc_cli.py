"""`electorate check` as a user meets it: exit codes, messages, JSON, traces."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_a_mistyped_command_is_named_with_the_likely_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert electorate(["conformance"]) == 2
    assert "did you mean 'conform'?" in capsys.readouterr().err.splitlines()[0]


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


@pytest.mark.parametrize("form", [["--json"], []], ids=["json", "text"])
def test_a_reader_gone_ends_the_run_quietly(form: list[str]) -> None:
    """`electorate check | head -c0`: the pipe has no reader when the result is written;
    SIGPIPE's status (141, never 1, which says a property is violated), and no traceback."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "electorate", "check", "--servers", "1", *form],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 128 + signal.SIGPIPE, done.stderr
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr


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


# ---- workers, long runs, conventions -----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "999"], "--workers 999 is more than the"),
        (["--workers", "many"], "--workers takes a number or auto"),
        (["--simulate", "--depth", "0"], "--simulate needs --depth >= 1"),
        (["--depth", "5"], "--depth only applies to --simulate"),
        (["--simulate", "--max-depth", "5"], "--max-depth does not apply to --simulate"),
        (["--checkpoint", "a", "--resume", "b"], "not both"),
        (["--trace", "svg"], "argument --trace: invalid choice"),
        (["--nonsense"], "unrecognized arguments: --nonsense"),
    ],
)
def test_bad_long_run_options_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(args, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_workers_auto_is_the_cpu_count(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--servers", "2", "--workers", "auto", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["params"]["workers"] == len(os.sched_getaffinity(0))
    assert (doc["distinct_states"], doc["states_generated"]) == (633, 4916)
    assert doc["peak_rss_bytes"] > 0 and doc["bytes_per_state"] > 0


def test_resume_of_another_models_checkpoint_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(tmp_path / "cp")
    code, _out, _err = run(["--servers", "2", "--max-depth", "4", "--checkpoint", folder], capsys)
    assert code == 0
    code, _out, err = run(["--servers", "3", "--resume", folder], capsys)
    assert code == 2 and "is of another model" in err and len(err.strip().splitlines()) == 1
    code, out, _err = run(["--servers", "2", "--resume", folder, "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and (doc["distinct_states"], doc["states_generated"]) == (633, 4916)


def test_config_file_gives_every_flag_as_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "model.toml"
    cfg.write_text('servers = 2\nsymmetry = false\njson = true\nworkers = "1"\nmax-term = 2\n')
    code, out, _ = run(["--config", str(cfg)], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["params"]["symmetry"] is False
    assert (doc["distinct_states"], doc["states_generated"], doc["depth"]) == (1249, 9743, 18)
    code, out, _ = run(["--config", str(cfg), "--symmetry"], capsys)  # the command line wins
    assert json.loads(out)["distinct_states"] == 633


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("servers = [", "is not valid TOML"),
        ("colour = 3", "unknown key 'colour'"),
        ("json = 3", "json is true or false"),
        ("servers = true", "servers takes a value"),
    ],
)
def test_bad_config_file_exits_2_with_one_line(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "model.toml"
    cfg.write_text(text + "\n")
    code, _out, err = run(["--config", str(cfg)], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    code, _out, err = run(["--config", str(tmp_path / "missing.toml")], capsys)
    assert code == 2 and "cannot read --config" in err


def test_trace_alone_on_stdout_in_itf(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--bug", "vote-twice", "--trace", "itf"], capsys)
    assert code == 1
    doc = json.loads(out)  # nothing but the trace on stdout
    assert doc["#meta"]["format"] == "ITF" and "currentTerm" in doc["vars"]
    states = doc["states"]
    assert len(states) == 8 and states[0]["mbt::actionTaken"] == "Init"
    assert states[0]["currentTerm"] == [{"#bigint": "1"}] * 3
    assert [s["#meta"]["index"] for s in states] == list(range(8))
    assert "Invariant VotesGrantedAreVotes is violated" in err


def test_trace_out_file_and_json_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trace.mmd"
    code, out, _ = run(
        ["--bug", "vote-twice", "--json", "--trace", "mermaid", "--trace-out", str(path)], capsys
    )
    doc = json.loads(out)
    assert code == 1 and doc["trace_file"] == str(path) and doc["trace_format"] == "mermaid"
    assert path.read_text().startswith("sequenceDiagram")
    code, out, _ = run(["--bug", "vote-twice", "--json", "--trace", "text"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["trace_output"].startswith("Counterexample to VotesGrantedAreVotes")
    code, out, _ = run(["--bug", "vote-twice", "--trace-out", str(path)], capsys)
    assert code == 1 and "Result" in out and "1. Init" not in out
    assert path.read_text().startswith("Counterexample to")


def test_simulate_finds_the_split_brain_and_prints_the_seed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--bug", "quorum-half", "--simulate", "--depth", "40", "--time-limit", "60"]
    code, out, _ = run([*args, "--seed", "11", "--json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["result"] == "violation" and doc["seed"] == 11
    assert doc["violation"]["invariant"] == "ElectionSafety"
    code, out, _ = run([*args, "--seed", "11"], capsys)
    assert code == 1 and "seed 11 (replay: --simulate --seed 11 --depth 40)" in out
    code, out, _ = run(["--servers", "2", "--simulate", "--behaviours", "20", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["result"] == "no violation" and doc["behaviours"] == 20


def test_export_tla_writes_the_module_and_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(["--servers", "2", "--export-tla", str(tmp_path), "--json"], capsys)
    assert code == 0
    assert (tmp_path / "RaftElection.tla").is_file() and "wrote" in err
    cfg = (tmp_path / "RaftElection.cfg").read_text()
    assert "Server = {s1, s2}" in cfg and "SYMMETRY Perms" in cfg
    code, _out, _err = run(
        ["--servers", "2", "--features", "prevote", "--no-symmetry", "--export-tla", str(tmp_path)],
        capsys,
    )
    assert code == 0 and (tmp_path / "RaftElectionFeatures.cfg").is_file()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.parametrize(
    ("workers", "sig", "path"),
    [
        ("1", signal.SIGINT, "--fast"),
        ("2", signal.SIGTERM, "--fast"),
        ("2", signal.SIGINT, "--no-fast"),
    ],
)
def test_a_signal_stops_the_run_with_partial_figures(
    workers: str, sig: signal.Signals, path: str
) -> None:
    """A real signal to a real process: exit 130, the figures so far, no traceback, no worker
    left behind (the packed path's workers are threads, the readable path's processes)."""
    # 13 million states: minutes even on the packed path (the default model takes it a second,
    # so the run would end before the signal)
    cmd = [sys.executable, "-m", "electorate", "check", "--no-symmetry", "--max-msgs", "2"]
    cmd += ["--workers", workers, path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # the first progress line: the search is under way
        assert "distinct" in first, first
        kids = _children(proc.pid)
        assert len(kids) == (2 if workers == "2" and path == "--no-fast" else 0)
        sent = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # reap it and close its pipes, whatever failed above
    assert proc.returncode == 130, err
    assert f"Interrupted ({sig.name}) at depth" in out and "distinct states" in out
    assert "Traceback" not in err + out
    assert took < 3.0, f"{took:.2f} s from the signal to the exit"
    time.sleep(0.2)
    assert not [k for k in kids if Path(f"/proc/{k}").exists()]


def test_a_command_that_fails_to_import_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale compiled spec module raises ImportError at import: one line, no traceback."""

    def stale(name: str) -> object:
        raise ImportError("electorate/spec/next.py was edited after it was compiled; rebuild")

    monkeypatch.setattr("electorate.app.main.importlib.import_module", stale)
    assert electorate(["check"]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == "electorate: electorate/spec/next.py was edited after it was compiled; rebuild"
    )
