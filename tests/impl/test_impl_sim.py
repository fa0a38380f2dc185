"""Seeded cluster simulations of the core: safety, leases, tokens and liveness under faults.

Every run is identified by (seed, scenario, options); a failure message carries the exact
``electorate sim ...`` command that replays it.
"""

from __future__ import annotations

import pytest

from electorate.impl.core import Role
from electorate.testing.mutants import Mutant
from electorate.testing.sim import SCENARIOS, SimResult, _Options, _Sim, main, simulate

TICKS = 300


def explain(r: SimResult) -> str:
    return f"{r.summary()}\n" + "\n".join(r.violations) + f"\nreplay: {r.replay_command()}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_safety_and_liveness_hold_across_seeds(scenario: str) -> None:
    """§3.4 election safety, one vote per term, no overlapping leases (§6.4.1), increasing
    fencing tokens, and a leased leader within 100 ticks of healing; 5 nodes."""
    for seed in range(8):
        r = simulate(seed, scenario, ticks=TICKS)
        assert r.ok, explain(r)
        assert r.leader_after_heal is not None and r.leaderships >= 1, explain(r)


@pytest.mark.parametrize(
    ("nodes", "prevote", "check_quorum"),
    [
        (1, True, True),
        (2, True, True),
        (3, True, True),
        (4, True, True),
        (5, False, True),
        (5, True, False),
        (3, False, False),
    ],
)
def test_other_sizes_and_feature_sets(nodes: int, prevote: bool, check_quorum: bool) -> None:
    """The same checks with even/odd cluster sizes and PreVote or CheckQuorum switched off."""
    for scenario in SCENARIOS:
        for seed in range(2):
            r = simulate(
                seed,
                scenario,
                nodes=nodes,
                ticks=TICKS,
                prevote=prevote,
                check_quorum=check_quorum,
            )
            assert r.ok, explain(r)


def test_the_same_seed_replays_exactly() -> None:
    a = simulate(11, "chaos", ticks=TICKS)
    b = simulate(11, "chaos", ticks=TICKS)
    assert a.log == b.log and a.summary() == b.summary()
    c = simulate(12, "chaos", ticks=TICKS)
    assert c.log != a.log


SPLIT = ("two leaders", "overlapping leases")
# (mutant, scenarios to search, option overrides, any of these in the first violation)
SIM_CATCHES: list[tuple[Mutant, tuple[str, ...], dict[str, bool], tuple[str, ...]]] = [
    (Mutant.VOTE_TWICE, ("calm", "lossy"), {}, ("voted for",)),
    (Mutant.NO_TERM_INCREMENT, ("calm", "lossy"), {}, ("voted for",)),
    (Mutant.NO_SELF_VOTE, ("crashes", "chaos", "transfer"), {}, SPLIT),
    (Mutant.QUORUM_HALF, ("chaos", "halves"), {"prevote": False}, SPLIT),
    (Mutant.COUNT_DUPLICATE_VOTES, ("chaos", "slow"), {}, SPLIT),
    (Mutant.COUNT_STALE_VOTES, ("slow",), {}, SPLIT),
    # PreVote off: with it, a restarted node rarely gets a vote request of the term it forgot
    # (about 1 run in 25 of crashes/chaos); without it, about 1 in 2.
    (Mutant.FORGET_STATE_ON_RESTART, ("crashes", "chaos"), {"prevote": False}, ("voted for",)),
    (Mutant.KEEP_VOTE_ON_NEW_TERM, ("halves", "lossy"), {}, ("no leader",)),
    (Mutant.UPTODATE_GT, ("calm",), {}, ("no leader",)),
    (
        Mutant.CLEAR_VOTE_ON_SAME_TERM_STEPDOWN,
        ("lossy", "slow", "calm"),
        {"prevote": False},
        ("voted for", *SPLIT),
    ),
]


@pytest.mark.parametrize(
    ("mutant", "scenarios", "opts", "words"), SIM_CATCHES, ids=[c[0].value for c in SIM_CATCHES]
)
def test_simulation_catches_planted_bug(
    mutant: Mutant, scenarios: tuple[str, ...], opts: dict[str, bool], words: tuple[str, ...]
) -> None:
    """The simulation's checks are strong enough to notice each safety-relevant bug."""
    tried: list[str] = []
    for seed in range(12):
        for scenario in scenarios:
            r = simulate(seed, scenario, ticks=TICKS, mutants=frozenset({mutant}), **opts)
            tried.append(f"{scenario}/{seed}")
            if not r.ok:
                assert any(w in r.violations[0] for w in words), explain(r)
                assert f"--mutant {mutant}" in r.replay_command()
                return
    pytest.fail(f"{mutant} went unnoticed in {tried}")


def test_leases_hold_within_the_drift_margin_and_break_far_beyond_it() -> None:
    """§6.4.1: leases assume bounded clock drift. Within the margin of the defaults
    (rates in [0.9, 1.1]) they hold; with rates in [0.1, 1.9] the checker sees two leases
    at once (which also shows the lease check is not vacuous on real runs)."""
    for seed in range(6):
        for scenario in ("halves", "crashes"):
            r = simulate(seed, scenario, nodes=3, ticks=TICKS, drift=0.1)
            assert r.ok, explain(r)
    for seed in range(20):
        r = simulate(seed, "halves", nodes=3, ticks=TICKS, drift=0.9)
        if not r.ok:
            assert "overlapping leases" in r.violations[0], explain(r)
            assert "--drift 0.9" in r.replay_command()
            return
    pytest.fail("no lease overlap with clock rates in [0.1, 1.9] in 20 seeds")


class _Stub:
    """A fake machine whose observables the checker reads."""

    def __init__(self, term: int, leased: bool) -> None:
        self.role, self.term, self.voted_for = Role.LEADER, term, None
        self.token = term
        self._leased = leased

    def is_leader(self) -> bool:
        return self._leased


def _checker() -> _Sim:
    opts = _Options(3, 10, 5, 5, frozenset(), True, True, False)
    return _Sim(0, "calm", opts)


def test_checker_flags_overlapping_leases_and_two_leaders_in_a_term() -> None:
    sim = _checker()
    sim.nodes = {"n1": _Stub(2, True), "n2": _Stub(2, True)}  # type: ignore[dict-item]
    sim.observe()
    text = " ".join(sim.result.violations)
    assert "overlapping leases" in text and "two leaders in term 2" in text


def test_checker_flags_a_token_going_backwards() -> None:
    sim = _checker()
    sim.nodes = {"n1": _Stub(5, True), "n2": None}  # type: ignore[dict-item]
    sim.observe()
    sim.nodes = {"n1": None, "n2": _Stub(4, True)}  # type: ignore[dict-item]
    sim.observe()
    assert any("token 4 of n2 after token 5 of n1" in v for v in sim.result.violations)


def test_cli_ok_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seed", "3", "--scenario", "calm", "--ticks", "200"]) == 0
    assert "seed=3 scenario=calm" in capsys.readouterr().out


def test_cli_reports_violation_with_replay(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--scenario", "calm", "--mutant", "vote-twice", "--ticks", "200"])
    text = capsys.readouterr().out
    assert rc == 1 and "violation:" in text
    assert "replay: electorate sim --seed 0 --scenario calm" in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--scenario", "nope"], "unknown scenario"),
        (["--mutant", "nope"], "unknown mutant"),
        (["--ticks", "50"], "heal_at"),
        (["--drift", "1.5"], "drift"),
        (["--seed", "x"], "invalid int value"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_cli_usage_errors_are_one_line(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err
