"""The allowed compositions of spec actions per implementation step (docs/conformance.md).

One implementation step (a timer firing, a message handled to quiescence, a restart) is a *core*
of spec actions that the step itself fixes (``Timeout(i)``; ``Receive(m)`` until one copy of m
has left the bag; ``Restart(i)``...), followed by the actions raft.tla lets happen at any time,
chosen to match what the implementation reported (the *completion*):

- sends: ``RequestVote(i, j)``, ``RequestPreVote(i, j)`` and ``AppendEntries(i, j)`` for each
  message the implementation emitted beyond the core's replies (with ``ClientRequest`` or
  ``AdvanceCommitIndex`` first when an AppendEntries carries a new entry or commit index), or
  ``BareHeartbeat(i, j)`` (option bare_heartbeats) for a heartbeat with no log position;
- promotions: the self-vote, ``StartElection`` and ``BecomeLeader`` of the nodes the
  implementation reports as having voted for themselves, as candidate, as leader;
- omissions: ``DropMessage`` of each message the core sent that the implementation did not emit
  (raft.tla's network may lose any message, so a message never sent is one lost);
- abandon (option ``abandon_lost_election``): a (pre-)candidate that gave up, shown as follower
  (it is never promoted until its role or term changes: as raft.tla lets BecomeLeader wait).

A step has several cores in order of preference; for a delivery: the whole Receive chain, each
shorter prefix of it then ``DropMessage(m)``, ``DropMessage(m)`` alone (an implementation may
ignore a message). The harness takes the first composition the implementation matches. Without
an observation (the spec adapter deciding for itself) the completion is *eager*: a new candidate
votes for itself and asks everyone, a quorum makes a leader at once, a new leader and a
heartbeat timer send AppendEntries to every peer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from electorate.conformance.model import Model, drop_message, duplicate_message
from electorate.conformance.observe import NodeView
from electorate.conformance.script import Step
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action
from electorate.spec.state import NIL, Role, State

MAX_RECEIVES = 12  # UpdateTerm, back to follower, one entry removed per conflict, append, reply
ADAPTER_STEPS = frozenset({"timeout", "heartbeat", "period", "deliver", "restart", "transfer"})


@dataclass(frozen=True)
class Aux:
    """Auxiliary variables of the mapping (never observed, computed from the spec trace)."""

    abandon: bool = False  # the adapter declared abandon_lost_election
    abandoned: frozenset[int] = frozenset()  # nodes whose (pre-)candidacy is abandoned
    transfers: frozenset[tuple[int, int]] = frozenset()  # deferred transfers (leader, target)


@dataclass(frozen=True)
class Observation:
    """What the implementation reported after a step: live nodes' views, emitted messages."""

    views: Mapping[int, NodeView]
    emitted: Counter[Message]


@dataclass(frozen=True)
class Composite:
    """A step's successor spec state, the spec actions that produced it (in order), the
    auxiliary variables, and what the completion could not explain."""

    state: State
    actions: tuple[Action, ...]
    aux: Aux
    core: str = "full"  # "full", "prefix" (part of the Receive chain, then dropped), "drop"
    unexplained: tuple[Message, ...] = ()  # emitted messages no spec action sends here
    omitted: int = 0  # messages the step sent in the spec that the implementation did not


@dataclass
class _Draft:
    """A composition being built: the state so far and the actions taken."""

    state: State
    acts: list[Action] = field(default_factory=list)

    def take(self, name: str, args: tuple[int | Message, ...], t: State | None) -> bool:
        if t is None:
            return False
        self.state = t
        self.acts.append(Action(name, args))
        return True


# ---------------------------------------------------------------------- cores


@dataclass(frozen=True)
class Core:
    """The step-fixed part of a composition, before completion."""

    state: State
    actions: tuple[Action, ...]
    kind: str = "full"
    consumed: Message | None = None  # the delivered message (not counted as sent)
    leader_sends_first: int = -1  # a leader's period: its heartbeats precede ElectionTimer


