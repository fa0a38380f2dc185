"""`electorate check --liveness`: fair-cycle checks of the liveness models, lassos out.

Builds the liveness model of the command line's Params with a topology
(spec/liveness/, spec/topology.py), runs the generic fair-cycle search
(model_check/liveness.py), replays each lasso in the concrete model, and prints a verdict per
property with the assumptions it rests on: a table and the lassos as text (or Mermaid, with
--trace mermaid), or one JSON object. Exit 0: every property holds; 1: one is violated (or the
search could not decide); 2: bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from electorate.app.lasso_script import LassoScriptError, lasso_script
from electorate.conformance.script import write_script
from electorate.model_check import liveness as fair
from electorate.spec.liveness.fairness import assumptions
from electorate.spec.liveness.model import Confirmation, LivenessRaftModel, confirm
from electorate.spec.liveness.properties import IDS, liveness_properties
from electorate.spec.next import Action
from electorate.spec.params import Params, ParamsError
from electorate.spec.state import State
from electorate.spec.topology import DEFAULT_SERVERS, TopologyError, topology_from

SYMMETRY_NOTE = (
    "symmetry off: a search on server orbits would need each step's renaming to know which "
    "fair instance a cycle takes (TLC's liveness under SYMMETRY misses violations, tlaplus#59)"
)
LassoT = fair.Lasso[State, Action]
# Expanded states before the first fair-cycle search on the partial graph (then at each
# doubling): a violation is found without the whole graph (model_check/liveness.py, `check`).
ON_THE_FLY = 5_000


def params_for(args: argparse.Namespace, base: Params) -> Params:
    """The command line's model with its topology (ParamsError on a bad one)."""
    name = args.topology or "full"
    n = args.servers if args.servers is not None else DEFAULT_SERVERS.get(name, base.servers)
    try:
        topology = topology_from(name, n)
    except TopologyError as e:
        raise ParamsError(str(e)) from None
    return dataclasses.replace(
        base, servers=n, topology=topology, randomized=args.randomized_timeouts
    )


def _refuse(args: argparse.Namespace) -> None:
    for flag, given in (
        ("--simulate", args.simulate),
        ("--witness", args.witness),
        ("--tlc", args.tlc),
        ("--checkpoint", args.checkpoint),
        ("--resume", args.resume),
        ("--max-depth", args.max_depth),
        ("--export-tla", args.export_tla),
    ):
        if given:
            raise ParamsError(f"{flag} does not apply to --liveness")
    if args.lasso_cycles < 1:
        raise ParamsError("--lasso-cycles must be at least 1")
    if args.trace not in (None, "text", "mermaid", "json"):
        raise ParamsError("--liveness prints lassos as text, mermaid or json")
    if args.liveness not in (None, "all", *IDS):
        raise ParamsError(f"unknown liveness property {args.liveness!r}; known: {', '.join(IDS)}")


def main(args: argparse.Namespace, base: Params, out: Console, err: Console) -> int:
    try:
        _refuse(args)
        p = params_for(args, base)
    except ParamsError as e:
        err.print(f"electorate check: error: {e}", markup=False)
        return 2
    only = None if args.liveness in (None, "all") else args.liveness
    props = liveness_properties(p, only)
    model = LivenessRaftModel(p)
    said = assumptions(p)
    if not args.json:
        assert p.topology is not None
        out.print(f"Checking liveness of {p.describe()}", markup=False)
        out.print(f"topology: {p.topology.describe()}", markup=False)
        out.print("Assumptions:", markup=False)
        for line in said:
            out.print(f"  - {line}", markup=False)
        out.print(f"  - {SYMMETRY_NOTE}; 1 worker", markup=False)
    start = time.perf_counter()
    result = fair.check(
        model,
        model.key,
        props,
        progress=_progress(err, args.json),
        rank=model.rank,
        on_the_fly=ON_THE_FLY,
    )
    seconds = time.perf_counter() - start
    confirmations = {k: confirm(p, v) for k, v in result.lassos.items() if v is not None}
    verdicts = {k: _verdict(result, v, confirmations.get(k)) for k, v in result.lassos.items()}
    if args.json:
        doc = _json(p, model, result, verdicts, confirmations, said, seconds)
        print(json.dumps(doc, indent=2))
    else:
        _report(out, model, result, verdicts, confirmations, seconds, args.trace or "text")
    if args.lasso_script is not None and not _write_script(args, p, result.lassos, err):
        return 1
    return 0 if all(v == "holds" for v in verdicts.values()) else 1


