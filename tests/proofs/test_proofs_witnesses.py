"""Concrete vacuity witnesses: a spec trace of the log profile, its history, and the checks."""

from __future__ import annotations

import z3

from electorate.proofs import catalog, commitindex, leadercompleteness, witnesses
from electorate.proofs.core import Settings
from electorate.proofs.model import ACTION_BY_NAME
from electorate.proofs.vocab import Sorts, Vocab
from electorate.spec.messages import Entry
from electorate.spec.state import Role

THEORY = leadercompleteness.LEADER_COMPLETENESS
MODEL = THEORY.model
INVARIANT = [(c.id, c.formula) for c in THEORY.conjuncts]


def test_the_trace_ends_with_a_later_leader_holding_the_commit() -> None:
    _, steps = witnesses.trace()
    last = steps[-1][2]
    assert last.role == (Role.Follower, Role.Leader) and last.current_term == (3, 3)
    assert last.log == ((Entry(2, 1),), (Entry(2, 1),)) and last.commit_index == (1, 1)
    ghosts = witnesses.history(steps)[-1]
    assert ghosts["committed"] == [(1, 2)] and ghosts["elected"] == [(0, 2), (1, 3)]
    assert ghosts["stored"] == [(0, 2, 1), (1, 2, 1)]


def test_every_state_of_the_trace_satisfies_the_invariants() -> None:
    """Leader Completeness's whole invariant, and commit-index-committed's with its
    hypotheses, are true on every state of the spec trace with its history."""
    pre, _ = commitindex.basis_formulas()
    both = [*INVARIANT, *[(c.id, c.formula) for c in commitindex.CONJUNCTS], *pre]
    for bad in witnesses.states():
        false = [name for name, f in both if witnesses.value(f, MODEL, bad) is not True]
        assert false == [], bad.words


def test_every_action_is_enabled_on_a_state_of_the_trace() -> None:
    for action in THEORY.actions():
        outcome = witnesses.check_enabled(MODEL, action, INVARIANT, Settings())
        assert outcome.holds and outcome.status == "sat", (action.name, outcome.detail)


def test_a_disabled_action_fails_the_check() -> None:
    """From Init no server is a candidate with a quorum of votes: BecomeLeader is not enabled
    (z3 answers unsat for the relation with that pre-state), so the check is no formality."""
    init = witnesses.states()[0]
    become = ACTION_BY_NAME["BecomeLeader"]
    outcome = witnesses.check_enabled(MODEL, become, INVARIANT, Settings(), at=init)
    assert not outcome.holds and outcome.status == "unsat"
    assert outcome.detail == "BecomeLeader is not enabled in Init"


def test_a_false_conjunct_fails_the_check() -> None:
    def no_leader(s: Sorts, v: Vocab) -> z3.BoolRef:
        i = z3.Const("ni", s.node)
        return z3.ForAll([i], v.role(i) != v.roles.leader)

    restart = ACTION_BY_NAME["Restart"]
    outcome = witnesses.check_enabled(MODEL, restart, [("NoLeader", no_leader)], Settings())
    assert not outcome.holds and outcome.detail is not None and "NoLeader" in outcome.detail
    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    situation = witnesses.check_situation(MODEL, entry.witness, INVARIANT, witnesses.states()[0])
    assert not situation.holds and "the situation" in (situation.detail or "")
