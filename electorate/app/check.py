"""`electorate check`: model-check the Raft spec and print a table, a trace, or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from electorate.app.api import CheckResult, check
from electorate.model_check import trace
from electorate.model_check.search import Progress, Violation
from electorate.spec.bugs import BUGS
from electorate.spec.confirm import confirm
from electorate.spec.model import RaftModel
from electorate.spec.params import FEATURES, PROFILES, Params, ParamsError

DEFAULTS: dict[str, Any] = {
    "servers": 3,
    "profile": "election",
    "max_term": 2,
    "max_msgs": 1,
    "max_log": 1,
    "values": None,  # 1 for the log profile, 0 otherwise
    # lease feature knobs; 0 means "derived" (spec.params.lease_knobs)
    "election_ticks": 0,
    "drift": 0,
    "max_clock": 0,
    "lease_ticks": 0,
}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="electorate check",
        description="Exhaustively model-check the Raft election spec (BFS, TLC-compatible counts).",
    )
    ap.add_argument("--servers", type=int, help="number of servers (default 3)")
    ap.add_argument("--profile", help=f"one of {', '.join(PROFILES)} (default election)")
    ap.add_argument("--max-term", type=int, help="constraint: currentTerm <= this (default 2)")
    ap.add_argument(
        "--max-msgs", type=int, help="constraint: copies in the bag <= this (default 1)"
    )
    ap.add_argument("--max-log", type=int, help="constraint (log profile): log length (default 1)")
    ap.add_argument("--values", type=int, help="client values (log profile; default 1)")
    ap.add_argument("--features", default=None, help=f"comma list of: {', '.join(FEATURES)}")
    ap.add_argument("--election-ticks", type=int, help="lease: minimum election timeout, ticks")
    ap.add_argument("--drift", type=int, help="lease: max ticks a clock may run ahead")
    ap.add_argument("--max-clock", type=int, help="lease: bound on every discrete clock")
    ap.add_argument("--lease-ticks", type=int, help="lease: lease length in ticks")
    ap.add_argument(
        "--reduce",
        action="store_true",
        help="lease: a sound over-approximation for big clusters (docs/model-checking.md)",
    )
    ap.add_argument("--bug", help="check a named bug variant (see --list-bugs)")
    ap.add_argument("--list-bugs", action="store_true", help="list the bug variants and exit")
    ap.add_argument(
        "--symmetry", action=argparse.BooleanOptionalAction, default=True, help="server symmetry"
    )
    ap.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument(
        "--max-depth",
        type=int,
        default=0,
        metavar="N",
        help="stop after N BFS levels: a bounded check of every behaviour of N-1 steps",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--trace", choices=["text", "mermaid", "json"], default="text")
    ap.add_argument(
        "--witness",
        metavar="PROPERTY",
        help="find the shortest trace to a state where this sometimes property holds",
    )
    ap.add_argument(
        "--tlc",
        action="store_true",
        help="also run TLC on the .tla mirror of the model (spec/RaftElection*.tla)",
    )
    return ap


def params_from(args: argparse.Namespace) -> Params:
    """Explicit options win; then the bug variant's defaults; then the global defaults."""
    chosen: dict[str, Any] = {}
    if args.bug is not None:
        if args.bug not in BUGS:
            raise ParamsError(f"unknown bug {args.bug!r}; see --list-bugs")
        chosen.update(BUGS[args.bug].overrides)
    for name, default in DEFAULTS.items():
        given = getattr(args, name)
        if given is not None:
            chosen[name] = given
        elif name not in chosen:
            chosen[name] = default
    if chosen["values"] is None:
        chosen["values"] = 1 if chosen["profile"] == "log" else 0
    features = chosen.pop("features", frozenset())
    if args.features is not None:
        features = frozenset(f.strip() for f in args.features.split(",") if f.strip())
    if args.workers < 1:
        raise ParamsError(f"--workers must be >= 1, got {args.workers}")
    if args.max_depth < 0:
        raise ParamsError(f"--max-depth must be >= 0 (0: no bound), got {args.max_depth}")
    return Params(
        bug=args.bug,
        features=frozenset(features),
        reduce=args.reduce,
        **chosen,
    )


def list_bugs(out: Console) -> None:
    table = Table(title="Bug variants (electorate check --bug NAME)")
    for col in ("name", "what is wrong", "what it shows", "breaks", "defaults"):
        table.add_column(col, no_wrap=col in ("name", "breaks"))
    for b in BUGS.values():
        defaults = " ".join(f"{k}={v}" for k, v in b.overrides.items())
        table.add_row(b.name, b.summary, b.teaches, b.breaks, defaults)
    out.print(table)


