"""Anti-vacuity: a proof is not true for a trivial reason.

Inconsistent axioms, an unsatisfiable Init or an action that can never fire would make every
obligation hold vacuously. So, for each theory: axioms (and hypotheses) and Init have a model;
every action is enabled in some state satisfying the invariant and leads to one; and the
situation the property is about happens in some invariant state (a leader elected, a lease
held: the theory's witness). For the election proof, a bounded unrolling of Init and the
actions, with the same symbolic encoding, also reaches a state with a leader.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import z3

from electorate.proofs import cti, witnesses
from electorate.proofs.core import (
    Obligation,
    Outcome,
    Property,
    Settings,
    expect_sat,
    first_attempt,
)
from electorate.proofs.election import ELECTION, ELECTION_FEATURES
from electorate.proofs.induction import (
    Theory,
    background,
    context,
    lemma_formula,
    relation_formula,
    tuned,
)
from electorate.proofs.model import ELECTION_TICKS, ActionDef, fresh_params, init, relation
from electorate.proofs.sanity import Formula
from electorate.proofs.vocab import CANONICAL, Model, Sorts, Vocab, symbolic_vocab

# The shortest election in raft.tla style: a candidate asks itself for its vote.
LEADER_SCHEDULE = (
    "Timeout",
    "RequestVote",
    "HandleRequestVoteRequest",
    "HandleRequestVoteResponse",
    "BecomeLeader",
)
WITNESS_NODES = 2  # satisfiability queries look for models with this many servers

Witness = Callable[[Sorts, Vocab], z3.BoolRef]


def small_universe(model: Model = CANONICAL, nodes: int = WITNESS_NODES) -> list[z3.BoolRef]:
    """At most `nodes` servers and quorums, and with clocks, terms and clocks small. A witness
    in a small universe is still a witness, and the bounds keep model finding (MBQI) quick where
    the unbounded query can time out."""
    return list(_small_universe(model, nodes))


@cache
def _small_universe(model: Model, nodes: int) -> tuple[z3.BoolRef, ...]:
    ctx = context(model)
    servers = [z3.Const(f"w{k}", ctx.sorts.node) for k in range(nodes)]
    quorums = [z3.Const(f"wq{k}", ctx.sorts.quorum) for k in range(nodes)]
    x, q = z3.Const("wx", ctx.sorts.node), z3.Const("wqx", ctx.sorts.quorum)
    found = [
        z3.ForAll([x], z3.Or(*[x == n for n in servers])),
        z3.ForAll([q], z3.Or(*[q == c for c in quorums])),
    ]
    if ctx.pre.has("clock"):  # the lease's arithmetic: small terms, clocks and knobs
        found += [ELECTION_TICKS <= 8, *cti.bounds(ctx, nodes, 4, quiet=False)]
    return tuple(found)


def check_init_sat(settings: Settings, theory: Theory = ELECTION) -> Outcome:
    settings = tuned(theory.model, settings)
    ctx = context(theory.model)
    goal = [*background(theory, None), init(ctx.pre), *small_universe(theory.model)]
    return expect_sat(goal, settings)


def _invariant(theory: Theory, post: bool = False) -> list[z3.BoolRef]:
    """The invariant in the pre- or post-state (formulas built once: proofs.induction)."""
    return [lemma_formula(c, post, theory.model) for c in theory.conjuncts]


def check_enabled(
    action: ActionDef, settings: Settings, theory: Theory | None = None, post: bool = True
) -> Outcome:
    """Some state satisfying the invariant has an `action` step (with `post`, to a state
    satisfying it: implied by the proof, but checked directly for the election proof)."""
    if theory is None:
        theory = ELECTION_FEATURES if action.name not in _canonical_names() else ELECTION
    settings = tuned(theory.model, settings)
    base = [
        *background(theory, None),
        *_invariant(theory),
        *(_invariant(theory, post=True) if post else []),
        *small_universe(theory.model),
    ]
    step, _ = relation_formula(action, None, theory.model)
    first = first_attempt(base, step, settings, want=z3.sat)
    return first if first is not None else expect_sat([*base, step], settings)


def check_witness(theory: Theory, witness: Witness, settings: Settings) -> Outcome:
    """The property's situation (a leader, a lease, ...) occurs in some invariant state."""
    settings = tuned(theory.model, settings)
    ctx = context(theory.model)
    goal = [
        *background(theory, None),
        *_invariant(theory),
        witness(ctx.sorts, ctx.pre),
        *small_universe(theory.model),
    ]
    return expect_sat(goal, settings)


