"""The solver schedule: short attempts, then growing budgets; an `unknown` is never a verdict."""

from __future__ import annotations

import z3

from electorate.proofs.core import Settings, expect_unsat, first_attempt


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
