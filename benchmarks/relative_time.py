"""Relative time (spec/features/relative_time.py) against absolute clocks, same lease models.

    python benchmarks/relative_time.py [--servers 2] [--max-clock 4]

The absolute model stops its clocks at --max-clock (4 already reaches every relative state on 2
servers, tests/spec/test_relative_time.py), so it checks a horizon; the relative model has none.
Printed: states, CPU seconds, and each ratio absolute / relative (above 1: relative is cheaper).
"""

from __future__ import annotations

import argparse

from lease_models import MODELS, measure

from electorate.spec.params import Params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--max-clock", type=int, default=4)
    args = ap.parse_args()
    print(f"{'features':<30} {'absolute':>22} {'relative':>22} {'states x':>9} {'cpu x':>7}")
    for name, features in MODELS.items():
        absolute = measure(
            Params(servers=args.servers, features=features, max_clock=args.max_clock)
        )
        relative = measure(Params(servers=args.servers, features=features))
        print(
            f"{name:<30} {absolute[0]:>10,} {absolute[1]:>8.1f} s"
            f" {relative[0]:>10,} {relative[1]:>8.1f} s"
            f" {absolute[0] / relative[0]:>9.2f} {absolute[1] / relative[1]:>7.2f}"
        )
    print(f"servers={args.servers}; absolute clocks stop at {args.max_clock}; relative: no horizon")


if __name__ == "__main__":
    main()
