"""Safety invariants and "sometimes" properties, each with a stable ID used in docs and output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from electorate.spec.actions import IsQuorum
from electorate.spec.messages import Entry, MType
from electorate.spec.params import Params
from electorate.spec.state import LastTerm, Role, State, members


@dataclass(frozen=True)
class Invariant:
    """A state predicate with a stable ID; `holds(p, s)` is False on a violating state."""

    id: str
    description: str
    holds: Callable[[Params, State], bool]


def ElectionSafety(p: Params, s: State) -> bool:
    """At most one leader per term (Raft Figure 3)."""
    if s.role.count(Role.Leader) < 2:
        return True
    leader_terms = [s.current_term[i] for i in range(p.servers) if s.role[i] == Role.Leader]
    return len(leader_terms) == len(set(leader_terms))


def LeaderHasQuorum(p: Params, s: State) -> bool:
    """Every leader holds a quorum of granted votes."""
    if Role.Leader not in s.role:
        return True
    return all(
        IsQuorum(p, s.votes_granted[i]) for i in range(p.servers) if s.role[i] == Role.Leader
    )


def VotesGrantedAreVotes(p: Params, s: State) -> bool:
    """A candidate's or leader's tallied vote from j is j's vote in that term (or j moved on)."""
    for i, role in enumerate(s.role):
        if role == Role.Follower or not s.votes_granted[i]:
            continue  # raft.tla tallies for followers too and never clears it on UpdateTerm
        term = s.current_term[i]
        for j in members(s.votes_granted[i]):
            if not (s.current_term[j] > term or s.voted_for[j] == i):
                return False
    return True


def VoteResponsesAreVotes(p: Params, s: State) -> bool:
    """A granted vote in flight from j to i is j's vote in that term (or j moved on)."""
    for m, _ in s.messages:
        if m.mtype == MType.RequestVoteResponse and m.mvote_granted and not m.mpre_vote:
            j = m.msource
            if not (s.current_term[j] > m.mterm or s.voted_for[j] == m.mdest):
                return False
    return True


def LogMatching(p: Params, s: State) -> bool:
    """Two logs with an entry of the same index and term are identical up to that index."""
    for i in range(p.servers):
        for j in range(i + 1, p.servers):
            a, b = s.log[i], s.log[j]
            for k in range(min(len(a), len(b)) - 1, -1, -1):
                if a[k].term == b[k].term:
                    if a[: k + 1] != b[: k + 1]:
                        return False
                    break
    return True


def LeaderCompleteness(p: Params, s: State) -> bool:
    """A leader of a term >= i's has every entry i counts as committed (no history variable).

    i's commitIndex was learnt in a term <= currentTerm[i]; a leader of a term at least that
    large was elected after the entry committed, or is the leader that committed it.
    """
    for i in range(p.servers):
        committed = s.log[i][: s.commit_index[i]]
        if not committed:
            continue
        for j in range(p.servers):
            if s.role[j] != Role.Leader or s.current_term[j] < s.current_term[i]:
                continue
            if s.log[j][: len(committed)] != committed:
                return False
    return True


def UpToDate(a: tuple[Entry, ...], b: tuple[Entry, ...]) -> bool:
    """Log a is at least as up to date as log b (Raft §5.4.1: last term, then length)."""
    return LastTerm(a) > LastTerm(b) or (LastTerm(a) == LastTerm(b) and len(a) >= len(b))


def LeaderLogCoversVoters(p: Params, s: State) -> bool:
    """A leader's log is at least as up to date as the log of every server that voted for it
    in its current term and is still in that term.

    Why it holds: the vote was granted only to a log at least as up to date as the voter's
    (§5.4.1); since then the voter's log changed only by the AppendEntries of this term's one
    leader (entries from the leader's log, or a removed last entry), and the leader's only grew.
    """
    for c in range(p.servers):
        if s.role[c] != Role.Leader:
            continue
        term = s.current_term[c]
        for v in range(p.servers):
            voter = s.voted_for[v] == c and s.current_term[v] == term
            if voter and not UpToDate(s.log[c], s.log[v]):
                return False
    return True


def LeaderElected(p: Params, s: State) -> bool:
    """Sometimes: some server is leader (a spec in which nobody is ever elected is vacuous)."""
    return Role.Leader in s.role


def EntryCommitted(p: Params, s: State) -> bool:
    """Sometimes (log profile): some server has committed an entry."""
    return max(s.commit_index) > 0


_ELECTION = (
    Invariant("ElectionSafety", "at most one leader per term", ElectionSafety),
    Invariant("LeaderHasQuorum", "every leader holds a quorum of votes", LeaderHasQuorum),
    Invariant(
        "VotesGrantedAreVotes",
        "a candidate's or leader's tallied votes are votes cast for it in its term",
        VotesGrantedAreVotes,
    ),
    Invariant(
        "VoteResponsesAreVotes",
        "a granted vote in flight is the voter's vote in that term",
        VoteResponsesAreVotes,
    ),
)
_LOG = (
    Invariant("LogMatching", "same index and term => same prefix", LogMatching),
    Invariant(
        "LeaderLogCoversVoters",
        "a leader's log is at least as up to date as its current voters' logs",
        LeaderLogCoversVoters,
    ),
    Invariant(
        "LeaderCompleteness",
        "a leader of a term >= a committer's term has every committed entry",
        LeaderCompleteness,
    ),
)


def invariants_for(p: Params) -> tuple[Invariant, ...]:
    from electorate.spec import extensions  # the features add their own properties

    base = _ELECTION + (_LOG if p.profile == "log" else ())
    return base + extensions.invariants_for(p)


def sometimes_for(p: Params) -> tuple[Invariant, ...]:
    from electorate.spec import extensions

    base: tuple[Invariant, ...] = (
        Invariant("LeaderElected", "some server becomes leader", LeaderElected),
    )
    if p.profile == "log":
        base += (Invariant("EntryCommitted", "some entry is committed", EntryCommitted),)
    return base + extensions.sometimes_for(p)
