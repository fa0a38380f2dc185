"""Anti-vacuity: the proof is not true for a trivial reason.

Inconsistent axioms, an unsatisfiable Init or an action that can never fire would make every
obligation hold vacuously. So: axioms and Init have a model; every action is enabled in some state
satisfying the invariant (and leads to one); and a bounded unrolling of Init and Next, with the
same symbolic encoding, reaches a state with a leader.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from electorate.proofs.core import Obligation, Outcome, Property, Settings, expect_sat
from electorate.proofs.election import axioms, context
from electorate.proofs.invariant import CONJUNCTS
from electorate.proofs.model import (
    ACTIONS,
    FEATURE_ACTIONS,
    ActionDef,
    fresh_params,
    init,
    relation,
    symbolic_vocab,
)

# The shortest election in raft.tla style: a candidate asks itself for its vote.
LEADER_SCHEDULE = (
    "Timeout",
    "RequestVote",
    "HandleRequestVoteRequest",
    "HandleRequestVoteResponse",
    "BecomeLeader",
)
WITNESS_NODES = 2  # satisfiability queries look for models with this many servers


def small_universe(nodes: int = WITNESS_NODES) -> list[z3.BoolRef]:
    """At most `nodes` servers and quorums. A witness in a small universe is still a witness,
    and the bound keeps model finding (MBQI) quick where the unbounded query can time out."""
    ctx = context()
    servers = [z3.Const(f"w{k}", ctx.sorts.node) for k in range(nodes)]
    quorums = [z3.Const(f"wq{k}", ctx.sorts.quorum) for k in range(nodes)]
    x, q = z3.Const("wx", ctx.sorts.node), z3.Const("wqx", ctx.sorts.quorum)
    return [
        z3.ForAll([x], z3.Or(*[x == n for n in servers])),
        z3.ForAll([q], z3.Or(*[q == c for c in quorums])),
    ]


def check_init_sat(settings: Settings) -> Outcome:
    ctx = context()
    return expect_sat([*axioms(ctx, None), init(ctx.sorts, ctx.pre), *small_universe()], settings)


def check_enabled(action: ActionDef, settings: Settings) -> Outcome:
    """Some state satisfying the invariant has an `action` step to a state satisfying it."""
    ctx = context(features=action in FEATURE_ACTIONS)
    args = fresh_params(action, ctx.sorts)
    goal = [
        *axioms(ctx, None),
        *[c.formula(ctx.sorts, ctx.pre) for c in CONJUNCTS],
        relation(action, ctx.sorts, ctx.pre, ctx.post, None, args),
        *[c.formula(ctx.sorts, ctx.post) for c in CONJUNCTS],
        *small_universe(),
    ]
    return expect_sat(goal, settings)


def check_leader_reachable(
    settings: Settings, schedule: Sequence[str] | None = LEADER_SCHEDULE, depth: int = 5
) -> Outcome:
    """Init ∧ step_1 ∧ ... ∧ step_depth ∧ "some server is leader" is satisfiable, with each
    step the action the `schedule` names (parameters free), or, with no schedule, any action.
    The free unrolling is exact but slow (depth 4 already takes ~10 s), hence the schedule."""
    if schedule is not None:
        depth = len(schedule)
    ctx = context()
    by_name = {a.name: a for a in ACTIONS}
    states = [symbolic_vocab(ctx.sorts, f"@{k}") for k in range(depth + 1)]
    goal = [*axioms(ctx, None), init(ctx.sorts, states[0]), *small_universe()]
    for k in range(depth):
        options = [by_name[schedule[k]]] if schedule else list(ACTIONS)
        steps = []
        for action in options:
            args = [
                z3.FreshConst(a.sort(), f"{action.name}@{k}")
                for a in fresh_params(action, ctx.sorts)
            ]
            steps.append(relation(action, ctx.sorts, states[k], states[k + 1], None, args))
        goal.append(z3.Or(*steps))
    leader = z3.Const("leader", ctx.sorts.node)
    goal.append(states[-1].role(leader) == states[-1].roles.leader)
    return expect_sat(goal, settings)


def obligations() -> list[Obligation]:
    found = [Obligation("axioms and Init are satisfiable", check_init_sat)]
    found += [
        Obligation(f"{a.name} is enabled under the invariant", lambda s, a=a: check_enabled(a, s))  # type: ignore[misc]
        for a in ACTIONS + FEATURE_ACTIONS
    ]
    found.append(
        Obligation("a leader is reachable: " + ", ".join(LEADER_SCHEDULE), check_leader_reachable)
    )
    return found


PROPERTY = Property(
    "vacuity",
    "anti-vacuity: axioms and Init satisfiable, every action enabled, a leader reachable",
    obligations,
)
