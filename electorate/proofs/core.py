"""Shared machinery: obligations, solver calls, outcomes.

Every proof obligation is phrased as "this formula set is unsatisfiable". A `sat` answer is a
counterexample and `unknown` (including a timeout) is a failure too: a proof that the solver could
not finish is not a proof.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import z3

# The solver version is part of the result (see pyproject's pin); reports print it.
Z3_PIN = "4.15.4"


@dataclass(frozen=True)
class Settings:
    """Solver knobs shared by all obligations.

    Quantified queries are sensitive to the solver's random choices (and to the order in which
    the context created its terms): the same obligation takes 0.02 s under one seed and runs out
    of any budget under another. So, as a restart strategy: `quick` short attempts first, each
    with its own seed and `quick_rlimit` (almost every obligation needs a small fraction of it),
    then, as mypyvy does, `attempts` with new seeds and growing budgets; only if every attempt
    is `unknown` does the obligation fail. The budget is z3's resource limit (`rlimit`, about 5
    million units per second of CPU here), not wall-clock time, so a loaded machine makes a
    proof slower, never different; `timeout_ms` is only a wall-clock backstop per attempt.
    """

    timeout_ms: int = 60_000
    seed: int = 0
    attempts: int = 3
    first_rlimit: int = 10_000_000
    quick: int = 4
    quick_rlimit: int = 1_000_000
    # The obligation is expected to fail (a mutant's): look for a counterexample among few
    # servers and small terms first, where model finding is quick (proofs.cti.bounded).
    search_first: bool = False
    # z3's macro finder (definitions of the post-state by the pre-state are expanded before
    # the search): the model with logs needs it to find models at all (proofs.logmodel).
    macros: bool = False

    def schedule(self) -> list[tuple[int, int, int]]:
        """(seed, wall-clock timeout ms, resource limit) of each attempt."""
        short = [(self.quick_rlimit, k) for k in range(self.quick)]
        long = [(self.first_rlimit * 3**k, self.quick + k) for k in range(self.attempts)]
        tries = [*short, *long] or long[:1]
        return [(self.seed + 1009 * k, self.timeout_ms, rlimit) for rlimit, k in tries]

    def split(self) -> tuple[Settings, Settings]:
        """The quick attempts and the first long one, then the remaining long ones (each with
        the seeds and budgets it has in `schedule`)."""
        first = replace(self, attempts=min(1, self.attempts))
        rest = replace(
            self,
            seed=self.seed + 1009 * (self.quick + 1),
            quick=0,
            attempts=self.attempts - 1,
            first_rlimit=self.first_rlimit * 3,
        )
        return first, rest


@dataclass(frozen=True)
class Outcome:
    """The result of discharging one obligation."""

    holds: bool
    status: str  # "unsat" (proved), "sat" (counterexample), "unknown: <reason>"
    seconds: float
    detail: str | None = None  # counterexample (failed proof) or witness (sat check)
    # Solver calls made (every call of a case split counts): more than one means retries
    # after `unknown` (Settings.schedule), each with its own seed.
    attempts: int = 1


@dataclass(frozen=True)
class Obligation:
    """A named check; `run` returns an Outcome and must not raise on a failed proof."""

    name: str
    run: Callable[[Settings], Outcome]


@dataclass(frozen=True)
class Property:
    """A group of obligations reported as one row of the proof table."""

    name: str
    summary: str
    obligations: Callable[[], list[Obligation]]


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Let Ctrl-C and SIGTERM stop a z3 query at once, and reach the program's own handlers.

    By default z3 takes SIGINT for itself while it searches: it cancels the query and answers
    `unknown`, and Python's handler never runs, so a Ctrl-C became one more `unknown`, retried
    under the next seed, and the run went on. Here z3 leaves SIGINT alone, and a watcher
    thread reads the signal numbers Python's C handler writes to its wakeup file descriptor
    (it runs while the main thread is inside z3) and interrupts the query; the main thread
    then runs the Python handler as soon as z3 returns."""
    before = z3.get_param("ctrl_c")
    z3.set_param("ctrl_c", False)
    read, write = os.pipe()
    os.set_blocking(write, False)
    previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    watcher = threading.Thread(target=_interrupt_on_signal, args=(read,), daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(write)  # the watcher reads end-of-file and returns
        watcher.join()
        os.close(read)
        z3.set_param("ctrl_c", before)


_STOPS = frozenset({signal.SIGINT, signal.SIGTERM})


def _interrupt_on_signal(read: int) -> None:
    while received := os.read(read, 64):
        if _STOPS.intersection(received):
            z3.main_ctx().interrupt()


def solve(solver: z3.Solver) -> z3.CheckSatResult:
    """`solver.check()`, keeping Ctrl-C where z3 takes it (outside `interruptible`): z3 then
    cancels the query and, for a plain query, says "interrupted from keyboard"."""
    answer = solver.check()
    if answer == z3.unknown and solver.reason_unknown() == "interrupted from keyboard":
        raise KeyboardInterrupt
    return answer


def make_solver(settings: Settings, rlimit: int | None = None) -> z3.Solver:
    solver = z3.Solver()
    solver.set("timeout", settings.timeout_ms)
    solver.set("rlimit", settings.first_rlimit if rlimit is None else rlimit)
    solver.set("random_seed", settings.seed)
    solver.set("smt.random_seed", settings.seed)
    if settings.macros:
        solver.set("smt.macro_finder", True)
    return solver


def check(
    assertions: Sequence[z3.BoolRef], settings: Settings
) -> tuple[z3.CheckSatResult, z3.Solver]:
    """Check satisfiability of the conjunction, retrying `unknown` per `settings.schedule()`;
    returns the answer and the solver (for models and the reason of an `unknown`)."""
    answer, solver, _ = check_counted(assertions, settings)
    return answer, solver


def check_counted(
    assertions: Sequence[z3.BoolRef], settings: Settings
) -> tuple[z3.CheckSatResult, z3.Solver, int]:
    """`check`, and the number of solver calls it made."""
    answer, solver, calls = z3.unknown, make_solver(settings), 0
    for seed, timeout, rlimit in settings.schedule():
        solver = make_solver(replace(settings, timeout_ms=timeout, seed=seed), rlimit)
        solver.add(*assertions)
        answer = solve(solver)
        calls += 1
        if answer != z3.unknown:
            break
    return answer, solver, calls


def expect_unsat(
    assertions: Sequence[z3.BoolRef],
    settings: Settings,
    explain: Callable[[z3.Solver], str] | None = None,
) -> Outcome:
    """Prove that `assertions` have no model; on `sat` render a counterexample via `explain`."""
    start = time.perf_counter()
    answer, solver, calls = check_counted(assertions, settings)
    seconds = time.perf_counter() - start
    if answer == z3.unsat:
        return Outcome(True, "unsat", seconds, attempts=calls)
    if answer == z3.sat:
        text = explain(solver) if explain is not None else str(solver.model())
        return Outcome(False, "sat", time.perf_counter() - start, text, calls)
    return Outcome(False, f"unknown: {solver.reason_unknown()}", seconds, attempts=calls)


def expect_sat(
    assertions: Sequence[z3.BoolRef],
    settings: Settings,
    describe: Callable[[z3.ModelRef], str] | None = None,
) -> Outcome:
    """Prove that `assertions` have a model (witnesses, anti-vacuity); `describe` renders it."""
    start = time.perf_counter()
    answer, solver, calls = check_counted(assertions, settings)
    seconds = time.perf_counter() - start
    if answer == z3.sat:
        text = describe(solver.model()) if describe is not None else None
        return Outcome(True, "sat", seconds, text, calls)
    if answer == z3.unsat:
        return Outcome(False, "unsat", seconds, "no witness exists", calls)
    return Outcome(False, f"unknown: {solver.reason_unknown()}", seconds, attempts=calls)


class _SharedSolver:
    """One incremental solver holding the assertions a row of queries share (Inv /\\ Action
    for the obligations of one action): each query's own assertion is pushed, checked and
    popped, so the shared part is internalized once per row instead of once per query."""

    def __init__(self) -> None:
        self.base: list[z3.BoolRef] = []
        self.settings: Settings | None = None
        self.solver: z3.Solver | None = None

    def holding(self, base: list[z3.BoolRef], settings: Settings) -> z3.Solver:
        same = len(base) == len(self.base) and all(
            a.eq(b) for a, b in zip(base, self.base, strict=True)
        )
        if self.solver is None or not same or self.settings != settings:
            self.solver = make_solver(settings, settings.quick_rlimit)
            self.solver.add(*base)
            self.base, self.settings = base, settings
        return self.solver


_SHARED = _SharedSolver()


def first_attempt(
    base: list[z3.BoolRef],
    own: z3.BoolRef,
    settings: Settings,
    explain: Callable[[z3.Solver], str] | None = None,
    *,
    want: z3.CheckSatResult = z3.unsat,
) -> Outcome | None:
    """A first, short attempt at `base` + `own` on the shared solver: the outcome (it holds if
    the answer is `want`; `explain` renders a model), or None if `unknown`, and the caller then
    makes its usual attempts as if this one had not been made."""
    if settings.quick < 1:
        return None
    start = time.perf_counter()
    solver = _SHARED.holding(base, settings)
    solver.push()
    try:
        solver.add(own)
        answer = solve(solver)
        if answer == z3.unknown:
            return None
        seconds = time.perf_counter() - start
        text = explain(solver) if answer == z3.sat and explain is not None else None
        if answer == z3.unsat and want == z3.sat:
            text = "no witness exists"
        return Outcome(answer == want, str(answer), seconds, text)
    finally:
        solver.pop()
