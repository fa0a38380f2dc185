"""Canonical names and messages shared by the harness and every adapter.

Nodes are ``n1..nN`` on the wire and ``0..N-1`` in the spec. A canonical message is a JSON object
with Raft paper field names (schemas/*.json); it converts one-to-one to a ``spec.messages.Message``
once the adapter-private ``ext`` object is set aside.
"""

from __future__ import annotations

import json
from typing import Any, Final

from electorate.spec.messages import Entry, Message, MType

JSON = dict[str, Any]

MESSAGE_TYPES: Final[dict[MType, str]] = {
    MType.RequestVoteRequest: "request_vote",
    MType.RequestVoteResponse: "request_vote_res",
    MType.AppendEntriesRequest: "append_entries",
    MType.AppendEntriesResponse: "append_entries_res",
}
_BY_NAME: Final[dict[str, MType]] = {v: k for k, v in MESSAGE_TYPES.items()}


def show(value: object, limit: int = 200) -> str:
    """A value as JSON text, for every report (never a Python repr); long values are cut."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except ValueError:
        text = json.dumps(str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CanonicalError(ValueError):
    """A canonical message or node id is malformed; the text names the field."""


def node_id(i: int) -> str:
    return f"n{i + 1}"


def node_index(name: object, n: int) -> int:
    """The spec index of wire node ``name`` in a cluster of ``n``."""
    if isinstance(name, str) and name.startswith("n") and name[1:].isdigit():
        i = int(name[1:]) - 1
        if 0 <= i < n:
            return i
    raise CanonicalError(f"unknown node id {show(name)} (expected n1..n{n})")


def to_canonical(m: Message) -> JSON:
    """The canonical JSON object of spec message ``m`` (no ``ext``)."""
    out: JSON = {
        "type": MESSAGE_TYPES[m.mtype],
        "src": node_id(m.msource),
        "dest": node_id(m.mdest),
        "term": m.mterm,
    }
    if m.mtype == MType.RequestVoteRequest:
        out["candidate_id"] = node_id(m.msource)
        out["last_log_index"] = m.mlast_log_index
        out["last_log_term"] = m.mlast_log_term
        out["pre_vote"] = m.mpre_vote
    elif m.mtype == MType.RequestVoteResponse:
        out["vote_granted"] = m.mvote_granted
        out["pre_vote"] = m.mpre_vote
    elif m.mtype == MType.AppendEntriesRequest:
        out["leader_id"] = node_id(m.msource)
        out["prev_log_index"] = m.mprev_log_index
        out["prev_log_term"] = m.mprev_log_term
        out["entries"] = [{"term": e.term, "value": e.value} for e in m.mentries]
        out["leader_commit"] = m.mcommit_index
    else:
        out["success"] = m.msuccess
        out["match_index"] = m.mmatch_index
    return out


def from_canonical(d: JSON, n: int) -> Message:
    """The spec message of canonical ``d`` (schema-valid); ``ext`` is ignored on purpose:
    it is adapter-private data the spec knows nothing of."""
    kind = d.get("type")
    if kind not in _BY_NAME:
        raise CanonicalError(f"unknown message type {show(kind)}")
    t = _BY_NAME[str(kind)]
    src, dst, term = node_index(d.get("src"), n), node_index(d.get("dest"), n), _int(d, "term")
    if t == MType.RequestVoteRequest:
        return Message(
            t,
            term,
            src,
            dst,
            mlast_log_term=_int(d, "last_log_term"),
            mlast_log_index=_int(d, "last_log_index"),
            mpre_vote=bool(d.get("pre_vote", False)),
        )
    if t == MType.RequestVoteResponse:
        granted = _bool(d, "vote_granted")
        return Message(t, term, src, dst, mvote_granted=granted, mpre_vote=bool(d.get("pre_vote")))
    if t == MType.AppendEntriesRequest:
        entries = tuple(Entry(int(e["term"]), int(e["value"])) for e in d.get("entries", []))
        # leader_commit is log replication, which this suite does not judge (raft.tla's
        # follower even lowers its commitIndex to the request's; the paper's never does): it
        # is type-checked and never compared (docs/conformance.md, the rules).
        _int(d, "leader_commit")
        return Message(
            t,
            term,
            src,
            dst,
            mprev_log_index=_int(d, "prev_log_index"),
            mprev_log_term=_int(d, "prev_log_term"),
            mentries=entries,
        )
    match = _int(d, "match_index")
    return Message(t, term, src, dst, msuccess=_bool(d, "success"), mmatch_index=match)


def _int(d: JSON, key: str) -> int:
    v = d.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise CanonicalError(f"{d.get('type')}: field {show(key)} must be an integer")
    return v


def _bool(d: JSON, key: str) -> bool:
    v = d.get(key)
    if not isinstance(v, bool):
        raise CanonicalError(f"{d.get('type')}: field {show(key)} must be a boolean")
    return v


def static_log(last_index: int, last_term: int) -> tuple[Entry, ...]:
    """The log a node starts with, from its last entry: earlier entries carry term 1.

    Implementations that carry no log (impl/) only report (last index, last term); the harness
    draws logs of this shape so that every adapter can rebuild the same log from the pair.
    """
    if last_index == 0:
        return ()
    return (*(Entry(1, 1) for _ in range(last_index - 1)), Entry(last_term, 1))


def show_wire(m: Message) -> str:
    """``request_vote n1->n2 term 2 last 1@1``: a spec message in the protocol's own names."""
    head = f"{MESSAGE_TYPES[m.mtype]} {node_id(m.msource)}->{node_id(m.mdest)} term {m.mterm}"
    if m.mpre_vote:
        head += " pre_vote"
    if m.mtype == MType.RequestVoteRequest:
        return head + f" last {m.mlast_log_index}@{m.mlast_log_term}"
    if m.mtype == MType.RequestVoteResponse:
        return head + (" granted" if m.mvote_granted else " refused")
    if m.mtype == MType.AppendEntriesRequest:
        extra = f" prev {m.mprev_log_index}@{m.mprev_log_term}"
        if m.mentries:
            extra += " entries " + ",".join(f"{e.value}@{e.term}" for e in m.mentries)
        return head + extra + (f" commit {m.mcommit_index}" if m.mcommit_index else "")
    return head + (" success" if m.msuccess else " failure") + f" match {m.mmatch_index}"


def show_action(name: str, args: tuple[object, ...], detail: str = "") -> str:
    """``Receive(request_vote n1->n2 term 2) [UpdateTerm]``, ``Timeout(n1)``: a spec action
    with nodes named as on the wire."""
    shown = [show_wire(a) if isinstance(a, Message) else node_id(int(str(a))) for a in args]
    text = f"{name}({', '.join(shown)})"
    return f"{text} [{detail}]" if detail else text
