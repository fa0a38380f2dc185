"""Adapter for PySyncObj (bakwc/PySyncObj, PyPI ``pysyncobj``), a Raft library nobody here wrote,
driven step by step through its own extension points; its code is installed by package name
(``pip install 'electorate[thirdparty]'``) and never changed.

How it is driven (docs/conformance-matrix.md, *PySyncObj*, says why each choice is faithful):

- **Network.** Each node's ``Transport`` is :class:`HarnessTransport`: ``send`` only records the
  message, and a delivery calls the node's message callback, as PySyncObj's TCP transport does
  when a message arrives. Every peer is reported connected at start (PySyncObj campaigns only
  once its transport reports a connection) and never disconnected: the harness owns loss.
- **Time.** ``SyncObjConf(autoTick=False)``; the module-level clock ``monotonicTime`` is replaced
  by a virtual one, one reading per node. ``fire_timer election`` moves the node's clock just
  past its election deadline and calls ``doTick``; ``fire_timer heartbeat`` moves a leader's
  clock past its next append-entries time and calls ``doTick``. A delivery does not tick: what
  PySyncObj does on the next tick is timer work, and the harness fires timers.
- **Randomness.** PySyncObj draws its timeouts from the global ``random``, seeded from
  ``init.seed``.
- **Durable state.** A ``journalFile`` per node in a private temporary directory: PySyncObj's own
  ``FileJournal`` keeps the log and, in its meta file, currentTerm and votedFor. ``crash`` drops
  the node; ``restart`` builds a new ``SyncObj`` on the same journal. With ``--memory-journal``
  a restarted node gets no ``journalFile``, PySyncObj's default configuration: it comes back
  with an empty log, term 0 and no vote.
- **Mapping.** PySyncObj's log starts with a no-op entry at index 1 of term 0, so a canonical
  index is PySyncObj's minus one (the static ``initial`` log is written after that entry). Its
  messages map to canonical ones (``request_vote`` → ``request_vote``, ``response_vote`` →
  ``request_vote_res`` granted, ``append_entries`` → ``append_entries``, ``next_node_idx`` →
  ``append_entries_res``); the original message travels in ``ext.pysyncobj`` and is what a
  delivery hands back. ``next_node_idx`` carries no term: its canonical ``term`` is the sender's
  term when it sent it. PySyncObj counts votes (``__votesCount``) without recording voters, so
  ``votes_granted`` is reported empty and not declared observable.

Run as ``python -m electorate.conformance.adapters.pysyncobj_host [--memory-journal]`` (stdio).
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from electorate.conformance.adapters.host import CommandError, Host
from electorate.conformance.canonical import JSON

PACKAGE: Final = "pysyncobj"
VERSION: Final = "0.3.17"  # the pin of pyproject.toml's `thirdparty` extra
INSTALL: Final = "pip install 'electorate[thirdparty]'"
ROLES: Final = ("follower", "candidate", "leader")  # PySyncObj's _RAFT_STATE 0, 1, 2
FAR: Final = 1e12  # log compaction never: the harness's runs are short and the log static
EPSILON: Final = 1e-3  # seconds past a deadline, so that "deadline < now" holds


def available() -> str | None:
    """None when PySyncObj is installed at the pinned version, else what to do."""
    try:
        have = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return f"needs PySyncObj {VERSION}: {INSTALL}"
    if have != VERSION:
        return f"needs PySyncObj {VERSION}, found {have}: {INSTALL}"
    return None


class _Clock:
    """The virtual ``monotonicTime`` of whichever node is running (set before each call)."""

    now = 0.0

    def __call__(self) -> float:
        return self.now


CLOCK: Final = _Clock()


def _pysyncobj() -> Any:
    """Import PySyncObj and replace its clock (once); a missing install is a one-line error."""
    problem = available()
    if problem is not None:
        raise CommandError("unsupported", problem)
    import pysyncobj.syncobj as so

    so.monotonicTime = CLOCK
    return so


@cache
def _transport_class(so: Any) -> Any:
    class HarnessTransport(so.Transport):  # type: ignore[misc]
        """PySyncObj's transport seam: messages go to an outbox the adapter empties."""

        def __init__(self, syncObj: Any, selfNode: Any, otherNodes: Any) -> None:
            super().__init__(syncObj, selfNode, otherNodes)
            self.sync = syncObj
            self.outbox: list[tuple[str, int, dict[str, Any]]] = []

        def send(self, node: Any, message: Any) -> bool:
            # the sender's term at sending: next_node_idx does not carry one
            self.outbox.append((node.id, self.sync.raftCurrentTerm, message))
            return True

    return HarnessTransport


class _Node:
    """One live PySyncObj node with its transport and virtual clock reading."""

    def __init__(self, sync: Any, transport: Any) -> None:
        self.sync = sync
        self.transport = transport

    def private(self, name: str) -> Any:
        """A SyncObj attribute with no public accessor (role, vote, deadlines)."""
        return getattr(self.sync, f"_SyncObj__{name}")


