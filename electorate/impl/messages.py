"""Wire messages of the election protocol and their strict JSON codec.

Every message carries the envelope ``cluster, src, dst, term``. The codec is strict on purpose:
a peer that sends a malformed message is either buggy or hostile, and silently defaulting a field
(a missing ``term`` read as 0, say) could make a node grant a vote it must not grant. Every
integer is a uint64, as in etcd and hashicorp/raft: a term beyond that could be adopted and
persisted, and then never incremented or encoded again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

MAX_UINT64: Final = 2**64 - 1
# Identifiers are node and cluster ids (1-64 characters); anything longer is malformed.
MAX_ID_CHARS: Final = 64


class MessageError(ValueError):
    """A decoded message is malformed; the text says which field and why."""


class MessageRangeError(MessageError):
    """An integer field lies outside uint64."""


@dataclass(frozen=True, slots=True)
class RequestVote:
    """RequestVote RPC (§3.4), or a PreVote request (§9.6) when ``pre_vote`` is set.

    A pre-vote carries the term the sender *would* campaign in (its term + 1) without having
    adopted it. ``transfer`` marks a campaign started by TimeoutNow (§3.10): such a request must
    be considered even inside a live leader's lease, because that leader asked for it.
    """

    cluster: str
    src: str
    dst: str
    term: int
    last_log_index: int
    last_log_term: int
    pre_vote: bool
    transfer: bool = False


@dataclass(frozen=True, slots=True)
class RequestVoteResponse:
    """Reply to RequestVote; ``pre_vote`` echoes the request kind so stale kinds are dropped."""

    cluster: str
    src: str
    dst: str
    term: int
    granted: bool
    pre_vote: bool


@dataclass(frozen=True, slots=True)
class AppendEntries:
    """Heartbeat (AppendEntries without entries). ``round`` numbers the leader's heartbeat rounds
    within its term; an acknowledged round is what extends the leader's lease (§6.4.1)."""

    cluster: str
    src: str
    dst: str
    term: int
    leader_commit: int
    round: int


@dataclass(frozen=True, slots=True)
class AppendEntriesResponse:
    """Reply to a heartbeat; echoes ``round`` so the leader knows which send time it proves."""

    cluster: str
    src: str
    dst: str
    term: int
    success: bool
    round: int


@dataclass(frozen=True, slots=True)
class TimeoutNow:
    """Leadership transfer (§3.10): the receiver starts an election at once, skipping PreVote."""

    cluster: str
    src: str
    dst: str
    term: int


Message: TypeAlias = (
    RequestVote | RequestVoteResponse | AppendEntries | AppendEntriesResponse | TimeoutNow
)

_TYPE_NAMES: Final[dict[type[Any], str]] = {
    RequestVote: "request_vote",
    RequestVoteResponse: "request_vote_res",
    AppendEntries: "append_entries",
    AppendEntriesResponse: "append_entries_res",
    TimeoutNow: "timeout_now",
}
_BY_NAME: Final[dict[str, type[Any]]] = {name: cls for cls, name in _TYPE_NAMES.items()}


def message_type(m: Message) -> str:
    """The wire name of ``m``'s type (the JSON ``type`` field)."""
    return _TYPE_NAMES[type(m)]


def encode_message(m: Message) -> dict[str, object]:
    """JSON-ready dict of ``m`` with a ``type`` field; every field is always written."""
    out: dict[str, object] = {"type": message_type(m)}
    for f in dataclasses.fields(m):
        out[f.name] = getattr(m, f.name)
    return out


def decode_message(d: object) -> Message:
    """Parse a dict produced by :func:`encode_message` (e.g. after ``json.loads``).

    Raises MessageError naming the first problem: not an object, unknown or missing type,
    missing or unexpected field, wrong field type, negative number, empty identifier.
    Fields with a default (``transfer``) may be omitted.
    """
    if not isinstance(d, dict):
        raise MessageError(f"message must be a JSON object, got {type(d).__name__}")
    kind = d.get("type")
    if not isinstance(kind, str) or kind not in _BY_NAME:
        raise MessageError(f"unknown message type {kind!r} (expected one of {sorted(_BY_NAME)})")
    cls = _BY_NAME[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    extra = sorted(set(d) - set(fields) - {"type"})
    if extra:
        raise MessageError(f"{kind}: unexpected field(s) {', '.join(map(str, extra))}")
    values: dict[str, object] = {}
    for name, f in fields.items():
        if name not in d:
            if f.default is dataclasses.MISSING:
                raise MessageError(f"{kind}: missing field {name!r}")
            continue
        values[name] = _check_field(kind, name, str(f.type), d[name])
    msg: Message = cls(**values)
    return msg


def _check_field(kind: str, name: str, type_name: str, value: object) -> object:
    """Validate one field against its annotation (str, int or bool, as a string annotation)."""
    if type_name == "str":
        if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
            raise MessageError(f"{kind}: field {name!r} must be a string of 1-64 characters")
        return value
    if type_name == "bool":
        if not isinstance(value, bool):
            raise MessageError(f"{kind}: field {name!r} must be a boolean")
        return value
    # bool is a subclass of int in Python; a boolean term is a type error on the wire.
    if not isinstance(value, int) or isinstance(value, bool):
        raise MessageError(f"{kind}: field {name!r} must be an integer")
    if not 0 <= value <= MAX_UINT64:
        raise MessageRangeError(f"{kind}: field {name!r} is outside uint64 [0, 2**64 - 1]")
    return value
