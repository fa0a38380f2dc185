"""The Z3 transition relation of the message-passing election model (raft.tla, spec/).

Servers and quorums are uninterpreted sorts, so one proof covers every cluster size; the only
facts about quorums are two axioms, "any two intersect" and "none is empty" (both justified for
the spec's majorities by the bridge facts of proofs.quorum).
Terms are integers. The message bag becomes a relation `msg(type, src, dst, term, granted)`:
"at least one copy in flight". Counts are abstracted away, so removing one copy leaves the
message's presence unconstrained; this over-approximates the bag, which is sound for safety.

What is left out, and why that is sound for election safety: logs, commitIndex, nextIndex and
matchIndex never influence votes except through the up-to-date check `LogOk`, which only ever
refuses a vote, so it is a free Boolean here (an action parameter). The same goes for the
features' bookkeeping (PreVote tallies, CheckQuorum acks, clocks and leases): it only disables
steps, so the choices it makes are free here. Every concrete step is therefore a step of this
relation (tests/proofs check it step by step against spec/).

A state is a `Vocab`: callables giving the value of each variable. The proof uses uninterpreted
functions; the conformance tests plug in the concrete values of one spec state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

import z3

Expr: TypeAlias = z3.ExprRef


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


CANONICAL_ROLES = _roles("Role", prevote=False)
FEATURE_ROLES = _roles("RoleWithPreVote", prevote=True)
MTypeSort, (RV_REQ, RV_RESP, AE_REQ, AE_RESP) = z3.EnumSort(
    "MType",
    ["RequestVoteRequest", "RequestVoteResponse", "AppendEntriesRequest", "AppendEntriesResponse"],
)
MTYPES = (RV_REQ, RV_RESP, AE_REQ, AE_RESP)  # same order as spec.messages.MType

VARIABLES = ("ct", "role", "voted", "vf", "vr", "vg", "msg", "pmsg")
MESSAGE_VARIABLES = ("msg", "pmsg")


@dataclass(frozen=True)
class Sorts:
    """The server and quorum sorts and quorum membership."""

    node: z3.SortRef
    quorum: z3.SortRef
    member: Callable[[Expr, Expr], z3.BoolRef]


@dataclass(frozen=True)
class Vocab:
    """One state: currentTerm, state (role), votedFor (voted? and whom), votesResponded,
    votesGranted and the message relation."""

    ct: Callable[[Expr], z3.ArithRef]
    role: Callable[[Expr], Expr]
    roles: Roles  # the role sort's values (pre.roles.follower, ... of this model)
    voted: Callable[[Expr], z3.BoolRef]  # votedFor /= Nil
    vf: Callable[[Expr], Expr]  # whom, meaningful only when voted
    vr: Callable[[Expr, Expr], z3.BoolRef]  # j \in votesResponded[i]
    vg: Callable[[Expr, Expr], z3.BoolRef]  # j \in votesGranted[i]
    msg: Callable[[Expr, Expr, Expr, z3.ArithRef, z3.BoolRef], z3.BoolRef]
    # Pre-vote requests and responses (PreVote feature only): a separate relation, because a
    # granted pre-vote is not a vote. None in the canonical model: an extra quantified frame
    # in every query makes the solver markedly slower.
    pmsg: Callable[[Expr, Expr, Expr, z3.ArithRef, z3.BoolRef], z3.BoolRef] | None = None

    def variables(self) -> tuple[str, ...]:
        return VARIABLES if self.pmsg is not None else VARIABLES[:-1]


def symbolic_sorts() -> Sorts:
    node = z3.DeclareSort("Node")
    quorum = z3.DeclareSort("Quorum")
    member = z3.Function("member", node, quorum, z3.BoolSort())
    return Sorts(node, quorum, member)


def symbolic_vocab(sorts: Sorts, suffix: str, features: bool = False) -> Vocab:
    """Uninterpreted state functions named like the TLA+ variables (`ct'` for the post-state)."""
    n, i, b = sorts.node, z3.IntSort(), z3.BoolSort()
    roles = FEATURE_ROLES if features else CANONICAL_ROLES
    f = z3.Function
    return Vocab(
        ct=f(f"currentTerm{suffix}", n, i),
        role=f(f"state{suffix}", n, roles.sort),
        roles=roles,
        voted=f(f"voted{suffix}", n, b),
        vf=f(f"votedFor{suffix}", n, n),
        vr=f(f"votesResponded{suffix}", n, n, b),
        vg=f(f"votesGranted{suffix}", n, n, b),
        msg=f(f"messages{suffix}", MTypeSort, n, n, i, b, b),
        pmsg=f(f"preVoteMessages{suffix}", MTypeSort, n, n, i, b, b) if features else None,
    )


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


def holds_quorum(sorts: Sorts, v: Vocab, i: Expr) -> z3.BoolRef:
    """votesGranted[i] contains a quorum (equivalently is one: quorums are upward closed)."""
    q = z3.Const("q", sorts.quorum)
    n = z3.Const("n", sorts.node)
    return z3.Exists([q], z3.ForAll([n], z3.Implies(sorts.member(n, q), v.vg(i, n))))


# ---- frame helpers: one constraint per (action, variable), like TLA+ EXCEPT / UNCHANGED -----


def _nodes(sorts: Sorts, count: int) -> list[Expr]:
    return [z3.Const(f"x{k}", sorts.node) for k in range(count)]


def same(sorts: Sorts, pre: Vocab, post: Vocab, var: str) -> z3.BoolRef:
    """UNCHANGED var."""
    if var in MESSAGE_VARIABLES:
        ty, a, b, t, g = _msg_vars(sorts)
        new, old = getattr(post, var), getattr(pre, var)
        return z3.ForAll([ty, a, b, t, g], new(ty, a, b, t, g) == old(ty, a, b, t, g))
    if var in ("vr", "vg"):
        x, y = _nodes(sorts, 2)
        return z3.ForAll([x, y], getattr(post, var)(x, y) == getattr(pre, var)(x, y))
    (x,) = _nodes(sorts, 1)
    return z3.ForAll([x], getattr(post, var)(x) == getattr(pre, var)(x))


def set_at(sorts: Sorts, pre: Vocab, post: Vocab, var: str, i: Expr, value: Expr) -> z3.BoolRef:
    """var' = [var EXCEPT ![i] = value] for a per-server variable."""
    (x,) = _nodes(sorts, 1)
    new, old = getattr(post, var), getattr(pre, var)
    return z3.ForAll([x], new(x) == z3.If(x == i, value, old(x)))


