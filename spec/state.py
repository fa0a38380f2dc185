"""The one state record: its fields are raft.tla's variables (history variables omitted)."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple, TypeVar

from spec.messages import Bag, Entry

NIL = -1  # TLA+ Nil: no vote, no leader


class Role(IntEnum):
    """TLA+ server states (raft.tla's variable `state`, renamed `role` here)."""

    Follower = 0
    Candidate = 1
    Leader = 2
    PreCandidate = 3  # prevote feature only (Raft thesis §9.6)


class State(NamedTuple):
    """One global state. Per-server variables are tuples indexed by server 0..N-1.

    Server sets (votesResponded, votesGranted) are bitmasks: bit j set <=> server j in the set.
    """

    current_term: tuple[int, ...]
    role: tuple[Role, ...]
    voted_for: tuple[int, ...]
    votes_responded: tuple[int, ...]
    votes_granted: tuple[int, ...]
    next_index: tuple[tuple[int, ...], ...]
    match_index: tuple[tuple[int, ...], ...]
    log: tuple[tuple[Entry, ...], ...]
    commit_index: tuple[int, ...]
    messages: Bag
    # Extension variables (issue 3); constant 0/() unless their feature is on.
    prevotes_granted: tuple[int, ...] = ()  # prevote: bitmask of pre-votes granted
    heard_leader: tuple[bool, ...] = ()  # check_quorum: heard from a live leader this period
    acked: tuple[int, ...] = ()  # check_quorum: bitmask of followers heard from this period
    clock: tuple[int, ...] = ()  # lease: each server's discrete clock
    lease_until: tuple[int, ...] = ()  # lease: leader's lease expiry on its own clock (0: none)


T = TypeVar("T")


def Except(f: tuple[T, ...], i: int, v: T) -> tuple[T, ...]:
    """TLA+ [f EXCEPT ![i] = v] for a per-server tuple."""
    return (*f[:i], v, *f[i + 1 :])


def members(mask: int) -> list[int]:
    """The servers in a bitmask set, in increasing order."""
    return [j for j in range(mask.bit_length()) if mask >> j & 1]


def show_set(mask: int) -> str:
    return "{" + ", ".join(f"s{j + 1}" for j in members(mask)) + "}"


def LastTerm(xlog: tuple[Entry, ...]) -> int:
    """The term of the last entry in a log, or 0 if the log is empty."""
    return xlog[-1].term if xlog else 0
