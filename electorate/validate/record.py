"""Record a run of any conformance adapter as a trace: third-party Raft in this format.

    python -m electorate.validate.record --adapter etcd-raft --seed 3 --steps 400 run.ndjson
    electorate validate run.ndjson

The conformance suite's adapters (electorate/conformance/adapters: PySyncObj, etcd raft,
liferaft, the Figure-2 JavaScript reference, the production core) answer every command with
the step's emitted messages and every node's role, term and vote. This drives one with a
seeded random walk (timers, deliveries in random order, losses, crashes and restarts) and
writes what each node did as trace events, through the same writer an implementation would
call (electorate.validate.tracefile.TraceWriter): a delivery is a ``recv`` step, a timer a
``timer`` step, a restart a ``restart``; the step's messages are ``send`` events (a vote answer
also a ``vote``), a changed term or vote a ``term`` event, a changed role a ``role`` event.
Leases are not reported by adapters: ``lease`` is left out of ``observes``. An adapter that
declares the ``restart_guard`` option (a restarted node acts as inside a lease) runs with the
``lease`` restart rule.

The trace is then judged by ``electorate validate`` alone, without the harness. Logs are
abstracted there (empty): an implementation whose election appends a log entry (etcd's empty
entry, PySyncObj's no-op) fails at the first vote request that carries it.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

from electorate.validate.tracefile import TraceWriter

JSON = dict[str, Any]


def wire(m: JSON) -> JSON:
    """A canonical adapter message in the trace's form (Raft paper names to wire names)."""
    out: JSON = {"type": m["type"], "src": m["src"], "dst": m["dest"], "term": m["term"]}
    kind = m["type"]
    if kind == "request_vote":
        out |= {
            "last_log_index": m.get("last_log_index", 0),
            "last_log_term": m.get("last_log_term", 0),
            "pre_vote": bool(m.get("pre_vote", False)),
        }
    elif kind == "request_vote_res":
        out |= {"granted": bool(m["vote_granted"]), "pre_vote": bool(m.get("pre_vote", False))}
    elif kind == "append_entries":
        out["leader_commit"] = m.get("leader_commit", 0)
        if m.get("prev_log_index") or m.get("prev_log_term") or m.get("entries"):
            out["prev_log_index"] = m.get("prev_log_index", 0)
            out["prev_log_term"] = m.get("prev_log_term", 0)
            out["entries"] = len(m.get("entries", []))
    elif kind == "append_entries_res":
        out["success"] = bool(m["success"])
    return out


