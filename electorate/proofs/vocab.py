"""The Z3 vocabulary of the election model: sorts, state variables, frame helpers.

One model, with parameters (`Model`): which features are on (PreVote, CheckQuorum, the lease:
they change and add actions, proofs.model) and which bookkeeping is *tracked*, that is modelled
exactly rather than left as a free choice. Untracked bookkeeping only ever disables steps or is
never read by an election, so leaving it free over-approximates the spec; a property that reads
it (lease safety reads the clocks) tracks it. Tracked groups:

* `history`: proof-only history variables (raft.tla's `elections` and `voterLog`): who was
  elected in which term, with which quorum, and who voted for whom in which term. Ghosts: they
  are written, never read by a guard, so they add no behaviour and are not part of the spec.
* `earned`: PreVote's bookkeeping of the terms a pre-vote quorum opened (spec `earned_terms`,
  `unearned_deposition`).
* `quiet`: CheckQuorum's acknowledgements and "ended a period without a quorum" (`acked`,
  `quiet`).
* `lease`: `heard_leader`, the discrete clocks, lease deadlines, heartbeat rounds and their
  acknowledgements; messages then carry a send-time stamp and AppendEntries responses their
  success flag.
* `log`: the logs (length, and each entry's term and value: proofs.logmodel); messages then
  carry their log payload and AppendEntries responses their success flag. Only without
  features (the log profile of the spec is raft.tla's, without them).
* `commit` (with `log`): commitIndex and matchIndex; messages then carry one more integer, an
  AppendEntries request its mcommitIndex and a response its mmatchIndex; and the history of
  acknowledgements and commits (proofs.commit).

Servers and quorums are uninterpreted sorts, so one proof covers every cluster size; the only
facts about quorums are two axioms, "any two intersect" and "none is empty" (both justified for
the spec's majorities by the bridge facts of proofs.quorum). Terms and clocks are integers. The
message bag becomes a relation "at least one copy in flight": counts are abstracted away, which
over-approximates the bag (sound for safety).

A state is a `Vocab`: one function per variable. Proofs use uninterpreted functions; the
conformance check (proofs.concrete) defines them as the values of one spec state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple, TypeAlias

import z3

Expr: TypeAlias = z3.ExprRef
Kind = Literal["node", "quorum", "int", "bool", "mtype", "role"]

FEATURES: Final = ("prevote", "check_quorum", "lease")
TRACKS: Final = ("history", "earned", "quiet", "lease", "log", "commit")


@dataclass(frozen=True)
class Model:
    """The election model's parameters: features on, bookkeeping tracked (module docstring)."""

    features: frozenset[str] = frozenset()
    tracks: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = (set(self.features) - set(FEATURES)) | (set(self.tracks) - set(TRACKS))
        if unknown:
            raise ValueError(f"unknown model parameter(s): {', '.join(sorted(unknown))}")
        if "log" in self.tracks and self.features:
            raise ValueError("the logs are tracked only in the model without features")
        if "commit" in self.tracks and "log" not in self.tracks:
            raise ValueError("tracking commit needs the logs tracked")
        needs = {"earned": "prevote", "quiet": "check_quorum", "lease": "lease"}
        for track, feature in needs.items():
            if track in self.tracks and feature not in self.features:
                raise ValueError(f"tracking {track} needs the {feature} feature")

    def has(self, feature: str) -> bool:
        return feature in self.features

    def tracked(self, group: str) -> bool:
        return group in self.tracks

    def sticky(self) -> bool:
        """Voters inside a live leader's lease refuse real votes (CheckQuorum; leases)."""
        return self.has("check_quorum") or self.has("lease")

    @property
    def tag(self) -> str:
        """A short name, unique per model (symbol names of its vocabulary)."""
        parts = sorted(self.features) + [f"+{t}" for t in sorted(self.tracks)]
        return ",".join(parts)


CANONICAL: Final = Model()
ALL_FEATURES: Final = Model(frozenset(FEATURES))


