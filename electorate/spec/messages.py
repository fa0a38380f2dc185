"""Messages and the message bag (raft.tla's `messages`, a function from message to copy count)."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class MType(IntEnum):
    """TLA+ message-type constants."""

    RequestVoteRequest = 0
    RequestVoteResponse = 1
    AppendEntriesRequest = 2
    AppendEntriesResponse = 3


class Entry(NamedTuple):
    """A log entry: TLA+ [term |-> t, value |-> v]."""

    term: int
    value: int


class Message(NamedTuple):
    """One record of raft.tla's message set; fields a type does not use stay at their default.

    `mpre_vote` exists only with the prevote feature (issue 3): a pre-vote request/response.
    """

    mtype: MType
    mterm: int
    msource: int
    mdest: int
    mlast_log_term: int = 0
    mlast_log_index: int = 0
    mvote_granted: bool = False
    mprev_log_index: int = 0
    mprev_log_term: int = 0
    mentries: tuple[Entry, ...] = ()
    mcommit_index: int = 0
    msuccess: bool = False
    mmatch_index: int = 0
    mpre_vote: bool = False
    msent_at: int = 0  # lease feature: the sender's clock when a heartbeat round was sent


# The bag: sorted (message, copies) pairs, copies >= 1. Deviation from raft.tla, stated once:
# raft.tla keeps a message whose count fell to 0 in DOMAIN messages (so it can still be received
# and dropped to -1, an infinite space); here it leaves the bag, as in RaftElection.tla.
Bag = tuple[tuple[Message, int], ...]
EMPTY_BAG: Bag = ()


def WithMessage(m: Message, msgs: Bag) -> Bag:
    """The bag with one more copy of m (TLA+ WithMessage)."""
    for k, (x, n) in enumerate(msgs):
        if x == m:
            return (*msgs[:k], (m, n + 1), *msgs[k + 1 :])
    return tuple(sorted((*msgs, (m, 1))))


def WithoutMessage(m: Message, msgs: Bag) -> Bag:
    """The bag with one copy of m fewer (TLA+ WithoutMessage); m leaves when none is left."""
    for k, (x, n) in enumerate(msgs):
        if x == m:
            if n == 1:
                return (*msgs[:k], *msgs[k + 1 :])
            return (*msgs[:k], (m, n - 1), *msgs[k + 1 :])
    return msgs


def copies(msgs: Bag) -> int:
    """Total copies of all messages in the bag (the bound of the max_msgs constraint)."""
    if len(msgs) < 2:
        return msgs[0][1] if msgs else 0
    return sum([n for _, n in msgs])


def server_name(i: int) -> str:
    return f"s{i + 1}"


def show_message(m: Message) -> str:
    """`RequestVoteRequest s1->s2 term 2`, with the fields that matter for the type."""
    head = f"{m.mtype.name} {server_name(m.msource)}->{server_name(m.mdest)} term {m.mterm}"
    extra = ""
    if m.mtype == MType.RequestVoteRequest:
        if m.mlast_log_index or m.mlast_log_term:
            extra = f" last {m.mlast_log_index}@{m.mlast_log_term}"
    elif m.mtype == MType.RequestVoteResponse:
        extra = " granted" if m.mvote_granted else " denied"
    elif m.mtype == MType.AppendEntriesRequest:
        extra = f" prev {m.mprev_log_index}@{m.mprev_log_term}"
        if m.mentries:
            extra += " entries " + ",".join(f"{e.value}@{e.term}" for e in m.mentries)
        if m.mcommit_index:
            extra += f" commit {m.mcommit_index}"
    else:
        extra = f" {'ok' if m.msuccess else 'fail'} match {m.mmatch_index}"
    if m.mpre_vote:
        head = "Pre" + head
    return head + extra
