"""Run configurations and steps: what a replayable script is made of (JSONL on disk)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from electorate.conformance.canonical import (
    JSON,
    from_canonical,
    node_id,
    node_index,
    show,
    show_wire,
    static_log,
    to_canonical,
)
from electorate.conformance.protocol import PROTOCOL
from electorate.spec.ids import BUG_IDS, FEATURES, OPTIONS, BugId, Feature
from electorate.spec.messages import Message
from electorate.spec.next import Init
from electorate.spec.params import PREVOTE_OPTIONS, Params, bug_named, features_named
from electorate.spec.state import State

OPS: Final = (
    "timeout",
    "heartbeat",
    "deliver",
    "drop",
    "duplicate",
    "partition",
    "heal",
    "crash",
    "restart",
    "transfer",
    "period",  # an election period elapses at a node (feature level only)
)


class ScriptError(ValueError):
    """A script file or step is malformed; the text says where."""


def bug_id(name: object) -> BugId:
    """A spec bug's typed id; ScriptError for a name the spec does not know."""
    for b in BUG_IDS:
        if b == name:
            return b
    raise ScriptError(f"unknown spec bug {show(name)}; known: {', '.join(BUG_IDS)}")


def feature(name: object) -> Feature:
    """A spec feature's typed id; ScriptError for a name the spec does not know."""
    for f in FEATURES:
        if f == name:
            return f
    raise ScriptError(f"unknown feature {show(name)}; known: {', '.join(FEATURES)}")


@dataclass(frozen=True)
class RunConfig:
    """One example's cluster: size, each node's static log (last index, last term), the seed
    handed to the adapter, planted implementation bugs and a spec bug (negative control)."""

    servers: int
    logs: tuple[tuple[int, int], ...]
    seed: int = 0
    mutations: tuple[str, ...] = ()
    spec_bug: BugId | None = None
    features: tuple[Feature, ...] = ()  # spec features on both sides (the feature level)

    def params(self, declared: Iterable[str] = ()) -> Params:
        """The spec of this run: with the options the adapter declared that the spec has (a
        PreVote option only where PreVote is on, a CheckQuorum one where CheckQuorum is)."""
        features = features_named(self.features)
        chosen = {o for o in OPTIONS if o in declared}
        if "prevote" not in features:
            chosen -= PREVOTE_OPTIONS
        if "check_quorum" not in features:  # it changes CheckQuorum's lease
            chosen.discard("newer_term_adopted_in_lease")
        return Params(
            servers=self.servers,
            profile="heartbeat",
            bug=bug_named(self.spec_bug),
            features=features,
            options=frozenset(chosen),
        )

    def initial_term(self) -> int:
        """Every node starts in the term of the newest log entry (at least 1, as raft.tla)."""
        return max([1, *(t for _, t in self.logs)])

    def initial_state(self, declared: Iterable[str] = ()) -> State:
        s = Init(self.params(declared))
        logs = tuple(static_log(i, t) for i, t in self.logs)
        return s._replace(current_term=(self.initial_term(),) * self.servers, log=logs)

    def init_body(self) -> JSON:
        initial = {
            node_id(i): {
                "term": self.initial_term(),
                "voted_for": None,
                "last_log_index": idx,
                "last_log_term": t,
            }
            for i, (idx, t) in enumerate(self.logs)
        }
        body: JSON = {
            "nodes": [node_id(i) for i in range(self.servers)],
            "seed": self.seed,
            "features": list(self.features),
            "initial": initial,
        }
        if self.mutations:
            body["mutations"] = list(self.mutations)
        return body

    def to_json(self) -> JSON:
        return {
            "servers": self.servers,
            "logs": [list(x) for x in self.logs],
            "seed": self.seed,
            "mutations": list(self.mutations),
            "spec_bug": self.spec_bug,
            **({"features": list(self.features)} if self.features else {}),
        }

    @staticmethod
    def from_json(d: JSON) -> RunConfig:
        try:
            n = int(d["servers"])
            logs = tuple((int(a), int(b)) for a, b in d["logs"])
            if len(logs) != n or not 1 <= n <= 7:
                raise ScriptError(f"config: {n} servers but {len(logs)} logs")
            return RunConfig(
                n,
                logs,
                int(d.get("seed", 0)),
                tuple(d.get("mutations", ())),
                None if d.get("spec_bug") is None else bug_id(d["spec_bug"]),
                tuple(feature(f) for f in d.get("features", ())),
            )
        except KeyError as e:
            raise ScriptError(f"config: field {show(e.args[0])} missing") from e
        except (TypeError, ValueError) as e:
            raise ScriptError(f"config: malformed ({e})") from e

    def with_faults(self, mutations: tuple[str, ...], spec_bug: BugId | None) -> RunConfig:
        return RunConfig(self.servers, self.logs, self.seed, mutations, spec_bug, self.features)


