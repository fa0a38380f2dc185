"""A verdict as text (for people) or JSON (for programs)."""

from __future__ import annotations

from typing import Any

from electorate.validate.events import Event
from electorate.validate.search import Failure, Verdict
from electorate.validate.why import show_action


def widths_text(widths: list[int]) -> str:
    """The frontier width at each step, run-length encoded: ``1 x412, 2 x3, 1 x50``."""
    runs: list[list[int]] = []
    for w in widths:
        if runs and runs[-1][0] == w:
            runs[-1][1] += 1
        else:
            runs.append([w, 1])
    return ", ".join(f"{w} x{k}" for w, k in runs) or "(no step taken)"


def summary(v: Verdict) -> str:
    """One line: the verdict and its figures."""
    nodes = v.model.p.servers if v.model else 0
    figures = (
        f"{nodes} nodes, {v.events} events, {v.steps} steps, frontier max {v.max_width}, "
        f"{v.seconds:.2f} s"
    )
    if v.status == "valid":
        return f"{v.source}: valid ({figures})"
    if v.status == "inconclusive":
        return f"{v.source}: INCONCLUSIVE ({figures}): {v.note}"
    if v.failure is None:
        return f"{v.source}: INVALID ({figures}): {v.note}"
    f = v.failure
    return f"{v.source}: INVALID at {f.event.where}: {f.event.show()} ({figures})"


def text(v: Verdict, behaviour: bool = False) -> str:
    """The summary line, then for a failure: the problem, the rule, the step, the frontier."""
    lines = [summary(v)]
    if v.failure is not None:
        lines += failure_lines(v.failure, v.widths)
    elif v.rule is not None and v.status != "valid":
        lines.append(f"  rule broken: {v.rule.show()} ({v.rule.event.where})")
    if behaviour and v.behaviour and v.model is not None:
        lines.append("  matched behaviour (each step, then the spec actions that explain it):")
        for step, acts in v.behaviour:
            shown = "; ".join(show_action(v.model, a) for a in acts) or "(no action)"
            lines.append(f"    {step.input.show()}  =>  {shown}")
    return "\n".join(lines)


def failure_lines(f: Failure, widths: list[int]) -> list[str]:
    out = [f"  no spec behaviour explains it: {f.problem}"]
    if f.note:
        out.append(f"  note: {f.note}")
    for r in f.rules:
        out.append(f"  rule broken: {r.show()} ({r.event.where})")
    step = f.step
    out.append(f"  the step: {_event(step.input)}")
    out += [f"            {_event(e)}" for e in step.outputs]
    out.append(f"  frontier widths so far: {widths_text(widths)}; {f.width} state(s) tried")
    for k, st in enumerate(f.frontier, 1):
        out.append(f"  state {k}: {st.summary}")
        out.append(f"    enabled for this node: {', '.join(st.enabled) or 'nothing'}")
        for a in st.attempts:
            problems = "; ".join(p.text for p in a.problems)
            out.append(f"    tried {a.label or 'the step'}: {problems}")
    if f.width > len(f.frontier):
        out.append(f"  ({f.width - len(f.frontier)} more state(s) not shown)")
    return out


def _event(e: Event) -> str:
    return f"{e.show()}  ({e.where})"


def as_json(v: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {
        "trace": v.source,
        "status": v.status,
        "nodes": v.model.p.servers if v.model else 0,
        "events": v.events,
        "steps": v.steps,
        "seconds": round(v.seconds, 4),
        "frontier_widths": v.widths,
        "frontier_max": v.max_width,
    }
    if v.note:
        out["note"] = v.note
    if v.rule is not None:
        out["rule"] = _rule(v.rule.rule, v.rule.text, v.rule.event)
    f = v.failure
    if f is not None:
        out["failure"] = {
            "event": _ev(f.event),
            "problem": f.problem,
            "note": f.note,
            "step": [_ev(e) for e in f.step.events],
            "rules": [_rule(r.rule, r.text, r.event) for r in f.rules],
            "frontier_states": f.width,
            "frontier": [
                {
                    "state": st.summary,
                    "enabled": st.enabled,
                    "tried": [
                        {"composition": a.label, "problems": [p.text for p in a.problems]}
                        for a in st.attempts
                    ],
                }
                for st in f.frontier
            ],
        }
    return out


def _ev(e: Event) -> dict[str, Any]:
    return {"where": e.where, "node": e.node, "seq": e.seq, "kind": e.kind, "text": e.show()}


def _rule(rule: str, text: str, e: Event) -> dict[str, Any]:
    return {"rule": rule, "text": text, "event": _ev(e)}
