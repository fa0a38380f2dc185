"""The observe-only level: features the canonical spec cannot judge, checked by invariants.

With PreVote on, the implementation's steps have no counterpart in raft.tla, so there is no
refinement or message check. A seeded random walk drives the adapter (timers, deliveries from
the harness's network, drops, crashes, restarts) and judges every answer by the safety
invariants on observations (conformance.harness.History) plus PreVote's own rule (thesis §9.6):
becoming a pre-candidate changes neither the term nor the vote.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from electorate.conformance.canonical import JSON, CanonicalError, node_id
from electorate.conformance.harness import History
from electorate.conformance.observe import NodeView, observed_view
from electorate.conformance.protocol import AdapterError, Client, ProtocolViolationError
from electorate.conformance.script import RunConfig

SIZES = (3, 4, 5)


@dataclass
class ObserveOutcome:
    passed: bool = True
    examples: int = 0
    steps: int = 0
    check: str = ""
    text: str = ""
    trace: list[str] = field(default_factory=list)  # the failing example's steps, in order
    seed: int = 0


def run(
    client: Client,
    features: tuple[str, ...],
    mutations: tuple[str, ...],
    seed: int,
    examples: int = 60,
    steps: int = 40,
) -> ObserveOutcome:
    out = ObserveOutcome(seed=seed)
    rng = random.Random(seed)
    for _ in range(examples):
        out.examples += 1
        n = rng.choice(SIZES)
        cfg = RunConfig(n, ((0, 0),) * n, seed, mutations)
        walk = _Walk(client, cfg, features, rng)
        problem = walk.run(steps)
        out.steps += len(walk.trace)
        if problem is not None:
            out.passed, out.check, out.text, out.trace = False, problem[0], problem[1], walk.trace
            return out
    return out


class _Walk:
    def __init__(
        self, client: Client, cfg: RunConfig, features: tuple[str, ...], rng: random.Random
    ) -> None:
        self.client, self.cfg, self.rng = client, cfg, rng
        self.features = features
        self.network: list[JSON] = []
        self.views: dict[int, NodeView] = {}
        self.down: set[int] = set()
        self.history = History()
        self.trace: list[str] = []

    def run(self, steps: int) -> tuple[str, str] | None:
        body = {**self.cfg.init_body(), "features": list(self.features)}
        problem = self._do("init", body, "init")
        for _ in range(steps):
            if problem is not None:
                return problem
            problem = self._step()
        return problem

    def _step(self) -> tuple[str, str] | None:
        n = self.cfg.servers
        up = [i for i in range(n) if i not in self.down]
        options: list[tuple[str, JSON, str]] = []
        for i in up:
            timer = "heartbeat" if self.views[i].role == "leader" else "election"
            options.append(
                ("fire_timer", {"node": node_id(i), "timer": timer}, f"{timer} {node_id(i)}")
            )
        live = [k for k, m in enumerate(self.network) if int(m["dest"][1:]) - 1 not in self.down]
        if live:
            k = self.rng.choice(live)
            m = self.network[k]
            label = f"deliver {m['type']} {m['src']}->{m['dest']} t{m['term']}"
            options += [("deliver", {"message": m, "_k": k}, label)] * 4
        if self.network:
            options.append(("drop", {"_k": self.rng.randrange(len(self.network))}, "drop"))
        if up:
            i = self.rng.choice(up)
            options.append(("crash", {"node": node_id(i)}, f"crash {node_id(i)}"))
        if self.down:
            i = self.rng.choice(sorted(self.down))
            options.append(("restart", {"node": node_id(i)}, f"restart {node_id(i)}"))
        kind, body, label = self.rng.choice(options)
        k = body.pop("_k", None)
        if k is not None:
            self.network.pop(k)
        if kind == "drop":
            self.trace.append(label)
            return None
        if kind == "crash":
            self.down.add(int(body["node"][1:]) - 1)
        if kind == "restart":
            self.down.discard(int(body["node"][1:]) - 1)
        return self._do(kind, body, label)

    def _do(self, kind: str, body: JSON, label: str) -> tuple[str, str] | None:
        self.trace.append(label)
        try:
            resp = self.client.request(kind, **{k: v for k, v in body.items() if k != "type"})
            views = {
                i: observed_view(d, self.cfg.servers)
                for i, d in ((i, resp["nodes"][node_id(i)]) for i in range(self.cfg.servers))
                if d.get("up")
            }
        except (ProtocolViolationError, AdapterError, CanonicalError, KeyError, TypeError) as e:
            return "protocol", str(e)
        self.network += resp["emitted"]
        bad = self.history.check(views)
        for i, v in views.items():
            old = self.views.get(i)
            started = old is not None and old.role != "pre_candidate" == v.role
            if started and old is not None and (v.term, v.voted_for) != (old.term, old.voted_for):
                bad.append(
                    ("PreVoteKeepsTermAndVote", f"{node_id(i)}: term {old.term} -> {v.term}")
                )
        self.views = {**self.views, **views}
        if bad:
            return f"invariant:{bad[0][0]}", bad[0][1]
        return None
