"""The trace file format: NDJSON events of one or more nodes, a writer, and a strict reader.

One line is one event of one node: ``{"node": "n1", "seq": 7, "kind": "recv", "msg": {...}}``.
``seq`` numbers a node's events 1, 2, 3, ... across its restarts; wall clocks (the optional
``t``) are never used to order events of different nodes. The kinds:

- ``start`` / ``restart``: the node (re)started from stable storage: its ``term`` and
  ``voted_for``, the ``voters``, the ``config`` (``prevote``, ``check_quorum``, ``lease``) and
  which kinds it logs completely (``observes``);
- ``recv`` / ``send``: a message with its fields (``msg``);
- ``timer``: a step the node took on its own (a timer fired, or the application asked);
- ``term``: the durable ``term`` and ``voted_for`` after a change of either;
- ``vote``: the node answered a (pre-)vote request of ``candidate`` for ``term``: ``granted``;
- ``role``: its role changed (``follower``, ``pre_candidate``, ``candidate``, ``leader``);
- ``lease_start`` / ``lease_end``: a leader's lease began or ended in ``term``.

A *step* is an input event (``start``, ``restart``, ``recv``, ``timer``) and the output events
after it (``send``, ``term``, ``vote``, ``role``, ``lease_*``) up to the node's next input. The
JSON Schema of one line is ``schemas/trace-event.schema.json`` (package data).

`TraceWriter` is the writer an implementation (or an adapter around one) calls; the reader,
`read_trace`, refuses bad input with one line naming the file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

FORMAT: Final = "electorate-trace/1"
SCHEMA_FILE: Final = Path(__file__).parent / "schemas" / "trace-event.schema.json"

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


# ---------------------------------------------------------------------------- writer


class TraceWriter:
    """Appends one node's events to an NDJSON trace file.

    Events are buffered and written with one ``write`` call by `flush` (or at once with
    ``autoflush``). Call `flush` before a message of the step leaves the process and before a
    durable write completes: then a crash (even ``kill -9``) loses only events that had no
    effect outside the process, and a peer never receives a message the trace does not show
    as sent. Opening an existing file continues its sequence numbers, and cuts a torn last
    line (a crash in the middle of a write) first.
    """

    def __init__(self, path: str | Path, node: str, *, autoflush: bool = False) -> None:
        self.path = Path(path)
        self.node = node
        self.autoflush = autoflush
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self.seq = _repair_and_last_seq(self._fd, node)
        self.existed = self.seq > 0
        self._node = json.dumps(node)
        self._buf: list[str] = []

    def close(self) -> None:
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1

    @property
    def pending(self) -> int:
        """Events buffered, not yet written."""
        return len(self._buf)

    def flush(self) -> None:
        """Hand the buffered events to the OS in one write (they then survive a kill -9)."""
        if self._buf:
            data = "".join(self._buf).encode()
            self._buf.clear()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]

    def event(self, kind: str, fields: Mapping[str, object], t: float | None = None) -> None:
        """Append one event of ``kind`` with ``fields`` (checked by the reader, not here)."""
        body = json.dumps(fields, separators=(",", ":"))
        self.raw(kind, body[1:-1], t)

    def raw(self, kind: str, body: str, t: float | None = None) -> None:
        """Append one event whose fields are already JSON: ``body`` is the inside of the object
        (``"term":3,"voted_for":null``), written as given (a fast path for a tracer)."""
        self.seq += 1
        head = f'{{"node":{self._node},"seq":{self.seq},"kind":"{kind}"'
        if t is not None:
            head = f'{head},"t":{t:.6f}'
        self._buf.append(f"{head},{body}}}\n" if body else f"{head}}}\n")
        if self.autoflush:
            self.flush()

    # The kinds, one method each (messages are dicts in the wire form: see `message`).
    def start(
        self,
        term: int,
        voted_for: str | None,
        voters: Iterable[str],
        *,
        prevote: bool,
        check_quorum: bool,
        lease: bool,
        observes: Iterable[str] = OBSERVABLE,
        restart: bool | None = None,
        info: Mapping[str, object] | None = None,
        t: float | None = None,
    ) -> None:
        """The node started (``restart`` None: a restart if this node already logged events)."""
        again = self.seq > 0 if restart is None else restart
        fields: dict[str, object] = {
            "term": term,
            "voted_for": voted_for,
            "voters": list(voters),
            "config": {"prevote": prevote, "check_quorum": check_quorum, "lease": lease},
            "observes": list(observes),
        }
        if info:
            fields["info"] = dict(info)
        self.event("restart" if again else "start", fields, t)

    def recv(self, msg: Mapping[str, object], t: float | None = None) -> None:
        self.event("recv", {"msg": msg}, t)

    def send(self, msg: Mapping[str, object]) -> None:
        self.event("send", {"msg": msg})

    def timer(self, what: str | None = None, t: float | None = None) -> None:
        self.event("timer", {"timer": what} if what else {}, t)

    def term(self, term: int, voted_for: str | None) -> None:
        self.event("term", {"term": term, "voted_for": voted_for})

    def vote(self, candidate: str, term: int, granted: bool, pre_vote: bool = False) -> None:
        fields = {"candidate": candidate, "term": term, "granted": granted, "pre_vote": pre_vote}
        self.event("vote", fields)

    def role(self, role: str, leader: str | None = None) -> None:
        self.event("role", {"role": role, "leader": leader})

    def lease_start(self, term: int) -> None:
        self.event("lease_start", {"term": term})

    def lease_end(self, term: int) -> None:
        self.event("lease_end", {"term": term})


def message(kind: str, src: str, dst: str, term: int, **fields: object) -> dict[str, object]:
    """A message in the trace's wire form, e.g. ``message("request_vote_res", "n2", "n1", 3,
    granted=True, pre_vote=False)``; see the schema for each type's fields."""
    return {"type": kind, "src": src, "dst": dst, "term": term, **fields}


