"""Every property of the model, canonical and featured, in one registry keyed by feature.

Each property is a state predicate with a stable ID (the checker's output, its JSON, the tests,
the docs and the TLA+ modules use the same IDs). An "always" property is an invariant; a
"sometimes" one must be reached by some state, or the run is vacuous (a model in which nobody is
ever elected passes every invariant). `invariants_for(p)` and `sometimes_for(p)` select the
entries of PROPERTIES that apply to a model, in the registry's order (the order a state's
violations are reported in). raft.tla's own invariants are defined here; each feature's are in
its module (spec/features/), beside the actions that maintain what they read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from electorate.spec.actions import IsQuorum
from electorate.spec.features import check_quorum, lease, prevote
from electorate.spec.ids import BugId, Feature, Profile
from electorate.spec.messages import Entry, MType
from electorate.spec.params import Params
from electorate.spec.state import LastTerm, Role, State, members

Kind = Literal["always", "sometimes"]


@dataclass(frozen=True)
class Property:
    """A state predicate with a stable ID; `holds(p, s)` is False on a violating state.

    The other fields say where it applies: `feature` (None: every model), `profile` (None: every
    profile), `unless_bug` (a variant under which it is not checked) and `only_bug` (a witness
    goal of that one variant). `ghost`: it reads a ghost variable, so the model can check it but
    an implementation cannot show it.
    """

    id: str
    description: str
    holds: Callable[[Params, State], bool]
    kind: Kind = "always"
    feature: Feature | None = None
    profile: Profile | None = None
    ghost: bool = False
    unless_bug: BugId | None = None
    only_bug: BugId | None = None

    def applies(self, p: Params) -> bool:
        """Whether the model `p` checks this property."""
        return (
            (self.feature is None or p.has(self.feature))
            and (self.profile is None or p.profile == self.profile)
            and (self.unless_bug is None or p.bug != self.unless_bug)
            and (self.only_bug is None or p.bug == self.only_bug)
        )


# ---- raft.tla's invariants ------------------------------------------------------------------


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
    """A leader's log is at least as up to date as the log of each voter of its current term.

    (A voter: a server that voted for it in its current term and is still in that term.)

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


# ---- The registry --------------------------------------------------------------------------

PROPERTIES: Final[tuple[Property, ...]] = (
    Property("ElectionSafety", "at most one leader per term", ElectionSafety),
    Property("LeaderHasQuorum", "every leader holds a quorum of votes", LeaderHasQuorum),
    Property(
        "VotesGrantedAreVotes",
        "a candidate's or leader's tallied votes are votes cast for it in its term",
        VotesGrantedAreVotes,
    ),
    Property(
        "VoteResponsesAreVotes",
        "a granted vote in flight is the voter's vote in that term",
        VoteResponsesAreVotes,
    ),
    Property("LogMatching", "same index and term => same prefix", LogMatching, profile="log"),
    Property(
        "LeaderLogCoversVoters",
        "a leader's log is at least as up to date as its current voters' logs",
        LeaderLogCoversVoters,
        profile="log",
    ),
    Property(
        "LeaderCompleteness",
        "a leader of a term >= a committer's term has every committed entry",
        LeaderCompleteness,
        profile="log",
    ),
    # The variant without the pre-vote phase has no pre-vote bookkeeping to check; what it
    # shows is the consequence, a leader deposed by a lone server's term.
    Property(
        "PreVoteTermsEarned",
        "every term > 1 was opened by a quorum of pre-votes for it",
        prevote.PreVoteTermsEarned,
        feature="prevote",
        ghost=True,
        unless_bug="no-prevote-disruption",
    ),
    Property(
        "NoUnearnedDeposition",
        "no leader is deposed by a term no pre-vote quorum opened",
        prevote.NoUnearnedDeposition,
        feature="prevote",
        ghost=True,
    ),
    Property(
        "CheckQuorumStepDown",
        "a leader that ends a period without hearing from a quorum is no longer leader",
        check_quorum.CheckQuorumStepDown,
        feature="check_quorum",
        ghost=True,
    ),
    Property(
        "LeaseSafety", "never two servers with is_leader true", lease.LeaseSafety, feature="lease"
    ),
    Property(
        "LeaseBacked",
        "while a leader has is_leader, a quorum is inside its lease",
        lease.LeaseBacked,
        feature="lease",
    ),
    # "Sometimes" properties: a run that never reaches one is vacuous.
    Property("LeaderElected", "some server becomes leader", LeaderElected, "sometimes"),
    Property(
        "EntryCommitted", "some entry is committed", EntryCommitted, "sometimes", profile="log"
    ),
    Property(
        "PreVoteSucceeded",
        "a pre-vote round succeeds",
        prevote.PreVoteSucceeded,
        "sometimes",
        feature="prevote",
        ghost=True,
        unless_bug="no-prevote-disruption",
    ),
    Property(
        "CheckQuorumFired",
        "a leader steps down by CheckQuorum",
        check_quorum.CheckQuorumFired,
        "sometimes",
        feature="check_quorum",
        ghost=True,
    ),
    Property("LeaseHeld", "a leader holds a lease", lease.LeaseHeld, "sometimes", feature="lease"),
    # For --witness; the variant stops at its violation, so this goal is never "never reached".
    Property(
        "ZombieBesideNewLeader",
        "a cut-off leader leads on beside a newly elected one",
        check_quorum.ZombieBesideNewLeader,
        "sometimes",
        feature="check_quorum",
        ghost=True,
        only_bug="no-check-quorum-zombie",
    ),
)


def invariants_for(p: Params) -> tuple[Property, ...]:
    """The invariants the model `p` checks, in the registry's order."""
    return tuple(prop for prop in PROPERTIES if prop.kind == "always" and prop.applies(p))


def sometimes_for(p: Params) -> tuple[Property, ...]:
    """The "sometimes" properties the model `p` must reach, in the registry's order."""
    return tuple(prop for prop in PROPERTIES if prop.kind == "sometimes" and prop.applies(p))
