"""The allowed compositions (conformance.compose): what raft.tla allows passes, only what it
forbids fails. Each test hands the composer an observation, as an adapter would report it."""

from __future__ import annotations

from collections import Counter

from electorate.conformance.compose import Aux, Composite, Observation, compositions
from electorate.conformance.harness import first_match
from electorate.conformance.model import Model, model
from electorate.conformance.observe import NodeView, diff_views, spec_view
from electorate.conformance.script import RunConfig, Step
from electorate.spec.messages import Entry, Message, MType
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State

F, C, L = "follower", "candidate", "leader"
NO_AUX = Aux()


def _setup(n: int = 3) -> tuple[Model, State]:
    cfg = RunConfig(n, ((0, 0),) * n)
    return model(cfg.params()), cfg.initial_state()


def _views(s: State, **changes: NodeView) -> dict[int, NodeView]:
    """Every node as the spec shows it, with some nodes replaced (n1=..., n2=...)."""
    views = {i: spec_view(_p(s), s, i) for i in range(len(s.role))}
    for name, v in changes.items():
        views[int(name[1:]) - 1] = v
    return views


def _p(s: State) -> Params:
    return RunConfig(len(s.role), ((0, 0),) * len(s.role)).params()


def _match(
    mdl: Model,
    s: State,
    step: Step,
    views: dict[int, NodeView],
    *sent: Message,
    aux: Aux = NO_AUX,
) -> Composite | None:
    return first_match(mdl, s, aux, step, Observation(views, Counter(sent)))


def _rv(src: int, dst: int, term: int) -> Message:
    return Message(MType.RequestVoteRequest, term, src, dst)


def _rvr(src: int, dst: int, term: int, granted: bool) -> Message:
    return Message(MType.RequestVoteResponse, term, src, dst, mvote_granted=granted)


def _ae(src: int, dst: int, term: int) -> Message:
    return Message(MType.AppendEntriesRequest, term, src, dst)


def _elect(mdl: Model, s: State, i: int) -> State:
    """Node i times out and asks everyone (eager: the spec adapter's own choices)."""
    c = next(compositions(mdl, s, Aux(), Step("timeout", i), None))
    return c.state


def test_a_candidate_votes_for_itself_and_asks_everyone() -> None:
    mdl, s = _setup()
    t = _elect(mdl, s, 0)
    assert t.role[0] == Role.Candidate and t.voted_for[0] == 0 and t.votes_granted[0] == 1
    assert sorted(m.mdest for m, _ in t.messages) == [1, 2]


def test_the_self_vote_and_the_requests_are_each_optional() -> None:
    """raft.tla's self-vote is a message to itself, which may be lost; so may any request."""
    mdl, s = _setup()
    cand = NodeView(C, 2, None, frozenset())
    c = _match(mdl, s, Step("timeout", 0), _views(s, n1=cand), _rv(0, 2, 2))
    assert c is not None and c.state.voted_for[0] == NIL
    assert [m.mdest for m, _ in c.state.messages] == [2]
    # counting a vote it never cast is caught (the no-self-vote mutant)
    bad = NodeView(C, 2, None, frozenset({0}))
    assert _match(mdl, s, Step("timeout", 0), _views(s, n1=bad)) is None


def test_a_refused_candidate_stays_a_candidate_or_declares_that_it_gives_up() -> None:
    mdl, s = _setup()
    t = _elect(mdl, s, 0)
    for j in (1, 2):
        no = _rvr(j, 0, 2, False)
        t = t._replace(messages=((no, 1),))
        step = Step("deliver", msg=no)
        stays = NodeView(C, 2, 0, frozenset({0}))
        c = _match(mdl, t, step, _views(t, n1=stays))
        assert c is not None, "Figure 2: the candidate waits for its timer"
        t = c.state
    gives_up = NodeView(F, 2, 0, None)
    last = _rvr(2, 0, 2, False)
    u = t._replace(messages=((last, 1),), votes_responded=(0b011, 0, 0))
    step = Step("deliver", msg=last)
    assert _match(mdl, u, step, _views(u, n1=gives_up)) is None, "not without the option"
    c = _match(mdl, u, step, _views(u, n1=gives_up), aux=Aux(abandon=True))
    assert c is not None and c.aux.abandoned == frozenset({0})


def test_a_leader_may_be_made_at_once_later_or_never() -> None:
    mdl, s = _setup()
    t = _elect(mdl, s, 0)
    yes = _rvr(1, 0, 2, True)
    t = t._replace(messages=((yes, 1),))
    step = Step("deliver", msg=yes)
    waits = NodeView(C, 2, 0, frozenset({0, 1}))
    later = _match(mdl, t, step, _views(t, n1=waits))
    assert later is not None and later.state.role[0] == Role.Candidate
    leads = NodeView(L, 2, 0, None)
    quiet = _match(mdl, t, step, _views(t, n1=leads))  # no heartbeat at once
    assert quiet is not None and quiet.state.role[0] == Role.Leader
    loud = _match(mdl, t, step, _views(t, n1=leads), _ae(0, 1, 2), _ae(0, 2, 2))
    assert loud is not None and loud.state.role[0] == Role.Leader
    # with the quorum made earlier it becomes leader at any later step: here n3's grant
    ask = _rv(0, 2, 2)
    u = later.state._replace(messages=((ask, 1),))
    views = _views(u, n1=leads, n3=NodeView(F, 2, 0, None))
    c = _match(mdl, u, Step("deliver", msg=ask), views, _rvr(2, 0, 2, True))
    assert c is not None and c.state.role[0] == Role.Leader


