"""Encoding conformance: the Z3 relation accepts every step the spec takes, and every state the
spec reaches satisfies the inductive invariant.

Small configurations are explored completely (up to server symmetry: the encoding's server sort
is uninterpreted, so it is symmetric too); larger ones by seeded random walks that check every
successor of every visited state. A failure names the spec action and the encoding action.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import z3

from electorate.proofs.concrete import ConcreteChecker, encoded_action
from electorate.proofs.model import ACTION_BY_NAME
from electorate.spec.next import Action, Init, Next, constraint
from electorate.spec.params import Params
from electorate.spec.state import Role, State
from electorate.spec.symmetry import canonical

Step = tuple[State, Action, State]


def all_steps(p: Params) -> Iterator[Step]:
    """Every step from every reachable canonical state inside the constraint (BFS)."""
    start = canonical(Init(p))
    seen, frontier = {start}, [start]
    while frontier:
        following = []
        for s in frontier:
            if not constraint(p, s):
                continue
            for action, t in Next(p, s):
                yield s, action, t
                c = canonical(t)
                if c not in seen:
                    seen.add(c)
                    following.append(c)
        frontier = following


# Walks favour protocol steps over network faults, restarts and new elections (weights) so
# that they get to leaders.
WEIGHT = {
    "DuplicateMessage": 1,
    "DropMessage": 1,
    "Restart": 1,
    "Timeout": 1,
    "ElectionTimer": 1,
    "Tick": 1,
    "Receive": 12,
}


def walk_steps(
    p: Params, seed: int, budget: int, depth: int = 40, fanout: int = 3
) -> Iterator[Step]:
    """Seeded random walks from Init; yields the step taken plus `fanout` other successors of
    every visited state, so the sample reaches deep states (leaders) and stays broad."""
    rng = random.Random(seed)
    produced = 0
    while produced < budget:
        s = Init(p)
        for _ in range(depth):
            successors = list(Next(p, s))
            inside = [(a, t) for a, t in successors if constraint(p, t)]
            if not inside:
                break
            weights = [WEIGHT.get(a.name, 6) for a, _ in inside]
            action, t = rng.choices(inside, weights)[0]
            for other, u in rng.sample(successors, min(fanout, len(successors))):
                yield s, other, u
            yield s, action, t
            produced += 1 + min(fanout, len(successors))
            if produced >= budget:
                return
            s = t


def check_steps(p: Params, steps: Iterator[Step], label: str) -> tuple[int, int, bool]:
    """Checks the steps and the states they start from; returns (steps, states, leader seen)."""
    checker = ConcreteChecker(p)
    n_steps, states, leader = 0, set(), False
    for s, action, t in steps:
        name, answer = checker.accepts(s, action, t)
        assert answer == z3.sat, (
            f"{label}: the encoding's {name} rejects spec step {action} ({answer})\n"
            f"pre:  {s}\npost: {t}"
        )
        n_steps += 1
        for state in (s, t):
            if state not in states and constraint(p, state):
                states.add(state)
                if p.bug is None:
                    broken = checker.violated(state)
                    assert not broken, f"{label}: reachable state violates {broken}: {state}"
        leader = leader or Role.Leader in t.role
    return n_steps, len(states), leader


def test_every_step_of_two_servers_is_accepted() -> None:
    """All of the heartbeat profile, which contains the election profile: same Init and
    constraint, and its Next adds AppendEntries and its handlers, so every election-profile
    step is a heartbeat-profile step."""
    p = Params(servers=2, profile="heartbeat", max_term=2, max_msgs=1)
    n_steps, n_states, leader = check_steps(p, all_steps(p), p.describe())
    assert n_steps > 5000 and n_states > 600, (n_steps, n_states)  # the whole space was seen
    assert leader, "no leader reached: the exploration is vacuous"


PREVOTE_CQ = frozenset({"prevote", "check_quorum"})
WALKS = (  # (params, seed, budget): beyond exhaustive reach, seeded samples
    (Params(servers=3, profile="election", max_term=3, max_msgs=2), 11, 800),
    (Params(servers=3, profile="heartbeat", max_term=3, max_msgs=2), 12, 800),
    (Params(servers=3, profile="log", max_term=3, max_msgs=2, values=1), 13, 800),
    (Params(servers=2, profile="heartbeat", max_term=3, max_msgs=2), 14, 800),
    # Item 3: PreVote and CheckQuorum (and the lease, whose steps only move clocks).
    (Params(servers=2, profile="heartbeat", max_term=3, max_msgs=2, features=PREVOTE_CQ), 1, 800),
    (
        Params(
            servers=3,
            profile="heartbeat",
            max_term=3,
            max_msgs=2,
            features=PREVOTE_CQ | {"lease"},
        ),
        2,
        800,
    ),
)


@pytest.mark.parametrize(("p", "seed", "budget"), WALKS, ids=[w[0].describe() for w in WALKS])
def test_random_steps_are_accepted(p: Params, seed: int, budget: int) -> None:
    label = f"{p.describe()} seed={seed}"
    n_steps, _, leader = check_steps(p, walk_steps(p, seed, budget), label)
    assert n_steps >= budget, label
    assert leader, f"{label}: the walks never reached a leader (try another seed)"


FEATURE_BUGS = {
    "no-prevote-disruption": frozenset({"prevote"}),
    "prevote-bumps-term": frozenset({"prevote"}),
    "no-check-quorum-zombie": frozenset({"check_quorum"}),
    "lease-too-long": frozenset({"check_quorum", "lease"}),
    "lease-from-receive-time": frozenset({"check_quorum", "lease"}),
}


@pytest.mark.parametrize(
    "bug",
    [
        "quorum-half",
        "vote-twice",
        "forget-vote-on-restart",
        "stale-votes-counted",
        "leader-keeps-role",
        "no-term-increment",
        *FEATURE_BUGS,
    ],
)
def test_mutant_encoding_accepts_the_buggy_spec(bug: str) -> None:
    """The encoding's mutant is a faithful image of the spec's bug (so its CTIs are real)."""
    features = FEATURE_BUGS.get(bug, frozenset())
    p = Params(servers=2, profile="heartbeat", max_term=3, max_msgs=1, bug=bug, features=features)
    seed = 100 + len(bug)
    n_steps, _, _ = check_steps(p, walk_steps(p, seed, budget=300), f"{bug} seed={seed}")
    assert n_steps >= 300


def test_wrong_steps_are_rejected() -> None:
    """The check can fail: a step with a tampered post-state is refused."""
    p = Params(servers=2, profile="election", max_term=2, max_msgs=1)
    checker = ConcreteChecker(p)
    rejected = 0
    for s, action, t in walk_steps(p, seed=5, budget=150):
        bumped = t._replace(current_term=(t.current_term[0] + 1, *t.current_term[1:]))
        _, answer = checker.accepts(s, action, bumped)
        assert answer == z3.unsat, f"tampered post-state of {action} accepted: {bumped}"
        rejected += 1
    assert rejected >= 150


def test_invariant_check_can_fail() -> None:
    """Two leaders in one term violate ElectionSafety in the concrete check too."""
    p = Params(servers=2)
    s = Init(p)
    both = s._replace(role=(Role.Leader, Role.Leader), votes_granted=(0b11, 0b11))
    assert "ElectionSafety" in ConcreteChecker(p).violated(both)


def test_checked_steps_exercise_every_action() -> None:
    """The walks above reach every action of the encoding (recomputed without z3: cheap)."""
    names: set[str] = set()
    for p, seed, budget in WALKS:
        names |= {encoded_action(p, s, a)[0] for s, a, _ in walk_steps(p, seed, budget)}
    expected = set(ACTION_BY_NAME)  # all 25, the features' ones included
    assert expected <= names, expected - names
