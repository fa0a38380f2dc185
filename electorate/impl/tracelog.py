"""A node's trace for `electorate validate`, written from the role machine's outputs.

The runtime tells the tracer what went in (`received`, before the core steps a message) and
hands it every `Ready` after persisting it and before sending its messages; the tracer writes
the step's events (electorate.validate.tracefile's format) with one ``write`` call before any
message of the step leaves, so a crash never shows a peer a message the trace did not record.
Steps with no input message (ticks, resign, transfer) are logged as ``timer`` steps, and only
when they produced something: a quiet tick costs two attribute reads.

What each Ready becomes: its hard state a ``term`` event (the persisted term and vote), each
message a ``send`` (a vote answer also a ``vote``), a changed role a ``role``; a lease taken or
lost (``is_leader()`` flipping) a ``lease_start`` / ``lease_end``.
"""

from __future__ import annotations

import time
from pathlib import Path

from electorate.impl.core import Ready, RoleMachine
from electorate.impl.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Message,
    RequestVote,
    RequestVoteResponse,
)
from electorate.validate.tracefile import TraceWriter

IMPLEMENTATION = "electorate.impl"


def wire(m: Message) -> dict[str, object]:
    """The trace's form of an impl message (its wire fields, less the cluster id)."""
    if isinstance(m, RequestVote):
        return {
            "type": "request_vote",
            "src": m.src,
            "dst": m.dst,
            "term": m.term,
            "last_log_index": m.last_log_index,
            "last_log_term": m.last_log_term,
            "pre_vote": m.pre_vote,
            "transfer": m.transfer,
        }
    if isinstance(m, RequestVoteResponse):
        return {
            "type": "request_vote_res",
            "src": m.src,
            "dst": m.dst,
            "term": m.term,
            "granted": m.granted,
            "pre_vote": m.pre_vote,
        }
    if isinstance(m, AppendEntries):
        return {
            "type": "append_entries",
            "src": m.src,
            "dst": m.dst,
            "term": m.term,
            "leader_commit": m.leader_commit,
            "round": m.round,
        }
    if isinstance(m, AppendEntriesResponse):
        return {
            "type": "append_entries_res",
            "src": m.src,
            "dst": m.dst,
            "term": m.term,
            "success": m.success,
            "round": m.round,
        }
    return {"type": "timeout_now", "src": m.src, "dst": m.dst, "term": m.term}


class NodeTracer:
    """Writes one node's events; the runtime calls `received`, `ready` and `step_done`."""

    def __init__(self, writer: TraceWriter, core: RoleMachine) -> None:
        self.writer = writer
        self.core = core
        self._open = False
        self._role = core.role
        self._lease_term: int | None = None

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
        self.writer.event("recv", {"msg": wire(m)}, time.time())
        self._open = True

    def ready(self, rd: Ready) -> None:
        """Log a Ready (persisted already, its messages not yet sent) and write it out."""
        w = self.writer
        if not self._open:
            w.event("timer", {}, time.time())
            self._open = True
        if rd.hard_state is not None:
            w.event("term", {"term": rd.hard_state.term, "voted_for": rd.hard_state.voted_for})
        for m in rd.messages:
            if isinstance(m, RequestVoteResponse):
                w.vote(m.dst, m.term, m.granted, m.pre_vote)
            w.event("send", {"msg": wire(m)})
        if rd.soft_state is not None and rd.soft_state.role is not self._role:
            self._role = rd.soft_state.role
            w.role(self._role.value, rd.soft_state.leader)
        self._lease()
        w.flush()

    def step_done(self) -> None:
        """The step is over (a flush ended): log a lease change and write what is pending."""
        held = self.core.is_leader()
        if held != (self._lease_term is not None):
            if not self._open:
                self.writer.event("timer", {}, time.time())
            self._lease()
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
