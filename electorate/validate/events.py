"""One event line of a trace: the records (`Event`, `Msg`) and the checks of one line.

`parse_event` checks a decoded line against the format (electorate.validate.tracefile, whose
JSON Schema is schemas/trace-event.schema.json): an inline fast path accepts the common,
well-formed events; anything else goes through the thorough check, which names the first
problem (`TraceFormatError`, ``path:line: problem``). The two accept exactly the same events
(tests/validate/test_tracefile.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

INPUTS: Final = frozenset({"start", "restart", "recv", "timer"})
OUTPUTS: Final = frozenset({"send", "term", "vote", "role", "lease_start", "lease_end"})
KINDS: Final = INPUTS | OUTPUTS
# What a node may declare it logs completely (absent from `observes`: not logged, left free).
OBSERVABLE: Final = ("recv", "send", "term", "vote", "role", "lease")
ROLES: Final = ("follower", "pre_candidate", "candidate", "leader")
MESSAGE_TYPES: Final = (
    "request_vote",
    "request_vote_res",
    "append_entries",
    "append_entries_res",
    "timeout_now",
)
MAX_ID: Final = 64
MAX_INT: Final = 2**64 - 1

Role = Literal["follower", "pre_candidate", "candidate", "leader"]


class TraceFormatError(ValueError):
    """Bad input: the message names the file and line (``path:line: problem``)."""


@dataclass(frozen=True, slots=True)
class Msg:
    """A message as the trace shows it (fields a type does not have stay at their default)."""

    type: str
    src: str
    dst: str
    term: int
    pre_vote: bool = False
    granted: bool = False
    success: bool = False
    last_log_index: int = 0
    last_log_term: int = 0
    transfer: bool = False
    round: int = 0
    prev_log_index: int = 0  # append_entries: the log position it extends
    prev_log_term: int = 0
    entries: int = 0  # append_entries: how many log entries it carries

    @property
    def has_log(self) -> bool:
        """It carries a non-empty log position (logs are abstracted: they must be empty)."""
        return bool(
            self.last_log_index or self.last_log_term or self.prev_log_index or self.entries
        )

    def show(self) -> str:
        extra = ""
        if self.type == "request_vote_res":
            extra = " granted" if self.granted else " refused"
        elif self.type == "append_entries_res":
            extra = " ok" if self.success else " fail"
        elif self.last_log_index or self.last_log_term:
            extra = f" last log {self.last_log_index}@{self.last_log_term}"
        elif self.prev_log_index or self.entries:
            extra = f" prev {self.prev_log_index}@{self.prev_log_term}, {self.entries} entries"
        kind = self.type.replace("request_vote", "pre_vote") if self.pre_vote else self.type
        return f"{kind} {self.src}->{self.dst} term {self.term}{extra}"


@dataclass(slots=True)
class Event:
    """One event, where it was read, and its fields (``data``: the JSON object)."""

    node: str
    seq: int
    kind: str
    path: str
    line: int
    data: dict[str, Any]
    msg: Msg | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def show(self) -> str:
        """``n2#14 recv request_vote n1->n2 term 3`` (the event in one line)."""
        d = self.data
        head = f"{self.node}#{self.seq} {self.kind}"
        if self.msg is not None:
            return f"{head} {self.msg.show()}"
        if self.kind in ("start", "restart", "term"):
            return f"{head} term {d['term']} voted_for {d['voted_for'] or 'nobody'}"
        if self.kind == "vote":
            how = "grants" if d["granted"] else "refuses"
            pre = "pre-vote" if d.get("pre_vote") else "vote"
            return f"{head}: {how} its {pre} to {d['candidate']} for term {d['term']}"
        if self.kind == "role":
            return f"{head} {d['role']}"
        if self.kind in ("lease_start", "lease_end"):
            return f"{head} term {d['term']}"
        return head + (f" ({d['timer']})" if d.get("timer") else "")


# ---------------------------------------------------------------------------- one event


