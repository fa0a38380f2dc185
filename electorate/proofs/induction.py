"""Inductive invariants over the election model, for every cluster size.

A `Theory` is one property with its proof: a model of the election relation (proofs.vocab.Model),
the conjuncts of its inductive invariant (the property first, then the lemmas), trusted
hypotheses if any (the lease's clock-drift arithmetic) and corollaries (statements that follow
from the invariant without induction). Its obligations are Init => C for every conjunct C and
Inv /\\ Action => C' for every (action, C), each a separate query so that a failure names its
action and conjunct, plus the quorum bridge: the facts that let the uninterpreted quorum sort
stand for the spec's majorities.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

import z3

from electorate.proofs import cti
from electorate.proofs.core import Obligation, Outcome, Settings, expect_unsat, first_attempt
from electorate.proofs.invariant import Lemma
from electorate.proofs.model import ActionDef, actions_for, fresh_params, init, relation
from electorate.proofs.quorum import quorum_threshold_obligations
from electorate.proofs.vocab import (
    CANONICAL,
    Context,
    Model,
    Sorts,
    Vocab,
    quorum_axiom,
    quorums_nonempty,
    symbolic_sorts,
    symbolic_vocab,
)


@cache
def _sorts() -> Sorts:
    return symbolic_sorts()


@cache
def context(model: Model = CANONICAL) -> Context:
    """One model's symbols (all models share the server and quorum sorts)."""
    sorts = _sorts()
    tag = f"[{model.tag}]" if model.tag else ""
    return Context(
        sorts, symbolic_vocab(sorts, tag, model), symbolic_vocab(sorts, tag + "'", model)
    )


# Formula construction in z3py costs more than solving here, so each formula is built once.


@cache
def lemma_formula(conj: Lemma, post: bool, model: Model = CANONICAL) -> z3.BoolRef:
    ctx = context(model)
    return conj.formula(ctx.sorts, ctx.post if post else ctx.pre)


@cache
def relation_formula(
    action: ActionDef, bug: str | None, model: Model = CANONICAL
) -> tuple[z3.BoolRef, tuple[z3.ExprRef, ...]]:
    ctx = context(model)
    args = fresh_params(action, model, ctx.pre)
    return relation(action, ctx.pre, ctx.post, bug, args), tuple(args)


def axioms(ctx: Context, bug: str | None) -> list[z3.BoolRef]:
    """The quorum axioms, unless the bug's quorum predicate lacks intersection (quorum-half):
    the axiom is only as good as the bridge fact proving it for the spec's predicate."""
    if bug == "quorum-half":
        return [quorums_nonempty(ctx.sorts)]
    return [quorums_nonempty(ctx.sorts), quorum_axiom(ctx.sorts)]


@dataclass(frozen=True)
class Corollary:
    """A statement that follows from the invariant in one state (no induction)."""

    id: str
    words: str
    formula: Callable[[Sorts, Vocab], z3.BoolRef]


Split = Callable[[Vocab, Sequence[z3.ExprRef]], list[z3.BoolRef]]


def _no_hypotheses(bug: str | None) -> list[z3.BoolRef]:
    return []