def cores(mdl: Model, s: State, step: Step) -> list[Core]:
    """The step's cores in order of preference; [] when the step is not enabled in the spec."""
    op = step.op
    if op in ("timeout", "transfer"):
        i = step.peer if op == "transfer" else step.node
        c = _timeout_core(mdl, s, i)
        if c is None:
            return []
        # a transfer may wait (etcd first brings the target's log up to date, as the thesis
        # §3.10 says): nothing now, the target's election at a later step (Aux.transfers)
        return [c, Core(s, (), "deferred")] if op == "transfer" else [c]
    if op == "heartbeat":
        return [Core(s, ())] if s.role[step.node] == Role.Leader else []
    if op == "deliver":
        assert step.msg is not None
        return list(_deliver_cores(mdl, s, step.msg))
    if op == "restart":
        t = mdl.restart(mdl.p, s, step.node)
        return [Core(s if t is None else t, (Action("Restart", (step.node,)),))]
    if op == "period":
        return _period_cores(mdl, s, step.node)
    if op == "drop":
        assert step.msg is not None
        return [Core(drop_message(mdl.p, s, step.msg), (Action("DropMessage", (step.msg,)),))]
    if op == "duplicate":
        assert step.msg is not None
        t = duplicate_message(mdl.p, s, step.msg)
        return [Core(t, (Action("DuplicateMessage", (step.msg,)),))]
    return [Core(s, ())]  # crash, partition, heal: no spec action


def _timeout_core(mdl: Model, s: State, i: int) -> Core | None:
    """Timeout(i); a pre-candidate's own pre-vote (request, answer) at once: implementations
    count themselves and the observation cannot show it."""
    d = _Draft(s)
    if not d.take("Timeout", (i,), mdl.timeout(mdl.p, s, i)):
        return None
    if d.state.role[i] == Role.PreCandidate and mdl.request_prevote is not None:
        d.take("RequestPreVote", (i, i), mdl.request_prevote(mdl.p, d.state, i, i))
        _drain_self(mdl, d, i)
    return Core(d.state, tuple(d.acts))


def _deliver_cores(mdl: Model, s: State, m: Message) -> Iterator[Core]:
    """Receive(m) until one copy of m has left the bag; then each shorter prefix followed by
    DropMessage(m); the first is the whole handling, the last ignores m altogether."""
    before = _count(s, m)
    if not before:
        return
    chain: list[tuple[State, Action]] = []
    t = s
    for _ in range(MAX_RECEIVES):
        r = mdl.receive(mdl.p, t, m)
        if r is None:
            break
        t = r[1]
        chain.append((t, Action("Receive", (m,), r[0])))
        if _count(t, m) < before:
            yield Core(t, tuple(a for _, a in chain), "full", m)
            break
    for k in range(len(chain) - 1, -1, -1):
        at = chain[k - 1][0] if k else s
        acts = tuple(a for _, a in chain[:k])
        drop = Action("DropMessage", (m,))
        yield Core(drop_message(mdl.p, at, m), (*acts, drop), "prefix" if k else "drop", m)


def _period_cores(mdl: Model, s: State, i: int) -> list[Core]:
    """An election period elapses at i. A leader: its heartbeats of the period (from the
    observation), then ElectionTimer(i). Anyone else: ElectionTimer(i) if it knows a leader,
    else nothing; then, or not, its randomized election timer runs out too (Timeout)."""
    timer = mdl.election_timer
    if timer is None:
        return []
    fired = timer(mdl.p, s, i)
    if s.role[i] == Role.Leader:
        return [] if fired is None else [Core(s, (), leader_sends_first=i)]
    base = (
        Core(s, ()) if fired is None else Core(fired[1], (Action("ElectionTimer", (i,), fired[0]),))
    )
    out = [base]
    more = _timeout_core(mdl, base.state, i)
    if more is not None:
        out.append(Core(more.state, base.actions + more.actions))
    return out


# ---------------------------------------------------------------------- completion


def complete(
    mdl: Model, s: State, aux: Aux, step: Step, core: Core, obs: Observation | None
) -> Composite:
    """The core completed by the spec actions that match ``obs`` (or eagerly, without it)."""
    d = _Draft(core.state, list(core.actions))
    sent = _sent(s, core.state, core.consumed)
    want = Counter(sent) if obs is None else Counter(obs.emitted)
    extra = want - sent
    missing = sent - want
    if core.leader_sends_first >= 0:
        i = core.leader_sends_first
        extra = _explain(mdl, d, extra, MType.AppendEntriesRequest, only=i)
        fired = mdl.election_timer(mdl.p, d.state, i) if mdl.election_timer else None
        if fired is not None:
            d.state = fired[1]
            d.acts.append(Action("ElectionTimer", (i,), fired[0]))
    if obs is None:
        extra = _eager(mdl, s, d, step)
    else:
        extra = _guided(mdl, d, obs, extra, aux.abandoned, aux.transfers)
    omitted = 0
    for m, k in sorted(missing.items()):
        for _ in range(k):
            d.take("DropMessage", (m,), drop_message(mdl.p, d.state, m))
            omitted += 1
    new_aux = _aux_after(s, d.state, aux, obs, tuple(d.acts))
    if core.kind == "deferred":
        new_aux = replace(new_aux, transfers=new_aux.transfers | {(step.node, step.peer)})
    unexplained = tuple(m for m, k in sorted(extra.items()) for _ in range(k))
    return Composite(d.state, tuple(d.acts), new_aux, core.kind, unexplained, omitted)