def forget_at(sorts: Sorts, pre: Vocab, post: Vocab, var: str, i: Expr) -> z3.BoolRef:
    """var'[i] is unconstrained, every other entry unchanged (votedFor' when voted' is FALSE)."""
    (x,) = _nodes(sorts, 1)
    new, old = getattr(post, var), getattr(pre, var)
    return z3.ForAll([x], z3.Implies(x != i, new(x) == old(x)))


def set_pair(
    sorts: Sorts, pre: Vocab, post: Vocab, var: str, i: Expr, j: Expr, value: z3.BoolRef
) -> z3.BoolRef:
    """var'[i] = var[i] \\cup {j} (value TRUE) for votesResponded / votesGranted."""
    x, y = _nodes(sorts, 2)
    new, old = getattr(post, var), getattr(pre, var)
    return z3.ForAll([x, y], new(x, y) == z3.If(z3.And(x == i, y == j), value, old(x, y)))


def clear_row(sorts: Sorts, pre: Vocab, post: Vocab, var: str, i: Expr) -> z3.BoolRef:
    """var'[i] = {}."""
    x, y = _nodes(sorts, 2)
    new, old = getattr(post, var), getattr(pre, var)
    return z3.ForAll([x, y], new(x, y) == z3.If(x == i, z3.BoolVal(False), old(x, y)))


