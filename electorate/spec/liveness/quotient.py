"""The finite quotient the fair-cycle search runs on: dead variables cleared, terms normalised.

An election storm raises terms forever, so the concrete liveness model is infinite. Two
reductions make it finite:

1. Dead variables (exact). `votesResponded`/`votesGranted` are read only while their server is
   a candidate and reset when it becomes one, so they are cleared for every other role; the
   ghost variables (`quiet`, `earned_terms`, `unearned_deposition`) are read by no guard, so
   they are cleared too. Two states that differ only there have the same futures.
2. Terms (an over-approximation, made exact on the lassos it reports). Every guard compares
   terms by order, or by "exactly one more" (a pre-vote asks for term + 1), and a step either
   copies a term or adds one to it. So shifting every term by the same amount is exact
   (`shift`), and the live terms (servers' and messages') are renumbered from 1 with each gap
   between consecutive ones capped at GAP: a capped gap stands for "GAP or more". Successors
   of a state are computed from two representatives, every capped gap exactly GAP and every
   capped gap GAP + 1 (`representatives`): a step adds one to at most one term, so it can only
   shrink one gap by one, and these two cover both outcomes. The quotient thus has every
   behaviour of the concrete model (a "holds" is sound) and maybe more: a lasso it finds is
   replayed in the concrete model before it is reported (spec/liveness/model.py, `confirm`).
   tests/spec/test_liveness_quotient.py tests these claims on the concrete model's states.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final

from electorate.spec.liveness.network import STALE
from electorate.spec.messages import Bag
from electorate.spec.state import Role, State

GAP: Final = 2  # capped gap: 1 (exactly one more, which pre-votes read) or "2 or more"


def clear_dead(s: State) -> State:
    """Reduction 1: clear the variables no guard will read before they are reset."""
    responded = tuple(
        x if r == Role.Candidate else 0 for x, r in zip(s.votes_responded, s.role, strict=True)
    )
    granted = tuple(
        x if r == Role.Candidate else 0 for x, r in zip(s.votes_granted, s.role, strict=True)
    )
    quiet = (False,) * len(s.quiet) if s.quiet else s.quiet
    t = s._replace(
        votes_responded=responded,
        votes_granted=granted,
        quiet=quiet,
        earned_terms=0,
        unearned_deposition=False,
    )
    return s if t == s else t


def live_terms(s: State) -> list[int]:
    """Every term a server holds or a message carries (a stale request's excepted), ascending."""
    return sorted({*s.current_term, *(m.mterm for m, _ in s.messages if m.mterm != STALE)})


def renumber(s: State, mapping: dict[int, int]) -> State:
    """Every term t replaced by mapping[t] (an order-preserving map of the live terms)."""
    mapping = {**mapping, STALE: STALE}
    msgs: Bag = tuple(sorted((m._replace(mterm=mapping[m.mterm]), c) for m, c in s.messages))
    return s._replace(current_term=tuple(mapping[t] for t in s.current_term), messages=msgs)


def shift(s: State, d: int) -> State:
    """Every term plus d (an exact symmetry of the concrete model)."""
    return renumber(s, {t: t + d for t in live_terms(s)})


def lowest(s: State) -> State:
    """Every term shifted so that the smallest live one is 1: exact (`shift`), not finite (gaps
    are kept as they are). The on-the-fly search for violations runs on this quotient, so a
    cycle it finds is a concrete behaviour that repeats with every term shifted."""
    d = 1 - min(s.current_term)
    return s if d == 0 else shift(s, d)


def normalise(s: State) -> State:
    """Reduction 2: live terms renumbered from 1, gaps capped at GAP."""
    terms = live_terms(s)
    mapping: dict[int, int] = {}
    k = 0
    prev = terms[0]
    for t in terms:
        k += min(t - prev, GAP) if mapping else 1
        mapping[t] = k
        prev = t
    if all(a == b for a, b in mapping.items()):
        return s
    return renumber(s, mapping)


def representatives(s: State) -> list[State]:
    """The concrete states s stands for, as far as one step can tell: s itself (every capped
    gap exactly GAP) and, if s has a capped gap, s with every capped gap GAP + 1."""
    terms = live_terms(s)
    if not any(b - a >= GAP for a, b in pairwise(terms)):
        return [s]
    mapping: dict[int, int] = {}
    k = 0
    for n, t in enumerate(terms):
        if n:
            gap = t - terms[n - 1]
            k += gap + 1 if gap >= GAP else gap
        else:
            k = t
        mapping[t] = k
    return [s, renumber(s, mapping)]


def same_class(a: State, b: State) -> bool:
    """a and b are one state of the quotient."""
    return normalise(clear_dead(a)) == normalise(clear_dead(b))
