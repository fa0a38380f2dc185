"""Item 2: election safety of the message-passing model as an inductive invariant, all N.

Obligations: Init => C for every conjunct C, and Inv /\\ Action => C' for every (action, C),
each a separate query so a failure names its action and conjunct; plus the quorum bridge, the
three facts that let the uninterpreted quorum sort stand for the spec's real quorums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import z3

from electorate.proofs import cti
from electorate.proofs.core import Obligation, Outcome, Property, Settings, expect_unsat
from electorate.proofs.invariant import CONJUNCTS, Lemma
from electorate.proofs.model import (
    ACTIONS,
    FEATURE_ACTIONS,
    ActionDef,
    Sorts,
    Vocab,
    fresh_params,
    init,
    quorum_axiom,
    quorums_nonempty,
    relation,
    symbolic_sorts,
    symbolic_vocab,
)
from electorate.proofs.quorum import quorum_threshold_obligations
from electorate.spec.ids import BUG_IDS


@dataclass(frozen=True)
class Context:
    """Shared symbols: the sorts, the pre- and post-state and the background axioms."""

    sorts: Sorts
    pre: Vocab
    post: Vocab


@cache
def context(features: bool = False) -> Context:
    """The canonical model's symbols, or with `features` the PreVote message relation too."""
    sorts = symbolic_sorts()
    tag = "+" if features else ""
    pre, post = symbolic_vocab(sorts, tag, features), symbolic_vocab(sorts, tag + "'", features)
    return Context(sorts, pre, post)


# Formula construction in z3py costs more than solving here, so each formula is built once.


@cache
def lemma_formula(conj: Lemma, post: bool, features: bool) -> z3.BoolRef:
    ctx = context(features)
    return conj.formula(ctx.sorts, ctx.post if post else ctx.pre)


@cache
def relation_formula(
    action: ActionDef, bug: str | None, features: bool
) -> tuple[z3.BoolRef, tuple[z3.ExprRef, ...]]:
    ctx = context(features)
    args = fresh_params(action, ctx.sorts)
    return relation(action, ctx.sorts, ctx.pre, ctx.post, bug, args), tuple(args)


def axioms(ctx: Context, bug: str | None) -> list[z3.BoolRef]:
    """The quorum axiom, unless the bug's quorum predicate lacks intersection (quorum-half):
    the axiom is only as good as the bridge fact proving it for the spec's predicate."""
    if bug == "quorum-half":
        return [quorums_nonempty(ctx.sorts)]
    return [quorums_nonempty(ctx.sorts), quorum_axiom(ctx.sorts)]


def check_init(conj: Lemma, bug: str | None, settings: Settings, features: bool = False) -> Outcome:
    ctx = context(features)
    goal = [
        *axioms(ctx, bug),
        init(ctx.sorts, ctx.pre),
        z3.Not(lemma_formula(conj, False, features)),
    ]
    return expect_unsat(goal, settings, lambda s: cti.render_state(s, ctx, "Init", conj.id))


def check_step(
    action: ActionDef,
    conj: Lemma,
    bug: str | None,
    settings: Settings,
    lemmas: Sequence[Lemma] = CONJUNCTS,
    features: bool = False,
) -> Outcome:
    """Inv /\\ Action => conj', with Inv the conjunction of `lemmas` in the pre-state."""
    ctx = context(features)
    step, args = relation_formula(action, bug, features)
    goal = [
        *axioms(ctx, bug),
        *[lemma_formula(lemma, False, features) for lemma in lemmas],
        step,
        z3.Not(lemma_formula(conj, True, features)),
    ]

    def explain(solver: z3.Solver) -> str:
        return cti.minimized(solver, goal, ctx, action, args, conj.id, settings)

    return expect_unsat(goal, settings, explain)


def obligations(
    bug: str | None = None,
    lemmas: Sequence[Lemma] = CONJUNCTS,
    actions: Sequence[ActionDef] = ACTIONS,
    features: bool = False,
) -> list[Obligation]:
    """Bridge, initiation and consecution obligations (the latter per action and conjunct)."""
    if bug is not None and bug not in BUG_IDS:
        raise ValueError(f"unknown bug {bug!r}; known: {', '.join(BUG_IDS)}")
    found: list[Obligation] = list(quorum_threshold_obligations(bug))
    for conj in lemmas:
        found.append(
            Obligation(f"Init => {conj.id}", lambda s, c=conj: check_init(c, bug, s, features))  # type: ignore[misc]
        )
    for action in actions:
        for conj in lemmas:
            found.append(
                Obligation(
                    f"{action.name} => {conj.id}'",
                    lambda s, a=action, c=conj: check_step(a, c, bug, s, lemmas, features),  # type: ignore[misc]
                )
            )
    return found


PROPERTY = Property(
    "election",
    "election safety of the message-passing model (restart, loss, duplication), all N",
    obligations,
)

PROPERTY_FEATURES = Property(
    "election+prevote+checkquorum",
    "the same invariant with PreVote and CheckQuorum (and the lease's clock steps) enabled",
    lambda: obligations(actions=ACTIONS + FEATURE_ACTIONS, features=True),
)