class Roles(NamedTuple):
    """A role sort and its values. The canonical model has three roles; PreVote adds a fourth.
    Two sorts rather than one: a fourth value the canonical model never uses still makes the
    solver's model search (counterexamples) markedly slower."""

    sort: z3.SortRef
    follower: Expr
    candidate: Expr
    leader: Expr
    precandidate: Expr | None

    def values(self) -> tuple[Expr, ...]:
        """In spec.state.Role order."""
        extra = () if self.precandidate is None else (self.precandidate,)
        return (self.follower, self.candidate, self.leader, *extra)


def _roles(name: str, prevote: bool) -> Roles:
    names = ["Follower", "Candidate", "Leader"] + (["PreCandidate"] if prevote else [])
    sort, values = z3.EnumSort(name, names)
    return Roles(sort, *values, *(() if prevote else (None,)))


CANONICAL_ROLES: Final = _roles("Role", prevote=False)
FEATURE_ROLES: Final = _roles("RoleWithPreVote", prevote=True)
MTypeSort, (RV_REQ, RV_RESP, AE_REQ, AE_RESP) = z3.EnumSort(
    "MType",
    ["RequestVoteRequest", "RequestVoteResponse", "AppendEntriesRequest", "AppendEntriesResponse"],
)
MTYPES: Final = (RV_REQ, RV_RESP, AE_REQ, AE_RESP)  # same order as spec.messages.MType


@dataclass(frozen=True)
class Var:
    """One state variable: its argument and value kinds, the group that has it, its TLA+ name."""

    name: str
    args: tuple[Kind, ...]
    value: Kind
    group: str  # "base", "prevote" (a feature's relation), or a tracked group
    tla: str
    ghost: bool = False  # proof-only: written, never read by a guard


_MSG_ARGS: tuple[Kind, ...] = ("mtype", "node", "node", "int", "bool")
LOG_PAYLOAD: tuple[Kind, ...] = ("int", "int", "int", "int")  # proofs.logmodel: message_payload
VARS: Final[tuple[Var, ...]] = (
    Var("ct", ("node",), "int", "base", "currentTerm"),
    Var("role", ("node",), "role", "base", "state"),
    Var("voted", ("node",), "bool", "base", "votedFor /= Nil"),
    Var("vf", ("node",), "node", "base", "votedFor"),
    Var("vr", ("node", "node"), "bool", "base", "votesResponded"),
    Var("vg", ("node", "node"), "bool", "base", "votesGranted"),
    Var("msg", _MSG_ARGS, "bool", "base", "messages"),
    Var("pmsg", _MSG_ARGS, "bool", "prevote", "pre-vote messages"),
    Var("elected", ("node", "int"), "bool", "history", "elections", ghost=True),
    Var("wq", ("int",), "quorum", "history", "elections[t].evotes", ghost=True),
    Var("votedIn", ("node", "int", "node"), "bool", "history", "voterLog", ghost=True),
    Var("earned", ("int",), "bool", "earned", "earned_terms"),
    Var("unearned", (), "bool", "earned", "unearned_deposition"),
    Var("acked", ("node", "node"), "bool", "quiet", "acked"),
    Var("quiet", ("node",), "bool", "quiet", "quiet"),
    Var("heard", ("node",), "bool", "lease", "heard_leader"),
    Var("clock", ("node",), "int", "lease", "clock"),
    Var("lu", ("node",), "int", "lease", "lease_until"),
    Var("ra", ("node",), "int", "lease", "round_at"),
    Var("rack", ("node", "node"), "bool", "lease", "round_acked"),
    Var("len", ("node",), "int", "log", "Len(log)"),
    Var("lterm", ("node", "int"), "int", "log", "log[i][k].term"),
    Var("lval", ("node", "int"), "int", "log", "log[i][k].value"),
    Var("ci", ("node",), "int", "commit", "commitIndex"),
    Var("mi", ("node", "node"), "int", "commit", "matchIndex"),
    Var("stored", ("node", "int", "int"), "bool", "commit", "acknowledged entries", ghost=True),
    Var("committed", ("int", "int"), "bool", "commit", "commits", ghost=True),
    Var("cq", ("int", "int"), "quorum", "commit", "commit quorums", ghost=True),
)
VAR: Final = {v.name: v for v in VARS}
MESSAGE_VARIABLES: Final = ("msg", "pmsg")