MsgKey = tuple[Expr, Expr, Expr, z3.ArithRef, z3.BoolRef]


def _msg_vars(sorts: Sorts) -> tuple[Expr, Expr, Expr, z3.ArithRef, z3.BoolRef]:
    return (
        z3.Const("mty", MTypeSort),
        z3.Const("msrc", sorts.node),
        z3.Const("mdst", sorts.node),
        z3.Int("mterm"),
        z3.Bool("mgranted"),
    )


def _is(key: Sequence[Expr], other: Sequence[Expr]) -> z3.BoolRef:
    return z3.And(*[a == b for a, b in zip(key, other, strict=True)])


def update_messages(
    sorts: Sorts,
    pre: Vocab,
    post: Vocab,
    send: MsgKey | None = None,
    discard: MsgKey | None = None,
    var: str = "msg",
) -> z3.BoolRef:
    """Send adds a copy; Discard removes one, after which the message may or may not still be
    in flight (other copies); every other message keeps its presence."""
    m = _msg_vars(sorts)
    ty, a, b, t, g = m
    new, old = getattr(post, var), getattr(pre, var)
    keep = old(*m)
    rule: z3.BoolRef = new(*m) == keep
    if discard is not None:
        rule = z3.Or(_is(m, discard), rule)
    if send is not None:
        rule = z3.If(_is(m, send), new(*m), rule)
    return z3.ForAll([ty, a, b, t, g], rule)


# ---- actions -------------------------------------------------------------------------------

Changes = dict[str, z3.BoolRef]


@dataclass(frozen=True)
class Step:
    """An action instance's guard and the constraints of the variables it changes."""

    guard: z3.BoolRef
    changes: Changes


@dataclass(frozen=True)
class ActionDef:
    """A TLA+ action (or Receive handler) with its parameters and transition relation."""

    name: str
    params: tuple[tuple[str, str], ...]  # (name, kind): kind in node/int/bool/mtype
    step: Callable[[Sorts, Vocab, Vocab, str | None, Sequence[Expr]], Step]


def relation(
    action: ActionDef,
    sorts: Sorts,
    pre: Vocab,
    post: Vocab,
    bug: str | None,
    args: Sequence[Expr],
) -> z3.BoolRef:
    """Action(pre, post) with the given parameter values; unchanged variables are framed."""
    step = action.step(sorts, pre, post, bug, args)
    unknown = set(step.changes) - set(pre.variables())
    if unknown:
        raise ValueError(f"{action.name} changes variables {sorted(unknown)} this model lacks")
    frames = [step.changes.get(v, same(sorts, pre, post, v)) for v in pre.variables()]
    return z3.And(step.guard, *frames)


