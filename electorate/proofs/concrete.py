"""Concrete spec states inside the proof's encoding: the link between spec/ and proofs/.

For N servers the node sort becomes a finite sort s1..sN and the quorum sort holds exactly the
server sets the spec's quorum predicate accepts (proofs.quorum.quorum_predicate, checked equal to
the spec's IsQuorum by tests/proofs). A spec `State` becomes one definition per state variable
(`abstraction` gives the values: what the encoding keeps of the state), so the encoding's
relation is built once per action and a concrete step is decided by substituting two states'
definitions into it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import z3

from electorate.proofs.quorum import quorum_predicate
from electorate.proofs.vocab import (
    CANONICAL_ROLES,
    FEATURE_ROLES,
    MTYPES,
    VAR,
    Expr,
    Model,
    MTypeSort,
    Sorts,
    Vocab,
)
from electorate.spec.ids import BugId
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import NIL, State


def members(mask: int) -> list[int]:
    return [j for j in range(mask.bit_length()) if mask >> j & 1]


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key, one per (N, quorum rule)
class Universe:
    """The finite sorts of one cluster size (and quorum predicate)."""

    sorts: Sorts
    servers: tuple[Expr, ...]
    quorums: tuple[int, ...]  # the server sets (bitmasks) that are quorums


@cache
def _server_sort(n: int) -> tuple[z3.SortRef, list[Expr]]:
    # Z3 refuses to declare an enumeration sort name twice: one per N.
    return z3.EnumSort(f"Server{n}", [f"s{k + 1}" for k in range(n)])  # type: ignore[no-any-return]


@cache
def _quorum_sort(n: int, masks: tuple[int, ...]) -> tuple[z3.SortRef, list[Expr]]:
    tag = "_".join(str(m) for m in masks)
    return z3.EnumSort(f"Quorum{n}_{tag}", [f"q{m:b}" for m in masks])  # type: ignore[no-any-return]


def is_quorum(n: int, mask: int, bug: str | None) -> bool:
    """The spec's quorum predicate, as proofs.quorum states it (arithmetic on |S| and N)."""
    size = z3.IntVal(mask.bit_count())
    return bool(z3.is_true(z3.simplify(quorum_predicate(size, z3.IntVal(n), bug))))


@cache
def universe(n: int, bug: BugId | None) -> Universe:
    """Servers s1..sN and one quorum element per server set the quorum predicate accepts."""
    node, servers = _server_sort(n)
    masks = tuple(mask for mask in range(1 << n) if is_quorum(n, mask, bug))
    quorum, elems = _quorum_sort(n, masks)

    def member(x: Expr, q: Expr) -> z3.BoolRef:
        pairs = [
            z3.And(x == servers[j], q == elem)
            for mask, elem in zip(masks, elems, strict=True)
            for j in members(mask)
        ]
        return z3.Or(*pairs) if pairs else z3.BoolVal(False)

    return Universe(Sorts(node, quorum, member), tuple(servers), masks)


# ---- what the encoding keeps of a spec state -----------------------------------------------

MsgKey = tuple[int, ...]


def message_key(
    m: Message, stamped: bool, logged: bool = False, indexed: bool = False
) -> tuple[Any, ...]:
    """Type, source, destination, term, flag (vote granted; with stamps or logs, an
    AppendEntries response's success; with logs, "carries an entry" of a request), with stamps
    the heartbeat's send time, with logs the log payload (proofs.logmodel), with commit
    tracked the index (mcommitIndex of a request, mmatchIndex of a response)."""
    flag = bool(m.mvote_granted) or ((stamped or logged) and bool(m.msuccess))
    flag = flag or (logged and bool(m.mentries))
    base: tuple[Any, ...] = (int(m.mtype), m.msource, m.mdest, m.mterm, flag)
    if stamped:
        base = (*base, m.msent_at)
    if indexed:
        return (*base, *log_payload(m), index_payload(m))
    return (*base, *log_payload(m)) if logged else base


def index_payload(m: Message) -> int:
    """The integer a message carries with commit tracked (proofs.commit)."""
    if m.mtype == MType.AppendEntriesRequest:
        return m.mcommit_index
    if m.mtype == MType.AppendEntriesResponse:
        return m.mmatch_index
    return 0


