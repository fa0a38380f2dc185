"""The tie to the spec: the Z3 relations accept every step the spec takes.

Three servers and terms up to 3 are explored exhaustively up to a depth (prove's own tie, widened
here), larger and featured models by seeded random walks that check every successor of every
visited state; each bug variant's mirrored mutant accepts the buggy spec's steps. The check can
fail: a tampered step is rejected, and a spec-only drift (simulated by changing what the spec's
Next returns) is caught and named.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest
import z3

from electorate.proofs import catalog, checkquorum, history, lease, prevote, tie
from electorate.proofs.invariant import CONJUNCTS
from electorate.proofs.model import actions_for
from electorate.proofs.vocab import ALL_FEATURES, CANONICAL, Model
from electorate.spec.ids import BugId, Feature, Profile
from electorate.spec.next import Action, Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.state import Role, State

Step = tuple[State, Action, State]

# One level deeper than prove's own tie (which the slow CLI test runs on every CI run): minutes
# of CPU, so only with ELECTORATE_LONG=1.
LONG_ONLY = pytest.mark.skipif(
    not os.environ.get("ELECTORATE_LONG"), reason="long: set ELECTORATE_LONG=1"
)


def P(
    servers: int,
    *features: Feature,
    profile: Profile = "election",
    msgs: int = 1,
    clock: int = 0,
    values: int = 0,
    bug: BugId | None = None,
) -> Params:
    """Terms up to 3; `msgs` messages in flight; with the lease, absolute clocks up to `clock`."""
    return Params(
        servers=servers,
        profile=profile,
        max_term=3,
        max_msgs=msgs,
        values=values,
        features=frozenset(features),
        max_clock=clock,
        bug=bug,
    )


# Walks favour protocol steps over network faults, restarts and new elections (weights) so
# that they get to leaders.
WEIGHT = {
    "DuplicateMessage": 1,
    "DropMessage": 1,
    "Restart": 1,
    "Timeout": 1,
    "ElectionTimer": 1,
    "Tick": 2,
    "Receive": 12,
}


def walk_steps(
    p: Params, seed: int, budget: int, depth: int = 40, fanout: int = 3
) -> Iterator[Step]:
    """Seeded random walks from Init; yields the step taken plus `fanout` other successors of
    every visited state, so the sample reaches deep states (leaders) and stays broad."""
    rng = random.Random(seed)
    produced = 0
    while produced < budget:
        s = Init(p)
        for _ in range(depth):
            successors = list(Next(p, s))
            inside = [(a, t) for a, t in successors if constraint(p, t)]
            if not inside:
                break
            weights = [WEIGHT.get(a.name, 6) for a, _ in inside]
            action, t = rng.choices(inside, weights)[0]
            for other, u in rng.sample(successors, min(fanout, len(successors))):
                yield s, other, u
            yield s, action, t
            produced += 1 + min(fanout, len(successors))
            if produced >= budget:
                return
            s = t


def _assert_ok(result: tie.TieResult) -> None:
    label = f"{result.params.describe()} [{result.model.tag or 'canonical'}]"
    for rej in result.rejected:
        where = f"pre:  {rej.pre}\npost: {rej.post}"
        pytest.fail(f"{label}: {rej.encoded} rejects spec step {rej.action}\n{where}")
    assert not result.broken, f"{label}: reachable states violate {result.broken[:3]}"


def test_prove_ties_reach_the_drifts_they_are_for() -> None:
    """prove's canonical tie is deep enough to see a leader deposed (13 steps)."""
    config = catalog.TIES[0]
    assert config.params.servers == 3 and config.params.max_term == 3 and config.depth >= 13


@pytest.mark.slow
@LONG_ONLY
def test_every_step_of_three_servers_is_accepted() -> None:
    """3 servers, terms up to 3, heartbeat profile (which contains the election profile), one
    level deeper than prove's own tie; every reached state satisfies the election invariant."""
    p = P(3, profile="heartbeat")
    results = tie.check_models(p, [(CANONICAL, CONJUNCTS), (history.HISTORY_MODEL, ())], depth=14)
    for r in results:
        _assert_ok(r)
        assert r.steps > 300_000 and r.leader, (r.steps, r.leader)


