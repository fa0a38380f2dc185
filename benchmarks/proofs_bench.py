"""Benchmark of `electorate prove`: time per property over several z3 seeds, plus mutants.

    python benchmarks/proofs_bench.py [--seeds 0,1,7,42,1234] [--mutants] [--json]

A proof that holds for one seed only is fragile, so every seed must prove everything. Wall and
CPU seconds are both reported (the machine is shared: CPU seconds are the stable figure). Exit 1
if some obligation fails for some seed, or if quorum + election take over 30 s of CPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import z3

from electorate.proofs.cli import properties
from electorate.proofs.core import Settings
from electorate.proofs.mutants import MUTANTS, all_obligations

BUDGET_S = 30.0  # CPU seconds of quorum + election together, worst seed
PROPERTIES = properties()


def _run_property(prop_name: str, seed: int) -> tuple[float, float, float, str, int]:
    """(wall seconds, CPU seconds, slowest obligation's wall seconds, its name, failures)."""
    prop = next(p for p in PROPERTIES if p.name == prop_name)
    start, cpu = time.perf_counter(), time.process_time()
    slowest, slowest_name, failures = 0.0, "", 0
    for ob in prop.obligations():
        outcome = ob.run(Settings(seed=seed))
        failures += not outcome.holds
        if outcome.seconds > slowest:
            slowest, slowest_name = outcome.seconds, ob.name
    wall = time.perf_counter() - start
    return wall, time.process_time() - cpu, slowest, slowest_name, failures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,7,42,1234")
    parser.add_argument("--mutants", action="store_true", help="also time each bug variant")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        print(
            f"proofs_bench: --seeds must be comma-separated integers, got {args.seeds!r}",
            file=sys.stderr,
        )
        return 2
    rows: list[dict[str, Any]] = []
    ok = True
    for prop in PROPERTIES:
        runs = [_run_property(prop.name, seed) for seed in seeds]
        failures = sum(r[4] for r in runs)
        ok = ok and failures == 0
        slow = max(runs, key=lambda r: r[2])
        rows.append(
            {
                "property": prop.name,
                "obligations": len(prop.obligations()),
                "median_s": round(statistics.median(r[0] for r in runs), 3),
                "max_s": round(max(r[0] for r in runs), 3),
                "median_cpu_s": round(statistics.median(r[1] for r in runs), 3),
                "max_cpu_s": round(max(r[1] for r in runs), 3),
                "slowest_obligation": slow[3],
                "slowest_obligation_s": round(slow[2], 3),
                "failures": failures,
            }
        )
    items_1_2 = sum(r["max_cpu_s"] for r in rows if r["property"] in ("quorum", "election"))
    ok = ok and items_1_2 < BUDGET_S
    mutants: list[dict[str, Any]] = []
    if args.mutants:
        for bug, mutant in MUTANTS.items():
            start = time.perf_counter()
            failed = [o.name for o in all_obligations(bug) if not o.run(Settings()).holds]
            mutants.append(
                {
                    "bug": bug,
                    "failed_obligations": len(failed),
                    "as_expected": failed == list(mutant.breaks),
                    "seconds": round(time.perf_counter() - start, 3),
                }
            )
            ok = ok and failed == list(mutant.breaks)
    report = {
        "z3": z3.get_version_string(),
        "seeds": seeds,
        "properties": rows,
        "quorum_election_max_cpu_s": round(items_1_2, 3),
        "mutants": mutants,
        "ok": ok,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"z3 {report['z3']}, seeds {seeds}")
        print(
            "| property | obligations | median s | max s | median CPU s | max CPU s "
            "| slowest obligation | failures |"
        )
        print("|---|---:|---:|---:|---:|---:|---|---:|")
        for r in rows:
            print(
                f"| {r['property']} | {r['obligations']} | {r['median_s']} | {r['max_s']} | "
                f"{r['median_cpu_s']} | {r['max_cpu_s']} | "
                f"{r['slowest_obligation']} ({r['slowest_obligation_s']} s) | {r['failures']} |"
            )
        print(f"quorum + election, worst seed: {items_1_2:.2f} CPU s (budget {BUDGET_S} s)")
        for m in mutants:
            print(
                f"mutant {m['bug']}: {m['failed_obligations']} obligations fail "
                f"({'as expected' if m['as_expected'] else 'UNEXPECTED'}), {m['seconds']} s"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