def _repair_and_last_seq(fd: int, node: str) -> int:
    """The last sequence number in the file (0 if empty); a torn last line is cut off."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    tail_len = min(size, 1 << 16)
    tail = os.pread(fd, tail_len, size - tail_len)
    if not tail.endswith(b"\n"):
        cut = tail.rfind(b"\n")
        new_size = size - tail_len + cut + 1 if cut >= 0 else (0 if tail_len == size else size)
        os.ftruncate(fd, new_size)
        tail = tail[: cut + 1] if cut >= 0 else b""
    for line in reversed(tail.splitlines()):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if isinstance(ev, dict) and ev.get("node") == node and isinstance(ev.get("seq"), int):
            return int(ev["seq"])
    return 0


# ---------------------------------------------------------------------------- reader


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


@dataclass
class NodeLog:
    """One node's events in sequence order, with its configuration from its first start."""

    node: str
    events: list[Event] = field(default_factory=list)


@dataclass
class Trace:
    """A run: every node's events (a directory of per-node files, or one file of all)."""

    source: str
    logs: dict[str, NodeLog]
    voters: tuple[str, ...]
    config: dict[str, bool]
    observes: dict[str, frozenset[str]]

    @property
    def events(self) -> int:
        return sum(len(log.events) for log in self.logs.values())


def trace_files(source: str | Path) -> list[Path]:
    """The files of one trace: the file itself, or a directory's *.ndjson / *.jsonl files."""
    p = Path(source)
    if p.is_dir():
        files = sorted([*p.glob("*.ndjson"), *p.glob("*.jsonl")])
        if not files:
            raise TraceFormatError(f"{p}: no *.ndjson or *.jsonl files in this directory")
        return files
    if not p.exists():
        raise TraceFormatError(f"{p}: no such file or directory")
    return [p]


def read_trace(source: str | Path) -> Trace:
    """Read and check one trace; TraceFormatError on the first problem."""
    reader = EventReader(str(source))
    for f in trace_files(source):
        reader.feed_file(f)
    return reader.finish()


