"""TLC on spec/RaftElectionFeatures.tla and our checker count the same states, per feature."""

from __future__ import annotations

import functools
import shutil

import pytest

from electorate.app import tlc
from electorate.app.api import check
from electorate.app.tlc import SPEC_DIR, TlcConfigError, TlcModel, TlcResult
from electorate.model_check.search import check as search
from electorate.spec.bugs import BUGS
from electorate.spec.ids import BugId
from electorate.spec.model import RaftModel
from electorate.spec.params import Params
from electorate.spec.state import State

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
    and relative times were negative before spec/features/relative_time.origin)."""
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


def cfg_text(p: Params) -> str:
    return tlc.cfg_text(TlcModel(p))


def run(p: Params) -> TlcResult:
    return tlc.run(TlcModel(p), timeout_s=300)


def test_cfg_names_every_feature_invariant() -> None:
    text = cfg_text(Params(servers=2, features=frozenset({"prevote", "lease"})))
    assert 'Features = {"lease", "prevote"}' in text
    for inv in ("PreVoteTermsEarned", "NoUnearnedDeposition", "LeaseSafety", "LeaseBacked"):
        assert inv in text
    assert "CheckQuorumStepDown" not in text


def test_cfg_views_relative_time_only() -> None:
    assert "MaxClock = 0" in cfg_text(RELATIVE)
    assert cfg_text(RELATIVE).endswith("VIEW RelativeView\n")
    assert "VIEW" not in cfg_text(CONFIGS["lease"])
    assert "VIEW" not in cfg_text(CONFIGS["prevote"])  # max_clock 0, no lease


def test_cfg_refuses_what_the_module_lacks() -> None:
    with pytest.raises(TlcConfigError, match="election profile"):
        cfg_text(Params(profile="log", features=frozenset({"prevote"})))
    # The canonical bug variants' hooks are RaftElection.tla's, not wired up here.
    with pytest.raises(TlcConfigError, match="no hook for bug 'vote-twice'"):
        cfg_text(Params(servers=2, features=frozenset({"prevote"}), bug="vote-twice"))


# ---- Bug variants of the features (spec/bugs.py) ----------------------------------------------

FEATURE_BUGS = sorted(tlc.FEATURED.bug_hooks)


def test_every_feature_bug_has_a_hook() -> None:
    assert set(FEATURE_BUGS) == {n for n, b in BUGS.items() if "features" in b.overrides}


def test_bug_cfgs_name_hooks_the_module_defines() -> None:
    tla = (SPEC_DIR / f"{tlc.FEATURED.name}.tla").read_text()
    for bug, overrides in tlc.FEATURED.bug_hooks.items():
        text = tlc.cfg_text(tlc.bug_model(bug))
        for hook, variant in overrides:
            assert f"    {hook} <- {variant}\n" in text
            for name in (hook, variant):  # defined, with or without arguments
                assert f"\n{name} ==" in tla or f"\n{name}(" in tla, name
    too_long = tlc.cfg_text(tlc.bug_model("lease-too-long"))
    assert "<-" not in too_long and "LeaseTicks = 3\n" in too_long
    # Without the pre-vote phase our checker drops PreVoteTermsEarned; so does the config.
    skipped = tlc.cfg_text(tlc.bug_model("no-prevote-disruption"))
    assert "PreVoteTermsEarned" not in skipped and "NoUnearnedDeposition" in skipped


@functools.cache
def bug_tlc(bug: BugId) -> TlcResult:
    return tlc.run(tlc.bug_model(bug), timeout_s=300)


# Both search breadth-first with one worker and stop at the first violation, so both report a
# shortest counterexample: same invariant, same length. The counts depend on where in the last
# level each stopped (its action order): they agree for the two lease variants, not for the
# other three (e.g. no-prevote-disruption: TLC 3,313 distinct, ours 3,290), and TLC reports
# depth 1 for prevote-bumps-term's 2-state trace. test_bug_hooks_mirror_the_python_branches
# compares whole state spaces instead.
@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("bug", FEATURE_BUGS)
def test_tlc_and_checker_find_the_same_feature_bug(bug: BugId) -> None:
    ours, theirs = check(tlc.bug_model(bug).params, symmetry=False), bug_tlc(bug)
    violation = ours.search.violation
    assert theirs.result == ours.result == "violation" and violation is not None
    assert theirs.violated_invariant == violation.invariant == BUGS[bug].breaks
    assert len(theirs.trace) == len(violation.trace) == ours.depth


def without_invariants(p: Params) -> tuple[str, RaftModel]:
    """p's TLC config and our model, both checking no invariant: the whole bounded space."""
    cfg = cfg_text(p).splitlines(keepends=True)
    model = RaftModel(p)
    model.invariants = []
    return "".join(line for line in cfg if not line.startswith("INVARIANT")), model


# A violation run stops early; without invariants both explore the variant's whole bounded
# space, so every state the hook reaches is counted on both sides. (prevote-bumps-term at
# max_term 3: at 2 the constraint cuts every pre-candidate, leaving the initial state alone.
# lease-from-receive-time needs its view hooks too: without NRoundAt/NRoundAcked TLC counts
# 28,841 distinct states, ours 29,545.)
@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("bug", FEATURE_BUGS)
def test_bug_hooks_mirror_the_python_branches(bug: BugId) -> None:
    p = tlc.bug_model(bug).params
    if bug == "prevote-bumps-term":
        p = Params(servers=2, features=p.features, max_term=3, bug=bug)
    cfg, model = without_invariants(p)
    theirs, ours = tlc.run_cfg(tlc.FEATURED, cfg, timeout_s=300), search(model, False, 1, None, 0)
    assert theirs.result == "ok" and ours.violation is None
    got = (ours.distinct, ours.generated, ours.depth)
    assert got == (theirs.distinct_states, theirs.states_generated, theirs.depth)


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("feature", sorted(CONFIGS))
def test_tlc_and_checker_agree(feature: str) -> None:
    p = CONFIGS[feature]
    ours = check(p, symmetry=False)
    theirs = run(p)
    assert theirs.result == ours.result == "ok"
    got = (ours.distinct_states, ours.states_generated, ours.depth)
    assert got == (theirs.distinct_states, theirs.states_generated, theirs.depth)


# Relative time: TLC counts distinct views, and the view is relative_time.Normalize, so distinct
# states and depth must agree. TLC's "generated" need not: it expands concrete states, whose
# bag may hold two heartbeats that normalise to one entry of ours, and so tries more steps.
# (With max_msgs 1 no two messages can merge, so here it happens to agree as well.)


@functools.cache
def relative_tlc(p: Params) -> TlcResult:
    """One TLC run per relative-time model, shared by the tests below."""
    return run(p)


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
