"""The Z3 transition relation of the election model: one table of actions, features as parameters.

As spec/RaftElectionFeatures.tla extends raft.tla, the table holds raft.tla's actions (Receive
split into its handlers) and the features' own steps; each action reads the model's parameters
(proofs.vocab.Model): a feature changes the action it changes (Timeout becomes PreVote's timeout,
a leader's heartbeat round feeds the lease), and a tracked group adds the updates of its
variables. Every action is `guard /\\ one constraint per variable`: TLA+'s EXCEPT and UNCHANGED,
one line per (action, variable), with proof-only ghosts updated apart (`Step.ghosts`, always by
a definition, proofs.vocab.define).

What is left out of every model, and why that is sound for the election properties: logs,
commitIndex, nextIndex and matchIndex reach elections only through the up-to-date check `LogOk`,
which only ever refuses a vote, so it is a free Boolean (an action parameter); the same goes for
untracked feature bookkeeping (pre-vote tallies, and whatever a model does not track): it only
disables steps, so its choices are free here. Every concrete step is therefore a step of this
relation; proofs.tie checks it step by step against the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import z3

from electorate.proofs import logmodel
from electorate.proofs.vocab import (
    AE_REQ,
    AE_RESP,
    CANONICAL,
    MTYPES,
    RV_REQ,
    RV_RESP,
    VAR,
    Expr,
    Kind,
    Model,
    MTypeSort,
    Vocab,
    bound_vars,
    clear_row,
    define,
    forget_at,
    holds_quorum,
    msg_vars,
    same,
    set_at,
    set_pair,
    set_row,
    update_messages,
    within,
)

# The lease knobs (spec/params.py: lease_knobs), symbolic: the lease proof holds for every value
# that satisfies its hypothesis (proofs.lease).
ELECTION_TICKS: Final = z3.Int("ElectionTicks")
DRIFT: Final = z3.Int("Drift")
LEASE_TICKS: Final = z3.Int("LeaseTicks")

Changes = dict[str, z3.BoolRef]


@dataclass(frozen=True)
class Step:
    """An action instance's guard, the constraints of the variables it changes, and the
    updates of the ghosts it writes (definitions over the pre-state)."""

    guard: z3.BoolRef
    changes: Changes
    ghosts: Changes = field(default_factory=dict)


@dataclass(frozen=True)
class Ctx:
    """What a step is built from: the pre- and post-state and the bug variant (spec.bugs)."""

    pre: Vocab
    post: Vocab
    bug: str | None

    @property
    def model(self) -> Model:
        return self.pre.model

    def tracked(self, group: str) -> bool:
        return self.pre.model.tracked(group)


Params = tuple[tuple[str, Kind], ...]


@dataclass(frozen=True)
class ActionDef:
    """A TLA+ action (or Receive handler): its parameters, when it is part of a model, and its
    transition relation. `more` adds parameters when a group is tracked."""

    name: str
    params: Params
    step: Callable[[Ctx, Sequence[Expr]], Step]
    when: Callable[[Model, str | None], bool] = lambda m, bug: True
    more: tuple[tuple[str, Params], ...] = ()

    def params_for(self, model: Model) -> Params:
        extra = [p for group, ps in self.more if model.tracked(group) for p in ps]
        return (*self.params, *extra)


def relation(
    action: ActionDef,
    pre: Vocab,
    post: Vocab,
    bug: str | None,
    args: Sequence[Expr],
    ghosts: bool = True,
) -> z3.BoolRef:
    """Action(pre, post) with the given parameter values; unchanged variables are framed.
    Without `ghosts` the proof-only variables are left out (they never restrict a step)."""
    return z3.And(*[f for _, f in components(action, pre, post, bug, args, ghosts)])


def components(
    action: ActionDef,
    pre: Vocab,
    post: Vocab,
    bug: str | None,
    args: Sequence[Expr],
    ghosts: bool = True,
) -> list[tuple[str, z3.BoolRef]]:
    """The relation's conjuncts, labelled: the guard, then one constraint per variable."""
    step = action.step(Ctx(pre, post, bug), args)
    names = set(pre.variables())
    unknown = (set(step.changes) | set(step.ghosts)) - names
    if unknown:
        raise ValueError(f"{action.name} changes variables {sorted(unknown)} this model lacks")
    misplaced = {v for v in step.changes if VAR[v].ghost} | {
        v for v in step.ghosts if not VAR[v].ghost
    }
    if misplaced:
        raise ValueError(f"{action.name}: ghost and spec variables mixed up: {sorted(misplaced)}")
    out = [("guard", step.guard)]
    for var in pre.variables():
        if VAR[var].ghost:
            if ghosts:
                out.append((var, step.ghosts.get(var, same(pre, post, var))))
        else:
            out.append((var, step.changes.get(var, same(pre, post, var))))
    return out


# ---- shared pieces ---------------------------------------------------------------------------