class EventReader:
    """Parses events line by line (whole files, or a growing file in follow mode) and checks
    each against the format; `finish` checks the trace as a whole."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.logs: dict[str, NodeLog] = {}
        self.voters: tuple[str, ...] | None = None
        self.config: dict[str, bool] | None = None
        self.observes: dict[str, frozenset[str]] = {}
        self._last_seq: dict[str, tuple[int, str]] = {}

    def feed_file(self, path: Path) -> None:
        try:
            with path.open("rb") as f:
                data = f.read()
        except OSError as e:
            raise TraceFormatError(f"{path}: cannot read: {e.strerror}") from None
        if data and not data.endswith(b"\n"):
            n = data.count(b"\n") + 1
            raise TraceFormatError(f"{path}:{n}: truncated line (no newline at the end)")
        for n, line in enumerate(data.splitlines(), 1):
            self.feed_line(str(path), n, line)

    def feed_line(self, path: str, n: int, line: bytes) -> Event | None:
        """Parse and check one line; the event (None for a blank line)."""
        if not line.strip():
            return None
        where = f"{path}:{n}"
        try:
            d = json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise TraceFormatError(
                f"{where}: not JSON (each line must be one JSON object)"
            ) from None
        ev = parse_event(d, where)
        ev.path, ev.line = path, n
        self._place(ev)
        return ev

    def _place(self, ev: Event) -> None:
        where = ev.where
        if ev.kind in ("start", "restart"):
            self._configure(ev)
        first = self.voters is None or ev.node not in self.logs
        if first and ev.kind not in ("start", "restart"):
            known = f" (voters: {', '.join(self.voters)})" if self.voters else ""
            if self.voters is not None and ev.node not in self.voters:
                raise TraceFormatError(f"{where}: event from unknown node {ev.node!r}{known}")
            raise TraceFormatError(
                f"{where}: {ev.node}'s first event is {ev.kind!r}; it must be 'start' "
                "(the node's term, vote and configuration)"
            )
        assert self.voters is not None
        if ev.node not in self.voters:
            raise TraceFormatError(
                f"{where}: event from unknown node {ev.node!r} (voters: {', '.join(self.voters)})"
            )
        if ev.msg is not None:
            m = ev.msg
            for end in (m.src, m.dst):
                if end not in self.voters:
                    raise TraceFormatError(
                        f"{where}: message from or to unknown node {end!r} "
                        f"(voters: {', '.join(self.voters)})"
                    )
            mine = m.dst if ev.kind == "recv" else m.src
            if mine != ev.node:
                side = "dst" if ev.kind == "recv" else "src"
                raise TraceFormatError(
                    f"{where}: {ev.node} {ev.kind}s a message whose {side} is {mine!r}"
                )
        last = self._last_seq.get(ev.node)
        if last is not None and ev.seq != last[0] + 1:
            raise TraceFormatError(
                f"{where}: {ev.node}'s seq {ev.seq} follows {last[0]} ({last[1]}); sequence "
                "numbers must go up by 1 (a gap means lost events)"
            )
        self._last_seq[ev.node] = (ev.seq, where)
        self.logs.setdefault(ev.node, NodeLog(ev.node)).events.append(ev)

    def _configure(self, ev: Event) -> None:
        d = ev.data
        voters = tuple(sorted(d["voters"]))
        config = {k: bool(d["config"][k]) for k in ("prevote", "check_quorum", "lease")}
        if ev.node not in voters:
            raise TraceFormatError(
                f"{ev.where}: {ev.node} is not among its own voters {', '.join(voters)}"
            )
        if self.voters is None:
            self.voters, self.config = voters, config
        elif voters != self.voters:
            raise TraceFormatError(
                f"{ev.where}: {ev.node}'s voters {', '.join(voters)} differ from the trace's "
                f"{', '.join(self.voters)} (one trace is one cluster)"
            )
        elif config != self.config:
            raise TraceFormatError(
                f"{ev.where}: {ev.node} runs {_show_config(config)}, other nodes "
                f"{_show_config(self.config or {})}: every node must run the same features"
            )
        self.observes[ev.node] = frozenset(d.get("observes", OBSERVABLE))

    def finish(self) -> Trace:
        if self.voters is None or self.config is None:
            raise TraceFormatError(f"{self.source}: no events (an empty trace)")
        return Trace(self.source, self.logs, self.voters, self.config, self.observes)


def _show_config(c: Mapping[str, bool]) -> str:
    on = [k for k in ("prevote", "check_quorum", "lease") if c.get(k)]
    return "{" + ", ".join(on) + "}"


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
