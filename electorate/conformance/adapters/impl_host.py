"""Adapter for impl/: RoleMachines driven by protocol commands, each step run to quiescence.

The host plays the runtime: it drains ``ready()`` after every event, persists ``hard_state``
(the durable store a restart reads) and hands back the messages in canonical form. Timers are
fired directly (``election_timeout``/``heartbeat_timeout``), never by ``tick()``: the harness owns
the clocks.
"""

from __future__ import annotations

import random

from electorate.conformance.adapters.host import CommandError, Host
from electorate.conformance.canonical import JSON
from electorate.conformance.mutants import ADMITTED
from electorate.impl.core import ConfigError, CoreConfig, HardState, RoleMachine
from electorate.impl.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Message,
    RequestVote,
    RequestVoteResponse,
    TimeoutNow,
)
from electorate.testing.mutants import Mutant, machine_class, parse_mutants

CLUSTER = "conformance"


class ImplHost(Host):
    name = "impl"
    implementation = "electorate impl/core.py RoleMachine"
    capabilities = ("step", "crash_restart", "transfer", "prevote", "check_quorum")
    # _tally gives up a lost election; a started node assumes a leader's lease (_in_lease);
    # _may_prevote refuses a same-term pre-vote while it knows a leader (etcd's rule).
    options = ("abandon_lost_election", "restart_guard", "prevote_refused_with_known_leader")
    # every planted bug but those raft.tla admits (conformance.mutants.ADMITTED)
    mutants = tuple(sorted(m.value for m in Mutant if m.value not in ADMITTED))

    def __init__(self) -> None:
        super().__init__()
        self._ids: tuple[str, ...] = ()
        self._configs: dict[str, CoreConfig] = {}
        self._logs: dict[str, tuple[int, int]] = {}
        self._durable: dict[str, HardState] = {}
        self._nodes: dict[str, RoleMachine | None] = {}
        self._mutants: frozenset[Mutant] = frozenset()
        self._seed = 0
        self._starts = 0

    # ------------------------------------------------------------------ commands
    def cmd_init(self, req: JSON) -> JSON:
        ids = tuple(req["nodes"])
        features = set(req.get("features", []))
        try:
            self._mutants = parse_mutants(req.get("mutations", []))
            machine_class(self._mutants)
        except ValueError as e:  # a mutant this adapter cannot plant
            raise CommandError("unsupported", str(e)) from None
        self._ids, self._seed, self._starts = ids, int(req.get("seed", 0)), 0
        initial = req.get("initial", {})
        self._configs, self._logs, self._durable, self._nodes = {}, {}, {}, {}
        for nid in ids:
            init = initial.get(nid, {})
            self._configs[nid] = CoreConfig(
                node_id=nid,
                voters=ids,
                cluster=CLUSTER,
                prevote="prevote" in features,
                check_quorum="check_quorum" in features,
            )
            self._logs[nid] = (
                int(init.get("last_log_index", 0)),
                int(init.get("last_log_term", 0)),
            )
            self._durable[nid] = HardState(int(init.get("term", 0)), init.get("voted_for"))
            self._start(nid)
        self.initialized = True
        return self._answer([])

    def cmd_fire_timer(self, req: JSON) -> JSON:
        m = self._up(req["node"])
        if req["timer"] == "election":
            m.election_timeout()
        elif req["timer"] == "heartbeat":
            m.heartbeat_timeout()
        elif req["timer"] == "period":
            # An election period elapses (feature level): the node's own clock runs, so its
            # lease check, CheckQuorum period and randomized election timer all see time pass.
            for _ in range(m.config.election_ticks):
                m.tick()
        else:
            raise CommandError("bad_request", f"unknown timer {req['timer']!r}")
        return self._answer(self._drain(m))

    def cmd_deliver(self, req: JSON) -> JSON:
        d = req["message"]
        msg = decode(d)
        m = self._up(msg.dst)
        m.step(msg)
        # A logless follower that accepts a heartbeat matches the leader up to prev_log_index.
        return self._answer(self._drain(m, match=int(d.get("prev_log_index", 0))))

    def cmd_crash(self, req: JSON) -> JSON:
        self._up(req["node"])
        self._nodes[req["node"]] = None
        return self._answer([])

    def cmd_restart(self, req: JSON) -> JSON:
        nid = req["node"]
        if nid not in self._nodes:
            raise CommandError("unknown_node", f"unknown node {nid!r}")
        self._start(nid)
        return self._answer([])

    def cmd_transfer(self, req: JSON) -> JSON:
        leader, target = self._up(req["from"]), req["to"]
        leader.transfer_leadership(target)
        out: list[JSON] = []
        for msg in self._drain_raw(leader):
            if isinstance(msg, TimeoutNow) and msg.dst == target:
                t = self._up(target)
                t.step(msg)  # delivered at once: TimeoutNow is not a spec message
                out += self._drain(t)
            else:
                out.append(encode(msg, self._logs[leader.config.node_id], 0))
        return self._answer(out)

    def cmd_observe(self, req: JSON) -> JSON:
        return self._answer([])

    # ------------------------------------------------------------------ helpers
    def _start(self, nid: str) -> None:
        self._starts += 1
        rng = random.Random(f"{self._seed}:{nid}:{self._starts}")
        try:
            self._nodes[nid] = machine_class(self._mutants)(
                self._configs[nid], self._durable[nid], rng, last_log=self._logs[nid]
            )
        except ConfigError as e:
            raise CommandError("bad_request", str(e)) from e

    def _up(self, nid: object) -> RoleMachine:
        if nid not in self._nodes:
            raise CommandError("unknown_node", f"unknown node {nid!r}")
        m = self._nodes[str(nid)]
        if m is None:
            raise CommandError("node_down", f"node {nid} is crashed")
        return m

    def _drain_raw(self, m: RoleMachine) -> list[Message]:
        out: list[Message] = []
        while m.has_ready():
            rd = m.ready()
            if rd.hard_state is not None:  # persist before sending, as the Ready contract says
                self._durable[m.config.node_id] = rd.hard_state
            out += rd.messages
        return out

    def _drain(self, m: RoleMachine, match: int = 0) -> list[JSON]:
        log = self._logs[m.config.node_id]
        return [encode(x, log, match) for x in self._drain_raw(m)]

    def _answer(self, emitted: list[JSON]) -> JSON:
        return {"emitted": emitted, "nodes": {nid: self._observe(nid) for nid in self._ids}}

    def _observe(self, nid: str) -> JSON:
        m = self._nodes.get(nid)
        if m is None:
            return {"up": False}
        return {
            "up": True,
            "role": m.role.value,
            "term": m.term,
            "voted_for": m.voted_for,
            "votes_granted": sorted(m.votes_granted) if m.role.value == "candidate" else [],
            "leader": m.leader,
        }


