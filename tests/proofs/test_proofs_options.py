"""The spec's options (spec/features/options.py) inside the proofs: every option step is a step
of the relation, so the proofs of each model hold with the options on.

The options that touch elections refuse or grant a (pre-)vote, count a pre-vote, adopt a newer
term or answer an old request: choices the relation already leaves free. So no option needs a
parameter of the relation; what needs checking is that the relation accepts each option's steps
(proofs.concrete.OPTION_STEPS reads them as the spec steps they resemble). Three ways: exhaustive
explorations with every option of a model on (3 servers, where few option steps occur), states
built so that an option's step is enabled (every successor checked), and seeded walks on five
servers. (A vote refused because the leader is known needs five servers in a reachable state:
with three or four, a follower that knows the leader and has not voted leaves no rival
candidate of that term, since the leader's quorum holds the others.)
"""

from __future__ import annotations

import collections
import itertools
import random
from collections.abc import Iterator

import pytest

from electorate.proofs import checkquorum, history, lease, logsafety, prevote, tie
from electorate.proofs.concrete import OPTION_STEPS
from electorate.proofs.vocab import ALL_FEATURES, CANONICAL, Model
from electorate.spec import actions
from electorate.spec.ids import Feature, Option, Profile
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action, Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State

Step = tuple[State, Action, State]

PREVOTE_OPTIONS: tuple[Option, ...] = (
    "vote_refused_with_known_leader",
    "prevote_refused_with_known_leader",
    "prevote_granted_to_voted_candidate",
    "stale_prevote_grant_counted",
)
HEARTBEAT_OPTIONS: tuple[Option, ...] = (
    "vote_refused_with_known_leader",
    "stale_append_success",
    "bare_heartbeats",
    "monotone_progress",
    "optimistic_next_index",
)


def P(
    servers: int,
    features: tuple[Feature, ...],
    options: tuple[Option, ...],
    profile: Profile = "election",
    msgs: int = 1,
) -> Params:
    return Params(
        servers=servers,
        profile=profile,
        max_term=3,
        max_msgs=msgs,
        features=frozenset(features),
        options=frozenset(options),
        max_clock=3 if "lease" in features else 0,
    )


def _labels(steps: Iterator[Step], seen: collections.Counter[str]) -> Iterator[Step]:
    for s, a, t in steps:
        if a.detail in OPTION_STEPS or a.name == "BareHeartbeat":
            seen[a.detail or a.name] += 1
        yield s, a, t


def _walks(p: Params, seed: int, budget: int, depth: int = 60) -> Iterator[Step]:
    """Seeded random walks from Init (seed printed on failure by the caller): every successor
    of every visited state, then one step taken inside the constraint."""
    rng = random.Random(seed)
    produced = 0
    while produced < budget:
        s = Init(p)
        for _ in range(depth):
            successors = list(Next(p, s))
            for a, t in successors:
                yield s, a, t
            produced += len(successors)
            inside = [(a, t) for a, t in successors if constraint(p, t)]
            if not inside or produced >= budget:
                break
            # Messages handled far more often than servers time out, so walks reach leaders.
            weights = [12 if a.name == "Receive" else 1 for a, _ in inside]
            s = rng.choices(inside, weights)[0][1]


def _assert_ok(result: tie.TieResult) -> None:
    assert result.ok, [f"{r.action} as {r.encoded}" for r in result.rejected[:2]]


EXHAUSTIVE = (  # (params, models, depth): every model whose proof covers the features
    (P(3, ("prevote",), PREVOTE_OPTIONS), (prevote.PREVOTE_MODEL,), 12),
    (
        P(3, ("prevote", "check_quorum"), (*PREVOTE_OPTIONS, "newer_term_adopted_in_lease")),
        (ALL_FEATURES,),
        9,
    ),
    (
        P(3, ("check_quorum",), ("vote_refused_with_known_leader", "newer_term_adopted_in_lease")),
        (checkquorum.CHECK_QUORUM_MODEL,),
        9,
    ),
    (P(3, ("lease",), ("vote_refused_with_known_leader",)), (lease.LEASE_MODEL,), 8),
    (P(3, (), HEARTBEAT_OPTIONS, "heartbeat"), (CANONICAL, history.HISTORY_MODEL), 9),
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("p", "models", "depth"), EXHAUSTIVE, ids=[e[0].describe() for e in EXHAUSTIVE]
)
def test_every_step_with_the_options_on_is_accepted(
    p: Params, models: tuple[Model, ...], depth: int
) -> None:
    for result in tie.check_models(p, [(m, ()) for m in models], depth):
        _assert_ok(result)
        assert result.steps > 1000


