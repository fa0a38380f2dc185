"""Conformance speed: steps per second in process and over the subprocess protocol, the wall
time of the standard budget, and of the full mutant matrix.

    PYTHONPATH=. python benchmarks/conformance_bench.py [--examples 300] [--steps 50]
        [--seed 0] [--subprocess-examples 60] [--matrix]

A benchmark, not a test: it prints figures and exits 0 unless a run fails.
"""

from __future__ import annotations

import argparse
import sys
import time

from electorate.conformance import suite
from electorate.conformance.adapters.transport import open_adapter
from electorate.conformance.machine import Budget
from electorate.conformance.protocol import Client


def _one(adapter_spec: str, budget: Budget, strict: bool) -> tuple[bool, int, int, float]:
    adapter = open_adapter(adapter_spec)
    try:
        client = Client(adapter, strict=strict)
        hello = client.hello()
        out = suite.run(client, hello, budget, corpus=False)
        return out.passed, out.examples, out.steps, out.seconds
    finally:
        adapter.close()


def _matrix(budget: Budget) -> tuple[int, int, float]:
    adapter = open_adapter("impl")
    client = Client(adapter, strict=False)
    hello = client.hello()
    names = suite.mutant_names(hello)
    t0 = time.perf_counter()
    outs = [suite.run(client, hello, budget, n, corpus=False) for n in names]
    killed = sum(not out.passed and not out.not_run for out in outs)  # behavioural kills only
    return killed, len(names), time.perf_counter() - t0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=300)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subprocess-examples", type=int, default=60)
    ap.add_argument("--matrix", action="store_true", help="also time the mutant matrix")
    args = ap.parse_args(argv)
    ok = True
    runs = [
        ("in-process impl", "impl", args.examples, False),
        ("subprocess impl (schemas on)", "electorate adapter impl", args.subprocess_examples, True),
        (
            "subprocess impl (schemas off)",
            "electorate adapter impl",
            args.subprocess_examples,
            False,
        ),
        ("in-process spec", "spec", args.subprocess_examples, False),
    ]
    print(f"seed {args.seed}, {args.steps} steps per example")
    for label, spec, examples, strict in runs:
        passed, ex, steps, secs = _one(spec, Budget(examples, args.steps, args.seed), strict)
        ok &= passed
        print(
            f"{label:<32} {ex:>5} examples {steps:>7} steps {secs:>7.1f} s "
            f"{steps / secs:>7.0f} steps/s  {'pass' if passed else 'FAIL'}"
        )
    if args.matrix:
        killed, total, secs = _matrix(Budget(args.examples, args.steps, args.seed))
        print(f"mutant matrix (no corpus): {killed}/{total} killed in {secs:.1f} s")
        ok &= killed == total
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
