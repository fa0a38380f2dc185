"""Benchmark of `electorate prove` as users run it: CPU seconds per phase, and the wall time.

    python benchmarks/prove.py [--runs N] [--json] [-- PROVE ARGS...]

Runs the whole `electorate prove --json` (every property with its checks, the tie in its worker
processes) `--runs` times and prints, per run: each property's CPU seconds (its obligations and
checks, in the main process), each tie configuration's CPU seconds and the process that ran it
(a worker, or the main process once its proofs are done), the CPU of each process, the wall
time and the load average.

The machine is shared, so the wall time measures the load more than prove. The figure that
carries over to an idle machine is CPU: prove runs three processes (the proofs, which then
take the tie jobs no worker has started, and two tie workers), and on an idle 2-core machine
fair sharing ends them after c3 + c1/2 seconds, c1 and c3 being the smallest and largest of
the three processes' CPU seconds (all three run at 2/3 of a core until the smallest ends, then
the other two have a core each). Exit 1 if some run fails or that estimate exceeds BUDGET_S.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 60.0  # estimated wall seconds on an idle 2-core machine (issue: under 60 s)


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def idle_estimate(process_cpu: list[float], cores: int = 2) -> float:
    """Wall seconds for CPU-bound processes of the given CPU seconds sharing `cores` fairly
    (each runs at min(1, cores / running) of a core until it ends)."""
    left = sorted(process_cpu)
    wall = 0.0
    while left:
        speed = min(1.0, cores / len(left))
        step = left[0] / speed
        wall += step
        left = [c - left[0] for c in left[1:]]
    return wall


def run_once(extra: list[str]) -> dict[str, Any]:
    load_before = os.getloadavg()
    cpu_before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "electorate.proofs.cli", "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before  # prove and its workers, as the OS counted them
    if proc.returncode not in (0, 1) or not stdout.strip():
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"prove exited {proc.returncode}: {tail[0]}")
    data = json.loads(stdout)
    workers: dict[int, float] = defaultdict(float)
    seen: set[str] = set()
    for t in data["tie"]:
        # A configuration's models share one exploration; the main process runs the jobs no
        # worker has started when its proofs are done (its CPU includes them).
        if t["config"] not in seen and t["process"] != proc.pid:
            seen.add(t["config"])
            workers[t["process"]] += t["cpu_seconds"]
    for prop in data["properties"]:  # obligations of pooled properties, run in the workers
        for part in prop.get("processes", []):
            if part["process"] != proc.pid:
                workers[part["process"]] += part["cpu_seconds"]
    main_cpu = data["cpu_seconds"]["main"]
    # A worker's own CPU is its jobs' plus a little pool overhead: split the measured total
    # of the workers in proportion to their jobs.
    jobs_total = sum(workers.values()) or 1.0
    worker_cpu = [data["cpu_seconds"]["workers"] * w / jobs_total for w in workers.values()]
    return {
        "result": data["result"],
        "exit": proc.returncode,
        "wall_s": round(wall, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(cpu, 2),
        "main_cpu_s": round(main_cpu, 2),
        "worker_cpu_s": [round(w, 2) for w in worker_cpu],
        "idle_2_core_estimate_s": round(idle_estimate([main_cpu, *worker_cpu]), 1),
        "properties": [
            {
                "name": p["name"],
                "cpu_s": p["cpu_seconds"],
                "obligations": p["obligations"],
                # CPU seconds in this process; the rest ran in the workers, in parts.
                "main_cpu_s": sum(
                    x["cpu_seconds"] for x in p.get("processes", []) if x["process"] == proc.pid
                ),
                "workers": [
                    sorted(workers).index(x["process"]) + 1
                    for x in p.get("processes", [])
                    if x["process"] in workers
                ],
                "retries": len(p.get("retries", [])),
            }
            for p in data["properties"]
        ],
        "tie": [
            {
                "config": t["config"],
                "models": [u["model"] for u in data["tie"] if u["config"] == t["config"]],
                "cpu_s": t["cpu_seconds"],
                "steps": t["steps"],
                "worker": sorted(workers).index(t["process"]) + 1 if t["process"] in workers else 0,
            }
            for k, t in enumerate(data["tie"])
            if all(u["config"] != t["config"] for u in data["tie"][:k])
        ],
    }


def _print(run: dict[str, Any]) -> None:
    print(
        f"result {run['result']}, wall {run['wall_s']} s, load average {run['load_before'][0]} "
        f"before and {run['load_after'][0]} after"
    )
    print("| phase | process | CPU s |")
    print("|---|---|---:|")
    for p in run["properties"]:
        retried = f"; {p['retries']} proved after retries" if p["retries"] else ""
        text = f"{p['name']} ({p['obligations']} obligations{retried})"
        if p["workers"] and p["main_cpu_s"] == 0:  # an isolated property: all in a worker
            where = ", ".join(f"worker {w}" for w in p["workers"])
            print(f"| {text}, with its checks | {where} | {p['cpu_s']:.2f} |")
        elif p["workers"]:
            where = ", ".join(f"worker {w}" for w in p["workers"])
            print(f"| {text}: its checks | main | {p['main_cpu_s']:.2f} |")
            print(f"| {text}: its obligations | {where} | {p['cpu_s'] - p['main_cpu_s']:.2f} |")
        else:
            print(f"| {text}, with its checks | main | {p['cpu_s']:.2f} |")
    for t in run["tie"]:
        where = f"worker {t['worker']}" if t["worker"] else "main"
        print(f"| tie {t['config']} [{', '.join(t['models'])}] | {where} | {t['cpu_s']:.2f} |")
    print(
        f"| main process in all (imports, formulas, proofs, checks, tie jobs) | main | "
        f"{run['main_cpu_s']:.2f} |"
    )
    for k, w in enumerate(run["worker_cpu_s"], 1):
        print(f"| tie worker {k} in all | worker {k} | {w:.2f} |")
    print(f"| **total** (the OS's count for prove and its workers) | | {run['cpu_s']:.2f} |")
    print(
        f"estimated wall on an idle 2-core machine: {run['idle_2_core_estimate_s']} s "
        f"(budget {BUDGET_S:.0f} s)"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs of prove (default 1)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("prove_args", nargs="*", help="passed to prove, after --")
    args = parser.parse_args(argv)
    if args.runs < 1:
        print(f"prove bench: --runs must be at least 1, got {args.runs}", file=sys.stderr)
        return 2
    try:
        runs = [run_once(args.prove_args) for _ in range(args.runs)]
    except RuntimeError as err:
        print(f"prove bench: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("prove bench: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(runs, indent=2))
    else:
        for run in runs:
            _print(run)
    ok = all(r["result"] == "ok" and r["idle_2_core_estimate_s"] <= BUDGET_S for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
