"""`electorate prove`: run the proofs and their checks, tie them to the spec, print a table.

    electorate prove [--property NAME] [--json] [--explain] [--bug NAME] [--seed N]
                     [--timeout-ms MS] [--no-tie]

Each property is proved for every cluster size (its obligations), and comes with a mutant that
must break it, anti-vacuity checks and a bad state its formula must reject (proofs.catalog). The
tie explores the spec and checks that every step is a step of the relations the proofs are
about (proofs.tie). Exit codes: 0 everything holds; 1 some obligation or check failed (a
counterexample, `unknown`, a mutant that survives, a rejected spec step); 2 usage error (one
line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import multiprocessing.pool
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn, TextIO

import z3

from electorate.proofs import quorum, tie, vacuity
from electorate.proofs.catalog import ENTRY_BY_NAME, TIES, Entry, TieConfig
from electorate.proofs.core import (
    Z3_PIN,
    Obligation,
    Outcome,
    Property,
    Settings,
    interruptible,
)
from electorate.proofs.induction import Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import CONJUNCTS
from electorate.proofs.mutants import MUTANTS, all_obligations, expected_breaks
from electorate.proofs.sanity import evaluate

TIE_NAME = "spec-tie"


def properties() -> tuple[Property, ...]:
    """Every property in report order: the quorum facts, the catalog's theories, vacuity."""
    proved = [_property(e) for e in ENTRY_BY_NAME.values()]
    return (quorum.PROPERTY, *proved, vacuity.PROPERTY)


def _pooled(name: str) -> bool:
    entry = ENTRY_BY_NAME.get(name)
    return entry is not None and entry.pooled


def _isolated(name: str) -> bool:
    entry = ENTRY_BY_NAME.get(name)
    return entry is not None and entry.isolated


def _property(entry: Entry) -> Property:
    obligations = entry.obligations or (lambda: theory_obligations(entry.theory))
    return Property(entry.theory.name, entry.theory.summary, obligations)


class UsageError(Exception):
    """Bad command line; the message is the one line printed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="electorate prove", description=__doc__.splitlines()[0])
    names = ", ".join([*(p.name for p in properties()), TIE_NAME])
    parser.add_argument("--property", action="append", help=f"one of: {names} (repeatable)")
    parser.add_argument("--json", action="store_true", help="machine-readable result on stdout")
    parser.add_argument("--explain", action="store_true", help="print the lemmas and the bridge")
    parser.add_argument(
        "--bug",
        help="prove a bug variant of the spec instead (expected to fail): " + ", ".join(MUTANTS),
    )
    parser.add_argument("--seed", type=int, default=0, help="z3 random seed (default 0)")
    parser.add_argument(
        "--timeout-ms", type=int, default=60_000, help="wall-clock backstop per solver call"
    )
    parser.add_argument("--no-tie", action="store_true", help="skip the tie to the spec")
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="worker processes for the tie and the pooled proofs, beside the others (default 2)",
    )
    return parser


@dataclass
class Check:
    """One of a property's checks beside its proof (mutant, vacuity, bad state)."""

    name: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    name: str
    obligations: int = 0
    failed: list[tuple[str, Outcome]] = field(default_factory=list)
    seconds: float = 0.0
    checks: list[Check] = field(default_factory=list)
    scope: str = "all N"
    cpu: float = 0.0  # CPU seconds of the obligations and checks (every process)
    # CPU seconds by process id: this process, and the workers that ran obligations of it.
    processes: dict[int, float] = field(default_factory=dict)
    # Obligations proved only after `unknown` answers: (name, solver calls, seconds).
    retried: list[tuple[str, int, float]] = field(default_factory=list)

    @property
    def result(self) -> str:
        if self.failed or not all(c.ok for c in self.checks):
            return "failed"
        return "proved"


def _selected(names: Sequence[str] | None, bug: str | None) -> tuple[list[Property], bool]:
    """The properties to run and whether to run the tie."""
    known = {p.name: p for p in properties()}
    for name in names or ():
        if name not in known and name != TIE_NAME:
            choices = ", ".join([*known, TIE_NAME])
            raise UsageError(f"unknown property {name!r}; choose from {choices}")
    if bug is not None:
        if bug not in MUTANTS:
            raise UsageError(f"unknown bug {bug!r}; choose from {', '.join(MUTANTS)}")
        return _bug_properties(bug), False
    if not names:
        return list(known.values()), True
    return [known[n] for n in names if n in known], TIE_NAME in names


