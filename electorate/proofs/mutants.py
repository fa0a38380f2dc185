"""The spec's bug variants (spec.bugs) as mutants of the proof's encoding.

Each bug changes one action of spec/actions.py, and the encoding mirrors the change (grep
`bug ==` in proofs/model.py; the conformance tests check the mirrored mutant accepts every
step of the buggy spec). A mutant must make the proof fail with a counterexample; `breaks` lists
the obligations that do (all of them, measured over the full obligation set).
"""

from __future__ import annotations

from dataclasses import dataclass

from electorate.proofs.core import Obligation
from electorate.proofs.election import obligations
from electorate.proofs.model import ACTION_BY_NAME, ACTIONS, FEATURE_ACTIONS
from electorate.spec.ids import BugId


@dataclass(frozen=True)
class Mutant:
    bug: BugId
    actions: tuple[str, ...]  # encoding actions the bug changes
    breaks: tuple[str, ...]  # obligations that fail under the bug
    features: bool = False  # a bug of issue 3's features: proved with the feature actions


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
        ),
        Mutant(
            "forget-vote-on-restart",
            ("Restart",),
            ("Restart => CountedVoteIsVote'", "Restart => GrantIsVote'"),
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
        ),
        # A log-profile bug: the election proof never relied on the log check (LogOk is a
        # free choice in the encoding), so it must still go through.
        Mutant("no-log-check", ("HandleRequestVoteRequest",), ()),
        # Issue 3's feature bugs threaten availability (disruption), CheckQuorum's step-down
        # or lease reads, not one leader per term: the election proof must still go through.
        Mutant("no-prevote-disruption", ("Timeout",), (), features=True),
        Mutant("prevote-bumps-term", ("PreVoteTimeout",), (), features=True),
        Mutant("no-check-quorum-zombie", ("ElectionTimer",), (), features=True),
        Mutant("lease-too-long", ("ClockStep",), (), features=True),
        Mutant("lease-from-receive-time", ("ClockStep",), (), features=True),
    )
}


def mutant_obligations(bug: str) -> list[Obligation]:
    """The obligations a mutant can break: the bridge and those of the actions it changes."""
    if bug not in MUTANTS:
        raise ValueError(f"unknown bug {bug!r}; known: {', '.join(MUTANTS)}")
    actions = [ACTION_BY_NAME[name] for name in MUTANTS[bug].actions]
    return obligations(bug, actions=actions, features=MUTANTS[bug].features)


def all_obligations(bug: str) -> list[Obligation]:
    """Every obligation of the model the bug lives in (with the feature actions if needed)."""
    if bug not in MUTANTS:
        raise ValueError(f"unknown bug {bug!r}; known: {', '.join(MUTANTS)}")
    features = MUTANTS[bug].features
    actions = ACTIONS + FEATURE_ACTIONS if features else ACTIONS
    return obligations(bug, actions=actions, features=features)
