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
from typing import Final

from electorate.validate.events import (
    OBSERVABLE,
    Event,
    TraceFormatError,
    parse_event,
)

FORMAT: Final = "electorate-trace/1"
SCHEMA_FILE: Final = Path(__file__).parent / "schemas" / "trace-event.schema.json"


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