def main(argv: list[str]) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.list_bugs:
        list_bugs(out)
        return 0
    try:
        params = params_from(args)
    except (ParamsError, TypeError) as e:
        err.print(f"electorate check: error: {e}")
        return 2
    if not args.json:
        mode = "symmetry" if args.symmetry else "no symmetry"
        out.print(f"Checking {params.describe()} ({mode}, {args.workers} worker(s))")
        if params.has("lease") and params.servers >= 3 and not params.reduce:
            err.print(
                "note: the exact lease model on 3+ servers runs for hours; --reduce checks a "
                "sound over-approximation in minutes (docs/model-checking.md)"
            )
    try:
        result = check(
            params,
            args.symmetry,
            args.workers,
            _progress(err, args.json),
            args.witness,
            args.max_depth,
        )
    except ParamsError as e:
        err.print(f"electorate check: error: {e}")
        return 2
    exact = _confirm_exact(result, err, args.json)
    if args.json:
        doc = result.to_json()
        if exact is not None:
            doc.update(_confirmation_json(*exact))
        if args.tlc:
            doc["tlc"] = _tlc_json(params, args.symmetry, err)
        print(json.dumps(doc, indent=2))
    else:
        _report(out, result, args.trace)
        if exact is not None:
            _report_confirmation(out, *exact, args.trace)
        if args.tlc:
            _tlc_side_by_side(out, err, result, params, args.symmetry)
    if args.witness is not None:
        return 0 if result.search.violation is not None else 1
    if result.search.violation is not None:
        return 1
    if result.search.unexplored:
        return 0  # bounded: what was asked was checked; a "sometimes" goal may lie beyond
    return 1 if result.vacuous else 0


def _progress(err: Console, quiet: bool) -> Any:
    if quiet:
        return None

    def show(p: Progress) -> None:
        rate = p.generated / p.seconds if p.seconds else 0.0
        line = (
            f"  {p.distinct:>10,} distinct  {p.queue:>9,} queued  depth {p.depth:>3}"
            f"  {rate:>9,.0f} states/s  {p.seconds:6.1f}s"
        )
        if err.is_terminal:
            err.print(line, end="\r")
        else:
            err.print(line)

    return show


def _report(out: Console, r: CheckResult, trace_format: str) -> None:
    s = r.search
    table = Table(title="Result")
    for col in ("result", "distinct states", "states generated", "depth", "seconds", "bytes/state"):
        table.add_column(col, justify="right")
    table.add_row(
        r.result,
        f"{s.distinct:,}",
        f"{s.generated:,}",
        str(s.depth),
        f"{s.seconds:.2f}",
        f"{s.bytes_per_state:.0f}",
    )
    out.print(table)
    props = Table(title="Properties")
    props.add_column("id")
    props.add_column("kind")
    props.add_column("status")
    violated = s.violation.invariant if s.violation else None
    for inv in r.model.invariants:
        if r.model.witness is not None:
            props.add_row(inv.id, "witness", "reached" if violated else "never reached")
            continue
        status = "VIOLATED" if inv.id == violated else ("holds" if not violated else "-")
        props.add_row(inv.id, "always", status)
    for prop in r.model.sometimes:
        reached = s.sometimes.get(prop.id, False)
        props.add_row(prop.id, "sometimes", "reached" if reached else "NEVER REACHED")
    out.print(props)
    if s.violation is not None:
        v = s.violation
        if trace_format == "mermaid":
            verb = "violates" if r.model.witness is None else "reaches"
            out.print(trace.mermaid(r.model, v, verb), markup=False)
        elif trace_format == "json":
            out.print(json.dumps(trace.as_json(r.model, v), indent=2), markup=False)
        else:
            out.print(trace.text(r.model, v), markup=False)
        if r.model.witness is not None:
            out.print(f"Witness: {v.invariant} is reached (shortest trace: {len(v.trace)} states).")
        else:
            out.print(
                f"Invariant {v.invariant} is violated (shortest trace: {len(v.trace)} states)."
            )
    elif r.model.witness is not None:
        out.print(f"{r.model.witness} is never reached within these bounds.")
    elif s.unexplored:
        out.print(
            f"No invariant violated within {s.depth - 1} steps (bounded check: "
            f"{s.unexplored:,} states at depth {s.depth} not expanded)."
        )
    elif r.vacuous:
        out.print(f"Vacuous: never reached {', '.join(r.vacuous)}.")
    else:
        out.print("No invariant violated.")