# ---- states where an option's own step is enabled --------------------------------------------


def _leader_and_follower(p: Params) -> State:
    """s1 leads term 2; s2 follows it in term 2, heard it (inside its lease with CheckQuorum),
    knows it and has not voted; s3 is still in term 1."""
    s = Init(p)._replace(
        current_term=(2, 2, 1),
        role=(Role.Leader, Role.Follower, Role.Follower),
        voted_for=(0, NIL, NIL),
        votes_granted=(0b101, 0, 0),
        votes_responded=(0b101, 0, 0),
    )
    if p.features:
        s = s._replace(heard_leader=(False, True, False))
    if s.knows_leader:
        s = s._replace(knows_leader=(True, True, False))
    return s


def _refuse_prevote(p: Params) -> State:
    s = _leader_and_follower(p)._replace(role=(Role.Leader, Role.Follower, Role.PreCandidate))
    m = Message(MType.RequestVoteRequest, 2, 2, 1, mpre_vote=True)
    return actions.Send(m, s)


def _refuse_vote(p: Params) -> State:
    s = _leader_and_follower(p)._replace(
        current_term=(2, 2, 2),
        role=(Role.Leader, Role.Follower, Role.Candidate),
        voted_for=(0, NIL, 2),
    )
    return actions.Send(Message(MType.RequestVoteRequest, 2, 2, 1), s)


def _prevote_for_voted(p: Params) -> State:
    s = _leader_and_follower(p)._replace(
        voted_for=(0, 2, NIL), role=(Role.Leader, Role.Follower, Role.PreCandidate)
    )
    return actions.Send(Message(MType.RequestVoteRequest, 2, 2, 1, mpre_vote=True), s)


def _stale_prevote_grant(p: Params) -> State:
    s = _leader_and_follower(p)._replace(role=(Role.Leader, Role.Follower, Role.PreCandidate))
    s = s._replace(current_term=(2, 2, 1))
    return actions.Send(
        Message(MType.RequestVoteResponse, 1, 0, 2, mvote_granted=True, mpre_vote=True), s
    )


def _newer_term_in_lease(p: Params) -> State:
    s = _leader_and_follower(p)
    return actions.Send(Message(MType.RequestVoteResponse, 3, 2, 1), s)


def _stale_append(p: Params) -> State:
    s = _leader_and_follower(p)._replace(current_term=(2, 3, 1))
    return actions.Send(Message(MType.AppendEntriesRequest, 2, 0, 1), s)


BUILT = (  # (params, state, the option's step, models)
    (
        P(3, ("prevote",), ("prevote_refused_with_known_leader",)),
        _refuse_prevote,
        "RefusePreVoteKnowingLeader",
        (prevote.PREVOTE_MODEL,),
    ),
    (
        P(3, ("prevote", "check_quorum"), ("prevote_refused_with_known_leader",)),
        _refuse_prevote,
        "RefusePreVoteKnowingLeader",
        (ALL_FEATURES,),
    ),
    (
        P(3, (), ("vote_refused_with_known_leader",), "heartbeat"),
        _refuse_vote,
        "RefuseVoteKnowingLeader",
        (CANONICAL, history.HISTORY_MODEL),
    ),
    (
        P(3, ("check_quorum",), ("vote_refused_with_known_leader",)),
        _refuse_vote,
        "RefuseVoteKnowingLeader",
        (checkquorum.CHECK_QUORUM_MODEL,),
    ),
    (
        P(3, ("prevote",), ("vote_refused_with_known_leader",)),
        _refuse_vote,
        "RefuseVoteKnowingLeader",
        (prevote.PREVOTE_MODEL,),
    ),
    (
        P(3, ("prevote", "check_quorum"), ("vote_refused_with_known_leader",)),
        _refuse_vote,
        "RefuseVoteKnowingLeader",
        (ALL_FEATURES,),
    ),
    (
        P(3, ("lease",), ("vote_refused_with_known_leader",)),
        _refuse_vote,
        "RefuseVoteKnowingLeader",
        (lease.LEASE_MODEL,),
    ),
    (
        P(3, ("prevote", "check_quorum"), ("prevote_granted_to_voted_candidate",)),
        _prevote_for_voted,
        "GrantPreVoteToVotedCandidate",
        (ALL_FEATURES,),
    ),
    (
        P(3, ("prevote",), ("prevote_granted_to_voted_candidate",)),
        _prevote_for_voted,
        "GrantPreVoteToVotedCandidate",
        (prevote.PREVOTE_MODEL,),
    ),
    (
        P(3, ("prevote",), ("stale_prevote_grant_counted",)),
        _stale_prevote_grant,
        "CountStalePreVote",
        (prevote.PREVOTE_MODEL,),
    ),
    (
        P(3, ("check_quorum",), ("newer_term_adopted_in_lease",)),
        _newer_term_in_lease,
        "AdoptNewerTermInLease",
        (checkquorum.CHECK_QUORUM_MODEL,),
    ),
    (
        P(3, ("prevote", "check_quorum"), ("newer_term_adopted_in_lease",)),
        _newer_term_in_lease,
        "AdoptNewerTermInLease",
        (ALL_FEATURES,),
    ),
    (
        P(3, (), ("stale_append_success",), "heartbeat"),
        _stale_append,
        "AckStaleAppendEntries",
        (CANONICAL, history.HISTORY_MODEL),
    ),
)