def _bug_properties(bug: str) -> list[Property]:
    """The election proof under a bug variant of the spec, then every other proof the bug is
    known to threaten (a feature's bug breaks its feature's property, not election safety)."""
    found = [
        Property(
            f"election[{bug}]",
            f"election safety with the spec bug {bug}",
            lambda: all_obligations(bug),
        )
    ]
    for name in MUTANTS[bug].theories:
        theory = ENTRY_BY_NAME[name].theory
        found.append(
            Property(f"{name}[{bug}]", f"{theory.summary}; spec bug {bug}", _under(theory, bug))
        )
    return found


def _under(theory: Theory, bug: str) -> Callable[[], list[Obligation]]:
    return lambda: theory_obligations(theory, bug)


def _say(progress: TextIO, label: str, text: str) -> None:
    """One progress line, written at once with its newline: a worker ended in the middle of
    print's two writes (text, then newline) would leave the stop's line glued to its own."""
    _stop_if_signalled()
    progress.write(f"[{label}] {text}\n")
    progress.flush()


def _run_obligations(
    label: str, obs: list[Obligation], settings: Settings, progress: TextIO
) -> list[tuple[str, Outcome]]:
    results = []
    for k, ob in enumerate(obs, 1):
        outcome = ob.run(settings)
        verdict = "ok" if outcome.holds else f"FAILED ({outcome.status})"
        _say(
            progress,
            f"{label} {k}/{len(obs)}",
            f"{ob.name}: {verdict} {outcome.seconds * 1000:.0f} ms",
        )
        results.append((ob.name, outcome))
    return results


def _mutant_check(entry: Entry, settings: Settings, progress: TextIO, bug: str) -> Check:
    """The mutant must break the proof with a counterexample to induction (the first of a
    property's mutants is its check `mutant`, another one `mutant <bug>`)."""
    start = time.perf_counter()
    label = f"{entry.theory.name} mutant {bug}"
    check = "mutant" if bug == entry.mutant else f"mutant {bug}"
    broken: list[tuple[str, Outcome]] = []
    search = replace(settings, search_first=True)  # a counterexample is expected
    for ob in expected_breaks(bug, entry.theory):
        ((name, outcome),) = _run_obligations(label, [ob], search, progress)
        if not outcome.holds and outcome.status == "sat" and outcome.detail:
            broken.append((name, outcome))
            break
    seconds = time.perf_counter() - start
    if not broken:
        return Check(
            check,
            False,
            f"{bug}: no counterexample (the proof survives the bug)",
            seconds,
            {"bug": bug, "refuted": False},
        )
    name, outcome = broken[0]
    data = {
        "bug": bug,
        "refuted": True,
        "obligation": name,
        "counterexample": outcome.detail,
    }
    return Check(check, True, f"{bug}: {name}", seconds, data)


def _vacuity_check(entry: Entry, settings: Settings, progress: TextIO) -> Check:
    start = time.perf_counter()
    obs = vacuity.theory_obligations(
        entry.theory, entry.witness, entry.witness_words, entry.concrete
    )
    outcomes = _run_obligations(f"{entry.theory.name} vacuity", obs, settings, progress)
    failed = [n for n, o in outcomes if not o.holds]
    detail = f"{len(obs) - len(failed)}/{len(obs)} satisfiable" + (
        f"; not: {', '.join(failed)}" if failed else ""
    )
    return Check(
        "vacuity",
        not failed,
        detail,
        time.perf_counter() - start,
        {"checks": len(obs), "failed": failed},
    )


def _sanity_check(entry: Entry, progress: TextIO) -> Check:
    start = time.perf_counter()
    bad = entry.bad()
    value = evaluate(entry.formula, entry.theory.model, bad)
    ok = value is False
    shown = {True: "true", False: "false", None: "undecided"}[value]
    detail = f"{entry.statement} is {shown} on {bad.words}"
    _say(progress, f"{entry.theory.name} bad state", f"{detail}: {'ok' if ok else 'FAILED'}")
    return Check(
        "bad-state", ok, detail, time.perf_counter() - start, {"state": bad.words, "value": shown}
    )


