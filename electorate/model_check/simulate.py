"""Random simulation, as TLC's `-simulate`: seeded random behaviours of bounded length.

For models too big to search exhaustively. Each behaviour starts in a random initial state and
takes up to `depth - 1` steps, each to a successor chosen at random among the enabled ones that
change the state and stay inside the constraint (uniformly, within the swarm below); every
successor generated on the way (also those outside the constraint) is checked against every
invariant.

Behaviours are swarm-tested (Groce et al., ISSTA 2012): each behaviour leaves out a random half
of the kinds of action (an action's kind is its `name` attribute, else its type), falling back
to every kind at a state where none of its own is enabled. A uniform walk spends most steps on
the always-enabled actions (restarts, lost messages) and almost never strings together the
dozen steps of a split brain; a behaviour that never restarts nor drops does so often.

A violation comes with the behaviour that reached it, which the same seed replays exactly
(nothing here but the seeded generator is random). Finding nothing proves nothing: it is a
test, not a check.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

from electorate.model_check.engine import StopFlag
from electorate.model_check.model import Model
from electorate.model_check.search import Violation

S = TypeVar("S")
A = TypeVar("A")


@dataclass
class SimulationResult(Generic[S, A]):
    seed: int
    behaviours: int
    states: int  # states generated (every successor of every state a behaviour visited)
    seconds: float
    depth: int  # the bound on a behaviour's length, in states
    violation: Violation[S, A] | None
    interrupted: bool = False

    @property
    def behaviours_per_second(self) -> float:
        return self.behaviours / self.seconds if self.seconds > 0 else 0.0


def simulate(
    model: Model[S, A],
    depth: int,
    seed: int,
    behaviours: int = 0,
    seconds: float = 0.0,
    stop: StopFlag | None = None,
) -> SimulationResult[S, A]:
    """Run behaviours until a violation, `behaviours` of them, `seconds`, or a stop request
    (0: no such bound)."""
    if depth < 1:
        raise ValueError(f"a behaviour has at least one state: depth must be >= 1, got {depth}")
    rng = random.Random(seed)
    flag = stop or StopFlag()
    start = time.perf_counter()
    inits = model.init_states()
    done = states = 0
    while not flag.requested:
        if behaviours and done >= behaviours:
            break
        if seconds and time.perf_counter() - start >= seconds:
            break
        trace, generated, bad = _behaviour(model, inits, depth, rng)
        done += 1
        states += generated
        if bad is not None:
            v = Violation(bad, _description(model, bad), trace)
            return SimulationResult(
                seed, done, states, time.perf_counter() - start, depth, v, False
            )
    elapsed = time.perf_counter() - start
    return SimulationResult(seed, done, states, elapsed, depth, None, flag.requested)


def _behaviour(
    model: Model[S, A], inits: list[S], depth: int, rng: random.Random
) -> tuple[list[tuple[A | None, S]], int, str | None]:
    """One random behaviour: its steps, the states generated, the violated invariant if any."""
    s = rng.choice(inits)
    trace: list[tuple[A | None, S]] = [(None, s)]
    bad = _violated(model, s)
    generated = 1
    swarm: dict[str, bool] = {}  # kind of action -> taken in this behaviour
    while bad is None and len(trace) < depth:
        moves: list[tuple[A, S]] = []
        for a, t in model.successors(s):
            generated += 1
            if t is s:
                continue
            bad = _violated(model, t)
            if bad is not None:
                trace.append((a, t))
                return trace, generated, bad
            if model.in_constraint(t):
                moves.append((a, t))
        if not moves:
            break  # deadlock, or every way on leaves the constraint
        chosen = [m for m in moves if _in_swarm(swarm, m[0], rng)] or moves
        a, s = chosen[rng.randrange(len(chosen))]
        trace.append((a, s))
    return trace, generated, bad


def _in_swarm(swarm: dict[str, bool], action: object, rng: random.Random) -> bool:
    kind = str(getattr(action, "name", type(action).__name__))
    if kind not in swarm:
        swarm[kind] = rng.random() < 0.5
    return swarm[kind]


def _violated(model: Model[S, A], s: S) -> str | None:
    for inv in model.invariants:
        if not inv.holds(s):
            return inv.id
    return None


def _description(model: Model[S, A], invariant: str) -> str:
    return next(p.description for p in model.invariants if p.id == invariant)
