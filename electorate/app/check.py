"""`electorate check`: model-check the Raft spec and print a table, a trace, or JSON.

Also the long-run conveniences: workers, Ctrl-C with partial figures (exit 130),
checkpoints, random simulation, a TOML config file, and the model exported for TLC.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from electorate.app.api import CheckResult, check, export_tla
from electorate.app.signals import stop_on_signals
from electorate.model_check import trace
from electorate.model_check.engine import EngineError, Options, StopFlag, WorkerError
from electorate.model_check.search import Progress, Violation
from electorate.model_check.simulate import simulate
from electorate.spec.bugs import BUGS
from electorate.spec.confirm import confirm
from electorate.spec.ids import FEATURES, PROFILES
from electorate.spec.model import RaftModel
from electorate.spec.params import Params, ParamsError

DEFAULTS: dict[str, Any] = {
    "servers": 3,
    "profile": "election",
    "max_term": 2,
    "max_msgs": 1,
    "max_log": 1,
    "values": None,  # 1 for the log profile, 0 otherwise
    # lease feature knobs; 0 means "derived" (Params.knobs)
    "election_ticks": 0,
    "drift": 0,
    "max_clock": 0,
    "lease_ticks": 0,
}


class UsageError(Exception):
    """A bad command line or config file; the message is one line."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block), raised rather than printed."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


