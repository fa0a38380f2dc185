"""Spec drifts for the tie tests: the spec's Next with one action changed, as a spec-only edit
would change it (the Z3 relation stays as it is); and the scripted trace in which a follower
learns a commit, shared by the commit and commit-index tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from electorate.spec.messages import Message, WithoutMessage
from electorate.spec.next import Action, Init, Next
from electorate.spec.params import Params
from electorate.spec.state import Role, State

NextFn = Callable[[Params, State], Iterator[tuple[Action, State]]]


def leader_keeps_role(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """The spec's Next, except that a leader adopting a newer term stays leader."""
    for action, t in Next(p, s):
        m = action.args[0] if action.args else None
        deposed = isinstance(m, Message) and s.role[m.mdest] == Role.Leader
        if action.detail == "UpdateTerm" and isinstance(m, Message) and deposed:
            roles = list(t.role)
            roles[m.mdest] = Role.Leader
            t = t._replace(role=tuple(roles))
        yield action, t


def current_term_requests_only(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """The spec's Next, except that a vote request of an older term is dropped unanswered."""
    for action, t in Next(p, s):
        m = action.args[0] if action.args else None
        handled = action.detail == "HandleRequestVoteRequest" and isinstance(m, Message)
        if handled and isinstance(m, Message) and m.mterm < s.current_term[m.mdest]:
            t = s._replace(messages=WithoutMessage(m, s.messages))
        yield action, t


@pytest.fixture
def drift_leader_keeps_role() -> NextFn:
    return leader_keeps_role


@pytest.fixture
def drift_stale_request_dropped() -> NextFn:
    return current_term_requests_only


# ---- a follower learns the commit index (beyond prove's depth: a scripted trace) ----------

Trace = tuple[Params, list[tuple[State, Action, State]]]
Pick = Callable[[Action, State, State], bool]


def _by(i: int, j: int | None = None) -> Pick:
    """A step by server i (with j: towards or from j)."""

    def pick(a: Action, s: State, t: State) -> bool:
        if a.args and isinstance(a.args[0], Message):
            m = a.args[0]
            return m.mdest == i and (j is None or m.msource == j)
        return a.args[0] == i and (j is None or len(a.args) < 2 or a.args[1] == j)

    return pick


def _script() -> tuple[Params, list[tuple[State, Action, State]]]:
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


@pytest.fixture(scope="module")
def commit_trace() -> Trace:
    """The scripted trace of `_script` (the commit tests and the commit-index tests share it)."""
    return _script()
