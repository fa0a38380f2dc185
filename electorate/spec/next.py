"""Init, Next and the state constraint: how the actions compose into the model.

`Next` enumerates every enabled action instance, in raft.tla's order, stuttering steps included,
because TLC counts every generated successor and our figures must equal TLC's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from electorate.spec import actions, extensions
from electorate.spec.messages import EMPTY_BAG, Message, copies, server_name, show_message
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State


class Action(NamedTuple):
    """One action instance: the TLA+ action name, its arguments, and the Receive handler."""

    name: str
    args: tuple[int | Message, ...]
    detail: str = ""

    def __str__(self) -> str:
        shown = [show_message(a) if isinstance(a, Message) else server_name(a) for a in self.args]
        if self.name == "ClientRequest":
            shown[-1] = f"v{self.args[-1]}"
        text = f"{self.name}({', '.join(shown)})"
        return f"{text} [{self.detail}]" if self.detail else text


def Init(p: Params) -> State:
    """Every server a follower in term 1 with no vote, empty logs, an empty network."""
    n = p.servers
    s = State(
        current_term=(1,) * n,
        role=(Role.Follower,) * n,
        voted_for=(NIL,) * n,
        votes_responded=(0,) * n,
        votes_granted=(0,) * n,
        next_index=((1,) * n,) * n,
        match_index=((0,) * n,) * n,
        log=((),) * n,
        commit_index=(0,) * n,
        messages=EMPTY_BAG,
    )
    if p.features:
        return extensions.init_extension_vars(p, s)
    return s


def Next(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """Every enabled action instance and its successor, in raft.tla's disjunct order."""
    if p.features:
        yield from extensions.NextWithFeatures(p, s)
        return
    servers = range(p.servers)
    for i in servers:
        yield Action("Restart", (i,)), actions.Restart(p, s, i)
    for i in servers:
        t = actions.Timeout(p, s, i)
        if t is not None:
            yield Action("Timeout", (i,)), t
    # Only candidates can RequestVote or BecomeLeader: skip the instances whose role guard
    # fails (the actions check their guards anyway; this only saves calls in the hot path).
    candidates = [i for i in servers if s.role[i] == Role.Candidate]
    for i in candidates:
        for j in servers:
            t = actions.RequestVote(p, s, i, j)
            if t is not None:
                yield Action("RequestVote", (i, j)), t
    for i in candidates:
        t = actions.BecomeLeader(p, s, i)
        if t is not None:
            yield Action("BecomeLeader", (i,)), t
    if p.profile != "election":
        yield from _log_actions(p, s)
    for m, _ in s.messages:
        received = actions.Receive(p, s, m)
        if received is not None:
            yield Action("Receive", (m,), received[0]), received[1]
    for m, _ in s.messages:
        yield Action("DuplicateMessage", (m,)), actions.DuplicateMessage(p, s, m)
    for m, _ in s.messages:
        yield Action("DropMessage", (m,)), actions.DropMessage(p, s, m)


def _log_actions(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """ClientRequest, AdvanceCommitIndex and AppendEntries (heartbeat and log profiles)."""
    servers = range(p.servers)
    leaders = [i for i in servers if s.role[i] == Role.Leader]  # the role guard, hoisted
    for i in leaders:
        for v in range(1, p.values + 1):
            t = actions.ClientRequest(p, s, i, v)
            if t is not None:
                yield Action("ClientRequest", (i, v)), t
    for i in leaders:
        t = actions.AdvanceCommitIndex(p, s, i)
        if t is not None:
            yield Action("AdvanceCommitIndex", (i,)), t
    for i in leaders:
        for j in servers:
            t = actions.AppendEntries(p, s, i, j)
            if t is not None:
                yield Action("AppendEntries", (i, j)), t


def constraint(p: Params, s: State) -> bool:
    """The TLC state constraint that keeps the model finite."""
    if max(s.current_term) > p.max_term or copies(s.messages) > p.max_msgs:
        return False
    if p.profile == "log" and max(len(log) for log in s.log) > p.max_log:
        return False
    return not p.features or extensions.extension_constraint(p, s)