def _canonical_names() -> set[str]:
    return {a.name for a in ELECTION.actions()}


def check_leader_reachable(
    settings: Settings, schedule: Sequence[str] | None = LEADER_SCHEDULE, depth: int = 5
) -> Outcome:
    """Init ∧ step_1 ∧ ... ∧ step_depth ∧ "some server is leader" is satisfiable, with each
    step the action the `schedule` names (parameters free), or, with no schedule, any action.
    The free unrolling is exact but slow (depth 4 already takes ~10 s), hence the schedule."""
    if schedule is not None:
        depth = len(schedule)
    ctx = context()
    actions = ELECTION.actions()
    by_name = {a.name: a for a in actions}
    states = [symbolic_vocab(ctx.sorts, f"@{k}") for k in range(depth + 1)]
    goal = [*background(ELECTION, None), init(states[0]), *small_universe()]
    for k in range(depth):
        options = [by_name[schedule[k]]] if schedule else list(actions)
        steps = []
        for action in options:
            args = [
                z3.FreshConst(a.sort(), f"{action.name}@{k}")
                for a in fresh_params(action, CANONICAL, ctx.pre)
            ]
            steps.append(relation(action, states[k], states[k + 1], None, args))
        goal.append(z3.Or(*steps))
    leader = z3.Const("leader", ctx.sorts.node)
    goal.append(states[-1].role(leader) == states[-1].roles.leader)
    return expect_sat(goal, settings)


def obligations() -> list[Obligation]:
    """The election proof's anti-vacuity checks (canonical and featured actions)."""
    found = [Obligation("axioms and Init are satisfiable", check_init_sat)]
    canonical = ELECTION.actions()
    featured = [a for a in ELECTION_FEATURES.actions() if a not in canonical]
    found += [
        Obligation(
            f"{a.name} is enabled under the invariant",
            lambda s, a=a, t=t: check_enabled(a, s, t),  # type: ignore[misc]
        )
        for t, acts in ((ELECTION, canonical), (ELECTION_FEATURES, featured))
        for a in acts
    ]
    found.append(
        Obligation("a leader is reachable: " + ", ".join(LEADER_SCHEDULE), check_leader_reachable)
    )
    return found


# The formulas a concrete check evaluates beside the theory's conjuncts: the hypotheses, in the
# pre-state and in the post-state (each named).
Named = Sequence[tuple[str, Formula]]
Hypotheses = Callable[[], tuple[Named, Named]]


def theory_obligations(
    theory: Theory, witness: Witness, words: str, concrete: Hypotheses | None = None
) -> list[Obligation]:
    """A theory's anti-vacuity checks: Init, every action, the witness (`words` names it).
    With `concrete` (the hypotheses as formulas), the actions and the witness are checked on
    states of the spec trace of proofs.witnesses instead of by a search for a model."""
    if concrete is not None:
        return _concrete_obligations(theory, witness, words, concrete)
    found = [_init_satisfiable(theory)]
    found += [
        Obligation(
            f"{a.name} is enabled under the invariant",
            lambda s, a=a: check_enabled(a, s, theory, post=False),  # type: ignore[misc]
        )
        for a in theory.actions()
    ]
    found.append(
        Obligation(f"{words} in some invariant state", lambda s: check_witness(theory, witness, s))
    )
    return found


def _init_satisfiable(theory: Theory) -> Obligation:
    return Obligation(
        "axioms, hypotheses and Init are satisfiable", lambda s: check_init_sat(s, theory)
    )


PROPERTY = Property(
    "vacuity",
    "anti-vacuity: axioms and Init satisfiable, every action enabled, a leader reachable",
    obligations,
)


def _concrete_obligations(
    theory: Theory, witness: Witness, words: str, concrete: Hypotheses
) -> list[Obligation]:
    def invariant() -> tuple[Named, Named]:
        pre, post = concrete()
        return [*[(c.id, c.formula) for c in theory.conjuncts], *pre], post

    def enabled(action: ActionDef, settings: Settings) -> Outcome:
        pre, post = invariant()
        model = theory.model
        return witnesses.check_enabled(model, action, pre, tuned(model, settings), post)

    found = [_init_satisfiable(theory)]
    found += [
        Obligation(
            f"{a.name} is enabled under the invariant (a spec state)",
            lambda s, a=a: enabled(a, s),  # type: ignore[misc]
        )
        for a in theory.actions()
    ]
    found.append(
        Obligation(
            f"{words} in some invariant state (a spec state)",
            lambda s: witnesses.check_situation(theory.model, witness, invariant()[0]),
        )
    )
    return found
