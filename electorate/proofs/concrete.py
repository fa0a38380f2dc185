"""Concrete spec states inside the proof's encoding: the link between spec/ and proofs/.

For N servers the node sort becomes a finite sort s1..sN and the quorum sort holds exactly the
server sets `spec.actions.IsQuorum` accepts. The state functions stay uninterpreted; a spec
`State` is pinned down by ground facts (currentTerm(s1) = 2, ...) plus one definition of the
message relation. So the encoding's relation is built once per action and each concrete step
costs one push/check/pop: satisfiable iff the Z3 relation allows that step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import z3

from electorate.proofs.core import Settings, make_solver
from electorate.proofs.invariant import CONJUNCTS
from electorate.proofs.model import (
    ACTION_BY_NAME,
    CANONICAL_ROLES,
    FEATURE_ROLES,
    MTYPES,
    Expr,
    Sorts,
    Vocab,
    fresh_params,
    relation,
    symbolic_vocab,
)
from electorate.spec.actions import IsQuorum, LogOk
from electorate.spec.ids import BugId
from electorate.spec.messages import Message
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import NIL, State, members


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key, one per (N, quorum rule)
class Universe:
    """The finite sorts of one cluster size (and quorum predicate)."""

    sorts: Sorts
    servers: tuple[Expr, ...]


@cache
def _server_sort(n: int) -> tuple[z3.SortRef, list[Expr]]:
    # Z3 refuses to declare an enumeration sort name twice: one per N.
    return z3.EnumSort(f"Server{n}", [f"s{k + 1}" for k in range(n)])  # type: ignore[no-any-return]


@cache
def _quorum_sort(n: int, masks: tuple[int, ...]) -> tuple[z3.SortRef, list[Expr]]:
    tag = "_".join(str(m) for m in masks)
    return z3.EnumSort(f"Quorum{n}_{tag}", [f"q{m:b}" for m in masks])  # type: ignore[no-any-return]


@cache
def universe(n: int, bug: BugId | None) -> Universe:
    """Servers s1..sN and one quorum element per server set IsQuorum accepts."""
    p = Params(servers=n, bug=bug)
    node, servers = _server_sort(n)
    masks = tuple(mask for mask in range(1 << n) if IsQuorum(p, mask))
    quorum, elems = _quorum_sort(n, masks)

    def member(x: Expr, q: Expr) -> z3.BoolRef:
        pairs = [
            z3.And(x == servers[j], q == elem)
            for mask, elem in zip(masks, elems, strict=True)
            for j in members(mask)
        ]
        return z3.Or(*pairs) if pairs else z3.BoolVal(False)

    return Universe(Sorts(node, quorum, member), tuple(servers))


def message_key(m: Message) -> tuple[int, int, int, int, bool]:
    """What the encoding keeps of a message: type, source, destination, term, granted."""
    return (int(m.mtype), m.msource, m.mdest, m.mterm, bool(m.mvote_granted))


# The bodies below are cached by value: spec states share most of their per-server tuples,
# and building Z3 terms from Python dominates the cost of a conformance check otherwise.


@lru_cache(maxsize=65_536)
def _lookup(u: Universe, kind: str, values: tuple[object, ...]) -> Expr:
    """Body of the unary function s_k |-> values[k] (argument: de Bruijn variable 0). `kind`
    is part of the cache key: (1, 1) and (True, True) are equal tuples in Python."""
    x = z3.Var(0, u.sorts.node)
    vals = [_value(u, v) for v in values]
    out = vals[-1]
    for k in range(len(vals) - 2, -1, -1):
        out = z3.If(x == u.servers[k], vals[k], out)
    return out


def _value(u: Universe, v: object) -> Expr:
    """("node", k) is server k, ("role", r) a role; ints and Booleans are themselves."""
    if isinstance(v, tuple):
        kind, k = v
        if kind == "node":
            return u.servers[k]
        roles = FEATURE_ROLES if kind == "role+" else CANONICAL_ROLES
        return roles.values()[k]
    if isinstance(v, bool):
        return z3.BoolVal(v)
    return z3.IntVal(int(v))  # type: ignore[call-overload]


@lru_cache(maxsize=65_536)
def _relation_body(u: Universe, masks: tuple[int, ...]) -> z3.BoolRef:
    """Body of (x, y) |-> y \\in masks[x]."""
    x, y = z3.Var(0, u.sorts.node), z3.Var(1, u.sorts.node)
    cases = [
        z3.And(x == u.servers[i], y == u.servers[j])
        for i, mask in enumerate(masks)
        for j in members(mask)
    ]
    return z3.Or(*cases) if cases else z3.BoolVal(False)


@lru_cache(maxsize=65_536)
def _messages_body(u: Universe, keys: frozenset[tuple[int, int, int, int, bool]]) -> z3.BoolRef:
    """Body of msg(type, src, dst, term, granted): one of the messages in flight."""
    sorts = (MTYPES[0].sort(), u.sorts.node, u.sorts.node, z3.IntSort(), z3.BoolSort())
    ty, a, b, t, g = (z3.Var(k, sort) for k, sort in enumerate(sorts))
    node = u.servers
    cases = [
        z3.And(ty == MTYPES[k[0]], a == node[k[1]], b == node[k[2]], t == k[3], g == k[4])
        for k in sorted(keys)
    ]
    return z3.Or(*cases) if cases else z3.BoolVal(False)


def definitions(u: Universe, v: Vocab, s: State) -> list[tuple[z3.FuncDeclRef, Expr]]:
    """(function, body) pairs defining every variable of `v` as its value in `s`. votedFor of
    a server with no vote is pinned to s1: the encoding never reads it while `voted` is false."""
    role_kind = "role+" if v.roles.precandidate is not None else "role"
    defs = [
        (v.ct, _lookup(u, "int", s.current_term)),
        (v.role, _lookup(u, role_kind, tuple((role_kind, int(r)) for r in s.role))),
        (v.voted, _lookup(u, "bool", tuple(x != NIL for x in s.voted_for))),
        (v.vf, _lookup(u, "node", tuple(("node", max(x, 0)) for x in s.voted_for))),
        (v.vr, _relation_body(u, s.votes_responded)),
        (v.vg, _relation_body(u, s.votes_granted)),
        (
            v.msg,
            _messages_body(u, frozenset(message_key(m) for m, _ in s.messages if not m.mpre_vote)),
        ),
    ]
    if v.pmsg is not None:
        pre_votes = frozenset(message_key(m) for m, _ in s.messages if m.mpre_vote)
        defs.append((v.pmsg, _messages_body(u, pre_votes)))
    return defs


# Spec actions and Receive handlers of the features, by the encoding action that covers them.
_FEATURE_SERVER_ACTIONS = {
    "RequestPreVote": "RequestPreVote",
    "StartElection": "StartElection",
    "HeartbeatRound": "ClockStep",
    "Tick": "ClockStep",
}
_PREVOTE_DISCARDS = (
    "IgnorePreVoteInLease",
    "IgnoreNewerTermInLease",
    "HandlePreVoteResponse",
    "DropStalePreVoteResponse",
    "DropPreVoteRefusal",
    "DropMessage",
)


def encoded_action(p: Params, pre: State, action: Action) -> tuple[str, list[object]]:
    """The encoding's action and arguments for one spec action instance: servers as indexes,
    terms as ints, Booleans; None for choices the encoding leaves free (AppendEntries log
    check and branch, pre-vote grants, CheckQuorum step-down)."""
    if action.name == "Timeout" and p.has("prevote") and p.bug != "no-prevote-disruption":
        return "PreVoteTimeout", [action.args[0]]
    if action.name in _FEATURE_SERVER_ACTIONS:
        servers: list[object] = [a for a in action.args if isinstance(a, int)]
        arity = 2 if action.name == "RequestPreVote" else 1
        return _FEATURE_SERVER_ACTIONS[action.name], servers[:arity]
    if action.name == "ElectionTimer":
        return "ElectionTimer", [action.args[0], None]
    if action.args and isinstance(action.args[0], Message) and action.args[0].mpre_vote:
        return _encoded_prevote(action, action.args[0])
    if action.name not in ("Receive", "DuplicateMessage", "DropMessage"):
        ints = [a for a in action.args if isinstance(a, int)]
        if action.name == "ClientRequest":
            ints = ints[:1]  # the client value does not matter to elections
        return action.name, list(ints)
    m = action.args[0]
    if not isinstance(m, Message):
        raise TypeError(f"{action.name} without a message: {action}")
    i, j, t, g = m.mdest, m.msource, m.mterm, bool(m.mvote_granted)
    name = action.detail or action.name
    if name in ("UpdateTerm", "DropStaleResponse", "DuplicateMessage", "DropMessage"):
        return name, [int(m.mtype), i, j, t, g]
    if name == "IgnoreNewerTermInLease":  # a follower keeps its lease promise: one copy dropped
        return "DropMessage", [int(m.mtype), i, j, t, g]
    if name == "HandleRequestVoteRequest":
        return name, [i, j, t, LogOk(p, pre, i, m)]
    if name == "HandleRequestVoteResponse":
        return name, [i, j, t, g]
    if name == "HandleAppendEntriesRequest":
        return name, [i, j, t, None, None]
    if name == "HandleAppendEntriesResponse":
        return name, [i, j, t]
    if name == "IgnoreVoteRequestInLease":
        return name, [i, j, t]
    raise ValueError(f"no encoding for spec action {action}")


def _encoded_prevote(action: Action, m: Message) -> tuple[str, list[object]]:
    """Steps on a pre-vote message (PreVote feature)."""
    i, j, t, g = m.mdest, m.msource, m.mterm, bool(m.mvote_granted)
    name = action.detail or action.name
    if name == "HandlePreVoteRequest":
        return name, [i, j, t, None]
    if name == "UpdateTerm":
        return "PreVoteUpdateTerm", [i, j, t]
    if name == "DuplicateMessage":
        return "DuplicatePreVoteMessage", [int(m.mtype), i, j, t, g]
    if name in _PREVOTE_DISCARDS:
        return "DiscardPreVoteMessage", [int(m.mtype), i, j, t, g]
    raise ValueError(f"no encoding for spec action {action}")


class ConcreteChecker:
    """Asks the encoding about concrete spec steps and states of one Params."""

    def __init__(self, p: Params, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.p, self.settings = p, settings
        self.u = universe(p.servers, p.bug)
        features = bool(p.features)
        self.pre = symbolic_vocab(self.u.sorts, f"@{p.servers}{features}", features)
        self.post = symbolic_vocab(self.u.sorts, f"@{p.servers}{features}'", features)
        # Built once per action; a fresh solver per query is faster than push/pop here (the
        # incremental solver handles the quantified frames worse).
        self._steps: dict[str, tuple[z3.BoolRef, list[Expr]]] = {}
        self._inv = [c.formula(self.u.sorts, self.pre) for c in CONJUNCTS]
        self._residue = make_solver(settings)

    def _step(self, name: str) -> tuple[z3.BoolRef, list[Expr]]:
        if name not in self._steps:
            action = ACTION_BY_NAME[name]
            params = fresh_params(action, self.u.sorts)
            formula = relation(action, self.u.sorts, self.pre, self.post, self.p.bug, params)
            self._steps[name] = (formula, params)
        return self._steps[name]

    def _bind(self, params: Sequence[Expr], values: Sequence[object]) -> list[tuple[Expr, Expr]]:
        """(parameter, value) pairs; None leaves the parameter free (existential)."""
        bound = []
        for param, value in zip(params, values, strict=True):
            if value is None:
                continue
            if param.sort() == self.u.sorts.node:
                bound.append((param, self.u.servers[int(value)]))  # type: ignore[call-overload]
            elif param.sort() == MTYPES[0].sort():
                bound.append((param, MTYPES[int(value)]))  # type: ignore[call-overload]
            else:
                bound.append((param, _value(self.u, value)))
        return bound

    def _decide(self, closed: z3.BoolRef) -> z3.CheckSatResult:
        """Satisfiability of a formula over the finite sorts: z3's simplifier evaluates it
        outright in most cases (fast); what it leaves (free choices, quantifiers) goes to the
        solver."""
        reduced = z3.simplify(closed)
        if z3.is_true(reduced):
            return z3.sat
        if z3.is_false(reduced):
            return z3.unsat
        self._residue.push()  # one incremental solver: 5x cheaper than a fresh one per query
        self._residue.add(reduced)
        answer = self._residue.check()
        self._residue.pop()
        return answer

    def accepts(self, pre: State, action: Action, post: State) -> tuple[str, z3.CheckSatResult]:
        """The encoding's action name and whether its relation allows pre --action--> post."""
        name, values = encoded_action(self.p, pre, action)
        formula, params = self._step(name)
        defs = definitions(self.u, self.pre, pre) + definitions(self.u, self.post, post)
        closed = z3.substitute_funs(formula, *defs)
        bound = self._bind(params, values)
        return name, self._decide(z3.substitute(closed, *bound))

    def violated(self, s: State) -> list[str]:
        """The conjuncts of the inductive invariant that `s` violates (empty: all hold)."""
        defs = definitions(self.u, self.pre, s)
        whole = self._decide(z3.substitute_funs(z3.And(*self._inv), *defs))
        if whole == z3.sat:
            return []
        failed = []
        for conj, formula in zip(CONJUNCTS, self._inv, strict=True):
            if self._decide(z3.substitute_funs(formula, *defs)) != z3.sat:
                failed.append(conj.id)
        return failed