def _run(
    prop: Property,
    settings: Settings,
    progress: TextIO,
    checks: bool,
    runner: Runner | None = None,
) -> Row:
    """A property's obligations and checks; a property the runner proves in its workers has
    only its checks run here (its obligations are added by `_add_parts`)."""
    row = Row(prop.name)
    start, cpu = time.perf_counter(), time.process_time()
    pooled = runner is not None and runner.proves(prop.name)
    outcomes = [] if pooled else _run_obligations(prop.name, prop.obligations(), settings, progress)
    _add_outcomes(row, outcomes)
    row.seconds = time.perf_counter() - start
    entry = ENTRY_BY_NAME.get(prop.name)
    if checks and entry is not None:
        row.checks = [
            _sanity_check(entry, progress),
            _vacuity_check(entry, settings, progress),
            *[_mutant_check(entry, settings, progress, bug) for bug in entry.mutants],
        ]
    if prop.name in ("quorum", "vacuity"):
        row.scope = "all N" if prop.name == "quorum" else "election model"
    row.cpu = time.process_time() - cpu
    row.processes[os.getpid()] = row.cpu
    return row


def _add_outcomes(row: Row, outcomes: list[tuple[str, Outcome]]) -> None:
    row.obligations += len(outcomes)
    row.failed += [(n, o) for n, o in outcomes if not o.holds]
    row.retried += [(n, o.attempts, o.seconds) for n, o in outcomes if o.holds and o.attempts > 1]


def _add_parts(row: Row, parts: list[ProofPart]) -> None:
    """A pooled property's obligations, from its parts (in the order of the property's list:
    part r holds obligations r, r + parts, ...)."""
    outcomes: list[tuple[str, Outcome]] = []
    longest = max(len(p.outcomes) for p in parts)
    for k in range(longest):
        outcomes += [p.outcomes[k] for p in parts if k < len(p.outcomes)]
    _add_outcomes(row, outcomes)
    for part in parts:
        row.cpu += part.cpu
        row.processes[part.process] = row.processes.get(part.process, 0.0) + part.cpu
    row.seconds = max([row.seconds, *[p.seconds for p in parts]])


@dataclass(frozen=True)
class ProofPart:
    """Every `parts`-th obligation of a property, from the `part`-th, proved in a worker."""

    name: str
    part: int
    outcomes: list[tuple[str, Outcome]]
    seconds: float
    cpu: float
    process: int


def _proof_job(name: str, part: int, parts: int, settings: Settings) -> ProofPart:
    """One part of a pooled property's obligations (a worker process's job)."""
    start, cpu = time.perf_counter(), time.process_time()
    obs = _property(ENTRY_BY_NAME[name]).obligations()[part::parts]
    label = f"{name} part {part + 1}/{parts}"
    outcomes = _run_obligations(label, obs, settings, sys.stderr)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return ProofPart(name, part, outcomes, seconds, cpu, os.getpid())