def _write_script(
    args: argparse.Namespace, p: Params, lassos: dict[str, LassoT | None], err: Console
) -> bool:
    """--lasso-script: the first lasso as a conformance script; False if it cannot be."""
    found = next(((k, v) for k, v in lassos.items() if v is not None), None)
    if found is None:
        err.print("electorate check: no lasso (every property holds): no script written")
        return True
    try:
        script = lasso_script(p, found[1], args.lasso_cycles)
        write_script(args.lasso_script, script)
    except LassoScriptError as e:
        err.print(f"electorate check: --lasso-script: {e}", markup=False)
        return False
    except OSError as e:
        err.print(
            f"electorate check: cannot write {args.lasso_script}: {e.strerror or e}", markup=False
        )
        return False
    err.print(
        f"wrote the {found[0]} lasso as a conformance script to {args.lasso_script} "
        f"({len(script.steps)} steps: the cycle {args.lasso_cycles} times); replay it with "
        f"electorate conform replay {args.lasso_script} --adapter ...",
        markup=False,
    )
    return True


def _verdict(
    result: fair.LivenessResult[State, Action], lasso: LassoT | None, c: Confirmation | None
) -> str:
    if lasso is None:
        return "inconclusive" if result.vacuous else "holds"
    if c is not None and not c.replayed:
        return "violated (unconfirmed)"
    return "violated"


def _progress(err: Console, quiet: bool) -> Any:
    if quiet:
        return None

    def show(distinct: int, queued: int, seconds: float) -> None:
        line = f"  {distinct:>10,} distinct  {queued:>9,} queued  {seconds:6.1f}s"
        err.print(line, end="\r" if err.is_terminal else "\n", markup=False)

    return show


def lasso_text(model: LivenessRaftModel, lasso: LassoT) -> str:
    """Numbered steps with what changed; the cycle marked, and where it returns."""
    lines = [f"Lasso violating {lasso.property} ({lasso.description}): {lasso.query}"]
    before: dict[str, str] | None = None
    steps: list[tuple[Action | None, State]] = [*lasso.stem, *lasso.cycle]
    for k, (action, state) in enumerate(steps, start=1):
        if k == len(lasso.stem) + 1:
            lines.append(f"     -- cycle: from state {len(lasso.stem)}, repeated for ever --")
        now = model.show_variables(state)
        if before is None:
            lines.append(f"{k:>3}. Init")
            lines += [f"       {n} = {v}" for n, v in now.items()]
        else:
            lines.append(f"{k:>3}. {action}")
            lines += [f"       {n}' = {v}" for n, v in now.items() if before.get(n) != v]
        before = now
    if lasso.cycle:
        lines.append(f"     -- back to state {len(lasso.stem)}: the cycle repeats --")
    else:
        lines.append(f"     -- state {len(lasso.stem)} stutters for ever --")
    return "\n".join(lines)


def lasso_mermaid(model: LivenessRaftModel, lasso: LassoT) -> str:
    """A Mermaid sequence diagram: the stem, then the cycle in a `loop` block."""
    lines = ["sequenceDiagram"]
    lines += [f"    participant {x}" for x in model.participants()]
    steps: list[tuple[Action | None, State]] = [*lasso.stem, *lasso.cycle]
    prev: State | None = None
    for k, (action, state) in enumerate(steps, start=1):
        if k == len(lasso.stem) + 1:
            lines.append("    loop for ever")
        pad = "        " if k > len(lasso.stem) else "    "
        if action is not None and not action.args:  # the environment: Stabilize, Lull
            parts = model.participants()
            lines.append(f"{pad}Note over {parts[0]},{parts[-1]}: {k}. {action}")
        elif action is not None and prev is not None:
            for src, dst, label in model.arrows(action, prev, state):
                safe = label.replace(";", ",").replace("#", "")
                if src == dst or src == "network":
                    lines.append(f"{pad}Note over {dst}: {k}. {safe}")
                else:
                    lines.append(f"{pad}{src}->>{dst}: {k}. {safe}")
        prev = state
    if lasso.cycle:
        lines.append("    end")
    first = model.participants()[0]
    lines.append(f"    Note over {first}: violates {lasso.property}")
    return "\n".join(lines)


def lasso_json(model: LivenessRaftModel, lasso: LassoT) -> dict[str, Any]:
    def step(action: Action | None, state: State) -> dict[str, Any]:
        head: dict[str, Any] = (
            {"action": "Init", "args": [], "handler": None, "text": "Init"}
            if action is None
            else model.action_json(action)
        )
        return {**head, "state": model.state_json(state)}

    return {
        "property": lasso.property,
        "query": lasso.query,
        "stem": [step(a, s) for a, s in lasso.stem],
        "cycle": [step(a, s) for a, s in lasso.cycle],
    }