def _restart(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    (i,) = a
    changes = {
        "role": set_at(s, pre, post, "role", i, pre.roles.follower),
        "vr": clear_row(s, pre, post, "vr", i),
        "vg": clear_row(s, pre, post, "vg", i),
    }
    if bug == "forget-vote-on-restart":  # bug: votedFor is not durable
        changes["voted"] = set_at(s, pre, post, "voted", i, z3.BoolVal(False))
        changes["vf"] = forget_at(s, pre, post, "vf", i)
    return Step(z3.BoolVal(True), changes)


def _timeout(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    (i,) = a
    term = pre.ct(i) if bug == "no-term-increment" else pre.ct(i) + 1
    return Step(pre.role(i) != pre.roles.leader, _start_election(s, pre, post, i, term))


def _start_election(s: Sorts, pre: Vocab, post: Vocab, i: Expr, term: z3.ArithRef) -> Changes:
    """Candidate of `term`, no vote yet, no votes responded or granted."""
    return {
        "role": set_at(s, pre, post, "role", i, pre.roles.candidate),
        "ct": set_at(s, pre, post, "ct", i, term),
        "voted": set_at(s, pre, post, "voted", i, z3.BoolVal(False)),
        "vf": forget_at(s, pre, post, "vf", i),
        "vr": clear_row(s, pre, post, "vr", i),
        "vg": clear_row(s, pre, post, "vg", i),
    }


def _request_vote(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    i, j = a
    request = (RV_REQ, i, j, pre.ct(i), z3.BoolVal(False))
    return Step(
        z3.And(pre.role(i) == pre.roles.candidate, z3.Not(pre.vr(i, j))),
        {"msg": update_messages(s, pre, post, send=request)},
    )


def _become_leader(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    (i,) = a
    return Step(
        z3.And(pre.role(i) == pre.roles.candidate, holds_quorum(s, pre, i)),
        {"role": set_at(s, pre, post, "role", i, pre.roles.leader)},
    )


def _leader_only(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    """ClientRequest / AdvanceCommitIndex: they touch only the log and commitIndex."""
    (i,) = a
    return Step(pre.role(i) == pre.roles.leader, {})


def _append_entries(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    i, j = a
    request = (AE_REQ, i, j, pre.ct(i), z3.BoolVal(False))
    return Step(
        z3.And(i != j, pre.role(i) == pre.roles.leader),
        {"msg": update_messages(s, pre, post, send=request)},
    )


def _in_flight(pre: Vocab, ty: Expr, i: Expr, j: Expr, t: z3.ArithRef, g: z3.BoolRef) -> z3.BoolRef:
    """Message from j to i (the receiver is always i, the sender j, as in raft.tla)."""
    return pre.msg(ty, j, i, t, g)


def _update_term(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    ty, i, j, t, g = a
    keeps = z3.BoolVal(False)
    if bug == "leader-keeps-role":  # bug: a leader adopting a newer term stays leader
        keeps = pre.role(i) == pre.roles.leader
    return Step(
        z3.And(_in_flight(pre, ty, i, j, t, g), t > pre.ct(i)),
        {
            "ct": set_at(s, pre, post, "ct", i, t),
            "role": set_at(
                s, pre, post, "role", i, z3.If(keeps, pre.roles.leader, pre.roles.follower)
            ),
            "voted": set_at(s, pre, post, "voted", i, z3.BoolVal(False)),
            "vf": forget_at(s, pre, post, "vf", i),
        },
    )


def _handle_rv_request(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    i, j, t, log_ok = a
    free = z3.Or(z3.Not(pre.voted(i)), pre.vf(i) == j)
    if bug == "vote-twice":  # bug: votedFor is not consulted
        free = z3.BoolVal(True)
    grant = z3.And(t == pre.ct(i), log_ok, free)
    request = (RV_REQ, j, i, t, z3.BoolVal(False))
    response = (RV_RESP, i, j, pre.ct(i), grant)
    return Step(
        z3.And(_in_flight(pre, RV_REQ, i, j, t, z3.BoolVal(False)), t <= pre.ct(i)),
        {
            "voted": set_at(s, pre, post, "voted", i, z3.Or(grant, pre.voted(i))),
            "vf": set_at(s, pre, post, "vf", i, z3.If(grant, j, pre.vf(i))),
            "msg": update_messages(s, pre, post, send=response, discard=request),
        },
    )


def _handle_rv_response(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    i, j, t, g = a
    term_ok = t <= pre.ct(i) if bug == "stale-votes-counted" else t == pre.ct(i)
    return Step(
        z3.And(_in_flight(pre, RV_RESP, i, j, t, g), term_ok),
        {
            "vr": set_pair(s, pre, post, "vr", i, j, z3.BoolVal(True)),
            "vg": set_pair(s, pre, post, "vg", i, j, z3.Or(g, pre.vg(i, j))),
            "msg": update_messages(s, pre, post, discard=(RV_RESP, j, i, t, g)),
        },
    )


def _handle_ae_request(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    """Reject (reply), return to follower (message kept), or accept: reply, or change only the
    log and keep the message (conflict / append). `log_ok` is free (logs are abstracted)."""
    i, j, t, log_ok, replied = a
    false = z3.BoolVal(False)
    request = (AE_REQ, j, i, t, false)
    response = (AE_RESP, i, j, pre.ct(i), false)
    R = pre.roles
    follower = pre.role(i) == R.follower
    # A pre-candidate (PreVote) steps down like a candidate (spec.features.restated.Receive).
    candidate = z3.Or(*[pre.role(i) == r for r in (R.candidate, R.precandidate) if r is not None])
    reject = z3.Or(t < pre.ct(i), z3.And(t == pre.ct(i), follower, z3.Not(log_ok)))
    accept = z3.And(t == pre.ct(i), follower, log_ok)
    to_follower = z3.And(t == pre.ct(i), candidate)
    reply = update_messages(s, pre, post, send=response, discard=request)
    return Step(
        z3.And(_in_flight(pre, AE_REQ, i, j, t, false), t <= pre.ct(i)),
        {
            "role": set_at(
                s, pre, post, "role", i, z3.If(to_follower, pre.roles.follower, pre.role(i))
            ),
            "msg": z3.Or(
                z3.And(z3.Or(reject, z3.And(accept, replied)), reply),
                z3.And(
                    z3.Or(to_follower, z3.And(accept, z3.Not(replied))), same(s, pre, post, "msg")
                ),
            ),
        },
    )


def _handle_ae_response(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    i, j, t = a
    false = z3.BoolVal(False)
    return Step(
        z3.And(_in_flight(pre, AE_RESP, i, j, t, false), t == pre.ct(i)),
        {"msg": update_messages(s, pre, post, discard=(AE_RESP, j, i, t, false))},
    )


def _drop_stale(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    ty, i, j, t, g = a
    response = z3.Or(ty == RV_RESP, ty == AE_RESP)
    if bug == "stale-votes-counted":  # bug: stale vote responses are tallied, not dropped
        response = ty == AE_RESP
    return Step(
        z3.And(_in_flight(pre, ty, i, j, t, g), response, t < pre.ct(i)),
        {"msg": update_messages(s, pre, post, discard=(ty, j, i, t, g))},
    )


def _duplicate(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    ty, i, j, t, g = a
    return Step(_in_flight(pre, ty, i, j, t, g), {})  # one more copy: presence unchanged


def _drop(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    ty, i, j, t, g = a
    return Step(
        _in_flight(pre, ty, i, j, t, g),
        {"msg": update_messages(s, pre, post, discard=(ty, j, i, t, g))},
    )


_MSG = (("mtype", "mtype"), ("i", "node"), ("j", "node"), ("t", "int"), ("granted", "bool"))

ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("Restart", (("i", "node"),), _restart),
    ActionDef("Timeout", (("i", "node"),), _timeout),
    ActionDef("RequestVote", (("i", "node"), ("j", "node")), _request_vote),
    ActionDef("BecomeLeader", (("i", "node"),), _become_leader),
    ActionDef("ClientRequest", (("i", "node"),), _leader_only),
    ActionDef("AdvanceCommitIndex", (("i", "node"),), _leader_only),
    ActionDef("AppendEntries", (("i", "node"), ("j", "node")), _append_entries),
    ActionDef("UpdateTerm", _MSG, _update_term),
    ActionDef(
        "HandleRequestVoteRequest",
        (("i", "node"), ("j", "node"), ("t", "int"), ("logOk", "bool")),
        _handle_rv_request,
    ),
    ActionDef(
        "HandleRequestVoteResponse",
        (("i", "node"), ("j", "node"), ("t", "int"), ("granted", "bool")),
        _handle_rv_response,
    ),
    ActionDef(
        "HandleAppendEntriesRequest",
        (("i", "node"), ("j", "node"), ("t", "int"), ("logOk", "bool"), ("replied", "bool")),
        _handle_ae_request,
    ),
    ActionDef(
        "HandleAppendEntriesResponse",
        (("i", "node"), ("j", "node"), ("t", "int")),
        _handle_ae_response,
    ),
    ActionDef("DropStaleResponse", _MSG, _drop_stale),
    ActionDef("DuplicateMessage", _MSG, _duplicate),
    ActionDef("DropMessage", _MSG, _drop),
)

# ---- issue 3's features: PreVote and CheckQuorum (and the lease's clock-only steps) ---------
# They only add restrictions (lease checks, pre-vote quorums: free here) and these steps.


def _precandidate(v: Vocab) -> Expr:
    if v.roles.precandidate is None:
        raise ValueError(
            "a PreVote action needs the feature vocabulary (symbolic_vocab(..., True))"
        )
    return v.roles.precandidate


def _pm(v: Vocab) -> Callable[[Expr, Expr, Expr, z3.ArithRef, z3.BoolRef], z3.BoolRef]:
    if v.pmsg is None:
        raise ValueError(
            "a PreVote action needs the feature vocabulary (symbolic_vocab(..., True))"
        )
    return v.pmsg


def _prevote_timeout(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    """Timeout with PreVote: become pre-candidate in the same term, vote kept."""
    (i,) = a
    changes = {
        "role": set_at(s, pre, post, "role", i, _precandidate(pre)),
        "vr": clear_row(s, pre, post, "vr", i),
        "vg": clear_row(s, pre, post, "vg", i),
    }
    if bug == "prevote-bumps-term":  # bug: the pre-candidate bumps its term (vote reset)
        changes["ct"] = set_at(s, pre, post, "ct", i, pre.ct(i) + 1)
        changes["voted"] = set_at(s, pre, post, "voted", i, z3.BoolVal(False))
        changes["vf"] = forget_at(s, pre, post, "vf", i)
    return Step(pre.role(i) != pre.roles.leader, changes)


def _start_election_step(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    """A pre-candidate granted a pre-vote quorum (free here) runs the real election."""
    (i,) = a
    return Step(pre.role(i) == _precandidate(pre), _start_election(s, pre, post, i, pre.ct(i) + 1))


def _request_prevote(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    i, j = a
    request = (RV_REQ, i, j, pre.ct(i) + 1, z3.BoolVal(False))
    return Step(
        pre.role(i) == _precandidate(pre),
        {"pmsg": update_messages(s, pre, post, send=request, var="pmsg")},
    )


def _handle_prevote_request(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    """Answer from the current state, which does not change; whether to grant is free."""
    i, j, t, grant = a
    false = z3.BoolVal(False)
    response = (RV_RESP, i, j, z3.If(grant, t, pre.ct(i)), grant)
    return Step(
        _pm(pre)(RV_REQ, j, i, t, false),
        {"pmsg": update_messages(s, pre, post, response, (RV_REQ, j, i, t, false), "pmsg")},
    )


def _prevote_update_term(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    """A pre-vote refusal of a newer term: adopt it (UpdateTerm; the message stays)."""
    i, j, t = a
    return Step(
        z3.And(_pm(pre)(RV_RESP, j, i, t, z3.BoolVal(False)), t > pre.ct(i)),
        {
            "ct": set_at(s, pre, post, "ct", i, t),
            "role": set_at(s, pre, post, "role", i, pre.roles.follower),
            "voted": set_at(s, pre, post, "voted", i, z3.BoolVal(False)),
            "vf": forget_at(s, pre, post, "vf", i),
        },
    )


def _discard_prevote(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    """Tally, ignore or drop a pre-vote message: prevotesGranted is not modelled (free)."""
    ty, i, j, t, g = a
    key = (ty, j, i, t, g)
    return Step(_pm(pre)(*key), {"pmsg": update_messages(s, pre, post, discard=key, var="pmsg")})


def _duplicate_prevote(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    ty, i, j, t, g = a
    return Step(_pm(pre)(ty, j, i, t, g), {})


def _ignore_vote_request(
    s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]
) -> Step:
    """Inside a live leader's lease a vote request of a newer term is dropped unanswered."""
    i, j, t = a
    request = (RV_REQ, j, i, t, z3.BoolVal(False))
    return Step(
        z3.And(pre.msg(*request), t > pre.ct(i)),
        {"msg": update_messages(s, pre, post, discard=request)},
    )


def _election_timer(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    """A follower forgets its leader (nothing modelled changes); a leader ends a CheckQuorum
    period and steps down (`steps_down`) or stays."""
    i, steps_down = a
    down = z3.And(pre.role(i) == pre.roles.leader, steps_down)
    return Step(
        z3.BoolVal(True),
        {"role": set_at(s, pre, post, "role", i, z3.If(down, pre.roles.follower, pre.role(i)))},
    )


def _clock_only(s: Sorts, pre: Vocab, post: Vocab, bug: str | None, a: Sequence[Expr]) -> Step:
    """Lease bookkeeping (clocks, heartbeat rounds): nothing an election reads."""
    return Step(z3.BoolVal(True), {})


FEATURE_ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("PreVoteTimeout", (("i", "node"),), _prevote_timeout),
    ActionDef("StartElection", (("i", "node"),), _start_election_step),
    ActionDef("RequestPreVote", (("i", "node"), ("j", "node")), _request_prevote),
    ActionDef(
        "HandlePreVoteRequest",
        (("i", "node"), ("j", "node"), ("t", "int"), ("grant", "bool")),
        _handle_prevote_request,
    ),
    ActionDef(
        "PreVoteUpdateTerm", (("i", "node"), ("j", "node"), ("t", "int")), _prevote_update_term
    ),
    ActionDef("DiscardPreVoteMessage", _MSG, _discard_prevote),
    ActionDef("DuplicatePreVoteMessage", _MSG, _duplicate_prevote),
    ActionDef(
        "IgnoreVoteRequestInLease",
        (("i", "node"), ("j", "node"), ("t", "int")),
        _ignore_vote_request,
    ),
    ActionDef("ElectionTimer", (("i", "node"), ("stepsDown", "bool")), _election_timer),
    ActionDef("ClockStep", (("i", "node"),), _clock_only),
)
ACTION_BY_NAME = {a.name: a for a in ACTIONS + FEATURE_ACTIONS}


def fresh_params(action: ActionDef, sorts: Sorts) -> list[Expr]:
    """Symbolic parameters (Skolem constants of the action's \\E)."""
    made: list[Expr] = []
    for name, kind in action.params:
        label = f"{action.name}.{name}"
        if kind == "node":
            made.append(z3.Const(label, sorts.node))
        elif kind == "int":
            made.append(z3.Int(label))
        elif kind == "bool":
            made.append(z3.Bool(label))
        else:
            made.append(z3.Const(label, MTypeSort))
    return made


def init(sorts: Sorts, v: Vocab) -> z3.BoolRef:
    """raft.tla Init: everyone a follower in term 1, no votes, no messages."""
    (x,) = _nodes(sorts, 1)
    y = z3.Const("y", sorts.node)
    ty, a, b, t, g = _msg_vars(sorts)
    return z3.And(
        z3.ForAll([x], z3.And(v.ct(x) == 1, v.role(x) == v.roles.follower, z3.Not(v.voted(x)))),
        z3.ForAll([x, y], z3.And(z3.Not(v.vr(x, y)), z3.Not(v.vg(x, y)))),
        z3.ForAll([ty, a, b, t, g], z3.Not(v.msg(ty, a, b, t, g))),
        *([] if v.pmsg is None else [z3.ForAll([ty, a, b, t, g], z3.Not(v.pmsg(ty, a, b, t, g)))]),
    )
