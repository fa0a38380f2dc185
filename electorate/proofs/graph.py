"""The proof graph: which lemmas each consecution step actually uses (from unsat cores).

Every pre-state conjunct is asserted under a tracking literal; the unsat core of a proved
obligation names conjuncts sufficient for it. Cores need not be minimal, but a lemma whose
removal breaks an obligation is in every core of it, which tests/proofs check.

    python -m electorate.proofs.graph [THEORY]    (default: election)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import z3

from electorate.proofs.core import Settings, make_solver, solve
from electorate.proofs.election import ELECTION
from electorate.proofs.induction import (
    Theory,
    background,
    context,
    lemma_formula,
    relation_formula,
)
from electorate.proofs.invariant import Lemma
from electorate.proofs.model import ActionDef


def uses(
    action: ActionDef, conj: Lemma, settings: Settings, theory: Theory = ELECTION
) -> list[str] | None:
    """The pre-state conjuncts in an unsat core of `Inv /\\ action => conj'`, or None if the
    obligation is not proved (sat or unknown)."""
    model = theory.model
    context(model)
    step, _ = relation_formula(action, None, model)
    solver = make_solver(settings)
    solver.add(*background(theory, None), step, z3.Not(lemma_formula(conj, True, model)))
    for lemma in theory.conjuncts:
        solver.assert_and_track(lemma_formula(lemma, False, model), z3.Bool(f"uses:{lemma.id}"))
    if solve(solver) != z3.unsat:
        return None
    core = {str(lit).removeprefix("uses:") for lit in solver.unsat_core()}
    return [c.id for c in theory.conjuncts if c.id in core]


def graph(
    settings: Settings, theory: Theory = ELECTION, actions: Sequence[ActionDef] | None = None
) -> dict[tuple[str, str], list[str] | None]:
    """(action, conjunct) -> lemmas used, over all consecution obligations."""
    acts = theory.actions() if actions is None else actions
    return {(a.name, c.id): uses(a, c, settings, theory) for a in acts for c in theory.conjuncts}


def main(argv: Sequence[str]) -> int:
    """Print, for each conjunct, the lemmas its preservation uses and where (Markdown)."""
    from electorate.proofs.catalog import ENTRY_BY_NAME

    name = argv[0] if argv else ELECTION.name
    if name not in ENTRY_BY_NAME:
        print(
            f"graph: unknown theory {name!r}; choose from {', '.join(ENTRY_BY_NAME)}",
            file=sys.stderr,
        )
        return 2
    theory = ENTRY_BY_NAME[name].theory
    edges = graph(Settings(), theory)
    print("| conjunct | preserved using (action: lemmas) |")
    print("|---|---|")
    for conj in theory.conjuncts:
        parts = []
        for (action, goal), used in edges.items():
            if goal != conj.id:
                continue
            if used is None:
                parts.append(f"{action}: NOT PROVED")
            elif used != [conj.id] and used:
                others = [u for u in used if u != conj.id]
                parts.append(f"{action}: {', '.join(others)}")
        print(f"| {conj.id} | {'; '.join(parts) or 'itself only (self-inductive)'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
