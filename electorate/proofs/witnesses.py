"""Concrete witnesses for anti-vacuity: spec states of a scripted trace, with their history.

Some anti-vacuity checks ask z3 to find a model of the whole invariant and an action's guard (50
quantified conjuncts for Leader Completeness), a search where it can answer `unknown` under one
seed and not another. A concrete state settles such a check without a search: every conjunct of
the invariant is evaluated on it (a closed formula over a finite universe, as proofs.sanity
evaluates bad states) and must come out true, and the action's relation with that state as its
pre-state must have a post-state (z3 over the finite sorts, with the state's definitions
substituted). Both together show Inv /\\ Action satisfiable, which is what the check claims;
a concrete state is only a more explicit model.

The states come from the spec itself: a scripted trace of the `log` profile (spec Init and Next,
the script picks among the enabled steps) in which a leader is elected, replicates and commits
an entry, a follower learns the commit, and a second leader is elected in a later term. The
history the proofs' ghosts record (who was elected in which term, who voted for whom, who stored
which entry, what was committed) is computed along the trace. If it were computed wrong, a check
could only fail (a conjunct false on the state), never pass wrongly: a state on which the whole
invariant evaluates to true and the action is enabled is a witness whatever produced it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import z3

from electorate.proofs.concrete import encoded_action, expand_finite, universe
from electorate.proofs.core import Outcome, Settings, make_solver, solve
from electorate.proofs.model import ActionDef, fresh_params, relation
from electorate.proofs.sanity import BadState, Formula, closed, decide
from electorate.proofs.vocab import (
    Model,
    Sorts,
    Vocab,
    quorum_axiom,
    quorums_nonempty,
    symbolic_vocab,
)
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action, Init, Next
from electorate.spec.params import Params
from electorate.spec.state import State

Step = tuple[State, Action, State]
Pick = Callable[[Action, State, State], bool]


def _by(i: int, j: int | None = None) -> Pick:
    """A step by server i (with j: towards or from j)."""

    def pick(a: Action, s: State, t: State) -> bool:
        if a.args and isinstance(a.args[0], Message):
            m = a.args[0]
            return m.mdest == i and (j is None or m.msource == j)
        return a.args[0] == i and (j is None or len(a.args) < 2 or a.args[1] == j)

    return pick


# s1 wins term 2 with s2's vote, appends an entry, replicates it, commits it on s2's
# acknowledgement and tells s2, whose commitIndex becomes 1 (servers are 0 and 1 below).
COMMIT_SCRIPT: tuple[tuple[str, Pick], ...] = (
    ("Timeout", _by(0)),
    ("RequestVote", _by(0, 0)),
    ("HandleRequestVoteRequest", _by(0, 0)),
    ("HandleRequestVoteResponse", _by(0, 0)),
    ("RequestVote", _by(0, 1)),
    ("UpdateTerm", _by(1)),
    ("HandleRequestVoteRequest", _by(1, 0)),
    ("HandleRequestVoteResponse", _by(0, 1)),
    ("BecomeLeader", _by(0)),
    ("ClientRequest", lambda a, s, t: a.args == (0, 1)),
    ("AppendEntries", _by(0, 1)),
    ("HandleAppendEntriesRequest", _by(1, 0)),  # appends the entry
    ("HandleAppendEntriesRequest", _by(1, 0)),  # already done: success, match 1
    ("HandleAppendEntriesResponse", _by(0, 1)),
    ("AdvanceCommitIndex", lambda a, s, t: t.commit_index[0] == 1),
    ("AppendEntries", _by(0, 1)),
    ("HandleAppendEntriesRequest", _by(1, 0)),  # commitIndex 1 learnt
)
# Then s2 wins term 3 with s1's vote (its log holds the committed entry); s2's last answer of
# term 2 is left in flight, stale once s1 is in term 3.
LATER_LEADER_SCRIPT: tuple[tuple[str, Pick], ...] = (
    ("Timeout", _by(1)),
    ("RequestVote", _by(1, 1)),
    ("HandleRequestVoteRequest", _by(1, 1)),
    ("HandleRequestVoteResponse", _by(1, 1)),
    ("RequestVote", _by(1, 0)),
    ("UpdateTerm", _by(0)),
    ("HandleRequestVoteRequest", _by(0, 1)),
    ("HandleRequestVoteResponse", _by(1, 0)),
    ("BecomeLeader", _by(1)),
)
PARAMS = Params(servers=2, profile="log", max_term=3, max_msgs=3, max_log=2, values=2)


def scripted(
    p: Params, script: Iterable[tuple[str, Pick]], start: State | None = None
) -> list[Step]:
    """The spec steps the script picks, from `start` (default Init): for each (action, pick),
    the first enabled step of that action the pick accepts."""
    s = Init(p) if start is None else start
    steps = []
    for name, pick in script:
        found = [(a, t) for a, t in Next(p, s) if (a.detail or a.name) == name and pick(a, s, t)]
        if not found:
            raise ValueError(f"the witness script has no {name} step from {s}")
        a, t = found[0]
        steps.append((s, a, t))
        s = t
    return steps


@cache
def trace() -> tuple[Params, tuple[Step, ...]]:
    """The whole witness trace: COMMIT_SCRIPT, then LATER_LEADER_SCRIPT."""
    first = scripted(PARAMS, COMMIT_SCRIPT)
    return PARAMS, (*first, *scripted(PARAMS, LATER_LEADER_SCRIPT, first[-1][2]))


# ---- the history along the trace --------------------------------------------------------------

Ghosts = dict[str, Iterable[tuple[Any, ...]]]


def _new_success(s: State, t: State, i: int) -> Message | None:
    """The successful AppendEntries answer by i that the step put in flight, if any."""
    before = {m for m, _ in s.messages}
    for m, _ in t.messages:
        fresh = m not in before
        if fresh and m.mtype == MType.AppendEntriesResponse and m.msource == i and m.msuccess:
            return m
    return None


def _granted(m: Message, t: State) -> bool:
    """Whether the vote request m was granted: its receiver votes for its sender in its term."""
    return t.voted_for[m.mdest] == m.msource and t.current_term[m.mdest] == m.mterm


def history(steps: Sequence[Step]) -> list[Ghosts]:
    """The ghosts after each step, as the relation records them: elections and their votes,
    the entries each server stored in its term (a leader's new entry; the entries of its
    term up to an acknowledged match), commits. With two servers there is one quorum, so the
    quorum-valued ghosts (wq, cq) need no rows."""
    elected: set[tuple[int, int]] = set()
    voted: set[tuple[int, int, int]] = set()
    stored: set[tuple[int, int, int]] = set()
    committed: set[tuple[int, int]] = set()
    found: list[Ghosts] = []
    for s, a, t in steps:
        name = a.detail or a.name
        m = a.args[0] if a.args and isinstance(a.args[0], Message) else None
        i = a.args[0] if a.args and isinstance(a.args[0], int) else None
        if name == "BecomeLeader" and i is not None:
            elected.add((i, t.current_term[i]))
        if name == "HandleRequestVoteRequest" and m is not None and _granted(m, t):
            voted.add((m.mdest, m.mterm, m.msource))
        if name == "ClientRequest" and i is not None:
            stored.add((i, t.current_term[i], len(t.log[i])))
        if name == "HandleAppendEntriesRequest" and m is not None:
            ack = _new_success(s, t, m.mdest)
            mine = s.current_term[m.mdest]
            if ack is not None:
                log = s.log[m.mdest]
                for k in range(1, ack.mmatch_index + 1):
                    if log[k - 1].term == mine:
                        stored.add((m.mdest, mine, k))
        if name == "AdvanceCommitIndex" and i is not None and t.commit_index[i] > s.commit_index[i]:
            committed.add((t.commit_index[i], t.current_term[i]))
        found.append(
            {
                "elected": sorted(elected),
                "votedIn": sorted(voted),
                "stored": sorted(stored),
                "committed": sorted(committed),
            }
        )
    return found


@dataclass(frozen=True)
class Witness:
    """A concrete state of the trace (with its history) and what it witnesses."""

    state: BadState
    step: int  # index in the trace: the state before that step (len(trace): the last state)


@cache
def states() -> tuple[BadState, ...]:
    """Every state of the trace with its history: Init, then after each step."""
    p, steps = trace()
    ghosts = history(steps)
    nothing: Ghosts = {"elected": [], "votedIn": [], "stored": [], "committed": []}
    first = BadState(p, steps[0][0], nothing, "Init")
    later = [BadState(p, t, g, f"after {a}") for (_, a, t), g in zip(steps, ghosts, strict=True)]
    return (first, *later)


def enabling(model: Model, action: str) -> BadState:
    """The last state of the trace in which the spec takes a step the encoding reads as
    `action` (the richest history)."""
    p, _ = trace()
    for bad in reversed(states()):
        for spec_action, _t in Next(p, bad.state):
            if encoded_action(p, model, spec_action)[0] == action:
                return bad
    raise ValueError(f"no state of the witness trace enables {action}")


# ---- the checks -------------------------------------------------------------------------------


# Truth values by formula and state; each entry keeps its formula and state alive, so that
# their ids (the key) cannot be reused by other objects.
_VALUES: dict[tuple[int, int, str], tuple[Formula, BadState, bool | None]] = {}


def value(formula: Formula, model: Model, bad: BadState) -> bool | None:
    """The formula's truth value on a state (memoized: states() are evaluated again and
    again, one action after another)."""
    key = (id(formula), id(bad), model.tag)
    if key not in _VALUES:
        _VALUES[key] = (formula, bad, decide(closed(formula, model, bad)))
    return _VALUES[key][2]


def _false_on(formulas: Sequence[tuple[str, Formula]], model: Model, bad: BadState) -> list[str]:
    """The names of the formulas that are not true on the state (false or undecided)."""
    return [name for name, f in formulas if value(f, model, bad) is not True]


def _nonempty(s: Sorts, v: Vocab) -> z3.BoolRef:
    return quorums_nonempty(s)


def _intersect(s: Sorts, v: Vocab) -> z3.BoolRef:
    return quorum_axiom(s)


AXIOMS: tuple[tuple[str, Formula], ...] = (
    ("quorums are non-empty", _nonempty),
    ("quorums intersect", _intersect),
)


def check_enabled(
    model: Model,
    action: ActionDef,
    invariant: Sequence[tuple[str, Formula]],
    settings: Settings,
    post: Sequence[tuple[str, Formula]] = (),
    at: BadState | None = None,
) -> Outcome:
    """Inv /\\ Action has a model: a trace state (`at`, default: the last that enables the
    action) on which every formula of `invariant` (and the quorum axioms) is true, from which
    the relation (and `post` in its post-state) has a step."""
    start = _now()
    bad = enabling(model, action.name) if at is None else at
    false = _false_on([*AXIOMS, *invariant], model, bad)
    if false:
        return Outcome(False, "unsat", _now() - start, f"false on {bad.words}: {', '.join(false)}")
    p = bad.params
    u = universe(p.servers, p.bug)
    tag = f"@w{p.servers}[{model.tag}]"
    pre, after = symbolic_vocab(u.sorts, tag, model), symbolic_vocab(u.sorts, tag + "'", model)
    args = fresh_params(action, model, pre)
    step = relation(action, pre, after, None, args)
    goal = [closed(lambda s, v: step, model, bad, pre), *[f(u.sorts, after) for _, f in post]]
    solver = make_solver(settings, settings.first_rlimit)
    solver.set("smt.macro_finder", True)
    solver.add(*[expand_finite(g) for g in goal])
    answer = solve(solver)
    seconds = _now() - start
    if answer == z3.sat:
        return Outcome(True, "sat", seconds, f"from the state {bad.words}")
    if answer == z3.unsat:
        return Outcome(False, "unsat", seconds, f"{action.name} is not enabled in {bad.words}")
    return Outcome(False, f"unknown: {solver.reason_unknown()}", seconds)


def check_situation(
    model: Model,
    situation: Formula,
    invariant: Sequence[tuple[str, Formula]],
    at: BadState | None = None,
) -> Outcome:
    """The property's situation occurs in an invariant state: a state of the trace (`at`,
    default: the last) on which the situation and every formula of `invariant` are true."""
    start = _now()
    bad = states()[-1] if at is None else at
    false = _false_on([*AXIOMS, *invariant, ("the situation", situation)], model, bad)
    seconds = _now() - start
    if false:
        return Outcome(False, "unsat", seconds, f"false on {bad.words}: {', '.join(false)}")
    return Outcome(True, "sat", seconds, f"the state {bad.words}")


def _now() -> float:
    return time.perf_counter()