def log_payload(m: Message) -> tuple[int, int, int, int]:
    """The four integers a message carries in the model with logs (proofs.logmodel)."""
    if m.mtype == MType.RequestVoteRequest:
        return (m.mlast_log_index, m.mlast_log_term, 0, 0)
    if m.mtype == MType.AppendEntriesRequest:
        entry = m.mentries[0] if m.mentries else None
        term, value = (entry.term, entry.value) if entry is not None else (0, 0)
        return (m.mprev_log_index, m.mprev_log_term, term, value)
    return (0, 0, 0, 0)


def _messages(
    s: State, stamped: bool, pre_vote: bool, logged: bool = False, indexed: bool = False
) -> frozenset[tuple[Any, ...]]:
    return _keys(s.messages, stamped and not pre_vote, pre_vote, logged, indexed)


@lru_cache(maxsize=65_536)
def _keys(
    bag: Any, stamped: bool, pre_vote: bool, logged: bool = False, indexed: bool = False
) -> frozenset[tuple[Any, ...]]:
    return frozenset(
        message_key(m, stamped, logged, indexed) for m, _ in bag if m.mpre_vote == pre_vote
    )


# Each variable's value in a spec state: a hashable Python value (a cache key) that `body`
# turns into the definition of the variable's function.
ABSTRACTION: dict[str, Callable[[State, bool], Any]] = {
    "ct": lambda s, st: s.current_term,
    "role": lambda s, st: tuple(int(r) for r in s.role),
    "voted": lambda s, st: tuple(x != NIL for x in s.voted_for),
    "vf": lambda s, st: tuple(max(x, 0) for x in s.voted_for),
    "vr": lambda s, st: s.votes_responded,
    "vg": lambda s, st: s.votes_granted,
    "msg": lambda s, st: _messages(s, st, False),
    "pmsg": lambda s, st: _messages(s, False, True),
    "earned": lambda s, st: s.earned_terms,
    "unearned": lambda s, st: bool(s.unearned_deposition),
    "acked": lambda s, st: s.acked,
    "quiet": lambda s, st: s.quiet,
    "heard": lambda s, st: s.heard_leader,
    "clock": lambda s, st: s.clock,
    "lu": lambda s, st: s.lease_until,
    "ra": lambda s, st: s.round_at,
    "rack": lambda s, st: s.round_acked,
    "len": lambda s, st: tuple(len(log) for log in s.log),
    "lterm": lambda s, st: tuple(tuple(e.term for e in log) for log in s.log),
    "lval": lambda s, st: tuple(tuple(e.value for e in log) for log in s.log),
    "ci": lambda s, st: s.commit_index,
    "mi": lambda s, st: s.match_index,
}


def _logged_messages(s: State, stamped: bool) -> frozenset[tuple[Any, ...]]:
    return _messages(s, False, False, logged=True)


def _indexed_messages(s: State, stamped: bool) -> frozenset[tuple[Any, ...]]:
    return _messages(s, False, False, logged=True, indexed=True)


def abstraction_of(v: Vocab, var: str) -> Callable[[State, bool], Any]:
    """The abstraction of `var` in `v`'s model (with logs, messages keep their payload)."""
    if var == "msg" and v.indexed:
        return _indexed_messages
    return _logged_messages if var == "msg" and v.logged else ABSTRACTION[var]


def abstraction(v: Vocab, s: State, var: str) -> Any:
    return abstraction_of(v, var)(s, v.stamped)


# The bodies below are cached by value: spec states share most of their per-server tuples,
# and building Z3 terms from Python dominates the cost of a conformance check otherwise.


@lru_cache(maxsize=65_536)
def _lookup(u: Universe, kind: str, values: tuple[Any, ...], prevote: bool) -> Expr:
    """Body of the unary function s_k |-> values[k] (argument: de Bruijn variable 0). `kind`
    is part of the cache key: (1, 1) and (True, True) are equal tuples in Python."""
    x = z3.Var(0, u.sorts.node)
    vals = [_value(u, kind, v, prevote) for v in values]
    out = vals[-1]
    for k in range(len(vals) - 2, -1, -1):
        out = z3.If(x == u.servers[k], vals[k], out)
    return out


