"""`electorate prove`: main(argv) -> exit code, its JSON, its checks, its tie to the spec."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
import z3

from electorate.proofs import catalog, cli, tie
from electorate.proofs.cli import main
from electorate.proofs.invariant import Lemma
from electorate.proofs.vocab import CANONICAL
from electorate.spec.params import Params

NEW = [
    "election-history",
    "lease",
    "prevote-nondisruption",
    "checkquorum-stepdown",
    "log-matching",
    "commit-stored",
    "leader-covers-voters",
    "leader-completeness",
    "commit-index-committed",
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.slow
def test_prove_passes_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, err = _run([], capsys)
    assert code == 0 and data["result"] == "ok", data
    names = [p["name"] for p in data["properties"]]
    assert names == ["quorum", "election", "election+prevote+checkquorum", *NEW, "vacuity"]
    for p in data["properties"]:
        assert p["result"] == "proved" and p["obligations"] > 0 and p["seconds"] >= 0
    for p in data["properties"][1:-1]:
        assert p["scope"] == "all N"
        assert (
            p["mutant"]["refuted"]
            and "counterexample to induction" in p["mutant"]["counterexample"]
        )
        assert p["vacuity"]["ok"] and p["bad-state"]["ok"]
        for name in [k for k in p if k.startswith("mutant ")]:  # a property's further mutants
            assert p[name]["refuted"], (p["name"], name)
            assert "counterexample to induction" in p[name]["counterexample"]
    (log,) = [p for p in data["properties"] if p["name"] == "log-matching"]
    assert log["mutant append-skips-check"]["obligation"] == (
        "HandleAppendEntriesRequest => MessageMatchesLogs'"
    )
    assert data["tie"] and all(t["result"] == "ok" and t["steps"] > 0 for t in data["tie"])
    assert err.count("[spec-tie]") == len(data["tie"])


def test_one_property_with_its_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = _run(["--property", "election-history"], capsys)
    assert code == 0, data
    (prop,) = data["properties"]
    assert prop["result"] == "proved" and prop["obligations"] == 164
    assert prop["mutant"]["bug"] == "forget-vote-on-restart" and prop["mutant"]["refuted"]
    assert "breaks VoteIsVotedFor" in prop["mutant"]["counterexample"]
    assert prop["bad-state"]["value"] == "false" and prop["vacuity"]["failed"] == []
    assert data["tie"] == []  # no tie unless asked for (or every property runs)


def test_prove_table_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--property", "quorum", "--explain"]) == 0
    out, _ = capsys.readouterr()
    assert "CountedVoteIsVote" in out and "needed:" in out and "Quorum bridge" in out
    assert "LeaseBacked" in out and "ElectedByQuorum" in out
    assert "quorum" in out and " proved " in out


def test_bug_variant_fails_with_counterexample(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = _run(["--bug", "forget-vote-on-restart"], capsys)
    assert code == 1 and data["result"] == "failed"
    names = [p["name"] for p in data["properties"]]
    assert names == ["election[forget-vote-on-restart]", "election-history[forget-vote-on-restart]"]
    for prop in data["properties"]:
        failures = prop["failures"]
        assert failures and all("Restart" in f["counterexample"] for f in failures)


def test_a_feature_bug_fails_its_feature_property(capsys: pytest.CaptureFixture[str]) -> None:
    """A feature's bug leaves one leader per term alone and breaks its feature's property."""
    code, data, _ = _run(["--bug", "no-check-quorum-zombie"], capsys)
    assert code == 1 and data["result"] == "failed"
    election, stepdown = data["properties"]
    assert election["name"] == "election[no-check-quorum-zombie]" and not election["failures"]
    assert stepdown["name"] == "checkquorum-stepdown[no-check-quorum-zombie]"
    (failure,) = stepdown["failures"]
    assert failure["obligation"] == "ElectionTimer => CheckQuorumStepDown'"
    assert "counterexample to induction: ElectionTimer(" in failure["counterexample"]


def test_a_safety_formula_weakened_to_true_is_caught(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The proof of `true` goes through; the bad-state check does not."""
    entry = catalog.ENTRY_BY_NAME["election"]
    weak = [
        replace(c, formula=lambda s, v: z3.BoolVal(True)) if c.id == "ElectionSafety" else c
        for c in entry.theory.conjuncts
    ]
    theory = replace(entry.theory, conjuncts=tuple(weak))
    monkeypatch.setitem(catalog.ENTRY_BY_NAME, "election", replace(entry, theory=theory))
    code, data, _ = _run(["--property", "election"], capsys)
    (prop,) = data["properties"]
    assert code == 1 and prop["result"] == "failed"
    assert prop["failures"] == []  # every obligation holds: `true` is inductive
    assert not prop["bad-state"]["ok"] and prop["bad-state"]["value"] == "true"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_spec_drift_fails_prove_naming_the_action(
    jobs: str,
    drift_stale_request_dropped: tie.NextFn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Change the spec alone (what its Next returns) and prove exits 1, naming the step."""
    shallow = (catalog.TieConfig(Params(servers=3, max_term=3, max_msgs=1), 6, (CANONICAL,)),)
    monkeypatch.setattr(cli, "TIES", shallow)
    monkeypatch.setattr(tie, "Next", drift_stale_request_dropped)
    code, data, _ = _run(["--property", "spec-tie", "--jobs", jobs], capsys)
    assert code == 1 and data["result"] == "failed"
    (row,) = data["tie"]
    rejected = row["rejected"][0]
    assert rejected["encoded_as"] == "HandleRequestVoteRequest"
    assert rejected["spec_action"].endswith("[HandleRequestVoteRequest]")


@pytest.mark.parametrize(
    "argv",
    [["--property", "nope"], ["--bug", "nope"], ["--frob"], ["--timeout-ms", "0"], ["--jobs", "0"]],
)
def test_usage_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("electorate prove: ")


def test_every_property_is_a_catalog_entry_with_its_own_formula() -> None:
    """The bad-state check reads the very formula the proof proves (no second copy)."""
    for entry in catalog.ENTRIES:
        cors = {c.id: c.formula for c in entry.theory.corollaries}
        proved = cors.get(entry.statement) or entry.theory.conjunct(entry.statement).formula
        assert entry.formula is proved
        assert isinstance(entry.theory.conjuncts[0], Lemma)


def test_z3_is_the_pinned_version() -> None:
    """The solver is part of the result: the installed z3 is the one pyproject pins."""
    import tomllib

    from electorate.proofs.core import Z3_PIN

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pinned = next(d for d in deps if d.startswith("z3-solver=="))
    assert pinned.removeprefix("z3-solver==").startswith(Z3_PIN)
    assert z3.get_version_string() == Z3_PIN


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def test_sigterm_ends_prove_and_its_tie_workers() -> None:
    """One line and exit 143, and the tie's worker processes do not outlive the run."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "electorate.proofs.cli", "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    # The first obligation of this process (workers may print theirs first): the workers are
    # running by now.
    first = proc.stderr.readline()
    while first and not first.startswith("[quorum"):
        first = proc.stderr.readline()
    assert first.startswith("[quorum"), first
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert err.splitlines()[-1] == "electorate prove: terminated"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    assert len(workers) == 2 and not any(Path(f"/proc/{w}").exists() for w in workers)


class _SignalledInFinalizer:
    """An object whose finalizer receives a signal, as a z3 object's `__del__` may: Python
    cannot raise the handler's exception there and reports it as unraisable."""

    ran: ClassVar[list[int]] = []

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def __del__(self) -> None:
        handler = signal.getsignal(self.signum)
        assert callable(handler)
        _SignalledInFinalizer.ran.append(self.signum)
        handler(self.signum, None)


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
def test_a_signal_dropped_in_a_finalizer_still_stops_prove(
    signum: int,
    code: int,
    word: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The signal arrives while a finalizer runs, so its exception is lost: the run still stops
    at its next progress line with the signal's exit code, never "ok", and the lost exception
    is not printed as a traceback ("Exception ignored in ...") before the one line."""
    run_obligations = cli._run_obligations

    def signalled(*args: Any, **kwargs: Any) -> Any:
        _SignalledInFinalizer(signum)  # dropped at once: its __del__ runs the handler
        return run_obligations(*args, **kwargs)

    reported: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_type))
    monkeypatch.setattr(cli, "_run_obligations", signalled)
    _SignalledInFinalizer.ran.clear()
    assert main(["--property", "quorum", "--no-tie"]) == code
    assert _SignalledInFinalizer.ran == [signum]  # the handler ran inside the finalizer
    assert reported == []
    assert capsys.readouterr().err.splitlines()[-1] == f"electorate prove: {word}"


def test_an_unraisable_exception_is_reported_when_no_signal_stopped_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hook hides only what a stop leaves behind."""
    from types import SimpleNamespace

    seen: list[object] = []
    hook = cli._quiet_after_a_signal(seen.append)
    monkeypatch.setattr(cli, "_received", [])
    lost = SimpleNamespace(exc_type=KeyboardInterrupt, object=z3.AstRef.__del__)
    hook(lost)
    assert seen == [lost]


def test_a_signal_wrapped_by_ctypes_still_stops_prove(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handler's exception comes back as another one (ctypes wraps an exception raised
    while it converts an argument in ArgumentError): still "terminated", exit 143, no
    traceback."""
    import ctypes

    run_obligations = cli._run_obligations

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            cli._on_signal(signal.SIGTERM, None)
        except cli._TerminatedError as err:
            raise ctypes.ArgumentError(f"argument 1: {type(err).__name__}: ") from None
        return run_obligations(*args, **kwargs)

    monkeypatch.setattr(cli, "_run_obligations", wrapped)
    assert main(["--property", "quorum", "--no-tie"]) == 143
    assert capsys.readouterr().err.splitlines()[-1] == "electorate prove: terminated"


def _prove_in_two_workers(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    pooled: bool = False,
    isolated: bool = False,
) -> tuple[str, int, Any]:
    """checkquorum-stepdown, its catalog entry scheduled as given, proved with two workers:
    its name, the exit code and its row."""
    name = "checkquorum-stepdown"
    entry = catalog.ENTRY_BY_NAME[name]
    scheduled = replace(entry, pooled=pooled, isolated=isolated)
    monkeypatch.setitem(catalog.ENTRY_BY_NAME, name, scheduled)
    code, data, _ = _run(["--property", name, "--jobs", "2"], capsys)
    (prop,) = data["properties"]
    return name, code, prop


def test_a_pooled_property_is_proved_in_parts_by_the_workers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its obligations run in the two workers (every other one each), its checks here; the
    row is the same as in one process."""
    import os

    name, code, prop = _prove_in_two_workers(monkeypatch, capsys, pooled=True)
    assert code == 0 and prop["result"] == "proved" and prop["obligations"] == 18
    workers = [p["process"] for p in prop["processes"] if p["process"] != os.getpid()]
    assert len(set(workers)) == 2 and prop["mutant"]["refuted"] and prop["vacuity"]["ok"]
    code, alone, _ = _run(["--property", name, "--jobs", "1"], capsys)
    assert code == 0 and [p["process"] for p in alone["properties"][0]["processes"]] == [
        os.getpid()
    ]


def test_an_isolated_property_is_proved_whole_by_a_worker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its obligations and its checks run in one worker, none here; the row is the same as in
    one process, and commit-index-committed is isolated in the catalog."""
    import os

    assert catalog.ENTRY_BY_NAME["commit-index-committed"].isolated
    name, code, prop = _prove_in_two_workers(monkeypatch, capsys, isolated=True)
    assert code == 0 and prop["result"] == "proved" and prop["obligations"] == 18
    (worker,) = [p["process"] for p in prop["processes"]]
    assert worker != os.getpid() and prop["mutant"]["refuted"] and prop["vacuity"]["ok"]
    assert prop["bad-state"]["ok"]
    code, alone, _ = _run(["--property", name, "--jobs", "1"], capsys)
    (row,) = alone["properties"]
    assert code == 0 and [p["process"] for p in row["processes"]] == [os.getpid()]
    assert {k: row[k] for k in ("result", "obligations")} == {"result": "proved", "obligations": 18}


def test_a_stopped_run_does_not_report_half_built_z3_terms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A term whose constructor the signal interrupted fails in its finalizer when collected:
    after the stop's one line that is not reported; any other unraisable exception is."""
    from types import SimpleNamespace

    seen: list[object] = []
    hook = cli._quiet_after_a_signal(seen.append)
    monkeypatch.setattr(cli, "_received", [signal.SIGINT])
    half = SimpleNamespace(exc_type=AttributeError, object=z3.AstRef.__del__)
    other = SimpleNamespace(exc_type=ValueError, object=z3.AstRef.__del__)
    hook(half)
    hook(other)
    assert seen == [other]
