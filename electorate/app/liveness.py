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
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from electorate.app import liveness_search as search
from electorate.app import memory, tlc_liveness
from electorate.app.lasso_script import LassoScriptError, lasso_script
from electorate.app.signals import stop_on_signals
from electorate.app.tlc import TlcError
from electorate.conformance.script import write_script
from electorate.model_check import liveness as fair
from electorate.model_check.engine import StopFlag
from electorate.spec.fast import liveness as fast_liveness
from electorate.spec.liveness.fairness import assumptions
from electorate.spec.liveness.model import Confirmation, LivenessRaftModel
from electorate.spec.liveness.properties import IDS, liveness_properties
from electorate.spec.next import Action
from electorate.spec.params import Params, ParamsError
from electorate.spec.state import State
from electorate.spec.topology import DEFAULT_SERVERS, TopologyError, topology_from

SYMMETRY_OFF = (
    "symmetry off: the search for holds expands every state (TLC's liveness under SYMMETRY "
    "misses violations, tlaplus#59; ours judges fairness on the unfolded graph instead)"
)


def symmetry_note(model: LivenessRaftModel, used: bool, packed: bool = False) -> str:
    """What the searches do with the topology's automorphisms (none on packed states)."""
    group = len(model.automorphisms())
    if group == 1:
        return "no symmetry: the topology has no automorphism but the identity"
    if not used:
        return SYMMETRY_OFF
    if packed:
        return (
            "symmetry not used: the search for holds expands every state, packed, with the C "
            "successor function (spec/fast/_liveness.c; --no-fast: the readable spec, one state "
            "per orbit)"
        )
    return (
        f"symmetry: the search for holds expands one state per orbit of the topology's {group} "
        "automorphisms and judges fairness on the unfolded graph (exact; lassos are concrete "
        "cycles); the search for violations expands every state"
    )


LassoT = fair.Lasso[State, Action]


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
        ("--checkpoint", args.checkpoint),
        ("--resume", args.resume),
        ("--max-depth", args.max_depth),
    ):
        if given:
            raise ParamsError(f"{flag} does not apply to --liveness")
    if args.lasso_cycles < 1:
        raise ParamsError("--lasso-cycles must be at least 1")
    if args.liveness_seconds < 0:
        raise ParamsError("--liveness-seconds must be >= 0 (0: no limit)")
    if args.liveness_memory is not None and args.liveness_memory < 0:
        raise ParamsError("--liveness-memory must be >= 0 GiB (0: no limit)")
    if args.trace not in (None, "text", "mermaid", "json"):
        raise ParamsError("--liveness prints lassos as text, mermaid or json")
    if args.liveness not in (None, "all", *IDS):
        raise ParamsError(f"unknown liveness property {args.liveness!r}; known: {', '.join(IDS)}")


def main(args: argparse.Namespace, base: Params, out: Console, err: Console) -> int:
    try:
        _refuse(args)
        p = params_for(args, base)
        why = fast_liveness.not_covered(p)
        if args.fast and why is not None:
            raise ParamsError(f"--fast: {why}")
    except ParamsError as e:
        err.print(f"electorate check: error: {e}", markup=False)
        return 2
    only = None if args.liveness in (None, "all") else args.liveness
    if args.export_tla or args.tlc:
        try:
            tlc_liveness.refuse_unmirrored(p)
        except TlcError as e:
            err.print(f"electorate check: error: {e}", markup=False)
            return 2
    if args.export_tla:
        for path in tlc_liveness.export(p, Path(args.export_tla)):
            err.print(f"wrote {path}", markup=False)
    props = liveness_properties(p, only)
    model = LivenessRaftModel(p)
    packed = args.fast is not False and why is None
    said = assumptions(p)
    if not args.json:
        assert p.topology is not None
        out.print(f"Checking liveness of {p.describe()}", markup=False)
        out.print(f"topology: {p.topology.describe()}", markup=False)
        out.print("Assumptions:", markup=False)
        for line in said:
            out.print(f"  - {line}", markup=False)
        out.print(f"  - {symmetry_note(model, args.symmetry, packed)}; 1 worker", markup=False)
    start = time.perf_counter()

    stop = StopFlag()
    budget = memory.Budget(
        memory.default_budget() if args.liveness_memory is None else args.liveness_memory
    )
    with stop_on_signals(stop):
        outcome = search.run(
            p,
            props,
            _progress(err, args.json),
            seconds=args.liveness_seconds,
            symmetry=args.symmetry,
            stop=lambda: stop.requested or budget.reached,
            fast=args.fast,
            memory=budget,
        )
    seconds = time.perf_counter() - start
    if stop.requested or budget.reached:
        why = (
            f"by {stop.signal_name}"
            if stop.requested
            else (f"at the memory budget ({budget.gib:g} GiB, --liveness-memory)")
        )
        err.print(
            f"electorate check: stopped {why}: the graph so far was judged "
            "(at the budget, where judging it fit); what it did not decide is undecided",
            markup=False,
        )
    tlc: dict[str, Any] | None = None
    if args.tlc:
        tlc = _tlc(p, outcome.verdicts, err)
    if args.json:
        note = symmetry_note(model, args.symmetry, packed)
        doc = _json(p, model, outcome, said, seconds, note)
        doc["memory_budget_gib"] = budget.gib
        doc["stopped"] = (
            stop.signal_name if stop.requested else "memory budget" if budget.reached else None
        )
        if tlc is not None:
            doc["tlc"] = tlc
        print(json.dumps(doc, indent=2))
    else:
        _report(out, model, outcome, seconds, args.trace or "text")
        if tlc is not None:
            _tlc_report(out, tlc)
    if args.lasso_script is not None and not _write_script(args, p, outcome, err):
        return 1
    if tlc is not None and not all(e["agree"] is not False for e in tlc.values()):
        return 1
    return 0 if all(v == "holds" for v in outcome.verdicts.values()) else 1