def compositions(
    mdl: Model, s: State, aux: Aux, step: Step, obs: Observation | None
) -> Iterator[Composite]:
    """Every allowed composition of the step, in order of preference."""
    for core in cores(mdl, s, step):
        yield complete(mdl, s, aux, step, core, obs)


def _guided(
    mdl: Model,
    d: _Draft,
    obs: Observation,
    extra: Counter[Message],
    abandoned: frozenset[int],
    transfers: frozenset[tuple[int, int]] = frozenset(),
) -> Counter[Message]:
    """Promotions and sends that match the observation; returns the emitted messages left
    unexplained. An abandoned candidacy is never promoted (until its role or term changes)."""
    views = obs.views
    for _, j in sorted(transfers):  # a deferred transfer's target starts its election
        if j in views and views[j].term > d.state.current_term[j] and views[j].role != "follower":
            core = _timeout_core(mdl, d.state, j)
            if core is not None:
                d.state, d.acts = core.state, d.acts + list(core.actions)
    extra = _explain(mdl, d, extra, MType.RequestVoteRequest, pre_vote=True)
    start = mdl.start_election
    for i in sorted(views):  # a pre-candidate reported in a newer term started its election
        newer = views[i].term > d.state.current_term[i]
        if start and newer and d.state.role[i] == Role.PreCandidate:
            d.take("StartElection", (i,), start(mdl.p, d.state, i))
    for i in sorted(views):
        if views[i].voted_for == i:
            _self_vote(mdl, d, i)
    extra = _explain(mdl, d, extra, MType.RequestVoteRequest, pre_vote=False)
    for i in sorted(views):
        if views[i].role == "leader" and d.state.role[i] == Role.Candidate and i not in abandoned:
            d.take("BecomeLeader", (i,), mdl.become_leader(mdl.p, d.state, i))
    return _explain(mdl, d, extra, MType.AppendEntriesRequest)


def _eager(mdl: Model, s: State, d: _Draft, step: Step) -> Counter[Message]:
    """The spec adapter's own choices: every send and promotion the step enables (none for
    the harness's network steps: a drop, a duplicate, a partition)."""
    if step.op not in ADAPTER_STEPS:
        return Counter()
    n = mdl.p.servers
    nodes = (
        [step.msg.mdest] if step.msg is not None else [step.peer if step.peer >= 0 else step.node]
    )
    for i in (x for x in nodes if x >= 0):
        if d.state.role[i] == Role.PreCandidate and (step.op in ("timeout", "period")):
            for j in range(n):
                if j != i and mdl.request_prevote is not None:
                    d.take("RequestPreVote", (i, j), mdl.request_prevote(mdl.p, d.state, i, j))
        if d.state.role[i] == Role.PreCandidate and mdl.start_election is not None:
            d.take("StartElection", (i,), mdl.start_election(mdl.p, d.state, i))
        fresh = d.state.role[i] == Role.Candidate and (
            s.role[i] != Role.Candidate or s.current_term[i] != d.state.current_term[i]
        )
        if fresh:
            _self_vote(mdl, d, i)
            for j in range(n):
                if j != i:
                    d.take("RequestVote", (i, j), mdl.request_vote(mdl.p, d.state, i, j))
        if (
            d.state.role[i] == Role.Candidate
            and d.take("BecomeLeader", (i,), mdl.become_leader(mdl.p, d.state, i))
        ) or step.op == "heartbeat":
            _broadcast(mdl, d, i)
    return Counter()


def _self_vote(mdl: Model, d: _Draft, i: int) -> None:
    """Candidate i votes for itself: RequestVote(i, i), then i receives it and the answer."""
    if d.state.role[i] != Role.Candidate or d.state.voted_for[i] != NIL:
        return
    if d.take("RequestVote", (i, i), mdl.request_vote(mdl.p, d.state, i, i)):
        _drain_self(mdl, d, i)


def _drain_self(mdl: Model, d: _Draft, i: int) -> None:
    """Receive every message i sent itself (its own (pre-)vote request, then the answer)."""
    for _ in range(2 * MAX_RECEIVES):
        mine = [m for m, _ in d.state.messages if m.msource == i and m.mdest == i]
        if not mine:
            return
        r = mdl.receive(mdl.p, d.state, mine[0])
        if r is None:
            return
        d.state = r[1]
        d.acts.append(Action("Receive", (mine[0],), r[0]))