Confirmation = tuple[RaftModel, Violation[Any, Any] | None]


def _confirm_exact(r: CheckResult, err: Console, quiet: bool) -> Confirmation | None:
    """A --reduce violation replayed in the exact model (spec/confirm.py): the exact model and
    its trace (None: not confirmed); None when there is nothing to confirm."""
    v = r.search.violation
    if not r.params.reduce or v is None or r.model.witness is not None:
        return None
    if not quiet:
        err.print("Confirming the counterexample in the exact model (without --reduce)...")
    exact = RaftModel(dataclasses.replace(r.params, reduce=False))
    steps = confirm(r.params, v.trace, v.invariant)
    return exact, None if steps is None else Violation(v.invariant, v.description, steps)


def _report_confirmation(
    out: Console, exact: RaftModel, v: Violation[Any, Any] | None, trace_format: str
) -> None:
    if v is None:
        out.print(
            "Not confirmed in the exact model: --reduce over-approximates; "
            "rerun without --reduce to check"
        )
        return
    out.print(
        f"Confirmed without --reduce: the exact model violates {v.invariant} too "
        f"({len(v.trace)} states):"
    )
    if trace_format == "mermaid":
        out.print(trace.mermaid(exact, v), markup=False)
    elif trace_format == "json":
        out.print(json.dumps(trace.as_json(exact, v), indent=2), markup=False)
    else:
        out.print(trace.text(exact, v), markup=False)


def _confirmation_json(exact: RaftModel, v: Violation[Any, Any] | None) -> dict[str, Any]:
    if v is None:
        return {"confirmed_exact": False}
    return {"confirmed_exact": True, "exact_trace": trace.as_json(exact, v)}


def _tlc_json(params: Params, symmetry: bool, err: Console) -> dict[str, Any]:
    try:
        from electorate.app import tlc

        if params.reduce:
            raise tlc.TlcError("TLC mirrors the exact model only: drop --reduce to compare")
        if params.features:
            from electorate.app import tlc_features

            if symmetry:
                raise tlc.TlcError(
                    "the features module is checked without symmetry: add --no-symmetry"
                )
            return _tlc_figures(tlc_features.run(params))
        if params.bug is not None and params.bug not in tlc.BUG_OVERRIDES:
            raise tlc.TlcError(f"RaftElection.tla has no hook for the bug {params.bug!r}")
        t = tlc.run_tlc(
            params.servers,
            params.profile,
            params.max_term,
            params.max_msgs,
            params.max_log if params.profile == "log" else 0,
            params.values,
            symmetry,
            bug=params.bug,
        )
    except Exception as e:  # a missing Java or TLC must not hide our own result
        err.print(f"electorate check: TLC could not run: {e}")
        return {"error": str(e)}
    return _tlc_figures(t)


def _tlc_figures(t: Any) -> dict[str, Any]:
    return {
        "result": str(t.result),
        "distinct_states": t.distinct_states,
        "states_generated": t.states_generated,
        "depth": t.depth,
        "seconds": round(t.wall_s, 3),
    }


def _tlc_side_by_side(
    out: Console, err: Console, r: CheckResult, params: Params, symmetry: bool
) -> None:
    t = _tlc_json(params, symmetry, err)
    if "error" in t:
        return
    module = "RaftElectionFeatures.tla" if params.features else "RaftElection.tla"
    table = Table(title=f"Electorate vs TLC (spec/{module})")
    for col in ("", "result", "distinct", "generated", "depth", "seconds"):
        table.add_column(col, justify="right")
    s = r.search
    table.add_row(
        "electorate",
        r.result,
        f"{s.distinct:,}",
        f"{s.generated:,}",
        str(s.depth),
        f"{s.seconds:.2f}",
    )
    table.add_row(
        "TLC",
        str(t["result"]),
        f"{t['distinct_states']:,}",
        f"{t['states_generated']:,}",
        str(t["depth"]),
        f"{t['seconds']:.2f}",
    )
    out.print(table)
    same = (s.distinct, s.generated, s.depth) == (
        t["distinct_states"],
        t["states_generated"],
        t["depth"],
    )
    if s.violation is not None:
        same = r.result == t["result"] and len(s.violation.trace) == t["depth"]
        out.print("Same result and trace length." if same else "RESULTS DIFFER.")
        return
    out.print("Counts agree." if same else "COUNTS DIFFER.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
