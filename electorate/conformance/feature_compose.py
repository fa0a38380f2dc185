"""Allowed compositions of the featured spec (PreVote + CheckQuorum) per implementation step.

The feature level (conformance.feature_level, docs/conformance.md "The PreVote/CheckQuorum
level") refines impl/ run with ``prevote=True, check_quorum=True`` against the spec run with
``features={"prevote", "check_quorum"}`` (spec/features/). Every rule of the mapping that
depends on the features' semantics lives in this module, so a change of the spec's feature
semantics is an edit here.

Auxiliary variable ``boxes``: per node, the implementation's first answer per voter of its
current pre-vote round, as (voter, granted) pairs. impl/core.py counts the first pre-vote answer
per voter and starts the election as soon as those first answers hold a quorum of grants, and
gives up (back to follower) once they hold more than n - quorum refusals. The spec's
``prevotes_granted`` is a union of grants and has no refusals, so StartElection is a separate
action the spec may take later or never: the compositions take it exactly when the box holds a
quorum of grants (a subset of ``prevotes_granted``, so StartElection is enabled), and a
pre-candidate whose box holds too many refusals is *abandoned*: shown as a follower, never
started. ``boxes`` is computed from the spec actions of the trace only.
"""

from __future__ import annotations

from dataclasses import dataclass

from electorate.conformance import compose
from electorate.conformance.compose import Composite, quorum_size
from electorate.spec import actions
from electorate.spec.features import prevote, restated
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State

MAX_RECEIVES = 4  # UpdateTerm, a (pre-)candidate returning to follower, the handler; 1 spare
# A leader's election period: the adapter's ticks may send this many heartbeat rounds before
# the CheckQuorum (or lease) step-down; each round is AppendEntries to every peer.
MAX_PERIOD_ROUNDS = 20

Box = frozenset[tuple[int, bool]]
EMPTY: Box = frozenset()


@dataclass(frozen=True)
class FComposite(Composite):
    """A composition of the featured spec, with the auxiliary variable ``boxes``."""

    boxes: tuple[Box, ...] = ()


def features() -> frozenset[str]:
    return frozenset({"prevote", "check_quorum"})


def initial(s: State) -> State:
    """The implementation's restart guard: a node that (re)starts behaves as inside a leader's
    lease for an election period (it may have acked a heartbeat just before crashing). Mapped
    to ``heard_leader`` = TRUE at Init: nobody times out or grants a (pre-)vote of a newer term
    before an election period elapses at it (the ``period`` step, ElectionTimer)."""
    return s._replace(heard_leader=(True,) * len(s.role))


def grants(box: Box) -> int:
    return sum(1 for _, ok in box if ok)


def refusals(box: Box) -> int:
    return sum(1 for _, ok in box if not ok)


def knows_leader_after(
    before: State, after: State, acts: tuple[Action, ...], knows: tuple[bool, ...]
) -> tuple[bool, ...]:
    """Auxiliary variable: does node k know the leader of its term (impl's ``leader``)?

    impl/core.py keeps the leader it heard of until its term or role changes, also after an
    election period (ElectionTimer) has ended the lease; the spec's ``heard_leader`` is cleared
    by the timer. Set by a heartbeat accepted as follower, cleared by a new term or any role
    but follower. Computed from the spec actions only.
    """
    out = [
        kn and after.current_term[k] == before.current_term[k] and after.role[k] == Role.Follower
        for k, kn in enumerate(knows)
    ]
    for a in acts:
        m = a.args[0] if a.args else None
        if a.detail == "HandleAppendEntriesRequest" and isinstance(m, Message):
            d = m.mdest
            out[d] = out[d] or (m.mterm == after.current_term[d] and after.role[d] == Role.Follower)
    return tuple(out)


def prevote_to_leader_follower(s: State, m: Message, knows: tuple[bool, ...]) -> bool:
    """A pre-vote request of the voter's own term, the voter's vote free, the voter knowing a
    leader of that term (its lease over: it would be ignored inside it).

    impl/core.py refuses it (``undecided`` needs no known leader, etcd style); the spec grants
    it, as it would grant a real vote (votedFor = Nil). A divergence, documented in
    docs/conformance.md; the feature level never delivers such a message, it only drops it.
    """
    d = m.mdest
    return (
        m.mtype == MType.RequestVoteRequest
        and m.mpre_vote
        and m.mterm == s.current_term[d]
        and s.voted_for[d] == NIL
        and knows[d]
    )


