"""The proof graph: which lemmas each consecution step actually uses (from unsat cores).

Every pre-state conjunct is asserted under a tracking literal; the unsat core of a proved
obligation names conjuncts sufficient for it. Cores need not be minimal, but a lemma whose
removal breaks an obligation is in every core of it, which tests/proofs check.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from electorate.proofs.core import Settings, make_solver
from electorate.proofs.election import axioms, context, lemma_formula, relation_formula
from electorate.proofs.invariant import CONJUNCTS, Lemma
from electorate.proofs.model import ACTIONS, ActionDef


def uses(
    action: ActionDef, conj: Lemma, settings: Settings, features: bool = False
) -> list[str] | None:
    """The pre-state conjuncts in an unsat core of `Inv /\\ action => conj'`, or None if the
    obligation is not proved (sat or unknown)."""
    ctx = context(features)
    step, _ = relation_formula(action, None, features)
    solver = make_solver(settings)
    solver.add(*axioms(ctx, None), step, z3.Not(lemma_formula(conj, True, features)))
    for lemma in CONJUNCTS:
        solver.assert_and_track(lemma_formula(lemma, False, features), z3.Bool(f"uses:{lemma.id}"))
    if solver.check() != z3.unsat:
        return None
    core = {str(lit).removeprefix("uses:") for lit in solver.unsat_core()}
    return [c.id for c in CONJUNCTS if c.id in core]


def graph(
    settings: Settings, actions: Sequence[ActionDef] = ACTIONS
) -> dict[tuple[str, str], list[str] | None]:
    """(action, conjunct) -> lemmas used, over all consecution obligations."""
    return {(a.name, c.id): uses(a, c, settings) for a in actions for c in CONJUNCTS}


def main() -> None:
    """Print, for each conjunct, the lemmas its preservation uses and where (Markdown)."""
    edges = graph(Settings())
    print("| conjunct | preserved using (action: lemmas) |")
    print("|---|---|")
    for conj in CONJUNCTS:
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


if __name__ == "__main__":
    main()
