"""The bug catalogue: each variant a failure mode a design review can watch happen.

A variant changes one action (grep `p.bug ==` in spec/actions.py and spec/features/); its name is
a `BugId` (spec/ids.py). `overrides` are the parameters it needs by default to be refuted
quickly; `breaks` is the property the checker reports first (the shortest counterexample in BFS
order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, TypedDict

from electorate.spec.ids import BugId, Feature, Profile


class Overrides(TypedDict, total=False):
    """The Params a bug variant sets by default (`Params(bug=name, **overrides)` type-checks)."""

    servers: int
    profile: Profile
    max_term: int
    max_msgs: int
    max_log: int
    values: int
    features: frozenset[Feature]
    lease_ticks: int


@dataclass(frozen=True)
class Bug:
    name: BugId
    summary: str
    teaches: str
    breaks: str
    overrides: Overrides = field(default_factory=lambda: Overrides())


BUGS: Final[dict[BugId, Bug]] = {
    b.name: b
    for b in (
        Bug(
            "quorum-half",
            "a quorum is any set holding at least half of the servers",
            "split brain: with an even cluster two disjoint halves each elect a leader",
            "ElectionSafety",
            {"servers": 2},
        ),
        Bug(
            "vote-twice",
            "a server grants a vote without looking at votedFor",
            "double vote: one voter makes two leaders in one term",
            "VotesGrantedAreVotes",
        ),
        Bug(
            "forget-vote-on-restart",
            "votedFor is not durable: Restart clears it",
            "a restarted server votes again in the same term (PySyncObj's flaw)",
            "VoteResponsesAreVotes",
        ),
        Bug(
            "stale-votes-counted",
            "vote responses from older terms are tallied",
            "a vote cast in term t is reused in term t+1 where the voter votes for someone else",
            "VotesGrantedAreVotes",
            {"max_term": 3},
        ),
        Bug(
            "leader-keeps-role",
            "a leader that adopts a higher term stays leader",
            "zombie leader: it leads a term nobody elected it in",
            "VotesGrantedAreVotes",
            {"max_term": 3},
        ),
        Bug(
            "no-log-check",
            "votes are granted without the log up-to-date check (Raft §5.4.1)",
            "a voter with a newer log elects a leader without its entries: the step by which a "
            "committed entry is lost (LeaderCompleteness) once that entry was committed",
            "LeaderLogCoversVoters",
            {"profile": "log", "values": 1, "max_term": 3, "max_log": 1, "max_msgs": 1},
        ),
        # The features' variants (spec/features/; docs/failure-modes.md).
        Bug(
            "no-prevote-disruption",
            "a timed-out server starts an election at once, skipping the pre-vote phase",
            "disruption: a node that heard no leader raises its term and deposes a live leader",
            "NoUnearnedDeposition",
            {"features": frozenset({"prevote"}), "max_term": 3},
        ),
        Bug(
            "prevote-bumps-term",
            "starting the pre-vote phase bumps the server's own term",
            "a pre-candidate that collects no quorum still raises its term",
            "PreVoteTermsEarned",
            {"features": frozenset({"prevote"})},
        ),
        Bug(
            "no-check-quorum-zombie",
            "a leader never checks that it heard from a quorum",
            "zombie leader: cut off from the majority, it leads on while another is elected",
            "CheckQuorumStepDown",
            {"features": frozenset({"check_quorum"})},
        ),
        Bug(
            "lease-too-long",
            "the lease lasts the whole minimum election timeout, ignoring clock drift",
            "a voter whose clock ran ahead leaves the lease while the leader still holds it",
            "LeaseBacked",
            {"features": frozenset({"lease"}), "lease_ticks": 3, "servers": 2},
        ),
        Bug(
            "lease-from-receive-time",
            "the lease is measured from the ack's arrival, not the heartbeat's send time",
            "a slow ack stretches the lease past the voters' promise to refuse votes",
            "LeaseBacked",
            {"features": frozenset({"lease"}), "servers": 2},
        ),
    )
}