def _value(u: Universe, kind: str, v: Any, prevote: bool) -> Expr:
    if kind == "node":
        return u.servers[v]
    if kind == "role":
        return (FEATURE_ROLES if prevote else CANONICAL_ROLES).values()[v]
    if kind == "bool":
        return z3.BoolVal(bool(v))
    return z3.IntVal(int(v))


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
def _messages_body(
    u: Universe,
    keys: frozenset[tuple[Any, ...]],
    stamped: bool,
    logged: bool = False,
    indexed: bool = False,
) -> z3.BoolRef:
    """Body of msg(type, src, dst, term, flag[, stamp][, log]): one of the messages in flight."""
    sorts = [MTypeSort, u.sorts.node, u.sorts.node, z3.IntSort(), z3.BoolSort()]
    sorts += [z3.IntSort()] if stamped else []
    sorts += [z3.IntSort()] * 4 if logged else []
    sorts += [z3.IntSort()] if indexed else []
    xs = [z3.Var(k, sort) for k, sort in enumerate(sorts)]
    node = u.servers
    cases = []
    for k in sorted(keys):
        eqs = [xs[0] == MTYPES[k[0]], xs[1] == node[k[1]], xs[2] == node[k[2]]]
        eqs += [xs[3] == k[3], xs[4] == z3.BoolVal(k[4])]
        eqs += [x == value for x, value in zip(xs[5:], k[5:], strict=True)]
        cases.append(z3.And(*eqs))
    return z3.Or(*cases) if cases else z3.BoolVal(False)


@lru_cache(maxsize=65_536)
def _log_body(u: Universe, logs: tuple[tuple[int, ...], ...]) -> Expr:
    """Body of (n, k) |-> the k-th entry's term (or value) of n's log, 0 outside it."""
    x, k = z3.Var(0, u.sorts.node), z3.Var(1, z3.IntSort())
    out: Expr = z3.IntVal(0)
    for n in range(len(logs) - 1, -1, -1):
        row: Expr = z3.IntVal(0)
        for pos in range(len(logs[n]), 0, -1):
            row = z3.If(k == pos, z3.IntVal(logs[n][pos - 1]), row)
        out = row if n == len(logs) - 1 else z3.If(x == u.servers[n], row, out)
    return out


@lru_cache(maxsize=65_536)
def _matrix_body(u: Universe, rows: tuple[tuple[int, ...], ...]) -> Expr:
    """Body of (x, y) |-> rows[x][y] (matchIndex)."""
    x, y = z3.Var(0, u.sorts.node), z3.Var(1, u.sorts.node)
    out: Expr = z3.IntVal(0)
    for a in range(len(rows) - 1, -1, -1):
        row: Expr = z3.IntVal(0)
        for b in range(len(rows[a]) - 1, -1, -1):
            row = z3.If(y == u.servers[b], z3.IntVal(rows[a][b]), row)
        out = z3.If(x == u.servers[a], row, out)
    return out


def _bits_body(bits: int) -> z3.BoolRef:
    """Body of t |-> bit t of `bits` is set (earned terms)."""
    t = z3.Var(0, z3.IntSort())
    cases = [t == k for k in members(bits)]
    return z3.Or(*cases) if cases else z3.BoolVal(False)


def body(u: Universe, v: Vocab, var: str, value: Any) -> Expr:
    """The definition of `var`'s function for the abstracted value `value`."""
    spec = VAR[var]
    if var in ("msg", "pmsg"):
        mine = var == "msg"
        return _messages_body(u, value, v.stamped and mine, v.logged and mine, v.indexed and mine)
    if var == "mi":
        return _matrix_body(u, value)
    if var in ("lterm", "lval"):
        return _log_body(u, value)
    if var == "earned":
        return _bits_body(value)
    if var == "unearned":
        return z3.BoolVal(value)
    if spec.args == ("node", "node"):
        return _relation_body(u, value)
    return _lookup(u, spec.value, value, v.model.has("prevote"))


def definitions(u: Universe, v: Vocab, s: State) -> list[tuple[Any, Expr]]:
    """(function, body) pairs defining every spec variable of `v` as its value in `s`. votedFor
    of a server with no vote is pinned to s1: the encoding never reads it then."""
    return [
        (v.fn(var), body(u, v, var, abstraction(v, s, var)))
        for var in v.variables()
        if not VAR[var].ghost
    ]


