"""The Python actions against raft.tla's text, quirk by quirk (one test per rule)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import electorate.spec
from electorate.spec import actions as act
from electorate.spec.features import check_quorum, prevote, restated
from electorate.spec.ids import FEATURES, PROFILES
from electorate.spec.messages import Message, MType, WithMessage, WithoutMessage, copies
from electorate.spec.next import Action, Init, Next, actions_for, constraint
from electorate.spec.params import Params, ParamsError
from electorate.spec.state import NIL, Role, State

P3 = Params()
SPEC_ROOT = Path(electorate.spec.__file__).resolve().parent  # the sources (not build/compiled)


def step(s: State, name: str, *args: object) -> State:
    """The successor of the unique enabled instance of `name` with `args` (fails if none)."""
    found = [t for a, t in Next(P3, s) if a.name == name and a.args == args]
    assert len(found) == 1, f"{name}{args} enabled {len(found)} times"
    return found[0]


def rv(src: int, dst: int, term: int) -> Message:
    return Message(MType.RequestVoteRequest, term, src, dst)


def test_init_is_all_followers_in_term_1_with_no_vote() -> None:
    s = Init(P3)
    assert s.current_term == (1, 1, 1)
    assert s.role == (Role.Follower,) * 3
    assert s.voted_for == (NIL,) * 3
    assert s.messages == ()


def test_timeout_increments_term_without_voting_for_itself() -> None:
    s = step(Init(P3), "Timeout", 0)
    assert s.current_term == (2, 1, 1) and s.role[0] == Role.Candidate
    assert s.voted_for[0] == NIL  # the self-vote comes by a RequestVote message to itself


def test_candidate_votes_for_itself_by_a_message_to_itself() -> None:
    s = step(step(Init(P3), "Timeout", 0), "RequestVote", 0, 0)
    assert s.messages == ((rv(0, 0, 2), 1),)
    s = step(s, "Receive", rv(0, 0, 2))
    assert s.voted_for[0] == 0
    ((resp, n),) = s.messages
    assert resp.mtype == MType.RequestVoteResponse and resp.mvote_granted and n == 1


def test_update_term_does_not_consume_the_message() -> None:
    s = step(step(Init(P3), "Timeout", 0), "RequestVote", 0, 1)
    t = step(s, "Receive", rv(0, 1, 2))
    assert t.current_term[1] == 2 and t.voted_for[1] == NIL
    assert t.messages == s.messages  # still there to be handled as a request next


def test_vote_responses_are_tallied_even_by_a_follower() -> None:
    s = Init(P3)
    resp = Message(MType.RequestVoteResponse, 1, 1, 0, mvote_granted=True)
    s = s._replace(messages=((resp, 1),))
    t = step(s, "Receive", resp)
    assert t.role[0] == Role.Follower and t.votes_granted[0] == 0b10


def test_stale_response_is_dropped() -> None:
    resp = Message(MType.RequestVoteResponse, 1, 1, 0, mvote_granted=True)
    s = Init(P3)._replace(current_term=(2, 2, 1), messages=((resp, 1),))
    received = act.Receive(P3, s, resp)
    assert received is not None and received[0] == "DropStaleResponse"
    assert received[1].messages == () and received[1].votes_granted == s.votes_granted


def test_one_vote_per_term() -> None:
    s = Init(P3)._replace(current_term=(2, 2, 2), voted_for=(NIL, NIL, 0))
    s = s._replace(messages=((rv(1, 2, 2), 1),))
    t = step(s, "Receive", rv(1, 2, 2))
    ((resp, _),) = t.messages
    assert not resp.mvote_granted and t.voted_for[2] == 0


def test_restart_keeps_term_vote_and_log_but_not_the_role() -> None:
    s = Init(P3)._replace(
        current_term=(3, 1, 1),
        role=(Role.Leader, Role.Follower, Role.Follower),
        voted_for=(0, -1, -1),
    )
    t = act.Restart(P3, s, 0)
    assert t.role[0] == Role.Follower and t.current_term[0] == 3 and t.voted_for[0] == 0


def test_restart_of_a_reset_follower_stutters() -> None:
    s = Init(P3)
    assert act.Restart(P3, s, 1) is s


def test_become_leader_needs_a_strict_majority() -> None:
    s = Init(P3)._replace(
        role=(Role.Candidate, Role.Follower, Role.Follower), current_term=(2, 1, 1)
    )
    assert act.BecomeLeader(P3, s._replace(votes_granted=(0b001, 0, 0)), 0) is None
    t = act.BecomeLeader(P3, s._replace(votes_granted=(0b011, 0, 0)), 0)
    assert t is not None and t.role[0] == Role.Leader


def test_quorum_half_bug_accepts_half_of_an_even_cluster() -> None:
    p4 = Params(servers=4)
    bug = Params(servers=4, bug="quorum-half")
    assert not act.IsQuorum(p4, 0b0011) and act.IsQuorum(bug, 0b0011)


def test_bag_counts_copies_and_forgets_a_message_with_none_left() -> None:
    m = rv(0, 1, 2)
    bag = WithMessage(m, WithMessage(m, ()))
    assert bag == ((m, 2),) and copies(bag) == 2
    assert WithoutMessage(m, WithoutMessage(m, bag)) == ()


def test_duplicate_and_drop_apply_to_any_message() -> None:
    resp = Message(MType.RequestVoteResponse, 1, 1, 0)
    s = Init(P3)._replace(messages=((resp, 1),))
    names = {a.name for a, _ in Next(P3, s)}
    assert {"DuplicateMessage", "DropMessage", "Receive"} <= names


def test_constraint_bounds_terms_and_messages() -> None:
    s = Init(P3)
    assert constraint(P3, s)
    assert not constraint(P3, s._replace(current_term=(3, 1, 1)))
    m = rv(0, 1, 2)
    assert not constraint(P3, s._replace(messages=((m, 2),)))


def test_action_labels_read_like_tla() -> None:
    a = Action("Receive", (rv(0, 1, 2),), "HandleRequestVoteRequest")
    assert str(a) == "Receive(RequestVoteRequest s1->s2 term 2) [HandleRequestVoteRequest]"
    assert str(Action("RequestVote", (0, 1))) == "RequestVote(s1, s2)"


def test_heartbeat_returns_a_same_term_candidate_to_follower() -> None:
    p = Params(profile="heartbeat")
    ae = Message(MType.AppendEntriesRequest, 2, 1, 0)
    s = Init(p)._replace(current_term=(2, 2, 1), role=(Role.Candidate, Role.Leader, Role.Follower))
    s = s._replace(messages=((ae, 1),))
    received = act.Receive(p, s, ae)
    assert received is not None and received[0] == "HandleAppendEntriesRequest"
    assert received[1].role[0] == Role.Follower and received[1].messages == s.messages


def test_bad_params_are_refused_with_the_option_to_fix() -> None:
    for kwargs, text in [
        ({"servers": 0}, "--servers"),
        ({"profile": "nope"}, "unknown profile"),
        ({"max_msgs": -1}, "--max-msgs"),
        ({"features": frozenset({"warp"})}, "unknown feature"),
    ]:
        try:
            Params(**kwargs)  # type: ignore[arg-type]
        except ParamsError as e:
            assert text in str(e)
        else:
            raise AssertionError(f"{kwargs} accepted")


def _every_action() -> set[Callable[..., object]]:
    """Every action of every model's table, and the Receive handlers they dispatch to."""
    found: set[Callable[..., object]] = set()
    for features in (frozenset(), frozenset(FEATURES)):
        for profile in PROFILES:
            p = Params(servers=2, profile=profile, features=features)
            table = actions_for(p)
            found |= {getattr(table, f.name) for f in fields(table)} - {None}
    handlers = ("UpdateTerm", "HandleAppendEntriesRequest", "HandleAppendEntriesResponse")
    found |= {getattr(module, name) for module in (act, restated) for name in handlers}
    found |= {act.HandleRequestVoteRequest, act.HandleRequestVoteResponse, act.DropStaleResponse}
    found |= {prevote.HandlePreVoteRequest, prevote.HandlePreVoteResponse}
    found |= {prevote.PreVoteTimeout, check_quorum.LeaderTimer}
    return found


def _docstring(fn: Callable[..., object]) -> str:
    """fn's docstring, read from its source (a mypyc-compiled function has none at run time)."""
    module = sys.modules[fn.__module__]
    source = SPEC_ROOT.joinpath(*module.__name__.split(".")[2:]).with_suffix(".py")
    if source.name == "__init__.py" or not source.is_file():
        raise AssertionError(f"no source for {fn.__module__}")
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == fn.__name__:
            return ast.get_docstring(node) or ""
    raise AssertionError(f"{fn.__name__} not defined in {source}")


def test_every_action_says_who_acts_and_which_tla_action_it_is() -> None:
    actions = _every_action()
    assert len(actions) > 25
    for fn in actions:
        doc = _docstring(fn)
        first = doc.splitlines()[0] if doc else ""
        name = f"{fn.__module__}.{fn.__name__}"
        assert first.endswith(".") and first.split()[0][0].isupper(), f"{name}: {first!r}"
        assert "TLA+: " in doc, f"{name} does not name its TLA+ action"