def parse_event(d: object, where: str) -> Event:
    """Check one decoded line against the format; TraceFormatError names the problem."""
    ev = _fast_event(d)
    return ev if ev is not None else _checked_event(d, where)


def _checked_event(d: object, where: str) -> Event:
    """The thorough check: every field, with a message naming the first problem."""
    if not isinstance(d, dict):
        raise TraceFormatError(f"{where}: an event must be a JSON object")
    node = d.get("node")
    if "node" not in d or "seq" not in d or "kind" not in d:
        missing = [k for k in ("node", "seq", "kind") if k not in d]
        raise TraceFormatError(f"{where}: missing field(s) {', '.join(missing)}")
    _id(node, "node", where)
    seq = _int(d["seq"], "seq", where)
    if seq < 1:
        raise TraceFormatError(f"{where}: seq must be >= 1, got {seq}")
    kind = d["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise TraceFormatError(
            f"{where}: unknown event kind {kind!r} (known: {', '.join(sorted(KINDS))})"
        )
    spec = _FIELDS[kind]
    unknown = sorted(set(d) - _COMMON - set(spec))
    if unknown:
        raise TraceFormatError(f"{where}: {kind}: unexpected field(s) {', '.join(unknown)}")
    for name, (check, required) in spec.items():
        if name in d:
            check(d[name], f"{kind}.{name}", where)
        elif required:
            raise TraceFormatError(f"{where}: {kind}: missing field {name!r}")
    if "t" in d and (not isinstance(d["t"], int | float) or isinstance(d["t"], bool)):
        raise TraceFormatError(f"{where}: t must be a number (seconds)")
    msg = _message(d["msg"], where) if "msg" in d else None
    assert isinstance(node, str)
    return Event(node, seq, kind, "", 0, d, msg)


def _id(v: object, name: str, where: str) -> str:
    if not isinstance(v, str) or not 0 < len(v) <= MAX_ID:
        raise TraceFormatError(f"{where}: {name} must be a node id (a string of 1-64 characters)")
    return v


def _opt_id(v: object, name: str, where: str) -> None:
    if v is not None:
        _id(v, name, where)


