"""``electorate conform`` and ``electorate adapter``: the suite and the reference adapters.

Exit status: 0 pass (with mutants: every mutant killed), 1 failure (a divergence, a vacuous run,
a mutant that survived or did not run), 2 usage error or an adapter that broke the protocol in a
plain run (one line on stderr naming the adapter and the step, no traceback), 130 interrupted
(Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from electorate.conformance import coverage, interrupt
from electorate.conformance.canonical import show
from electorate.conformance.harness import Failure
from electorate.conformance.machine import Budget
from electorate.conformance.minimize import replay
from electorate.conformance.protocol import Adapter, Client, Hello, ProtocolViolationError
from electorate.conformance.script import ScriptError, read_script
from electorate.conformance.suite import Outcome

REPLY_TIMEOUT = 20.0


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _conform_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="electorate conform", description="Run the conformance suite.")
    p.add_argument(
        "--adapter",
        help="a built-in adapter (--list-adapters) or a command line, split like a shell "
        "(leading NAME=value words set environment variables)",
    )
    p.add_argument("--list-adapters", action="store_true", help="list the built-in adapters")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--mutant", help="plant one bug (a mutant the adapter offers, or spec:BUG)")
    g.add_argument(
        "--mutants", metavar="LIST", help="the kill matrix of these mutants: a,b,c or @FILE"
    )
    g.add_argument("--all-mutants", action="store_true", help="the kill matrix of every mutant")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--examples", type=int, default=300, help="examples (default 300)")
    p.add_argument("--steps", type=int, default=50, help="steps per example (default 50)")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    p.add_argument("--no-corpus", action="store_true", help="skip the scenario corpus")
    p.add_argument("--update-corpus", action="store_true", help="save mutants' scripts")
    p.add_argument("--bundle-dir", type=Path, default=Path("conformance-failures"))
    p.add_argument("--no-schema", action="store_true", help="skip JSON Schema validation")
    p.add_argument(
        "--reply-timeout",
        type=float,
        default=REPLY_TIMEOUT,
        metavar="S",
        help=f"seconds an adapter may take per reply (default {REPLY_TIMEOUT:g})",
    )
    return p


def _replay_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="electorate conform replay", description="Replay a script or bundle.")
    p.add_argument("file", type=Path, help="a script (.jsonl) or a failure bundle directory")
    p.add_argument("--adapter", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--reply-timeout", type=float, default=REPLY_TIMEOUT, metavar="S")
    return p


def _adapter_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="electorate adapter", description="Serve a reference adapter on stdio.")
    p.add_argument("which", choices=["impl", "spec"])
    p.add_argument("--bug", help="spec adapter only: a spec bug variant (negative control)")
    return p


def main(argv: list[str]) -> int:
    try:
        with interrupt.stop_on_signals():
            code = _main(argv)
            interrupt.check()
            return code
    except UsageError as e:
        if interrupt.pending():
            return _interrupted()
        print(str(e), file=sys.stderr)
        return 2
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt) or interrupt.pending():
            return _interrupted()
        raise


def _main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("conform", "adapter"):
        raise UsageError("usage: electorate conform ... | electorate adapter impl|spec")
    if argv[0] == "adapter":
        return _serve(_adapter_parser().parse_args(argv[1:]))
    if argv[1:2] == ["replay"]:
        return _replay(_replay_parser().parse_args(argv[2:]))
    return _conform(_conform_parser().parse_args(argv[1:]))


def _interrupted() -> int:
    print("electorate conform: interrupted", file=sys.stderr)
    return 130


def _serve(args: argparse.Namespace) -> int:
    from electorate.conformance.adapters.impl_host import ImplHost
    from electorate.conformance.adapters.spec_host import SpecHost
    from electorate.conformance.adapters.transport import serve
    from electorate.spec.bugs import BUGS

    if args.bug and (args.which != "spec" or args.bug not in BUGS):
        raise UsageError(f"--bug needs the spec adapter and one of {', '.join(sorted(BUGS))}")
    return serve(ImplHost() if args.which == "impl" else SpecHost(args.bug))


def _open(spec: str, strict: bool, reply_timeout: float) -> tuple[Adapter, Client, Hello]:
    from electorate.conformance.adapters.transport import InProcessAdapter, open_adapter
    from electorate.conformance.suite import connect

    if reply_timeout <= 0:
        raise UsageError("electorate conform: --reply-timeout must be > 0")
    try:
        adapter = open_adapter(spec, reply_timeout)
    except (ValueError, ProtocolViolationError) as e:
        raise UsageError(f"electorate conform: adapter {show(spec)}: {e}") from e
    # The in-process fast path builds its replies itself: schema validation is for the wire.
    strict = strict and not isinstance(adapter, InProcessAdapter)
    try:
        client, hello = connect(adapter, strict)
    except Exception as e:
        adapter.close()
        raise UsageError(f"electorate conform: adapter {show(spec)} failed hello: {e}") from e
    return adapter, client, hello


def _conform(args: argparse.Namespace) -> int:
    from electorate.conformance import suite

    if args.list_adapters:
        return _list_adapters(args.json)
    if not args.adapter:
        raise UsageError("electorate conform: --adapter is required (see --list-adapters)")
    if args.examples < 1 or args.steps < 1:
        raise UsageError("electorate conform: --examples and --steps must be >= 1")
    wanted = _wanted_mutants(args)
    adapter, client, hello = _open(args.adapter, not args.no_schema, args.reply_timeout)
    budget = Budget(args.examples, args.steps, args.seed)
    try:
        names = suite.mutant_names(hello) if args.all_mutants else wanted
        _check_spec_controls(names)
        if names:
            return _matrix(client, hello, budget, names, args)
        return _plain(client, hello, budget, args)
    finally:
        adapter.close()


def _wanted_mutants(args: argparse.Namespace) -> list[str]:
    """The names of --mutant / --mutants (a,b,c or @FILE: one name per line, # comments)."""
    if args.mutant:
        return [args.mutant]
    if not args.mutants:
        return []
    text = args.mutants
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text("utf-8")
        except OSError as e:
            raise UsageError(f"electorate conform: --mutants {text}: {e.strerror}") from e
        names = [line.split("#")[0].strip() for line in text.splitlines()]
    else:
        names = [x.strip() for x in text.split(",")]
    names = [x for x in names if x]
    if not names:
        raise UsageError("electorate conform: --mutants names no mutant")
    return names


def _check_spec_controls(names: list[str]) -> None:
    from electorate.conformance.suite import SPEC_PREFIX
    from electorate.spec.bugs import BUGS

    for name in names:
        bug = name[len(SPEC_PREFIX) :] if name.startswith(SPEC_PREFIX) else None
        if bug is not None and bug not in BUGS:
            known = ", ".join(SPEC_PREFIX + b for b in sorted(BUGS))
            raise UsageError(f"electorate conform: unknown spec bug {show(name)}; known: {known}")


def _list_adapters(as_json: bool) -> int:
    from electorate.conformance import registry

    rows = []
    for e in registry.ENTRIES:
        reason = e.unavailable()
        rows.append(
            {
                "name": e.name,
                "implementation": e.implementation,
                "install": e.install,
                "available": reason is None,
                **({"unavailable": reason} if reason else {}),
            }
        )
    if as_json:
        print(json.dumps({"adapters": rows}, sort_keys=True))
        return 0
    for r in rows:
        state = "available" if r["available"] else f"NOT AVAILABLE: {r['unavailable']}"
        print(f"{r['name']:<14} {r['implementation']}")
        print(f"{'':<14} install: {r['install']}; {state}")
    return 0


def _protocol_exit(adapter: str, f: Failure) -> int:
    """A plain run stopped by the adapter (protocol error, error reply, crash, timeout)."""
    where = "at init" if f.step_index == 0 else f"at step {f.step_index} ({f.step})"
    print(f"electorate conform: adapter {show(adapter)} {where}: {f.text}", file=sys.stderr)
    return 2


def _plain(client: Client, hello: Hello, budget: Budget, args: argparse.Namespace) -> int:
    from electorate.conformance import suite

    out = suite.run(client, hello, budget, None, not args.no_corpus, args.bundle_dir)
    if out.not_run and out.failure is not None:
        return _protocol_exit(args.adapter, out.failure)
    det = suite.determinism(client, hello, out.script or suite.longest_scenario())
    missing = out.missing if out.passed else []
    passed = out.passed and det and not missing
    lv = suite.levels(hello, out.passed)
    if args.json:
        print(
            json.dumps(
                {
                    "result": "pass" if passed else "fail",
                    "adapter": args.adapter,
                    "implementation": hello.implementation,
                    "options": sorted(hello.options),
                    "examples": out.examples,
                    "steps": out.steps,
                    "seconds": round(out.seconds, 3),
                    "seed": out.seed,
                    "budget": {"examples": budget.examples, "steps": budget.steps},
                    "deviations": _deviations(hello, out),
                    "coverage": _coverage(out.coverage, out.required),
                    **_feature_coverage(out),
                    "missing_coverage": missing,
                    "excused_coverage": out.excused,
                    "omitted_messages": out.omitted,
                    "scenarios_skipped": out.scenarios_skipped,
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
    print(f"implementation: {hello.implementation}")
    print("declared deviations: " + (_show_deviations(hello, out) or "none"))
    print(f"{out.examples} examples, {out.steps} steps in {out.seconds:.1f} s ({rate:.0f} steps/s)")
    _print_coverage("coverage", out.coverage, out.required, out.excused)
    if out.feature_coverage is not None:
        _print_coverage(
            suite.FEATURE_LEVEL + " coverage", out.feature_coverage, out.feature_required
        )
    print(f"messages the spec sends that the implementation never emitted (lost): {out.omitted}")
    if out.scenarios_skipped:
        print("stored scenarios not applicable here: " + ", ".join(out.scenarios_skipped))
    for name, status in lv.items():
        print(f"level {name}: {status}")
    verdict = "ok" if det else "FAILED: the same script gave different responses"
    print(f"determinism self-check: {verdict}")
    if missing:
        print(f"FAIL: the run never reached {len(missing)} coverage target(s) (vacuous run):")
        for t in missing:
            print(f"  {t}")
    if out.failure is not None:
        _print_failure(out.failure, out)
    print(_verdict(passed, hello))
    return 0 if passed else 1


def _verdict(passed: bool, hello: Hello) -> str:
    """PASS or FAIL, with the deviations the pass rests on."""
    if not passed:
        return "FAIL"
    if not hello.options:
        return "PASS"
    return "PASS with declared deviations: " + ", ".join(sorted(hello.options))


def _deviations(hello: Hello, out: Outcome) -> dict[str, int | None]:
    """Each declared option, with the steps that exercised it where the spec can tell (an
    option with an action or handler of its own, taken by a composition), null for the others
    (the options of the mapping, and optimistic_next_index, which changes raft.tla's own send)."""
    hit = out.coverage + (out.feature_coverage or Counter())
    counted = set(coverage.OPTION_ACTIONS.values())
    return {o: hit[coverage.option(o)] if o in counted else None for o in sorted(hello.options)}


def _show_deviations(hello: Hello, out: Outcome) -> str:
    return ", ".join(
        o if k is None else f"{o} ({k} steps)" for o, k in _deviations(hello, out).items()
    )


def _coverage(hit: Counter[str], required: tuple[str, ...]) -> dict[str, int]:
    """Every required target with its count, then whatever else was hit."""
    out = {t: hit[t] for t in required}
    out.update({t: k for t, k in sorted(hit.items()) if t not in out})
    return out


def _feature_coverage(out: Outcome) -> dict[str, object]:
    """The PreVote/CheckQuorum level's coverage, when that level ran."""
    if out.feature_coverage is None:
        return {}
    return {"feature_coverage": _coverage(out.feature_coverage, out.feature_required)}


def _print_coverage(
    title: str, hit: Counter[str], required: tuple[str, ...], excused: Mapping[str, str] = {}
) -> None:
    reached = sum(1 for t in required if hit[t])
    print(f"{title} ({reached}/{len(required)} targets" + _excused(excused) + "):")
    for t, k in _coverage(hit, required).items():
        mark = "EXCUSED" if t in excused else "MISSING" if not k else ""
        mark = mark or ("" if t in required else "(not required)")
        print(f"  {t:<50} {k:>7}  {mark}".rstrip())
    for why in sorted(set(excused.values())):
        print(f"  EXCUSED: {why}")


def _excused(excused: Mapping[str, str]) -> str:
    return f", {len(excused)} excused" if excused else ""


def _failure_json(f: Failure, out: Outcome | None) -> dict[str, object]:
    from electorate.conformance.bundle import failure_json

    d = failure_json(f)
    d["found_by"] = out.found_by if out else "replay"
    d["bundle"] = str(out.bundle) if out and out.bundle else None
    if out is not None and out.script is not None:
        d["minimal_steps"] = len(out.script.steps)
    elif out is not None and out.observe_steps is not None:
        d["minimal_steps"] = out.observe_steps
    return d


def _print_failure(f: Failure, out: Outcome | None) -> None:
    print(f"first divergence ({', '.join(f.checks)}) after step {f.step_index}: {f.step}")
    if f.text:
        print(f"  {f.text}")
    for a, b, c in f.rows[:12]:
        print(f"  {a:<22} spec: {b:<40} implementation: {c}")
    if out is None:
        return
    d = _failure_json(f, out)
    if "minimal_steps" in d:
        print(f"counterexample: {d['minimal_steps']} steps (minimized), found by {out.found_by}")
    if d["bundle"]:
        print(f"bundle: {d['bundle']}")
        print(f"replay: electorate conform replay {d['bundle']} --adapter ...")


def _matrix(
    client: Client, hello: Hello, budget: Budget, names: list[str], args: argparse.Namespace
) -> int:
    from electorate.conformance import suite

    rows: dict[str, dict[str, object]] = {}
    examples = steps_run = 0
    t0 = time.perf_counter()
    if not args.json:
        print(f"{'mutant':<34} {'result':<9} {'check':<30} {'steps':>5} {'seconds':>8}  found by")
    for name in names:
        out = suite.run(client, hello, budget, name, not args.no_corpus, args.bundle_dir)
        examples, steps_run = examples + out.examples, steps_run + out.steps
        row = _matrix_row(out)
        rows[name] = row
        if row["result"] == "killed" and args.update_corpus and out.script is not None:
            suite.save_scenario(out.script)
        if not args.json:
            steps = "-" if row["steps"] is None else row["steps"]
            detail = row["check"] or "-"
            print(
                f"{name:<34} {row['result']:<9} {detail!s:<30} {steps:>5} "
                f"{out.seconds:>8.2f}  {row['found_by'] or '-'}",
                flush=True,
            )
            if row["reason"]:
                print(f"{'':<34}   {row['result']}: {row['reason']}")
    total = time.perf_counter() - t0
    killed = sum(r["result"] == "killed" for r in rows.values())
    not_run = sum(r["result"] == "not run" for r in rows.values())
    passed = killed == len(rows)
    if args.json:
        print(
            json.dumps(
                {
                    "result": "pass" if passed else "fail",
                    "adapter": args.adapter,
                    "implementation": hello.implementation,
                    "examples": examples,
                    "steps": steps_run,
                    "budget": {"examples": budget.examples, "steps": budget.steps},
                    "seconds": round(total, 3),
                    "seed": budget.seed,
                    "killed": killed,
                    "not_run": not_run,
                    "mutants": rows,
                },
                sort_keys=True,
            )
        )
    else:
        survived = len(rows) - killed - not_run
        print(
            f"{killed}/{len(rows)} mutants killed, {survived} survived, {not_run} not run "
            f"in {total:.1f} s (seed {budget.seed})"
        )
    return 0 if passed else 1


def _matrix_row(out: Outcome) -> dict[str, object]:
    """killed (a behavioural check fired), survived (the suite passed), or not run (the adapter
    could not run the mutant: a protocol error, an error reply, a crash, a timeout)."""
    f = out.failure
    reason: str | None
    if out.not_run and f is not None:
        where = "init" if f.step_index == 0 else f"step {f.step_index} ({f.step})"
        result, reason = "not run", f"{f.check} at {where}: {f.text}"
    elif out.passed:
        missing = out.missing
        result = "survived"
        reason = ("never reached: " + "; ".join(missing)) if missing else None
    else:
        result, reason = "killed", None
    steps = len(out.script.steps) if out.script and result == "killed" else out.observe_steps
    return {
        "result": result,
        "killed": result == "killed",
        "check": f.check if f and result == "killed" else None,
        "steps": steps if result == "killed" else None,
        "seconds": round(out.seconds, 3),
        "found_by": out.found_by if result == "killed" else None,
        "reason": reason,
    }


def _replay(args: argparse.Namespace) -> int:
    try:
        script = read_script(args.file)
    except ScriptError as e:
        raise UsageError(f"electorate conform replay: {e}") from e
    adapter, client, hello = _open(args.adapter, True, args.reply_timeout)
    try:
        r = replay(client, hello, script)
    finally:
        adapter.close()
    if r.failure is not None and r.failure.kind == "protocol":
        return _protocol_exit(args.adapter, r.failure)
    ok = r.failure is None and r.feasible
    if args.json:
        print(
            json.dumps(
                {
                    "result": "pass" if ok else "fail",
                    "declared_deviations": sorted(hello.options),
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
        print(_verdict(ok, hello))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