def _tlc(p: Params, verdicts: dict[str, str], err: Console) -> dict[str, Any]:
    """TLC's verdict on each property our search decided (RaftElectionLiveness.tla), and
    whether the two agree (None: TLC failed or ran out of time). The properties ours says hold
    are checked in one TLC run (its whole graph; each run on its own only if that one fails);
    each violated one in a run of its own, which stops at TLC's first lasso."""
    out: dict[str, Any] = {}
    holds = tuple(pid for pid, v in verdicts.items() if v == "holds")
    together: tlc_liveness.TlcLiveness | None = None
    if len(holds) > 1:
        together = _tlc_run(p, holds, err, final_only=True)
    for pid, ours in verdicts.items():
        entry: dict[str, Any] = {"ours": ours}
        if ours not in ("holds", "violated"):
            entry.update(tlc="not run", agree=None, note="ours undecided: nothing to compare")
            out[pid] = entry
            continue
        t = together if pid in holds and together and together.verdict == "holds" else None
        if t is not None:
            entry["checked_with"] = list(holds)
        else:
            t = _tlc_run(p, pid, err, final_only=ours == "holds")
        if t is None:
            entry.update(tlc="error", agree=None)
        else:
            entry.update(t.json())
            entry["tlc"] = t.verdict
            entry["agree"] = (ours == t.verdict) if t.verdict != "timeout" else None
        out[pid] = entry
    return out


def _tlc_run(
    p: Params, props: str | tuple[str, ...], err: Console, final_only: bool
) -> tlc_liveness.TlcLiveness | None:
    try:
        return tlc_liveness.run_property(p, props, final_only=final_only)
    except TlcError as e:
        err.print(f"electorate check: TLC on {props}: {e}", markup=False)
        return None


def _tlc_report(out: Console, tlc: dict[str, Any]) -> None:
    table = Table(title="TLC (RaftElectionLiveness.tla, 1 worker, no symmetry, no constraint)")
    for col in ("property", "ours", "TLC", "agree", "TLC states", "TLC CPU s", "TLC lasso"):
        table.add_column(col, no_wrap=col == "property")
    for pid, e in tlc.items():
        lasso = e.get("lasso")
        shape = (
            f"{lasso['stem_idle_states']} + {lasso['cycle_idle_states']} idle states"
            if lasso
            else "-"
        )
        agree = {True: "yes", False: "NO", None: "not compared"}[e["agree"]]
        table.add_row(
            pid,
            e["ours"],
            e["tlc"],
            agree,
            f"{e.get('distinct_states', 0):,}",
            str(e.get("cpu_seconds", "-")),
            shape,
        )
    out.print(table)


