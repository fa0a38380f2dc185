"""Readable counterexamples to induction (CTIs): shrink the model, then print it.

Raw Z3 models are large (dozens of nodes, terms like -12329). As mypyvy does, we look for a
model with at most k nodes and quorums and terms in 0..T, for growing k and T, and print the
first one found; if none is found within the bounds, the raw model is printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import z3

from electorate.proofs.core import Settings, make_solver
from electorate.proofs.model import MTYPES, ActionDef, Vocab

if TYPE_CHECKING:
    from electorate.proofs.election import Context

SHRINK_NODES = (1, 2, 3, 4)
SHRINK_TERMS = (3, 6)
SHRINK_TIMEOUT_MS = 2_000


def _bounds(ctx: Context, k: int, top: int, quiet: bool) -> list[z3.BoolRef]:
    """At most k nodes and k quorums, all terms (state and messages) in 1..top; with `quiet`,
    no message in flight before the step."""
    s = ctx.sorts
    nodes = [z3.Const(f"node{j}", s.node) for j in range(k)]
    quorums = [z3.Const(f"quorum{j}", s.quorum) for j in range(k)]
    x, y = z3.Const("bx", s.node), z3.Const("by", s.node)
    q = z3.Const("bq", s.quorum)
    ty, t, g = z3.Const("bty", MTYPES[0].sort()), z3.Int("bt"), z3.Bool("bg")
    found = [
        z3.ForAll([x], z3.Or(*[x == n for n in nodes])),
        z3.ForAll([q], z3.Or(*[q == c for c in quorums])),
    ]
    for v in (ctx.pre, ctx.post):
        found.append(z3.ForAll([x], z3.And(v.ct(x) >= 1, v.ct(x) <= top)))
        in_range = z3.And(t >= 1, t <= top)
        found.append(z3.ForAll([ty, x, y, t, g], z3.Implies(v.msg(ty, x, y, t, g), in_range)))
    if quiet:
        found.append(z3.ForAll([ty, x, y, t, g], z3.Not(ctx.pre.msg(ty, x, y, t, g))))
    return found


def _shrink(
    goal: Sequence[z3.BoolRef], ctx: Context, settings: Settings
) -> tuple[z3.ModelRef, int] | None:
    budget = Settings(min(settings.timeout_ms, SHRINK_TIMEOUT_MS), settings.seed)
    for k in SHRINK_NODES:
        for top in SHRINK_TERMS:
            for quiet in (True, False):
                solver = make_solver(budget)
                solver.add(*goal, *_bounds(ctx, k, top, quiet))
                if solver.check() == z3.sat:
                    return solver.model(), top
    return None


def minimized(
    solver: z3.Solver,
    goal: Sequence[z3.BoolRef],
    ctx: Context,
    action: ActionDef,
    args: Sequence[z3.ExprRef],
    conj: str,
    settings: Settings,
) -> str:
    shrunk = _shrink(goal, ctx, settings)
    model, top = shrunk if shrunk is not None else (solver.model(), None)
    view = _View(model, ctx, top)
    shown = ", ".join(
        f"{name}={view.show(a)}" for (name, _), a in zip(action.params, args, strict=True)
    )
    lines = [
        f"counterexample to induction: {action.name}({shown}) breaks {conj}",
        *view.quorums(),
        "  before:",
        *view.state(ctx.pre),
        "  after:",
        *view.state(ctx.post),
    ]
    return "\n".join(lines)


def render_state(solver: z3.Solver, ctx: Context, where: str, conj: str) -> str:
    view = _View(solver.model(), ctx, None)
    return "\n".join([f"{where} violates {conj}", *view.quorums(), *view.state(ctx.pre)])


class _View:
    """Names a model's elements n1, n2, ... and prints states."""

    def __init__(self, model: z3.ModelRef, ctx: Context, top: int | None) -> None:
        self.model, self.ctx, self.top = model, ctx, top
        self.nodes = list(model.get_universe(ctx.sorts.node) or [])
        self.quorum_elems = list(model.get_universe(ctx.sorts.quorum) or [])

    def ev(self, e: z3.ExprRef) -> z3.ExprRef:
        return self.model.eval(e, model_completion=True)

    def show(self, e: z3.ExprRef) -> str:
        value = self.ev(e)
        for k, n in enumerate(self.nodes):
            if value.eq(n):
                return f"n{k + 1}"
        return str(value)

    def quorums(self) -> list[str]:
        out = []
        for k, q in enumerate(self.quorum_elems):
            inside = [
                f"n{j + 1}"
                for j, n in enumerate(self.nodes)
                if z3.is_true(self.ev(self.ctx.sorts.member(n, q)))
            ]
            out.append(f"  quorum q{k + 1} = {{{', '.join(inside)}}}")
        return out

    def _terms(self, v: Vocab) -> list[int]:
        if self.top is not None:
            return list(range(1, self.top + 1))
        return sorted({self.ev(v.ct(n)).as_long() for n in self.nodes})

    def state(self, v: Vocab) -> list[str]:
        lines = []
        for k, n in enumerate(self.nodes):
            role = str(self.ev(v.role(n)))
            vote = self.show(v.vf(n)) if z3.is_true(self.ev(v.voted(n))) else "Nil"
            granted = [
                f"n{j + 1}" for j, m in enumerate(self.nodes) if z3.is_true(self.ev(v.vg(n, m)))
            ]
            lines.append(
                f"    n{k + 1}: {role}, term {self.ev(v.ct(n))}, votedFor {vote}, "
                f"votesGranted {{{', '.join(granted)}}}"
            )
        lines += [f"    msg {m}" for m in self._messages(v)]
        return lines

    def _messages(self, v: Vocab) -> list[str]:
        pre_votes = [] if v.pmsg is None else self._relation(v, v.pmsg, "Pre")
        return self._relation(v, v.msg, "") + pre_votes

    def _relation(self, v: Vocab, rel: Callable[..., z3.BoolRef], prefix: str) -> list[str]:
        found = []
        for ty in MTYPES:
            for a, na in enumerate(self.nodes):
                for b, nb in enumerate(self.nodes):
                    for t in self._terms(v):
                        for g in (True, False):
                            if z3.is_true(self.ev(rel(ty, na, nb, z3.IntVal(t), z3.BoolVal(g)))):
                                extra = (" granted" if g else " denied") if ty.eq(MTYPES[1]) else ""
                                found.append(f"{prefix}{ty} n{a + 1}->n{b + 1} term {t}{extra}")
        return found


__all__ = ["minimized", "render_state"]
