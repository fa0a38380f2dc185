"""Named safety rules checked on the events themselves, without the spec.

They give a failure its name: when no spec behaviour explains an event, the report also says
which of these rules the trace breaks there (a vote granted twice in one term breaks
OneVotePerTerm). Each is a consequence of the spec's invariants, read off what the nodes
logged; a rule broken where the spec search found a behaviour would be a gap in the
validator, and the verdict is "invalid" either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from electorate.spec.state import NIL, Role
from electorate.validate.events import Event
from electorate.validate.mapping import Model, Step

RULES = {
    "TermsNeverDecrease": "a node's term never goes back, not even across a restart",
    "VoteSurvivesRestart": "a node restarts with the vote it cast in its term",
    "OneVotePerTerm": "a node votes for at most one candidate per term",
    "LeaderHasQuorum": "a leader of term T was granted votes for T by a quorum",
    "ElectionSafety": "at most one leader per term",
    "LeaseNeedsQuorumAcks": "a lease starts only once a quorum acked the leader in its term",
}


@dataclass(frozen=True)
class RuleViolation:
    rule: str
    event: Event
    text: str

    def show(self) -> str:
        return f"{self.rule} ({RULES[self.rule]}): {self.text}"


@dataclass
class Rules:
    """The rules' memory of the trace so far (fed steps in the order the search takes them)."""

    mdl: Model
    observes: dict[str, frozenset[str]] = field(default_factory=dict)
    hard: dict[int, tuple[int, int]] = field(default_factory=dict)
    voted: dict[tuple[int, int], int] = field(default_factory=dict)  # (node, term) -> candidate
    grants: dict[tuple[int, int], set[int]] = field(default_factory=dict)  # (cand, term) -> voters
    leaders: dict[int, int] = field(default_factory=dict)  # term -> leader
    role: dict[int, Role] = field(default_factory=dict)
    acks: dict[int, set[int]] = field(default_factory=dict)
    observes_term: dict[int, bool] = field(default_factory=dict)

    def step(self, step: Step) -> list[RuleViolation]:
        out: list[RuleViolation] = []
        i = step.node
        for ev in step.events:
            out += self._event(i, ev)
        return out

    def _event(self, i: int, ev: Event) -> list[RuleViolation]:
        k, d = ev.kind, ev.data
        if k in ("start", "restart", "term"):
            return self._hard(i, ev, d["term"], self.mdl.vote_index(d["voted_for"]))
        if k == "vote" and d["granted"] and not d.get("pre_vote", False):
            return self._vote(i, ev, d["term"], self.mdl.index[d["candidate"]])
        if k == "recv" and ev.msg is not None:
            self._received(i, ev)
        if k == "role":
            return self._role(i, ev, _ROLE[d["role"]])
        if k == "lease_start":
            return self._lease(i, ev, d["term"])
        return []

    def _hard(self, i: int, ev: Event, term: int, vote: int) -> list[RuleViolation]:
        out: list[RuleViolation] = []
        name = self.mdl.name(i)
        old = self.hard.get(i)
        if ev.kind in ("start", "restart"):
            self.role[i] = Role.Follower
        if old is not None and term < old[0]:
            out.append(
                RuleViolation(
                    "TermsNeverDecrease", ev, f"{name}'s term goes from {old[0]} back to {term}"
                )
            )
        cast = self.voted.get((i, term))
        if ev.kind == "restart" and cast is not None and vote != cast:
            out.append(
                RuleViolation(
                    "VoteSurvivesRestart",
                    ev,
                    f"{name} voted for {self.mdl.name(cast)} in term {term} and restarts with "
                    f"votedFor {self.mdl.name(vote)}",
                )
            )
        elif vote != NIL:
            out += self._vote(i, ev, term, vote)
        self.hard[i] = (term, vote)
        return out

    def _vote(self, i: int, ev: Event, term: int, cand: int) -> list[RuleViolation]:
        cast = self.voted.setdefault((i, term), cand)
        if cast == cand:
            return []
        n = self.mdl.name
        return [
            RuleViolation(
                "OneVotePerTerm",
                ev,
                f"{n(i)} votes for {n(cand)} in term {term} after voting for {n(cast)}",
            )
        ]

    def _received(self, i: int, ev: Event) -> None:
        m = ev.msg
        assert m is not None
        src = self.mdl.index[m.src]
        if m.type == "request_vote_res" and m.granted and not m.pre_vote:
            self.grants.setdefault((i, m.term), set()).add(src)
        elif m.type == "append_entries_res" and m.success and self.role.get(i) == Role.Leader:
            term = self.hard.get(i, (-1, NIL))[0]
            if m.term == term:
                self.acks.setdefault(i, set()).add(src)

    def _seen(self, i: int, kind: str) -> bool:
        """Does node i log ``kind`` completely (else a rule reading it is not checked)?"""
        return kind in self.observes.get(self.mdl.name(i), frozenset({kind}))

    def _role(self, i: int, ev: Event, role: Role) -> list[RuleViolation]:
        self.role[i] = role
        if role != Role.Leader:
            return []
        self.acks[i] = set()
        if i not in self.hard or not self._seen(i, "term"):
            return []  # its term is not logged: the leader's term is not known here
        term = self.hard[i][0]
        out: list[RuleViolation] = []
        n = self.mdl.name
        votes = set(self.grants.get((i, term), set()))
        if self.voted.get((i, term)) == i:
            votes.add(i)
        if len(votes) < self.mdl.p.quorum_size:
            shown = "{" + ", ".join(n(j) for j in sorted(votes)) + "}"
            out.append(
                RuleViolation(
                    "LeaderHasQuorum",
                    ev,
                    f"{n(i)} becomes leader of term {term} with votes from {shown}; a quorum "
                    f"is {self.mdl.p.quorum_size} of {self.mdl.p.servers}",
                )
            )
        other = self.leaders.setdefault(term, i)
        if other != i:
            out.append(
                RuleViolation(
                    "ElectionSafety", ev, f"{n(i)} and {n(other)} are both leaders of term {term}"
                )
            )
        return out

    def _lease(self, i: int, ev: Event, term: int) -> list[RuleViolation]:
        n = self.mdl.name
        if not (self._seen(i, "role") and self._seen(i, "term")):
            return []
        if self.role.get(i) != Role.Leader or self.hard.get(i, (-1, NIL))[0] != term:
            return [
                RuleViolation("LeaseNeedsQuorumAcks", ev, f"{n(i)} is not leader of term {term}")
            ]
        acked = self.acks.get(i, set()) | {i}
        if len(acked) >= self.mdl.p.quorum_size:
            return []
        shown = "{" + ", ".join(n(j) for j in sorted(acked)) + "}"
        return [
            RuleViolation(
                "LeaseNeedsQuorumAcks",
                ev,
                f"{n(i)} starts a lease in term {term} acked by {shown} only; a quorum is "
                f"{self.mdl.p.quorum_size} of {self.mdl.p.servers}",
            )
        ]


_ROLE = {
    "follower": Role.Follower,
    "pre_candidate": Role.PreCandidate,
    "candidate": Role.Candidate,
    "leader": Role.Leader,
}