@dataclass(frozen=True)
class Step:
    """One harness step. ``node``/``peer`` are spec indexes, ``msg`` a spec message, ``group``
    one side of a partition."""

    op: str
    node: int = -1
    peer: int = -1
    msg: Message | None = None
    group: tuple[int, ...] = field(default=())

    def __str__(self) -> str:
        if self.msg is not None:
            return f"{self.op}({show_wire(self.msg)})"
        if self.op == "transfer":
            return f"transfer({node_id(self.node)} -> {node_id(self.peer)})"
        if self.op == "partition":
            return "partition({" + ", ".join(node_id(i) for i in self.group) + "} | rest)"
        if self.node >= 0:
            return f"{self.op}({node_id(self.node)})"
        return f"{self.op}()"

    def to_json(self) -> JSON:
        out: JSON = {"op": self.op}
        if self.node >= 0:
            out["node"] = node_id(self.node)
        if self.peer >= 0:
            out["peer"] = node_id(self.peer)
        if self.msg is not None:
            out["message"] = to_canonical(self.msg)
        if self.group:
            out["group"] = [node_id(i) for i in self.group]
        return out

    @staticmethod
    def from_json(d: JSON, n: int) -> Step:
        try:
            op = d["op"]
            if op not in OPS:
                raise ScriptError(f"unknown step op {show(op)}")
            return Step(
                op,
                node_index(d["node"], n) if "node" in d else -1,
                node_index(d["peer"], n) if "peer" in d else -1,
                from_canonical(d["message"], n) if "message" in d else None,
                tuple(node_index(x, n) for x in d.get("group", [])),
            )
        except KeyError as e:
            raise ScriptError(f"step {show(d, 120)}: field {show(e.args[0])} missing") from e
        except (TypeError, ValueError) as e:
            raise ScriptError(f"step {show(d, 120)}: {e}") from e


@dataclass(frozen=True)
class Script:
    config: RunConfig
    steps: tuple[Step, ...]
    name: str = ""
    expect: JSON = field(default_factory=dict)


def header(script: Script) -> JSON:
    return {
        "kind": "header",
        "protocol": PROTOCOL,
        "name": script.name,
        "config": script.config.to_json(),
        "expect": script.expect,
    }


def write_script(path: Path, script: Script, records: list[JSON] | None = None) -> None:
    """Header, then one line per step (``records`` adds responses and spec states)."""
    lines = [header(script)]
    if records is not None:
        lines += records
    else:
        lines += [{"kind": "step", "step": s.to_json()} for s in script.steps]
    path.write_text("".join(json.dumps(x, sort_keys=True) + "\n" for x in lines), "utf-8")


BUNDLE_SCRIPT: Final = "script.jsonl"


def read_script(path: Path) -> Script:
    """A script from a JSONL file, or from a failure bundle's directory (its script.jsonl)."""
    if path.is_dir():
        if not (path / BUNDLE_SCRIPT).is_file():
            raise ScriptError(f"{path}: a directory without {BUNDLE_SCRIPT} (not a bundle)")
        path = path / BUNDLE_SCRIPT
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError as e:
        raise ScriptError(f"{path}: no such file") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ScriptError(f"{path}: cannot read it ({getattr(e, 'strerror', None) or e})") from e
    rows: list[object] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ScriptError(f"{path}: line {number} is not JSON (a JSONL script)") from e
    head = rows[0] if rows else None
    if not isinstance(head, dict) or head.get("kind") != "header":
        raise ScriptError(f"{path}: the first line must be a header object")
    if head.get("protocol") != PROTOCOL:
        raise ScriptError(f"{path}: protocol {show(head.get('protocol'))}, expected {PROTOCOL}")
    cfg = RunConfig.from_json(head.get("config", {}))
    steps = tuple(
        Step.from_json(r["step"], cfg.servers)
        for r in rows[1:]
        if isinstance(r, dict) and r.get("kind") == "step"
    )
    return Script(cfg, steps, str(head.get("name", "")), dict(head.get("expect") or {}))
