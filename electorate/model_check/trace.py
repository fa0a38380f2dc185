"""Counterexamples for humans and machines: numbered steps, Mermaid diagrams, JSON."""

from __future__ import annotations

from typing import Any

from electorate.model_check.model import Model
from electorate.model_check.search import Violation


def text(model: Model[Any, Any], v: Violation[Any, Any]) -> str:
    """Numbered steps `3. Receive(RequestVoteRequest s1->s2 term 2)` with what changed."""
    lines = [f"Counterexample to {v.invariant} ({v.description}), {len(v.trace)} states:"]
    before: dict[str, str] | None = None
    for k, (action, state) in enumerate(v.trace, start=1):
        now = model.show_variables(state)
        if before is None:
            lines.append(f"{k:>3}. Init")
            lines += [f"       {name} = {value}" for name, value in now.items()]
        else:
            lines.append(f"{k:>3}. {action}")
            changed = [(n, val) for n, val in now.items() if before.get(n) != val]
            lines += [f"       {name}' = {value}" for name, value in changed]
            if not changed:
                lines.append("       (no variable changed)")
        before = now
    return "\n".join(lines)


def mermaid(model: Model[Any, Any], v: Violation[Any, Any], verb: str = "violates") -> str:
    """A Mermaid sequence diagram: one arrow per message sent, a note per local step."""
    lines = ["sequenceDiagram"]
    lines += [f"    participant {p}" for p in model.participants()]
    if any(a is not None and "Message" in str(a).split("(")[0] for a, _ in v.trace):
        lines.append("    participant network")
    prev = None
    for k, (action, state) in enumerate(v.trace, start=1):
        if action is not None and prev is not None:
            for src, dst, label in model.arrows(action, prev, state):
                safe = label.replace(";", ",").replace("#", "")
                if src == dst:
                    lines.append(f"    Note over {src}: {k}. {safe}")
                else:
                    lines.append(f"    {src}->>{dst}: {k}. {safe}")
        prev = state
    lines.append(f"    Note over {model.participants()[0]}: {verb} {v.invariant}")
    return "\n".join(lines)


def as_json(model: Model[Any, Any], v: Violation[Any, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for action, state in v.trace:
        step: dict[str, Any] = (
            {"action": "Init", "args": [], "handler": None, "text": "Init"}
            if action is None
            else dict(model.action_json(action))
        )
        step["state"] = model.state_json(state)
        steps.append(step)
    return steps
