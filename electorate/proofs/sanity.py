"""The property's formula can fail: it is false on a state that breaks the property.

A proof of `true` always succeeds. So each property's formula, as the proof states it, is
evaluated on a concrete counterexample state (two leaders of one term, two servers elected in
one term, two leases at once, ...) over a finite universe: it must come out false. A formula
weakened to `true`, or to anything the bad state satisfies, fails this check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import z3

from electorate.proofs.concrete import definitions, domain, expand_finite, substitute, universe
from electorate.proofs.core import solve
from electorate.proofs.model import DRIFT, ELECTION_TICKS, LEASE_TICKS
from electorate.proofs.vocab import VAR, Expr, Model, Sorts, Vocab, symbolic_vocab
from electorate.spec.params import Params
from electorate.spec.state import State

Formula = Callable[[Sorts, Vocab], z3.BoolRef]


@dataclass(frozen=True)
class BadState:
    """A spec state that breaks the property, and the history (ghosts) it comes with: for each
    ghost relation, the argument tuples where it holds (servers as indexes)."""

    params: Params
    state: State
    ghosts: dict[str, Iterable[tuple[Any, ...]]] = field(default_factory=dict)
    words: str = ""


def _relation_body(
    v: Vocab, servers: tuple[Expr, ...], var: str, rows: Iterable[tuple[Any, ...]]
) -> z3.BoolRef:
    kinds = VAR[var].args
    xs = [z3.Var(k, v.sort(kind)) for k, kind in enumerate(kinds)]
    cases = []
    for row in rows:
        eqs = [
            x == (servers[value] if kind == "node" else z3.IntVal(value))
            for x, kind, value in zip(xs, kinds, row, strict=True)
        ]
        cases.append(z3.And(*eqs))
    return z3.Or(*cases) if cases else z3.BoolVal(False)


def evaluate(formula: Formula, model: Model, bad: BadState) -> bool | None:
    """The formula's truth value on the bad state (None if z3 cannot settle it)."""
    return decide(closed(formula, model, bad))


def closed(formula: Formula, model: Model, bad: BadState, v: Vocab | None = None) -> z3.BoolRef:
    """The formula over the state's finite universe with the state's variables (and the
    ghosts it gives) replaced by their definitions; `v`: the vocabulary the formula is built
    on (default: one for the state's size). With one quorum (two servers), quorum-valued
    ghosts are that quorum."""
    p = bad.params
    u = universe(p.servers, p.bug)
    if v is None:
        v = symbolic_vocab(u.sorts, f"@bad{p.servers}[{model.tag}]", model)
    defs: list[tuple[Any, Expr]] = list(definitions(u, v, bad.state))
    for var, rows in bad.ghosts.items():
        defs.append((v.fn(var), _relation_body(v, u.servers, var, rows)))
    only = domain(u.sorts.quorum)
    for var in v.variables():
        if VAR[var].ghost and VAR[var].value == "quorum" and only is not None and len(only) == 1:
            defs.append((v.fn(var), only[0]))
    out = substitute(formula(u.sorts, v), defs)
    if p.has("lease"):
        k = p.knobs
        out = z3.substitute(
            out,
            (ELECTION_TICKS, z3.IntVal(k.election_ticks)),
            (DRIFT, z3.IntVal(k.drift)),
            (LEASE_TICKS, z3.IntVal(k.lease_ticks)),
        )
    return out


def decide(formula: z3.BoolRef) -> bool | None:
    """A closed formula's truth value: by simplification over the finite sorts, else by z3."""
    value = z3.simplify(expand_finite(z3.simplify(formula)))
    if z3.is_true(value):
        return True
    if z3.is_false(value):
        return False
    return _decide(value)


def _decide(closed: z3.BoolRef) -> bool | None:
    """A closed formula the simplifier left open (quantifiers over integers, as the logs'
    indexes): true if its negation has no model, false if it has none; None if z3 cannot tell."""
    for wanted, answer in ((z3.Not(closed), True), (closed, False)):
        solver = z3.Solver()
        solver.set("timeout", 10_000)
        solver.add(wanted)
        if solve(solver) == z3.unsat:
            return answer
    return None