@pytest.mark.parametrize(
    ("p", "build", "label", "models"),
    BUILT,
    ids=[f"{b[2]}-{','.join(sorted(b[0].features)) or b[0].profile}" for b in BUILT],
)
def test_each_option_step_is_a_step_of_the_relation(
    p: Params, build: object, label: str, models: tuple[Model, ...]
) -> None:
    assert callable(build)
    s = build(p)
    steps = [(s, a, t) for a, t in Next(p, s)]
    assert label in {a.detail for _, a, _ in steps}, f"{label} is not enabled"
    for result in tie.check_models(p, [(m, ()) for m in models], 0, steps=iter(steps)):
        _assert_ok(result)


def test_an_acknowledged_stale_request_is_outside_the_lease_proof() -> None:
    """With the lease tracked, an AppendEntries answer's success flag matters: a success of a
    newer term sent to an old leader is no step of the relation (AckToElected would not hold):
    stale_append_success is not covered by the lease proof (docs/proofs.md)."""
    p = P(3, ("lease",), ("stale_append_success",))
    s = _stale_append(p)
    steps = [(s, a, t) for a, t in Next(p, s) if a.detail == "AckStaleAppendEntries"]
    assert steps
    result = tie.check(p, lease.LEASE_MODEL, 0, steps=iter(steps))
    assert [r.encoded for r in result.rejected] == ["HandleAppendEntriesRequest"]


@pytest.mark.slow
def test_five_server_walks_take_the_heartbeat_options_and_are_accepted() -> None:
    p = P(5, (), HEARTBEAT_OPTIONS, "heartbeat", msgs=2)
    seen: collections.Counter[str] = collections.Counter()
    seeds = (3, 15)  # 3 answers stale requests; 15 meets a follower that knows its leader
    walks = itertools.chain(*[_walks(p, seed, 6000) for seed in seeds])
    result = tie.check(p, history.HISTORY_MODEL, 0, steps=_labels(walks, seen))
    assert result.ok, (f"seeds={seeds}", [f"{r.action} as {r.encoded}" for r in result.rejected])
    assert {"BareHeartbeat", "RefuseVoteKnowingLeader", "AckStaleAppendEntries"} <= set(seen)


def test_a_vote_refused_knowing_the_leader_is_outside_the_log_proof() -> None:
    """The log model computes the up-to-date check exactly, so a vote refused to an up-to-date
    candidate is no step of its relation: the option is not covered by log-matching."""
    p = Params(
        servers=3,
        profile="log",
        max_term=3,
        max_log=1,
        values=1,
        options=frozenset({"vote_refused_with_known_leader"}),
    )
    s = _refuse_vote(p)
    steps = [(s, a, t) for a, t in Next(p, s) if a.detail == "RefuseVoteKnowingLeader"]
    assert steps
    result = tie.check(p, logsafety.LOG_MODEL, 0, steps=iter(steps))
    assert [r.encoded for r in result.rejected] == ["HandleRequestVoteRequest"]
