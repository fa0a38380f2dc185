"""The spec actions that may explain one step of one node: the refinement mapping.

A step of an implementation (a message handled to quiescence, a timer, a restart) is a short
sequence of spec actions of that node: a *core* its input fixes, then the actions its outputs
call for (the *completion*), in this order:

- core: ``Restart(i)`` for a restart; ``Receive(m)`` until one copy of m has left the bag for a
  receive (UpdateTerm keeps m, as raft.tla does); nothing for a timer or a start;
- A, a pre-vote round: ``Timeout(i)`` (``ElectionTimer(i)`` first if i heard a leader), i's
  own pre-vote (``RequestPreVote(i, i)`` and its answer), ``RequestPreVote(i, j)`` per request
  sent;
- B, an election: ``StartElection(i)`` (PreVote) or ``Timeout(i)``, i's self-vote
  (``RequestVote(i, i)`` and its answer), ``RequestVote(i, j)`` per request sent;
- C, ``BecomeLeader(i)`` when the trace shows i leader, ``AppendEntries(i, j)`` per heartbeat;
- D, a step down in the same term: a leader's CheckQuorum period ending without a quorum
  (``ElectionTimer(i)``, at most twice), or else ``Restart(i)``: an implementation that gives
  up (an election lost, a lease run out, a resignation) keeps only its durable state, which is
  exactly what a restart keeps.

Inferred steps, in order of preference: a state keeps the successors of the first *tier* that
explains the step: 0, none; 1, ``ElectionTimer(i)`` before a receive (i's untimed timer ran
out); 2, losses: the message dropped unread or after part of its handling, a reply lost. A
receive of a message no longer in flight was duplicated (``DuplicateMessage``).

Each failed composition says which conjunct failed, in the spec's words and values.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from electorate.spec import actions
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action
from electorate.spec.state import Role, State
from electorate.validate import why
from electorate.validate.events import Event
from electorate.validate.mapping import Model, Step, started_in_lease, table_for, with_copy
from electorate.validate.why import added as _added
from electorate.validate.why import show_message

MAX_RECEIVES = 6  # UpdateTerm, back to follower, the handler: a receive takes at most three
TIERS = (0, 1, 2)


@dataclass(frozen=True, slots=True)
class Targets:
    """What the trace says node i holds after the step (None: not logged, left free), and
    whether i may still be in its start-up lease (it has not timed out since it started)."""

    hard: tuple[int, int] | None  # (currentTerm, votedFor)
    role: Role | None
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class Explained:
    """A successor: the spec state after the step and the actions that led there."""

    state: State
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One failed conjunct, and the trace event it is about (None: the step's input)."""

    text: str
    event: Event | None = None


@dataclass
class Attempt:
    """A composition that does not match the step, and why (each failed conjunct)."""

    label: str
    problems: list[Problem]


@dataclass
class _Draft:
    state: State
    acts: list[Action] = field(default_factory=list)
    # the state before each Receive that produced a reply, by the reply's destination
    before_handler: dict[int, tuple[State, str]] = field(default_factory=dict)
    recv_from: State | None = None  # the state before the core's first Receive

    def take(
        self, name: str, args: tuple[int | Message, ...], t: State | None, d: str = ""
    ) -> bool:
        if t is None:
            return False
        self.state = t
        self.acts.append(Action(name, args, d))
        return True

    def copy(self) -> _Draft:
        return _Draft(self.state, list(self.acts), dict(self.before_handler), self.recv_from)


