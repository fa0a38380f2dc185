"""The refinement mapping: implementation observations and spec states as comparable views.

An adapter reports, per node: ``up``, ``role``, ``term``, ``voted_for``, ``votes_granted`` and
``leader``. The mapping to raft.tla's variables (docs/conformance.md, "Refinement mapping"):

- ``term`` = currentTerm[i]; ``voted_for`` = votedFor[i] (null = Nil);
- ``role`` = state[i], except that a candidate whose election is abandoned (auxiliary
  variable ``Aux.abandoned`` of conformance.compose, option abandon_lost_election) is a
  follower;
- ``votes_granted`` = votesGranted[i], compared only while the node is a candidate (and only
  if the adapter declares it): raft.tla keeps tallying for followers and leaders,
  implementations forget the tally;
- ``leader`` has no spec counterpart and is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from electorate.conformance.canonical import JSON, CanonicalError, node_id, node_index, show
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State, members

ROLE_NAMES = {
    Role.Follower: "follower",
    Role.Candidate: "candidate",
    Role.Leader: "leader",
    Role.PreCandidate: "pre_candidate",
}
ROLES = frozenset(ROLE_NAMES.values())


@dataclass(frozen=True)
class NodeView:
    """One node seen through the refinement mapping; votes is None unless a candidate."""

    role: str
    term: int
    voted_for: int | None
    votes: frozenset[int] | None

    def fields(self) -> dict[str, object]:
        votes = None if self.votes is None else sorted(node_id(v) for v in self.votes)
        vote = None if self.voted_for is None else node_id(self.voted_for)
        return {"role": self.role, "term": self.term, "voted_for": vote, "votes_granted": votes}


def spec_view(p: Params, s: State, i: int, ab: frozenset[int] = frozenset()) -> NodeView:
    role = "follower" if i in ab else ROLE_NAMES[s.role[i]]
    vote = None if s.voted_for[i] == NIL else s.voted_for[i]
    votes = frozenset(members(s.votes_granted[i])) if role == "candidate" else None
    return NodeView(role, s.current_term[i], vote, votes)


def spec_node_json(p: Params, s: State, i: int, ab: frozenset[int] = frozenset()) -> JSON:
    """What a perfect adapter reports for node i (the spec-backed adapter uses it)."""
    v = spec_view(p, s, i, ab)
    out: JSON = {"up": True, **v.fields()}
    out["votes_granted"] = out["votes_granted"] or []
    out["leader"] = node_id(i) if v.role == "leader" else None
    return out


def observed_view(d: JSON, n: int, votes_observed: bool = True) -> NodeView:
    """The view of one node as reported by an adapter (schema-checked beforehand); without
    ``votes_observed`` (the adapter does not declare votes_granted) the tally is not read."""
    role = d.get("role")
    if role not in ROLES:
        raise CanonicalError(f"unknown role {show(role)}")
    term = d.get("term")
    if not isinstance(term, int) or isinstance(term, bool):
        raise CanonicalError("node field 'term' must be an integer")
    raw_vote = d.get("voted_for")
    vote = None if raw_vote is None else node_index(raw_vote, n)
    votes = None
    if role == "candidate" and votes_observed:
        raw = d.get("votes_granted", [])
        if not isinstance(raw, list):
            raise CanonicalError("node field 'votes_granted' must be a list")
        votes = frozenset(node_index(v, n) for v in raw)
    return NodeView(str(role), term, vote, votes)


def diff_views(expected: NodeView, got: NodeView) -> list[tuple[str, object, object]]:
    """(field, spec value, implementation value) for every field that does not conform.

    Votes conform when the implementation counts a subset of the grants raft.tla tallies:
    counting a vote never granted is unsafe, ignoring one (e.g. a grant arriving after a
    refusal from the same voter) only delays the election, which BecomeLeader allows.
    """
    e, g = expected.fields(), got.fields()
    out = [(k, e[k], g[k]) for k in e if k != "votes_granted" and e[k] != g[k]]
    if expected.votes is not None and got.votes is not None and not got.votes <= expected.votes:
        out.append(("votes_granted", e["votes_granted"], g["votes_granted"]))
    return out
