"""What tracing costs a node (``electorate node --trace-file``): cheap enough to leave on?

    PYTHONPATH=. python benchmarks/trace_overhead.py [--steps 200000] [--seconds 10]

1. The core alone: three role machines stepping each other's messages and ticks (no sockets,
   no asyncio), with the production tracer writing to a file versus a tracer that does nothing.
   The core is the cheapest part of a node, so this ratio is an upper bound of the overhead.
2. Real node processes: a 3-node LocalCluster (heartbeat 15 ms) run for ``--seconds`` with and
   without ``--trace-file``; the CPU seconds each node process used (utime + stime from
   /proc/PID/stat), the trace bytes and events it wrote per second. Runs alternate
   (untraced, traced, untraced, traced) to spread the machine's load over both.

The load average is printed: the machine is shared, so absolute figures vary between runs;
the ratios in one invocation are what to read.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from electorate.impl.cluster import LocalCluster
from electorate.impl.core import CoreConfig, HardState, Ready, RoleMachine
from electorate.impl.messages import Message
from electorate.impl.tracelog import NodeTracer
from electorate.validate.tracefile import TraceWriter


class NullTracer(NodeTracer):
    """The same calls, doing nothing: the baseline."""

    def started(self) -> None: ...

    def received(self, m: Message) -> None: ...

    def ready(self, rd: Ready) -> None: ...

    def step_done(self) -> None: ...


def core_loop(steps: int, traced: bool, folder: Path) -> tuple[float, int]:
    """CPU seconds for ``steps`` inputs (ticks and deliveries) of 3 cores; events written."""
    rng = random.Random(1)
    names = ("n1", "n2", "n3")
    cores = {
        n: RoleMachine(CoreConfig(n, names), HardState(0, None), random.Random(k))
        for k, n in enumerate(names)
    }
    kind = NodeTracer if traced else NullTracer
    writers = {n: TraceWriter(folder / f"{n}-{traced}.ndjson", n) for n in names}
    tracers = {n: kind(writers[n], cores[n]) for n in names}
    for t in tracers.values():
        t.started()
    net: list[Message] = []
    start = time.process_time()  # CPU time: the machine is shared
    for _ in range(steps):
        if net and rng.random() < 0.6:
            m = net.pop(rng.randrange(len(net)))
            core, tracer = cores[m.dst], tracers[m.dst]
            tracer.received(m)
            core.step(m)
        else:
            name = rng.choice(names)
            core, tracer = cores[name], tracers[name]
            core.tick()
        while core.has_ready():
            rd = core.ready()
            tracer.ready(rd)
            net += rd.messages
        tracer.step_done()
    secs = time.process_time() - start
    for w in writers.values():
        w.close()
    return secs, sum(w.seq for w in writers.values())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_run(seconds: float, traced: bool, root: Path) -> tuple[float, int, int]:
    """CPU seconds per node process per second of run; trace bytes and events written."""
    traces = root / "traces"
    traces.mkdir(parents=True)
    cluster = LocalCluster(3, root, trace_dir=traces if traced else None, seed=3)
    cluster.start_all()
    try:
        time.sleep(seconds)
        used = [cpu_seconds(m.proc.pid) for m in cluster.members if m.proc is not None]
    finally:
        cluster.stop_all()
    files = list(traces.glob("*.ndjson"))
    size = sum(f.stat().st_size for f in files)
    events = sum(f.read_bytes().count(b"\n") for f in files)
    return statistics.mean(used) / seconds, size, events


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="electorate-overhead-") as tmp:
        folder = Path(tmp)
        base, _ = core_loop(a.steps, False, folder)
        traced, events = core_loop(a.steps, True, folder)
        per_event = (traced - base) / events * 1e6
        print(
            f"core alone, {a.steps} inputs: {base:.2f} CPU s untraced, {traced:.2f} CPU s traced "
            f"({traced / base:.2f}x; {events} events, {per_event:.1f} us CPU per event written)"
        )
        plain: list[float] = []
        with_trace: list[tuple[float, int, int]] = []
        for r in range(a.rounds):
            plain.append(cluster_run(a.seconds, False, folder / f"plain{r}")[0])
            with_trace.append(cluster_run(a.seconds, True, folder / f"traced{r}"))
        cpu0 = statistics.mean(plain)
        cpu1 = statistics.mean(t[0] for t in with_trace)
        size = statistics.mean(t[1] for t in with_trace) / a.seconds / 3
        rate = statistics.mean(t[2] for t in with_trace) / a.seconds / 3
        print(
            f"3 node processes, heartbeat 15 ms, {a.rounds} x {a.seconds:.0f} s each way: "
            f"CPU per node {100 * cpu0:.2f}% untraced, {100 * cpu1:.2f}% traced "
            f"({cpu1 / cpu0:.2f}x); each node wrote {rate:.0f} events/s, {size / 1024:.1f} KiB/s"
        )
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