class Matcher:
    """Explains steps of one model's nodes (see the module doc)."""

    def __init__(self, mdl: Model) -> None:
        self.mdl = mdl
        self.p = mdl.p
        self.table = table_for(mdl)

    # ------------------------------------------------------------------ entry point

    def explain(
        self, s: State, step: Step, want: Targets, duplicate: bool
    ) -> tuple[list[Explained], list[Attempt]]:
        """The successors of ``s`` that explain ``step`` (those of the first tier that has
        any), and every failed composition tried. ``duplicate``: a receive of a message no
        longer in flight may be a duplicate (a copy was sent before)."""
        failed: list[Attempt] = []
        for tier in TIERS:
            found: list[Explained] = []
            for label, core in self._cores(s, step, want, tier, duplicate, failed):
                out = self._complete(core, step, want, loss=tier >= 2)
                if isinstance(out, Attempt):
                    out.label = label
                    failed.append(out)
                else:
                    found.append(out)
            if len(found) > 1:  # distinct states only (hashing a state costs: only now)
                found = list({e.state: e for e in reversed(found)}.values())[::-1]
            if found:
                return found, failed
        return [], failed

    # ------------------------------------------------------------------ cores

    def _cores(
        self,
        s: State,
        step: Step,
        want: Targets,
        tier: int,
        duplicate: bool,
        failed: list[Attempt],
    ) -> list[tuple[str, _Draft]]:
        i, kind = step.node, step.kind
        if kind == "restart":
            if tier:
                return []
            d = _Draft(s)
            t = self.table.Restart(self.p, s, i)
            assert t is not None  # Restart is always enabled
            restarted = started_in_lease(self.mdl, t, i)
            d.take("Restart", (i,), restarted, "in lease" if restarted.heard_leader else "")
            return [("Restart", d)]
        if kind != "recv" or step.msg is None:
            return [("no core", _Draft(s))] if tier == 0 else []
        m = step.msg
        base = _Draft(s)
        if _count(s, m) == 0:
            if not duplicate:
                if tier == 0:
                    text = f"no copy of {self.show(m)} is in flight"
                    failed.append(Attempt("Receive", [Problem(text)]))
                return []
            base.take("DuplicateMessage", (m,), with_copy(s, m), "inferred")
        if tier == 0:
            return [self._chain(base, m, "Receive")]
        timed = self._fire(base, step.node)
        leased = self._lease_again(base, step.node) if want.fresh else None
        if tier == 1:
            out = [] if timed is None else [self._chain(timed, m, "ElectionTimer, Receive")]
            if leased is not None:
                out.append(self._chain(leased, m, "Restart (start-up lease), Receive"))
            if want.role is None and s.role[step.node] != Role.Follower:
                down = base.copy()  # roles are not logged: it may have stepped down unseen
                self._step_down(down, step.node)
                out.append(self._chain(down, m, "step down, Receive"))
            return out
        out = []
        for start, label in ((base, ""), (timed, "ElectionTimer, ")):
            if start is not None:
                out += self._prefixes(start, m, label)
        return out

    def _fire(self, d: _Draft, i: int) -> _Draft | None:
        """i's untimed election timer ran out (a non-leader that heard a leader forgets it)."""
        timer = self.table.ElectionTimer
        s = d.state
        if timer is None or not s.heard_leader or not s.heard_leader[i]:
            return None
        if s.role[i] == Role.Leader:
            return None
        fired = timer(self.p, s, i)
        if fired is None:
            return None
        out = d.copy()
        out.take("ElectionTimer", (i,), fired[1], fired[0])
        return out

    def _lease_again(self, d: _Draft, i: int) -> _Draft | None:
        """A follower still in its start-up lease that has since forgotten a leader (a newer
        term clears heardLeader; the implementation's start-up window does not end with it):
        a restart inside a lease is the spec step that puts it back, and changes nothing
        else a follower shows (its term, vote and role are kept)."""
        s = d.state
        if not (self.mdl.lease and s.heard_leader) or s.heard_leader[i]:
            return None
        if s.role[i] != Role.Follower:
            return None
        t = self.table.Restart(self.p, s, i)
        assert t is not None
        out = d.copy()
        out.take("Restart", (i,), started_in_lease(self.mdl, t, i), "in lease")
        return out

    def _chain(self, d: _Draft, m: Message, label: str) -> tuple[str, _Draft]:
        """Receive(m) until one copy of m has left the bag (the whole handling)."""
        d = d.copy()
        d.recv_from = d.state
        before = _count(d.state, m)
        for _ in range(MAX_RECEIVES):
            pre = d.state
            r = self.table.Receive(self.p, pre, m)
            if r is None:
                d.acts.append(Action("Receive", (m,), "NOT ENABLED"))
                return label, d
            d.take("Receive", (m,), r[1], r[0])
            if r[0] in _REPLYING:
                d.before_handler[m.msource] = (pre, r[0])
            if _count(d.state, m) < before:
                return label, d
        return label, d

    def _prefixes(self, start: _Draft, m: Message, label: str) -> list[tuple[str, _Draft]]:
        """Each proper prefix of the Receive chain, then DropMessage(m): m lost unread, or
        after part of its handling (say, its newer term adopted, no answer)."""
        out = []
        d = start.copy()
        d.recv_from = d.state
        steps = 0
        while True:
            dropped = d.copy()
            dropped.take("DropMessage", (m,), actions.DropMessage(self.p, d.state, m))
            out.append((f"{label}{'Receive x' + str(steps) + ', ' if steps else ''}Drop", dropped))
            r = self.table.Receive(self.p, d.state, m)
            if r is None or steps >= MAX_RECEIVES:
                return out
            before = _count(d.state, m)
            d.take("Receive", (m,), r[1], r[0])
            steps += 1
            if _count(d.state, m) < before:
                return out

    # ------------------------------------------------------------------ completion

    def _complete(self, core: _Draft, step: Step, want: Targets, loss: bool) -> Explained | Attempt:
        bad: list[Problem] = []
        if core.acts and core.acts[-1].detail == "NOT ENABLED":
            m = core.acts[-1].args[0]
            assert isinstance(m, Message)
            return Attempt("", [Problem(why.receive_disabled(self.mdl, core.state, m))])
        i = step.node
        replies = Counter() if core.recv_from is None else _added(core.recv_from, core.state)
        d = core.copy()
        sends = [(ev, m) for ev, m in step.sends if m is not None]
        pre = [(ev, m) for ev, m in sends if m.mtype == MType.RequestVoteRequest and m.mpre_vote]
        votes = [
            (ev, m) for ev, m in sends if m.mtype == MType.RequestVoteRequest and not m.mpre_vote
        ]
        beats = [(ev, m) for ev, m in sends if m.mtype == MType.AppendEntriesRequest]
        cause = _trigger(step)
        if want.role is None and d.state.role[i] == Role.Leader and (pre or votes):
            self._step_down(d, i)  # roles not logged: it stepped down before it campaigns
        role = d.state.role[i]
        # A: a pre-vote round
        fresh_pre = want.role == Role.PreCandidate and role != Role.PreCandidate
        if fresh_pre or (pre and (step.kind == "timer" or role != Role.PreCandidate)):
            self._prevote_round(d, i, bad, pre[0][0] if pre else cause)
        self._send_all(d, pre, "RequestPreVote", bad)
        # B: an election
        if self._campaigns(d.state, i, want, [m for _, m in votes]):
            self._election(d, i, bad, step, votes[0][0] if votes else cause)
        self._send_all(d, votes, "RequestVote", bad)
        # C: leadership
        if (want.role == Role.Leader or beats) and d.state.role[i] == Role.Candidate:
            t = self.table.BecomeLeader(self.p, d.state, i)
            if not d.take("BecomeLeader", (i,), t):
                first = beats[0][0] if beats else cause
                bad.append(Problem(why.not_leader(self.mdl, d.state, i), first))
        self._send_all(d, beats, "AppendEntries", bad)
        # D: a step down in the same term
        same_term = want.hard is None or want.hard[0] == d.state.current_term[i]
        if want.role == Role.Follower and d.state.role[i] != Role.Follower and same_term:
            self._step_down(d, i)
        self._match_replies(d, step, replies, loss, bad)
        self._check_votes(d, step, replies, bad)
        self._check_targets(d.state, step, want, bad)
        for ev in step.lease:
            if ev.kind == "lease_start" and d.state.role[i] != Role.Leader:
                text = (
                    f"{ev.show()}: a lease needs state[{self.mdl.name(i)}] = Leader, "
                    f"it is {why.role(d.state.role[i])}"
                )
                bad.append(Problem(text, ev))
        if bad:
            return Attempt("", bad)
        return Explained(d.state, tuple(d.acts))

    def _campaigns(self, s: State, i: int, want: Targets, votes: list[Message]) -> bool:
        """Does the step start an election (a candidacy in a new term)?"""
        term, role = s.current_term[i], s.role[i]
        if want.role in (Role.Candidate, Role.Leader) and role not in (Role.Candidate, Role.Leader):
            return True
        if want.hard is not None and want.hard[0] > term:
            return True
        return any(m.mterm > term for m in votes) or (bool(votes) and role != Role.Candidate)

    def _prevote_round(self, d: _Draft, i: int, bad: list[Problem], ev: Event | None) -> None:
        if self.table.RequestPreVote is None:
            text = f"{self.mdl.name(i)} runs a pre-vote round, but its config has PreVote off"
            bad.append(Problem(text, ev))
            return
        self._clear_timer(d, i)
        t = self.table.Timeout(self.p, d.state, i)
        if not d.take("Timeout", (i,), t):
            bad.append(Problem(why.no_timeout(self.mdl, d.state, i), ev))
            return
        if d.state.role[i] != Role.PreCandidate:
            text = f"Timeout({self.mdl.name(i)}) makes it {why.role(d.state.role[i])}"
            bad.append(Problem(text, ev))
            return
        if d.take("RequestPreVote", (i, i), self.table.RequestPreVote(self.p, d.state, i, i)):
            self._drain_self(d, i)

    def _election(
        self, d: _Draft, i: int, bad: list[Problem], step: Step, ev: Event | None
    ) -> None:
        n = self.mdl.name(i)
        if self.table.StartElection is not None:
            if d.state.role[i] != Role.PreCandidate and self._alone(d.state, i):
                self._prevote_round(d, i, bad, ev)  # a quorum of one: no request to see
            t = self.table.StartElection(self.p, d.state, i)
            if not d.take("StartElection", (i,), t):
                bad.append(Problem(why.no_election(self.mdl, d.state, i, step), ev))
                return
        else:
            self._clear_timer(d, i)
            if not d.take("Timeout", (i,), self.table.Timeout(self.p, d.state, i)):
                bad.append(Problem(why.no_timeout(self.mdl, d.state, i), ev))
                return
        if d.take("RequestVote", (i, i), self.table.RequestVote(self.p, d.state, i, i)):
            self._drain_self(d, i)
        else:
            bad.append(Problem(f"{n} cannot ask itself for its vote (RequestVote({n}, {n}))", ev))

    def _alone(self, s: State, i: int) -> bool:
        """Would i's own pre-vote be a quorum (a one-node cluster)?"""
        return actions.IsQuorum(self.p, 1 << i)

    def _clear_timer(self, d: _Draft, i: int) -> None:
        """A node that heard a leader lets its timer run out first (Timeout needs it)."""
        fired = self._fire(d, i)
        if fired is not None:
            d.state, d.acts = fired.state, fired.acts

    def _step_down(self, d: _Draft, i: int) -> None:
        timer = self.table.ElectionTimer
        if d.state.role[i] == Role.Leader and self.p.has("check_quorum") and timer is not None:
            for _ in range(2):
                fired = timer(self.p, d.state, i)
                if fired is None:
                    break
                d.take("ElectionTimer", (i,), fired[1], fired[0])
                if d.state.role[i] == Role.Follower:
                    return
        d.take("Restart", (i,), self.table.Restart(self.p, d.state, i), "gave up")

    def _drain_self(self, d: _Draft, i: int) -> None:
        """i receives what it sent itself (its own (pre-)vote request, then the answer)."""
        for _ in range(2 * MAX_RECEIVES):
            mine = [m for m, _ in d.state.messages if m.msource == i and m.mdest == i]
            if not mine:
                return
            r = self.table.Receive(self.p, d.state, mine[0])
            if r is None:
                return
            d.take("Receive", (mine[0],), r[1], r[0])

    def _send_all(
        self, d: _Draft, msgs: list[tuple[Event, Message]], name: str, bad: list[Problem]
    ) -> None:
        for ev, m in msgs:
            i, j = m.msource, m.mdest
            fn = {
                "RequestPreVote": self.table.RequestPreVote,
                "RequestVote": self.table.RequestVote,
                "AppendEntries": self.table.AppendEntries,
            }[name]
            t = None if fn is None else fn(self.p, d.state, i, j)
            if t is not None and _count(t, m) > _count(d.state, m):
                d.take(name, (i, j), t)
                continue
            bad.append(Problem(why.not_sent(self.mdl, d.state, name, m, t), ev))

    # ------------------------------------------------------------------ comparisons

    def _match_replies(
        self, d: _Draft, step: Step, replies: Counter[Message], loss: bool, bad: list[Problem]
    ) -> None:
        """The answers the trace sends against those the spec's step sends. One sent in their
        place but different is one problem; a spec answer the trace lacks is a lost message
        (tier 2) or a problem."""
        sent = [(ev, m) for ev, m in step.sends if m is not None and m.mtype not in _REQUESTS]
        seen: Counter[Message] = Counter(m for _, m in sent)
        missing = replies - seen
        if not replies and not seen:
            return
        for m, k in (seen - replies).items():
            instead = [x for x in missing if x.mdest == m.mdest and x.mtype == m.mtype]
            for x in instead[:k]:
                missing[x] -= 1
            spec = [self.show(x) for x in instead] or ["no answer"]
            text = (
                f"the trace sends {self.show(m)}"
                + (f" (x{k})" if k > 1 else "")
                + f"; the spec's step sends {', '.join(spec)}"
            )
            bad.append(Problem(text, next(ev for ev, x in sent if x == m)))
        for m, k in (+missing).items():
            if not loss:
                text = f"the spec's step answers {self.show(m)}; the trace sends no such reply"
                bad.append(Problem(text, [*step.events][-1]))  # known when the step is over
                continue
            for _ in range(k):
                d.take("DropMessage", (m,), actions.DropMessage(self.p, d.state, m))

    def _check_votes(
        self, d: _Draft, step: Step, replies: Counter[Message], bad: list[Problem]
    ) -> None:
        for ev in step.votes:
            v = ev.data
            c = self.mdl.index[v["candidate"]]
            pre = bool(v.get("pre_vote", False))
            spec = [
                m for m in replies
                if m.mtype == MType.RequestVoteResponse and m.mdest == c and m.mpre_vote == pre
            ]  # fmt: skip
            if any(m.mterm == v["term"] and m.mvote_granted == v["granted"] for m in spec):
                continue
            bad.append(
                Problem(why.vote(self.mdl, d.before_handler.get(c), ev.show(), c, pre, spec), ev)
            )

    def _check_targets(self, s: State, step: Step, want: Targets, bad: list[Problem]) -> None:
        i = step.node
        n = self.mdl.name(i)
        term_ev = _last(step, "term")
        if want.hard is not None:
            term, vote = want.hard
            said, at = "", term_ev
            if term_ev is None and step.kind not in ("start", "restart"):
                # known only once the step is over: it logged no change
                said, at = " (the trace records no change)", [*step.events][-1]
            if s.current_term[i] != term:
                text = f"currentTerm[{n}] = {s.current_term[i]} in the spec, {term} in the trace"
                bad.append(Problem(text + said, at))
            if s.voted_for[i] != vote:
                text = (
                    f"votedFor[{n}] = {self.mdl.name(s.voted_for[i])} in the spec, "
                    f"{self.mdl.name(vote)} in the trace"
                )
                bad.append(Problem(text + said, at))
        if want.role is not None and s.role[i] != want.role:
            spec, said = why.role(s.role[i]), why.role(want.role)
            text = f"state[{n}] = {spec} in the spec, {said} in the trace"
            bad.append(Problem(text, _last(step, "role")))

    # ------------------------------------------------------------------ display

    def show(self, m: Message) -> str:
        return show_message(self.mdl, m)


_REPLYING = frozenset(
    {"HandleRequestVoteRequest", "HandlePreVoteRequest", "HandleAppendEntriesRequest"}
)
_REQUESTS = (MType.RequestVoteRequest, MType.AppendEntriesRequest)


def _count(s: State, m: Message) -> int:
    """Copies of m in flight (the bag is sorted: a binary search)."""
    bag = s.messages
    k = bisect_left(bag, (m,))
    return bag[k][1] if k < len(bag) and bag[k][0] == m else 0


def _last(step: Step, kind: str) -> Event | None:
    found = [e for e in step.outputs if e.kind == kind]
    return found[-1] if found else None


def _trigger(step: Step) -> Event | None:
    """The event that calls for a promotion: the role event, else the term event."""
    return _last(step, "role") or _last(step, "term")
