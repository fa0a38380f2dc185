"""Readable counterexamples to induction (CTIs): shrink the model, then print it.

Raw Z3 models are large (dozens of nodes, terms like -12329). As mypyvy does, we look for a model
with at most k nodes and quorums and terms in 1..T, for growing k and T, first with no message in
flight before the step; then the messages in flight are minimized (each one that the
counterexample does not need is removed, one at a time). If no model is found within the bounds,
the raw model is printed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import z3

from electorate.proofs.core import Settings, make_solver, solve
from electorate.proofs.vocab import MTYPES, Context, Vocab, msg_vars

if TYPE_CHECKING:
    from electorate.proofs.model import ActionDef

SHRINK_NODES = (1, 2, 3, 4)
SHRINK_TERMS = (3, 6)
SHRINK_RLIMIT = 20_000_000  # z3 resource units per bounded search (a few seconds of CPU)
# The passes over the tiers: (attempts per tier, each under its own seed, and the fraction of
# SHRINK_RLIMIT each may use). Short restarts first, then the whole budget under the run's seed.
# The budget a bounded model needs is heavy-tailed in the seed (lease-too-long's two-server
# CTI: 0.9 to 19 million units, a quarter of the seeds not within 20 million), so several
# restarts at an eighth beat few at a sixteenth (measured in docs/proofs.md, "Timings").
# With logs the tiers are many and a quick pass at this rate costs more than it saves
# (leader-completeness's mutants: 44 CPU s against 5 in a whole run under seed 0), so theirs
# stays at three restarts at a sixteenth.
QUICK, QUICK_SHARE = 6, 8
PASSES: tuple[tuple[int, int], ...] = ((QUICK, QUICK_SHARE), (1, 1))
LOGGED_PASSES: tuple[tuple[int, int], ...] = ((3, 16), (1, 1))
SEED_STEP = 1_000  # the quick attempts' seeds: the run's seed plus multiples of this
MINIMIZE_CALLS = 24  # at most this many solver calls to drop messages
MAX_MESSAGES = 12  # messages printed per state (an unshrunk model can have hundreds)
LOG_LENGTH = 3  # with logs: at most this many entries per log in a shrunk counterexample
LOG_VALUES = 2  # and values in 0..LOG_VALUES


def bounds(
    ctx: Context, k: int, top: int, quiet: bool, first_term: bool = False
) -> list[z3.BoolRef]:
    """At most k nodes and k quorums, all terms (state and messages) in 1..top, clocks in
    0..2*top; with `quiet`, no message in flight before the step; with `first_term`, every
    server in term 1 before the step."""
    s = ctx.sorts
    nodes = bound_nodes(ctx, k)
    quorums = [z3.Const(f"quorum{j}", s.quorum) for j in range(k)]
    x = z3.Const("bx", s.node)
    q = z3.Const("bq", s.quorum)
    found = [
        z3.ForAll([x], z3.Or(*[x == n for n in nodes])),
        z3.ForAll([q], z3.Or(*[q == c for c in quorums])),
    ]
    for v in (ctx.pre, ctx.post):
        found.append(z3.ForAll([x], z3.And(v.ct(x) >= 1, v.ct(x) <= top)))
        m = msg_vars(v)
        in_range = z3.And(m[3] >= 1, m[3] <= top)
        if v.logged:  # the payload: an index, a term, a term, a value
            a, b, c, d = m[5:9]
            in_range = z3.And(in_range, a >= 0, a <= LOG_LENGTH, b >= 0, b <= top)
            in_range = z3.And(in_range, c >= 0, c <= top, d >= 0, d <= LOG_VALUES)
            found += _log_bounds(v, x, top)
        if v.indexed:  # mcommitIndex / mmatchIndex, commitIndex, matchIndex
            in_range = z3.And(in_range, m[9] >= 0, m[9] <= LOG_LENGTH)
            y = z3.Const("by", s.node)
            found.append(z3.ForAll([x], z3.And(v.fn("ci")(x) >= 0, v.fn("ci")(x) <= LOG_LENGTH)))
            mi = v.fn("mi")(x, y)
            found.append(z3.ForAll([x, y], z3.And(mi >= 0, mi <= LOG_LENGTH)))
        found.append(z3.ForAll(m, z3.Implies(v.msg(*m), in_range)))
        for name in ("clock", "lu", "ra"):
            if v.has(name):
                f = v.fn(name)
                found.append(z3.ForAll([x], z3.And(f(x) >= 0, f(x) <= 2 * top)))
    if first_term:
        found.append(z3.ForAll([x], ctx.pre.ct(x) == 1))
    if quiet:
        for name in ("msg", "pmsg"):
            if ctx.pre.has(name):
                m = msg_vars(ctx.pre, name)
                found.append(z3.ForAll(m, z3.Not(ctx.pre.fn(name)(*m))))
    return found


def bound_nodes(ctx: Context, k: int) -> list[z3.ExprRef]:
    """The constants `bounds` names the (at most k) servers by."""
    return [z3.Const(f"node{j}", ctx.sorts.node) for j in range(k)]


def _log_bounds(v: Vocab, x: z3.ExprRef, top: int) -> list[z3.BoolRef]:
    """Short logs, terms in 1..top, values in 0..LOG_VALUES."""
    k = z3.Int("bk")
    length, term, value = v.fn("len"), v.fn("lterm"), v.fn("lval")
    inside = z3.And(k >= 1, k <= length(x))
    entries = z3.And(term(x, k) >= 1, term(x, k) <= top, value(x, k) >= 0)
    return [
        z3.ForAll([x], z3.And(length(x) >= 0, length(x) <= LOG_LENGTH)),
        z3.ForAll([x, k], z3.Implies(inside, z3.And(entries, value(x, k) <= LOG_VALUES))),
    ]


def _shrink(
    goal: Sequence[z3.BoolRef], ctx: Context, settings: Settings
) -> tuple[z3.ModelRef, int, list[z3.BoolRef]] | None:
    """The first tier with a model: first every tier with quick restarts, then every tier with
    the whole budget. A bounded search is fast under most seeds and runs out of any budget
    under some (commit-index-unbounded's two-server tier: 3 CPU s for nothing under seed 7, a
    few hundredths under others), so short attempts under several seeds come first. A tier
    with no model (`unsat` under one seed is `unsat` under all) is not tried again."""
    tiers = _tiers(ctx.pre.logged)
    empty: set[tuple[int, int, bool, bool]] = set()
    for attempts in _passes(settings.seed, ctx.pre.logged):
        for tier in tiers:
            if tier in empty:
                continue
            limits = bounds(ctx, *tier)
            for seed, rlimit in attempts:
                budget = Settings(settings.timeout_ms, seed, macros=settings.macros)
                solver = make_solver(budget, rlimit)
                solver.add(*goal, *limits)
                answer = solve(solver)
                if answer == z3.sat:
                    return solver.model(), tier[1], limits
                if answer == z3.unsat:
                    empty.add(tier)
                    break
    return None


def _passes(seed: int, logged: bool = False) -> list[list[tuple[int, int]]]:
    """(seed, resource limit) of each pass's attempts at a tier (PASSES, or LOGGED_PASSES for
    a model with logs): the run's seed, then its seed plus multiples of SEED_STEP."""
    return [
        [(seed + SEED_STEP * a, SHRINK_RLIMIT // share) for a in range(count)]
        for count, share in (LOGGED_PASSES if logged else PASSES)
    ]


def _tiers(logged: bool) -> list[tuple[int, int, bool, bool]]:
    """The bounded searches in order: (servers, top term, no message in flight, every server
    in term 1). With logs, z3's model search gets lost among the terms of the election history:
    tiers with every server in term 1 find the small counterexamples at once (measured: in well
    under a second, where other terms run out of budget under some seeds). The first of them
    has one server: inside a whole prove run, after other properties built their formulas, the
    two-server tiers of a one-server counterexample (append-skips-check) ran out of budget one
    after another (2 CPU s each, 6 to 28 s in all, depending on what ran before), where one
    server answers in a few hundredths of a second whatever ran before. Likewise, two servers
    with terms up to 2 (after the term-1 tiers): a voter of term 2 that stored an entry of term
    1 (vote-ignores-length) was found there in half a second under three seeds of four, where
    terms up to 3 ran out of budget under every seed tried."""
    found: list[tuple[int, int, bool, bool]] = [(1, SHRINK_TERMS[0], False, True)] if logged else []
    term_1 = [(True, True), (False, True)] if logged else []
    for k in SHRINK_NODES[1:] if logged else SHRINK_NODES:
        for top in SHRINK_TERMS:
            found += [(k, top, q, f) for q, f in term_1]
            if logged and k == 2 and top == SHRINK_TERMS[0]:  # terms 1 and 2 (below)
                found += [(2, 2, True, False), (2, 2, False, False)]
            found += [(k, top, q, False) for q in (True, False)]
    return found


def _minimize_messages(
    model: z3.ModelRef,
    ctx: Context,
    top: int,
    goal: Sequence[z3.BoolRef],
    bounds: list[z3.BoolRef],
    settings: Settings,
) -> z3.ModelRef:
    """Drop pre-state messages the counterexample does not need, one at a time (greedy). Each
    try states exactly which messages are in flight (the ones kept so far, less one): with
    the message relations defined, model finding is quick, where only excluding the dropped
    ones left z3 to search every other message and often run out of budget (a model with
    logs: 4 unknowns of 3 s each, against 0.1 s each this way)."""
    budget = Settings(
        settings.timeout_ms, settings.seed, first_rlimit=SHRINK_RLIMIT, macros=settings.macros
    )
    view = _View(model, ctx, top)
    # The atoms name the model's own elements, which mean nothing to another solver: name
    # them by the constants the bounds enumerate the servers with.
    names: list[tuple[z3.ExprRef, z3.ExprRef]] = []
    for c in bound_nodes(ctx, max(SHRINK_NODES)):  # the first that names each element
        if not any(view.ev(c).eq(e) for e, _ in names):
            names.append((view.ev(c), c))
    kept = [z3.substitute(atom, *names) for atom, _ in view.message_atoms(ctx.pre)]
    calls = 0
    # Runs of messages first, halving the run (an unshrunk model can have a hundred messages,
    # of which the step needs one or two), then one at a time.
    size = max(1, len(kept) // 2)
    while calls < MINIMIZE_CALLS:
        start = 0
        while start < len(kept) and calls < MINIMIZE_CALLS:
            trial = kept[:start] + kept[start + size :]
            calls += 1
            solver = make_solver(budget)
            solver.add(*goal, *bounds, *_exactly(ctx.pre, trial))
            if solve(solver) == z3.sat:
                kept = trial
                model = solver.model()
            else:
                start += size
        if size == 1:
            break
        size //= 2
    return model


def _exactly(v: Vocab, atoms: Sequence[z3.BoolRef]) -> list[z3.BoolRef]:
    """The message relations hold exactly the given ground atoms."""
    found = []
    for name in ("msg", "pmsg"):
        if not v.has(name):
            continue
        rel = v.fn(name)
        m = msg_vars(v, name)
        keys = [a.children() for a in atoms if a.decl().eq(rel)]
        listed = [z3.And(*[x == y for x, y in zip(m, key, strict=True)]) for key in keys]
        found.append(z3.ForAll(m, rel(*m) == (z3.Or(*listed) if listed else z3.BoolVal(False))))
    return found


def bounded(
    goal: Sequence[z3.BoolRef],
    ctx: Context,
    action: ActionDef,
    args: Sequence[z3.ExprRef],
    conj: str,
    settings: Settings,
) -> str | None:
    """A counterexample among few servers and small terms, printed, or None if there is none
    within the bounds (or the solver cannot tell)."""
    shrunk = _shrink(goal, ctx, settings)
    if shrunk is None:
        return None
    model, top, bounds = shrunk
    return _render(
        _minimize_messages(model, ctx, top, goal, bounds, settings), ctx, top, action, args, conj
    )


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
    if shrunk is None:
        return _render(solver.model(), ctx, None, action, args, conj)
    model, top, bounds = shrunk
    return _render(
        _minimize_messages(model, ctx, top, goal, bounds, settings), ctx, top, action, args, conj
    )


def _render(
    model: z3.ModelRef,
    ctx: Context,
    top: int | None,
    action: ActionDef,
    args: Sequence[z3.ExprRef],
    conj: str,
) -> str:
    view = _View(model, ctx, top)
    shown = ", ".join(
        f"{name}={view.show(a)}"
        for (name, _), a in zip(action.params_for(ctx.model), args, strict=True)
    )
    lines = [
        f"counterexample to induction: {action.name}({shown}) breaks {conj}",
        *view.knobs(),
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

    def true(self, e: z3.ExprRef) -> bool:
        return bool(z3.is_true(self.ev(e)))

    def show(self, e: z3.ExprRef) -> str:
        value = self.ev(e)
        for k, n in enumerate(self.nodes):
            if value.eq(n):
                return f"n{k + 1}"
        for k, q in enumerate(self.quorum_elems):
            if value.eq(q):
                return f"q{k + 1}"
        return str(value)

    def knobs(self) -> list[str]:
        if not self.ctx.pre.has("clock"):
            return []
        from electorate.proofs.model import DRIFT, ELECTION_TICKS, LEASE_TICKS

        shown = [
            f"{n} {self.ev(k)}"
            for n, k in (("election", ELECTION_TICKS), ("drift", DRIFT), ("lease", LEASE_TICKS))
        ]
        return ["  ticks: " + ", ".join(shown)]

    def quorums(self) -> list[str]:
        out = []
        for k, q in enumerate(self.quorum_elems):
            inside = [
                f"n{j + 1}"
                for j, n in enumerate(self.nodes)
                if self.true(self.ctx.sorts.member(n, q))
            ]
            out.append(f"  quorum q{k + 1} = {{{', '.join(inside)}}}")
        return out

    def _terms(self, v: Vocab) -> list[int]:
        if self.top is not None:
            return list(range(1, self.top + 1))
        return sorted({self.ev(v.ct(n)).as_long() for n in self.nodes})

    def _set(self, f: Callable[..., Any], n: z3.ExprRef) -> str:
        inside = [f"n{j + 1}" for j, m in enumerate(self.nodes) if self.true(f(n, m))]
        return "{" + ", ".join(inside) + "}"

    def state(self, v: Vocab) -> list[str]:
        lines = []
        for k, n in enumerate(self.nodes):
            role = str(self.ev(v.role(n)))
            vote = self.show(v.vf(n)) if self.true(v.voted(n)) else "Nil"
            line = (
                f"    n{k + 1}: {role}, term {self.ev(v.ct(n))}, votedFor {vote}, "
                f"votesGranted {self._set(v.vg, n)}"
            )
            lines.append(line + self._extras(v, n))
        lines += self._history(v)
        if v.has("earned"):
            earned = [str(t) for t in self._terms(v) if self.true(v.fn("earned")(z3.IntVal(t)))]
            unearned = self.true(v.fn("unearned"))
            lines.append(
                f"    earned terms {{{', '.join(earned)}}}, unearned deposition {unearned}"
            )
        shown = [text for _, text in self.message_atoms(v)]
        lines += [f"    msg {text}" for text in shown[:MAX_MESSAGES]]
        if len(shown) > MAX_MESSAGES:
            lines.append(f"    ... and {len(shown) - MAX_MESSAGES} more messages")
        return lines

    def _log(self, v: Vocab, n: z3.ExprRef) -> list[tuple[int, int]]:
        """n's log as (term, value) pairs."""
        length = self.ev(v.fn("len")(n)).as_long()
        at = [z3.IntVal(k) for k in range(1, max(0, length) + 1)]
        return [
            (self.ev(v.fn("lterm")(n, k)).as_long(), self.ev(v.fn("lval")(n, k)).as_long())
            for k in at
        ]

    def _extras(self, v: Vocab, n: z3.ExprRef) -> str:
        out = ""
        if v.logged:
            out += ", log [" + ", ".join(f"{t}:v{x}" for t, x in self._log(v, n)) + "]"
        if v.indexed:
            match = ", ".join(
                f"n{k + 1}:{self.ev(v.fn('mi')(n, m))}" for k, m in enumerate(self.nodes)
            )
            out += f", commitIndex {self.ev(v.fn('ci')(n))}, matchIndex {{{match}}}"
        if v.has("quiet"):
            quiet = " quiet" if self.true(v.fn("quiet")(n)) else ""
            out += f", acked {self._set(v.fn('acked'), n)}{quiet}"
        if v.has("clock"):
            heard = "heard" if self.true(v.fn("heard")(n)) else "unheard"
            out += (
                f", {heard}, clock {self.ev(v.fn('clock')(n))}, lease_until "
                f"{self.ev(v.fn('lu')(n))}, round {self.ev(v.fn('ra')(n))} "
                f"acked {self._set(v.fn('rack'), n)}"
            )
        return out

    def _history(self, v: Vocab) -> list[str]:
        if not v.has("elected"):
            return []
        lines = []
        for t in self._terms(v):
            tt = z3.IntVal(t)
            won = [
                f"n{k + 1}" for k, n in enumerate(self.nodes) if self.true(v.fn("elected")(n, tt))
            ]
            if won:
                lines.append(
                    f"    term {t}: elected {', '.join(won)} by {self.show(v.fn('wq')(tt))}"
                )
            votes = [
                f"n{a + 1}->n{b + 1}"
                for a, na in enumerate(self.nodes)
                for b, nb in enumerate(self.nodes)
                if self.true(v.fn("votedIn")(na, tt, nb))
            ]
            if votes:
                lines.append(f"    term {t}: votes {', '.join(votes)}")
            lines += self._commits(v, tt)
        return lines

    def _commits(self, v: Vocab, tt: z3.ExprRef) -> list[str]:
        """Commits and acknowledgements of term tt (commit tracked: proofs.commit)."""
        if not v.indexed:
            return []
        top = max([LOG_LENGTH, *[len(self._log(v, n)) for n in self.nodes]])
        lines = []
        for k in range(1, top + 1):
            kk = z3.IntVal(k)
            if self.true(v.fn("committed")(kk, tt)):
                lines.append(
                    f"    term {tt}: committed index {k} by {self.show(v.fn('cq')(kk, tt))}"
                )
            acks = [
                f"n{j + 1}"
                for j, n in enumerate(self.nodes)
                if self.true(v.fn("stored")(n, tt, kk))
            ]
            if acks:
                lines.append(f"    term {tt}: index {k} stored by {', '.join(acks)}")
        return lines

    def _stamps(self, v: Vocab) -> list[int]:
        if not v.stamped:
            return [0]
        found = {0}
        for name in ("ra", "clock"):
            found |= {self.ev(v.fn(name)(n)).as_long() for n in self.nodes}
        return sorted(found)

    def _payloads(self, v: Vocab, ty: z3.ExprRef) -> list[tuple[int, ...]]:
        """The log payloads, with commit tracked followed by the index (mcommitIndex of a
        request, mmatchIndex of a response)."""
        loads = self._log_payloads(v, ty)
        if not v.indexed:
            return loads
        top = max([LOG_LENGTH, *[len(self._log(v, n)) for n in self.nodes]])
        if ty.eq(MTYPES[2]) or ty.eq(MTYPES[3]):
            return [(*load, k) for load in loads for k in range(top + 1)]
        return [(*load, 0) for load in loads]

    def _log_payloads(self, v: Vocab, ty: z3.ExprRef) -> list[tuple[int, ...]]:
        """The log payloads to try for a message type (proofs.logmodel), or [()] without
        logs: indexes up to the longest log, terms 0..the largest, values up to the largest."""
        if not v.logged:
            return [()]
        logs = [self._log(w, n) for w in (self.ctx.pre, self.ctx.post) for n in self.nodes]
        longest = max([LOG_LENGTH, *[len(log) for log in logs]])
        values = max([LOG_VALUES, *[x for log in logs for _, x in log]])
        terms = [0, *self._terms(v)]
        indexes = range(longest + 1)
        if ty.eq(MTYPES[0]):
            return [(a, b, 0, 0) for a in indexes for b in terms]
        if ty.eq(MTYPES[2]):
            return [
                (a, b, c, d)
                for a in indexes
                for b in terms
                for c in terms
                for d in range(values + 1)
            ]
        return [(0, 0, 0, 0)]

    def _none(self, rel: z3.FuncDeclRef) -> bool:
        """The model says the relation is empty (no need to try every message)."""
        found = self.model[rel]
        if not isinstance(found, z3.FuncInterp):
            return False
        try:
            return bool(found.num_entries() == 0 and z3.is_false(found.else_value()))
        except z3.Z3Exception:  # an interpretation z3 cannot show (the macro finder's)
            return False

    def _none_with(self, rel: z3.FuncDeclRef, key: Sequence[z3.ExprRef]) -> bool:
        """No message with this key is in flight, whatever its payload: the model's relation
        with the payload left symbolic simplifies to false (saves trying every payload)."""
        rest = [z3.FreshConst(rel.domain(k)) for k in range(len(key), rel.arity())]
        return bool(z3.is_false(self.model.eval(rel(*key, *rest), model_completion=False)))

    def message_atoms(self, v: Vocab) -> Iterator[tuple[z3.BoolRef, str]]:
        """The messages in flight in the model, as ground atoms and as text."""
        for name, prefix in (("msg", ""), ("pmsg", "Pre")):
            if not v.has(name):
                continue
            rel = v.fn(name)
            if self._none(rel):
                continue
            stamps = self._stamps(v) if name == "msg" else [0]
            for ty in MTYPES:
                payloads = self._payloads(v, ty) if name == "msg" else [()]
                for a, na in enumerate(self.nodes):
                    for b, nb in enumerate(self.nodes):
                        for t in self._terms(v):
                            for g in (True, False):
                                for st in stamps:
                                    key = [ty, na, nb, z3.IntVal(t), z3.BoolVal(g)]
                                    if name == "msg" and v.stamped:
                                        key.append(z3.IntVal(st))
                                    if len(payloads) > 1 and self._none_with(rel, key):
                                        continue
                                    for load in payloads:
                                        atom = rel(*key, *[z3.IntVal(x) for x in load])
                                        if self.true(atom):
                                            text = self._text(prefix, ty, a, b, t, g, st, v)
                                            yield atom, text + _payload_text(ty, g, load)

    @staticmethod
    def _text(
        prefix: str, ty: z3.ExprRef, a: int, b: int, t: int, g: bool, st: int, v: Vocab
    ) -> str:
        extra = ""
        if ty.eq(MTYPES[1]):
            extra = " granted" if g else " denied"
        elif ty.eq(MTYPES[3]) and (v.stamped or v.logged):
            extra = " ok" if g else " fail"
        if v.stamped and prefix == "" and (ty.eq(MTYPES[2]) or ty.eq(MTYPES[3])):
            extra += f" round {st}"
        return f"{prefix}{ty} n{a + 1}->n{b + 1} term {t}{extra}"


def _payload_text(ty: z3.ExprRef, carries: bool, load: tuple[int, ...]) -> str:
    """A message's log payload as the spec prints it (spec.messages.show_message)."""
    if not load:
        return ""
    if ty.eq(MTYPES[0]):
        return f" last {load[0]}@{load[1]}"
    index = load[4:]
    if ty.eq(MTYPES[2]):
        entry = f" entry v{load[3]}@{load[2]}" if carries else ""
        commit = f" commit {index[0]}" if index and index[0] else ""
        return f" prev {load[0]}@{load[1]}{entry}{commit}"
    if ty.eq(MTYPES[3]) and index:
        return f" match {index[0]}"
    return ""


__all__ = ["minimized", "render_state"]
