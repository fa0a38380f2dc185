"""TLC and our checker explore the same state space: the shipped models, number for number.

Three kinds of test per shipped model of RaftElection.tla in spec/models/ (the features
module's are in tests/spec/test_features_cfgs.py):
- the .cfg on disk is what app/tlc.py generates for the recorded model;
- TLC, run on that .cfg, reproduces the figures recorded in expected.json;
- our checker, run on the same parameters, reports the same distinct states, generated
  states and depth as TLC (expected.json holds TLC's own figures, written by
  `python -m electorate.app.tlc --update-models`).
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from electorate.app import api, tlc
from electorate.spec.bugs import BUGS
from electorate.spec.params import Params

MODULE = tlc.CANONICAL
MODELS_DIR = MODULE.models_dir
EXPECTED: dict[str, dict[str, Any]] = json.loads((MODELS_DIR / MODULE.expected_file).read_text())
NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not on PATH: TLC needs a Java runtime"
)
# Models whose TLC run ends at a violation: the counts then depend on where TLC stopped,
# so only the counterexample is comparable, not the totals.
WITNESSES = sorted(n for n, e in EXPECTED.items() if e["params"]["witness"])
BUGGY = sorted(name for name, e in EXPECTED.items() if e["params"]["bug"])
COMPLETE = sorted(name for name, e in EXPECTED.items() if e["result"] == "ok")
# Our checker needs about a minute of CPU for these (TLC: about 20 s): marked slow.
SLOW_FOR_US = {"election_n3_sym"}


def _slow_marked(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_FOR_US else n for n in names]


def test_every_shipped_model_is_recorded() -> None:
    on_disk = {p.stem for p in MODELS_DIR.glob("*.cfg")}
    assert on_disk == set(EXPECTED) == set(tlc.shipped(MODULE))
    assert WITNESSES, "at least one model must fail, or a vacuous spec would pass"
    assert all(EXPECTED[name]["result"] == "violation" for name in WITNESSES + BUGGY)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cfg_matches_generator(name: str) -> None:
    model = tlc.model_from_json(EXPECTED[name]["params"])
    assert model == tlc.SHIPPED_MODELS[name]
    assert (MODELS_DIR / f"{name}.cfg").read_text() == tlc.cfg_text(model)


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tlc_reproduces_expected(name: str) -> None:
    res = tlc.run_cfg(MODULE, (MODELS_DIR / f"{name}.cfg").read_text(), timeout_s=600)
    # Through JSON, as expected.json was written (tuples become lists).
    got = json.loads(json.dumps(tlc.expected_entry(tlc.SHIPPED_MODELS[name], res)))
    want = dict(EXPECTED[name])
    # The TLC build is recorded for the reader; a different build may count the same.
    got.pop("tlc")
    want.pop("tlc")
    assert got == want


def _our_check(model: tlc.TlcModel) -> api.CheckResult:
    """Our checker's CheckResult for the same model."""
    return api.check(model.params, symmetry=model.symmetry, workers=1)


@pytest.mark.parametrize("name", _slow_marked(COMPLETE))
def test_checker_agrees_with_tlc(name: str) -> None:
    want = EXPECTED[name]
    res = _our_check(tlc.SHIPPED_MODELS[name])
    got = (res.result, res.distinct_states, res.states_generated, res.depth)
    assert got == (want["result"], want["distinct"], want["generated"], want["depth"])
    # Passing proves nothing unless the sometimes-properties (a leader elected, ...) were met.
    assert res.vacuous == []


@pytest.mark.parametrize("name", BUGGY)
def test_bug_model_uses_the_bug_catalogue_parameters(name: str) -> None:
    params = tlc.SHIPPED_MODELS[name].params
    assert params.bug is not None
    bug = BUGS[params.bug]
    assert params == Params(bug=params.bug, **bug.overrides)
    assert EXPECTED[name]["violated_invariant"] == bug.breaks


@pytest.mark.parametrize("name", BUGGY)
def test_checker_finds_the_same_bug_as_tlc(name: str) -> None:
    # Both search breadth-first with one worker, so both report a shortest counterexample:
    # same invariant, same length. (Which of several equally short ones depends on the order
    # each enumerates actions in, so the steps themselves are not compared.)
    want = EXPECTED[name]
    res = _our_check(tlc.SHIPPED_MODELS[name])
    violation = res.search.violation
    assert res.result == "violation" and violation is not None
    assert (violation.invariant, len(violation.trace)) == (
        want["violated_invariant"],
        len(want["trace"]),
    )
    assert res.depth == want["depth"]


def test_witness_trace_is_a_shortest_election() -> None:
    # TLC with one worker finds the first violation in BFS order: the trace ends in
    # BecomeLeader and has exactly as many states as the depth reached.
    for name in WITNESSES:
        entry = EXPECTED[name]
        assert entry["violated_invariant"] == "NoLeaderElected"
        assert entry["trace"][0] == "Init" and entry["trace"][-1] == "BecomeLeader"
        assert len(entry["trace"]) == entry["depth"]
