"""`electorate prove`: run the proof obligations, print a table, exit 0 only if all hold.

    electorate prove [--property NAME] [--json] [--explain] [--bug NAME] [--seed N]

Exit codes: 0 all obligations hold; 1 some obligation failed (counterexample, or `unknown`,
which counts as failure); 2 usage error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn, TextIO

import z3

from electorate.proofs import election, quorum, vacuity
from electorate.proofs.core import Z3_PIN, Obligation, Outcome, Property, Settings
from electorate.proofs.invariant import CONJUNCTS
from electorate.proofs.mutants import MUTANTS, all_obligations

PROPERTIES: tuple[Property, ...] = (
    quorum.PROPERTY,
    election.PROPERTY,
    election.PROPERTY_FEATURES,
    vacuity.PROPERTY,
)


class UsageError(Exception):
    """Bad command line; the message is the one line printed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="electorate prove", description=__doc__.splitlines()[0])
    names = ", ".join(p.name for p in PROPERTIES)
    parser.add_argument("--property", action="append", help=f"one of: {names} (repeatable)")
    parser.add_argument("--json", action="store_true", help="machine-readable result on stdout")
    parser.add_argument("--explain", action="store_true", help="print the lemmas and the bridge")
    parser.add_argument(
        "--bug",
        help="prove a bug variant of the spec instead (expected to fail): " + ", ".join(MUTANTS),
    )
    parser.add_argument("--seed", type=int, default=0, help="z3 random seed (default 0)")
    parser.add_argument("--timeout-ms", type=int, default=10_000, help="per obligation")
    return parser


@dataclass
class Row:
    name: str
    obligations: int = 0
    failed: list[tuple[str, Outcome]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def result(self) -> str:
        return "ok" if not self.failed else "failed"


def _selected(names: Sequence[str] | None, bug: str | None) -> list[Property]:
    known = {p.name: p for p in PROPERTIES}
    for name in names or ():
        if name not in known:
            raise UsageError(f"unknown property {name!r}; choose from {', '.join(known)}")
    if bug is not None:
        if bug not in MUTANTS:
            raise UsageError(f"unknown bug {bug!r}; choose from {', '.join(MUTANTS)}")
        mutant = Property(
            f"election[{bug}]",
            f"election safety with the spec bug {bug}",
            lambda: all_obligations(bug),
        )
        return [mutant]
    return [known[n] for n in names] if names else list(PROPERTIES)


def _run(prop: Property, settings: Settings, progress: TextIO) -> Row:
    row = Row(prop.name)
    obligations: list[Obligation] = prop.obligations()
    start = time.perf_counter()
    for k, ob in enumerate(obligations, 1):
        outcome = ob.run(settings)
        verdict = "ok" if outcome.holds else f"FAILED ({outcome.status})"
        ms = outcome.seconds * 1000
        print(
            f"[{prop.name} {k}/{len(obligations)}] {ob.name}: {verdict} {ms:.0f} ms", file=progress
        )
        row.obligations += 1
        if not outcome.holds:
            row.failed.append((ob.name, outcome))
    row.seconds = time.perf_counter() - start
    return row


def explain(out: TextIO) -> None:
    print(
        "Election safety: inductive invariant (all conjuncts hold initially and after every "
        "action)",
        file=out,
    )
    for lemma in CONJUNCTS:
        print(f"  {lemma.id}: {lemma.words}", file=out)
        print(f"      needed: {lemma.why}", file=out)
        if lemma.broken_without:
            print(f"      without it, these fail: {'; '.join(lemma.broken_without)}", file=out)
    print(
        "Quorum bridge: servers and quorums are uninterpreted; the only quorum facts used are "
        "'any two quorums share a server' and 'no quorum is empty'. proofs.quorum proves both "
        "for the spec's majority predicate for every N >= 1, and the spec guard 'votesGranted "
        "is a quorum' is the encoding's 'votesGranted contains a quorum' (take the quorum to be "
        "votesGranted; quorums are upward closed).",
        file=out,
    )
    print("Quorum facts (every N, linear arithmetic over Venn regions):", file=out)
    for fact in quorum.FACTS:
        print(f"  {fact.id}: {fact.statement}", file=out)


def _table(rows: list[Row], out: TextIO) -> None:
    header = f"{'property':<28} {'obligations':>11}  {'result':<8} {'time':>8}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for r in rows:
        print(f"{r.name:<28} {r.obligations:>11}  {r.result:<8} {r.seconds:>7.2f}s", file=out)


def _report_failures(rows: list[Row], out: TextIO) -> None:
    for r in rows:
        for name, outcome in r.failed:
            print(f"\n{r.name}: {name}: {outcome.status}", file=out)
            if outcome.detail:
                print(outcome.detail, file=out)


def _json(rows: list[Row]) -> dict[str, object]:
    return {
        "result": "ok" if all(r.result == "ok" for r in rows) else "failed",
        "z3": z3.get_version_string(),
        "properties": [
            {
                "name": r.name,
                "result": r.result,
                "obligations": r.obligations,
                "seconds": round(r.seconds, 3),
                "failures": [
                    {"obligation": n, "status": o.status, "counterexample": o.detail}
                    for n, o in r.failed
                ],
            }
            for r in rows
        ],
    }


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        props = _selected(args.property, args.bug)
        if args.timeout_ms <= 0:
            raise UsageError(f"--timeout-ms must be positive, got {args.timeout_ms}")
    except UsageError as err:
        print(f"electorate prove: {err}", file=sys.stderr)
        return 2
    if z3.get_version_string() != Z3_PIN:
        print(f"warning: z3 {z3.get_version_string()} is not the pinned {Z3_PIN}", file=sys.stderr)
    out = sys.stdout
    if args.explain and not args.json:
        explain(out)
        print(file=out)
    settings = Settings(timeout_ms=args.timeout_ms, seed=args.seed)
    rows = [_run(p, settings, sys.stderr) for p in props]
    if args.json:
        print(json.dumps(_json(rows), indent=2), file=out)
    else:
        print(file=out)
        _table(rows, out)
        _report_failures(rows, out)
        print(f"\nz3 {z3.get_version_string()}, seed {args.seed}", file=out)
    return 0 if all(r.result == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