def _max(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    return z3.If(a >= b, a, b)


def self_quorum(c: Ctx, i: Expr) -> z3.BoolRef:
    """{i} is a quorum (a one-server cluster)."""
    q = z3.Const("sq", c.pre.sorts.quorum)
    n = z3.Const("sn", c.pre.sorts.node)
    return z3.Exists([q], z3.ForAll([n], z3.Implies(c.pre.sorts.member(n, q), n == i)))


def _lease_start(c: Ctx, i: Expr, round_at: Expr) -> Expr:
    """Where a lease is measured from: the round's send time (bug: the ack's arrival)."""
    return c.pre.fn("clock")(i) if c.bug == "lease-from-receive-time" else round_at


def _lose_leader(c: Ctx, i: Expr, stays_leader: Expr) -> Changes:
    """i knows no live leader: out of any lease (lease), leader bookkeeping cleared unless it
    stays leader (spec.features.variables.lose_leader)."""
    pre, post = c.pre, c.post
    out: Changes = {}
    if c.tracked("lease"):
        zero = z3.IntVal(0)
        out["heard"] = set_at(pre, post, "heard", i, z3.BoolVal(False))
        out["lu"] = set_at(pre, post, "lu", i, zero)
        out["ra"] = set_at(pre, post, "ra", i, z3.If(stays_leader, pre.fn("ra")(i), zero))
        out["rack"] = set_row(
            pre, post, "rack", i, lambda y: z3.And(stays_leader, pre.fn("rack")(i, y))
        )
    if c.tracked("quiet"):
        out["acked"] = set_row(
            pre, post, "acked", i, lambda y: z3.And(stays_leader, pre.fn("acked")(i, y))
        )
    return out


def _start_election(c: Ctx, i: Expr, term: z3.ArithRef) -> Changes:
    """Candidate of `term`, no vote yet, no votes responded or granted."""
    pre, post = c.pre, c.post
    return {
        "role": set_at(pre, post, "role", i, pre.roles.candidate),
        "ct": set_at(pre, post, "ct", i, term),
        "voted": set_at(pre, post, "voted", i, z3.BoolVal(False)),
        "vf": forget_at(pre, post, "vf", i),
        "vr": clear_row(pre, post, "vr", i),
        "vg": clear_row(pre, post, "vg", i),
    }


def _unheard(c: Ctx, i: Expr) -> z3.BoolRef:
    """i's election timer may run out: no live leader heard (tracked with the lease)."""
    if c.tracked("lease"):
        return z3.Not(c.pre.fn("heard")(i))
    return z3.BoolVal(True)


# ---- server actions --------------------------------------------------------------------------


def _restart(c: Ctx, a: Sequence[Expr]) -> Step:
    """Server i restarts from stable storage (term, vote and log kept); with a lease it acts as
    inside one until its deadline."""
    (i,) = a
    pre, post = c.pre, c.post
    changes = {
        "role": set_at(pre, post, "role", i, pre.roles.follower),
        "vr": clear_row(pre, post, "vr", i),
        "vg": clear_row(pre, post, "vg", i),
    }
    if c.bug == "forget-vote-on-restart":  # bug: votedFor is not durable
        changes["voted"] = set_at(pre, post, "voted", i, z3.BoolVal(False))
        changes["vf"] = forget_at(pre, post, "vf", i)
    changes.update(_lose_leader(c, i, z3.BoolVal(False)))
    if c.tracked("commit"):  # commitIndex and matchIndex are volatile
        changes["ci"] = set_at(pre, post, "ci", i, z3.IntVal(0))
        changes["mi"] = set_row(pre, post, "mi", i, lambda y: z3.IntVal(0))
    if c.tracked("lease"):
        changes["heard"] = set_at(pre, post, "heard", i, z3.BoolVal(True))
        changes["lu"] = set_at(pre, post, "lu", i, pre.fn("clock")(i) + ELECTION_TICKS)
    return Step(z3.BoolVal(True), changes)


def _timeout(c: Ctx, a: Sequence[Expr]) -> Step:
    """Server i times out and starts an election (term + 1)."""
    (i,) = a
    term = c.pre.ct(i) if c.bug == "no-term-increment" else c.pre.ct(i) + 1
    guard = z3.And(c.pre.role(i) != c.pre.roles.leader, _unheard(c, i))
    return Step(guard, _start_election(c, i, term))


def _timeout_in(model: Model, bug: str | None) -> bool:
    """With PreVote's terms tracked, a timeout is PreVote's unless the bug skips that phase."""
    return not model.tracked("earned") or bug == "no-prevote-disruption"


def _request_vote(c: Ctx, a: Sequence[Expr]) -> Step:
    i, j = a
    pre = c.pre
    last: tuple[Expr | int, ...] = (0, 0, 0, 0)
    if c.tracked("log"):  # the candidate's lastLogIndex and lastLogTerm
        last = (pre.fn("len")(i), logmodel.last_term(pre, i), 0, 0)
    request = pre.key(RV_REQ, i, j, pre.ct(i), log=last)
    return Step(
        z3.And(c.pre.role(i) == c.pre.roles.candidate, z3.Not(c.pre.vr(i, j))),
        {"msg": update_messages(c.pre, c.post, send=request)},
    )


def _become_leader(c: Ctx, a: Sequence[Expr]) -> Step:
    """Candidate i becomes leader once the votes granted to it contain a quorum (with the
    history tracked, the quorum `q` is a parameter: it is recorded)."""
    pre, post = c.pre, c.post
    i = a[0]
    if c.tracked("history"):
        q = a[1]
        has_quorum = within(pre.sorts, q, pre, i)
    else:
        has_quorum = holds_quorum(pre.sorts, pre, i)
    changes: Changes = {"role": set_at(pre, post, "role", i, pre.roles.leader)}
    if c.tracked("commit"):
        changes["mi"] = set_row(pre, post, "mi", i, lambda y: z3.IntVal(0))
    if c.tracked("quiet"):
        changes["acked"] = set_row(pre, post, "acked", i, lambda y: y == i)
        changes["quiet"] = set_at(pre, post, "quiet", i, z3.BoolVal(False))
    if c.tracked("lease"):
        now = pre.fn("clock")(i)
        lease = z3.If(self_quorum(c, i), _lease_start(c, i, now) + LEASE_TICKS, 0)
        changes["heard"] = set_at(pre, post, "heard", i, z3.BoolVal(True))
        changes["ra"] = set_at(pre, post, "ra", i, now)
        changes["rack"] = set_row(pre, post, "rack", i, lambda y: y == i)
        changes["lu"] = set_at(pre, post, "lu", i, _max(z3.IntVal(0), lease))
    ghosts: Changes = {}
    if c.tracked("history"):
        q, term = a[1], pre.ct(i)
        ghosts["elected"] = define(
            pre,
            post,
            "elected",
            lambda x, t: z3.Or(pre.fn("elected")(x, t), z3.And(x == i, t == term)),
        )
        ghosts["wq"] = define(pre, post, "wq", lambda t: z3.If(t == term, q, pre.fn("wq")(t)))
    return Step(z3.And(pre.role(i) == pre.roles.candidate, has_quorum), changes, ghosts)


def _leader_only(c: Ctx, a: Sequence[Expr]) -> Step:
    """ClientRequest / AdvanceCommitIndex: they touch only the log and commitIndex."""
    i = a[0]
    return Step(c.pre.role(i) == c.pre.roles.leader, {})


def _advance_commit(c: Ctx, a: Sequence[Expr]) -> Step:
    """Leader i advances its commitIndex to an index `k` of an entry of its term that a quorum
    `q` stores by i's matchIndex (i itself included), or leaves it (`commits` FALSE). The spec
    takes the largest such index; any is allowed here (more behaviour). With commit tracked the
    commit is recorded (history: committed, cq)."""
    if not c.tracked("commit"):
        return _leader_only(c, a)
    i, commits, k, q = a
    pre, post = c.pre, c.post
    n = z3.Const("cn", pre.sorts.node)
    stored = z3.ForAll(
        [n], z3.Implies(pre.sorts.member(n, q), z3.Or(n == i, pre.fn("mi")(i, n) >= k))
    )
    if c.bug == "commit-without-quorum":  # relation mutant: no quorum is consulted
        stored = z3.BoolVal(True)
    ok = z3.And(k >= 1, k <= pre.fn("len")(i), pre.fn("lterm")(i, k) == pre.ct(i), stored)
    term = pre.ct(i)

    def now(x: Expr, u: Expr) -> z3.BoolRef:
        return z3.And(commits, x == k, u == term)

    ghosts: Changes = {
        "committed": define(
            pre, post, "committed", lambda x, u: z3.Or(pre.fn("committed")(x, u), now(x, u))
        ),
        "cq": define(pre, post, "cq", lambda x, u: z3.If(now(x, u), q, pre.fn("cq")(x, u))),
    }
    return Step(
        z3.And(pre.role(i) == pre.roles.leader, z3.Implies(commits, ok)),
        {"ci": set_at(pre, post, "ci", i, z3.If(commits, k, pre.fn("ci")(i)))},
        ghosts,
    )


def _client_request(c: Ctx, a: Sequence[Expr]) -> Step:
    """Leader i appends an entry of its term with value v (logs tracked; else only a guard)."""
    if not c.tracked("log"):
        return _leader_only(c, a)
    i, value = a
    pre = c.pre
    log = logmodel.append(pre, i, pre.ct(i), value)
    if c.bug == "leader-overwrites":  # relation mutant: the new entry replaces the last one
        over = logmodel.overwrite_last(pre, i, pre.ct(i), value)
        log = logmodel.pick(pre.fn("len")(i) >= 1, over, log)
    ghosts: Changes = {}
    if c.tracked("commit"):  # the leader stores its new entry in its term (history: stored)
        end, term = pre.fn("len")(i) + 1, pre.ct(i)
        ghosts["stored"] = define(
            pre,
            c.post,
            "stored",
            lambda x, u, k: z3.Or(pre.fn("stored")(x, u, k), z3.And(x == i, u == term, k == end)),
        )
    return Step(pre.role(i) == pre.roles.leader, logmodel.changes(pre, c.post, i, log), ghosts)


def _append_entries(c: Ctx, a: Sequence[Expr]) -> Step:
    """Leader i sends j an AppendEntries request (with the lease, stamped with its round)."""
    i, j = a[:2]
    pre = c.pre
    stamp = pre.fn("ra")(i) if c.tracked("lease") else 0
    guard = z3.And(i != j, pre.role(i) == pre.roles.leader)
    if c.tracked("log"):  # prevLogIndex = nextIndex[i][j] - 1, any index of i's log
        prev = a[2]
        carries, payload = logmodel.append_request(pre, i, prev)
        index: Expr | int = 0
        if c.tracked("commit"):  # mcommitIndex = Min({commitIndex[i], lastEntry})
            last = prev + z3.If(carries, 1, 0)
            index = z3.If(pre.fn("ci")(i) <= last, pre.fn("ci")(i), last)
            if c.bug == "commit-index-unbounded":  # relation mutant: no Min with lastEntry
                index = pre.fn("ci")(i)
        request = pre.key(AE_REQ, i, j, pre.ct(i), carries, log=payload, index=index)
        guard = z3.And(guard, prev >= 0, prev <= pre.fn("len")(i))
    else:
        request = pre.key(AE_REQ, i, j, pre.ct(i), False, stamp)
    return Step(guard, {"msg": update_messages(pre, c.post, send=request)})


def _heartbeat_round(c: Ctx, a: Sequence[Expr]) -> Step:
    """Leader i begins a new heartbeat round at its clock (lease tracked)."""
    (i,) = a
    pre, post = c.pre, c.post
    now = pre.fn("clock")(i)
    lease = z3.If(
        self_quorum(c, i),
        _max(pre.fn("lu")(i), _lease_start(c, i, now) + LEASE_TICKS),
        pre.fn("lu")(i),
    )
    return Step(
        z3.And(pre.role(i) == pre.roles.leader, now > pre.fn("ra")(i)),
        {
            "ra": set_at(pre, post, "ra", i, now),
            "rack": set_row(pre, post, "rack", i, lambda y: y == i),
            "lu": set_at(pre, post, "lu", i, lease),
        },
    )


def _tick(c: Ctx, a: Sequence[Expr]) -> Step:
    """Server i's clock advances one tick, no more than the drift ahead of any other clock."""
    (i,) = a
    pre = c.pre
    clock = pre.fn("clock")
    (y,) = bound_vars(pre, ("node",), "ty")
    guard = z3.ForAll([y], clock(i) + 1 - clock(y) <= DRIFT)
    return Step(guard, {"clock": set_at(pre, c.post, "clock", i, clock(i) + 1)})


def _clock_only(c: Ctx, a: Sequence[Expr]) -> Step:
    """Lease bookkeeping (clocks, heartbeat rounds), untracked: nothing an election reads."""
    return Step(z3.BoolVal(True), {})


def _election_timer(c: Ctx, a: Sequence[Expr]) -> Step:
    """Server i's timer runs out: a follower forgets its leader (with a lease, no earlier than
    its deadline); a leader (CheckQuorum) ends a period and steps down (`stepsDown`, tracked
    with `quiet`: when it heard from no quorum) or stays."""
    i, steps_down = a
    pre, post = c.pre, c.post
    leader = pre.role(i) == pre.roles.leader
    if not (c.tracked("quiet") or c.tracked("lease")):
        down = z3.And(leader, steps_down)
        return Step(
            z3.BoolVal(True),
            {"role": set_at(pre, post, "role", i, z3.If(down, pre.roles.follower, pre.role(i)))},
        )
    expired = z3.BoolVal(True)
    if c.tracked("lease"):
        expired = z3.And(pre.fn("heard")(i), pre.fn("clock")(i) >= pre.fn("lu")(i))
    if c.tracked("quiet"):
        steps_down = z3.Not(holds_quorum(pre.sorts, pre, i, "acked"))
    keeps = c.bug == "no-check-quorum-zombie"
    down = z3.And(leader, steps_down, z3.BoolVal(not keeps))
    forgets = z3.Or(z3.Not(leader), down)  # lose_leader
    changes: Changes = {
        "role": set_at(pre, post, "role", i, z3.If(down, pre.roles.follower, pre.role(i)))
    }
    lost = _lose_leader(c, i, z3.BoolVal(False))
    for var, rule in lost.items():
        changes[var] = z3.If(forgets, rule, same(pre, post, var))
    if c.tracked("quiet"):
        changes["acked"] = z3.If(
            forgets, lost["acked"], set_row(pre, post, "acked", i, lambda y: y == i)
        )
        quiet = z3.Or(pre.fn("quiet")(i), z3.And(leader, steps_down))
        changes["quiet"] = set_at(pre, post, "quiet", i, quiet)
    leads = z3.BoolVal(c.model.has("check_quorum"))
    return Step(z3.If(leader, leads, expired), changes)


# ---- message handlers: i = recipient, j = sender ---------------------------------------------


def _msg_key(c: Ctx, a: Sequence[Expr]) -> tuple[Expr, ...]:
    """The message of a generic handler's parameters (mtype, i, j, t, flag[, stamp][, log]),
    as it sits in the relation: from j to i."""
    ty, i, j, t, g = a[:5]
    rest = list(a[5:])
    stamp = rest.pop(0) if c.tracked("lease") else 0
    log = rest[:4] if c.tracked("log") else (0, 0, 0, 0)
    index = rest[4] if c.tracked("commit") else 0
    return c.pre.key(ty, j, i, t, g, stamp, log, index)


def _term_changes(c: Ctx, i: Expr, term: Expr) -> Changes:
    """UpdateTerm's effect: i adopts `term` as a follower (bug: a leader stays leader) with no
    vote and, features on, no leader heard; a deposed leader adopting an unearned term is
    noted (PreVote's ghost)."""
    pre, post = c.pre, c.post
    keeps = z3.BoolVal(False)
    if c.bug == "leader-keeps-role":  # bug: a leader adopting a newer term stays leader
        keeps = pre.role(i) == pre.roles.leader
    changes = {
        "ct": set_at(pre, post, "ct", i, term),
        "role": set_at(pre, post, "role", i, z3.If(keeps, pre.roles.leader, pre.roles.follower)),
        "voted": set_at(pre, post, "voted", i, z3.BoolVal(False)),
        "vf": forget_at(pre, post, "vf", i),
        **_lose_leader(c, i, keeps),
    }
    if c.tracked("earned"):
        deposed = z3.And(pre.role(i) == pre.roles.leader, z3.Not(pre.fn("earned")(term)))
        changes["unearned"] = post.fn("unearned") == z3.Or(pre.fn("unearned"), deposed)
    return changes


def _keeps_promise(c: Ctx, i: Expr, ty: Expr) -> z3.BoolRef:
    """i, inside a live leader's lease, refuses a newer term from anything but an AppendEntries
    request (a vote request it drops; spec.features.restated.keeps_lease_promise)."""
    if not (c.tracked("lease") and c.model.sticky()):
        return z3.BoolVal(False)
    pre = c.pre
    refused = z3.Or(ty == RV_REQ, z3.And(ty != AE_REQ, pre.role(i) != pre.roles.leader))
    return z3.And(pre.fn("heard")(i), refused)


def _update_term(c: Ctx, a: Sequence[Expr]) -> Step:
    ty, i, _j, t = a[:4]
    guard = z3.And(c.pre.msg(*_msg_key(c, a)), t > c.pre.ct(i), z3.Not(_keeps_promise(c, i, ty)))
    return Step(guard, _term_changes(c, i, t))


def _handle_rv_request(c: Ctx, a: Sequence[Expr]) -> Step:
    i, j, t, log_ok = a[:4]
    pre, post = c.pre, c.post
    free = z3.Or(z3.Not(pre.voted(i)), pre.vf(i) == j)
    if c.bug == "vote-twice":  # bug: votedFor is not consulted
        free = z3.BoolVal(True)
    grant = z3.And(t == pre.ct(i), log_ok, free)
    request = pre.key(RV_REQ, j, i, t)
    exact_log_ok: z3.BoolRef = z3.BoolVal(True)
    if c.tracked("log"):  # the up-to-date check on the request's lastLogIndex and lastLogTerm
        last_index, last_term = a[4:6]
        request = pre.key(RV_REQ, j, i, t, log=(last_index, last_term, 0, 0))
        if c.bug == "no-log-check":  # bug: votes granted without the check
            exact_log_ok = log_ok
        elif c.bug == "vote-ignores-length":  # relation mutant: last terms compared, not lengths
            exact_log_ok = log_ok == (last_term >= logmodel.last_term(pre, i))
        else:
            exact_log_ok = log_ok == logmodel.up_to_date(pre, i, last_index, last_term)
    response = pre.key(RV_RESP, i, j, pre.ct(i), grant)
    ghosts: Changes = {}
    if c.tracked("history"):
        term = pre.ct(i)
        ghosts["votedIn"] = define(
            pre,
            post,
            "votedIn",
            lambda n, u, w: z3.Or(
                pre.fn("votedIn")(n, u, w), z3.And(grant, n == i, u == term, w == j)
            ),
        )
    return Step(
        z3.And(pre.msg(*request), t <= pre.ct(i), exact_log_ok),
        {
            "voted": set_at(pre, post, "voted", i, z3.Or(grant, pre.voted(i))),
            "vf": set_at(pre, post, "vf", i, z3.If(grant, j, pre.vf(i))),
            "msg": update_messages(pre, post, send=response, discard=request),
        },
        ghosts,
    )


def _handle_rv_response(c: Ctx, a: Sequence[Expr]) -> Step:
    i, j, t, g = a
    pre, post = c.pre, c.post
    term_ok = t <= pre.ct(i) if c.bug == "stale-votes-counted" else t == pre.ct(i)
    response = pre.key(RV_RESP, j, i, t, g)
    return Step(
        z3.And(pre.msg(*response), term_ok),
        {
            "vr": set_pair(pre, post, "vr", i, j, z3.BoolVal(True)),
            "vg": set_pair(pre, post, "vg", i, j, z3.Or(g, pre.vg(i, j))),
            "msg": update_messages(pre, post, discard=response),
        },
    )


def _handle_ae_request(c: Ctx, a: Sequence[Expr]) -> Step:
    """Reject (reply), return to follower (message kept), or accept: reply, or change only the
    log and keep the message (conflict / append). `log_ok` is free (logs are abstracted). With
    the lease, a follower of the sender's term hears its leader (deadline: clock + election
    timeout) and its reply carries the request's stamp and whether it succeeded."""
    i, j, t, log_ok, replied = a[:5]
    pre, post = c.pre, c.post
    R = pre.roles
    lease = c.tracked("lease")
    stamp = a[5] if lease else 0
    if c.tracked("log"):
        return _handle_ae_request_logged(c, a)
    follower = pre.role(i) == R.follower
    # A pre-candidate (PreVote) steps down like a candidate (spec.features.restated.Receive).
    candidate = z3.Or(*[pre.role(i) == r for r in (R.candidate, R.precandidate) if r is not None])
    reject = z3.Or(t < pre.ct(i), z3.And(t == pre.ct(i), follower, z3.Not(log_ok)))
    accept = z3.And(t == pre.ct(i), follower, log_ok)
    to_follower = z3.And(t == pre.ct(i), candidate)
    heard = z3.And(t == pre.ct(i), follower)
    request = pre.key(AE_REQ, j, i, t, False, stamp)
    response = pre.key(
        AE_RESP, i, j, pre.ct(i), accept if lease else False, z3.If(heard, stamp, 0) if lease else 0
    )
    reply = update_messages(pre, post, send=response, discard=request)
    changes: Changes = {
        "role": set_at(pre, post, "role", i, z3.If(to_follower, R.follower, pre.role(i))),
        "msg": z3.Or(
            z3.And(z3.Or(reject, z3.And(accept, replied)), reply),
            z3.And(z3.Or(to_follower, z3.And(accept, z3.Not(replied))), same(pre, post, "msg")),
        ),
    }
    if lease:
        deadline = pre.fn("clock")(i) + ELECTION_TICKS
        changes["heard"] = set_at(pre, post, "heard", i, z3.Or(heard, pre.fn("heard")(i)))
        changes["lu"] = set_at(pre, post, "lu", i, z3.If(heard, deadline, pre.fn("lu")(i)))
    return Step(z3.And(pre.msg(*request), t <= pre.ct(i)), changes)


def _handle_ae_request_logged(c: Ctx, a: Sequence[Expr]) -> Step:
    """HandleAppendEntriesRequest with the logs (no features): the consistency check on
    prevLogIndex and prevLogTerm (logOk) is computed, and an accepted request either is
    already done (reply success), or removes i's last entry on a conflict, or appends the
    entry (both keep the message)."""
    i, j, t, log_ok, replied, prev, prev_term, carries, term, value = a[:10]
    commit_index = a[10] if c.tracked("commit") else 0
    pre, post = c.pre, c.post
    R = pre.roles
    follower = pre.role(i) == R.follower
    exact = z3.Or(
        prev == 0,
        z3.And(logmodel.has_entry(pre, i, prev), prev_term == pre.fn("lterm")(i, prev)),
    )
    if c.bug == "append-skips-check":  # relation mutant: no prev-log consistency check
        exact = z3.BoolVal(True)
    reject = z3.Or(t < pre.ct(i), z3.And(t == pre.ct(i), follower, z3.Not(log_ok)))
    accept = z3.And(t == pre.ct(i), follower, log_ok)
    to_follower = z3.And(t == pre.ct(i), pre.role(i) == R.candidate)
    k = prev + 1
    length = pre.fn("len")(i)
    done = z3.Or(z3.Not(carries), z3.And(length >= k, pre.fn("lterm")(i, k) == term))
    conflict = z3.And(carries, length >= k, pre.fn("lterm")(i, k) != term)
    # A follower removes its entry at the request's index without comparing terms.
    truncates_match = c.bug == "append-truncates-match"  # relation mutant
    if truncates_match:
        conflict = z3.And(carries, length >= k)
    appends = z3.And(carries, length == prev)
    request = pre.key(
        AE_REQ, j, i, t, carries, log=(prev, prev_term, term, value), index=commit_index
    )
    match = prev + z3.If(carries, 1, 0)  # mmatchIndex of a success, 0 of a failure
    response = pre.key(AE_RESP, i, j, pre.ct(i), accept, index=z3.If(accept, match, 0))
    reply = update_messages(pre, post, send=response, discard=request)
    changes_log = z3.And(accept, z3.Not(replied))
    log = logmodel.pick(
        z3.And(changes_log, conflict),
        logmodel.truncate(pre, i),
        logmodel.pick(
            z3.And(changes_log, z3.Not(conflict)),
            logmodel.append(pre, i, term, value),
            logmodel.keep(pre, i),
        ),
    )
    branch = z3.And(
        log_ok == exact,
        z3.Implies(z3.And(accept, replied), done),
        z3.Implies(
            changes_log,
            z3.Or(conflict, z3.And(z3.Not(done), appends))
            if truncates_match
            else z3.And(z3.Not(done), z3.Or(conflict, appends)),
        ),
    )
    changes: Changes = {
        "role": set_at(pre, post, "role", i, z3.If(to_follower, R.follower, pre.role(i))),
        "msg": z3.Or(
            z3.And(z3.Or(reject, z3.And(accept, replied)), reply),
            z3.And(z3.Or(to_follower, changes_log), same(pre, post, "msg")),
        ),
        **logmodel.changes(pre, post, i, log),
    }
    ghosts: Changes = {}
    if c.tracked("commit"):  # already done: commitIndex from the request; the ack recorded
        acks = z3.And(accept, replied)
        changes["ci"] = set_at(pre, post, "ci", i, z3.If(acks, commit_index, pre.fn("ci")(i)))
        mine = pre.ct(i)
        ghosts["stored"] = define(
            pre,
            post,
            "stored",
            lambda x, u, k: z3.Or(
                pre.fn("stored")(x, u, k),
                z3.And(
                    acks,
                    x == i,
                    u == mine,
                    k >= 1,
                    k <= match,
                    pre.fn("lterm")(i, k) == mine,
                ),
            ),
        )
    return Step(z3.And(pre.msg(*request), t <= pre.ct(i), branch), changes, ghosts)


def _handle_ae_response(c: Ctx, a: Sequence[Expr]) -> Step:
    """Server i handles j's AppendEntries response of its current term; a leader notes j heard
    (CheckQuorum) and a successful ack of its current round (lease), which may grant the lease:
    until the round's send time + the lease length, once a quorum acked the round."""
    i, j, t = a[:3]
    pre, post = c.pre, c.post
    lease = c.tracked("lease")
    success, stamp = (a[3], a[4]) if lease else (z3.BoolVal(False), 0)
    if c.tracked("log"):
        success = a[3]
    match = a[4] if c.tracked("commit") else 0
    response = pre.key(AE_RESP, j, i, t, success, stamp, index=match)
    changes: Changes = {"msg": update_messages(pre, post, discard=response)}
    if c.tracked("commit"):  # matchIndex[i][j] from a success
        changes["mi"] = set_pair(pre, post, "mi", i, j, z3.If(success, match, pre.fn("mi")(i, j)))
    leader = pre.role(i) == pre.roles.leader
    if c.tracked("quiet"):
        changes["acked"] = set_pair(pre, post, "acked", i, j, z3.Or(leader, pre.fn("acked")(i, j)))
    if lease:
        counts = z3.And(leader, success, stamp == pre.fn("ra")(i))
        rack = pre.fn("rack")
        q = z3.Const("aq", pre.sorts.quorum)
        n = z3.Const("an", pre.sorts.node)
        quorum = z3.Exists(
            [q], z3.ForAll([n], z3.Implies(pre.sorts.member(n, q), z3.Or(rack(i, n), n == j)))
        )
        start = _lease_start(c, i, pre.fn("ra")(i))
        gained = _max(pre.fn("lu")(i), start + LEASE_TICKS)
        changes["rack"] = set_pair(pre, post, "rack", i, j, z3.Or(counts, rack(i, j)))
        lu = z3.If(z3.And(counts, quorum), gained, pre.fn("lu")(i))
        changes["lu"] = set_at(pre, post, "lu", i, lu)
    return Step(z3.And(pre.msg(*response), t == pre.ct(i)), changes)


def _drop_stale(c: Ctx, a: Sequence[Expr]) -> Step:
    ty, i, _j, t = a[:4]
    response = z3.Or(ty == RV_RESP, ty == AE_RESP)
    if c.bug == "stale-votes-counted":  # bug: stale vote responses are tallied, not dropped
        response = ty == AE_RESP
    key = _msg_key(c, a)
    return Step(
        z3.And(c.pre.msg(*key), response, t < c.pre.ct(i)),
        {"msg": update_messages(c.pre, c.post, discard=key)},
    )


def _duplicate(c: Ctx, a: Sequence[Expr]) -> Step:
    return Step(c.pre.msg(*_msg_key(c, a)), {})  # one more copy: presence unchanged


def _drop(c: Ctx, a: Sequence[Expr]) -> Step:
    key = _msg_key(c, a)
    return Step(c.pre.msg(*key), {"msg": update_messages(c.pre, c.post, discard=key)})


def _ignore_vote_request(c: Ctx, a: Sequence[Expr]) -> Step:
    """Inside a live leader's lease a vote request of a newer term is dropped unanswered."""
    i, j, t = a
    pre = c.pre
    request = pre.key(RV_REQ, j, i, t)
    inside = pre.fn("heard")(i) if c.tracked("lease") else z3.BoolVal(True)
    return Step(
        z3.And(pre.msg(*request), t > pre.ct(i), inside),
        {"msg": update_messages(pre, c.post, discard=request)},
    )


# ---- PreVote ---------------------------------------------------------------------------------


def _precandidate(v: Vocab) -> Expr:
    if v.roles.precandidate is None:
        raise ValueError("a PreVote action needs a model with the prevote feature")
    return v.roles.precandidate


def _pm(v: Vocab) -> Callable[..., z3.BoolRef]:
    if v.pmsg is None:
        raise ValueError("a PreVote action needs a model with the prevote feature")
    return v.pmsg  # type: ignore[no-any-return]


def _prevote_timeout(c: Ctx, a: Sequence[Expr]) -> Step:
    """Timeout with PreVote: become pre-candidate in the same term, vote kept."""
    (i,) = a
    pre, post = c.pre, c.post
    changes = {
        "role": set_at(pre, post, "role", i, _precandidate(pre)),
        "vr": clear_row(pre, post, "vr", i),
        "vg": clear_row(pre, post, "vg", i),
    }
    if c.bug == "prevote-bumps-term":  # bug: the pre-candidate bumps its term (vote reset)
        changes["ct"] = set_at(pre, post, "ct", i, pre.ct(i) + 1)
        changes["voted"] = set_at(pre, post, "voted", i, z3.BoolVal(False))
        changes["vf"] = forget_at(pre, post, "vf", i)
    return Step(z3.And(pre.role(i) != pre.roles.leader, _unheard(c, i)), changes)


def _start_election_step(c: Ctx, a: Sequence[Expr]) -> Step:
    """A pre-candidate granted a pre-vote quorum (free here) runs the real election; the new
    term is earned."""
    (i,) = a
    pre, post = c.pre, c.post
    changes = _start_election(c, i, pre.ct(i) + 1)
    if c.tracked("earned"):
        new = pre.ct(i) + 1
        (u,) = bound_vars(pre, ("int",), "et")
        earned = post.fn("earned")(u) == z3.Or(pre.fn("earned")(u), u == new)
        changes["earned"] = z3.ForAll([u], earned)
    return Step(pre.role(i) == _precandidate(pre), changes)


def _request_prevote(c: Ctx, a: Sequence[Expr]) -> Step:
    i, j = a
    pre = c.pre
    request = (RV_REQ, i, j, pre.ct(i) + 1, z3.BoolVal(False))
    return Step(
        pre.role(i) == _precandidate(pre),
        {"pmsg": update_messages(pre, c.post, send=request, var="pmsg")},
    )


def _handle_prevote_request(c: Ctx, a: Sequence[Expr]) -> Step:
    """Answer from the current state, which does not change; whether to grant is free."""
    i, j, t, grant = a
    pre = c.pre
    false = z3.BoolVal(False)
    response = (RV_RESP, i, j, z3.If(grant, t, pre.ct(i)), grant)
    return Step(
        _pm(pre)(RV_REQ, j, i, t, false),
        {"pmsg": update_messages(pre, c.post, response, (RV_REQ, j, i, t, false), "pmsg")},
    )


def _prevote_update_term(c: Ctx, a: Sequence[Expr]) -> Step:
    """A pre-vote refusal of a newer term: adopt it (UpdateTerm; the message stays)."""
    i, j, t = a
    guard = z3.And(
        _pm(c.pre)(RV_RESP, j, i, t, z3.BoolVal(False)),
        t > c.pre.ct(i),
        z3.Not(_keeps_promise(c, i, RV_RESP)),
    )
    return Step(guard, _term_changes(c, i, t))


def _discard_prevote(c: Ctx, a: Sequence[Expr]) -> Step:
    """Tally, ignore or drop a pre-vote message: prevotesGranted is not modelled (free)."""
    ty, i, j, t, g = a
    key = (ty, j, i, t, g)
    return Step(_pm(c.pre)(*key), {"pmsg": update_messages(c.pre, c.post, discard=key, var="pmsg")})


def _duplicate_prevote(c: Ctx, a: Sequence[Expr]) -> Step:
    ty, i, j, t, g = a
    return Step(_pm(c.pre)(ty, j, i, t, g), {})


# ---- the table -------------------------------------------------------------------------------

_MSG: Params = (("mtype", "mtype"), ("i", "node"), ("j", "node"), ("t", "int"), ("granted", "bool"))
_PAYLOAD: Params = tuple((name, "int") for name in ("la", "lb", "lc", "ld"))
_STAMP: tuple[tuple[str, Params], ...] = (
    ("lease", (("stamp", "int"),)),
    ("log", _PAYLOAD),
    ("commit", (("le", "int"),)),
)


def _with(feature: str) -> Callable[[Model, str | None], bool]:
    return lambda m, bug: m.has(feature)


def _lease_tracked(yes: bool) -> Callable[[Model, str | None], bool]:
    return lambda m, bug: m.has("lease") and m.tracked("lease") == yes


ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("Restart", (("i", "node"),), _restart),
    ActionDef("Timeout", (("i", "node"),), _timeout, _timeout_in),
    ActionDef("RequestVote", (("i", "node"), ("j", "node")), _request_vote),
    ActionDef(
        "BecomeLeader", (("i", "node"),), _become_leader, more=(("history", (("q", "quorum"),)),)
    ),
    ActionDef("ClientRequest", (("i", "node"),), _client_request, more=(("log", (("v", "int"),)),)),
    ActionDef(
        "AdvanceCommitIndex",
        (("i", "node"),),
        _advance_commit,
        more=(("commit", (("commits", "bool"), ("k", "int"), ("q", "quorum"))),),
    ),
    ActionDef(
        "AppendEntries",
        (("i", "node"), ("j", "node")),
        _append_entries,
        more=(("log", (("prev", "int"),)),),
    ),
    ActionDef("UpdateTerm", _MSG, _update_term, more=_STAMP),
    ActionDef(
        "HandleRequestVoteRequest",
        (("i", "node"), ("j", "node"), ("t", "int"), ("logOk", "bool")),
        _handle_rv_request,
        more=(("log", (("lastIndex", "int"), ("lastTerm", "int"))),),
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
        more=(
            ("lease", (("stamp", "int"),)),
            ("log", (("prev", "int"), ("prevTerm", "int"), ("carries", "bool"))),
            ("log", (("term", "int"), ("value", "int"))),
            ("commit", (("commitIndex", "int"),)),
        ),
    ),
    ActionDef(
        "HandleAppendEntriesResponse",
        (("i", "node"), ("j", "node"), ("t", "int")),
        _handle_ae_response,
        more=(
            ("lease", (("success", "bool"), ("stamp", "int"))),
            ("log", (("success", "bool"),)),
            ("commit", (("matchIndex", "int"),)),
        ),
    ),
    ActionDef("DropStaleResponse", _MSG, _drop_stale, more=_STAMP),
    ActionDef("DuplicateMessage", _MSG, _duplicate, more=_STAMP),
    ActionDef("DropMessage", _MSG, _drop, more=_STAMP),
    # The features' own steps (spec/RaftElectionFeatures.tla).
    ActionDef("PreVoteTimeout", (("i", "node"),), _prevote_timeout, _with("prevote")),
    ActionDef("StartElection", (("i", "node"),), _start_election_step, _with("prevote")),
    ActionDef("RequestPreVote", (("i", "node"), ("j", "node")), _request_prevote, _with("prevote")),
    ActionDef(
        "HandlePreVoteRequest",
        (("i", "node"), ("j", "node"), ("t", "int"), ("grant", "bool")),
        _handle_prevote_request,
        _with("prevote"),
    ),
    ActionDef(
        "PreVoteUpdateTerm",
        (("i", "node"), ("j", "node"), ("t", "int")),
        _prevote_update_term,
        _with("prevote"),
    ),
    ActionDef("DiscardPreVoteMessage", _MSG, _discard_prevote, _with("prevote")),
    ActionDef("DuplicatePreVoteMessage", _MSG, _duplicate_prevote, _with("prevote")),
    ActionDef(
        "IgnoreVoteRequestInLease",
        (("i", "node"), ("j", "node"), ("t", "int")),
        _ignore_vote_request,
        lambda m, bug: m.sticky(),
    ),
    ActionDef(
        "ElectionTimer",
        (("i", "node"), ("stepsDown", "bool")),
        _election_timer,
        lambda m, bug: bool(m.features),
    ),
    ActionDef("ClockStep", (("i", "node"),), _clock_only, _lease_tracked(False)),
    ActionDef("HeartbeatRound", (("i", "node"),), _heartbeat_round, _lease_tracked(True)),
    ActionDef("Tick", (("i", "node"),), _tick, _lease_tracked(True)),
)
ACTION_BY_NAME: Final = {a.name: a for a in ACTIONS}
CANONICAL_NAMES: Final = tuple(a.name for a in ACTIONS[:15])


