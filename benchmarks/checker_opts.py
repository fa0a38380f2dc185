"""Measure the checker's optimisations against their plain baselines, in one run.

    python benchmarks/checker_opts.py [--depth 18] [--servers 3]

Each line is one variant on the same model (3 servers, election profile, max_term 2, max_msgs 1,
BFS cut at --depth levels so a run takes seconds); the ratio is against the baseline of its group.
CPU seconds (process time, children included for workers) are reported beside wall time because
this machine is shared: CPU time is the fairer figure when other jobs run. Workers and the
fast engine against a plain BFS and TLC: benchmarks/engine.py.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from electorate.model_check.search import Search
from electorate.spec import symmetry
from electorate.spec.model import RaftModel
from electorate.spec.params import Params
from electorate.spec.state import State


class BruteForceSymmetry(RaftModel):
    """Baseline: the smallest image over all N! renamings."""

    def canonical(self, s: State) -> State:
        return symmetry.canonical_bruteforce(s)


def cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(label: str, search: Search[State, object], depth: int) -> tuple[str, float, float, int]:
    c0, w0 = cpu(), time.perf_counter()
    r = search.run(max_depth=depth)
    return label, time.perf_counter() - w0, cpu() - c0, r.generated


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=18)
    ap.add_argument("--servers", type=int, default=3)
    args = ap.parse_args()
    p = Params(servers=args.servers)
    print(f"model: {p.describe()}, BFS cut at depth {args.depth}")
    groups = [
        [
            measure(
                "symmetry: all N! renamings (baseline)", Search(BruteForceSymmetry(p)), args.depth
            ),
            measure("symmetry: renamings within signature ties", Search(RaftModel(p)), args.depth),
        ],
    ]
    for group in groups:
        base_wall, base_cpu = group[0][1], group[0][2]
        for label, wall, cpu_s, generated in group:
            print(
                f"{label:<44} {generated:>10,} generated  wall {wall:6.2f}s "
                f"({base_wall / wall:4.2f}x)  cpu {cpu_s:6.2f}s ({base_cpu / cpu_s:4.2f}x)"
            )


if __name__ == "__main__":
    main()
