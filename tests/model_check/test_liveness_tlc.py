"""TLC's liveness checking on RaftElectionLiveness.tla gives our verdicts.

The mirror (spec/RaftElectionLiveness.tla) and its runner (app/tlc_liveness.py): the generated
model module and config, the command line's --tlc and --export-tla, and, with Java, TLC's
verdict against our checker's on models where ours decides: one server (every property holds,
classic Raft, PreVote + CheckQuorum and the untimed lease) and two servers without randomized
timeouts (EventuallyLeader violated by a lasso in both; slow). Two servers with randomized
timeouts (every property holds) takes TLC many CPU minutes: docs/liveness.md has the figures,
`electorate check --liveness --servers 2 --tlc` reproduces them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from electorate.app import liveness_search as search
from electorate.app import tlc_liveness
from electorate.app.check import main
from electorate.app.tlc import TlcConfigError
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.params import Params
from electorate.spec.topology import topology_from

NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not on PATH: TLC needs a Java runtime"
)


def model(servers: int, name: str = "full", randomized: bool = True, **kw: object) -> Params:
    base = Params(servers=servers, **kw)  # type: ignore[arg-type]
    return dataclasses.replace(base, topology=topology_from(name, servers), randomized=randomized)


def ours(p: Params, prop: str) -> str:
    outcome = search.run(p, liveness_properties(p, prop), None, seconds=0)
    return outcome.verdicts[prop]


def test_model_module_names_the_links_and_every_leader() -> None:
    text = tlc_liveness.mc_text(model(3, "chain"))
    assert "MCLinks == {<<s1, s2>>, <<s2, s1>>, <<s2, s3>>, <<s3, s2>>}" in text
    assert "LeadsForever(s1) \\/ LeadsForever(s2) \\/ LeadsForever(s3)" in text


def test_config_picks_the_fairness_and_the_property() -> None:
    cfg = tlc_liveness.cfg_text(model(2, features=frozenset({"prevote"})), "EventuallyLeader")
    assert "SPECIFICATION LiveSpecR" in cfg
    assert "PROPERTY MCEventuallyLeader" in cfg
    assert 'Features = {"prevote"}' in cfg
    assert "CONSTRAINT" not in cfg and "SYMMETRY" not in cfg and "VIEW" not in cfg
    cfg = tlc_liveness.cfg_text(model(2, randomized=False), "LeaderStability")
    assert "SPECIFICATION LiveSpec\n" in cfg
    assert "PROPERTY LeaderStability\n" in cfg
    cfg = tlc_liveness.cfg_text(model(2), ("EventuallyLeader", "CandidateProgress"))
    assert "PROPERTY MCEventuallyLeader CandidateProgress\n" in cfg


def test_unmirrored_models_are_refused() -> None:
    with pytest.raises(TlcConfigError, match="topology"):
        tlc_liveness.cfg_text(Params(servers=2), "EventuallyLeader")
    with pytest.raises(TlcConfigError, match="unknown liveness property"):
        tlc_liveness.cfg_text(model(2), "Eventually")


def test_export_writes_modules_and_one_config_per_property(tmp_path: Path) -> None:
    written = {p.name for p in tlc_liveness.export(model(2), tmp_path)}
    assert {"RaftElectionLiveness.tla", "MCLiveness.tla"} <= written
    assert {f"MCLiveness_{p}.cfg" for p in ("EventuallyLeader", "LeaderStability")} <= written


def test_lasso_shape_is_read_from_tlcs_report() -> None:
    report = "\n".join(
        [
            "Error: Temporal properties were violated.",
            "State 1: <Initial predicate>",
            '/\\ pc = [op |-> "idle", i |-> Nil]',
            "State 2: <LTimeout line 1>",
            '/\\ pc = [op |-> "askself", i |-> s1]',
            "State 3: <Settle line 1>",
            '/\\ pc = [op |-> "idle", i |-> Nil]',
            "State 4: <LTimeout line 1>",
            '/\\ pc = [op |-> "settle", i |-> Nil]',
            "Back to state 3: <Settle line 1>",
            "10 states generated, 7 distinct states found, 0 states left on queue.",
        ]
    )
    t = tlc_liveness.parse("EventuallyLeader", report, 1.0, 1.0, False)
    assert t.verdict == "violated"
    assert (t.stem, t.cycle, t.stem_idle, t.cycle_idle) == (2, 2, 1, 1)


@NEEDS_JAVA
@pytest.mark.tlc
def test_one_server_every_property_holds_in_both() -> None:
    p = model(1)
    props = ("EventuallyLeader", "LeaderStability", "CandidateProgress")
    assert [ours(p, prop) for prop in props] == ["holds"] * 3
    t = tlc_liveness.run_property(p, props, timeout_s=600, final_only=True)
    assert t.verdict == "holds"
    assert t.depth is not None  # TLC searched the whole graph


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("features", ["prevote,check_quorum", "lease"])
def test_one_server_with_features_every_property_holds_in_both(features: str) -> None:
    p = model(1, features=frozenset(features.split(",")))
    props = ("EventuallyLeader", "LeaderStability", "CandidateProgress")
    assert [ours(p, prop) for prop in props] == ["holds"] * 3
    t = tlc_liveness.run_property(p, props, timeout_s=600, final_only=True)
    assert t.verdict == "holds"
    assert t.depth is not None


def test_the_lease_is_mirrored_untimed() -> None:
    cfg = tlc_liveness.cfg_text(model(2, features=frozenset({"lease"})), "LeaderStability")
    assert 'Features = {"lease"}' in cfg
    assert "ElectionTicks = 0" in cfg and "LeaseTicks = 0" in cfg and "Drift = 0" in cfg


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.slow
@pytest.mark.parametrize("features", ["", "lease"])
def test_split_vote_is_a_lasso_in_both(features: str) -> None:
    p = model(2, randomized=False, features=frozenset(features.split(",")) - {""})
    assert ours(p, "EventuallyLeader") == "violated"
    t = tlc_liveness.run_property(p, "EventuallyLeader", timeout_s=900)
    assert t.verdict == "violated"
    assert t.cycle_idle >= 1 or t.stuttering


def test_export_tla_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--liveness", "--servers", "1", "--export-tla", str(tmp_path), "--json"])
    assert code == 0
    assert (tmp_path / "MCLiveness_CandidateProgress.cfg").is_file()
    assert json.loads(capsys.readouterr().out)["result"] == "holds"


def test_tlc_refuses_an_unmirrored_model(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--liveness", "--servers", "1", "--tlc", "--bug", "vote-twice"])
    assert code == 2
    assert "error" in capsys.readouterr().err


@NEEDS_JAVA
@pytest.mark.tlc
def test_tlc_beside_ours_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--liveness", "--servers", "1", "--tlc", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {e["agree"] for e in doc["tlc"].values()} == {True}
    assert {e["tlc"] for e in doc["tlc"].values()} == {"holds"}


def _java_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"tlc2.TLC" in cmd:
            found.append(int(entry.name))
    return found


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads child processes from /proc")
def test_sigterm_leaves_no_tlc_running() -> None:
    """TLC on two servers runs for minutes; SIGTERM to the checker ends it and its JVM."""
    cmd = [sys.executable, "-m", "electorate", "check", "--liveness", "LeaderStability"]
    proc = subprocess.Popen(
        [*cmd, "--servers", "2", "--tlc"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 240
        while not (jvms := _java_children(proc.pid)):
            assert proc.poll() is None and time.monotonic() < deadline, "TLC never started"
            time.sleep(0.5)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert b"interrupted" in err
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in jvms) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(_alive(pid) for pid in jvms)


def _alive(pid: int) -> bool:
    """Running: a killed JVM whose parent exited may stay a zombie (state Z) where nothing
    reaps orphans, and a zombie runs nothing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