@pytest.mark.slow
@LONG_ONLY
@pytest.mark.parametrize(
    ("p", "depth", "model"),
    [
        (P(3, "prevote"), 16, prevote.PREVOTE_MODEL),
        (
            P(3, "check_quorum"),
            12,
            checkquorum.CHECK_QUORUM_MODEL,
        ),
        (P(2, "lease", clock=4), 15, lease.LEASE_MODEL),
        (
            P(3, "prevote", "check_quorum", "lease", clock=3),
            11,
            ALL_FEATURES,
        ),
    ],
    ids=["prevote", "check_quorum", "lease-2", "all-features"],
)
def test_every_featured_step_is_accepted(p: Params, depth: int, model: Model) -> None:
    _assert_ok(tie.check(p, model, depth))


PREVOTE_CQ = frozenset({"prevote", "check_quorum"})
WALKS = (  # (params, model, seed, budget): beyond exhaustive reach, seeded samples
    (P(3, msgs=2), CANONICAL, 11, 800),
    (P(3, profile="heartbeat", msgs=2), history.HISTORY_MODEL, 12, 800),
    (P(3, profile="log", msgs=2, values=1), CANONICAL, 13, 800),
    (
        P(2, "prevote", "check_quorum", profile="heartbeat", msgs=2),
        Model(PREVOTE_CQ),
        1,
        800,
    ),
    (
        P(3, "prevote", msgs=2),
        prevote.PREVOTE_MODEL,
        4,
        800,
    ),
    (
        P(3, "check_quorum", msgs=2),
        checkquorum.CHECK_QUORUM_MODEL,
        4,
        800,
    ),
    (
        P(3, "lease", msgs=2, clock=4),
        lease.LEASE_MODEL,
        5,
        1200,
    ),
    (
        P(3, "prevote", "check_quorum", "lease", msgs=2, clock=4),
        ALL_FEATURES,
        2,
        800,
    ),
    (
        P(3, "prevote", "check_quorum", "lease", msgs=2, clock=4),
        Model(PREVOTE_CQ | {"lease"}, frozenset({"lease", "quiet", "earned", "history"})),
        12,
        1200,
    ),
)


@pytest.mark.parametrize(
    ("p", "model", "seed", "budget"), WALKS, ids=[f"{w[0].describe()} [{w[1].tag}]" for w in WALKS]
)
def test_random_steps_are_accepted(p: Params, model: Model, seed: int, budget: int) -> None:
    result = tie.check(p, model, 0, steps=walk_steps(p, seed, budget))
    _assert_ok(result)
    assert result.steps >= budget
    assert result.leader, f"seed={seed}: the walks never reached a leader (try another seed)"


def test_the_walks_exercise_every_action() -> None:
    """Together the walks reach every action of the models they check (without z3: cheap);
    an action a model keeps only as an over-approximation may be reached under another."""
    from electorate.proofs.concrete import encoded_action

    names: set[str] = set()
    expected: set[str] = set()
    for p, model, seed, budget in WALKS:
        names |= {encoded_action(p, model, a)[0] for _, a, _ in walk_steps(p, seed, budget)}
        expected |= {a.name for a in actions_for(model, p.bug)}
    assert expected <= names, sorted(expected - names)


FEATURE_BUG_MODELS: dict[BugId, tuple[frozenset[Feature], Model]] = {
    "no-prevote-disruption": (frozenset({"prevote"}), prevote.PREVOTE_MODEL),
    "prevote-bumps-term": (frozenset({"prevote"}), prevote.PREVOTE_MODEL),
    "no-check-quorum-zombie": (frozenset({"check_quorum"}), checkquorum.CHECK_QUORUM_MODEL),
    "lease-too-long": (frozenset({"lease"}), lease.LEASE_MODEL),
    "lease-from-receive-time": (frozenset({"lease"}), lease.LEASE_MODEL),
}


