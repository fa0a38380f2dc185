"""The Raft spec seen through the generic checker's `Model` protocol (model_check.model)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

from electorate.spec import next, properties, symmetry
from electorate.spec.fast import election as fast
from electorate.spec.messages import Message, server_name, show_message
from electorate.spec.next import Action
from electorate.spec.params import Params, ParamsError
from electorate.spec.state import (
    FEATURE_MASK_FIELDS,
    FEATURE_SLOT_FIELDS,
    NIL,
    Role,
    State,
    members,
)


class BoundProperty:
    """A property bound to one Params; `holds` is a C-level partial (it runs on every state)."""

    def __init__(self, params: Params, inv: properties.Property) -> None:
        self.id = inv.id
        self.description = inv.description
        self.holds: Callable[[State], bool] = partial(inv.holds, params)


def _negate(
    holds: Callable[[Params, State], bool],
) -> Callable[[Params, State], bool]:
    def never(p: Params, s: State) -> bool:
        return not holds(p, s)

    return never


class RaftModel:
    """Init, Next, the constraint, invariants and server symmetry of one Params."""

    def __init__(self, params: Params, witness: str | None = None) -> None:
        self.params = params
        self.witness = witness
        goals = properties.sometimes_for(params)
        if witness is None:
            self.invariants: Sequence[BoundProperty] = [
                BoundProperty(params, i) for i in properties.invariants_for(params)
            ]
            self.sometimes: Sequence[BoundProperty] = [BoundProperty(params, i) for i in goals]
            return
        # A witness search: the goal's negation is the only invariant, so the BFS "violation"
        # is the shortest trace to a state where the goal holds.
        by_id = {g.id: g for g in goals}
        if witness not in by_id:
            known = ", ".join(by_id) or "none for this model"
            raise ParamsError(f"unknown sometimes property {witness!r}; known: {known}")
        goal = by_id[witness]
        never = properties.Property(goal.id, f"witness: {goal.description}", _negate(goal.holds))
        self.invariants = [BoundProperty(params, never)]
        self.sometimes = []

    def __reduce__(self) -> tuple[type[RaftModel], tuple[Params, str | None]]:
        return (RaftModel, (self.params, self.witness))

    def init_states(self) -> list[State]:
        return [next.Init(self.params)]

    def successors(self, s: State) -> Iterator[tuple[Action, State]]:
        return next.Next(self.params, s)

    def in_constraint(self, s: State) -> bool:
        return next.constraint(self.params, s)

    def canonical(self, s: State) -> State:
        return symmetry.canonical(s)

    def packed(self, symmetric: bool) -> fast.ElectionSpace | str:
        """The model on packed states in C (spec/fast), or why it does not cover this model."""
        invariants = [(inv.id, self.witness is not None) for inv in self.invariants]
        sometimes = [goal.id for goal in self.sometimes]
        return fast.space_for(self.params, invariants, sometimes, symmetric)

    # ---- rendering (traces, diagrams, JSON) ------------------------------------------------

    def show_variables(self, s: State) -> dict[str, str]:
        """Each TLA+ variable, rendered for humans; used to show what a step changed."""
        n = self.params.servers
        out: dict[str, str] = {}
        for k in range(n):
            name = server_name(k)
            out[f"currentTerm[{name}]"] = str(s.current_term[k])
            out[f"state[{name}]"] = Role(s.role[k]).name
            out[f"votedFor[{name}]"] = (
                "Nil" if s.voted_for[k] == NIL else server_name(s.voted_for[k])
            )
            out[f"votesResponded[{name}]"] = _set(s.votes_responded[k])
            out[f"votesGranted[{name}]"] = _set(s.votes_granted[k])
            if self.params.profile == "log":
                out[f"log[{name}]"] = (
                    "<<" + ", ".join(f"{e.value}@{e.term}" for e in s.log[k]) + ">>"
                )
                out[f"commitIndex[{name}]"] = str(s.commit_index[k])
            for field in FEATURE_MASK_FIELDS:
                if getattr(s, field):
                    out[f"{field}[{name}]"] = _set(getattr(s, field)[k])
            for field in FEATURE_SLOT_FIELDS:
                if getattr(s, field):
                    out[f"{field}[{name}]"] = str(getattr(s, field)[k])
        if self.params.has("prevote"):
            out["earned_terms"] = "{" + ", ".join(map(str, members(s.earned_terms))) + "}"
            out["unearned_deposition"] = str(s.unearned_deposition)
        out["messages"] = "{" + ", ".join(f"{show_message(m)} x{c}" for m, c in s.messages) + "}"
        return out

    def state_json(self, s: State) -> dict[str, object]:
        d: dict[str, object] = {
            "currentTerm": list(s.current_term),
            "state": [Role(r).name for r in s.role],
            "votedFor": [None if v == NIL else server_name(v) for v in s.voted_for],
            "votesResponded": [[server_name(j) for j in members(x)] for x in s.votes_responded],
            "votesGranted": [[server_name(j) for j in members(x)] for x in s.votes_granted],
            "log": [[{"term": e.term, "value": e.value} for e in lg] for lg in s.log],
            "commitIndex": list(s.commit_index),
            "messages": [{**_message_json(m), "copies": c} for m, c in s.messages],
        }
        for field in FEATURE_MASK_FIELDS + FEATURE_SLOT_FIELDS:
            if getattr(s, field):
                d[field] = list(getattr(s, field))
        if self.params.has("prevote"):
            d["earned_terms"] = members(s.earned_terms)
            d["unearned_deposition"] = s.unearned_deposition
        return d

    def action_json(self, a: Action) -> dict[str, object]:
        args: list[object] = [
            _message_json(x) if isinstance(x, Message) else server_name(x) for x in a.args
        ]
        if a.name == "ClientRequest":
            args[-1] = a.args[-1]
        return {"action": a.name, "args": args, "handler": a.detail or None, "text": str(a)}

    def arrows(self, a: Action, before: State, after: State) -> list[tuple[str, str, str]]:
        """Sequence-diagram arrows (from, to, label) for one step: messages added or handled."""
        sent = _bag_delta(before, after)
        out = [(server_name(m.msource), server_name(m.mdest), show_message(m)) for m in sent]
        if a.name == "Receive":
            m = a.args[0]
            assert isinstance(m, Message)
            if not sent:
                out.append(
                    (server_name(m.mdest), server_name(m.mdest), f"{a.detail}: {show_message(m)}")
                )
        elif a.name in ("DropMessage", "DuplicateMessage"):
            m = a.args[0]
            assert isinstance(m, Message)
            out = [("network", server_name(m.mdest), f"{a.name}: {show_message(m)}")]
        elif not sent:
            actor = a.args[0]
            assert isinstance(actor, int)
            out.append((server_name(actor), server_name(actor), str(a)))
        return out

    def participants(self) -> list[str]:
        return [server_name(k) for k in range(self.params.servers)]


def _set(mask: int) -> str:
    return "{" + ", ".join(server_name(j) for j in members(mask)) + "}"


def _message_json(m: Message) -> dict[str, object]:
    d: dict[str, object] = {
        "mtype": m.mtype.name,
        "mterm": m.mterm,
        "msource": server_name(m.msource),
        "mdest": server_name(m.mdest),
    }
    defaults = Message(m.mtype, 0, 0, 0)
    for field in Message._fields[4:]:
        value = getattr(m, field)
        if value != getattr(defaults, field):
            d[field] = [list(e) for e in value] if field == "mentries" else value
    return d


def _bag_delta(before: State, after: State) -> list[Message]:
    """Messages with more copies after the step than before (what the step sent). Heartbeat
    stamps are ignored: relative time rewrites them on every step (features/relative_time.py)."""
    old, new = _unstamped(before), _unstamped(after)
    sent: dict[Message, Message] = {}
    for m, _ in after.messages:
        k = m._replace(msent_at=0)
        if new[k] > old.get(k, 0):
            sent.setdefault(k, m)
    return list(sent.values())


def _unstamped(s: State) -> dict[Message, int]:
    counts: dict[Message, int] = {}
    for m, c in s.messages:
        k = m._replace(msent_at=0)
        counts[k] = counts.get(k, 0) + c
    return counts
