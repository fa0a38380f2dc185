"""The mutant catalogue: planted bugs an adapter may offer, by name, with their meaning.

An adapter lists the names it can plant in ``hello_ok.mutants``; ``init.mutations`` then asks for
one. The names below are the standard ones (docs/conformance.md, "Mutants"): an adapter that
offers a name plants exactly the bug described, so that every implementation's kill matrix means
the same thing. An adapter may offer further names of its own; they run like any other, with the
meaning it documents.

A mutant is *killed* only when a behavioural check fires: refinement, messages or an invariant on
observations. A protocol error, ``unsupported``, a crash or a timeout means the mutant did not
run, and a matrix with such a row fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from electorate.spec.ids import BugId


@dataclass(frozen=True)
class Mutant:
    name: str
    meaning: str  # what the planted bug does, precisely enough to implement it from
    rule: str  # the rule it breaks, in raft.tla's terms


CATALOGUE: Final[tuple[Mutant, ...]] = (
    Mutant(
        "vote-twice",
        "a node grants a vote request of its current term without looking at votedFor",
        "HandleRequestVoteRequest: grant only if votedFor is Nil or the candidate",
    ),
    Mutant(
        "keep-vote-on-new-term",
        "a node that adopts a newer term keeps votedFor instead of clearing it",
        "UpdateTerm: votedFor' = Nil",
    ),
    Mutant(
        "clear-vote-on-same-term-stepdown",
        "a candidate that receives an AppendEntries of its own term returns to follower and "
        "clears votedFor (it can then vote again in that term: two leaders)",
        "HandleAppendEntriesRequest: a candidate returns to follower, votedFor unchanged",
    ),
    Mutant(
        "no-stepdown-request",
        "a node receiving a RequestVote of a newer term does not adopt that term (it still "
        "answers the request)",
        "UpdateTerm on any message of a newer term",
    ),
    Mutant(
        "no-stepdown-response",
        "a node receiving a vote or AppendEntries response of a newer term ignores it (does not "
        "adopt the term)",
        "none: raft.tla admits it as a lost message (see ADMITTED)",
    ),
    Mutant(
        "no-stepdown-heartbeat",
        "a node receiving an AppendEntries of a newer term does not adopt that term (it still "
        "handles the request)",
        "UpdateTerm on any message of a newer term",
    ),
    Mutant(
        "uptodate-gt",
        "the log up-to-date check needs a strictly longer log when the last terms are equal "
        "(> instead of >=)",
        "LogOk: lastTerm greater, or equal with lastIndex >= the voter's",
    ),
    Mutant(
        "uptodate-index-first",
        "the log up-to-date check compares the last index before the last term",
        "LogOk: the last term decides first",
    ),
    Mutant(
        "quorum-half",
        "a quorum is half of the nodes (n // 2) instead of a strict majority (n // 2 + 1)",
        "BecomeLeader: votesGranted \\in Quorum (a strict majority)",
    ),
    Mutant(
        "count-duplicate-votes",
        "a candidate counts every granted vote response, so a duplicated grant counts twice",
        "HandleRequestVoteResponse: votesGranted is a set of voters",
    ),
    Mutant(
        "count-stale-votes",
        "a candidate counts granted vote responses of older terms",
        "DropStaleResponse: a response of an older term is discarded",
    ),
    Mutant(
        "no-term-increment",
        "a node that times out becomes candidate without incrementing its term",
        "Timeout: currentTerm' = currentTerm + 1",
    ),
    Mutant(
        "no-self-vote",
        "a candidate counts its own vote but does not record it in votedFor (it may then vote "
        "for another candidate of the same term)",
        "a vote counted is a vote cast: votesGranted only holds voters whose votedFor is i",
    ),
    Mutant(
        "stale-term-in-response",
        "a refusal of a request of an older term carries the request's term instead of the "
        "node's own current term",
        "HandleRequestVoteRequest / HandleAppendEntriesRequest reply with currentTerm",
    ),
    Mutant(
        "forget-state-on-restart",
        "currentTerm and votedFor are not persisted: a restarted node comes back with the "
        "term and vote it was initialised with",
        "Restart keeps currentTerm and votedFor",
    ),
    Mutant(
        "bump-term-on-stepdown",
        "a candidate or leader that steps down to follower increments its term once more",
        "UpdateTerm / HandleAppendEntriesRequest: the term becomes the message's term",
    ),
    Mutant(
        "prevote-bumps-term",
        "(PreVote) a node starting a pre-vote round increments its own term",
        "Timeout with PreVote: the pre-candidate keeps its term and vote",
    ),
)

BY_NAME: Final[dict[str, Mutant]] = {m.name: m for m in CATALOGUE}

# Planted behaviours that raft.tla admits: no behavioural check can kill them (a run with one
# fails only as vacuous, its deliveries never counting towards coverage), so an adapter should
# not offer them and no negative control uses them. Name -> why.
ADMITTED: Final[dict[str, str]] = {
    "no-stepdown-response": "a response of a newer term ignored altogether is, to raft.tla, a "
    "lost message (DropMessage): the node stays in its old term, which is safe",
}
SPEC_ADMITTED: Final[dict[BugId, str]] = {
    "stale-votes-counted": "the mutated spec only adds behaviour (a stale grant counted); a "
    "correct implementation discards the stale response, which the mutated spec also allows "
    "(a lost message), so no check can tell the two apart",
    "quorum-half": "the mutated spec only adds behaviour (BecomeLeader with half the votes); "
    "BecomeLeader need never fire, so a correct implementation, which waits for a majority, "
    "is one of the mutated spec's behaviours",
}