@pytest.mark.parametrize(
    "bug",
    [
        "quorum-half",
        "vote-twice",
        "forget-vote-on-restart",
        "stale-votes-counted",
        "leader-keeps-role",
        "no-term-increment",
        *FEATURE_BUG_MODELS,
    ],
)
def test_mutant_encoding_accepts_the_buggy_spec(bug: BugId) -> None:
    """The encoding's mutant is a faithful image of the spec's bug (so its CTIs are real)."""
    features, model = FEATURE_BUG_MODELS.get(bug, (frozenset(), history.HISTORY_MODEL))
    clock = 4 if "lease" in features else 0
    p = P(2, *sorted(features), profile="heartbeat", clock=clock, bug=bug)
    seed = 100 + len(bug)
    result = tie.check(p, model, 0, steps=walk_steps(p, seed, budget=400))
    _assert_ok(result)
    assert result.steps >= 400


def test_wrong_steps_are_rejected() -> None:
    """The check can fail: a step with a tampered post-state is refused."""
    p = Params(servers=2, profile="election", max_term=2, max_msgs=1)
    checker = tie.StepChecker(p, CANONICAL)
    rejected = 0
    for s, action, t in walk_steps(p, seed=5, budget=150):
        bumped = t._replace(current_term=(t.current_term[0] + 1, *t.current_term[1:]))
        _, ok = checker.accepts(s, action, bumped)
        assert not ok, f"tampered post-state of {action} accepted: {bumped}"
        rejected += 1
    assert rejected >= 150


def test_invariant_check_can_fail() -> None:
    """Two leaders in one term violate ElectionSafety in the concrete check too."""
    p = Params(servers=2)
    both = Init(p)._replace(role=(Role.Leader, Role.Leader), votes_granted=(0b11, 0b11))
    assert "ElectionSafety" in tie.StepChecker(p, CANONICAL).violated(both, CONJUNCTS)


# ---- drifts: the spec changes, the relation does not -------------------------------------


def test_a_stale_request_drift_is_caught_and_named(drift_stale_request_dropped: tie.NextFn) -> None:
    p = P(3)
    result = tie.check(p, CANONICAL, 6, next_fn=drift_stale_request_dropped, max_rejections=1)
    assert result.rejected, "the drift went unnoticed"
    rej = result.rejected[0]
    assert rej.encoded == "HandleRequestVoteRequest" and "[HandleRequestVoteRequest]" in rej.action


@pytest.mark.slow
def test_a_leader_keeping_its_role_is_caught_at_prove_depth(
    drift_leader_keeps_role: tie.NextFn,
) -> None:
    config = catalog.TIES[0]
    result = tie.check(
        config.params, CANONICAL, config.depth, next_fn=drift_leader_keeps_role, max_rejections=1
    )
    assert result.rejected, "the drift went unnoticed at prove's depth"
    assert result.rejected[0].encoded == "UpdateTerm"


# ---- ghosts never restrict a step -------------------------------------------------------


@pytest.mark.parametrize("model", [history.HISTORY_MODEL, lease.LEASE_MODEL], ids=lambda m: m.tag)
def test_ghost_updates_are_definitions(model: Model) -> None:
    """Every ghost constraint is `ghost'(x) = e(x)` with e over the pre-state only, so ghosts
    never restrict a step (the tie can leave them out)."""
    from electorate.proofs.induction import context
    from electorate.proofs.model import Ctx, fresh_params
    from electorate.proofs.vocab import VAR

    ctx = context(model)
    post_names = {
        str(
            ctx.post.fn(v).decl()
            if not isinstance(ctx.post.fn(v), z3.FuncDeclRef)
            else ctx.post.fn(v)
        )
        for v in ctx.post.variables()
    }
    for action in actions_for(model):
        step = action.step(Ctx(ctx.pre, ctx.post, None), fresh_params(action, model, ctx.pre))
        for var, rule in step.ghosts.items():
            assert VAR[var].ghost
            body = rule.body() if z3.is_quantifier(rule) else rule
            assert z3.is_eq(body), f"{action.name}: {var} is not a definition"
            lhs, rhs = body.arg(0), body.arg(1)
            assert lhs.decl().name() == str(ctx.post.fn(var)) or str(lhs) == str(ctx.post.fn(var))
            assert not _mentions_any(rhs, post_names), f"{action.name}: {var} reads the post-state"


def _mentions_any(e: z3.ExprRef, names: set[str]) -> bool:
    todo = [e]
    while todo:
        x = todo.pop()
        if z3.is_quantifier(x):
            todo.append(x.body())
        elif z3.is_app(x):
            if x.decl().name() in names:
                return True
            todo.extend(x.children())
    return False