def test_a_stale_request_may_be_answered_or_ignored() -> None:
    mdl, s = _setup()
    t = _elect(mdl, s, 0)._replace(messages=((_rv(1, 0, 1), 1),))
    step = Step("deliver", msg=_rv(1, 0, 1))
    answered = _match(mdl, t, step, _views(t), _rvr(0, 1, 2, False))
    assert answered is not None and answered.core == "full" and answered.omitted == 0
    ignored = _match(mdl, t, step, _views(t))
    assert ignored is not None and ignored.omitted == 1  # the refusal, lost
    wrong_term = _match(mdl, t, step, _views(t), _rvr(0, 1, 1, False))
    assert wrong_term is None  # the stale-term-in-response mutant


def test_a_message_may_be_ignored_altogether() -> None:
    mdl, s = _setup()
    t = _elect(mdl, s, 0)
    m = next(x for x, _ in t.messages if x.mdest == 1)
    c = _match(mdl, t, Step("deliver", msg=m), _views(t))
    assert c is not None and c.core == "drop" and c.state.current_term[1] == 1


def test_an_entry_appended_on_election_is_a_client_request() -> None:
    """etcd and PySyncObj append an entry when they win; raft.tla: ClientRequest(i, v)."""
    mdl, s = _setup()
    t = _elect(mdl, s, 0)
    yes = _rvr(1, 0, 2, True)
    t = t._replace(messages=((yes, 1),))
    noop = Message(MType.AppendEntriesRequest, 2, 0, 1, mentries=(Entry(2, 0),))
    leads = NodeView(L, 2, 0, None)
    c = _match(mdl, t, Step("deliver", msg=yes), _views(t, n1=leads), noop)
    assert c is not None and [a.name for a in c.actions][-2:] == ["ClientRequest", "AppendEntries"]


def test_a_message_raft_cannot_send_is_a_divergence() -> None:
    mdl, s = _setup()
    bogus = _ae(1, 2, 1)  # n2 is no leader
    c = next(compositions(mdl, s, Aux(), Step("heartbeat", 0), None), None)
    assert c is None  # no leader: no heartbeat step at all
    t = _elect(mdl, s, 0)
    comps = list(compositions(mdl, t, Aux(), Step("timeout", 1), Observation({}, Counter([bogus]))))
    assert comps and all(bogus in x.unexplained for x in comps)


def test_votes_conform_as_a_subset() -> None:
    want = NodeView(C, 2, 0, frozenset({0, 1}))
    assert diff_views(want, NodeView(C, 2, 0, frozenset({0}))) == []
    bad = diff_views(want, NodeView(C, 2, 0, frozenset({0, 2})))
    assert [f for f, _, _ in bad] == ["votes_granted"]
    assert [f for f, _, _ in diff_views(want, NodeView(L, 2, 0, None))] == ["role"]
    assert diff_views(want, NodeView(C, 2, 0, None)) == []  # votes not observed


def test_transfer_needs_a_leader_and_a_peer_in_its_term() -> None:
    mdl, s = _setup()
    s = s._replace(role=(Role.Leader, Role.Follower, Role.Follower))
    c = next(compositions(mdl, s, Aux(), Step("transfer", 0, 1), None))
    assert c.state.role[1] == Role.Candidate


def test_a_transfer_may_wait_for_the_target_to_catch_up() -> None:
    """etcd sends TimeoutNow only once the target's log matches: nothing at the transfer step,
    the target's election at a later one."""
    mdl, s = _setup()
    s = s._replace(role=(Role.Leader, Role.Follower, Role.Follower), current_term=(2, 2, 2))
    waits = _match(mdl, s, Step("transfer", 0, 1), _views(s))
    assert waits is not None and waits.core == "deferred"
    assert waits.aux.transfers == frozenset({(0, 1)})
    ack = Message(MType.AppendEntriesResponse, 2, 1, 0, msuccess=True)
    t = waits.state._replace(messages=((ack, 1),))
    views = _views(t, n2=NodeView(C, 3, 1, frozenset({1})))
    asks = [_rv(1, 0, 3), _rv(1, 2, 3)]
    c = _match(mdl, t, Step("deliver", msg=ack), views, *asks, aux=waits.aux)
    assert c is not None and c.state.role[1] == Role.Candidate
    # without a pending transfer, a node does not start an election on its own
    assert _match(mdl, t, Step("deliver", msg=ack), views, *asks) is None
