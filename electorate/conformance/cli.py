"""``electorate conform`` and ``electorate adapter``: the suite and the reference adapters.

Exit status: 0 pass (with mutants: every mutant killed), 1 failure, 2 usage or adapter start-up
error (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NoReturn

from electorate.conformance.harness import Failure
from electorate.conformance.machine import Budget
from electorate.conformance.minimize import replay
from electorate.conformance.protocol import Adapter, Client, Hello, ProtocolViolationError
from electorate.conformance.script import RunConfig, Script, ScriptError, Step, read_script
from electorate.conformance.suite import Outcome

STRICT_DEFAULT = True


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _conform_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="electorate conform", description="Run the conformance suite.")
    p.add_argument("--adapter", required=True, help='"impl", "spec[:BUG]" or a command line')
    g = p.add_mutually_exclusive_group()
    g.add_argument("--mutant", help="plant one bug (impl mutation, or spec:BUG)")
    g.add_argument("--all-mutants", action="store_true", help="the kill matrix")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--examples", type=int, default=300, help="examples (default 300)")
    p.add_argument("--steps", type=int, default=50, help="steps per example (default 50)")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    p.add_argument("--no-corpus", action="store_true", help="skip the scenario corpus")
    p.add_argument("--update-corpus", action="store_true", help="save mutants' scripts")
    p.add_argument("--bundle-dir", type=Path, default=Path("conformance-failures"))
    p.add_argument("--no-schema", action="store_true", help="skip JSON Schema validation")
    return p


def _replay_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="electorate conform replay", description="Replay a script or bundle.")
    p.add_argument("file", type=Path)
    p.add_argument("--adapter", required=True)
    p.add_argument("--json", action="store_true")
    return p


def _adapter_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="electorate adapter", description="Serve a reference adapter on stdio.")
    p.add_argument("which", choices=["impl", "spec"])
    p.add_argument("--bug", help="spec adapter only: a spec bug variant (negative control)")
    return p


def main(argv: list[str]) -> int:
    try:
        if not argv or argv[0] not in ("conform", "adapter"):
            raise UsageError("usage: electorate conform ... | electorate adapter impl|spec")
        if argv[0] == "adapter":
            return _serve(_adapter_parser().parse_args(argv[1:]))
        if argv[1:2] == ["replay"]:
            return _replay(_replay_parser().parse_args(argv[2:]))
        return _conform(_conform_parser().parse_args(argv[1:]))
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    from electorate.conformance.adapters.impl_host import ImplHost
    from electorate.conformance.adapters.spec_host import SpecHost
    from electorate.conformance.adapters.transport import serve
    from electorate.spec.bugs import BUGS

    if args.bug and (args.which != "spec" or args.bug not in BUGS):
        raise UsageError(f"--bug needs the spec adapter and one of {sorted(BUGS)}")
    return serve(ImplHost() if args.which == "impl" else SpecHost(args.bug))


def _open(spec: str, strict: bool) -> tuple[Adapter, Client, Hello]:
    from electorate.conformance.adapters.transport import InProcessAdapter, open_adapter
    from electorate.conformance.suite import connect

    try:
        adapter = open_adapter(spec)
    except (ValueError, ProtocolViolationError) as e:
        raise UsageError(f"electorate conform: adapter {spec!r}: {e}") from e
    # The in-process fast path builds its replies itself: schema validation is for the wire.
    strict = strict and not isinstance(adapter, InProcessAdapter)
    try:
        client, hello = connect(adapter, strict)
    except Exception as e:
        adapter.close()
        raise UsageError(f"electorate conform: adapter {spec!r} failed hello: {e}") from e
    return adapter, client, hello


def _conform(args: argparse.Namespace) -> int:
    from electorate.conformance import suite

    if args.examples < 1 or args.steps < 1:
        raise UsageError("electorate conform: --examples and --steps must be >= 1")
    adapter, client, hello = _open(args.adapter, strict=not args.no_schema)
    budget = Budget(args.examples, args.steps, args.seed)
    try:
        names = suite.mutant_names(hello) if args.all_mutants else []
        if args.mutant:
            names = [args.mutant]
            _check_mutant(args.mutant, hello)
        if names:
            return _matrix(client, hello, budget, names, args)
        return _plain(client, hello, budget, args)
    finally:
        adapter.close()


def _check_mutant(name: str, hello: Hello) -> None:
    from electorate.conformance import suite

    known = suite.mutant_names(hello)
    if name not in known:
        raise UsageError(f"electorate conform: unknown mutant {name!r}; known: {known}")


def _plain(client: Client, hello: Hello, budget: Budget, args: argparse.Namespace) -> int:
    from electorate.conformance import suite

    out = suite.run(client, hello, budget, None, not args.no_corpus, args.bundle_dir)
    det = suite.determinism(client, hello, out.script or _any_script())
    missing = out.missing_events if out.passed else []
    passed = out.passed and det and not missing
    lv = suite.levels(hello, out.passed)
    if args.json:
        print(
            json.dumps(
                {
                    "result": "pass" if passed else "fail",
                    "examples": out.examples,
                    "steps": out.steps,
                    "seconds": round(out.seconds, 3),
                    "seed": out.seed,
                    "events": dict(out.events),
                    **_feature_events(out),
                    "missing_events": missing,
                    "deterministic": det,
                    "levels": lv,
                    **({"failure": _failure_json(out.failure, out)} if out.failure else {}),
                },
                sort_keys=True,
            )
        )
        return 0 if passed else 1
    rate = out.steps / out.seconds if out.seconds else 0.0
    print(f"adapter: {args.adapter}  seed {out.seed}  budget {budget.examples}x{budget.steps}")
    print(f"{out.examples} examples, {out.steps} steps in {out.seconds:.1f} s ({rate:.0f} steps/s)")
    print("events: " + ", ".join(f"{k}={v}" for k, v in sorted(out.events.items())))
    if out.feature_events is not None:
        shown = sorted(out.feature_events.items())
        print("prevote_check_quorum events: " + ", ".join(f"{k}={v}" for k, v in shown))
    for name, status in lv.items():
        print(f"level {name}: {status}")
    verdict = "ok" if det else "FAILED: the same script gave different responses"
    print(f"determinism self-check: {verdict}")
    if missing:
        print(f"FAIL: the budget never reached: {', '.join(missing)} (vacuous run)")
    if out.failure is not None:
        _print_failure(out.failure, out)
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


def _feature_events(out: Outcome) -> dict[str, object]:
    """The PreVote/CheckQuorum level's events, when that level ran."""
    if out.feature_events is None:
        return {}
    return {"feature_events": dict(out.feature_events)}