def model_vars(model: Model) -> tuple[Var, ...]:
    """The variables of a model, in VARS order."""
    groups = {"base"} | set(model.tracks) | ({"prevote"} if model.has("prevote") else set())
    return tuple(v for v in VARS if v.group in groups)


@dataclass(frozen=True)
class Sorts:
    """The server and quorum sorts and quorum membership."""

    node: z3.SortRef
    quorum: z3.SortRef
    member: Callable[[Expr, Expr], z3.BoolRef]


def symbolic_sorts() -> Sorts:
    node = z3.DeclareSort("Node")
    quorum = z3.DeclareSort("Quorum")
    member = z3.Function("member", node, quorum, z3.BoolSort())
    return Sorts(node, quorum, member)


class Vocab:
    """One state: a function per variable of the model (`v.ct(i)`, `v.fn("clock")(i)`)."""

    def __init__(self, sorts: Sorts, model: Model, funcs: dict[str, Any]) -> None:
        self.sorts, self.model, self.funcs = sorts, model, funcs
        self.roles = FEATURE_ROLES if model.has("prevote") else CANONICAL_ROLES
        self.stamped = model.tracked("lease")  # messages carry a send-time stamp
        self.logged = model.tracked("log")  # messages carry their log payload
        self.indexed = model.tracked("commit")  # and mcommitIndex / mmatchIndex
        self.ct = funcs["ct"]
        self.role = funcs["role"]
        self.voted = funcs["voted"]
        self.vf = funcs["vf"]
        self.vr = funcs["vr"]
        self.vg = funcs["vg"]
        self.msg = funcs["msg"]
        self.pmsg = funcs.get("pmsg")

    def variables(self) -> tuple[str, ...]:
        return tuple(self.funcs)

    def has(self, name: str) -> bool:
        return name in self.funcs

    def fn(self, name: str) -> Any:
        """The function of a variable this model has (a 0-ary one is a constant)."""
        if name not in self.funcs:
            raise ValueError(f"the {self.model.tag or 'canonical'} model has no variable {name}")
        return self.funcs[name]

    def sort(self, kind: Kind) -> z3.SortRef:
        return {
            "node": self.sorts.node,
            "quorum": self.sorts.quorum,
            "int": z3.IntSort(),
            "bool": z3.BoolSort(),
            "mtype": MTypeSort,
            "role": self.roles.sort,
        }[kind]

    def key(
        self,
        ty: Expr,
        src: Expr,
        dst: Expr,
        term: Expr,
        flag: Expr | bool = False,
        stamp: Expr | int = 0,
        log: Sequence[Expr | int] = (0, 0, 0, 0),
        index: Expr | int = 0,
    ) -> tuple[Expr, ...]:
        """A message of `msg`: (type, source, destination, term, flag[, stamp][, log]). The
        flag is `mvoteGranted` of a vote response and, with the lease or the logs tracked,
        `msuccess` of an AppendEntries response (with the logs, of a request: it carries an
        entry); the stamp (lease) is the heartbeat round's send time; the log payload
        (proofs.logmodel) four integers; with commit tracked, the index (mcommitIndex of a
        request, mmatchIndex of a response)."""
        f = z3.BoolVal(flag) if isinstance(flag, bool) else flag
        out: tuple[Expr, ...] = (ty, src, dst, term, f)
        if self.stamped:
            out = (*out, z3.IntVal(stamp) if isinstance(stamp, int) else stamp)
        if self.logged:
            out = (*out, *[z3.IntVal(x) if isinstance(x, int) else x for x in log])
        if self.indexed:
            out = (*out, z3.IntVal(index) if isinstance(index, int) else index)
        return out

    def msg_args(self, name: str = "msg") -> tuple[Kind, ...]:
        extra: tuple[Kind, ...] = ()
        if name == "msg" and self.stamped:
            extra += ("int",)
        if name == "msg" and self.logged:
            extra += LOG_PAYLOAD
        if name == "msg" and self.indexed:
            extra += ("int",)
        return _MSG_ARGS + extra


