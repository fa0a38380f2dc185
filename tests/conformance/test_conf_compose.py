"""The allowed compositions of spec actions (conformance.compose) and the refinement mapping."""

from __future__ import annotations

from electorate.conformance import compose
from electorate.conformance.observe import NodeView, diff_views, spec_view
from electorate.conformance.script import RunConfig
from electorate.spec.messages import Message, MType
from electorate.spec.state import Role


def _cfg(n: int = 3) -> RunConfig:
    return RunConfig(n, ((0, 0),) * n)


def test_timeout_is_timeout_selfvote_and_requests() -> None:
    p, s = _cfg().params(), _cfg().initial_state()
    c = compose.timeout(p, s, 0)
    assert c is not None
    names = [a.name for a in c.actions]
    assert names[:2] == ["Timeout", "RequestVote"]
    assert [a.detail for a in c.actions if a.name == "Receive"] == [
        "HandleRequestVoteRequest",
        "HandleRequestVoteResponse",
    ]
    assert c.state.role[0] == Role.Candidate and c.state.voted_for[0] == 0
    assert sorted(m.mdest for m, _ in c.state.messages) == [1, 2]  # no self-message left


def test_single_node_timeout_leads_or_not() -> None:
    p, s = _cfg(1).params(), _cfg(1).initial_state()
    eager, lazy = compose.timeout(p, s, 0), compose.timeout(p, s, 0, lead=False)
    assert eager is not None and lazy is not None
    assert eager.state.role[0] == Role.Leader and lazy.state.role[0] == Role.Candidate


def test_deliver_with_higher_term_updates_then_handles() -> None:
    p, s = _cfg().params(), _cfg().initial_state()
    c = compose.timeout(p, s, 0)
    assert c is not None
    req = next(m for m, _ in c.state.messages if m.mdest == 1)
    d = compose.deliver(p, c.state, req)
    assert d is not None
    assert [a.detail for a in d.actions] == ["UpdateTerm", "HandleRequestVoteRequest"]
    assert d.state.voted_for[1] == 0


def test_two_refusals_abandon_the_candidacy() -> None:
    """n=3: two refusals exceed n - quorum; the candidate shows as a follower from then on."""
    p, s = _cfg().params(), _cfg().initial_state()
    c = compose.timeout(p, s, 0)
    assert c is not None
    s, ab = c.state, c.abandoned
    for j in (1, 2):
        no = Message(MType.RequestVoteResponse, s.current_term[0], j, 0, mvote_granted=False)
        s = s._replace(messages=((no, 1),))
        d = compose.deliver(p, s, no, ab)
        assert d is not None
        s, ab = d.state, d.abandoned
    assert s.role[0] == Role.Candidate and 0 in ab
    assert spec_view(p, s, 0, ab).role == "follower"


def test_votes_conform_as_a_subset() -> None:
    want = NodeView("candidate", 2, 0, frozenset({0, 1}))
    assert diff_views(want, NodeView("candidate", 2, 0, frozenset({0}))) == []
    bad = diff_views(want, NodeView("candidate", 2, 0, frozenset({0, 2})))
    assert [f for f, _, _ in bad] == ["votes_granted"]
    # a role difference is reported once, not again as a votes difference
    assert [f for f, _, _ in diff_views(want, NodeView("leader", 2, 0, None))] == ["role"]


def test_transfer_needs_a_leader_and_a_peer_in_its_term() -> None:
    p, s = _cfg().params(), _cfg().initial_state()
    assert compose.transfer(p, s, 0, 1) is None  # nobody leads
    s = s._replace(role=(Role.Leader, Role.Follower, Role.Follower))
    c = compose.transfer(p, s, 0, 1)
    assert c is not None and c.state.role[1] == Role.Candidate