def encode(m: Message, log: tuple[int, int], match: int) -> JSON:
    """Canonical form of an impl message. ``log`` is the sender's (last index, last term);
    ``match`` the prev_log_index of the heartbeat being answered."""
    base: JSON = {"src": m.src, "dest": m.dst, "term": m.term}
    if isinstance(m, RequestVote):
        out = {"type": "request_vote", **base, "candidate_id": m.src}
        out |= {"last_log_index": m.last_log_index, "last_log_term": m.last_log_term}
        out["pre_vote"] = m.pre_vote
        if m.transfer:
            out["ext"] = {"transfer": True}
        return out
    if isinstance(m, RequestVoteResponse):
        return {
            "type": "request_vote_res",
            **base,
            "vote_granted": m.granted,
            "pre_vote": m.pre_vote,
        }
    if isinstance(m, AppendEntries):
        return {
            "type": "append_entries",
            **base,
            "leader_id": m.src,
            "prev_log_index": log[0],
            "prev_log_term": log[1],
            "entries": [],
            "leader_commit": m.leader_commit,
            "ext": {"round": m.round},
        }
    if isinstance(m, AppendEntriesResponse):
        return {
            "type": "append_entries_res",
            **base,
            "success": m.success,
            "match_index": match if m.success else 0,
            "ext": {"round": m.round},
        }
    raise CommandError("internal", f"message {type(m).__name__} has no canonical form")


def decode(d: JSON) -> Message:
    kind, ext = d.get("type"), d.get("ext") or {}
    src, dst, term = str(d["src"]), str(d["dest"]), int(d["term"])
    if kind == "request_vote":
        return RequestVote(
            CLUSTER,
            src,
            dst,
            term,
            int(d["last_log_index"]),
            int(d["last_log_term"]),
            bool(d.get("pre_vote", False)),
            bool(ext.get("transfer", False)),
        )
    if kind == "request_vote_res":
        granted, pre = bool(d["vote_granted"]), bool(d.get("pre_vote", False))
        return RequestVoteResponse(CLUSTER, src, dst, term, granted, pre)
    if kind == "append_entries":
        return AppendEntries(
            CLUSTER, src, dst, term, int(d["leader_commit"]), int(ext.get("round", 0))
        )
    if kind == "append_entries_res":
        ok, rnd = bool(d["success"]), int(ext.get("round", 0))
        return AppendEntriesResponse(CLUSTER, src, dst, term, ok, rnd)
    raise CommandError("bad_request", f"unknown message type {kind!r}")
