"""The shipped feature models (spec/models/features/): current, and TLC's recorded figures hold.

expected_features.json holds TLC's own figures, written by
`python -m electorate.app.tlc --update-models`.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from electorate.app import tlc
from electorate.app.api import check

MODULE = tlc.FEATURED
MODELS_DIR = MODULE.models_dir
EXPECTED: dict[str, dict[str, Any]] = json.loads((MODELS_DIR / MODULE.expected_file).read_text())
NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not on PATH: TLC needs a Java runtime"
)


def test_every_features_model_is_recorded() -> None:
    on_disk = {p.stem for p in MODELS_DIR.glob("*.cfg")}
    assert on_disk == set(EXPECTED) == set(tlc.shipped(MODULE))
    # Every bug variant's model fails, every other one passes.
    assert all(
        e["result"] == ("violation" if e["params"]["bug"] else "ok") for e in EXPECTED.values()
    )
    assert [n for n, e in EXPECTED.items() if e["view"]] == [
        "features_lease_n2",
        "bug_lease_too_long_n2",
        "bug_lease_from_receive_time_n2",
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cfg_matches_generator(name: str) -> None:
    model = tlc.model_from_json(EXPECTED[name]["params"])
    assert model == tlc.SHIPPED_MODELS[name]
    assert (MODELS_DIR / f"{name}.cfg").read_text() == tlc.cfg_text(model)


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tlc_reproduces_expected(name: str) -> None:
    res = tlc.run_cfg(MODULE, (MODELS_DIR / f"{name}.cfg").read_text(), timeout_s=300)
    got = tlc.expected_entry(tlc.SHIPPED_MODELS[name], res)
    want = dict(EXPECTED[name])
    # The TLC build is recorded for the reader; a different build may count the same.
    got.pop("tlc")
    want.pop("tlc")
    assert json.loads(json.dumps(got)) == want


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_checker_agrees_with_recorded_tlc(name: str) -> None:
    want = EXPECTED[name]
    res = check(tlc.SHIPPED_MODELS[name].params, symmetry=False)
    if want["result"] == "violation":
        # Both stop at the first violation in BFS order, so both report a shortest trace;
        # the counts depend on where in the last level each stopped (the order it enumerates
        # actions in), as for the canonical bug models (tests/model_check/test_tlc_crosscheck.py).
        violation = res.search.violation
        assert res.result == "violation" and violation is not None
        assert (violation.invariant, len(violation.trace)) == (
            want["violated_invariant"],
            len(want["trace"]),
        )
        return
    assert (res.result, res.distinct_states, res.depth) == (
        want["result"],
        want["distinct"],
        want["depth"],
    )
    if not want["view"]:  # under a VIEW TLC's generated count is not ours (see app/tlc.py)
        assert res.states_generated == want["generated"]
    assert res.vacuous == []
