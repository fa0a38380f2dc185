"""`electorate check --liveness`: exit codes, one-line errors, the JSON lasso."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from electorate.app.check import main
from electorate.conformance.cli import main as conform_main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--liveness", "--topology", "mesh"], "unknown topology 'mesh'"),
        (["--liveness", "Sometime"], "unknown liveness property 'Sometime'"),
        (["--liveness", "--topology", "1-2,2-4"], "names server 4, but there are 3 servers"),
        (["--liveness", "--servers", "5", "--topology", "1-2,3-4"], "no server of edges"),
        (["--liveness", "--topology", "howard", "--servers", "3"], "howard needs 5 servers"),
        (["--liveness", "--simulate"], "--simulate does not apply to --liveness"),
        (["--liveness", "--features", "lease", "--max-clock", "4"], "lease has no clocks"),
        (["--liveness", "--liveness-memory", "-1"], "--liveness-memory must be >= 0 GiB"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(args)
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_violation_exits_1_with_a_lasso_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--liveness", "EventuallyLeader", "--servers", "2", "--no-randomized-timeouts", "--json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["result"] == "violated"
    assert doc["lasso"]["stem"][0]["action"] == "Init"
    assert doc["lasso"]["cycle"]
    assert doc["properties"]["EventuallyLeader"]["confirmed"]["replayed"] is True
    assert any("no randomized-timeout" in a for a in doc["assumptions"])


def test_a_lasso_becomes_a_conformance_script_the_impl_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The split-vote lasso as a script (stem, then the cycle twice): our implementation takes
    its steps (it splits the vote for ever when the scheduler fires its timers so); with a
    planted bug that ignores newer-term requests it diverges on the first one."""
    script = tmp_path / "lasso.jsonl"
    code = main(
        [
            "--liveness",
            "EventuallyLeader",
            "--servers",
            "2",
            "--no-randomized-timeouts",
            "--json",
            "--lasso-script",
            str(script),
            "--lasso-cycles",
            "2",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["result"] == "violated"
    head, *rows = (json.loads(x) for x in script.read_text().splitlines())
    expect = head["expect"]
    assert expect["liveness"] == "EventuallyLeader" and expect["repetitions"] == 2
    assert len(rows) == expect["stem_steps"] + 2 * expect["cycle_steps"] > 0
    ops = {r["step"]["op"] for r in rows}
    assert {"timeout", "deliver"} <= ops
    assert conform_main(["conform", "replay", str(script), "--adapter", "impl"]) == 0
    assert "PASS" in capsys.readouterr().out
    head["config"]["mutations"] = ["no-stepdown-request"]
    mutant = tmp_path / "mutant.jsonl"
    mutant.write_text("".join(json.dumps(x) + "\n" for x in [head, *rows]))
    assert conform_main(["conform", "replay", str(mutant), "--adapter", "impl"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_a_lease_lasso_is_no_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The conformance protocol has no lease: a lease lasso is refused as a script, in one
    line, and nothing is written."""
    script = tmp_path / "lasso.jsonl"
    argv = ["--liveness", "EventuallyLeader", "--servers", "2", "--features", "lease"]
    code = main([*argv, "--no-randomized-timeouts", "--json", "--lasso-script", str(script)])
    out, err = capsys.readouterr()
    assert code == 1 and json.loads(out)["result"] == "violated"
    assert "no lease feature" in err and err.count("\n") == 1
    assert not script.exists()


def test_lasso_script_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--liveness", "--servers", "2", "--lasso-script", "x.jsonl", "--lasso-cycles", "0"]
    )
    assert code == 2
    assert "--lasso-cycles must be at least 1" in capsys.readouterr().err


def test_a_featured_lasso_replays_on_the_spec_adapter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Chained with PreVote + CheckQuorum: s1 pre-votes for ever. The leader's periods that end
    with a quorum heard are no step (the harness draws none); the spec adapter takes it all."""
    script = tmp_path / "chained.jsonl"
    args = ["--liveness", "CandidateProgress", "--topology", "chained", "--json"]
    args += ["--features", "prevote,check_quorum", "--lasso-script", str(script)]
    assert main(args) == 1
    capsys.readouterr()
    assert conform_main(["conform", "replay", str(script), "--adapter", "spec"]) == 0
    assert "PASS" in capsys.readouterr().out


def test_an_undecided_property_is_said_so_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--liveness", "LeaderStability", "--servers", "3", "--liveness-seconds", "0.01"])
    out = capsys.readouterr().out
    assert code == 1
    assert "undecided (LeaderStability)" in out and "undecided is not holds" in out


def test_the_memory_budget_stops_the_search_with_undecided(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A search for holds keeps its whole graph: past the budget it stops and says so, rather
    than grow until the kernel kills it. LeaderStability holds on two servers (next test);
    under a budget this process has already used, it is undecided, never holds."""
    code = main(
        ["--liveness", "LeaderStability", "--servers", "2", "--liveness-memory", "0.01", "--json"]
    )
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 1
    assert doc["properties"]["LeaderStability"]["result"] == "undecided"
    assert doc["stopped"] == "memory budget" and doc["memory_budget_gib"] == 0.01
    assert "stopped at the memory budget (0.01 GiB, --liveness-memory)" in err


@pytest.mark.parametrize("flag", ["--symmetry", "--no-symmetry", "--fast"])
def test_holds_with_and_without_symmetry(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Full connectivity on 2 servers: LeaderStability holds either way; the JSON says what
    the search did with the topology's swap (the readable search with symmetry, the readable
    one without, the packed one in C)."""
    flags = [flag, "--no-fast"] if flag != "--fast" else [flag]
    code = main(["--liveness", "LeaderStability", "--servers", "2", "--json", *flags])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["result"] == "holds"
    quotient = doc["searches"][-1]
    assert quotient["search"] == "quotient" and quotient["complete_graph"]
    assert quotient["distinct_states"] == {"--symmetry": 5_696}.get(flag, 11_370)
    if flag == "--symmetry":
        assert "one state per orbit of the topology's 2 automorphisms" in doc["symmetry"]
        assert "one state per orbit" in quotient["graph"]
    elif flag == "--fast":
        assert doc["symmetry"].startswith("symmetry not used")
        assert "packed successors in C" in quotient["graph"]
    else:
        assert doc["symmetry"].startswith("symmetry off")
        assert "orbit" not in quotient["graph"] and "packed" not in quotient["graph"]


def test_fast_refuses_a_model_the_c_module_does_not_cover(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--liveness", "--servers", "2", "--bug", "vote-twice", "--fast"])
    assert code == 2
    assert "--fast: the packed liveness model covers no bug variant" in capsys.readouterr().err


@pytest.mark.timeout(300)
def test_a_signal_stops_the_search_with_a_report_not_a_traceback() -> None:
    """SIGTERM during a search that would run for many minutes (full, 3 servers): the graph so
    far is judged, every property not decided is undecided (exit 1), and it is said why."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "electorate", "check", "--liveness", "--servers", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        while line and "distinct" not in line:
            line = proc.stderr.readline()
        assert "distinct" in line, "no progress line before the process ended"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert "undecided" in out


@pytest.mark.slow
def test_a_lasso_of_a_sub_model_replays_on_the_spec_adapter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Full 3 with PreVote + CheckQuorum: the lasso of a sub-model's search on packed states
    (terms shifted, not capped) becomes a script the spec adapter takes to the end."""
    script = tmp_path / "full3.jsonl"
    args = ["--liveness", "EventuallyLeader", "--servers", "3", "--json"]
    args += ["--features", "prevote,check_quorum", "--lasso-script", str(script)]
    args += ["--lasso-cycles", "1"]
    assert main(args) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["properties"]["EventuallyLeader"]["found_by"] == "hunt msgs-4"
    assert doc["properties"]["EventuallyLeader"]["confirmed"]["unfair_in_whole_model"] == []
    assert conform_main(["conform", "replay", str(script), "--adapter", "spec"]) == 0
    assert "PASS" in capsys.readouterr().out


def test_the_memory_budget_reads_the_memory_held_now_not_the_peak() -> None:
    """A process that once held more (a big search before, in a test session or an embedding
    program) does not stop every later search at once."""
    from electorate.app import memory

    before = memory.rss()
    big = bytearray(256 << 20)  # 256 MiB, touched so that it is resident
    big[::4096] = b"x" * len(big[::4096])
    assert memory.rss() > before + (200 << 20)
    del big
    budget = memory.Budget((memory.rss() + (128 << 20)) / memory.GIB)
    assert not budget.over()
