"""A liveness model as the generic fair-cycle search sees it (model_check.liveness), and the
replay of its lassos in the concrete model (terms not normalised).

The symmetries are the topology's automorphisms (`automorphisms`): renamings of servers that
keep every link, so they keep the steps, the fairness (a renamed instance), the initial state
and the properties (LeaderStability's connected servers are kept). The search for holds runs on
one state per orbit with the fairness of the whole model (model_check/liveness_symmetry.py:
why that is exact, and lassos that are concrete cycles); the on-the-fly search for violations
does not use them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import permutations

from electorate.model_check.liveness import Fairness, Lasso
from electorate.spec import next as spec_next
from electorate.spec.liveness import fairness, quotient
from electorate.spec.model import RaftModel
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import State
from electorate.spec.symmetry import permute
from electorate.spec.topology import Topology


class LivenessRaftModel(RaftModel):
    """The quotient of a liveness model (spec/liveness/quotient.py), with the rendering of
    RaftModel for its lassos."""

    def __init__(self, params: Params) -> None:
        assert params.topology is not None, "a liveness model needs a topology"
        super().__init__(params)

    def __reduce__(self) -> tuple[type[RaftModel], tuple[Params, str | None]]:
        return (LivenessRaftModel, (self.params, None))

    def fairness(self, a: Action) -> tuple[Hashable, Fairness] | None:
        return fairness.fairness(self.params, a)

    def key(self, s: State) -> Hashable:
        return s

    def rank(self, s: State) -> int:
        """Expand stable states first: every fair cycle lies among them (WF Stabilize), so a
        violation is found before the unstable prefix is explored to its end."""
        return 0 if s.stable else 1

    def automorphisms(self) -> list[tuple[int, ...]]:
        assert self.params.topology is not None
        return automorphisms(self.params.topology)

    def permute(self, s: State, pi: tuple[int, ...]) -> State:
        return permute(s, pi, *_renaming(pi))

    def permute_view(self, s: State, pi: tuple[int, ...]) -> State:
        """s with the servers' terms, roles and votes renamed, all the liveness properties read
        (spec/liveness/properties.py; tests/model_check/test_liveness_symmetry.py checks it
        against `permute`)."""
        inverse = _renaming(pi)[0]
        return s._replace(
            current_term=tuple([s.current_term[x] for x in inverse]),
            role=tuple([s.role[x] for x in inverse]),
            voted_for=tuple([-1 if s.voted_for[x] < 0 else pi[s.voted_for[x]] for x in inverse]),
        )

    def signature(self, s: State) -> tuple[Hashable, ...]:
        """Per server: term, role, vote (none, itself, another), messages sent and received."""
        n = len(s.current_term)
        sent = [0] * n
        got = [0] * n
        for m, _ in s.messages:
            sent[m.msource] += 1
            got[m.mdest] += 1
        return tuple(
            (
                s.current_term[k],
                int(s.role[k]),
                0 if s.voted_for[k] < 0 else 1 if s.voted_for[k] == k else 2,
                sent[k],
                got[k],
            )
            for k in range(n)
        )

    def permute_instance(self, key: Hashable, pi: tuple[int, ...]) -> Hashable:
        """A fair instance's key renamed: ("Deliver", source, destination, kind, pre-vote),
        (action, server), ("LuckyTimeout", server, situation) or (action,)
        (spec/liveness/fairness.py)."""
        assert isinstance(key, tuple)
        if key[0] == "Deliver":
            return (key[0], pi[key[1]], pi[key[2]], *key[3:])
        if len(key) >= 2:
            return (key[0], pi[key[1]], *key[2:])
        return key


@cache
def automorphisms(t: Topology) -> list[tuple[int, ...]]:
    """The renamings of servers that keep every link of t, the identity first."""
    n = t.servers
    return [
        pi
        for pi in permutations(range(n))
        if all(t.up(pi[i], pi[j]) == t.up(i, j) for i in range(n) for j in range(n))
    ]


@cache
def _renaming(pi: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """pi's inverse and pi applied to every server bitmask (spec.symmetry.permute's tables)."""
    n = len(pi)
    inverse = tuple(pi.index(k) for k in range(n))
    masks = tuple(sum(1 << pi[j] for j in range(n) if mask >> j & 1) for mask in range(1 << n))
    return inverse, masks


class ShiftedRaftModel(LivenessRaftModel):
    """The concrete liveness model up to a uniform shift of terms (quotient.lowest): exact, so
    every fair cycle in it is a concrete periodic behaviour, but infinite (term gaps are not
    capped): for the on-the-fly search for violations, never for a "holds"."""

    def __init__(self, params: Params, span: int = 4) -> None:
        super().__init__(params)
        self.span = span

    def __reduce__(self) -> tuple[type[RaftModel], tuple[Params, str | None]]:
        return (ShiftedRaftModel, (self.params, None))

    def in_constraint(self, s: State) -> bool:
        """Live terms at most `span` apart: a bound that keeps the search finite; what it cuts
        counts as enabled, so a fair cycle inside it is one of the unbounded model."""
        terms = quotient.live_terms(s)
        return terms[-1] - terms[0] <= self.span

    def successors(self, s: State) -> Iterator[tuple[Action, State]]:
        for a, t in spec_next.ConcreteNext(self.params, s):
            yield a, (s if t is s else quotient.lowest(t))


@dataclass
class Confirmation:
    """The lasso replayed in the concrete model: how many times its cycle was repeated and
    whether the concrete state came back to the cycle's start with every term shifted by the
    same amount (then the concrete behaviour repeats it for ever: shift is exact)."""

    replayed: bool
    repetitions: int
    periodic: bool
    shift: int
    reason: str = ""
    # The concrete lasso (terms as they really grow): stem, then the cycle's first round.
    concrete: Lasso[State, Action] | None = field(default=None, compare=False, repr=False)
    # The fair instances that make the cycle unfair in the whole model, judged afresh from its
    # own successors (model_check.liveness.unfair_instances); empty: fair.
    unfair: tuple[str, ...] = ()


def concrete_successors(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    return spec_next.ConcreteNext(p, s)


def confirm(
    p: Params,
    lasso: Lasso[State, Action],
    repetitions: int = 3,
    normalise: Callable[[State], State] = quotient.normalise,
) -> Confirmation:
    """Replay the lasso's actions in the concrete model: each step must be one of the concrete
    successors whose quotient (`normalise`) is the lasso's next state."""
    here = spec_next.Init(p)
    if normalise(here) != lasso.stem[0][1]:
        return Confirmation(False, 0, False, 0, "initial states differ")
    stem: list[tuple[Action | None, State]] = [(None, here)]
    for action, want in lasso.stem[1:]:
        assert action is not None
        nxt = _follow(p, here, action, want, normalise)
        if nxt is None:
            return Confirmation(False, 0, False, 0, f"stem step {action} has no concrete twin")
        here = nxt[1]
        stem.append(nxt)
    concrete = Lasso(lasso.property, lasso.description, lasso.query, stem, [])
    if not lasso.cycle:
        return Confirmation(True, 0, True, 0, concrete=concrete)
    starts = [here]
    for k in range(1, repetitions + 1):
        for action, want in lasso.cycle:
            nxt = _follow(p, here, action, want, normalise)
            if nxt is None:
                return Confirmation(False, k - 1, False, 0, f"cycle step {action} diverged")
            here = nxt[1]
            if k == 1:
                concrete.cycle.append(nxt)
        for start in starts:
            d = min(here.current_term) - min(start.current_term)
            if quotient.shift(start, d) == here:
                return Confirmation(True, k, True, d, concrete=concrete)
        starts.append(here)
    reason = "terms do not repeat by a uniform shift"
    return Confirmation(True, repetitions, False, 0, reason, concrete)


def concrete_run(
    p: Params,
    lasso: Lasso[State, Action],
    repetitions: int,
    normalise: Callable[[State], State] = quotient.normalise,
) -> list[tuple[Action | None, State]] | None:
    """The lasso in the concrete model: Init, the stem, then the cycle `repetitions` times
    (terms as they grow); None if a step has no concrete twin."""
    here = spec_next.Init(p)
    if normalise(here) != lasso.stem[0][1]:
        return None
    run: list[tuple[Action | None, State]] = [(None, here)]
    steps = [*lasso.stem[1:], *(lasso.cycle * repetitions)]
    for action, want in steps:
        assert action is not None
        nxt = _follow(p, here, action, want, normalise)
        if nxt is None:
            return None
        here = nxt[1]
        run.append(nxt)
    return run


def _follow(
    p: Params, s: State, action: Action, want: State, normalise: Callable[[State], State]
) -> tuple[Action, State] | None:
    for a, t in concrete_successors(p, s):
        if t is s or a.name != action.name:
            continue
        if spec_next._instance(a) != spec_next._instance(action) or a.detail != action.detail:
            continue
        if normalise(t) == want:
            return a, t
    return None