# ---------------------------------------------------------------------- the compositions


def timeout(
    p: Params, s: State, i: int, ab: frozenset[int], boxes: tuple[Box, ...], lead: bool = True
) -> FComposite | None:
    """Election timer of i (out of any lease): Timeout(i) (pre-candidate, term kept);
    RequestPreVote(i, i); Receive of it and of its answer (the self pre-vote);
    RequestPreVote(i, j) for every j != i; then, if the self pre-vote is a quorum,
    StartElection(i) and the canonical election (RequestVote, self-vote, BecomeLeader)."""
    t = restated.Timeout(p, s, i)
    if t is None:
        return None
    acts = [Action("Timeout", (i,))]
    t = _send(t, acts, "RequestPreVote", (i, i), prevote.RequestPreVote(p, t, i, i))
    t = _drain_self(p, t, i, acts)
    for j in range(p.servers):
        if j != i:
            t = _send(t, acts, "RequestPreVote", (i, j), prevote.RequestPreVote(p, t, i, j))
    new_boxes = _put(boxes, i, frozenset({(i, True)}))
    if grants(new_boxes[i]) >= quorum_size(p):
        t = _start_election(p, t, i, acts, lead)
    return _finish(p, s, t, acts, ab, new_boxes)


def heartbeat(
    p: Params, s: State, i: int, ab: frozenset[int], boxes: tuple[Box, ...]
) -> FComposite | None:
    """Heartbeat timer of leader i: AppendEntries(i, j) for every j != i."""
    if s.role[i] != Role.Leader:
        return None
    acts: list[Action] = []
    return _finish(p, s, _broadcast(p, s, i, acts), acts, ab, boxes)


def period(
    p: Params, s: State, i: int, ab: frozenset[int], boxes: tuple[Box, ...]
) -> list[FComposite]:
    """An election period elapses at i (the adapter advances i's clock), every allowed
    composition, in order of preference.

    A leader: k heartbeat rounds (k = 0..MAX_PERIOD_ROUNDS), then ElectionTimer(i); drawn only
    when i has not heard a quorum (the feature level's enabling rule), so the timer is
    CheckQuorum's step-down. Anyone else: ElectionTimer(i) when it knows a leader (it forgets
    it: out of the lease), else nothing; then, optionally, its randomized election timer runs
    out within the period: the timeout composition.
    """
    if s.role[i] == Role.Leader:
        return _leader_period(p, s, i, ab, boxes)
    acts: list[Action] = []
    t = s
    fired = restated.ElectionTimer(p, s, i)
    if fired is not None:
        acts.append(Action("ElectionTimer", (i,), fired[0]))
        t = fired[1]
    out = [_finish(p, s, t, acts, ab, boxes)]
    for lead in (True, False):
        more = timeout(p, t, i, ab, boxes, lead)
        if more is not None:
            out.append(_finish(p, s, more.state, acts + list(more.actions), ab, more.boxes))
    return _dedup(out)


def deliver(
    p: Params, s: State, m: Message, ab: frozenset[int], boxes: tuple[Box, ...], lead: bool
) -> FComposite | None:
    """Message m handled to quiescence: Receive(m) until one copy of m has left the bag; then a
    pre-vote answer goes into the pre-candidate's box (StartElection when the box holds a
    quorum of grants), and a vote answer may complete a quorum (BecomeLeader, as canonical)."""
    before = _count(s, m)
    if not before:
        return None
    t, acts = s, list[Action]()
    for _ in range(MAX_RECEIVES):
        r = restated.Receive(p, t, m)
        if r is None:
            return None
        t = r[1]
        acts.append(Action("Receive", (m,), r[0]))
        if _count(t, m) < before:
            break
    else:
        return None
    d = m.mdest
    if m.mtype == MType.RequestVoteResponse and m.mpre_vote and _counts(s, m, ab, boxes):
        boxes = _put(boxes, d, boxes[d] | {(m.msource, m.mvote_granted)})
        if grants(boxes[d]) >= quorum_size(p) and t.role[d] == Role.PreCandidate:
            t = _start_election(p, t, d, acts, lead)
    elif m.mtype == MType.RequestVoteResponse and not m.mpre_vote and lead:
        t = t if d in compose.abandoned_after(p, s, t, ab) else _maybe_lead(p, t, d, acts)
    return _finish(p, s, t, acts, ab, boxes)


