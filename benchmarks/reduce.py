"""`--reduce` (spec/features/reduce.py) against the exact relative-time lease model, one run.

    python benchmarks/reduce.py [--servers 2] [--three]

Both models are checked to completion in this process; printed: distinct states, CPU seconds,
and each ratio exact / reduced (above 1: the reduction is cheaper). With --three it also checks
the reduced model on 3 servers with all three features, whose exact model does not finish
(a 50-minute run stopped at depth 47 with 6.4 million states; docs/failure-modes.md).
"""

from __future__ import annotations

import argparse

from lease_models import MODELS, measure

from electorate.spec.params import Params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--three", action="store_true", help="also: 3 servers, reduced only")
    args = ap.parse_args()
    print(f"{'features':<30} {'exact':>22} {'--reduce':>22} {'states x':>9} {'cpu x':>7}")
    for name, features in MODELS.items():
        exact = measure(Params(servers=args.servers, features=features))
        reduced = measure(Params(servers=args.servers, features=features, reduce=True))
        print(
            f"{name:<30} {exact[0]:>10,} {exact[1]:>8.1f} s"
            f" {reduced[0]:>10,} {reduced[1]:>8.1f} s"
            f" {exact[0] / reduced[0]:>9.2f} {exact[1] / reduced[1]:>7.2f}"
        )
    print(f"servers={args.servers}, relative time, max_term 2, one message in flight")
    if args.three:
        states, seconds = measure(Params(servers=3, features=MODELS[name], reduce=True))
        print(f"3 servers, {name}, --reduce: {states:,} distinct states, {seconds:.1f} s CPU")


if __name__ == "__main__":
    main()
