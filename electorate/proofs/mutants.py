"""The spec's bug variants (spec.bugs) as mutants of the proof's encoding.

Each bug changes one action of the spec, and the encoding mirrors the change where the spec makes
it (grep `bug ==` in proofs/model.py; lease-too-long is a choice of knobs, so its mirror is the
lease theory's hypothesis). The conformance tests check that each mirrored mutant accepts the
buggy spec's steps, so its counterexamples are not artefacts. A mutant must make a proof fail
with a counterexample to induction: `breaks` lists, per theory, exactly the obligations that fail
(measured over the obligations of the actions the bug changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from electorate.proofs.core import Obligation
from electorate.proofs.election import ELECTION, ELECTION_FEATURES
from electorate.proofs.induction import Theory, obligations
from electorate.proofs.model import ACTION_BY_NAME


@dataclass(frozen=True)
class Mutant:
    bug: str  # a spec bug variant (BugId) or, in RELATION_MUTANTS, a mutant of the relation
    actions: tuple[str, ...]  # encoding actions the bug changes
    breaks: tuple[str, ...]  # election obligations that fail under the bug
    features: bool = False  # a feature's bug: the election proof runs the featured model
    # Other theories the bug must break: theory name -> the obligations that fail.
    theories: dict[str, tuple[str, ...]] = field(default_factory=dict)


MUTANTS: dict[str, Mutant] = {
    m.bug: m
    for m in (
        Mutant(
            "quorum-half",
            ("BecomeLeader",),
            ("Bridge: spec quorums intersect (the axiom)", "BecomeLeader => ElectionSafety'"),
        ),
        Mutant(
            "vote-twice",
            ("HandleRequestVoteRequest",),
            (
                "HandleRequestVoteRequest => CountedVoteExclusive'",
                "HandleRequestVoteRequest => CountedVoteIsVote'",
                "HandleRequestVoteRequest => OneGrantPerTerm'",
                "HandleRequestVoteRequest => GrantIsVote'",
            ),
            theories={
                "election-history": (
                    "HandleRequestVoteRequest => OneVotePerTerm'",
                    "HandleRequestVoteRequest => VoteIsVotedFor'",
                ),
            },
        ),
        Mutant(
            "forget-vote-on-restart",
            ("Restart",),
            ("Restart => CountedVoteIsVote'", "Restart => GrantIsVote'"),
            theories={"election-history": ("Restart => VoteIsVotedFor'",)},
        ),
        Mutant(
            "stale-votes-counted",
            ("HandleRequestVoteResponse", "DropStaleResponse"),
            (
                "HandleRequestVoteResponse => VotesDisjoint'",
                "HandleRequestVoteResponse => CountedVoteExclusive'",
                "HandleRequestVoteResponse => CountedVoterTerm'",
                "HandleRequestVoteResponse => CountedVoteIsVote'",
            ),
            theories={"election-history": ("HandleRequestVoteResponse => CountedIsRecorded'",)},
        ),
        Mutant(
            "leader-keeps-role",
            ("UpdateTerm",),
            (
                "UpdateTerm => ElectionSafety'",
                "UpdateTerm => VotesDisjoint'",
                "UpdateTerm => CountedVoteExclusive'",
                "UpdateTerm => CountedVoterTerm'",
                "UpdateTerm => CountedVoteIsVote'",
            ),
        ),
        Mutant(
            "no-term-increment",
            ("Timeout",),
            ("Timeout => CountedVoteIsVote'", "Timeout => GrantIsVote'"),
            theories={
                "election-history": (
                    "Timeout => VoteIsVotedFor'",
                    "Timeout => CandidateNotElected'",
                )
            },
        ),
        # A log-profile bug: the election proof never relied on the log check (LogOk is a
        # free choice in the encoding), so it must still go through; a leader's log then no
        # longer covers its voters' logs.
        Mutant(
            "no-log-check",
            ("HandleRequestVoteRequest",),
            (),
            theories={
                "leader-covers-voters": (
                    "HandleRequestVoteRequest => LeaderLogCoversVoters'",
                    "HandleRequestVoteRequest => CandidateLogCoversVoters'",
                ),
                # The voting step inside Leader Completeness's invariant. VoterPassesEntry' is
                # broken too, but z3 finds no counterexample to it within its budgets (only
                # `sat` counts), so it is not listed.
                "leader-completeness": (
                    "HandleRequestVoteRequest => LeaderLogCoversVoters'",
                    "HandleRequestVoteRequest => CandidateLogCoversVoters'",
                ),
            },
        ),
        # The features' bugs threaten availability (disruption), CheckQuorum's step-down or
        # lease reads, not one leader per term: the election proof must still go through,
        # and the feature's own property must fail.
        Mutant(
            "no-prevote-disruption",
            ("Timeout",),
            (),
            features=True,
            theories={"prevote-nondisruption": ("Timeout => TermsEarned'",)},
        ),
        Mutant(
            "prevote-bumps-term",
            ("PreVoteTimeout",),
            (),
            features=True,
            theories={"prevote-nondisruption": ("PreVoteTimeout => TermsEarned'",)},
        ),
        Mutant(
            "no-check-quorum-zombie",
            ("ElectionTimer",),
            (),
            features=True,
            theories={"checkquorum-stepdown": ("ElectionTimer => CheckQuorumStepDown'",)},
        ),
        Mutant(
            "lease-too-long",
            ("ClockStep", "HandleAppendEntriesRequest"),
            (),
            features=True,
            theories={"lease": ("HandleAppendEntriesRequest => RoundAckInPromise'",)},
        ),
        Mutant(
            "lease-from-receive-time",
            ("ClockStep", "HandleAppendEntriesResponse"),
            (),
            features=True,
            theories={
                "lease": (
                    "HandleAppendEntriesResponse => LeaseByRound'",
                    "HandleAppendEntriesResponse => LeaseBacked'",
                    "HandleAppendEntriesResponse => NoNewerWhileLeased'",
                )
            },
        ),
    )
}


# Mutants of the relation that no spec bug variant mirrors (no bug of the spec's catalogue breaks
# Log Matching): each breaks a log property, so that its proof is shown not to hold for a trivial
# reason. Not offered by `--bug` (there is no buggy spec to run them on).
RELATION_MUTANTS: dict[str, Mutant] = {
    m.bug: m
    for m in (
        Mutant(
            "leader-overwrites",  # a leader's new entry replaces its last one
            ("ClientRequest",),
            (),
            theories={
                "log-matching": (
                    "ClientRequest => LogMatching'",
                    "ClientRequest => MessageMatchesLogs'",
                )
            },
        ),
        # A follower appends an entry without the consistency check on the entry before it.
        # Its counterexample to MessageMatchesLogs' needs one server in one term (found in 0.1
        # s); LogMatching' is broken too, but a counterexample needs entries of two terms, so
        # an election history of two terms, and z3 answers `unknown` within every budget
        # tried (docs/proofs.md), so it is not listed (only `sat` counts).
        Mutant(
            "commit-without-quorum",  # a leader commits an entry of its term without a quorum
            ("AdvanceCommitIndex",),
            (),
            theories={
                "commit-stored": (
                    "AdvanceCommitIndex => CommittedStored'",
                    "AdvanceCommitIndex => CommitQuorumStored'",
                )
            },
        ),
        # A leader sends its commitIndex as mcommitIndex without the Min with the request's
        # last entry: a follower takes a commitIndex beyond the entries it matched.
        Mutant(
            "commit-index-unbounded",
            ("AppendEntries",),
            (),
            theories={"commit-index-committed": ("AppendEntries => RequestCommitIndexCommitted'",)},
        ),
        # A follower removes its last entry on an AppendEntries whose entry it already holds
        # (the conflict branch without its term comparison): an entry a quorum stored, so
        # possibly committed, disappears from a log that stored it.
        Mutant(
            "append-truncates-match",
            ("HandleAppendEntriesRequest",),
            (),
            theories={"leader-completeness": ("HandleAppendEntriesRequest => StoredHolds'",)},
        ),
        # A voter compares the last terms of the logs and not, when they are equal, their
        # lengths: a candidate whose log is a prefix of the voter's gets its vote.
        Mutant(
            "vote-ignores-length",
            ("HandleRequestVoteRequest",),
            (),
            theories={
                "leader-completeness": (
                    "HandleRequestVoteRequest => VoterPassesEntry'",
                    "HandleRequestVoteRequest => LeaderLogCoversVoters'",
                    "HandleRequestVoteRequest => CandidateLogCoversVoters'",
                )
            },
        ),
        Mutant(
            "append-skips-check",
            ("HandleAppendEntriesRequest",),
            (),
            theories={"log-matching": ("HandleAppendEntriesRequest => MessageMatchesLogs'",)},
        ),
    )
}


def _election(bug: str) -> Theory:
    return ELECTION_FEATURES if MUTANTS[bug].features else ELECTION


def _known(bug: str) -> Mutant:
    found = MUTANTS.get(bug) or RELATION_MUTANTS.get(bug)
    if found is None:
        raise ValueError(f"unknown bug {bug!r}; known: {', '.join([*MUTANTS, *RELATION_MUTANTS])}")
    return found


def mutant_obligations(bug: str, theory: Theory | None = None) -> list[Obligation]:
    """The obligations a mutant can break in a theory (default: the election proof): the
    bridge, Init and the actions it changes."""
    mutant = _known(bug)
    theory = theory or _election(bug)
    present = {a.name for a in theory.actions(bug)}
    actions = [ACTION_BY_NAME[name] for name in mutant.actions if name in present]
    return obligations(theory, bug, actions=actions)


def all_obligations(bug: str) -> list[Obligation]:
    """Every obligation of the election model the bug lives in (with the feature actions if
    needed)."""
    _known(bug)
    return obligations(_election(bug), bug)


def breaks_in(bug: str, theory: Theory) -> tuple[str, ...]:
    """The obligations the bug breaks in a theory (the election proofs' or another's)."""
    mutant = _known(bug)
    if theory.name in mutant.theories:
        return mutant.theories[theory.name]
    return mutant.breaks if theory in (ELECTION, ELECTION_FEATURES) else ()


def expected_breaks(bug: str, theory: Theory) -> list[Obligation]:
    """The obligations the bug is known to break in the theory, in order (a mutant check needs
    only one counterexample; tests check the whole list)."""
    wanted = breaks_in(bug, theory)
    found = {o.name: o for o in mutant_obligations(bug, theory)}
    return [found[name] for name in wanted if name in found]
