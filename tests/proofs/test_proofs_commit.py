"""Every commit is stored by a quorum in its term (log profile): the proof, its checks, its tie."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import z3

from electorate.proofs import catalog, commit, tie
from electorate.proofs.core import Settings
from electorate.proofs.induction import obligations
from electorate.proofs.mutants import expected_breaks
from electorate.proofs.sanity import evaluate
from electorate.spec.messages import Message
from electorate.spec.next import Action, Init, Next
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


# ---- a follower learns the commit index (beyond prove's depth: a scripted trace) ----------

Pick = Callable[[Action, State, State], bool]


def _by(i: int, j: int | None = None) -> Pick:
    """A step by server i (with j: towards or from j)."""

    def pick(a: Action, s: State, t: State) -> bool:
        if a.args and isinstance(a.args[0], Message):
            m = a.args[0]
            return m.mdest == i and (j is None or m.msource == j)
        return a.args[0] == i and (j is None or len(a.args) < 2 or a.args[1] == j)

    return pick


def _commit_trace() -> tuple[Params, list[tuple[State, Action, State]]]:
    """s1 wins term 2 with s2's vote, appends an entry, replicates it, commits it on s2's
    acknowledgement and tells s2, whose commitIndex becomes 1."""
    p = Params(servers=2, profile="log", max_term=3, max_msgs=3, max_log=2, values=2)
    script: list[tuple[str, Pick]] = [
        ("Timeout", _by(0)),
        ("RequestVote", _by(0, 0)),
        ("HandleRequestVoteRequest", _by(0, 0)),
        ("HandleRequestVoteResponse", _by(0, 0)),
        ("RequestVote", _by(0, 1)),
        ("UpdateTerm", _by(1)),
        ("HandleRequestVoteRequest", _by(1, 0)),
        ("HandleRequestVoteResponse", _by(0, 1)),
        ("BecomeLeader", _by(0)),
        ("ClientRequest", lambda a, s, t: a.args == (0, 1)),
        ("AppendEntries", _by(0, 1)),
        ("HandleAppendEntriesRequest", _by(1, 0)),  # appends the entry
        ("HandleAppendEntriesRequest", _by(1, 0)),  # already done: success, match 1
        ("HandleAppendEntriesResponse", _by(0, 1)),
        ("AdvanceCommitIndex", lambda a, s, t: t.commit_index[0] == 1),
        ("AppendEntries", _by(0, 1)),
        ("HandleAppendEntriesRequest", _by(1, 0)),  # commitIndex 1 learnt
    ]
    s = Init(p)
    steps = []
    for name, pick in script:
        found = [(a, t) for a, t in Next(p, s) if (a.detail or a.name) == name and pick(a, s, t)]
        assert found, f"no {name} step from {s}"
        a, t = found[0]
        steps.append((s, a, t))
        s = t
    return p, steps


def test_a_follower_learns_the_commit_and_the_relation_accepts_every_step() -> None:
    p, steps = _commit_trace()
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