def substitute(formula: z3.BoolRef, defs: list[tuple[Any, Expr]]) -> z3.BoolRef:
    """Replace every defined function (substitute_funs) and 0-ary constant (substitute)."""
    funs = [(f, b) for f, b in defs if isinstance(f, z3.FuncDeclRef)]
    consts = [(f, b) for f, b in defs if not isinstance(f, z3.FuncDeclRef)]
    out = z3.substitute_funs(formula, *funs) if funs else formula
    return z3.substitute(out, *consts) if consts else out


# ---- spec actions in the encoding's terms ---------------------------------------------------

# Spec actions and handlers of the features, by the encoding action that covers them.
_PREVOTE_DISCARDS = (
    "IgnorePreVoteInLease",
    "HandlePreVoteResponse",
    "DropStalePreVoteResponse",
    "DropPreVoteRefusal",
    "DropMessage",
    "IgnoreNewerTermInLease",
)


# The options' own steps (spec/features/options.py), each read as the spec step without options
# that the encoding covers the same way: the choices they make are free choices of the relation
# (a vote or pre-vote refused or granted, an untracked pre-vote tally, a request of an older
# term answered, progress never moved back; a newer term adopted inside CheckQuorum's lease is
# UpdateTerm, which only a model that tracks the lease guards).
OPTION_STEPS = {
    "RefuseVoteKnowingLeader": "HandleRequestVoteRequest",
    "RefusePreVoteKnowingLeader": "HandlePreVoteRequest",
    "GrantPreVoteToVotedCandidate": "HandlePreVoteRequest",
    "CountStalePreVote": "HandlePreVoteResponse",
    "AdoptNewerTermInLease": "UpdateTerm",
    "AckStaleAppendEntries": "HandleAppendEntriesRequest",
    "KeepProgress": "HandleAppendEntriesResponse",
}


def encoded_action(p: Params, model: Model, action: Action) -> tuple[str, list[object]]:
    """The encoding's action and arguments for one spec action instance: servers as indexes,
    terms as ints, Booleans; None for choices the encoding leaves free (the log checks, an
    AppendEntries branch, pre-vote grants, a CheckQuorum step-down, a BecomeLeader quorum)."""
    if action.detail in OPTION_STEPS:
        action = action._replace(detail=OPTION_STEPS[action.detail])
    if action.name == "BareHeartbeat":
        action = action._replace(name="AppendEntries")
    name, args = action.name, action.args
    servers: list[object] = [a for a in args if isinstance(a, int)]
    lease = model.tracked("lease")
    if name == "Timeout" and model.has("prevote") and p.bug != "no-prevote-disruption":
        return "PreVoteTimeout", servers[:1]
    if name in ("HeartbeatRound", "Tick"):
        return (name if lease else "ClockStep"), servers[:1]
    if name == "ElectionTimer":
        return name, [servers[0], None]
    if name == "BecomeLeader":
        return name, servers[:1] + ([None] if model.tracked("history") else [])
    if name == "AdvanceCommitIndex" and model.tracked("commit"):
        return name, [*servers[:1], None, None, None]  # whether, where and by which quorum
    if name == "ClientRequest":  # the client value matters only to the logs
        return name, servers[:2] if model.tracked("log") else servers[:1]
    if name == "AppendEntries" and model.tracked("log"):
        return name, [*servers, None]  # prevLogIndex: nextIndex is not modelled
    if model.tracked("log") and name in ("Receive", "DuplicateMessage", "DropMessage"):
        m = args[0]
        if isinstance(m, Message):
            return _encoded_logged(action, m, model.tracked("commit"))
    if name not in ("Receive", "DuplicateMessage", "DropMessage"):
        return name, servers
    m = args[0]
    if not isinstance(m, Message):
        raise TypeError(f"{name} without a message: {action}")
    if m.mpre_vote:
        return _encoded_prevote(action, m)
    return _encoded_message(action, m, lease)


