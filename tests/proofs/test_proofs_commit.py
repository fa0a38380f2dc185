"""Every commit is stored by a quorum in its term (log profile): the proof, its checks, its tie."""

from __future__ import annotations

from collections.abc import Iterator

import z3

from electorate.proofs import catalog, commit, tie
from electorate.proofs.core import Settings
from electorate.proofs.induction import obligations
from electorate.proofs.mutants import expected_breaks
from electorate.proofs.sanity import evaluate
from electorate.spec.next import Action, Next
from electorate.spec.params import Params
from electorate.spec.state import Except, Role, State

THEORY = commit.COMMIT
MODEL = commit.COMMIT_MODEL
LOG = Params(servers=2, profile="log", max_term=3, max_msgs=1, max_log=2, values=2)


def test_committed_stored_is_proved_for_every_cluster_size() -> None:
    failed = [o.name for o in obligations(THEORY) if not o.run(Settings()).holds]
    assert failed == []


def test_a_commit_without_a_quorum_breaks_it_with_a_readable_counterexample() -> None:
    broken = expected_breaks(commit.MUTANT, THEORY)
    assert [o.name for o in broken] == [
        "AdvanceCommitIndex => CommittedStored'",
        "AdvanceCommitIndex => CommitQuorumStored'",
    ]
    outcome = broken[0].run(Settings(search_first=True))
    assert not outcome.holds and outcome.status == "sat" and outcome.detail
    assert outcome.detail.startswith("counterexample to induction: AdvanceCommitIndex(")
    assert "commits=True" in outcome.detail and "committed index" in outcome.detail


def test_the_formula_is_false_on_a_commit_only_its_leader_stored() -> None:
    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    bad = entry.bad()
    assert evaluate(entry.formula, MODEL, bad) is False
    stored = bad.__class__(bad.params, bad.state, {**bad.ghosts, "stored": [(1, 1, 1)]})
    assert evaluate(entry.formula, MODEL, stored) is True
    assert evaluate(lambda s, v: z3.BoolVal(True), MODEL, bad) is True


def test_the_commit_bookkeeping_accepts_every_spec_step() -> None:
    """Shallower than prove's depth 16 (where a leader commits: AdvanceCommitIndex changes
    commitIndex)."""
    result = tie.check(LOG, MODEL, 12)
    assert result.ok, result.rejected[:1]
    assert {"AdvanceCommitIndex", "AppendEntries"} <= result.encoded


def test_a_follower_learns_the_commit_and_the_relation_accepts_every_step(
    commit_trace: tuple[Params, list[tuple[State, Action, State]]],
) -> None:
    p, steps = commit_trace
    assert steps[-1][2].commit_index == (1, 1)
    assert steps[-2][0].match_index[0][1] == 1
    result = tie.check(p, MODEL, 0, steps=iter(steps))
    assert result.ok and result.steps == len(steps), result.rejected[:1]


def _commit_without_quorum(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """The spec's Next, except that a leader commits its whole log without a quorum."""
    for action, t in Next(p, s):
        if action.name == "AdvanceCommitIndex":
            i = action.args[0]
            assert isinstance(i, int)
            if s.role[i] == Role.Leader and s.log[i] and s.log[i][-1].term == s.current_term[i]:
                t = t._replace(commit_index=Except(t.commit_index, i, len(s.log[i])))
        yield action, t


def test_a_commit_drift_in_the_spec_is_caught_and_named() -> None:
    result = tie.check(LOG, MODEL, 12, next_fn=_commit_without_quorum, max_rejections=1)
    assert result.rejected, "the drift went unnoticed"
    assert result.rejected[0].encoded == "AdvanceCommitIndex"
