"""The tie between the spec and the proofs: every spec step is a step of the Z3 relation.

A proof about the Z3 relation says something about the spec only if every behaviour of the spec
is one of the relation's. So: explore the spec (its public Init and Next) breadth-first, up to
server symmetry (which the encoding shares: its server sort is uninterpreted) and a depth bound,
and ask, for every step, whether the relation of the encoding action it maps to
(proofs.concrete.encoded_action) accepts the pair of states. A rejected step names the spec
action and the encoding action.

History. The relation's ghosts (proof-only history: elections, votes, acknowledged entries,
commits) are not spec variables; the spec records them along a behaviour (spec/history.py).
For the `log` profile, whose proofs lean on that history, the exploration carries the history of
the first path that reached each state, and each step's history change must be accepted by the
relation's ghost updates as the state change is by the rest (proofs.ghosts).

Speed: the relation of an action is a conjunction (guard, one constraint per variable); each
part mentions a few variables. A part is decided once per distinct value of the variables (and
bound parameters) it reads; parts that share a free parameter (a choice the encoding leaves
open) are decided together. Most steps are then answered from this cache; a miss substitutes the
states' definitions and lets z3 decide (its simplifier settles most).
"""

from __future__ import annotations

import operator
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

import z3

from electorate.proofs import ghosts
from electorate.proofs.concrete import (
    Universe,
    abstraction,
    body,
    domain,
    encoded_action,
    expand_finite,
    substitute,
    universe,
)
from electorate.proofs.core import Settings, make_solver, solve
from electorate.proofs.invariant import Lemma
from electorate.proofs.model import (
    ACTION_BY_NAME,
    DRIFT,
    ELECTION_TICKS,
    LEASE_TICKS,
    components,
    fresh_params,
)
from electorate.proofs.vocab import VAR, Expr, Model, MTypeSort, Vocab, symbolic_vocab
from electorate.spec import history
from electorate.spec.history import History
from electorate.spec.next import Action, Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.state import Role, State
from electorate.spec.symmetry import canonical, permute

Step = tuple[State, Action, State]
# A step with the history (spec/history.py) before and after it.
HistoryStep = tuple[State, History, Action, State, History]
NextFn = Callable[[Params, State], Iterator[tuple[Action, State]]]


def explore(
    p: Params, depth: int, next_fn: NextFn | None = None, start: State | None = None
) -> Iterator[Step]:
    """Every step from every state reachable in fewer than `depth` steps (from Init, or from
    `start`) and inside the constraint, up to symmetry (BFS)."""
    step_fn = next_fn or Next
    first = canonical(Init(p) if start is None else start)
    seen, frontier = {first}, [first]
    for _ in range(depth):
        following = []
        for s in frontier:
            if not constraint(p, s):
                continue
            for action, t in step_fn(p, s):
                yield s, action, t
                c = canonical(t)
                if c not in seen:
                    seen.add(c)
                    following.append(c)
        frontier = following


def explore_history(p: Params, depth: int, next_fn: NextFn | None = None) -> Iterator[HistoryStep]:
    """explore's steps, each with the history recorded along one path to its pre-state (the
    first one found) and after it. A state's history is renamed with the state when the state
    is replaced by its canonical representative."""
    step_fn = next_fn or Next
    first = canonical(Init(p))
    seen: dict[State, History] = {first: history.EMPTY}
    frontier = [first]
    for _ in range(depth):
        following = []
        for s in frontier:
            if not constraint(p, s):
                continue
            before = seen[s]
            for action, t in step_fn(p, s):
                after = history.record(p, before, s, action, t)
                yield s, before, action, t, after
                c = canonical(t)
                if c not in seen:
                    seen[c] = _renamed(after, t, c)
                    following.append(c)
        frontier = following


def _renamed(h: History, s: State, c: State) -> History:
    """h renamed by a server renaming that maps s to c."""
    n = len(s.current_term)
    for pi in permutations(range(n)):
        inverse = tuple(pi.index(k) for k in range(n))
        masks = tuple(sum(1 << pi[j] for j in range(n) if m >> j & 1) for m in range(1 << n))
        if permute(s, pi, inverse, masks) == c:
            return history.permute(h, pi, masks)
    raise ValueError("no server renaming maps the state to its canonical form")


