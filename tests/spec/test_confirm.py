"""spec/confirm.py: a --reduce counterexample replayed in the exact lease model."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import pairwise
from typing import cast

import pytest

from electorate.app import check as check_cli
from electorate.app.api import check
from electorate.model_check.search import Violation
from electorate.spec import symmetry
from electorate.spec.bugs import BUGS
from electorate.spec.confirm import Step, confirm, time_free_key
from electorate.spec.ids import BugId
from electorate.spec.next import Action, Init, Next
from electorate.spec.params import Params, ParamsError
from electorate.spec.properties import invariants_for
from electorate.spec.state import State


def _reduced(bug: BugId | None) -> Params:
    if bug is None:
        return Params(servers=2, features=frozenset({"lease"}), reduce=True)
    return Params(bug=bug, reduce=True, **BUGS[bug].overrides)


def _violation(p: Params, witness: str | None = None) -> Violation[State, Action]:
    v = check(p, witness=witness).search.violation
    assert v is not None
    return cast(Violation[State, Action], v)


def _assert_exact_counterexample(p: Params, steps: list[Step], violated: str) -> None:
    exact = replace(p, reduce=False)
    assert steps[0] == (None, Init(exact))
    for (_, before), step in pairwise(steps):
        assert step in list(Next(exact, before)), f"not an exact step: {step[0]}"
    inv = next(i for i in invariants_for(exact) if i.id == violated)
    holds = [inv.holds(exact, s) for _, s in steps]
    assert holds == [True] * (len(steps) - 1) + [False]


@pytest.mark.parametrize("bug", ["lease-too-long", "lease-from-receive-time"])
def test_reduced_lease_bugs_are_confirmed_in_the_exact_model(bug: BugId) -> None:
    p = _reduced(bug)
    v = _violation(p)
    steps = confirm(p, v.trace, v.invariant)
    assert steps is not None
    _assert_exact_counterexample(p, steps, v.invariant)
    assert len(steps) == 19  # the exact model's shortest counterexample (18 under --reduce)


def test_cli_reports_the_confirmed_exact_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code = check_cli.main(["--bug", "lease-too-long", "--reduce"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Confirmed without --reduce: the exact model violates LeaseBacked too (19 states)" in out
    assert out.count("Counterexample to LeaseBacked") == 2  # the reduced trace, then the exact


def test_cli_json_carries_the_exact_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code = check_cli.main(["--bug", "lease-from-receive-time", "--reduce", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["result"] == "violation" and doc["confirmed_exact"] is True
    assert len(doc["violation"]["trace"]) == 18 and len(doc["exact_trace"]) == 19
    assert doc["exact_trace"][0]["action"] == "Init"


def test_cli_says_when_the_exact_model_does_not_confirm(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_cli, "confirm", lambda *_args: None)
    code = check_cli.main(["--bug", "lease-too-long", "--reduce"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Not confirmed in the exact model: --reduce over-approximates" in out
    assert out.count("Counterexample to LeaseBacked") == 1


def test_correct_spec_trace_is_not_confirmed() -> None:
    """A reduced trace of the correct lease spec: the exact model never violates LeaseBacked."""
    p = _reduced(None)
    v = _violation(p, witness="LeaderElected")
    assert confirm(p, v.trace, "LeaseBacked") is None


def test_trace_with_a_missing_step_is_not_confirmed() -> None:
    """No exact step jumps over the removed one, so the guided search runs dry."""
    p = _reduced("lease-too-long")
    v = _violation(p)
    trace = list(v.trace)
    k = next(
        k
        for k in range(1, len(trace) - 1)
        if len({time_free_key(p, s) for _, s in trace[k - 1 : k + 2]}) == 3
    )
    gapped = trace[:k] + trace[k + 1 :]
    assert confirm(p, gapped, v.invariant) is None
    assert confirm(p, trace[1:], v.invariant) is None  # not from Init


def test_time_free_key_ignores_renaming_and_time() -> None:
    p = _reduced("lease-too-long")
    s = _violation(p).trace[12][1]
    for perm in symmetry._perms(p.servers):
        assert time_free_key(p, symmetry.permute(s, *perm)) == time_free_key(p, s)
    later = s._replace(clock=tuple(c + 1 for c in s.clock))
    assert time_free_key(p, later) == time_free_key(p, s)


def test_unknown_invariant_is_a_params_error() -> None:
    p = _reduced("lease-too-long")
    with pytest.raises(ParamsError, match="unknown invariant 'Nope'"):
        confirm(p, [(None, Init(p))], "Nope")
