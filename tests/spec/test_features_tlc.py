"""TLC on spec/RaftElectionFeatures.tla and our checker count the same states, per feature."""

from __future__ import annotations

import functools
import shutil

import pytest

from model_check import tlc_features
from model_check.api import check
from model_check.tlc import TlcConfigError, TlcResult
from spec.model import RaftModel
from spec.params import Params
from spec.state import State

NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not on PATH: TLC needs a Java runtime"
)

# One configuration per feature: two servers, no symmetry (TLC's symmetry is not an exact
# orbit count in general), clocks up to 2 for the absolute-time lease.
CONFIGS = {
    "prevote": Params(servers=2, features=frozenset({"prevote"})),
    "check_quorum": Params(servers=2, features=frozenset({"check_quorum"})),
    "lease": Params(servers=2, features=frozenset({"lease"}), max_clock=2),
}
# The lease in relative time (max_clock 0): TLC runs under VIEW RelativeView (about 15 s), and
# with all three features (about 30 s, slow: prevote traffic meets the lease's term rules).
RELATIVE = Params(servers=2, features=frozenset({"lease"}))
ALL_RELATIVE = Params(servers=2, features=frozenset({"prevote", "check_quorum", "lease"}))


def exact_counts(p: Params) -> tuple[int, int]:
    """(distinct, depth) of p by a plain BFS keeping whole states, not 64-bit fingerprints as
    model_check.search does (that once hid 258 states here: CPython hashes -1 and -2 alike,
    and relative times were negative before spec/ext_time.origin)."""
    model = RaftModel(p)
    frontier = model.init_states()
    seen: set[State] = set(frontier)
    depth = 0
    while frontier:
        depth += 1
        nxt = []
        for s in frontier:
            for _action, t in model.successors(s):
                if t not in seen and model.in_constraint(t):
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return len(seen), depth


def test_cfg_names_every_feature_invariant() -> None:
    text = tlc_features.cfg_text(Params(servers=2, features=frozenset({"prevote", "lease"})))
    assert 'Features = {"lease", "prevote"}' in text
    for inv in ("PreVoteTermsEarned", "NoUnearnedDeposition", "LeaseSafety", "LeaseBacked"):
        assert inv in text
    assert "CheckQuorumStepDown" not in text


def test_cfg_views_relative_time_only() -> None:
    assert "MaxClock = 0" in tlc_features.cfg_text(RELATIVE)
    assert tlc_features.cfg_text(RELATIVE).endswith("VIEW RelativeView\n")
    assert "VIEW" not in tlc_features.cfg_text(CONFIGS["lease"])
    assert "VIEW" not in tlc_features.cfg_text(CONFIGS["prevote"])  # max_clock 0, no lease


def test_cfg_refuses_what_the_module_lacks() -> None:
    with pytest.raises(TlcConfigError, match="election profile"):
        tlc_features.cfg_text(Params(profile="log", features=frozenset({"prevote"})))
    # The lease bug variants have no hooks in RaftElectionFeatures.tla.
    for bug in ("lease-too-long", "lease-from-receive-time"):
        with pytest.raises(TlcConfigError, match="no bugs"):
            tlc_features.cfg_text(Params(servers=2, features=frozenset({"lease"}), bug=bug))


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("feature", sorted(CONFIGS))
def test_tlc_and_checker_agree(feature: str) -> None:
    p = CONFIGS[feature]
    ours = check(p, symmetry=False)
    theirs = tlc_features.run(p, timeout_s=300)
    assert theirs.result == ours.result == "ok"
    got = (ours.distinct_states, ours.states_generated, ours.depth)
    assert got == (theirs.distinct_states, theirs.states_generated, theirs.depth)


# Relative time: TLC counts distinct views, and the view is ext_time.Normalize, so distinct
# states and depth must agree. TLC's "generated" need not: it expands concrete states, whose
# bag may hold two heartbeats that normalise to one entry of ours, and so tries more steps.
# (With max_msgs 1 no two messages can merge, so here it happens to agree as well.)


@functools.cache
def relative_tlc(p: Params) -> TlcResult:
    """One TLC run per relative-time model, shared by the tests below."""
    return tlc_features.run(p, timeout_s=300)


@NEEDS_JAVA
@pytest.mark.tlc
def test_tlc_view_counts_every_normalised_state() -> None:
    theirs = relative_tlc(RELATIVE)
    assert theirs.result == "ok"
    assert (theirs.distinct_states, theirs.depth) == exact_counts(RELATIVE)


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize(
    "p",
    [
        pytest.param(RELATIVE, id="lease"),
        pytest.param(ALL_RELATIVE, id="all_features", marks=pytest.mark.slow),
    ],
)
def test_tlc_and_checker_agree_in_relative_time(p: Params) -> None:
    ours, theirs = check(p, symmetry=False), relative_tlc(p)
    assert theirs.result == ours.result == "ok"
    assert (ours.distinct_states, ours.depth) == (theirs.distinct_states, theirs.depth)