def _uses(formula: z3.ExprRef, names: dict[int, tuple[str, str]]) -> set[tuple[str, str]]:
    """The (side, variable) pairs of the state functions a formula applies."""
    found: set[tuple[str, str]] = set()
    seen: set[int] = set()
    todo = [formula]
    while todo:
        e = todo.pop()
        key = e.get_id()
        if key in seen:
            continue
        seen.add(key)
        if z3.is_quantifier(e):
            todo.append(e.body())
            continue
        if z3.is_app(e):
            hit = names.get(e.decl().get_id())
            if hit is not None:
                found.add(hit)
            todo.extend(e.children())
    return found


def _consts(formula: z3.ExprRef, params: Sequence[Expr]) -> set[int]:
    """Indexes of the parameters a formula mentions."""
    ids = {p.get_id(): k for k, p in enumerate(params)}
    found: set[int] = set()
    seen: set[int] = set()
    todo = [formula]
    while todo:
        e = todo.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_quantifier(e):
            todo.append(e.body())
        elif z3.is_app(e):
            if e.num_args() == 0 and e.get_id() in ids:
                found.add(ids[e.get_id()])
            todo.extend(e.children())
    return found


@dataclass(frozen=True)
class _Part:
    formula: z3.BoolRef
    reads: tuple[tuple[str, str], ...]  # (side, variable)
    params: frozenset[int]


@dataclass(eq=False)
class _Group:
    """Parts decided together, with their verdicts by the values they read."""

    formula: z3.BoolRef
    reads: tuple[tuple[str, str], ...]
    bound: tuple[int, ...]  # parameters bound to values in the key
    # The verdict's key from the step's arguments + pre values + post values: the bound
    # parameters' values, then the values the group reads.
    key: Callable[[Sequence[Any]], tuple[Any, ...]]
    verdicts: dict[tuple[Any, ...], bool] = field(default_factory=dict)


