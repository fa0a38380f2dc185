"""``electorate validate``: exit codes, JSON, parallel traces, the streaming mode (a growing
log, a bad event caught before the log is complete, SIGTERM), and the TLA+ export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from electorate.testing.traces import generate
from electorate.validate import cli

TRACES = Path(__file__).parent / "traces"
REPO = Path(__file__).resolve().parents[2]


def test_verdicts_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([str(TRACES / "election.ndjson"), "--jobs", "1"]) == 0
    assert ": valid (3 nodes, 40 events, 17 steps, frontier max 1" in capsys.readouterr().out
    args = [str(TRACES / n) for n in ("election.ndjson", "vote-twice.ndjson")]
    assert cli.main([*args, "--jobs", "1", "--quiet"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "INVALID at" in out[1] and "vote-twice.ndjson:19" in out[1]


def test_json_verdicts_one_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    names = ("election.ndjson", "leader-without-quorum.ndjson")
    assert cli.main([*(str(TRACES / n) for n in names), "--json", "--jobs", "1"]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [v["status"] for v in lines] == ["valid", "invalid"]
    assert lines[0]["frontier_widths"] == [1] * 17
    failure = lines[1]["failure"]
    assert failure["event"]["where"].endswith("leader-without-quorum.ndjson:6")
    assert failure["rules"][0]["rule"] == "LeaderHasQuorum"
    assert failure["frontier"][0]["tried"][0]["problems"][0].startswith("BecomeLeader(n1) needs")


def test_traces_are_validated_in_parallel_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(generate(tmp_path / f"t{k}.ndjson", k, 600)) for k in range(6)]
    assert cli.main([*paths, "--jobs", "2", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == paths  # in the order given
    assert all(": valid (" in line for line in out)


def _follow(path: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "electorate", "validate", "--follow", str(path), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _feed(src: Path, dst: Path, stop_at: int | None = None) -> threading.Thread:
    """Append src's lines to dst a few at a time, as a running node would."""
    lines = src.read_text().splitlines(keepends=True)[:stop_at]

    def write() -> None:
        with dst.open("a") as f:
            for k, line in enumerate(lines):
                f.write(line)
                f.flush()
                if k % 5 == 4:
                    time.sleep(0.05)

    t = threading.Thread(target=write)
    t.start()
    return t


@pytest.mark.timeout(120)
def test_follow_validates_a_growing_log_until_it_goes_quiet(tmp_path: Path) -> None:
    src = generate(tmp_path / "src.ndjson", 3, 400)
    live = tmp_path / "live.ndjson"
    live.touch()
    proc = _follow(live, "--idle", "1.5", "--quiet")
    _feed(src, live).join()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert ": valid (" in out


@pytest.mark.timeout(120)
def test_follow_stops_at_the_first_unexplained_event_before_the_log_ends(tmp_path: Path) -> None:
    live = tmp_path / "live.ndjson"
    live.touch()
    proc = _follow(live, "--quiet")  # no --idle: it must stop on its own
    _feed(TRACES / "vote-twice.ndjson", live, stop_at=21).join()  # the bad vote and its send
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "INVALID at" in out and "live.ndjson:19" in out


@pytest.mark.timeout(120)
def test_follow_ends_on_sigterm_with_what_it_validated(tmp_path: Path) -> None:
    live = tmp_path / "live.ndjson"
    live.write_text((TRACES / "election.ndjson").read_text())
    proc = _follow(live)
    time.sleep(3.0)  # it has read the log and waits for more
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert "interrupted; valid so far: 40 events, 17 steps" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert cli.main(["a", "b", "--follow"]) == 2
    assert "--follow takes exactly one TRACE" in capsys.readouterr().err
    assert cli.main(["a", "--jobs", "-1"]) == 2


def test_the_behaviour_of_a_valid_trace_is_exported_for_tlc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tla"
    assert cli.main([str(TRACES / "election.ndjson"), "--tla-out", str(out), "--jobs", "1"]) == 0
    folder = out / "election_ndjson"
    written = sorted(p.name for p in folder.iterdir())
    assert written == [
        "RaftElection.tla",
        "Traceelection_ndjson.cfg",
        "Traceelection_ndjson.tla",
    ]
    module = (folder / "Traceelection_ndjson.tla").read_text()
    assert "EXTENDS RaftElection, TLC, Sequences" in module
    assert "\\* 2: Timeout(n1)" in module


def test_a_frontier_past_the_bound_is_inconclusive_never_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(TRACES / "ambiguous.ndjson"), "--max-frontier", "1", "--jobs", "1"]
    assert cli.main(args) == 3
    out = capsys.readouterr().out
    assert "INCONCLUSIVE" in out and "the frontier grew to 2 states" in out


def test_a_failure_notes_log_positions_the_model_leaves_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Events already cut into steps are dropped (no --behaviour): the note still names the
    first event that carries a log position."""
    lines = (TRACES / "election.ndjson").read_text().splitlines()
    e = json.loads(lines[7])
    assert e["msg"]["type"] == "request_vote"
    e["msg"] |= {"last_log_index": 1, "last_log_term": 1}
    lines[7] = json.dumps(e)
    path = tmp_path / "logged.ndjson"
    path.write_text("\n".join(lines) + "\n")
    assert cli.main([str(path), "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert f"INVALID at {path}:8:" in out
    assert "note: this trace carries log positions (for instance n1#6 send" in out
    assert f"last log 1@1, {path}:8); logs are abstracted here" in out