class PySyncObjHost(Host):
    name = "pysyncobj"
    implementation = f"PySyncObj {VERSION} (PyPI pysyncobj)"
    capabilities = ("step", "crash_restart")
    options = ("optimistic_next_index",)  # nextIndex advances when an entry is sent

    def __init__(self, journal: str | None = None) -> None:
        """``journal="memory"``: restarts without a journal (PySyncObj's default configuration,
        ``--adapter pysyncobj:memory``); None: PySyncObj's FileJournal."""
        super().__init__()
        if journal not in (None, "memory"):
            raise ValueError(f"pysyncobj:{journal}: the only variant is pysyncobj:memory")
        self.durable = journal is None
        if not self.durable:
            self.implementation += ", restarts without journalFile"
        self._ids: list[str] = []
        self._live: dict[str, _Node] = {}
        self._clock: dict[str, float] = {}
        self._dir: Path | None = None

    def cmd_hello(self, req: JSON) -> JSON:
        body = super().cmd_hello(req)
        body["observables"] = ["role", "term", "voted_for", "leader"]  # no voters: a count
        return body

    def cmd_init(self, req: JSON) -> JSON:
        so = _pysyncobj()
        if req.get("features"):
            raise CommandError("unsupported", "PySyncObj has neither PreVote nor CheckQuorum")
        if req.get("mutations"):
            raise CommandError("unsupported", "PySyncObj is third-party code: no planted bugs")
        ids = [str(x) for x in req["nodes"]]
        if not ids:
            raise CommandError("bad_request", "init needs nodes")
        self.close()
        self._dir = Path(tempfile.mkdtemp(prefix="electorate-pysyncobj-"))
        self._ids, self._live, self._clock = ids, {}, {}
        random.seed(int(req.get("seed", 0)))  # PySyncObj's timeouts come from the global random
        initial = req.get("initial", {})
        for nid in ids:
            init = initial.get(nid, {})
            self._write_journal(so, nid, init)
            self._clock[nid] = 0.0
            self._start(so, nid, self._journal(nid))
        self.initialized = True
        return self._answer([])

    def _journal(self, nid: str) -> str:
        assert self._dir is not None
        return str(self._dir / f"{nid}.journal")

    def _write_journal(self, so: Any, nid: str, init: JSON) -> None:
        """The durable state PySyncObj would have written: its no-op entry at index 1 (term 0),
        then the static log (last index k, last term t; earlier entries term 1), term and vote."""
        from pysyncobj.journal import FileJournal

        journal = FileJournal(self._journal(nid))
        noop = bytes([so._COMMAND_TYPE.NO_OP])
        journal.add(noop, 1, 0)
        k, t = int(init.get("last_log_index", 0)), int(init.get("last_log_term", 0))
        for index in range(1, k + 1):
            journal.add(noop, index + 1, t if index == k else 1)
        journal.setCurrentTerm(int(init.get("term", 0)), init.get("voted_for"))
        journal._destroy()

    def _start(self, so: Any, nid: str, journal: str | None) -> None:
        from pysyncobj.node import Node

        conf = so.SyncObjConf(
            autoTick=False,
            journalFile=journal,
            logCompactionMinEntries=FAR,
            logCompactionMinTime=FAR,
            useFork=False,
        )
        CLOCK.now = self._clock[nid]
        others = [Node(x) for x in self._ids if x != nid]
        sync = so.SyncObj(
            Node(nid), others, conf, nodeClass=Node, transportClass=_transport_class(so)
        )
        transport = sync._SyncObj__transport
        for peer in others:
            transport._onNodeConnected(peer)  # connected from the start, never dropped
        self._live[nid] = _Node(sync, transport)

    def _up(self, nid: object) -> _Node:
        if nid not in self._ids:
            raise CommandError("unknown_node", f"unknown node {nid}")
        node = self._live.get(str(nid))
        if node is None:
            raise CommandError("node_down", f"{nid} is crashed")
        return node

    def _tick_at(self, nid: str, node: _Node, at: float) -> list[JSON]:
        self._clock[nid] = max(self._clock[nid], at)
        CLOCK.now = self._clock[nid]
        node.sync.doTick(0.0)
        return self._drain(nid, node)

    def cmd_fire_timer(self, req: JSON) -> JSON:
        nid, timer = str(req["node"]), req["timer"]
        node = self._up(nid)
        if timer == "election":
            deadline = node.private("raftElectionDeadline")
            return self._answer(self._tick_at(nid, node, deadline + EPSILON))
        if timer == "heartbeat":
            due = node.private("newAppendEntriesTime")
            leads = node.sync._isLeader()
            return self._answer(self._tick_at(nid, node, due + EPSILON) if leads else [])
        raise CommandError("unsupported", f"timer {timer}: PySyncObj has no such timer")

    def cmd_deliver(self, req: JSON) -> JSON:
        from pysyncobj.node import Node

        message = req["message"]
        src, dest = message.get("src"), message.get("dest")
        if src not in self._ids:
            raise CommandError("unknown_node", f"unknown sender {src}")
        node = self._up(dest)
        CLOCK.now = self._clock[str(dest)]
        node.transport._onMessageReceived(Node(src), decode(message))
        return self._answer(self._drain(str(dest), node))

    def cmd_crash(self, req: JSON) -> JSON:
        nid = str(req["node"])
        node = self._up(nid)
        node.sync._doDestroy()  # releases the journal file; nothing is flushed that a crash loses
        del self._live[nid]
        return self._answer([])

    def cmd_restart(self, req: JSON) -> JSON:
        nid = req["node"]
        if nid not in self._ids:
            raise CommandError("unknown_node", f"unknown node {nid}")
        if nid in self._live:
            raise CommandError("bad_request", f"{nid} is up")
        self._start(_pysyncobj(), str(nid), self._journal(str(nid)) if self.durable else None)
        return self._answer([])

    def cmd_observe(self, req: JSON) -> JSON:
        return self._answer([])

    def _drain(self, nid: str, node: _Node) -> list[JSON]:
        out = [encode(nid, dest, term, m) for dest, term, m in node.transport.outbox]
        node.transport.outbox.clear()
        return out

    def _answer(self, emitted: list[JSON]) -> JSON:
        nodes: JSON = {}
        for nid in self._ids:
            node = self._live.get(nid)
            nodes[nid] = {"up": False} if node is None else observe(node)
        return {"emitted": emitted, "nodes": nodes}

    def close(self) -> None:
        for node in self._live.values():
            node.sync._doDestroy()
        self._live = {}
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def observe(node: _Node) -> JSON:
    leader = node.sync._getLeader()
    return {
        "up": True,
        "role": ROLES[node.private("raftState")],
        "term": node.sync.raftCurrentTerm,
        "voted_for": node.private("votedForNodeId"),
        "votes_granted": [],  # PySyncObj counts grants without recording who granted
        "leader": None if leader is None else leader.id,
    }


