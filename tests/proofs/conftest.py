"""Spec drifts for the tie tests: the spec's Next with one action changed, as a spec-only edit
would change it (the Z3 relation stays as it is); and the scripted trace in which a follower
learns a commit, shared by the commit and commit-index tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from electorate.proofs import witnesses
from electorate.spec.messages import Message, WithoutMessage
from electorate.spec.next import Action, Next
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


@pytest.fixture(scope="module")
def commit_trace() -> Trace:
    """s1 wins term 2 with s2's vote, appends an entry, replicates it, commits it on s2's
    acknowledgement and tells s2, whose commitIndex becomes 1 (the first part of the witness
    trace of proofs.witnesses; the commit tests and the commit-index tests share it)."""
    return witnesses.PARAMS, witnesses.scripted(witnesses.PARAMS, witnesses.COMMIT_SCRIPT)
