"""The spec actions the conformance suite composes, for one feature set.

The suite judges an implementation against the canonical spec (raft.tla) or against the spec
with PreVote and CheckQuorum, each with the options the adapter declared. All are the same
composition rules (conformance.compose) over a different action table: the canonical action or
the featured (or optioned) replacement per slot, plus the features' and options' own actions
(RequestPreVote, StartElection, ElectionTimer, BareHeartbeat). This module is that table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from electorate.spec import actions
from electorate.spec.messages import Message
from electorate.spec.next import (
    LabelledMessageAction,
    LabelledServerAction,
    PairAction,
    ServerAction,
    actions_for,
)
from electorate.spec.params import Params
from electorate.spec.state import State


@dataclass(frozen=True)
class Model:
    """One feature set's actions, each a pure function of the spec (None when disabled)."""

    p: Params
    timeout: ServerAction  # Timeout(i): an election (canonical) or a pre-vote round (PreVote)
    receive: LabelledMessageAction  # Receive(m)
    request_vote: PairAction  # RequestVote(i, j)
    become_leader: ServerAction  # BecomeLeader(i)
    append_entries: PairAction  # AppendEntries(i, j)
    restart: ServerAction  # Restart(i)
    client_request: PairAction  # ClientRequest(i, v)
    advance_commit_index: ServerAction  # AdvanceCommitIndex(i)
    request_prevote: PairAction | None = None  # RequestPreVote(i, j) (PreVote)
    start_election: ServerAction | None = None  # StartElection(i) (PreVote)
    election_timer: LabelledServerAction | None = None  # ElectionTimer(i) (the features)
    bare_heartbeat: PairAction | None = None  # BareHeartbeat(i, j) (option bare_heartbeats)

    @property
    def featured(self) -> bool:
        return bool(self.p.features)

    def is_quorum(self, mask: int) -> bool:
        return actions.IsQuorum(self.p, mask)


@cache
def model(p: Params) -> Model:
    """The action table of ``p``'s feature set (built once per Params; ``p`` has a profile
    with heartbeats, so AppendEntries and ClientRequest are there)."""
    t = actions_for(p)
    assert t.AppendEntries and t.ClientRequest and t.AdvanceCommitIndex, "an election-only profile"
    assert t.RequestVote and t.BecomeLeader and t.Restart, "a liveness model (spec/liveness)"
    return Model(
        p,
        t.Timeout,
        t.Receive,
        t.RequestVote,
        t.BecomeLeader,
        t.AppendEntries,
        t.Restart,
        t.ClientRequest,
        t.AdvanceCommitIndex,
        t.RequestPreVote,
        t.StartElection,
        t.ElectionTimer,
        t.BareHeartbeat,
    )


def drop_message(p: Params, s: State, m: Message) -> State:
    return actions.DropMessage(p, s, m)


def duplicate_message(p: Params, s: State, m: Message) -> State:
    return actions.DuplicateMessage(p, s, m)