def actions_for(model: Model = CANONICAL, bug: str | None = None) -> tuple[ActionDef, ...]:
    """The model's actions, in table order."""
    return tuple(a for a in ACTIONS if a.when(model, bug))


def fresh_params(action: ActionDef, model: Model, v: Vocab) -> list[Expr]:
    """Symbolic parameters (Skolem constants of the action's \\E)."""
    made: list[Expr] = []
    for name, kind in action.params_for(model):
        label = f"{action.name}.{name}"
        made.append(z3.Const(label, MTypeSort if kind == "mtype" else v.sort(kind)))
    return made


def init(v: Vocab) -> z3.BoolRef:
    """raft.tla Init: everyone a follower in term 1, no votes, no messages; the features'
    bookkeeping empty, every clock equal; no history."""
    (x, y) = bound_vars(v, ("node", "node"))
    parts = [
        z3.ForAll([x], z3.And(v.ct(x) == 1, v.role(x) == v.roles.follower, z3.Not(v.voted(x)))),
        z3.ForAll([x, y], z3.And(z3.Not(v.vr(x, y)), z3.Not(v.vg(x, y)))),
    ]
    for name in ("msg", "pmsg"):
        if v.has(name):
            m = msg_vars(v, name)
            parts.append(z3.ForAll(m, z3.Not(v.fn(name)(*m))))
    t = z3.Int("it")
    if v.has("len"):
        parts.append(logmodel.init(v))
    if v.has("ci"):
        k = z3.Int("ik")
        parts.append(z3.ForAll([x], v.fn("ci")(x) == 0))
        parts.append(z3.ForAll([x, y], v.fn("mi")(x, y) == 0))
        parts.append(z3.ForAll([x, t, k], z3.Not(v.fn("stored")(x, t, k))))
        parts.append(z3.ForAll([k, t], z3.Not(v.fn("committed")(k, t))))
    if v.has("elected"):
        c = z3.Const("ic", v.sorts.node)
        parts.append(z3.ForAll([x, t], z3.Not(v.fn("elected")(x, t))))
        parts.append(z3.ForAll([x, t, c], z3.Not(v.fn("votedIn")(x, t, c))))
    if v.has("earned"):
        parts.append(z3.ForAll([t], z3.Not(v.fn("earned")(t))))
        parts.append(z3.Not(v.fn("unearned")))
    if v.has("quiet"):
        parts.append(z3.ForAll([x, y], z3.Not(v.fn("acked")(x, y))))
        parts.append(z3.ForAll([x], z3.Not(v.fn("quiet")(x))))
    if v.has("clock"):
        clock = v.fn("clock")
        parts.append(z3.ForAll([x, y], z3.And(clock(x) == clock(y), clock(x) >= 0)))
        parts.append(z3.ForAll([x], z3.And(z3.Not(v.fn("heard")(x)), v.fn("lu")(x) == 0)))
        parts.append(z3.ForAll([x], v.fn("ra")(x) == 0))
        parts.append(z3.ForAll([x, y], z3.Not(v.fn("rack")(x, y))))
    return z3.And(*parts)


__all__ = [
    "ACTIONS",
    "ACTION_BY_NAME",
    "AE_REQ",
    "AE_RESP",
    "DRIFT",
    "ELECTION_TICKS",
    "LEASE_TICKS",
    "MTYPES",
    "RV_REQ",
    "RV_RESP",
    "ActionDef",
    "Ctx",
    "Step",
    "actions_for",
    "components",
    "fresh_params",
    "init",
    "relation",
]