TRACE_FORMATS = ("text", "mermaid", "json", "itf")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="electorate check",
        description="Exhaustively model-check the Raft election spec (BFS, TLC-compatible counts).",
    )
    ap.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML file of options, one key per flag (servers = 3, features = [...]); "
        "flags on the command line win",
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
    ap.add_argument(
        "--workers",
        default="1",
        help="workers (threads sharing one table on the packed path, processes owning a share "
        "of the states on the readable one), or `auto` (one per CPU)",
    )
    ap.add_argument(
        "--fast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="successors in C on packed states (spec/fast/), which cover the election profile "
        "without features (and, for --liveness, the search for holds with PreVote and "
        "CheckQuorum); by default they run wherever they cover the model and the readable "
        "spec elsewhere; --no-fast: the readable spec always; --fast: refuse a model they do "
        "not cover",
    )
    ap.add_argument(
        "--max-depth",
        type=int,
        default=0,
        metavar="N",
        help="stop after N BFS levels: a bounded check of every behaviour of N-1 steps",
    )
    ap.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="write the search's progress to DIR at the end of a level, every --checkpoint-every",
    )
    ap.add_argument(
        "--checkpoint-every",
        type=float,
        default=10.0,
        metavar="MINUTES",
        help="minutes between checkpoints (default 10; 0: every level)",
    )
    ap.add_argument("--resume", metavar="DIR", help="continue the search checkpointed in DIR")
    ap.add_argument(
        "--simulate",
        action="store_true",
        help="random behaviours instead of an exhaustive search (as TLC's -simulate)",
    )
    ap.add_argument("--depth", type=int, help="--simulate: states per behaviour (default 100)")
    ap.add_argument(
        "--behaviours", type=int, default=0, help="--simulate: stop after N behaviours (0: none)"
    )
    ap.add_argument(
        "--time-limit",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="--simulate: stop after this long (0: until a violation or Ctrl-C)",
    )
    ap.add_argument("--seed", type=int, help="--simulate: the random seed (default: random)")
    ap.add_argument(
        "--export-tla",
        metavar="DIR",
        help="write the .tla modules and .cfg of this model to DIR (for TLC, e.g. distributed)",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument(
        "--trace",
        choices=TRACE_FORMATS,
        help="the counterexample alone on stdout (or in --trace-out) in this format",
    )
    ap.add_argument(
        "--trace-out", metavar="FILE", help="write the counterexample to FILE (--trace format)"
    )
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
    ap.add_argument(
        "--liveness",
        nargs="?",
        const="all",
        metavar="PROPERTY",
        help="check liveness (fair cycles) instead of invariants: one property or, without "
        "one, every liveness property (docs/liveness.md)",
    )
    ap.add_argument(
        "--topology",
        metavar="NAME",
        help="--liveness: which links deliver: full, howard, star, bridge, chain, chained, or "
        "an edge list such as 1-2,2-3 (default full)",
    )
    ap.add_argument(
        "--randomized-timeouts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="--liveness: assume randomized timeouts (SF Lull, SF LuckyTimeout; default on)",
    )
    ap.add_argument(
        "--liveness-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="--liveness: stop each search (violations, then holds) after S seconds; a "
        "property not decided is reported undecided (0: no limit)",
    )
    ap.add_argument(
        "--liveness-memory",
        type=float,
        default=None,
        metavar="GIB",
        help="--liveness: the process's peak memory: each search stops while judging its "
        "graph still fits in GIB GiB, and what is not decided is reported undecided "
        "(default: 60%% of physical memory; 0: no limit)",
    )
    ap.add_argument(
        "--lasso-script",
        type=Path,
        metavar="FILE",
        help="--liveness: write the first violated property's lasso as a conformance script "
        "(stem, then the cycle --lasso-cycles times) for `electorate conform replay`",
    )
    ap.add_argument(
        "--lasso-cycles",
        type=int,
        default=3,
        metavar="K",
        help="--lasso-script: how many times the script repeats the cycle (default 3)",
    )
    return ap


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line over the --config file's keys (flags given on the command line win)."""
    ap = parser()
    args = ap.parse_args(argv)
    if args.config is None:
        return args
    return ap.parse_args([*config_argv(Path(args.config), ap), *argv])


def config_argv(path: Path, ap: argparse.ArgumentParser) -> list[str]:
    """A TOML config as command-line flags: `max_term = 2` is `--max-term 2`."""
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as e:
        raise UsageError(f"cannot read --config {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"--config {path} is not valid TOML: {e}") from None
    flags = {a.dest: a for a in ap._actions if a.option_strings}
    out: list[str] = []
    for key, value in doc.items():
        dest = key.replace("-", "_")
        if dest not in flags or dest in ("config", "help"):
            raise UsageError(f"--config {path}: unknown key {key!r} (keys are the flag names)")
        flag = f"--{dest.replace('_', '-')}"
        action = flags[dest]
        if isinstance(value, bool):
            if isinstance(action, argparse.BooleanOptionalAction):
                out.append(flag if value else f"--no-{dest.replace('_', '-')}")
            elif action.nargs == 0:
                out += [flag] if value else []
            else:
                raise UsageError(f"--config {path}: {key} takes a value, not {value}")
        elif isinstance(value, list):
            out += [flag, ",".join(str(v) for v in value)]
        elif isinstance(value, (int, float, str)):
            if action.nargs == 0:
                raise UsageError(f"--config {path}: {key} is true or false, not {value!r}")
            out += [flag, str(value)]
        else:
            raise UsageError(f"--config {path}: {key} has a value of an unsupported type")
    return out


def workers_from(text: str) -> int:
    """`auto` (one per CPU this process may use) or a number from 1 to the CPU count."""
    cpus = len(os.sched_getaffinity(0))
    if text == "auto":
        return cpus
    try:
        n = int(text)
    except ValueError:
        raise ParamsError(f"--workers takes a number or auto, not {text!r}") from None
    if n < 1:
        raise ParamsError(f"--workers must be >= 1, got {n}")
    if n > cpus:
        raise ParamsError(
            f"--workers {n} is more than the {cpus} CPUs this process may use; "
            f"give at most {cpus} (or auto)"
        )
    return n


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
    if args.max_depth < 0:
        raise ParamsError(f"--max-depth must be >= 0 (0: no bound), got {args.max_depth}")
    _check_modes(args)
    return Params(
        bug=args.bug,
        features=frozenset(features),
        reduce=args.reduce,
        **chosen,
    )


def _check_modes(args: argparse.Namespace) -> None:
    """Options that only make sense together, or not at all together."""
    if args.simulate:
        if args.depth is not None and args.depth < 1:
            raise ParamsError(
                f"--simulate needs --depth >= 1 (states per behaviour), got {args.depth}"
            )
        for flag, given in (
            ("--checkpoint", args.checkpoint),
            ("--resume", args.resume),
            ("--witness", args.witness),
            ("--tlc", args.tlc),
            ("--max-depth", args.max_depth),
            ("--fast", args.fast is not None),
        ):
            if given:
                raise ParamsError(f"{flag} does not apply to --simulate (use --depth)")
        if args.behaviours < 0 or args.time_limit < 0:
            raise ParamsError("--behaviours and --time-limit must be >= 0 (0: no bound)")
    else:
        for flag, given in (
            ("--depth", args.depth is not None),
            ("--seed", args.seed is not None),
            ("--behaviours", args.behaviours),
            ("--time-limit", args.time_limit),
        ):
            if given:
                raise ParamsError(f"{flag} only applies to --simulate")
    if args.checkpoint and args.resume:
        raise ParamsError("give --checkpoint DIR for a new search or --resume DIR, not both")
    if args.checkpoint_every < 0:
        raise ParamsError(f"--checkpoint-every must be >= 0, got {args.checkpoint_every}")
    if args.trace_out and args.trace is None:
        args.trace = "text"


def list_bugs(out: Console) -> None:
    table = Table(title="Bug variants (electorate check --bug NAME)")
    for col in ("name", "what is wrong", "what it shows", "breaks", "defaults"):
        table.add_column(col, no_wrap=col in ("name", "breaks"))
    for b in BUGS.values():
        defaults = " ".join(f"{k}={v}" for k, v in b.overrides.items())
        table.add_row(b.name, b.summary, b.teaches, b.breaks, defaults)
    out.print(table)


class _Stdout(Console):
    """stdout, whose reader going away is not a verdict: rich would exit 1 (exit 1 is "a
    property is violated"); electorate.app.main ends the run with SIGPIPE's status instead."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def main(argv: list[str]) -> int:
    out = _Stdout(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        args = parse(argv)
        if args.list_bugs:
            list_bugs(out)
            return 0
        params = params_from(args)
        workers = workers_from(args.workers)
    except (UsageError, ParamsError, TypeError) as e:
        err.print(f"electorate check: error: {e}", markup=False)
        return 2
    if args.liveness is not None or args.topology is not None or args.lasso_script is not None:
        from electorate.app import liveness

        try:
            return liveness.main(args, params, out, err)
        except KeyboardInterrupt:
            err.print("electorate check: interrupted", markup=False)
            return 130
    # With --trace and no --trace-out, the trace is the only thing on stdout.
    report = err if args.trace and not args.trace_out and not args.json else out
    stop = StopFlag()
    with stop_on_signals(stop):
        try:
            return _run(args, params, workers, stop, report, err)
        except BrokenPipeError:
            raise  # the reader went away: not the user's error (electorate.app.main)
        except (ParamsError, EngineError, OSError) as e:
            err.print(f"electorate check: error: {e}", markup=False)
            return 2
        except WorkerError as e:  # not the user's doing: no verdict, and not a usage error
            err.print(f"electorate check: failed: {e}", markup=False)
            return 3
        except KeyboardInterrupt:
            err.print("electorate check: interrupted", markup=False)
            return 130


def _run(
    args: argparse.Namespace,
    params: Params,
    workers: int,
    stop: StopFlag,
    report: Console,
    err: Console,
) -> int:
    if args.export_tla:
        for path in export_tla(params, args.symmetry, Path(args.export_tla)):
            err.print(f"wrote {path}", markup=False)
    if args.simulate:
        return _simulate(args, params, stop, report, err)
    if not args.json:
        mode = "symmetry" if args.symmetry else "no symmetry"
        report.print(f"Checking {params.describe()} ({mode}, {workers} worker(s))")
        if params.has("lease") and params.servers >= 3 and not params.reduce:
            err.print(
                "note: the exact lease model on 3+ servers runs for hours; --reduce checks a "
                "sound over-approximation in minutes (docs/model-checking.md)"
            )
    options = Options(
        workers=workers,
        max_depth=args.max_depth,
        progress=_progress(err, args.json),
        stop=stop,
        checkpoint=Path(args.checkpoint) if args.checkpoint else None,
        checkpoint_every=args.checkpoint_every * 60,
        resume=Path(args.resume) if args.resume else None,
        fast=args.fast,
    )
    result = check(params, args.symmetry, witness=args.witness, options=options)
    if result.search.interrupted:
        return _interrupted(args, result, stop, report)
    exact = _confirm_exact(result, err, args.json)
    rendered = _deliver_trace(args, result.model, result.search.violation)
    if args.json:
        doc = result.to_json()
        if rendered is not None:
            doc.update(rendered)
        if exact is not None:
            doc.update(_confirmation_json(*exact))
        if args.tlc:
            doc["tlc"] = _tlc_json(params, args.symmetry, err)
        print(json.dumps(doc, indent=2))
    else:
        _report(report, result, args.trace is None)
        if exact is not None:
            _report_confirmation(report, *exact, args.trace or "text")
        if args.tlc:
            _tlc_side_by_side(report, err, result, params, args.symmetry)
    if args.witness is not None:
        return 0 if result.search.violation is not None else 1
    if result.search.violation is not None:
        return 1
    if result.search.unexplored:
        return 0  # bounded: what was asked was checked; a "sometimes" goal may lie beyond
    return 1 if result.vacuous else 0


def _deliver_trace(
    args: argparse.Namespace, model: Any, v: Violation[Any, Any] | None
) -> dict[str, Any] | None:
    """Send the counterexample where --trace/--trace-out say: a file, or alone on stdout (or
    into the JSON document); what the JSON document says about it."""
    if args.trace is None or v is None:
        return None
    verb = "violates" if getattr(model, "witness", None) is None else "reaches"
    text = trace.render(model, v, args.trace, verb)
    if args.trace_out:
        Path(args.trace_out).write_text(text + "\n")
        return {"trace_format": args.trace, "trace_file": args.trace_out}
    if args.json:
        body: Any = json.loads(text) if args.trace in ("json", "itf") else text
        return {"trace_format": args.trace, "trace_output": body}
    sys.stdout.write(text + "\n")
    return None


def _interrupted(
    args: argparse.Namespace, result: CheckResult, stop: StopFlag, report: Console
) -> int:
    s = result.search
    if args.json:
        print(json.dumps({**result.to_json(), "signal": stop.signal_name}, indent=2))
        return 130
    report.print(
        f"Interrupted ({stop.signal_name or 'stop requested'}) at depth {s.depth}: "
        f"{s.distinct:,} distinct states, {s.generated:,} generated, {s.unexplored:,} queued, "
        f"{s.seconds:.1f} s. Nothing is proven.",
        markup=False,
    )
    folder = args.checkpoint or args.resume
    if folder:
        report.print(f"Continue from the last checkpoint: --resume {folder}", markup=False)
    return 130


def _simulate(
    args: argparse.Namespace, params: Params, stop: StopFlag, report: Console, err: Console
) -> int:
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    depth = args.depth if args.depth is not None else 100
    model = RaftModel(params, args.witness)
    if not args.json:
        report.print(
            f"Simulating {params.describe()}: behaviours of up to {depth} states, seed {seed}"
        )
    r = simulate(model, depth, seed, args.behaviours, args.time_limit, stop)
    rendered = _deliver_trace(args, model, r.violation)
    result = "violation" if r.violation else ("interrupted" if r.interrupted else "no violation")
    if args.json:
        doc: dict[str, Any] = {
            "result": result,
            "mode": "simulate",
            "seed": r.seed,
            "depth": r.depth,
            "behaviours": r.behaviours,
            "states_generated": r.states,
            "seconds": round(r.seconds, 3),
            "behaviours_per_second": round(r.behaviours_per_second, 1),
        }
        if r.violation is not None:
            doc["violation"] = {
                "invariant": r.violation.invariant,
                "description": r.violation.description,
                "trace": trace.as_json(model, r.violation),
            }
        if rendered is not None:
            doc.update(rendered)
        print(json.dumps(doc, indent=2))
    else:
        if r.violation is not None and args.trace is None:
            report.print(trace.text(model, r.violation), markup=False)
        report.print(
            f"{result.capitalize()}: {r.behaviours:,} behaviours, {r.states:,} states generated "
            f"in {r.seconds:.1f} s ({r.behaviours_per_second:,.0f} behaviours/s); seed {r.seed} "
            f"(replay: --simulate --seed {r.seed} --depth {depth})",
            markup=False,
        )
        if r.violation is not None:
            report.print(
                f"Invariant {r.violation.invariant} is violated "
                f"({len(r.violation.trace)} states; not necessarily the shortest)."
            )
    if r.violation is not None:
        return 1
    return 130 if r.interrupted else 0


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


def _report(out: Console, r: CheckResult, with_trace: bool) -> None:
    s = r.search
    table = Table(title="Result")
    columns = ("result", "distinct states", "states generated", "depth", "seconds", "peak MB")
    for col in (*columns, "bytes/state"):
        table.add_column(col, justify="right")
    table.add_row(
        r.result,
        f"{s.distinct:,}",
        f"{s.generated:,}",
        str(s.depth),
        f"{s.seconds:.2f}",
        f"{s.peak_rss / 2**20:.0f}",
        f"{s.bytes_per_state:.0f}",
    )
    out.print(table)
    out.print(f"Successors: {s.successors_note}", markup=False)
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
        if with_trace:
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
    out.print(trace.render(exact, v, trace_format), markup=False)


def _confirmation_json(exact: RaftModel, v: Violation[Any, Any] | None) -> dict[str, Any]:
    if v is None:
        return {"confirmed_exact": False}
    return {"confirmed_exact": True, "exact_trace": trace.as_json(exact, v)}


def _tlc_json(params: Params, symmetry: bool, err: Console) -> dict[str, Any]:
    try:
        from electorate.app import tlc

        t = tlc.run(tlc.TlcModel(params, symmetry))
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