# ---------------------------------------------------------------------- helpers


def _counts(s: State, m: Message, ab: frozenset[int], boxes: tuple[Box, ...]) -> bool:
    """Does the implementation count this pre-vote answer (first answer per voter, its
    pre-candidacy not abandoned, a grant for term + 1 or a refusal of its own term)?"""
    d = m.mdest
    if s.role[d] != Role.PreCandidate or d in ab:
        return False
    if any(v == m.msource for v, _ in boxes[d]):
        return False
    want = s.current_term[d] + 1 if m.mvote_granted else s.current_term[d]
    return m.mterm == want


def _leader_period(
    p: Params, s: State, i: int, ab: frozenset[int], boxes: tuple[Box, ...]
) -> list[FComposite]:
    out: list[FComposite] = []
    t, acts = s, list[Action]()
    for _ in range(MAX_PERIOD_ROUNDS + 1):
        fired = restated.ElectionTimer(p, t, i)
        if fired is None:
            return out
        done = [*acts, Action("ElectionTimer", (i,), fired[0])]
        out.append(_finish(p, s, fired[1], done, ab, boxes))
        t = _broadcast(p, t, i, acts)
    return out


def _start_election(p: Params, s: State, i: int, acts: list[Action], lead: bool) -> State:
    t = prevote.StartElection(p, s, i)
    if t is None:  # the box is a subset of prevotes_granted: cannot happen
        return s
    acts.append(Action("StartElection", (i,)))
    t = _send(t, acts, "RequestVote", (i, i), actions.RequestVote(p, t, i, i))
    t = _drain_self(p, t, i, acts)
    for j in range(p.servers):
        if j != i:
            t = _send(t, acts, "RequestVote", (i, j), actions.RequestVote(p, t, i, j))
    return _maybe_lead(p, t, i, acts) if lead else t


def _maybe_lead(p: Params, s: State, i: int, acts: list[Action]) -> State:
    t = restated.BecomeLeader(p, s, i)
    if t is None:
        return s
    acts.append(Action("BecomeLeader", (i,)))
    return _broadcast(p, t, i, acts)


def _broadcast(p: Params, s: State, i: int, acts: list[Action]) -> State:
    for j in range(p.servers):
        if j != i:
            s = _send(s, acts, "AppendEntries", (i, j), restated.AppendEntries(p, s, i, j))
    return s


def _send(s: State, acts: list[Action], name: str, args: tuple[int, ...], t: State | None) -> State:
    if t is None:
        return s
    acts.append(Action(name, args))
    return t


def _drain_self(p: Params, s: State, i: int, acts: list[Action]) -> State:
    """Receive every message i sent itself (its own (pre-)vote request, then the answer)."""
    for _ in range(2 * MAX_RECEIVES):
        mine = [m for m, _ in s.messages if m.msource == i and m.mdest == i]
        if not mine:
            return s
        r = restated.Receive(p, s, mine[0])
        if r is None:
            return s
        acts.append(Action("Receive", (mine[0],), r[0]))
        s = r[1]
    return s


def _finish(
    p: Params,
    before: State,
    after: State,
    acts: list[Action],
    ab: frozenset[int],
    boxes: tuple[Box, ...],
) -> FComposite:
    """Boxes only live while the spec node is a pre-candidate; abandoned = candidates that
    lost (compose.abandoned_after) plus pre-candidates whose box holds too many refusals."""
    boxes = tuple(b if after.role[k] == Role.PreCandidate else EMPTY for k, b in enumerate(boxes))
    limit = p.servers - quorum_size(p)
    cand = compose.abandoned_after(p, before, after, ab)
    if cand == compose.DISABLED:
        return FComposite(after, tuple(acts), cand, boxes)
    pre = {k for k, b in enumerate(boxes) if refusals(b) > limit}
    return FComposite(after, tuple(acts), cand | pre, boxes)


def _put(boxes: tuple[Box, ...], i: int, box: Box) -> tuple[Box, ...]:
    return tuple(box if k == i else b for k, b in enumerate(boxes))


def _count(s: State, m: Message) -> int:
    return next((n for x, n in s.messages if x == m), 0)


def _dedup(comps: list[FComposite]) -> list[FComposite]:
    out: list[FComposite] = []
    for c in comps:
        if all(c.state != o.state or c.abandoned != o.abandoned for o in out):
            out.append(c)
    return out
