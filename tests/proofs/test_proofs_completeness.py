"""A leader's log covers its voters' logs (log profile): the proof and its checks."""

from __future__ import annotations

import json

import pytest
import z3

from electorate.proofs import catalog, cli, completeness
from electorate.proofs.core import Settings
from electorate.proofs.induction import obligations
from electorate.proofs.mutants import expected_breaks
from electorate.proofs.sanity import evaluate
from electorate.spec.messages import Entry
from electorate.spec.properties import LeaderLogCoversVoters

THEORY = completeness.VOTERS


def test_leader_log_covers_voters_is_proved_for_every_cluster_size() -> None:
    failed = [o.name for o in obligations(THEORY) if not o.run(Settings()).holds]
    assert failed == []


def test_votes_without_the_log_check_break_it_with_a_readable_counterexample() -> None:
    broken = expected_breaks(completeness.MUTANT, THEORY)
    assert [o.name for o in broken] == [
        "HandleRequestVoteRequest => LeaderLogCoversVoters'",
        "HandleRequestVoteRequest => CandidateLogCoversVoters'",
    ]
    for ob in broken:
        outcome = ob.run(Settings(search_first=True))
        assert not outcome.holds and outcome.status == "sat" and outcome.detail
        assert outcome.detail.startswith("counterexample to induction: HandleRequestVoteRequest(")
        assert "log [" in outcome.detail and "granted" in outcome.detail


def test_the_formula_is_false_where_the_spec_property_is() -> None:
    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    bad = entry.bad()
    assert LeaderLogCoversVoters(bad.params, bad.state) is False
    assert evaluate(entry.formula, THEORY.model, bad) is False
    both = bad.state._replace(log=((Entry(1, 1),), (Entry(1, 1),)))
    assert LeaderLogCoversVoters(bad.params, both) is True
    assert evaluate(entry.formula, THEORY.model, bad.__class__(bad.params, both)) is True
    assert evaluate(lambda s, v: z3.BoolVal(True), THEORY.model, bad) is True


def test_the_theory_shares_log_matchings_model_and_so_its_tie() -> None:
    log_ties = [c for c in catalog.TIES if c.params.profile == "log"]
    assert log_ties and all(THEORY.model in c.models for c in log_ties)


@pytest.mark.slow
def test_prove_reports_it_with_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--property", THEORY.name, "--json", "--no-tie"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["result"] == "ok"
    (row,) = data["properties"]
    assert row["result"] == "proved"
    assert {k: row[k]["ok"] for k in ("mutant", "vacuity", "bad-state")} == dict.fromkeys(
        ("mutant", "vacuity", "bad-state"), True
    )