def _any_script() -> Script:
    from electorate.conformance import suite

    corpus = suite.load_corpus()
    if corpus:
        return max(corpus, key=lambda s: len(s.steps))
    return Script(RunConfig(3, ((0, 0),) * 3), (Step("timeout", 0),))


def _failure_json(f: Failure, out: Outcome | None) -> dict[str, object]:
    from electorate.conformance.bundle import failure_json

    d = failure_json(f)
    d["found_by"] = getattr(out, "found_by", "")
    bundle = getattr(out, "bundle", None)
    d["bundle"] = str(bundle) if bundle else None
    script = getattr(out, "script", None)
    d["minimal_steps"] = len(script.steps) if script else getattr(out, "observe_steps", None)
    return d


def _print_failure(f: Failure, out: Outcome | None) -> None:
    print(f"first divergence ({', '.join(f.checks)}) after step {f.step_index}: {f.step}")
    if f.text:
        print(f"  {f.text}")
    for a, b, c in f.rows[:12]:
        print(f"  {a:<22} spec: {b:<40} impl: {c}")
    d = _failure_json(f, out)
    print(f"minimal counterexample: {d['minimal_steps']} steps, found by {d['found_by']}")
    if d["bundle"]:
        print(
            f"bundle: {d['bundle']}  (replay: electorate conform replay "
            f"{d['bundle']}/script.jsonl --adapter ...)"
        )


def _matrix(
    client: Client, hello: Hello, budget: Budget, names: list[str], args: argparse.Namespace
) -> int:
    from electorate.conformance import suite

    rows: dict[str, dict[str, object]] = {}
    examples = steps_run = 0
    t0 = time.perf_counter()
    if not args.json:
        print(f"{'mutant':<30} {'killed':<7} {'check':<34} {'steps':>5} {'seconds':>8}  found by")
    for name in names:
        out = suite.run(client, hello, budget, name, not args.no_corpus, args.bundle_dir)
        killed = not out.passed
        examples, steps_run = examples + out.examples, steps_run + out.steps
        steps = len(out.script.steps) if out.script else out.observe_steps
        row: dict[str, object] = {
            "killed": killed,
            "check": out.failure.check if out.failure else None,
            "steps": steps,
            "seconds": round(out.seconds, 3),
            "found_by": out.found_by,
        }
        rows[name] = row
        if killed and args.update_corpus and out.script is not None:
            suite.save_scenario(out.script)
        if not args.json:
            print(
                f"{name:<30} {'yes' if killed else 'NO':<7} {row['check'] or '-'!s:<34} "
                f"{'-' if steps is None else steps:>5} {out.seconds:>8.2f}  {out.found_by or '-'}",
                flush=True,
            )
    total = time.perf_counter() - t0
    all_killed = all(r["killed"] for r in rows.values())
    if args.json:
        print(
            json.dumps(
                {
                    "result": "pass" if all_killed else "fail",
                    "examples": examples,
                    "steps": steps_run,
                    "budget": {"examples": budget.examples, "steps": budget.steps},
                    "seconds": round(total, 3),
                    "seed": budget.seed,
                    "mutants": rows,
                },
                sort_keys=True,
            )
        )
    else:
        count = sum(bool(r["killed"]) for r in rows.values())
        print(f"{count}/{len(rows)} mutants killed in {total:.1f} s (seed {budget.seed})")
    return 0 if all_killed else 1


def _replay(args: argparse.Namespace) -> int:
    try:
        script = read_script(args.file)
    except ScriptError as e:
        raise UsageError(f"electorate conform replay: {e}") from e
    adapter, client, hello = _open(args.adapter, strict=True)
    try:
        r = replay(client, hello, script)
    finally:
        adapter.close()
    ok = r.failure is None and r.feasible
    if args.json:
        print(
            json.dumps(
                {
                    "result": "pass" if ok else "fail",
                    "steps": len(script.steps),
                    "feasible": r.feasible,
                    "failure": None if r.failure is None else _failure_json(r.failure, None),
                },
                sort_keys=True,
            )
        )
    else:
        print(f"replayed {len(script.steps)} steps of {args.file}")
        if not r.feasible:
            print("FAIL: a step is not enabled in the spec (the script does not fit this spec)")
        if r.failure is not None:
            _print_failure(r.failure, None)
        print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