def symbolic_vocab(sorts: Sorts, suffix: str, model: Model = CANONICAL) -> Vocab:
    """Uninterpreted state functions named like the TLA+ variables (`ct'` for the post-state)."""
    probe = Vocab.__new__(Vocab)
    probe.sorts, probe.model = sorts, model
    probe.roles = FEATURE_ROLES if model.has("prevote") else CANONICAL_ROLES
    probe.stamped = model.tracked("lease")
    probe.logged = model.tracked("log")
    probe.indexed = model.tracked("commit")
    funcs: dict[str, Any] = {}
    for var in model_vars(model):
        args = probe.msg_args(var.name) if var.name in MESSAGE_VARIABLES else var.args
        sorts_ = [probe.sort(k) for k in (*args, var.value)]
        name = f"{var.name}{suffix}"
        funcs[var.name] = z3.Const(name, sorts_[0]) if not args else z3.Function(name, *sorts_)
    return Vocab(sorts, model, funcs)


@dataclass(frozen=True)
class Context:
    """Shared symbols: the sorts, the pre- and post-state of one model."""

    sorts: Sorts
    pre: Vocab
    post: Vocab

    @property
    def model(self) -> Model:
        return self.pre.model


def quorum_axiom(sorts: Sorts) -> z3.BoolRef:
    """Any two quorums share a member (true of strict majorities for every N: proofs.quorum)."""
    q1, q2 = z3.Consts("q1 q2", sorts.quorum)
    n = z3.Const("n", sorts.node)
    return z3.ForAll([q1, q2], z3.Exists([n], z3.And(sorts.member(n, q1), sorts.member(n, q2))))


def quorums_nonempty(sorts: Sorts) -> z3.BoolRef:
    """Every quorum has a member (true of the spec's quorum predicates for every N >= 1, even
    of the buggy "at least half": it keeps counterexamples under that bug realistic)."""
    q = z3.Const("q", sorts.quorum)
    n = z3.Const("n", sorts.node)
    return z3.ForAll([q], z3.Exists([n], sorts.member(n, q)))


def holds_quorum(sorts: Sorts, v: Vocab, i: Expr, rel: str = "vg") -> z3.BoolRef:
    """votesGranted[i] (or another per-server set) contains a quorum (equivalently is one:
    quorums are upward closed)."""
    q = z3.Const("q", sorts.quorum)
    n = z3.Const("n", sorts.node)
    row = v.fn(rel)
    return z3.Exists([q], z3.ForAll([n], z3.Implies(sorts.member(n, q), row(i, n))))


def within(sorts: Sorts, q: Expr, v: Vocab, i: Expr, rel: str = "vg") -> z3.BoolRef:
    """Every member of quorum q is in i's set (votesGranted by default)."""
    n = z3.Const("n", sorts.node)
    return z3.ForAll([n], z3.Implies(sorts.member(n, q), v.fn(rel)(i, n)))


# ---- frame helpers: one constraint per (action, variable), like TLA+ EXCEPT / UNCHANGED -----


def bound_vars(v: Vocab, kinds: Sequence[Kind], prefix: str = "x") -> list[Expr]:
    """Fresh-named bound variables of the given kinds (the names are only for printing)."""
    return [z3.Const(f"{prefix}{k}", v.sort(kind)) for k, kind in enumerate(kinds)]


def _args_of(v: Vocab, name: str) -> tuple[Kind, ...]:
    return v.msg_args(name) if name in MESSAGE_VARIABLES else VAR[name].args


def same(pre: Vocab, post: Vocab, var: str) -> z3.BoolRef:
    """UNCHANGED var."""
    kinds = _args_of(pre, var)
    new, old = post.fn(var), pre.fn(var)
    if not kinds:
        return new == old
    xs = _msg_vars(pre, var) if var in MESSAGE_VARIABLES else bound_vars(pre, kinds)
    return z3.ForAll(xs, new(*xs) == old(*xs))


