"""The tie compares the history: the relation's ghost updates accept the spec's history steps.

The spec records its history variables (spec/history.py); the `log` profile's tie checks each
step's history change against the relation's ghosts. A spec whose history recording drifts (an
action that stops recording, or records the wrong thing) is caught and named, also by
`electorate prove`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from electorate.proofs import catalog, cli, commit, tie
from electorate.spec import history
from electorate.spec.history import History
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import State

# One server, one value, logs of one entry: it is elected, appends and commits within 8 BFS
# levels (a second of CPU); two servers reach a follower's acknowledgement within 14 (seconds).
ONE = (Params(servers=1, profile="log", max_term=2, max_msgs=1, max_log=1, values=1), 8)
TWO = (Params(servers=2, profile="log", max_term=2, max_msgs=1, max_log=1, values=1), 14)
Record = Callable[[Params, History, State, Action, State], History]


def _drifted(action: str, change: Callable[[History, History], History]) -> Record:
    """spec.history.record with `action`'s history change replaced by `change(before, after)`."""
    record = history.record

    def drifted(p: Params, h: History, pre: State, a: Action, post: State) -> History:
        after = record(p, h, pre, a, post)
        return change(h, after) if action in (a.name, a.detail) else after

    return drifted


def _forgets(before: History, after: History) -> History:
    return before


def _stores_next_index(before: History, after: History) -> History:
    """ClientRequest records the index after its new entry's."""
    new = {(n, t, k + 1) for n, t, k in after.stored - before.stored}
    return after._replace(stored=before.stored | new)


def test_the_history_is_compared_for_the_log_profile() -> None:
    p, depth = ONE
    (result,) = tie.check_models(p, [(commit.COMMIT_MODEL, ())], depth)
    assert result.history and result.ok and result.steps > 0
    assert {"ClientRequest", "AdvanceCommitIndex", "BecomeLeader"} <= result.encoded


@pytest.mark.parametrize(
    ("action", "change", "config"),
    [
        ("ClientRequest", _forgets, ONE),
        ("ClientRequest", _stores_next_index, ONE),
        ("BecomeLeader", _forgets, ONE),
        ("HandleRequestVoteRequest", _forgets, ONE),
        ("HandleAppendEntriesRequest", _forgets, TWO),
        ("AdvanceCommitIndex", _forgets, ONE),
    ],
    ids=[
        "ClientRequest-forgets",
        "ClientRequest-wrong-index",
        "BecomeLeader-forgets",
        "HandleRequestVoteRequest-forgets",
        "HandleAppendEntriesRequest-forgets",
        "AdvanceCommitIndex-forgets",
    ],
)
def test_a_history_drift_is_caught_and_named(
    action: str,
    change: Callable[[History, History], History],
    config: tuple[Params, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(history, "record", _drifted(action, change))
    p, depth = config
    (result,) = tie.check_models(p, [(commit.COMMIT_MODEL, ())], depth, max_rejections=1)
    assert result.rejected, f"{action}'s history drift went unnoticed"
    assert result.rejected[0].encoded == action


def test_a_history_drift_fails_prove_naming_the_action(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ClientRequest no longer records its entry as stored by the leader: prove exits 1."""
    config = catalog.TieConfig(*ONE, (commit.COMMIT_MODEL,))
    monkeypatch.setattr(cli, "TIES", (config,))
    monkeypatch.setattr(history, "record", _drifted("ClientRequest", _forgets))
    code = cli.main(["--property", "spec-tie", "--jobs", "1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["result"] == "failed"
    (row,) = data["tie"]
    rejected = row["rejected"][0]
    assert rejected["encoded_as"] == "ClientRequest"
    assert rejected["spec_action"].startswith("ClientRequest(")


def test_without_the_history_the_same_drift_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison is what catches it: the tie of the spec's variables alone accepts."""
    monkeypatch.setattr(history, "record", _drifted("ClientRequest", _forgets))
    p, depth = ONE
    (result,) = tie.check_models(
        p, [(commit.COMMIT_MODEL, ())], depth, max_rejections=1, history=False
    )
    assert result.ok and not result.history