@dataclass(frozen=True)
class Theory:
    """A property, its model and its inductive invariant (the property is conjuncts[0])."""

    name: str
    summary: str
    model: Model
    conjuncts: tuple[Lemma, ...]
    hypotheses: Callable[[str | None], list[z3.BoolRef]] = _no_hypotheses
    corollaries: tuple[Corollary, ...] = ()
    bridge: bool = True  # include the quorum bridge facts
    fragment: str = "first-order logic with linear integer arithmetic (undecidable)"
    known_bugs: tuple[str, ...] = field(default=())
    # Conjuncts this theory assumes, proved inductive by another theory of the same model
    # (no obligations here), and, per conjunct or corollary (or per "Action:conjunct", which
    # comes first), the conjuncts its obligations assume (all of them when it is not listed):
    # fewer hypotheses, faster queries, and still Inv /\\ Action => C' for the whole
    # invariant Inv.
    assumed: tuple[str, ...] = ()
    uses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Obligations discharged by cases ("Action:conjunct" -> the split predicates over the
    # pre-state and the action's parameters): one query per combination of each predicate or
    # its negation, all of them unsat. Smaller queries where z3's search on the whole one
    # depends on its seed.
    splits: tuple[tuple[str, Split], ...] = ()
    # Short attempts before the long ones (Settings.quick), if more than the default: where
    # z3 proves an obligation within a small budget under some seeds and within no budget
    # under others, more restarts beat larger budgets.
    quick: int = 0

    def hypotheses_of(self, name: str, action: str | None = None) -> tuple[Lemma, ...]:
        """The conjuncts the obligations of conjunct or corollary `name` assume."""
        table = dict(self.uses)
        ids = table.get(f"{action}:{name}", table.get(name))
        if ids is None:
            return self.conjuncts
        wanted = {*ids, name}
        return tuple(c for c in self.conjuncts if c.id in wanted)

    def actions(self, bug: str | None = None) -> tuple[ActionDef, ...]:
        return actions_for(self.model, bug)

    def conjunct(self, name: str) -> Lemma:
        for lemma in self.conjuncts:
            if lemma.id == name:
                return lemma
        known = ", ".join(c.id for c in self.conjuncts)
        raise ValueError(f"unknown conjunct {name!r} of {self.name}; known: {known}")


def background(theory: Theory, bug: str | None) -> list[z3.BoolRef]:
    return list(_background(theory, bug))


@cache
def _background(theory: Theory, bug: str | None) -> tuple[z3.BoolRef, ...]:
    ctx = context(theory.model)
    return (*axioms(ctx, bug), *theory.hypotheses(bug))


def tuned(model: Model, settings: Settings) -> Settings:
    """The solver settings a model's queries need (the logs: z3's macro finder)."""
    return replace(settings, macros=True) if model.tracked("log") else settings


def _tuned(theory: Theory, settings: Settings) -> Settings:
    """The settings of a theory's obligations: its model's, with its restarts."""
    settings = tuned(theory.model, settings)
    if theory.quick > settings.quick:
        return replace(settings, quick=theory.quick)
    return settings


def check_init(theory: Theory, conj: Lemma, bug: str | None, settings: Settings) -> Outcome:
    settings = _tuned(theory, settings)
    ctx = context(theory.model)
    goal = [
        *background(theory, bug),
        init(ctx.pre),
        z3.Not(lemma_formula(conj, False, theory.model)),
    ]
    return expect_unsat(goal, settings, lambda s: cti.render_state(s, ctx, "Init", conj.id))


def check_step(
    theory: Theory,
    action: ActionDef,
    conj: Lemma,
    bug: str | None,
    settings: Settings,
    lemmas: Sequence[Lemma] | None = None,
) -> Outcome:
    """Inv /\\ Action => conj', with Inv the conjunction of `lemmas` (default: all conjuncts)
    in the pre-state; split into cases if the theory lists a split for it (Theory.splits)."""
    model = theory.model
    settings = _tuned(theory, settings)
    ctx = context(model)
    step, args = relation_formula(action, bug, model)
    held = theory.conjuncts if lemmas is None else lemmas
    base = [*background(theory, bug), *[lemma_formula(lemma, False, model) for lemma in held], step]
    negated = z3.Not(lemma_formula(conj, True, model))
    start = time.perf_counter()
    if settings.search_first:
        goal = [*base, negated]
        found = cti.bounded(goal, ctx, action, args, conj.id, settings)
        if found is not None:
            return Outcome(False, "sat", time.perf_counter() - start, found)
    total: Outcome | None = None
    for case in cases(theory, action.name, conj.id, ctx, args):
        own = z3.And(*case, negated) if case else negated
        outcome = _discharge(base, own, ctx, action, args, conj.id, settings)
        if total is not None:
            attempts = total.attempts + outcome.attempts
            outcome = replace(outcome, seconds=total.seconds + outcome.seconds, attempts=attempts)
        total = outcome
        if not outcome.holds:
            break
    assert total is not None
    # The whole time, with a counterexample search that found nothing (search_first).
    return replace(total, seconds=time.perf_counter() - start)


def cases(
    theory: Theory, action: str, conj: str, ctx: Context, args: Sequence[z3.ExprRef]
) -> list[list[z3.BoolRef]]:
    """The cases of an obligation: every combination of each split predicate or its negation
    (exhaustive by construction); one empty case when it is not split."""
    split = dict(theory.splits).get(f"{action}:{conj}")
    if split is None:
        return [[]]
    found: list[list[z3.BoolRef]] = [[]]
    for pred in split(ctx.pre, args):
        found = [[*c, sign] for c in found for sign in (pred, z3.Not(pred))]
    return found


def _discharge(
    base: list[z3.BoolRef],
    own: z3.BoolRef,
    ctx: Context,
    action: ActionDef,
    args: Sequence[z3.ExprRef],
    name: str,
    settings: Settings,
) -> Outcome:
    """base /\\ own is unsatisfiable: a first attempt on the shared solver, the quick ones,
    then (after a bounded counterexample search) the long ones."""
    goal = [*base, own]

    def explain(solver: z3.Solver) -> str:
        return cti.minimized(solver, goal, ctx, action, args, name, settings)

    quick, later = settings.split()
    shared = first_attempt(base, own, settings, explain)
    first = shared if shared is not None else expect_unsat(goal, quick, explain)
    if shared is None and settings.quick >= 1:
        first = replace(first, attempts=first.attempts + 1)  # the shared solver's `unknown`
    if not first.status.startswith("unknown") or settings.attempts <= 1:
        return first
    # Model finding with quantified arithmetic can run out of budget where a small universe
    # answers at once (a counterexample among few servers is a counterexample); only then do
    # the retries with larger budgets run.
    found = cti.bounded(goal, ctx, action, args, name, settings)
    if found is not None:
        return Outcome(False, "sat", first.seconds, found, first.attempts)
    outcome = expect_unsat(goal, later, explain)
    return replace(
        outcome, seconds=outcome.seconds + first.seconds, attempts=outcome.attempts + first.attempts
    )


def check_corollary(theory: Theory, cor: Corollary, bug: str | None, settings: Settings) -> Outcome:
    settings = _tuned(theory, settings)
    ctx = context(theory.model)
    goal = [
        *background(theory, bug),
        *[lemma_formula(lemma, False, theory.model) for lemma in theory.hypotheses_of(cor.id)],
        z3.Not(cor.formula(ctx.sorts, ctx.pre)),
    ]
    return expect_unsat(goal, settings, lambda s: cti.render_state(s, ctx, "Inv", cor.id))


def obligations(
    theory: Theory,
    bug: str | None = None,
    lemmas: Sequence[Lemma] | None = None,
    actions: Sequence[ActionDef] | None = None,
) -> list[Obligation]:
    """Bridge, initiation, consecution (per action and conjunct) and corollary obligations."""
    if bug is not None and bug not in theory.known_bugs:
        raise ValueError(f"unknown bug {bug!r}; known: {', '.join(theory.known_bugs)}")
    held = tuple(theory.conjuncts if lemmas is None else lemmas)
    goals = [c for c in held if c.id not in theory.assumed]
    found: list[Obligation] = list(quorum_threshold_obligations(bug)) if theory.bridge else []
    for conj in goals:
        found.append(
            Obligation(
                f"Init => {conj.id}",
                lambda s, c=conj: check_init(theory, c, bug, s),  # type: ignore[misc]
            )
        )
    for action in theory.actions(bug) if actions is None else actions:
        for conj in goals:
            assume = held if lemmas is not None else theory.hypotheses_of(conj.id, action.name)
            found.append(
                Obligation(
                    f"{action.name} => {conj.id}'",
                    lambda s, a=action, c=conj, h=assume: check_step(theory, a, c, bug, s, h),  # type: ignore[misc]
                )
            )
    if lemmas is None:
        for cor in theory.corollaries:
            found.append(
                Obligation(
                    f"Inv => {cor.id}",
                    lambda s, c=cor: check_corollary(theory, c, bug, s),  # type: ignore[misc]
                )
            )
    return found
