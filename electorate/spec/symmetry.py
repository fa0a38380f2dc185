"""Server symmetry: renaming servers maps reachable states to reachable states.

The canonical representative of a state is the smallest of its permuted images (tuples compare
lexicographically), as TLC's SYMMETRY does, so distinct-state counts are orbit counts.
"""

from __future__ import annotations

from functools import cache, lru_cache
from itertools import permutations
from typing import TypeVar

from electorate.spec.state import (
    FEATURE_GLOBAL_FIELDS,
    FEATURE_MASK_FIELDS,
    FEATURE_SLOT_FIELDS,
    NIL,
    State,
)

T = TypeVar("T")


@cache
def _perms(n: int) -> tuple[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...]:
    """For each permutation pi: pi itself, its inverse, and pi applied to every bitmask set."""
    out = []
    for pi in permutations(range(n)):
        inverse = tuple(pi.index(k) for k in range(n))
        masks = tuple(sum(1 << pi[j] for j in range(n) if mask >> j & 1) for mask in range(1 << n))
        out.append((pi, inverse, masks))
    return tuple(out)


def _slots(f: tuple[T, ...], inverse: tuple[int, ...]) -> tuple[T, ...]:
    """Per-server slots reordered: new slot k holds the value of old server inverse[k]."""
    return tuple([f[x] for x in inverse]) if f else f


def permute(
    s: State, pi: tuple[int, ...], inverse: tuple[int, ...], masks: tuple[int, ...]
) -> State:
    """The state with server k renamed pi[k] everywhere (per-server slots and server values;
    a liveness model's lucky server too, its NIL and Lull markers kept)."""
    msgs = s.messages
    if msgs:
        msgs = tuple(
            sorted([(m._replace(msource=pi[m.msource], mdest=pi[m.mdest]), c) for m, c in msgs])
        )
    featured: dict[str, object] = {}
    if s.heard_leader:  # every feature keeps heard_leader: the feature variables are in use
        for name in FEATURE_MASK_FIELDS:
            featured[name] = tuple([masks[x] for x in _slots(getattr(s, name), inverse)])
        for name in FEATURE_SLOT_FIELDS:
            featured[name] = _slots(getattr(s, name), inverse)
        for name in FEATURE_GLOBAL_FIELDS:
            featured[name] = getattr(s, name)
    elif s.knows_leader:  # options without features: their one variable
        featured["knows_leader"] = _slots(s.knows_leader, inverse)
    ni, mi = s.next_index, s.match_index
    return State(
        tuple([s.current_term[x] for x in inverse]),
        tuple([s.role[x] for x in inverse]),
        tuple([NIL if s.voted_for[x] == NIL else pi[s.voted_for[x]] for x in inverse]),
        tuple([masks[s.votes_responded[x]] for x in inverse]),
        tuple([masks[s.votes_granted[x]] for x in inverse]),
        tuple([tuple([ni[x][y] for y in inverse]) for x in inverse]),
        tuple([tuple([mi[x][y] for y in inverse]) for x in inverse]),
        tuple([s.log[x] for x in inverse]),
        tuple([s.commit_index[x] for x in inverse]),
        msgs,
        **featured,  # type: ignore[arg-type]
        stable=s.stable,
        lucky=pi[s.lucky] if 0 <= s.lucky < len(pi) else s.lucky,
    )


def _signatures(s: State) -> list[tuple[object, ...]]:
    """What each server looks like with names erased: equal for servers a renaming can swap."""
    votes = [0 if v == NIL else (1 if v == k else 2) for k, v in enumerate(s.voted_for)]
    responded = [x.bit_count() for x in s.votes_responded]
    granted = [x.bit_count() for x in s.votes_granted]
    clock = s.clock or (0,) * len(votes)
    return list(
        zip(
            s.current_term,
            s.role,
            votes,
            responded,
            granted,
            s.log,
            s.commit_index,
            clock,
            strict=True,
        )
    )


@lru_cache(maxsize=4096)
def _orders(groups: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """Every server order that keeps the signature groups sorted (permutations within ties)."""
    orders: list[tuple[int, ...]] = [()]
    for group in groups:
        orders = [o + p for o in orders for p in permutations(group)]
    return tuple(orders)


@cache
def _by_order(
    n: int,
) -> dict[tuple[int, ...], tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    """(pi, inverse, masks) keyed by the inverse: the old server that lands in each new slot."""
    return {inv: (pi, inv, masks) for pi, inv, masks in _perms(n)}


def canonical(s: State) -> State:
    """The smallest permuted image of s among renamings that sort servers by signature.

    Every renaming of s has the same set of such images, so this is a canonical representative
    of s's orbit (and an exact orbit count follows), at the cost of trying only the renamings
    that permute servers with equal signatures instead of all N! of them.
    """
    n = len(s.current_term)
    sigs = _signatures(s)
    order = sorted(range(n), key=sigs.__getitem__)
    groups: list[tuple[int, ...]] = []
    run = [order[0]]
    for k in order[1:]:
        if sigs[k] == sigs[run[-1]]:
            run.append(k)
        else:
            groups.append(tuple(run))
            run = [k]
    groups.append(tuple(run))
    table = _by_order(n)
    if len(groups) == n:
        return permute(s, *table[tuple(order)])
    return min(permute(s, *table[o]) for o in _orders(tuple(groups)))


def canonical_bruteforce(s: State) -> State:
    """The lexicographically smallest state of the orbit over all N! renamings (the reference)."""
    n = len(s.current_term)
    return min(permute(s, pi, inv, masks) for pi, inv, masks in _perms(n))
