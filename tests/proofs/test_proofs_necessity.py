"""Lemma necessity: without each lemma, an obligation that assumed it fails (docs/proofs.md)."""

from __future__ import annotations

import pytest

from electorate.proofs import commitindex, leadercompleteness, necessity
from electorate.proofs.induction import Theory

LC = necessity.LEADER_COMPLETENESS
CI = necessity.COMMIT_INDEX
PINNED = [
    (theory, lemma)
    for theory in (LC, CI)
    for lemma in necessity.lemmas(theory)
    if lemma in necessity.NEEDED[theory.name]
]


def test_every_lemma_has_a_verdict() -> None:
    """Each lemma is pinned to the obligation that fails without it, or listed as not needed."""
    for theory in (LC, CI):
        judged = {*necessity.NEEDED[theory.name], *necessity.NOT_NEEDED[theory.name]}
        assert judged == set(necessity.lemmas(theory)), theory.name
    assert set(necessity.lemmas(LC)) == {lem.id for lem in leadercompleteness.LEMMAS}
    assert set(commitindex.USED) < set(necessity.lemmas(CI))


def test_dropping_a_lemma_removes_it_everywhere() -> None:
    reduced = necessity.without(LC, "StoredHolds")
    assert "StoredHolds" not in {c.id for c in reduced.conjuncts}
    assert all("StoredHolds" not in ids for _, ids in reduced.uses)
    assert all(not owner.endswith("StoredHolds") for owner, _ in reduced.uses)
    names = [o.name for o in necessity.affected(LC, "StoredHolds")]
    assert "HandleRequestVoteRequest => VoterPassesEntry'" in names
    assert not any(n.startswith(("Init", "Bridge")) or "=> StoredHolds" in n for n in names)


def test_the_pinned_obligations_assumed_their_lemma() -> None:
    for theory, lemma in PINNED:
        name, _ = necessity.NEEDED[theory.name][lemma]
        assert name in {o.name for o in necessity.affected(theory, lemma)}, (lemma, name)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("theory", "lemma"), PINNED, ids=[lem for _, lem in PINNED])
def test_without_the_lemma_its_obligation_fails(theory: Theory, lemma: str) -> None:
    """Seed 0, one quick and one long attempt (necessity.SETTINGS), as the search found it: a
    `sat` must be `sat` again (found by the search among few servers: with a counterexample),
    an `unknown` must not be proved. Each in a fresh interpreter: what this session ran
    before must not change z3's answer."""
    _, how = necessity.NEEDED[theory.name][lemma]
    outcome = necessity.replay_alone(lemma)
    assert not outcome.holds, f"{lemma}: proved without it"
    if how.startswith("sat"):
        assert outcome.status == "sat", (lemma, outcome.status)
    if how == "sat by the search":
        assert outcome.detail and outcome.detail.startswith("counterexample to induction")
