"""Our checker against TLC on the same model, in one invocation: distinct states per second.

    PYTHONPATH=. python benchmarks/vs_tlc.py                      # N=3 election T=2 M=1
    PYTHONPATH=. python benchmarks/vs_tlc.py --servers 2 --profile log --max-log 1 --values 1

Both run with one worker; TLC's wall time includes starting the JVM and parsing the spec, as a
user would see it. The run fails (exit 1) if the two disagree on any figure, since a speed
comparison between checkers that explore different spaces would mean nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from electorate.app import api, tlc
from electorate.spec.ids import PROFILES
from electorate.spec.params import Params, ParamsError


@dataclass(frozen=True)
class Figures:
    """One checker's figures for the model."""

    name: str
    distinct: int
    generated: int
    depth: int
    wall_s: float

    @property
    def rate(self) -> float:
        return self.distinct / self.wall_s if self.wall_s > 0 else 0.0

    def row(self) -> str:
        return (
            f"{self.name:<12}{self.distinct:>12,}{self.generated:>14,}{self.depth:>7}"
            f"{self.wall_s:>10.1f}{self.rate:>14,.0f}"
        )


def run_ours(model: tlc.TlcModel) -> Figures:
    """Our checker on the same model, through `electorate check`'s API."""
    start = time.perf_counter()
    res = api.check(model.params, symmetry=model.symmetry, workers=1)
    counts = (res.distinct_states, res.states_generated, res.depth)
    return Figures("electorate", *counts, time.perf_counter() - start)


def run_theirs(model: tlc.TlcModel, timeout_s: float) -> Figures:
    res = tlc.run(model, timeout_s)
    if res.result == "timeout":
        raise tlc.TlcError(f"TLC timed out after {timeout_s:.0f} s")
    return Figures("TLC", res.distinct_states, res.states_generated, res.depth, res.wall_s)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description="Our checker vs TLC on one model")
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--profile", choices=PROFILES, default="election")
    ap.add_argument("--max-term", type=int, default=2)
    ap.add_argument("--max-msgs", type=int, default=1)
    ap.add_argument("--max-log", type=int, default=0)
    ap.add_argument("--values", type=int, default=0)
    ap.add_argument("--symmetry", action="store_true")
    ap.add_argument("--timeout", type=float, default=1200.0, help="TLC timeout, seconds")
    return ap


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        params = Params(
            servers=args.servers,
            profile=args.profile,
            max_term=args.max_term,
            max_msgs=args.max_msgs,
            max_log=args.max_log,
            values=args.values,
        )
        model = tlc.TlcModel(params, args.symmetry)
        theirs = run_theirs(model, args.timeout)
    except (tlc.TlcError, ParamsError) as exc:
        print(f"vs_tlc: error: {exc}", file=sys.stderr)
        return 2
    ours = run_ours(model)
    print(f"model: {model.describe()}; one worker each")
    head = ("distinct", "generated", "depth", "wall s", "distinct/s")
    print(f"{'checker':<12}{head[0]:>12}{head[1]:>14}{head[2]:>7}{head[3]:>10}{head[4]:>14}")
    print(ours.row())
    print(theirs.row())
    print(f"ratio (electorate / TLC, distinct states per second): {ours.rate / theirs.rate:.2f}")
    same = (ours.distinct, ours.generated, ours.depth) == (
        theirs.distinct,
        theirs.generated,
        theirs.depth,
    )
    print("figures agree" if same else "FIGURES DIFFER: the comparison is void")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