def _json(
    p: Params,
    model: LivenessRaftModel,
    result: fair.LivenessResult[State, Action],
    verdicts: dict[str, str],
    confirmations: dict[str, Confirmation],
    said: list[str],
    seconds: float,
) -> dict[str, Any]:
    assert p.topology is not None
    props: dict[str, Any] = {}
    first: dict[str, Any] | None = None
    for pid, lasso in result.lassos.items():
        entry: dict[str, Any] = {"result": verdicts[pid]}
        if lasso is not None:
            c = confirmations[pid]
            entry["lasso"] = lasso_json(model, shown(lasso, c))
            entry["lasso"]["terms"] = "concrete" if c.concrete is not None else "normalised"
            entry["confirmed"] = {
                "replayed": c.replayed,
                "repetitions": c.repetitions,
                "periodic": c.periodic,
                "term_shift_per_cycle": c.shift,
                "reason": c.reason,
            }
            first = first or entry["lasso"]
        props[pid] = entry
    overall = "holds" if all(v == "holds" for v in verdicts.values()) else "violated"
    if any(v == "inconclusive" for v in verdicts.values()) and overall == "violated":
        overall = "inconclusive" if first is None else overall
    doc: dict[str, Any] = {
        "mode": "liveness",
        "result": overall,
        "params": p.describe(),
        "topology": {"name": p.topology.name, "links": p.topology.edge_list()},
        "assumptions": said,
        "symmetry": SYMMETRY_NOTE,
        "workers": 1,
        "distinct_states": result.distinct,
        "expanded_states": result.expanded,
        "complete_graph": result.complete,
        "edges": result.edges,
        "fair_instances": result.fair_instances,
        "seconds": round(seconds, 3),
        "explore_seconds": round(result.explore_seconds, 3),
        "cycle_seconds": round(result.cycle_seconds, 3),
        "constraint_cuts": [
            {"instance": fair.describe_instance(c.instance), "states": c.states}
            for c in result.cuts
        ],
        "properties": props,
    }
    if first is not None:
        doc["lasso"] = first
    return doc


def _report(
    out: Console,
    model: LivenessRaftModel,
    result: fair.LivenessResult[State, Action],
    verdicts: dict[str, str],
    confirmations: dict[str, Confirmation],
    seconds: float,
    trace_format: str,
) -> None:
    table = Table(title="Liveness")
    for col in ("property", "verdict", "lasso (stem + cycle)", "replayed concretely"):
        table.add_column(col)
    for pid, lasso in result.lassos.items():
        shape = "-" if lasso is None else f"{len(lasso.stem)} + {len(lasso.cycle)}"
        c = confirmations.get(pid)
        replay = "-" if c is None else _confirmation_text(c)
        table.add_row(pid, verdicts[pid], shape, replay)
    out.print(table)
    out.print(
        f"{result.distinct:,} distinct states, {result.edges:,} edges, "
        f"{result.fair_instances} fair instances; {seconds:.1f} s "
        f"(graph {result.explore_seconds:.1f} s, fair cycles {result.cycle_seconds:.1f} s)",
        markup=False,
    )
    if not result.complete:
        out.print(
            f"every property was decided on a partial graph ({result.expanded:,} states "
            "expanded): each violation is a fair cycle of the whole graph",
            markup=False,
        )
    for cut in result.cuts:
        out.print(
            f"VACUITY: the constraint cuts fair {fair.describe_instance(cut.instance)} in "
            f"{cut.states} states: no fair cycle found proves nothing",
            markup=False,
        )
    for pid, found in result.lassos.items():
        if found is None:
            continue
        lasso = shown(found, confirmations.get(pid))
        if trace_format == "mermaid":
            out.print(lasso_mermaid(model, lasso), markup=False)
        elif trace_format == "json":
            out.print(json.dumps(lasso_json(model, lasso), indent=2), markup=False)
        else:
            out.print(lasso_text(model, lasso), markup=False)


def shown(lasso: LassoT, c: Confirmation | None) -> LassoT:
    """The lasso to show: its concrete replay (terms as they grow) when it has one."""
    return c.concrete if c is not None and c.concrete is not None else lasso


def _confirmation_text(c: Confirmation) -> str:
    if not c.replayed:
        return f"no: {c.reason}"
    if c.periodic:
        return f"yes, periodic (terms +{c.shift} per cycle)"
    return f"yes, {c.repetitions} cycles ({c.reason})"