def _encoded_message(action: Action, m: Message, lease: bool) -> tuple[str, list[object]]:
    i, j, t = m.mdest, m.msource, m.mterm
    g = bool(m.mvote_granted) or (lease and bool(m.msuccess))
    stamp: list[object] = [m.msent_at] if lease else []
    name = action.detail or action.name
    if name in ("UpdateTerm", "DropStaleResponse", "DuplicateMessage", "DropMessage"):
        return name, [int(m.mtype), i, j, t, g, *stamp]
    if name == "IgnoreNewerTermInLease":  # a follower keeps its lease promise: one copy dropped
        return "DropMessage", [int(m.mtype), i, j, t, g, *stamp]
    if name == "HandleRequestVoteRequest":
        return name, [i, j, t, None]
    if name == "HandleRequestVoteResponse":
        return name, [i, j, t, g]
    if name == "HandleAppendEntriesRequest":
        return name, [i, j, t, None, None, *stamp]
    if name == "HandleAppendEntriesResponse":
        return name, [i, j, t, *([g, m.msent_at] if lease else [])]
    if name == "IgnoreVoteRequestInLease":
        return name, [i, j, t]
    raise ValueError(f"no encoding for spec action {action}")


def _encoded_logged(action: Action, m: Message, indexed: bool) -> tuple[str, list[object]]:
    """Steps on a message in the model with logs: the message's payload is part of it."""
    i, j, t = m.mdest, m.msource, m.mterm
    key = message_key(m, False, logged=True, indexed=indexed)
    index = [index_payload(m)] if indexed else []
    g, payload = key[4], list(key[5:])
    name = action.detail or action.name
    if name in ("UpdateTerm", "DropStaleResponse", "DuplicateMessage", "DropMessage"):
        return name, [int(m.mtype), i, j, t, g, *payload]
    if name == "HandleRequestVoteRequest":
        return name, [i, j, t, None, *payload[:2]]
    if name == "HandleRequestVoteResponse":
        return name, [i, j, t, g]
    if name == "HandleAppendEntriesRequest":
        return name, [i, j, t, None, None, *payload[:2], g, *payload[2:]]
    if name == "HandleAppendEntriesResponse":
        return name, [i, j, t, g, *index]
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


def domain(sort: z3.SortRef) -> list[Expr] | None:
    """Every value of a finite sort (enumerations, Booleans), or None."""
    if sort.kind() == z3.Z3_BOOL_SORT:
        return [z3.BoolVal(False), z3.BoolVal(True)]
    if isinstance(sort, z3.DatatypeSortRef) and all(
        sort.constructor(k).arity() == 0 for k in range(sort.num_constructors())
    ):
        return [sort.constructor(k)() for k in range(sort.num_constructors())]
    return None


def expand_finite(e: Expr) -> Expr:
    """The formula with every quantifier over finite sorts replaced by the conjunction (or
    disjunction) of its instances: exact, since the instances name every value of the sort.
    Quantified integers stay quantified."""
    return _expand(e, {})


def _expand(e: Expr, memo: dict[int, tuple[Expr, Expr]]) -> Expr:
    # The memo keeps each key's AST alive: z3 reuses the id of a collected AST, and an
    # instance built below may be collected before its id comes up again.
    key = e.get_id()
    if key in memo:
        return memo[key][1]
    out = e
    if z3.is_quantifier(e):
        n = e.num_vars()
        consts = [z3.FreshConst(e.var_sort(k), "q") for k in range(n)]
        body = z3.substitute_vars(e.body(), *reversed(consts))
        finite = [(c, domain(c.sort())) for c in consts]
        fixed = [(c, d) for c, d in finite if d is not None]
        kept = [c for c, d in finite if d is None]
        instances = [body]
        for c, d in fixed:
            instances = [
                z3.simplify(z3.substitute(b, (c, value))) for b in instances for value in d
            ]
        parts = [_expand(b, memo) for b in instances]
        out = z3.And(*parts) if e.is_forall() else z3.Or(*parts)
        if kept:
            out = z3.ForAll(kept, out) if e.is_forall() else z3.Exists(kept, out)
    elif z3.is_app(e) and e.num_args() > 0:
        children = [_expand(c, memo) for c in e.children()]
        if any(not a.eq(b) for a, b in zip(children, e.children(), strict=True)):
            out = e.decl()(*children)
    memo[key] = (e, out)
    return out
