"""The spec's reasons, in its own words: which conjunct of an action fails, with the values of
the variables it reads, and how actions and messages read with the trace's node ids.

The matcher (electorate.validate.match) calls these when a composition fails; the failure
report quotes them as they are.
"""

from __future__ import annotations

from collections import Counter

from electorate.spec.messages import Message, MType
from electorate.spec.next import Action
from electorate.spec.state import Role, State, members
from electorate.validate.mapping import Model, Step


def show_message(mdl: Model, m: Message) -> str:
    """``RequestVoteRequest n1->n2 term 3`` (PreVote messages as PreVoteRequest/Response)."""
    kind = m.mtype.name
    if m.mpre_vote:
        kind = kind.replace("RequestVote", "PreVote")
    head = f"{kind} {mdl.name(m.msource)}->{mdl.name(m.mdest)} term {m.mterm}"
    if m.mtype == MType.RequestVoteResponse:
        return head + (" granted" if m.mvote_granted else " refused")
    if m.mtype == MType.AppendEntriesResponse:
        return head + (" ok" if m.msuccess else " fail")
    if m.mtype == MType.RequestVoteRequest and (m.mlast_log_index or m.mlast_log_term):
        return head + f" last log {m.mlast_log_index}@{m.mlast_log_term}"
    if m.mtype == MType.AppendEntriesRequest and (m.mprev_log_index or m.mentries):
        return head + f" prev {m.mprev_log_index}@{m.mprev_log_term}, {len(m.mentries)} entries"
    return head


def show_action(mdl: Model, a: Action) -> str:
    """An action with node ids: ``Receive(RequestVoteRequest n1->n2 term 3) [UpdateTerm]``."""
    shown = [show_message(mdl, x) if isinstance(x, Message) else mdl.name(x) for x in a.args]
    text = f"{a.name}({', '.join(shown)})"
    return f"{text} [{a.detail}]" if a.detail else text


def role(r: Role) -> str:
    return r.name


def show_set(mdl: Model, mask: int) -> str:
    return "{" + ", ".join(mdl.name(j) for j in members(mask)) + "}"


def added(before: State, after: State) -> Counter[Message]:
    """Messages with more copies in ``after`` than in ``before`` (what a step sent)."""
    if before.messages is after.messages:
        return Counter()
    old = dict(before.messages)
    return Counter({m: n - old.get(m, 0) for m, n in after.messages if n > old.get(m, 0)})


def no_timeout(mdl: Model, s: State, i: int) -> str:
    n = mdl.name(i)
    if s.role[i] == Role.Leader:
        return f"Timeout({n}) needs state[{n}] /= Leader; {n} is Leader (it must step down first)"
    if s.heard_leader and s.heard_leader[i]:
        return f"Timeout({n}) needs ~heardLeader[{n}]"
    return f"Timeout({n}) is not enabled (state[{n}] = {role(s.role[i])})"


def no_election(mdl: Model, s: State, i: int, step: Step) -> str:
    n = mdl.name(i)
    if s.role[i] != Role.PreCandidate:
        why = (
            f"{n} becomes a candidate without a pre-vote round: StartElection({n}) needs "
            f"state[{n}] = PreCandidate, it is {role(s.role[i])}"
        )
        if step.input.msg is not None and step.input.msg.type == "timeout_now":
            why += " (a leadership transfer, TimeoutNow, skips PreVote: not in the spec)"
        return why
    return (
        f"StartElection({n}) needs IsQuorum(prevotesGranted[{n}]); prevotesGranted[{n}] = "
        f"{show_set(mdl, s.prevotes_granted[i])} of {mdl.p.servers} servers"
    )


def not_leader(mdl: Model, s: State, i: int) -> str:
    n = mdl.name(i)
    if s.role[i] != Role.Candidate:
        return f"BecomeLeader({n}) needs state[{n}] = Candidate, it is {role(s.role[i])}"
    return (
        f"BecomeLeader({n}) needs IsQuorum(votesGranted[{n}]); votesGranted[{n}] = "
        f"{show_set(mdl, s.votes_granted[i])} of {mdl.p.servers} servers (LeaderHasQuorum)"
    )


def not_sent(mdl: Model, s: State, name: str, m: Message, t: State | None) -> str:
    """Why the send action ``name`` does not produce the message ``m`` the trace sends."""
    i, j = mdl.name(m.msource), mdl.name(m.mdest)
    act = f"{name}({i}, {j})"
    want = {"RequestPreVote": "PreCandidate", "RequestVote": "Candidate"}.get(name, "Leader")
    held = role(s.role[m.msource])
    sent = show_message(mdl, m)
    if t is None:
        if held != want:
            return f"the trace sends {sent}; {act} needs state[{i}] = {want}, it is {held}"
        return f"the trace sends {sent}; {act} is not enabled"
    spec = ", ".join(show_message(mdl, x) for x in added(s, t)) or "nothing"
    return f"the trace sends {sent}; {act} sends {spec}"


def vote(
    mdl: Model,
    handled: tuple[State, str] | None,
    shown: str,
    c: int,
    pre: bool,
    spec: list[Message],
) -> str:
    """Why a logged vote has no spec counterpart: what the spec's handler answered, and its
    guard's conjuncts with their values (``handled``: the state before the handler ran)."""
    cn = mdl.name(c)
    if not spec:
        what = "ignores the request" if handled is None else f"answers by {handled[1]}"
        return f"{shown}, but the spec {what}: no answer to {cn}"
    m = spec[0]
    how = "grants" if m.mvote_granted else "refuses"
    why = f"{shown}, but the spec {how} it in term {m.mterm}"
    if handled is None:
        return why
    return f"{why}: {vote_rule(mdl, handled[0], m.msource, c, pre)}"


def vote_rule(mdl: Model, s: State, i: int, c: int, pre: bool) -> str:
    """The vote guard's conjuncts with their values in the state before the handler."""
    n, cn = mdl.name(i), mdl.name(c)
    voted = mdl.name(s.voted_for[i])
    if pre:
        heard = bool(s.heard_leader and s.heard_leader[i])
        return (
            f"HandlePreVoteRequest({n}, {cn}) grants iff (a newer term, or the same term "
            f"with votedFor[{n}] \\in {{Nil, {cn}}}) /\\ ~heardLeader[{n}]; here "
            f"currentTerm[{n}] = {s.current_term[i]}, votedFor[{n}] = {voted}, "
            f"heardLeader[{n}] = {heard}"
        )
    return (
        f"HandleRequestVoteRequest({n}, {cn}) grants iff m.mterm = currentTerm[{n}] /\\ "
        f"LogOk /\\ votedFor[{n}] \\in {{Nil, {cn}}}; here currentTerm[{n}] = "
        f"{s.current_term[i]}, votedFor[{n}] = {voted} (one vote per term)"
    )


def receive_disabled(mdl: Model, s: State, m: Message) -> str:
    i = m.mdest
    n = mdl.name(i)
    shown = show_message(mdl, m)
    if m.mtype == MType.AppendEntriesRequest and s.role[i] == Role.Leader:
        return (
            f"Receive({shown}) is not enabled: {n} is itself Leader of term "
            f"{s.current_term[i]} (no disjunct of HandleAppendEntriesRequest applies: "
            "two leaders in one term)"
        )
    return (
        f"Receive({shown}) is not enabled at {n} (state {role(s.role[i])}, "
        f"currentTerm {s.current_term[i]})"
    )
