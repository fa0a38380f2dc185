"""The solver schedule: short attempts, then growing budgets; an `unknown` is never a verdict."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
import z3

from electorate.proofs.core import (
    Settings,
    expect_unsat,
    first_attempt,
    interruptible,
    make_solver,
    solve,
)


def test_schedule_tries_short_budgets_first_then_growing_ones() -> None:
    s = Settings(seed=5, quick=2, quick_rlimit=100, attempts=3, first_rlimit=1000)
    assert [(seed, rlimit) for seed, _, rlimit in s.schedule()] == [
        (5, 100),
        (5 + 1009, 100),
        (5 + 2018, 1000),
        (5 + 3027, 3000),
        (5 + 4036, 9000),
    ]
    first, rest = s.split()  # the search for a small counterexample runs between the two
    assert first.schedule() + rest.schedule() == s.schedule()


def _rule() -> tuple[list[z3.BoolRef], z3.FuncDeclRef, z3.FuncDeclRef, z3.ExprRef]:
    """A quantified base (every p is a q) over an uninterpreted sort, its predicates and a
    constant."""
    sort = z3.DeclareSort("CoreTestSort")
    p = z3.Function("p_core_test", sort, z3.BoolSort())
    q = z3.Function("q_core_test", sort, z3.BoolSort())
    x, a = z3.Const("x_core_test", sort), z3.Const("a_core_test", sort)
    return [z3.ForAll([x], z3.Implies(p(x), q(x)))], p, q, a


def _hard() -> tuple[list[z3.BoolRef], z3.BoolRef]:
    """The base and a goal that makes it unsatisfiable (needs an instance)."""
    base, p, q, a = _rule()
    return base, z3.And(p(a), z3.Not(q(a)))


def test_first_attempt_answers_or_leaves_it_to_the_usual_attempts() -> None:
    base, goal = _hard()
    proved = first_attempt(base, goal, Settings())
    assert proved is not None and proved.holds and proved.status == "unsat"
    no_witness = first_attempt(base, goal, Settings(), want=z3.sat)
    assert no_witness is not None and not no_witness.holds
    assert no_witness.detail == "no witness exists"
    # Out of budget: no verdict (None), and the usual attempts still prove it.
    starved = Settings(quick_rlimit=1)
    assert first_attempt(base, goal, starved) is None
    assert expect_unsat([*base, goal], Settings()).holds


def test_first_attempt_finds_models_when_asked_for_one() -> None:
    base, p, _, a = _rule()
    found = first_attempt(base, p(a), Settings(), want=z3.sat)
    assert found is not None and found.holds and found.status == "sat"
    refuted = first_attempt(base, p(a), Settings(), lambda s: "model")
    assert refuted is not None and not refuted.holds and refuted.detail == "model"


_FERMAT_RLIMIT = 300_000_000


def _fermat() -> z3.Solver:
    """A query z3 works on far longer than the second before the signal: Fermat's n = 5 (it
    gives up only at its resource limit, about a minute of work on an idle core)."""
    x, y, z = z3.Ints("x y z")
    solver = make_solver(Settings(timeout_ms=600_000), rlimit=_FERMAT_RLIMIT)
    solver.add(x > 2, y > 2, z > 2, x**5 + y**5 == z**5)
    return solver


def _signal_me_in_a_second(signum: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sh", "-c", f"sleep 1; kill -{signum} {os.getpid()}"])


@pytest.mark.timeout(300)
def test_ctrl_c_during_a_query_stops_the_program() -> None:
    """Outside `interruptible`, z3 takes SIGINT for itself while it searches and answers
    `unknown`: solve turns that back into KeyboardInterrupt, so a Ctrl-C is never one more
    `unknown` retried under the next seed."""
    solver = _fermat()
    killer = _signal_me_in_a_second(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt):
            solve(solver)
    finally:
        killer.wait(timeout=30)


def _work_done(solver: z3.Solver) -> int:
    """z3's resource units spent so far in this process (the count is the context's, not the
    solver's: a fresh solver's trivial check reads it)."""
    if not solver.assertions():
        solver.check()
    return int(solver.statistics().get_key_value("rlimit count"))


class _StoppedError(Exception):
    pass


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_inside_interruptible_the_programs_handler_stops_a_query_at_once(signum: int) -> None:
    """The program's own handler runs, and the query was interrupted, not run to its end (z3
    would keep SIGINT for itself; a SIGTERM handler would wait for the query's end): the work
    z3 had done by then is a small part of its resource limit (z3's reason cannot tell: a
    limit reached mid-search also says "canceled"). z3's setting is restored after."""
    before = z3.get_param("ctrl_c")
    solver = _fermat()
    spent: list[int] = []
    before_query = _work_done(z3.Solver())

    def stop(signum: int, frame: object) -> None:
        spent.append(_work_done(solver) - before_query)
        raise _StoppedError(signum)

    previous = signal.signal(signum, stop)
    killer = _signal_me_in_a_second(signum)
    try:
        with pytest.raises(_StoppedError), interruptible():
            solve(solver)
    finally:
        killer.wait(timeout=30)
        signal.signal(signum, previous)
    assert spent and spent[0] < _FERMAT_RLIMIT // 3, spent
    assert z3.get_param("ctrl_c") == before