def define(
    pre: Vocab, post: Vocab, var: str, body: Callable[..., Expr], prefix: str = "g"
) -> z3.BoolRef:
    """var' = [x \\in D |-> body(x)] with `body` over pre-state values only. The one way ghost
    updates are written, so that a ghost is always definable and never restricts a step."""
    kinds = _args_of(pre, var)
    new = post.fn(var)
    if not kinds:
        return new == body()
    xs = bound_vars(pre, kinds, prefix)
    return z3.ForAll(xs, new(*xs) == body(*xs))


def set_at(pre: Vocab, post: Vocab, var: str, i: Expr, value: Expr) -> z3.BoolRef:
    """var' = [var EXCEPT ![i] = value] for a per-server variable."""
    (x,) = bound_vars(pre, ("node",))
    new, old = post.fn(var), pre.fn(var)
    return z3.ForAll([x], new(x) == z3.If(x == i, value, old(x)))


def forget_at(pre: Vocab, post: Vocab, var: str, i: Expr) -> z3.BoolRef:
    """var'[i] is unconstrained, every other entry unchanged (votedFor' when voted' is FALSE)."""
    (x,) = bound_vars(pre, ("node",))
    new, old = post.fn(var), pre.fn(var)
    return z3.ForAll([x], z3.Implies(x != i, new(x) == old(x)))


def set_pair(pre: Vocab, post: Vocab, var: str, i: Expr, j: Expr, value: Expr) -> z3.BoolRef:
    """var'[i] = var[i] \\cup {j} (value TRUE) for votesResponded / votesGranted."""
    x, y = bound_vars(pre, ("node", "node"))
    new, old = post.fn(var), pre.fn(var)
    return z3.ForAll([x, y], new(x, y) == z3.If(z3.And(x == i, y == j), value, old(x, y)))


def set_row(pre: Vocab, post: Vocab, var: str, i: Expr, row: Callable[[Expr], Expr]) -> z3.BoolRef:
    """var'[i] = {y : row(y)}, every other row unchanged."""
    x, y = bound_vars(pre, ("node", "node"))
    new, old = post.fn(var), pre.fn(var)
    return z3.ForAll([x, y], new(x, y) == z3.If(x == i, row(y), old(x, y)))


def clear_row(pre: Vocab, post: Vocab, var: str, i: Expr) -> z3.BoolRef:
    """var'[i] = {}."""
    return set_row(pre, post, var, i, lambda y: z3.BoolVal(False))


def _msg_vars(v: Vocab, var: str = "msg") -> list[Expr]:
    names = ["mty", "msrc", "mdst", "mterm", "mflag"]
    if var == "msg" and v.stamped:
        names.append("mstamp")
    if var == "msg" and v.logged:
        names += ["ma", "mb", "mc", "md"]
    if var == "msg" and v.indexed:
        names.append("mix")
    kinds = v.msg_args(var)
    return [z3.Const(n, v.sort(k)) for n, k in zip(names, kinds, strict=True)]


def msg_vars(v: Vocab, var: str = "msg") -> list[Expr]:
    """Bound variables over one message of `var` (for quantified statements about messages)."""
    return _msg_vars(v, var)


def _is(key: Sequence[Expr], other: Sequence[Expr]) -> z3.BoolRef:
    return z3.And(*[a == b for a, b in zip(key, other, strict=True)])


MsgKey = tuple[Expr, ...]


def update_messages(
    pre: Vocab,
    post: Vocab,
    send: MsgKey | None = None,
    discard: MsgKey | None = None,
    var: str = "msg",
) -> z3.BoolRef:
    """Send adds a copy; Discard removes one, after which the message may or may not still be
    in flight (other copies); every other message keeps its presence."""
    m = _msg_vars(pre, var)
    new, old = post.fn(var), pre.fn(var)
    rule: z3.BoolRef = new(*m) == old(*m)
    if discard is not None:
        rule = z3.Or(_is(m, discard), rule)
    if send is not None:
        rule = z3.If(_is(m, send), new(*m), rule)
    return z3.ForAll(m, rule)