def _int(v: object, name: str, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_INT:
        raise TraceFormatError(f"{where}: {name} must be an integer in [0, 2**64 - 1]")
    return v


def _bool(v: object, name: str, where: str) -> None:
    if not isinstance(v, bool):
        raise TraceFormatError(f"{where}: {name} must be true or false")


def _str(v: object, name: str, where: str) -> None:
    if not isinstance(v, str):
        raise TraceFormatError(f"{where}: {name} must be a string")


def _role(v: object, name: str, where: str) -> None:
    if v not in ROLES:
        raise TraceFormatError(f"{where}: {name} must be one of {', '.join(ROLES)}, got {v!r}")


def _voters(v: object, name: str, where: str) -> None:
    if not isinstance(v, list) or not v:
        raise TraceFormatError(f"{where}: {name} must be a non-empty list of node ids")
    for x in v:
        _id(x, name, where)
    if len(set(v)) != len(v):
        raise TraceFormatError(f"{where}: {name} lists a node twice")


def _config(v: object, name: str, where: str) -> None:
    if not isinstance(v, dict):
        raise TraceFormatError(f"{where}: {name} must be an object")
    for key in ("prevote", "check_quorum", "lease"):
        if key not in v:
            raise TraceFormatError(f"{where}: {name}: missing field {key!r}")
        _bool(v[key], f"{name}.{key}", where)


def _observes(v: object, name: str, where: str) -> None:
    if not isinstance(v, list) or any(x not in OBSERVABLE for x in v):
        raise TraceFormatError(f"{where}: {name} must list some of {', '.join(OBSERVABLE)}")
    if not {"recv", "send"} <= set(v):
        raise TraceFormatError(
            f"{where}: {name} must include recv and send (message events order the nodes)"
        )


def _object(v: object, name: str, where: str) -> None:
    if not isinstance(v, dict):
        raise TraceFormatError(f"{where}: {name} must be an object")


def _msg_ok(v: object, name: str, where: str) -> None:
    _message(v, where)


Check = Any  # (value, name, where) -> None
_COMMON: Final = frozenset({"node", "seq", "kind", "t"})
_FIELDS: Final[dict[str, dict[str, tuple[Check, bool]]]] = {
    "start": {
        "term": (_int, True),
        "voted_for": (_opt_id, True),
        "voters": (_voters, True),
        "config": (_config, True),
        "observes": (_observes, False),
        "info": (_object, False),
    },
    "recv": {"msg": (_msg_ok, True)},
    "send": {"msg": (_msg_ok, True)},
    "timer": {"timer": (_str, False)},
    "term": {"term": (_int, True), "voted_for": (_opt_id, True)},
    "vote": {
        "candidate": (_id, True),
        "term": (_int, True),
        "granted": (_bool, True),
        "pre_vote": (_bool, False),
    },
    "role": {"role": (_role, True), "leader": (_opt_id, False)},
    "lease_start": {"term": (_int, True)},
    "lease_end": {"term": (_int, True)},
}
_FIELDS["restart"] = _FIELDS["start"]

_MSG_FIELDS: Final[dict[str, dict[str, tuple[Check, bool]]]] = {
    "request_vote": {
        "last_log_index": (_int, False),
        "last_log_term": (_int, False),
        "pre_vote": (_bool, False),
        "transfer": (_bool, False),
    },
    "request_vote_res": {"granted": (_bool, True), "pre_vote": (_bool, False)},
    "append_entries": {
        "leader_commit": (_int, False),
        "round": (_int, False),
        "prev_log_index": (_int, False),
        "prev_log_term": (_int, False),
        "entries": (_int, False),
    },
    "append_entries_res": {"success": (_bool, True), "round": (_int, False)},
    "timeout_now": {},
}
_MSG_COMMON: Final = frozenset({"type", "src", "dst", "term", "cluster"})


def _message(v: object, where: str) -> Msg:
    if not isinstance(v, dict):
        raise TraceFormatError(f"{where}: msg must be an object")
    kind = v.get("type")
    if not isinstance(kind, str) or kind not in _MSG_FIELDS:
        raise TraceFormatError(
            f"{where}: msg.type must be one of {', '.join(MESSAGE_TYPES)}, got {kind!r}"
        )
    for name in ("src", "dst", "term"):
        if name not in v:
            raise TraceFormatError(f"{where}: msg ({kind}): missing field {name!r}")
    spec = _MSG_FIELDS[kind]
    unknown = sorted(set(v) - _MSG_COMMON - set(spec))
    if unknown:
        raise TraceFormatError(f"{where}: msg ({kind}): unexpected field(s) {', '.join(unknown)}")
    src, dst = _id(v["src"], "msg.src", where), _id(v["dst"], "msg.dst", where)
    term = _int(v["term"], "msg.term", where)
    for name, (check, required) in spec.items():
        if name in v:
            check(v[name], f"msg.{name}", where)
        elif required:
            raise TraceFormatError(f"{where}: msg ({kind}): missing field {name!r}")
    return Msg(
        kind,
        src,
        dst,
        term,
        pre_vote=bool(v.get("pre_vote", False)),
        granted=bool(v.get("granted", False)),
        success=bool(v.get("success", False)),
        last_log_index=int(v.get("last_log_index", 0)),
        last_log_term=int(v.get("last_log_term", 0)),
        transfer=bool(v.get("transfer", False)),
        round=int(v.get("round", 0)),
        prev_log_index=int(v.get("prev_log_index", 0)),
        prev_log_term=int(v.get("prev_log_term", 0)),
        entries=int(v.get("entries", 0)),
    )


# ---------------------------------------------------------------------------- the fast path
# The common, well-formed events checked inline (a trace has many thousands); anything it does
# not accept goes through the thorough check above, which names the problem.

_ALLOWED: Final = {kind: _COMMON | set(spec) for kind, spec in _FIELDS.items()}
_MSG_ALLOWED: Final = {kind: _MSG_COMMON | set(spec) for kind, spec in _MSG_FIELDS.items()}


def _fast_event(d: object) -> Event | None:
    if type(d) is not dict:
        return None
    node, seq, kind = d.get("node"), d.get("seq"), d.get("kind")
    if type(node) is not str or not 0 < len(node) <= MAX_ID:
        return None
    if type(seq) is not int or not 1 <= seq <= MAX_INT:
        return None
    if type(kind) is not str:
        return None
    allowed = _ALLOWED.get(kind)
    if allowed is None or not d.keys() <= allowed:
        return None
    if "t" in d and type(d["t"]) not in (int, float):
        return None
    assert isinstance(kind, str)
    if kind in ("recv", "send"):
        m = _fast_message(d.get("msg"))
        return None if m is None else Event(node, seq, kind, "", 0, d, m)
    if not _FAST.get(kind, _never)(d):
        return None
    return Event(node, seq, kind, "", 0, d, None)


def _never(d: dict[str, Any]) -> bool:
    return False


def _uint(v: object) -> bool:
    return type(v) is int and 0 <= v <= MAX_INT


def _node_id(v: object) -> bool:
    return type(v) is str and 0 < len(v) <= MAX_ID


_FAST: Final[dict[str, Any]] = {
    "timer": lambda d: type(d.get("timer", "")) is str,
    "term": lambda d: (
        _uint(d.get("term"))
        and "voted_for" in d
        and (d["voted_for"] is None or _node_id(d["voted_for"]))
    ),
    "vote": lambda d: (
        _node_id(d.get("candidate"))
        and _uint(d.get("term"))
        and type(d.get("granted")) is bool
        and type(d.get("pre_vote", False)) is bool
    ),
    "role": lambda d: d.get("role") in ROLES and (d.get("leader") is None or _node_id(d["leader"])),
    "lease_start": lambda d: _uint(d.get("term")),
    "lease_end": lambda d: _uint(d.get("term")),
}


def _fast_message(v: object) -> Msg | None:
    if type(v) is not dict:
        return None
    kind = v.get("type")
    if type(kind) is not str:
        return None
    allowed = _MSG_ALLOWED.get(kind)
    if allowed is None or not v.keys() <= allowed:
        return None
    src, dst, term = v.get("src"), v.get("dst"), v.get("term")
    if not (_node_id(src) and _node_id(dst) and _uint(term)):
        return None
    assert isinstance(kind, str) and isinstance(src, str) and isinstance(dst, str)
    assert isinstance(term, int)
    if kind == "append_entries":
        if not (_uint(v.get("round", 0)) and _uint(v.get("leader_commit", 0))):
            return None
        if len(v) > 6:  # log positions: the thorough path
            return None
        return Msg(kind, src, dst, term, round=v.get("round", 0))
    if kind == "append_entries_res":
        ok = v.get("success")
        if type(ok) is not bool or not _uint(v.get("round", 0)):
            return None
        return Msg(kind, src, dst, term, success=ok, round=v.get("round", 0))
    pre = v.get("pre_vote", False)
    if type(pre) is not bool:
        return None
    if kind == "request_vote_res":
        granted = v.get("granted")
        if type(granted) is not bool:
            return None
        return Msg(kind, src, dst, term, pre_vote=pre, granted=granted)
    if kind == "request_vote":
        index, last, transfer = (
            v.get("last_log_index", 0),
            v.get("last_log_term", 0),
            v.get("transfer", False),
        )
        if not (_uint(index) and _uint(last) and type(transfer) is bool):
            return None
        return Msg(kind, src, dst, term, pre_vote=pre, last_log_index=index,
                   last_log_term=last, transfer=transfer)  # fmt: skip
    return Msg(kind, src, dst, term)  # timeout_now
