"""A failure bundle: replayable script, divergence table, timeline, Mermaid sequence diagram."""

from __future__ import annotations

import json
from pathlib import Path

from electorate.conformance.canonical import JSON, node_id
from electorate.conformance.harness import Failure, Session
from electorate.conformance.script import Script, header


def fresh_dir(parent: Path, name: str) -> Path:
    """A new directory ``parent/name`` (``name-2``, ``name-3``... if taken): a bundle is never
    overwritten."""
    parent.mkdir(parents=True, exist_ok=True)
    for k in range(1, 10_000):
        directory = parent / (name if k == 1 else f"{name}-{k}")
        try:
            directory.mkdir()
        except FileExistsError:
            continue
        return directory
    raise OSError(f"{parent}: no free bundle name for {name}")


def write_bundle(
    parent: Path, name: str, script: Script, session: Session, failure: Failure
) -> Path:
    """Write the bundle of a (minimized) failing run into a fresh directory under ``parent``."""
    directory = fresh_dir(parent, name)
    records = session.records()
    rows = [header(script), *records, {"kind": "failure", **failure_json(failure)}]
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    (directory / "script.jsonl").write_text(text, "utf-8")
    (directory / "divergence.md").write_text(divergence_table(failure), "utf-8")
    (directory / "timeline.md").write_text(timeline(records, script.config.servers), "utf-8")
    (directory / "sequence.mmd").write_text(mermaid(records, script.config.servers), "utf-8")
    return directory


def failure_json(f: Failure) -> JSON:
    return {
        "checks": f.checks,
        "step_index": f.step_index,
        "step": f.step,
        "rows": [list(r) for r in f.rows],
        "text": f.text,
    }


def divergence_table(f: Failure) -> str:
    lines = [
        f"# First divergence: {', '.join(f.checks)}",
        "",
        f"After step {f.step_index}: `{f.step}`",
        "",
    ]
    if f.text:
        lines += [f.text, ""]
    if f.rows:
        lines += ["| field | spec | implementation |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in f.rows]
    return "\n".join(lines) + "\n"


def _cell(d: JSON | None) -> str:
    if not d or not d.get("up", True):
        return "down"
    role = str(d.get("role", "?"))[0].upper()
    vote = d.get("voted_for") or "-"
    return f"{role} t{d.get('term')} v:{vote}"


def timeline(records: list[JSON], n: int) -> str:
    """One row per step: the step, then every node as the implementation reported it."""
    names = [node_id(i) for i in range(n)]
    lines = ["| # | step | " + " | ".join(names) + " |", "|---" * (n + 2) + "|"]
    for r in records:
        resp = r.get("response") or {}
        nodes = resp.get("nodes") or {}
        step = r.get("step", {"op": "init"})
        label = step["op"] + (f" {step['node']}" if "node" in step else "")
        if "message" in step:
            m = step["message"]
            label += f" {m['type']} {m['src']}->{m['dest']} t{m['term']}"
        cells = [_cell(nodes.get(x)) if nodes else "·" for x in names]
        lines.append(f"| {r['index']} | {label} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: role (F/C/L/P), term, vote; `·` = no adapter command at this step."]
    return "\n".join(lines) + "\n"


def mermaid(records: list[JSON], n: int) -> str:
    """A Mermaid sequence diagram: delivered messages as arrows, other steps as notes."""
    lines = ["sequenceDiagram"] + [f"    participant {node_id(i)}" for i in range(n)]
    everyone = f"{node_id(0)},{node_id(n - 1)}" if n > 1 else node_id(0)
    for r in records:
        step = r.get("step")
        if step is None:
            continue
        op = step["op"]
        if op == "deliver":
            m = step["message"]
            flag = {"vote_granted": "granted", "success": "ok"}
            extra = "".join(f" {v}" for k, v in flag.items() if m.get(k))
            lines.append(f"    {m['src']}->>{m['dest']}: {m['type']} t{m['term']}{extra}")
        elif op in ("drop", "duplicate"):
            m = step["message"]
            lines.append(f"    Note over {m['src']},{m['dest']}: {op} {m['type']} t{m['term']}")
        elif "node" in step:
            lines.append(f"    Note over {step['node']}: {op}")
        else:
            lines.append(f"    Note over {everyone}: {op} {step.get('group', '')}")
    return "\n".join(lines) + "\n"
