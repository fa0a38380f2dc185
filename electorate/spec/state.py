"""The one state record: its fields are raft.tla's variables (history variables omitted)."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple, TypeVar

from electorate.spec.messages import Bag, Entry
from electorate.spec.state_replace import install_fast_replace

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
    # Feature variables (spec/features/): empty tuples, or 0/False, unless their feature is on.
    prevotes_granted: tuple[int, ...] = ()  # prevote: bitmask of pre-votes granted
    heard_leader: tuple[bool, ...] = ()  # every feature: heard from a live leader this period
    acked: tuple[int, ...] = ()  # check_quorum: bitmask of followers heard from this period
    clock: tuple[int, ...] = ()  # lease: each server's discrete clock
    lease_until: tuple[int, ...] = ()  # lease: leader: lease expiry; others: no timeout before
    round_at: tuple[int, ...] = ()  # lease: leader's clock when its current heartbeat round began
    round_acked: tuple[int, ...] = ()  # lease: bitmask of servers that acked the current round
    # Options (spec/features/options.py): whether a server knows the leader of its term.
    knows_leader: tuple[bool, ...] = ()
    # Ghost variables: proof-only history, read by properties, never by a guard.
    quiet: tuple[bool, ...] = ()  # check_quorum: ended a leader period without a quorum
    earned_terms: int = 0  # prevote: bit t set <=> a pre-vote quorum opened term t
    unearned_deposition: bool = False  # prevote: a leader adopted a term nobody earned
    # Liveness models only (spec/liveness/): the environment's variables, read by guards.
    stable: bool = False  # the network has stabilized: no more losses on its links
    lucky: int = -1  # a server whose timer ran out first by a margin (NIL: none), see timing


# Feature variables by how a server renaming acts on them (spec.symmetry.permute):
FEATURE_MASK_FIELDS = ("prevotes_granted", "acked", "round_acked")  # per server, server sets
FEATURE_SLOT_FIELDS = (  # per server
    "heard_leader",
    "clock",
    "lease_until",
    "round_at",
    "quiet",
    "knows_leader",
)
FEATURE_GLOBAL_FIELDS = ("earned_terms", "unearned_deposition")  # no server names in them


T = TypeVar("T")


def Except(f: tuple[T, ...], i: int, v: T) -> tuple[T, ...]:
    """TLA+ [f EXCEPT ![i] = v] for a per-server tuple."""
    return (*f[:i], v, *f[i + 1 :])


def ExceptOn(f: tuple[T, ...], i: int, v: T) -> tuple[T, ...]:
    """[f EXCEPT ![i] = v] for a feature variable, which is () while its feature is off and
    stays () (RaftElectionFeatures.tla keeps such a variable at its initial value instead)."""
    return (*f[:i], v, *f[i + 1 :]) if f else f


def members(mask: int) -> list[int]:
    """The servers in a bitmask set, in increasing order."""
    return [j for j in range(mask.bit_length()) if mask >> j & 1]


def LastTerm(xlog: tuple[Entry, ...]) -> int:
    """The term of the last entry in a log, or 0 if the log is empty."""
    return xlog[-1].term if xlog else 0


# Every `s._replace(field=...)` in the spec runs this faster _replace (spec/state_replace.py):
# installed on the class so the call sites keep mypy's check of field names and types.
install_fast_replace(State)