class Recorder:
    """Drives an adapter's cluster and writes each node's steps (see the module doc)."""

    def __init__(self, client: Any, hello: Any, path: Path, nodes: int, features: list[str]):
        self.client = client
        self.ids = [f"n{k + 1}" for k in range(nodes)]
        self.features = features
        self.lease = "restart_guard" in hello.options and bool(features)
        self.writers = {n: TraceWriter(path, n) for n in self.ids}
        self.views: dict[str, JSON] = {}
        self.network: list[JSON] = []
        self.steps = 0

    def init(self, seed: int) -> None:
        initial = {
            n: {"term": 1, "voted_for": None, "last_log_index": 0, "last_log_term": 0}
            for n in self.ids
        }
        body = {"nodes": self.ids, "seed": seed, "features": self.features, "initial": initial}
        resp = self.client.request("init", **body)
        for n in self.ids:
            v = resp["nodes"][n]
            self.writers[n].start(
                v["term"],
                v["voted_for"],
                self.ids,
                prevote="prevote" in self.features,
                check_quorum="check_quorum" in self.features,
                lease=self.lease,
                observes=("recv", "send", "term", "vote", "role"),
                info={"recorded_from": "conformance adapter"},
            )
        self._after("", resp)

    def step(self, kind: str, node: str, /, **body: Any) -> None:
        resp = self.client.request(kind, **body)
        w = self.writers[node]
        if kind == "restart":
            v = resp["nodes"][node]
            w.start(
                v["term"],
                v["voted_for"],
                self.ids,
                prevote="prevote" in self.features,
                check_quorum="check_quorum" in self.features,
                lease=self.lease,
                observes=("recv", "send", "term", "vote", "role"),
                restart=True,
            )
        elif kind == "deliver":
            w.recv(wire(body["message"]))
        elif kind == "fire_timer":
            w.timer(str(body["timer"]))
        self._after(node if kind != "crash" else "", resp)
        self.steps += 1

    def _after(self, node: str, resp: JSON) -> None:
        for m in resp.get("emitted", []):
            w = self.writers[m["src"]]
            if m["type"] == "request_vote_res":
                w.vote(m["dest"], m["term"], bool(m["vote_granted"]), bool(m.get("pre_vote")))
            w.send(wire(m))
            self.network.append(m)
        for n, v in resp["nodes"].items():
            old = self.views.get(n)
            if v.get("up") and old is not None and old.get("up") and n == node:
                w = self.writers[n]
                if (v["term"], v["voted_for"]) != (old["term"], old["voted_for"]):
                    w.term(v["term"], v["voted_for"])
                if v["role"] != old["role"]:
                    w.role(v["role"], v.get("leader"))
            self.views[n] = v
        for w in self.writers.values():
            w.flush()

    def walk(self, rng: random.Random, steps: int, faults: bool) -> None:
        """A seeded random walk: mostly deliveries and timers; losses, crashes, restarts."""
        crash_ok = faults
        for _ in range(steps):
            up = [n for n in self.ids if self.views[n].get("up")]
            down = [n for n in self.ids if not self.views[n].get("up")]
            r = rng.random()
            if self.network and r < 0.6:
                m = self.network.pop(rng.randrange(len(self.network)))
                if m["dest"] in up and not (faults and rng.random() < 0.05):
                    self.step("deliver", m["dest"], message=m)
            elif down and r < 0.65:
                n = rng.choice(down)
                self.step("restart", n, node=n)
            elif crash_ok and len(up) > 1 and r < 0.67:
                n = rng.choice(up)
                self.step("crash", n, node=n)
            elif up:
                n = rng.choice(up)
                timer = "heartbeat" if self.views[n]["role"] == "leader" else "election"
                if self.features and rng.random() < 0.3:
                    timer = "period"
                self.step("fire_timer", n, node=n, timer=timer)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()


def main(argv: list[str] | None = None) -> int:
    from electorate.conformance.adapters.transport import open_adapter
    from electorate.conformance.protocol import AdapterError, ProtocolViolationError
    from electorate.conformance.suite import connect

    ap = argparse.ArgumentParser(prog="python -m electorate.validate.record", description=__doc__)
    ap.add_argument("out", help="the trace file to write (appended to)")
    ap.add_argument("--adapter", required=True, help="a built-in adapter's name, or a command")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--features", default="", help="prevote,check_quorum (if the adapter declares them)"
    )
    ap.add_argument("--no-faults", action="store_true", help="no losses, crashes or restarts")
    a = ap.parse_args(argv)
    features = [f for f in a.features.split(",") if f]
    if a.nodes < 1 or a.steps < 0 or any(f not in ("prevote", "check_quorum") for f in features):
        print("record: --nodes >= 1, --steps >= 0, --features from prevote,check_quorum",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        adapter = open_adapter(a.adapter)
    except (ValueError, ProtocolViolationError) as e:
        print(f"record: adapter {a.adapter!r}: {e}", file=sys.stderr)
        return 2
    rec: Recorder | None = None
    try:
        client, hello = connect(adapter, strict=False)
        missing = [f for f in features if f not in hello.capabilities]
        if missing:
            print(f"record: {a.adapter} does not declare {', '.join(missing)}", file=sys.stderr)
            return 2
        rec = Recorder(client, hello, Path(a.out), a.nodes, features)
        rec.init(a.seed)
        rec.walk(random.Random(a.seed), a.steps, not a.no_faults)
    except (AdapterError, ProtocolViolationError) as e:
        print(f"record: {a.adapter} failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if rec is not None:
            rec.close()
        adapter.close()
    print(f"recorded {rec.steps if rec else 0} steps of {a.adapter} (seed {a.seed}) in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