def _entries(raw: list[Any]) -> tuple[list[JSON], list[list[Any]]]:
    """Canonical entries (term, value 0: PySyncObj's commands are opaque bytes) and the
    entries as PySyncObj needs them back (command bytes in hex, its index, term)."""
    canonical = [{"term": int(e[2]), "value": 0} for e in raw]
    back = [[bytes(e[0]).hex(), int(e[1]), int(e[2])] for e in raw]
    return canonical, back


def encode(src: str, dest: str, term: int, m: dict[str, Any]) -> JSON:
    """PySyncObj's message ``m`` from ``src`` to ``dest`` in canonical form (indices minus one:
    PySyncObj's log starts with a no-op at index 1)."""
    kind = m.get("type")
    head: JSON = {"src": src, "dest": dest}
    if kind == "request_vote":
        return {
            "type": "request_vote",
            **head,
            "term": m["term"],
            "candidate_id": src,
            "last_log_index": m["last_log_index"] - 1,
            "last_log_term": m["last_log_term"],
            "pre_vote": False,
            "ext": {"pysyncobj": dict(m)},
        }
    if kind == "response_vote":  # sent only to grant a vote
        return {
            "type": "request_vote_res",
            **head,
            "term": m["term"],
            "vote_granted": True,
            "pre_vote": False,
            "ext": {"pysyncobj": dict(m)},
        }
    if kind == "append_entries" and "prevLogIdx" in m and "transmission" not in m:
        entries, back = _entries(m.get("entries", []))
        raw = {k: v for k, v in m.items() if k != "entries"} | {"entries": back}
        return {
            "type": "append_entries",
            **head,
            "term": m["term"],
            "leader_id": src,
            "prev_log_index": m["prevLogIdx"] - 1,
            "prev_log_term": m["prevLogTerm"],
            "entries": entries,
            "leader_commit": max(m["commit_index"] - 1, 0),
            "ext": {"pysyncobj": raw},
        }
    if kind == "next_node_idx":
        success = bool(m["success"])
        return {
            "type": "append_entries_res",
            **head,
            "term": term,
            "success": success,
            "match_index": m["next_node_idx"] - 2 if success else 0,
            "ext": {"pysyncobj": dict(m)},
        }
    what = kind if kind != "append_entries" else "append_entries (a snapshot or a split entry)"
    raise CommandError("internal", f"PySyncObj sent {what}, which has no canonical form")


def decode(message: JSON) -> dict[str, Any]:
    """The PySyncObj message a canonical one came from (kept in ``ext.pysyncobj``)."""
    raw = (message.get("ext") or {}).get("pysyncobj")
    if not isinstance(raw, dict) or "type" not in raw:
        raise CommandError("bad_request", "a PySyncObj message carries ext.pysyncobj")
    out = dict(raw)
    if out["type"] == "append_entries":
        out["entries"] = [(bytes.fromhex(c), i, t) for c, i, t in out.get("entries", [])]
    return out


if __name__ == "__main__":
    from electorate.conformance.adapters.transport import serve

    raise SystemExit(serve(PySyncObjHost("memory" if "--memory-journal" in sys.argv[1:] else None)))
