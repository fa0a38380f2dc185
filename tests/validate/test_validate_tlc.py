"""TLC re-checks the behaviours the validator matched: every exported step is a step of the
spec's own next-state relation (and a corrupted state makes TLC stop there)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from electorate.testing.traces import Faults, generate
from electorate.validate import tla
from electorate.validate.search import validate
from electorate.validate.tracefile import read_trace

pytestmark = [pytest.mark.tlc, pytest.mark.slow, pytest.mark.timeout(900)]
TRACES = Path(__file__).parent / "traces"


def exported(trace: Path, folder: Path) -> Path:
    v = validate(read_trace(trace))
    assert v.status == "valid"
    tla.export(v, folder)
    return folder


def test_tlc_accepts_a_canonical_behaviour_and_rejects_a_corrupted_one(tmp_path: Path) -> None:
    folder = exported(TRACES / "election.ndjson", tmp_path / "ok")
    ok = tla.run_tlc(folder)
    assert ok.accepted, ok
    assert ok.distinct_states == ok.expected_states == 30
    name = tla.module_name(folder)
    module = folder / f"{name}.tla"
    text = module.read_text()
    # state 20: n2 back in term 0, which no spec step allows
    at = text.index("\\* 20:")
    fixed = re.sub(
        r"currentTerm \|-> \(s1 :> 1 @@ s2 :> 1",
        "currentTerm |-> (s1 :> 1 @@ s2 :> 0",
        text[at:],
        count=1,
    )
    module.write_text(text[:at] + fixed)
    bad = tla.run_tlc(folder)
    assert not bad.accepted
    assert bad.distinct_states == 19 and "Deadlock reached" in bad.detail


def test_tlc_accepts_a_featured_behaviour_with_restarts_losses_and_duplicates(
    tmp_path: Path,
) -> None:
    trace = generate(tmp_path / "run.ndjson", 7, 600, faults=Faults(duplicate=0.2, crash=0.01))
    v = validate(read_trace(trace))
    acts = {(a.name, a.detail) for _, step in v.behaviour for a in step}
    assert {("DuplicateMessage", "inferred"), ("Restart", "in lease")} <= acts
    folder = tmp_path / "tla"
    tla.export(v, folder)
    text = (folder / f"{tla.module_name(folder)}.tla").read_text()
    assert "RestartInLease(i) ==" in text and "EXTENDS RaftElectionFeatures" in text
    check = tla.run_tlc(folder)
    assert check.accepted, check


def test_validate_tlc_checks_what_it_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from electorate.validate import cli

    args = [str(TRACES / "election.ndjson"), "--tla-out", str(tmp_path), "--tlc", "--jobs", "1"]
    assert cli.main(args) == 0
    assert "TLC: every step is a step of the spec (30 states" in capsys.readouterr().out
    assert cli.main([str(TRACES / "election.ndjson"), "--tlc"]) == 2