@dataclass
class TieRow:
    config: TieConfig
    results: list[tie.TieResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def _tie_job(index: int) -> list[tie.TieResult]:
    """One tie configuration (a worker process's job: module-level, so it can be pickled)."""
    config = TIES[index]
    return tie.check_models(config.params, [(m, ()) for m in config.models], config.depth)


def _worker_init() -> None:
    # The parent handles Ctrl-C (it reaches the whole process group) and ends the workers.
    # z3 would take SIGINT for itself during a query whatever the handler (core.interruptible),
    # and a KeyboardInterrupt in a pool's worker kills it without an answer for the parent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)  # the parent's watcher (core.interruptible) is not the worker's
    z3.set_param("ctrl_c", False)


def _longest_first(index: int) -> float:
    cpu = TIES[index].cpu
    return -math.inf if cpu is None else -cpu


def _whole_job(name: str, settings: Settings) -> Row:
    """An isolated property, its obligations and its checks (a worker process's job)."""
    return _run(_property(ENTRY_BY_NAME[name]), settings, sys.stderr, True)


# A job of the worker pool: an isolated property (its part is WHOLE), one part of a pooled
# property's obligations, or a tie configuration (its index in TIES).
Job = tuple[str, int]
WHOLE = -1


class Runner:
    """Runs work beside the proofs of this process in `jobs` worker processes (forked, so a
    worker sees the same spec as the parent, patched or not) or, with one job, in-process:
    the isolated properties (Entry.isolated) whole, the obligations of the pooled properties
    (Entry.pooled), split into `jobs` parts, and the tie configurations.

    The isolated properties and the proof parts start first, one per worker: each runs in a
    fresh fork of this process as it was at the start, or (a proof part) after a small
    isolated property in the same worker, so its solver state, and so its answers and
    retries, do not depend on timing. Then the ties, longest first: each worker holds one job
    and takes the next longest when it is done (the run ends when its longest job does, so
    that one must not start last). When its proofs are done, this process takes the shortest
    of the ties no worker has started yet."""

    def __init__(
        self,
        jobs: int,
        settings: Settings,
        pooled: Sequence[str] = (),
        ties: bool = True,
        isolated: Sequence[str] = (),
    ) -> None:
        self.jobs = jobs
        self.settings = settings
        self.pooled = tuple(pooled) if jobs > 1 else ()
        self.isolated = tuple(isolated) if jobs > 1 else ()
        self.ties = ties
        self._pool: multiprocessing.pool.Pool | None = None
        self._started: dict[Job, multiprocessing.pool.AsyncResult[Any]] = {}
        whole = [(name, WHOLE) for name in self.isolated]
        proofs = [(name, k) for name in self.pooled for k in range(jobs)]
        tie_jobs = sorted(range(len(TIES)), key=_longest_first) if ties else []
        self._pending: list[Job] = [*whole, *proofs, *[(TIE_NAME, k) for k in tie_jobs]]
        self._lock = threading.Lock()  # the pool's result thread starts the next jobs

    def proves(self, name: str) -> bool:
        return name in self.pooled

    def isolates(self, name: str) -> bool:
        return name in self.isolated

    def row(self, name: str) -> Row:
        """An isolated property's row, as its worker returns it (waits for it)."""
        row: Row = self._started[(name, WHOLE)].get()
        return row

    def start(self) -> None:
        if self.jobs > 1 and self._pending:
            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(self.jobs, initializer=_worker_init)
            for _ in range(self.jobs):
                self._start_next()

    def _start_next(self, _: object = None) -> None:
        with self._lock:
            if self._pool is None or not self._pending:
                return
            job = self._pending.pop(0)
            kind, k = job
            done = self._start_next
            started: multiprocessing.pool.AsyncResult[Any]
            if kind == TIE_NAME:
                started = self._pool.apply_async(_tie_job, (k,), callback=done, error_callback=done)
            elif k == WHOLE:
                started = self._pool.apply_async(
                    _whole_job, (kind, self.settings), callback=done, error_callback=done
                )
            else:
                args = (kind, k, self.jobs, self.settings)
                started = self._pool.apply_async(
                    _proof_job, args, callback=done, error_callback=done
                )
            self._started[job] = started

    def _take_shortest(self) -> int | None:
        with self._lock:
            if self._pending and self._pending[-1][0] == TIE_NAME:
                return self._pending.pop()[1]
            return None

    def parts(self, name: str) -> list[ProofPart]:
        """A pooled property's parts, as its workers return them (waits for them)."""
        return [self._started[(name, k)].get() for k in range(self.jobs)]

    def results(self, progress: TextIO) -> list[TieRow]:
        if not self.ties:
            return []
        here: dict[int, list[tie.TieResult]] = {}
        while (k := self._take_shortest()) is not None:
            here[k] = _tie_job(k)
        rows = []
        for k, config in enumerate(TIES):
            results = here[k] if k in here else self._started[(TIE_NAME, k)].get()
            for r in results:
                verdict = "ok" if r.ok else f"FAILED ({len(r.rejected)} rejected)"
                model = r.model.tag or "canonical"
                text = f"{config.name} [{model}]: {r.steps} steps, {r.states} states"
                _say(progress, TIE_NAME, f"{text}: {verdict} {r.seconds:.1f} s ({r.cpu:.1f} s CPU)")
            rows.append(TieRow(config, results))
        return rows

    def stop(self) -> None:
        """End the workers (at once: a stopped run's results are not wanted)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()


class _TerminatedError(BaseException):
    """SIGTERM, raised in the main thread so that the run stops like on Ctrl-C."""


_received: list[int] = []  # the signals that asked this run to stop


def _on_signal(signum: int, frame: object) -> None:
    """Stop the run: raise at once, and remember the signal. Python drops an exception raised
    inside a finalizer (z3's objects free their C references in `__del__`, and the garbage
    collector runs them anywhere), so the raise alone can be lost: every progress line and the
    end of the run check what was received (`_stop_if_signalled`)."""
    _received.append(signum)
    _raise_for(signum)


def _raise_for(signum: int) -> None:
    raise _TerminatedError if signum == signal.SIGTERM else KeyboardInterrupt


def _stop_if_signalled() -> None:
    if _received:
        _raise_for(_received[0])


def _stop_signal(err: BaseException) -> int | None:
    """The signal that stopped the run with err, if one did. Its exception may come back
    wrapped: ctypes reports one raised while it converts a z3 call's argument as an
    ArgumentError."""
    if isinstance(err, _TerminatedError):
        return signal.SIGTERM
    if isinstance(err, KeyboardInterrupt):
        return signal.SIGINT
    return _received[0] if _received else None


def _quiet_after_a_signal(previous: Callable[[Any], object]) -> Callable[[Any], None]:
    """An unraisable-exception hook for a run that a signal stops. Two exceptions cannot reach
    the program there, and Python would print each as a traceback ("Exception ignored in"):
    the handler's own raise, when the signal arrives inside a finalizer (z3's objects free
    their C references in `__del__`; the signal is remembered, and the run stops at its next
    progress line with its one line), and a z3 term whose constructor the signal interrupted,
    failing in its finalizer (no `ctx` yet) when it is collected. Any other unraisable
    exception is still reported, and so is everything when no signal was received."""

    def hook(unraisable: Any) -> None:
        if not (_received and _from_the_stop(unraisable)):
            previous(unraisable)

    return hook


def _from_the_stop(unraisable: Any) -> bool:
    kind = unraisable.exc_type
    if isinstance(kind, type) and issubclass(kind, (KeyboardInterrupt, _TerminatedError)):
        return True
    name = getattr(unraisable.object, "__qualname__", "")
    return kind is AttributeError and name == "AstRef.__del__"


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
    for entry in list(ENTRY_BY_NAME.values())[2:]:
        t = entry.theory
        print(f"\n{t.name}: {t.summary}", file=out)
        for lemma in t.conjuncts:
            print(f"  {lemma.id}: {lemma.words}", file=out)
            print(f"      needed: {lemma.why}", file=out)
        for cor in t.corollaries:
            print(f"  corollary {cor.id}: {cor.words}", file=out)
    print(
        "\nQuorum bridge: servers and quorums are uninterpreted; the only quorum facts used are "
        "'any two quorums share a server' and 'no quorum is empty'. proofs.quorum proves both "
        "for the spec's majority predicate for every N >= 1, and the spec guard 'votesGranted "
        "is a quorum' is the encoding's 'votesGranted contains a quorum' (take the quorum to be "
        "votesGranted; quorums are upward closed).",
        file=out,
    )
    print("Quorum facts (every N, linear arithmetic over Venn regions):", file=out)
    for fact in quorum.FACTS:
        print(f"  {fact.id}: {fact.statement}", file=out)


def _table(rows: list[Row], ties: list[TieRow], out: TextIO) -> None:
    header = f"{'property':<28} {'obligations':>11}  {'result':<8} {'time':>8}  checks"
    print(header, file=out)
    print("-" * len(header), file=out)
    for r in rows:
        checks = "; ".join(f"{c.name} {'ok' if c.ok else 'FAILED'}" for c in r.checks)
        print(
            f"{r.name:<28} {r.obligations:>11}  {r.result:<8} {r.seconds:>7.2f}s  {checks}",
            file=out,
        )
    for t in ties:
        for res in t.results:
            verdict = "ok" if res.ok else "failed"
            model = res.model.tag or "canonical"
            print(
                f"{TIE_NAME:<28} {res.steps:>11}  {verdict:<8} {res.seconds:>7.2f}s  "
                f"{model}: {t.config.name}, {res.states} states",
                file=out,
            )


def _report_failures(rows: list[Row], ties: list[TieRow], out: TextIO) -> None:
    for r in rows:
        for name, outcome in r.failed:
            print(f"\n{r.name}: {name}: {outcome.status}", file=out)
            if outcome.detail:
                print(outcome.detail, file=out)
        for c in r.checks:
            if not c.ok:
                print(f"\n{r.name}: {c.name} check failed: {c.detail}", file=out)
    for t in ties:
        for res in t.results:
            for rej in res.rejected:
                print(
                    f"\n{TIE_NAME}: the {res.model.tag or 'canonical'} relation's {rej.encoded} "
                    f"rejects spec step {rej.action} ({t.config.name})\n"
                    f"  pre:  {rej.pre}\n  post: {rej.post}",
                    file=out,
                )


def _json(rows: list[Row], ties: list[TieRow]) -> dict[str, object]:
    ok = all(r.result == "proved" for r in rows) and all(t.ok for t in ties)
    return {
        "result": "ok" if ok else "failed",
        "z3": z3.get_version_string(),
        "properties": [
            {
                "name": r.name,
                "result": r.result,
                "scope": r.scope,
                "obligations": r.obligations,
                "seconds": round(r.seconds, 3),
                "cpu_seconds": round(r.cpu, 3),
                "processes": [
                    {"process": pid, "cpu_seconds": round(c, 3)} for pid, c in r.processes.items()
                ],
                # Obligations proved after `unknown` answers, with the solver calls each took
                # (Settings.schedule: each call its own seed, derived from --seed).
                "retries": [
                    {"obligation": n, "attempts": a, "seconds": round(sec, 3)}
                    for n, a, sec in r.retried
                ],
                "failures": [
                    {"obligation": n, "status": o.status, "counterexample": o.detail}
                    for n, o in r.failed
                ],
                **{
                    c.name: {
                        "ok": c.ok,
                        "detail": c.detail,
                        "seconds": round(c.seconds, 3),
                        **c.data,
                    }
                    for c in r.checks
                },
            }
            for r in rows
        ],
        "tie": [
            {
                "config": t.config.name,
                "model": res.model.tag or "canonical",
                "result": "ok" if res.ok else "failed",
                "steps": res.steps,
                "states": res.states,
                "seconds": round(res.seconds, 3),
                "cpu_seconds": round(res.cpu, 3),
                "process": res.process,
                "rejected": [
                    {
                        "spec_action": rej.action,
                        "encoded_as": rej.encoded,
                        "pre": str(rej.pre),
                        "post": str(rej.post),
                    }
                    for rej in res.rejected
                ],
            }
            for t in ties
            for res in t.results
        ],
    }


def _cpu() -> dict[str, float]:
    """CPU seconds (user and system) of this process and of its ended tie workers."""
    here = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    main_s = here.ru_utime + here.ru_stime
    workers_s = workers.ru_utime + workers.ru_stime
    return {"main": main_s, "workers": workers_s, "total": main_s + workers_s}


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        props, run_tie = _selected(args.property, args.bug)
        if args.timeout_ms <= 0:
            raise UsageError(f"--timeout-ms must be positive, got {args.timeout_ms}")
        if args.jobs < 1:
            raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
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
    start = time.perf_counter()
    pooled = [p.name for p in props if args.bug is None and _pooled(p.name)]
    isolated = [p.name for p in props if args.bug is None and _isolated(p.name)]
    runner = Runner(
        args.jobs, settings, pooled, ties=run_tie and not args.no_tie, isolated=isolated
    )
    _received.clear()
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    reported = sys.unraisablehook
    sys.unraisablehook = _quiet_after_a_signal(reported)
    stop_z3 = contextlib.ExitStack()
    stop_z3.enter_context(interruptible())
    try:
        runner.start()
        rows = [
            runner.row(p.name)
            if runner.isolates(p.name)
            else _run(p, settings, sys.stderr, args.bug is None, runner)
            for p in props
        ]
        ties = runner.results(sys.stderr)
        for row in rows:
            if runner.proves(row.name):
                _add_parts(row, runner.parts(row.name))
        runner.stop()
        _stop_if_signalled()
    except BaseException as err:
        signum = _stop_signal(err)
        if signum is None:
            raise
        runner.stop()
        term = signum == signal.SIGTERM
        print(f"electorate prove: {'terminated' if term else 'interrupted'}", file=sys.stderr)
        return 143 if term else 130
    finally:
        stop_z3.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not _received:  # after a stop, half-built terms are still to be collected
            sys.unraisablehook = reported
    total = time.perf_counter() - start
    cpu = _cpu()
    if args.json:
        data = _json(rows, ties)
        data["seconds"] = round(total, 3)
        data["cpu_seconds"] = {k: round(v, 3) for k, v in cpu.items()}
        print(json.dumps(data, indent=2), file=out)
    else:
        print(file=out)
        _table(rows, ties, out)
        _report_failures(rows, ties, out)
        print(
            f"\nz3 {z3.get_version_string()}, seed {args.seed}, {total:.1f} s "
            f"({cpu['total']:.1f} s CPU: {cpu['main']:.1f} s here, {cpu['workers']:.1f} s in "
            "workers)",
            file=out,
        )
    ok = all(r.result == "proved" for r in rows) and all(t.ok for t in ties)
    if args.bug is not None:  # a bug variant's proof is expected to fail: report it as such
        ok = all(not r.failed for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