def _broadcast(mdl: Model, d: _Draft, i: int) -> None:
    for j in range(mdl.p.servers):
        if j != i:
            d.take("AppendEntries", (i, j), mdl.append_entries(mdl.p, d.state, i, j))


def _explain(
    mdl: Model,
    d: _Draft,
    extra: Counter[Message],
    kind: MType,
    pre_vote: bool | None = None,
    only: int = -1,
) -> Counter[Message]:
    """Take the send action that produces each emitted message of ``kind``; what no enabled
    send produces stays in the returned counter."""
    left = Counter(extra)
    for m in sorted(m for m in extra if m.mtype == kind):
        if (pre_vote is not None and m.mpre_vote != pre_vote) or (only >= 0 and m.msource != only):
            continue
        for _ in range(extra[m]):
            if not _send(mdl, d, m):
                break
            left[m] -= 1
    return +left


def _send(mdl: Model, d: _Draft, m: Message) -> bool:
    """The send action producing exactly ``m`` from the current state (a leader first appends
    the entry or advances the commit index the message carries), if there is one."""
    i, j = m.msource, m.mdest
    if m.mtype == MType.RequestVoteRequest:
        fn = mdl.request_prevote if m.mpre_vote else mdl.request_vote
        name = "RequestPreVote" if m.mpre_vote else "RequestVote"
        return fn is not None and _sends(d, name, (i, j), fn(mdl.p, d.state, i, j), m)
    if m.mtype != MType.AppendEntriesRequest or d.state.role[i] != Role.Leader:
        return False
    trial = _Draft(d.state, [])
    new = len(trial.state.log[i]) == m.mprev_log_index and m.mentries
    if new and m.mentries[0].term == trial.state.current_term[i]:
        value = m.mentries[0].value
        trial.take("ClientRequest", (i, value), mdl.client_request(mdl.p, trial.state, i, value))
    if m.mcommit_index > trial.state.commit_index[i]:
        trial.take("AdvanceCommitIndex", (i,), mdl.advance_commit_index(mdl.p, trial.state, i))
    t = mdl.append_entries(mdl.p, trial.state, i, j)
    if not _sends(trial, "AppendEntries", (i, j), t, m):
        bare = mdl.bare_heartbeat
        return bare is not None and _sends(
            d, "BareHeartbeat", (i, j), bare(mdl.p, d.state, i, j), m
        )
    d.state = trial.state
    d.acts += trial.acts
    return True


def _sends(d: _Draft, name: str, args: tuple[int, int], t: State | None, m: Message) -> bool:
    if t is None or Counter(dict(t.messages))[m] <= Counter(dict(d.state.messages))[m]:
        return False
    return d.take(name, args, t)


# ---------------------------------------------------------------------- auxiliary variables


def _aux_after(
    s: State, t: State, aux: Aux, obs: Observation | None, acts: tuple[Action, ...]
) -> Aux:
    """The auxiliary variables after a step: the deferred transfers, whose candidacy is
    abandoned (until its role or term changes, or it times out again)."""
    out = aux
    if aux.transfers:  # pending while the leader leads the same term and the target waits
        pending = {
            (i, j)
            for i, j in aux.transfers
            if t.role[i] == Role.Leader
            and t.current_term[i] == s.current_term[i]
            and t.current_term[j] == s.current_term[j]
        }
        out = replace(out, transfers=frozenset(pending))
    if not aux.abandon:
        return out
    restarted = {a.args[0] for a in acts if a.name == "Timeout"}  # a new (pre-)candidacy
    kept = {
        i
        for i in aux.abandoned
        if t.role[i] == s.role[i] and t.current_term[i] == s.current_term[i] and i not in restarted
    }
    if obs is not None:  # a (pre-)candidate reported as follower gave up its candidacy
        for i, v in obs.views.items():
            if v.role == "follower" and t.role[i] in (Role.Candidate, Role.PreCandidate):
                kept.add(i)
    return replace(out, abandoned=frozenset(kept))


# ---------------------------------------------------------------------- helpers


def _count(s: State, m: Message) -> int:
    return next((n for x, n in s.messages if x == m), 0)


def _sent(before: State, after: State, consumed: Message | None) -> Counter[Message]:
    """The messages a core added to the bag (the delivered message aside)."""
    base = Counter(dict(before.messages))
    if consumed is not None:
        base[consumed] -= 1
    return Counter(dict(after.messages)) - base
