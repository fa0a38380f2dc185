"""What two workers could give on two idle cores, estimated from CPU time (robust to load).

    python benchmarks/threads.py             # 3 servers, MaxTerm 2, MaxMsgs 2, no symmetry
    python benchmarks/threads.py --max-msgs 1 --symmetry

On a shared machine the wall-time ratio of two workers to one measures the other jobs as much as
the checker (benchmarks/engine.py gives no verdict then). This script runs the packed search in
this process, with one worker and then two, and times each thread's CPU (time.thread_time, which
does not grow while a thread waits for a core or for work). With two workers a round ends when
both threads are done, so on idle cores a round takes its busier thread's CPU, and the
driver's own work between rounds (merging, level changes) runs alone: their sum is the wall time
two idle cores would need, and one worker's CPU over it is the speed-up they would give. It is an
estimate, not a measurement: it leaves out the moments one thread waits for the GIL while the
other runs Python code (the code outside the C expansion and insertion, a few percent of the
CPU), and contention for memory between the two cores. Counts are asserted equal.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from electorate.model_check import engine, packed
from electorate.spec.model import RaftModel
from electorate.spec.params import Params


class Clock:
    """Per round of the packed search: the CPU of each thread's share of it."""

    def __init__(self) -> None:
        self.rounds = 0
        self.busiest = 0.0  # summed over rounds: the busier thread's CPU in the round
        self.in_rounds = 0.0  # summed over rounds: every thread's CPU in the round
        self.lock = threading.Lock()
        self.shares: dict[int, float] = {}  # thread id -> its CPU in the current round

    def install(self) -> Callable[[], None]:
        work, step = packed.PackedShard._work, packed.PackedShard.step

        def timed_work(shard: Any) -> list[Any]:
            start = time.thread_time()
            try:
                return work(shard)  # type: ignore[no-any-return]
            finally:
                with self.lock:
                    self.shares[threading.get_ident()] = time.thread_time() - start

        def timed_step(shard: Any, limit: int) -> Any:
            self.shares = {}
            start = time.thread_time()
            try:
                return step(shard, limit)
            finally:
                mine = time.thread_time() - start  # the driver's share, its merging included
                merging = mine - self.shares.get(threading.get_ident(), 0.0)
                self.rounds += 1
                self.busiest += max(self.shares.values(), default=0.0) + merging
                self.in_rounds += sum(self.shares.values()) + merging

        packed.PackedShard._work = timed_work  # type: ignore[method-assign,assignment]
        packed.PackedShard.step = timed_step  # type: ignore[method-assign,assignment]

        def restore() -> None:
            packed.PackedShard._work = work  # type: ignore[method-assign]
            packed.PackedShard.step = step  # type: ignore[method-assign]

        return restore


def run(params: Params, symmetry: bool, workers: int) -> tuple[Any, float, Clock]:
    clock = Clock()
    restore = clock.install()
    try:
        before = time.process_time()
        result = engine.check(RaftModel(params), symmetry, engine.Options(workers=workers))
        cpu = time.process_time() - before
    finally:
        restore()
    if result.successors != "packed":
        raise SystemExit(f"threads.py: the model ran on the {result.successors} path, not packed")
    return result, cpu, clock


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="two workers on idle cores, estimated from CPU")
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--max-term", type=int, default=2)
    ap.add_argument("--max-msgs", type=int, default=2)
    ap.add_argument("--symmetry", action="store_true")
    args = ap.parse_args(argv)
    params = Params(servers=args.servers, max_term=args.max_term, max_msgs=args.max_msgs)
    print(
        f"model: {params.describe()} symmetry {'on' if args.symmetry else 'off'}; "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
    )
    one, one_cpu, _ = run(params, args.symmetry, 1)
    two, two_cpu, clock = run(params, args.symmetry, 2)
    figures = {(r.distinct, r.generated, r.depth) for r in (one, two)}
    if len(figures) != 1:
        print("FIGURES DIFFER: the comparison is void")
        return 1
    print(
        f"figures agree: {one.distinct:,} distinct, {one.generated:,} generated, depth {one.depth}"
    )
    outside = two_cpu - clock.in_rounds  # the driver alone: the start, level changes, reports
    idle_wall = clock.busiest + outside
    print(f"1 worker: {one_cpu:.2f} s CPU (in this process, the interpreter's start left out)")
    print(
        f"2 workers: {two_cpu:.2f} s CPU ({two_cpu / one_cpu:.2f}x one worker's), "
        f"{clock.rounds} rounds; the busier thread of each round plus the driver alone: "
        f"{idle_wall:.2f} s"
    )
    print(
        f"estimated wall time on two idle cores: {idle_wall:.2f} s, so 2 workers would be "
        f"{one_cpu / idle_wall:.2f}x one worker (an estimate from CPU time, not a measurement)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
