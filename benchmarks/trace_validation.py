"""Trace validation throughput: events per second, and N traces of M events on K processes.

    PYTHONPATH=. python benchmarks/trace_validation.py [--traces 1000] [--events 1000] [--jobs 2]

The traces are seeded simulated runs of the production core with faults (loss, duplication,
partitions, crashes and restarts; electorate.testing.traces), written once to a temporary
directory (that time is reported apart). Then, over the same files, in this invocation:

1. the floor: ``json.loads`` of every line (what any NDJSON reader pays);
2. reading and checking the events (``read_trace``);
3. validating a sample of the traces in this process (events/s on one core, and the ratio to
   the floor);
4. ``electorate validate --jobs K`` over all N traces: wall seconds (the figure of issue 18,
   "seconds for 1,000 traces of 1,000 events each on 2 cores"), with --jobs 1 as the baseline
   when ``--baseline`` is given.

The load average is printed: the machine is shared, so a busy run is slower, not wrong.
Exit 1 if any trace is not valid (the generated runs are all correct).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from electorate.testing.traces import generate
from electorate.validate import cli
from electorate.validate.search import validate
from electorate.validate.tracefile import read_trace


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--traces", type=int, default=1000)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sample", type=int, default=50, help="traces validated in-process")
    ap.add_argument("--baseline", action="store_true", help="also time --jobs 1 over all traces")
    ap.add_argument("--seed", type=int, default=0, help="trace k uses seed SEED + k")
    ap.add_argument(
        "--long", type=int, default=0, help="also validate one trace of this many events"
    )
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}; cpus: {os.cpu_count()}")
    print(f"seeds {a.seed}..{a.seed + a.traces - 1}, {a.events} events each, 3 nodes, faults on")
    with tempfile.TemporaryDirectory(prefix="electorate-traces-") as tmp:
        start = time.perf_counter()
        paths = [
            str(generate(Path(tmp) / f"t{k:05d}.ndjson", a.seed + k, a.events))
            for k in range(a.traces)
        ]
        gen = time.perf_counter() - start
        lines = sum(Path(p).read_bytes().count(b"\n") for p in paths)
        print(f"generated {a.traces} traces, {lines} events, in {gen:.1f} s")
        return measure(paths, lines, a)


def measure(paths: list[str], lines: int, a: argparse.Namespace) -> int:
    start = time.perf_counter()
    for p in paths:
        for line in Path(p).read_bytes().splitlines():
            json.loads(line)
    floor = lines / (time.perf_counter() - start)
    start = time.perf_counter()
    for p in paths:
        read_trace(p)
    reading = lines / (time.perf_counter() - start)
    sample = paths[: a.sample]
    start, events, steps = time.perf_counter(), 0, 0
    for p in sample:
        v = validate(read_trace(p))
        if v.status != "valid":
            print(f"{p}: {v.status}", file=sys.stderr)
            return 1
        events, steps = events + v.events, steps + v.steps
    one = events / (time.perf_counter() - start)
    print(f"json.loads alone:          {floor:10.0f} events/s (the floor)")
    print(f"read and check events:     {reading:10.0f} events/s ({floor / reading:.1f}x the floor)")
    print(
        f"validate, one process:     {one:10.0f} events/s ({floor / one:.1f}x the floor; "
        f"{len(sample)} traces, {events} events, {steps} steps)"
    )
    runs = [(a.jobs, _all(paths, a.jobs))]
    if a.baseline:
        runs.append((1, _all(paths, 1)))
    for jobs, (secs, cpu, ok) in runs:
        print(
            f"electorate validate --jobs {jobs}: {len(paths)} traces, {lines} events: "
            f"{secs:.1f} s wall ({lines / secs:.0f} events/s), {cpu:.1f} CPU seconds "
            f"({lines / cpu:.0f} events per CPU second)"
        )
        if ok != len(paths):
            print(f"{len(paths) - ok} trace(s) not valid", file=sys.stderr)
            return 1
    if a.baseline:
        print(f"speed-up with --jobs {a.jobs}: {runs[1][1][0] / runs[0][1][0]:.2f}x")
    if a.long:
        with tempfile.TemporaryDirectory(prefix="electorate-long-") as tmp:
            path = generate(Path(tmp) / "long.ndjson", a.seed, a.long)
            start = time.process_time()
            v = validate(read_trace(path), keep_behaviour=False)
            cpu = time.process_time() - start
            print(
                f"one trace of {v.events} events, one process: {v.status}, "
                f"{v.events / cpu:.0f} events per CPU second"
            )
    print(f"load average at end: {os.getloadavg()}")
    return 0


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (the pool's workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _all(paths: list[str], jobs: int) -> tuple[float, float, int]:
    opts = cli.Options(json=False, behaviour=False, tla_out=None, max_frontier=4096, quiet=True)
    start, cpu = time.perf_counter(), _cpu()
    ok = sum(r["status"] == "valid" for r in cli._results(paths, opts, jobs))
    return time.perf_counter() - start, _cpu() - cpu, ok


if __name__ == "__main__":
    sys.exit(main())
