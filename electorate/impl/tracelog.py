"""A node's trace for `electorate validate`, written from the role machine's outputs.

The runtime tells the tracer what went in (`received`, before the core steps a message) and
hands it every `Ready` before persisting its state and sending its messages; the tracer writes
the events pending (electorate.validate.tracefile's format) with one ``write`` call whenever a
Ready has messages or a state to persist, so a crash (even ``kill -9``) never shows a peer a
message, nor the disk a term or vote, that the trace did not record. Steps with no effect
outside the process (a leader counting an ack) wait for the next write, at most ``BATCH``
events: a crash loses only such steps, as if their messages had never arrived. Steps with no
input message (ticks, resign, transfer) are logged as ``timer`` steps, and only when they
produced something: a quiet tick costs two attribute reads.

What each Ready becomes: its hard state a ``term`` event (the persisted term and vote), each
message a ``send`` (a vote answer also a ``vote``), a changed role a ``role``; a lease taken or
lost (``is_leader()`` flipping) a ``lease_start`` / ``lease_end``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from electorate.impl.core import Ready, RoleMachine
from electorate.impl.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Message,
    RequestVote,
    RequestVoteResponse,
    message_type,
)
from electorate.validate.tracefile import TraceWriter

IMPLEMENTATION = "electorate.impl"
BATCH = 64  # events buffered at most from steps without an outside effect


def wire(m: Message) -> dict[str, object]:
    """The trace's form of an impl message (its wire fields, less the cluster id)."""
    d: dict[str, object] = {"type": message_type(m), "src": m.src, "dst": m.dst, "term": m.term}
    if isinstance(m, RequestVote):
        d |= {"last_log_index": m.last_log_index, "last_log_term": m.last_log_term}
        d |= {"pre_vote": m.pre_vote, "transfer": m.transfer}
    elif isinstance(m, RequestVoteResponse):
        d |= {"granted": m.granted, "pre_vote": m.pre_vote}
    elif isinstance(m, AppendEntries):
        d |= {"leader_commit": m.leader_commit, "round": m.round}
    elif isinstance(m, AppendEntriesResponse):
        d |= {"success": m.success, "round": m.round}
    return d


_JSON_BOOL = ("false", "true")


def wire_json(m: Message, ids: dict[str, str]) -> str:
    """`wire` as JSON text, formatted directly (the tracer's hot path); ``ids`` caches each
    node id's JSON form."""
    src, dst = ids.get(m.src) or _quoted(ids, m.src), ids.get(m.dst) or _quoted(ids, m.dst)
    head = f'"src":{src},"dst":{dst},"term":{m.term}'
    if isinstance(m, AppendEntries):
        commit = m.leader_commit
        return f'{{"type":"append_entries",{head},"leader_commit":{commit},"round":{m.round}}}'
    if isinstance(m, AppendEntriesResponse):
        ok = _JSON_BOOL[m.success]
        return f'{{"type":"append_entries_res",{head},"success":{ok},"round":{m.round}}}'
    if isinstance(m, RequestVoteResponse):
        granted, pre = _JSON_BOOL[m.granted], _JSON_BOOL[m.pre_vote]
        return f'{{"type":"request_vote_res",{head},"granted":{granted},"pre_vote":{pre}}}'
    if isinstance(m, RequestVote):
        pre, transfer = _JSON_BOOL[m.pre_vote], _JSON_BOOL[m.transfer]
        return (
            f'{{"type":"request_vote",{head},"last_log_index":{m.last_log_index},'
            f'"last_log_term":{m.last_log_term},"pre_vote":{pre},"transfer":{transfer}}}'
        )
    return f'{{"type":"timeout_now",{head}}}'


def _quoted(ids: dict[str, str], node: str) -> str:
    ids[node] = json.dumps(node)
    return ids[node]


class NodeTracer:
    """Writes one node's events; the runtime calls `received`, `ready` and `step_done`."""

    def __init__(self, writer: TraceWriter, core: RoleMachine) -> None:
        self.writer = writer
        self.core = core
        self._open = False
        self._role = core.role
        self._lease_term: int | None = None
        self._ids: dict[str, str] = {}

    @classmethod
    def to_file(cls, path: str | Path, core: RoleMachine) -> NodeTracer:
        """A tracer appending to ``path`` (a restart continues the file); writes the start."""
        tracer = cls(TraceWriter(path, core.config.node_id), core)
        tracer.started()
        return tracer

    def started(self) -> None:
        c = self.core.config
        self.writer.start(
            self.core.term,
            self.core.voted_for,
            c.voters,
            prevote=c.prevote,
            check_quorum=c.check_quorum,
            # A (re)started core behaves as inside a leader's lease (RoleMachine._in_lease),
            # whatever its features; it grants itself leases only with CheckQuorum.
            lease=True,
            info={
                "implementation": IMPLEMENTATION,
                "election_ticks": c.election_ticks,
                "lease_ticks": c.lease_ticks,
            },
            t=time.time(),
        )
        self.writer.flush()

    def received(self, m: Message) -> None:
        """``m`` is about to be stepped (messages the core drops unread are not logged)."""
        c = self.core.config
        if m.cluster != c.cluster or m.dst != c.node_id or m.src not in c.voters:
            return
        self.step_done()
        self.writer.raw("recv", f'"msg":{wire_json(m, self._ids)}', time.time())
        self._open = True

    def ready(self, rd: Ready) -> None:
        """Log a Ready (persisted already, its messages not yet sent) and write it out."""
        w = self.writer
        if not self._open:
            w.raw("timer", "", time.time())
            self._open = True
        if rd.hard_state is not None:
            w.term(rd.hard_state.term, rd.hard_state.voted_for)
        for m in rd.messages:
            if isinstance(m, RequestVoteResponse):
                w.vote(m.dst, m.term, m.granted, m.pre_vote)
            w.raw("send", f'"msg":{wire_json(m, self._ids)}')
        if rd.soft_state is not None and rd.soft_state.role is not self._role:
            self._role = rd.soft_state.role
            w.role(self._role.value, rd.soft_state.leader)
        self._lease()
        if rd.messages or rd.hard_state is not None:
            w.flush()  # before its messages leave and as its state is made durable

    def step_done(self) -> None:
        """The step is over (a flush ended): log a lease change. What is pending is written
        with the next step that has an effect outside the process (or in batches): a crash
        loses only steps that had none, as if their messages had never arrived."""
        held = self.core.is_leader()
        if held != (self._lease_term is not None):
            if not self._open:
                self.writer.raw("timer", "", time.time())
            self._lease()
        if self.writer.pending > BATCH:
            self.writer.flush()
        self._open = False

    def close(self) -> None:
        self.step_done()
        self.writer.close()

    def _lease(self) -> None:
        held = self.core.is_leader()
        if held and self._lease_term is None:
            self._lease_term = self.core.term
            self.writer.lease_start(self._lease_term)
        elif not held and self._lease_term is not None:
            self.writer.lease_end(self._lease_term)
            self._lease_term = None
