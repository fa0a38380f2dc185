"""Counterexamples for humans and machines: numbered steps, Mermaid diagrams, JSON, and ITF.

ITF is the Informal Trace Format of Apalache and Quint
(https://apalache-mc.org/docs/adr/015adr-trace.html), which their trace viewers open.
"""

from __future__ import annotations

import json
import time
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


ITF_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
ACTION_VAR = "mbt::actionTaken"  # the variable Quint's traces name the step's action in


def itf(model: Model[Any, Any], v: Violation[Any, Any], source: str = "") -> dict[str, Any]:
    """The trace in ITF: the model's JSON state per step, integers as `{"#bigint": ...}`,
    absent values (None) as the string "Nil", and the step's action under mbt::actionTaken."""
    states: list[dict[str, Any]] = []
    names: list[str] = []
    for k, (action, state) in enumerate(v.trace):
        values = model.state_json(state)
        names = names or list(values)
        step: dict[str, Any] = {"#meta": {"index": k}}
        step.update({name: _itf_value(value) for name, value in values.items()})
        step[ACTION_VAR] = "Init" if action is None else str(model.action_json(action)["text"])
        states.append(step)
    return {
        "#meta": {
            "format": "ITF",
            "format-description": ITF_DESCRIPTION,
            "source": source,
            "description": f"electorate: counterexample to {v.invariant} ({v.description})",
            "timestamp": int(time.time() * 1000),
        },
        "vars": [*names, ACTION_VAR],
        "states": states,
    }


def _itf_value(x: object) -> Any:
    if isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return {"#bigint": str(x)}
    if x is None:
        return "Nil"
    if isinstance(x, dict):
        return {str(k): _itf_value(val) for k, val in x.items()}
    if isinstance(x, (list, tuple)):
        return [_itf_value(item) for item in x]
    return {"#unserializable": repr(x)}


def render(model: Model[Any, Any], v: Violation[Any, Any], fmt: str, verb: str = "violates") -> str:
    """The trace as text in one of the formats: text, mermaid, json, itf."""
    if fmt == "mermaid":
        return mermaid(model, v, verb)
    if fmt == "json":
        return json.dumps(as_json(model, v), indent=2)
    if fmt == "itf":
        return json.dumps(itf(model, v), indent=2)
    return text(model, v)