def _getter(indexes: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A tuple of the items at `indexes` (itemgetter returns a bare item for one index)."""
    if len(indexes) == 1:
        (k,) = indexes
        return lambda xs: (xs[k],)
    if not indexes:
        return lambda xs: ()
    return operator.itemgetter(*indexes)


# The one State field that concrete.abstraction reads for a variable: equal fields, equal
# abstractions (a memo key; a variable not listed is abstracted afresh in every state).
READS: dict[str, str] = {
    "ct": "current_term",
    "role": "role",
    "voted": "voted_for",
    "vf": "voted_for",
    "vr": "votes_responded",
    "vg": "votes_granted",
    "msg": "messages",
    "pmsg": "messages",
    "earned": "earned_terms",
    "unearned": "unearned_deposition",
    "acked": "acked",
    "quiet": "quiet",
    "heard": "heard_leader",
    "clock": "clock",
    "lu": "lease_until",
    "ra": "round_at",
    "rack": "round_acked",
    "len": "log",
    "lterm": "log",
    "lval": "log",
}


class Abstractions:
    """Every spec variable's abstracted value in a state, as a tuple (in `names` order), for
    the last two states asked about (BFS asks about one pre-state and each of its successors
    in a row), memoized by the State field each variable reads (successors share most fields
    with their pre-state)."""

    def __init__(self, v: Vocab, history: bool = False) -> None:
        self.vocab = v
        self.names = tuple(x for x in v.variables() if not VAR[x].ghost)
        # With the history, its ghosts follow the spec's variables (proofs.ghosts).
        self.ghosts = ghosts.recorded(v) if history else ()
        self._recent: list[tuple[State, tuple[Any, ...]]] = []
        self._plan: list[tuple[str, Callable[[State], Any] | None, dict[Any, Any]]] = [
            (x, operator.attrgetter(READS[x]) if x in READS else None, {}) for x in self.names
        ]

    def of(self, s: State, h: History | None = None) -> tuple[Any, ...]:
        values = self._of(s)
        if not self.ghosts:
            return values
        if h is None:
            raise ValueError("the history is compared: a step needs its history")
        return (*values, *[ghosts.value(h, x) for x in self.ghosts])

    def _of(self, s: State) -> tuple[Any, ...]:
        for known, values in self._recent:
            if known is s:
                return values
        found = []
        for name, read, memo in self._plan:
            if read is None:
                found.append(abstraction(self.vocab, s, name))
                continue
            field_value = read(s)
            value = memo.get(field_value, memo)
            if value is memo:
                value = memo[field_value] = abstraction(self.vocab, s, name)
            found.append(value)
        values = tuple(found)
        self._recent = [(s, values), *self._recent[:1]]
        return values


class StepChecker:
    """Decides whether the encoding's relation accepts concrete spec steps of one Params."""

    def __init__(
        self, p: Params, model: Model, settings: Settings | None = None, history: bool = False
    ) -> None:
        self.p, self.model = p, model
        self.history = history  # compare the ghosts the spec's history records
        self.settings = settings or Settings()
        self.u: Universe = universe(p.servers, p.bug)
        tag = f"@{p.servers}[{model.tag}]"
        self.pre = symbolic_vocab(self.u.sorts, tag, model)
        self.post = symbolic_vocab(self.u.sorts, tag + "'", model)
        self._names = {
            **{f.get_id(): ("pre", v) for v, f in self._decls(self.pre)},
            **{f.get_id(): ("post", v) for v, f in self._decls(self.post)},
        }
        self._parts: dict[str, tuple[list[_Part], list[Expr]]] = {}
        self._groups: dict[tuple[str, frozenset[int], int], list[_Group]] = {}
        self._cache: dict[tuple[Any, ...], bool] = {}  # invariant conjuncts by state values
        self._residue = make_solver(self.settings)
        self._knobs: list[tuple[Expr, Expr]] = []
        if p.has("lease"):
            k = p.knobs
            self._knobs = [
                (ELECTION_TICKS, z3.IntVal(k.election_ticks)),
                (DRIFT, z3.IntVal(k.drift)),
                (LEASE_TICKS, z3.IntVal(k.lease_ticks)),
            ]
        self.alphas = Abstractions(self.pre, history)
        names = (*self.alphas.names, *self.alphas.ghosts)
        self._index = {
            **{("pre", x): k for k, x in enumerate(names)},
            **{("post", x): len(names) + k for k, x in enumerate(names)},
        }
        self.misses = 0
        self.residues = 0
        # Verdicts by group, shared with the other models' checkers of one exploration: two
        # groups that are the same formula once the models' symbols are renamed alike (the
        # canonical and +history relations share most) have the same verdicts.
        self.shared: dict[tuple[Any, ...], tuple[z3.BoolRef, dict[tuple[Any, ...], bool]]] = {}

    @staticmethod
    def _decls(v: Vocab) -> Iterator[tuple[str, Any]]:
        for var in v.variables():
            f = v.fn(var)
            yield var, (f if isinstance(f, z3.FuncDeclRef) else f.decl())

    def _parts_of(self, name: str) -> tuple[list[_Part], list[Expr]]:
        if name not in self._parts:
            action = ACTION_BY_NAME[name]
            params = fresh_params(action, self.model, self.pre)
            built = components(action, self.pre, self.post, self.p.bug, params, self.history)
            recorded = set(self.alphas.ghosts)
            parts = [
                _Part(f, tuple(sorted(_uses(f, self._names))), frozenset(_consts(f, params)))
                for var, f in built
                if var not in VAR or not VAR[var].ghost or var in recorded
            ]
            self._parts[name] = (parts, params)
        return self._parts[name]

    def _groups_of(self, name: str, free: frozenset[int], width: int) -> list[_Group]:
        """Parts joined when they share a free parameter (union-find over the parts), for
        steps with `width` arguments."""
        key = (name, free, width)
        if key not in self._groups:
            parts, _ = self._parts_of(name)
            owner = list(range(len(parts)))

            def root(k: int) -> int:
                while owner[k] != k:
                    k = owner[k]
                return k

            for a in range(len(parts)):
                for b in range(a):
                    if parts[a].params & parts[b].params & free:
                        owner[root(a)] = root(b)
            joined: dict[int, list[_Part]] = {}
            for k, part in enumerate(parts):
                joined.setdefault(root(k), []).append(part)
            _, params = self._parts_of(name)
            self._groups[key] = [
                self._group(members, params, free, width) for members in joined.values()
            ]
        return self._groups[key]

    def _group(
        self, members: list[_Part], params: list[Expr], free: frozenset[int], width: int
    ) -> _Group:
        reads = tuple(sorted({r for x in members for r in x.reads}))
        bound = tuple(sorted(set().union(*[x.params for x in members]) - free))
        formula = _choose(expand_finite(z3.And(*[x.formula for x in members])), params, free)
        key_of = _getter([*bound, *[width + self._index[r] for r in reads]])
        neutral = self._neutral(formula)
        # The renamed formula's AST id names it (z3 shares equal terms); the entry keeps it
        # alive, so the id cannot be reused by another term.
        key = (neutral.get_id(), reads, bound, self.alphas.vocab.stamped)
        _, verdicts = self.shared.setdefault(key, (neutral, {}))
        return _Group(formula, reads, bound, key_of, verdicts)

    def _neutral(self, formula: z3.BoolRef) -> z3.BoolRef:
        """`formula` with each state function renamed to one named for its variable and side
        alone (same sorts): equal for two models exactly when their formulas are."""
        defs: list[tuple[Any, Expr]] = []
        for side, vocab in (("pre", self.pre), ("post", self.post)):
            for var, decl in self._decls(vocab):
                sorts = [decl.domain(k) for k in range(decl.arity())]
                renamed = z3.Function(f"{var}#{side}", *sorts, decl.range())
                args = [z3.Var(k, sort) for k, sort in enumerate(sorts)]
                defs.append((vocab.fn(var), renamed(*args) if sorts else renamed()))
        return substitute(formula, defs)

    def _bind(self, params: Sequence[Expr], k: int, value: object) -> tuple[Expr, Expr]:
        param = params[k]
        if param.sort() == self.u.sorts.node:
            return param, self.u.servers[int(value)]  # type: ignore[call-overload]
        if param.sort() == MTypeSort:
            return param, [c for c in _mtypes()][int(value)]  # type: ignore[call-overload]
        if param.sort() == z3.BoolSort():
            return param, z3.BoolVal(bool(value))
        return param, z3.IntVal(int(value))  # type: ignore[call-overload]

    def _decide(self, closed: z3.BoolRef) -> bool:
        """Satisfiability of a formula over the finite sorts: z3's simplifier settles most;
        what it leaves (free choices, quantifiers over integers) goes to the solver. `unknown`
        is not acceptance."""
        reduced = z3.simplify(closed)
        if z3.is_true(reduced):
            return True
        if z3.is_false(reduced):
            return False
        self.residues += 1
        self._residue.push()  # one incremental solver: cheaper than a fresh one per query
        self._residue.add(reduced)
        answer = solve(self._residue)
        self._residue.pop()
        return bool(answer == z3.sat)

    def accepts(
        self,
        pre: State,
        action: Action,
        post: State,
        before: History | None = None,
        after: History | None = None,
    ) -> tuple[str, bool]:
        """The encoding's action name and whether its relation allows pre --action--> post
        (with the history compared, also the history step before --> after)."""
        name, values = encoded_action(self.p, self.model, action)
        free = frozenset([k for k, x in enumerate(values) if x is None])
        flat = (*values, *self.alphas.of(pre, before), *self.alphas.of(post, after))
        for group in self._groups_of(name, free, len(values)):
            key = group.key(flat)
            known = group.verdicts.get(key)
            if known is None:
                seen = key[len(group.bound) :]
                known = group.verdicts[key] = self._decide_group(name, group, values, seen)
            if not known:
                return name, False
        return name, True

    def _decide_group(
        self, name: str, group: _Group, values: Sequence[object], seen: tuple[Any, ...]
    ) -> bool:
        """One group's verdict for the values it reads (a cache miss)."""
        self.misses += 1
        _, params = self._parts_of(name)
        for (_side, v), value in zip(group.reads, seen, strict=True):
            if VAR[v].ghost and not ghosts.representable(self.u, v, value):
                return False
        vocab = {"pre": self.pre, "post": self.post}
        defs = [
            (vocab[side].fn(v), self._body(vocab[side], v, value))
            for (side, v), value in zip(group.reads, seen, strict=True)
        ]
        closed = substitute(group.formula, defs)
        bound = [self._bind(params, k, values[k]) for k in group.bound]
        return self._decide(z3.substitute(closed, *bound, *self._knobs))

    def _body(self, v: Vocab, var: str, value: Any) -> Expr:
        return ghosts.body(self.u, v, var, value) if VAR[var].ghost else body(self.u, v, var, value)

    def violated(self, s: State, conjuncts: Sequence[Lemma]) -> list[str]:
        """The conjuncts (over spec variables only) that `s` violates."""
        failed = []
        for conj in conjuncts:
            formula = conj.formula(self.u.sorts, self.pre)
            reads = tuple(sorted(v for side, v in _uses(formula, self._names) if side == "pre"))
            if any(VAR[v].ghost for v in reads):
                raise ValueError(f"{conj.id} reads proof-only variables: not a spec state property")
            seen = tuple(abstraction(self.pre, s, v) for v in reads)
            key = ("inv", conj.id, seen)
            known = self._cache.get(key)
            if known is None:
                defs = [
                    (self.pre.fn(v), body(self.u, self.pre, v, value))
                    for v, value in zip(reads, seen, strict=True)
                ]
                closed = z3.substitute(substitute(formula, defs), *self._knobs)
                known = self._cache[key] = self._decide(closed)
            if not known:
                failed.append(conj.id)
        return failed


def _choose(formula: z3.BoolRef, params: Sequence[Expr], free: frozenset[int]) -> z3.BoolRef:
    """\\E over the free parameters of finite sorts, written out as a disjunction of instances
    (exact: they name every value); the others stay free constants for the solver."""
    for k in sorted(free):
        values = domain(params[k].sort())
        if k < len(params) and values is not None and _mentions(formula, params[k]):
            formula = z3.Or(*[z3.substitute(formula, (params[k], v)) for v in values])
    return formula


def _mentions(formula: z3.ExprRef, const: Expr) -> bool:
    return bool(_consts(formula, [const]))


def _mtypes() -> tuple[Expr, ...]:
    from electorate.proofs.vocab import MTYPES

    return MTYPES


@dataclass
class Rejection:
    """A spec step the relation does not accept."""

    action: str  # the spec action, as the spec prints it
    encoded: str  # the encoding's action
    pre: State
    post: State


@dataclass
class TieResult:
    """The outcome for one model over one exploration."""

    params: Params
    model: Model
    depth: int
    steps: int = 0
    states: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # CPU seconds of the exploration and its checks (all models together)
    process: int = 0  # the id of the process that explored (prove's tie runs in workers)
    leader: bool = False
    encoded: set[str] = field(default_factory=set)
    rejected: list[Rejection] = field(default_factory=list)
    broken: list[tuple[str, State]] = field(default_factory=list)  # invariant, state
    misses: int = 0  # parts decided by z3 (the rest came from the cache)
    history: bool = False  # the spec's history compared with the relation's ghosts
    residues: int = 0  # of which needed the solver (the simplifier could not settle them)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.broken


def check(
    p: Params,
    model: Model,
    depth: int,
    next_fn: NextFn | None = None,
    invariant: Sequence[Lemma] = (),
    steps: Iterator[Step] | None = None,
    max_rejections: int = 5,
) -> TieResult:
    """Check every explored step (and, if given, that every reached state inside the
    constraint satisfies `invariant`); stop after `max_rejections` rejected steps."""
    return check_models(p, [(model, invariant)], depth, next_fn, steps, max_rejections)[0]


def check_models(
    p: Params,
    models: Sequence[tuple[Model, Sequence[Lemma]]],
    depth: int,
    next_fn: NextFn | None = None,
    steps: Iterator[Step] | None = None,
    max_rejections: int = 5,
    history: bool | None = None,
) -> list[TieResult]:
    """One exploration, every step checked against each model's relation (and each reached
    state against the model's invariant conjuncts over spec variables, if any). With
    `history` (by default: for the `log` profile's exploration), the ghosts the spec's history
    records (spec/history.py) are compared too: the relation's ghost updates must accept each
    history step."""
    if history is None:
        history = steps is None and p.profile == "log"
    if history and steps is not None:
        raise ValueError("the history is recorded along the exploration: no `steps` with it")
    start, cpu = time.perf_counter(), time.process_time()
    results = [TieResult(p, m, depth, history=history) for m, _ in models]
    checkers = [StepChecker(p, m, history=history) for m, _ in models]
    for checker in checkers:
        checker.shared = checkers[0].shared
    states: set[State] = set()
    leader = False
    walk: Iterator[tuple[State, History | None, Action, State, History | None]]
    if history:
        walk = explore_history(p, depth, next_fn)
    else:
        plain = steps if steps is not None else explore(p, depth, next_fn)
        walk = ((s, None, a, t, None) for s, a, t in plain)
    for s, before, action, t, after in walk:
        for result, checker in zip(results, checkers, strict=True):
            name, ok = checker.accepts(s, action, t, before, after)
            result.steps += 1
            result.encoded.add(name)
            if not ok and len(result.rejected) < max_rejections:
                result.rejected.append(Rejection(str(action), name, s, t))
        for state in (s, t):
            if state not in states and constraint(p, state):
                states.add(state)
                for result, checker, (_, invariant) in zip(results, checkers, models, strict=True):
                    for broken in checker.violated(state, invariant):
                        result.broken.append((broken, state))
        leader = leader or any(r == Role.Leader for r in t.role)
        if any(len(r.rejected) >= max_rejections for r in results):
            break
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    for result, checker in zip(results, checkers, strict=True):
        result.states, result.leader, result.seconds = len(states), leader, seconds
        result.cpu, result.process = cpu, os.getpid()
        result.misses, result.residues = checker.misses, checker.residues
    return results
