"""``electorate validate TRACE...``: check traces of real runs against the spec.

A TRACE is one run: a directory of per-node files (``electorate cluster --trace-dir``) or one
NDJSON file holding every node's events. Traces are validated in parallel, one process each
(``--jobs``); ``--follow`` validates one growing trace as it is written.

Exit codes: 0 every trace valid; 1 some trace invalid; 2 bad input (one line naming the file
and line) or usage; 3 some trace inconclusive (its frontier outgrew ``--max-frontier``) and
none invalid; 130 interrupted (Ctrl-C, SIGTERM), with what was validated so far.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from electorate.validate import report
from electorate.validate.events import TraceFormatError
from electorate.validate.search import MAX_FRONTIER, Validator, Verdict, validate
from electorate.validate.tracefile import EventReader, read_trace

EXIT = {"valid": 0, "invalid": 1, "error": 2, "inconclusive": 3}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="electorate validate",
        description="Check traces of real runs (electorate node --trace-file, electorate "
        "cluster --trace-dir, or any writer of the format) against the spec.",
    )
    p.add_argument("traces", nargs="+", metavar="TRACE", help="a trace directory or file")
    p.add_argument("--jobs", type=int, default=0, help="processes (default: one per CPU)")
    p.add_argument("--json", action="store_true", help="one JSON verdict per line")
    p.add_argument(
        "--behaviour", action="store_true", help="print the matched spec behaviour, step by step"
    )
    p.add_argument(
        "--tla-out", metavar="DIR", help="write each valid trace's behaviour as a TLA+ module"
    )
    p.add_argument(
        "--tlc",
        action="store_true",
        help="with --tla-out: run TLC on each exported behaviour (needs Java and the dev extra)",
    )
    p.add_argument(
        "--max-frontier",
        type=int,
        default=MAX_FRONTIER,
        help=f"stop, inconclusive, past this many frontier states (default {MAX_FRONTIER})",
    )
    p.add_argument("--follow", action="store_true", help="validate one growing trace as it grows")
    p.add_argument(
        "--idle",
        type=float,
        default=0.0,
        help="--follow: end (and give the verdict) after S seconds without a new event "
        "(default: follow until interrupted)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=0.5,
        help="--follow: a node's last step is whole once it has written nothing for S seconds "
        "(default 0.5; the next step of the node ends it sooner)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary line per trace")
    return p


@dataclass(frozen=True)
class Options:
    json: bool
    behaviour: bool
    tla_out: str | None
    max_frontier: int
    quiet: bool
    tlc: bool = False


def main(argv: list[str]) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (no flush error at exit)
        return 0


def _main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if args.jobs < 0 or args.max_frontier < 1 or args.idle < 0 or args.settle < 0:
        print(
            "electorate validate: --jobs must be >= 0, --max-frontier >= 1, --idle and "
            "--settle >= 0",
            file=sys.stderr,
        )
        return 2
    if args.tlc and not args.tla_out:
        print(
            "electorate validate: --tlc checks what --tla-out DIR exports: give both",
            file=sys.stderr,
        )
        return 2
    opts = Options(args.json, args.behaviour, args.tla_out, args.max_frontier, args.quiet, args.tlc)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.follow:
        if len(args.traces) != 1:
            print("electorate validate: --follow takes exactly one TRACE", file=sys.stderr)
            return 2
        return _follow(args.traces[0], opts, args.idle, args.settle)
    jobs = args.jobs or os.cpu_count() or 1
    return _batch(args.traces, opts, min(jobs, len(args.traces)))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------- batch


def _batch(traces: list[str], opts: Options, jobs: int) -> int:
    worst = 0
    done = 0
    try:
        for res in _results(traces, opts, jobs):
            done += 1
            _print(res)
            worst = max(worst, EXIT[res["status"]], key=_severity)
    except KeyboardInterrupt:
        print(
            f"electorate validate: interrupted after {done} of {len(traces)} trace(s)",
            file=sys.stderr,
        )
        return 130
    if len(traces) > 1 and not opts.json:
        print(f"{done} trace(s) validated", file=sys.stderr)
    return worst


def _severity(code: int) -> int:
    """Bad input outranks invalid, which outranks inconclusive."""
    return {0: 0, 3: 1, 1: 2, 2: 3}[code]


def _results(traces: list[str], opts: Options, jobs: int) -> Iterator[dict[str, Any]]:
    if jobs <= 1:
        for t in traces:
            yield _one(t, opts)
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init) as pool:
        chunk = max(1, len(traces) // (jobs * 8))
        try:
            yield from pool.map(_one, traces, [opts] * len(traces), chunksize=chunk)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _one(source: str, opts: Options) -> dict[str, Any]:
    """Validate one trace (in a worker); everything the parent prints."""
    try:
        trace = read_trace(source)
        verdict = validate(trace, opts.max_frontier, opts.behaviour or bool(opts.tla_out))
    except TraceFormatError as e:
        return {"status": "error", "message": str(e)}
    out: dict[str, Any] = {"status": verdict.status}
    if opts.tla_out and verdict.status == "valid":
        try:
            out["tla"] = _export(verdict, Path(opts.tla_out), source)
        except (OSError, ValueError) as e:
            out["tla_error"] = f"{source}: cannot export the behaviour: {e}"
        if opts.tlc and "tla" in out:
            out |= _tlc(Path(out["tla"][0]).parent, source)
    if opts.json:
        out["json"] = report.as_json(verdict)
        for key in ("tla", "tlc"):
            if key in out:
                out["json"][key] = out[key].strip() if key == "tlc" else out[key]
    elif opts.quiet:
        out["text"] = report.summary(verdict)
    else:
        out["text"] = report.text(verdict, opts.behaviour)
    return out


def _export(verdict: Verdict, folder: Path, source: str) -> list[str]:
    from electorate.validate import tla

    name = Path(source).name.replace(".", "_") or "trace"
    return [str(p) for p in tla.export(verdict, folder / name)]


def _tlc(folder: Path, source: str) -> dict[str, Any]:
    """TLC's re-check of an exported behaviour (a rejection is the validator's defect)."""
    from electorate.app.tlc import TlcError
    from electorate.validate import tla

    try:
        check = tla.run_tlc(folder)
    except TlcError as e:
        return {"status": "error", "message": f"{source}: TLC could not run: {e}"}
    line = (
        f"  TLC: every step is a step of the spec ({check.distinct_states} states, "
        f"{check.seconds:.1f} s)"
        if check.accepted
        else f"  TLC REJECTS the behaviour: {check.detail} after {check.distinct_states} of "
        f"{check.expected_states} states (a defect of the validator: please report it)"
    )
    out: dict[str, Any] = {"tlc": line}
    if not check.accepted:
        out["status"] = "invalid"
    return out


def _print(res: dict[str, Any]) -> None:
    if res["status"] == "error":
        print(f"electorate validate: {res['message']}", file=sys.stderr)
        return
    if "json" in res:
        print(json.dumps(res["json"]), flush=True)
    else:
        print(res["text"], flush=True)
    for path in res.get("tla", []):
        if "json" not in res:
            print(f"  wrote {path}")
    if "tlc" in res:
        print(res["tlc"], flush=True)
    if "tla_error" in res:
        print(f"electorate validate: {res['tla_error']}", file=sys.stderr)


# ---------------------------------------------------------------------------- follow


def _follow(source: str, opts: Options, idle: float, settle: float) -> int:
    """Validate a trace while it grows: new lines are read as they are written; the first
    unexplained event ends the run (exit 1) at once."""
    tail = _Tail(Path(source))
    reader = EventReader(source)
    validator: Validator | None = None
    last_new = time.monotonic()
    last_note = 0.0
    heard: dict[str, float] = {}  # when each node last wrote
    try:
        while True:
            lines = tail.poll()
            now = time.monotonic()
            for path, n, line in lines:
                ev = reader.feed_line(path, n, line)
                if ev is not None:
                    heard[ev.node] = now
            if lines:
                last_new = now
            settled = frozenset(node for node, at in heard.items() if now - at >= settle)
            if validator is None and reader.voters is not None:
                validator = Validator(reader.finish(), opts.max_frontier, opts.behaviour)
            done = idle and time.monotonic() - last_new >= idle
            if validator is not None:
                if done:
                    tail.check_complete()
                v = validator.advance(final=bool(done), settled=settled)
                if v.status != "running":
                    _print(_rendered(v, opts))
                    return EXIT[v.status]
                if not opts.json and time.monotonic() - last_note >= 5.0:
                    last_note = time.monotonic()
                    print(f"following {source}: {_progress(v)}", file=sys.stderr, flush=True)
            elif done:
                raise TraceFormatError(f"{source}: no events (an empty trace)")
            time.sleep(0.2)
    except TraceFormatError as e:
        print(f"electorate validate: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if validator is not None:
            v = validator.advance(final=False)
            print(f"electorate validate: interrupted; {_progress(v)}", file=sys.stderr)
        return 130


def _progress(v: Verdict) -> str:
    width = v.widths[-1] if v.widths else 1
    return f"valid so far: {v.events} events, {v.steps} steps, frontier {width}"


def _rendered(v: Verdict, opts: Options) -> dict[str, Any]:
    if opts.json:
        return {"status": v.status, "json": report.as_json(v)}
    if opts.quiet:
        return {"status": v.status, "text": report.summary(v)}
    return {"status": v.status, "text": report.text(v, opts.behaviour)}


class _Tail:
    """New complete lines of a trace's files (a directory may gain files as nodes start)."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.offset: dict[Path, int] = {}
        self.partial: dict[Path, bytes] = {}
        self.lines: dict[Path, int] = {}

    def _files(self) -> list[Path]:
        if self.source.is_dir():
            return sorted([*self.source.glob("*.ndjson"), *self.source.glob("*.jsonl")])
        return [self.source] if self.source.exists() else []

    def poll(self) -> list[tuple[str, int, bytes]]:
        out: list[tuple[str, int, bytes]] = []
        for f in self._files():
            try:
                with f.open("rb") as fh:
                    fh.seek(self.offset.get(f, 0))
                    data = fh.read()
            except OSError as e:
                raise TraceFormatError(f"{f}: cannot read: {e.strerror}") from None
            if not data:
                continue
            self.offset[f] = self.offset.get(f, 0) + len(data)
            data = self.partial.pop(f, b"") + data
            *complete, rest = data.split(b"\n")
            if rest:
                self.partial[f] = rest
            for line in complete:
                self.lines[f] = self.lines.get(f, 0) + 1
                out.append((str(f), self.lines[f], line))
        return out

    def check_complete(self) -> None:
        for f, rest in self.partial.items():
            if rest:
                n = self.lines.get(f, 0) + 1
                raise TraceFormatError(f"{f}:{n}: truncated line (no newline at the end)")