def _write_script(
    args: argparse.Namespace, p: Params, outcome: search.Outcome, err: Console
) -> bool:
    """--lasso-script: the first lasso as a conformance script; False if it cannot be."""
    found = next(((k, v) for k, v in outcome.lassos.items() if v is not None), None)
    if found is None:
        err.print("electorate check: no lasso: no script written")
        return True
    normalise = search.lasso_states(outcome.found_by[found[0]])
    try:
        script = lasso_script(p, found[1], args.lasso_cycles, normalise=normalise)
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
    outcome: search.Outcome,
    said: list[str],
    seconds: float,
    note: str,
) -> dict[str, Any]:
    assert p.topology is not None
    verdicts = outcome.verdicts
    props: dict[str, Any] = {}
    first: dict[str, Any] | None = None
    for pid, lasso in outcome.lassos.items():
        entry: dict[str, Any] = {"result": verdicts[pid]}
        if lasso is not None:
            c = outcome.confirmations[pid]
            entry["found_by"] = outcome.found_by[pid]
            entry["lasso"] = lasso_json(model, shown(lasso, c))
            entry["lasso"]["terms"] = "concrete" if c.concrete is not None else "normalised"
            entry["confirmed"] = {
                "replayed": c.replayed,
                "repetitions": c.repetitions,
                "periodic": c.periodic,
                "term_shift_per_cycle": c.shift,
                "reason": c.reason,
                "unfair_in_whole_model": list(c.unfair),
            }
            first = first or entry["lasso"]
        props[pid] = entry
    if all(v == "holds" for v in verdicts.values()):
        overall = "holds"
    elif any(v.startswith("violated") for v in verdicts.values()):
        overall = "violated"
    else:
        overall = "inconclusive"
    doc: dict[str, Any] = {
        "mode": "liveness",
        "result": overall,
        "params": p.describe(),
        "topology": {"name": p.topology.name, "links": p.topology.edge_list()},
        "assumptions": said,
        "symmetry": note,
        "workers": 1,
        "distinct_states": sum(x.result.distinct for x in outcome.searches),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(sum(x.cpu_seconds for x in outcome.searches), 3),
        "searches": [_search_json(x) for x in outcome.searches],
        "properties": props,
    }
    if first is not None:
        doc["lasso"] = first
    return doc


def _search_json(x: search.Search) -> dict[str, Any]:
    r = x.result
    return {
        "search": x.name,
        "graph": x.graph,
        "distinct_states": r.distinct,
        "expanded_states": r.expanded,
        "complete_graph": r.complete,
        "stopped_by_memory_budget": r.out_of_memory,
        "edges": r.edges,
        "fair_instances": r.fair_instances,
        "cpu_seconds": round(x.cpu_seconds, 3),
        "explore_seconds": round(r.explore_seconds, 3),
        "cycle_seconds": round(r.cycle_seconds, 3),
        "constraint_cuts": [
            {"instance": fair.describe_instance(c.instance), "states": c.states} for c in r.cuts
        ],
    }


def _report(
    out: Console,
    model: LivenessRaftModel,
    outcome: search.Outcome,
    seconds: float,
    trace_format: str,
) -> None:
    table = Table(title="Liveness")
    for col in ("property", "verdict", "found by", "lasso (stem + cycle)", "replayed concretely"):
        table.add_column(col)
    for pid, lasso in outcome.lassos.items():
        shape = "-" if lasso is None else f"{len(lasso.stem)} + {len(lasso.cycle)}"
        c = outcome.confirmations.get(pid)
        replay = "-" if c is None else _confirmation_text(c)
        by = outcome.found_by.get(pid, "-")
        table.add_row(pid, outcome.verdicts[pid], by, shape, replay)
    out.print(table)
    for x in outcome.searches:
        r = x.result
        whole = "whole graph" if r.complete else f"partial graph, {r.expanded:,} expanded"
        out.print(
            f"{x.name} search ({x.graph}): {r.distinct:,} distinct states ({whole}), "
            f"{r.edges:,} edges, {r.fair_instances} fair instances; {x.cpu_seconds:.1f} CPU s "
            f"(graph {r.explore_seconds:.1f} s, fair cycles {r.cycle_seconds:.1f} s wall)",
            markup=False,
        )
    out.print(f"{seconds:.1f} s wall in all", markup=False)
    open_ = [pid for pid, v in outcome.verdicts.items() if v == "undecided"]
    if open_:
        out.print(
            f"undecided ({', '.join(open_)}): no lasso found, and the search for holds stopped "
            "before the end of its graph (--liveness-seconds, --liveness-memory or a signal); "
            "undecided is not holds",
            markup=False,
        )
    for pid, found in outcome.lassos.items():
        if found is None:
            continue
        lasso = shown(found, outcome.confirmations.get(pid))
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
