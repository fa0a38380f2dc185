"""LeaseBacked is strong enough: on *any* state (reachable or not), LeaseBacked and
ElectionSafety imply LeaseSafety, for every cluster size up to 7.

Why: each server with is_leader is backed by a majority of servers currently in its term; two
such majorities intersect, and a server has one current term, so the two leaders share a term;
ElectionSafety then makes them the same server. So wherever the checker shows LeaseBacked (a
one-state property it can check far from the bounds where two leases could coexist), LeaseSafety
follows. The test samples states freely, so a weaker lemma would be caught.
"""

from __future__ import annotations

from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from electorate.spec.features.lease import LeaseBacked, LeaseSafety
from electorate.spec.next import Init
from electorate.spec.params import Params
from electorate.spec.properties import ElectionSafety
from electorate.spec.state import Role, State

T = TypeVar("T")


@st.composite
def lease_states(draw: st.DrawFn) -> tuple[Params, State]:
    n = draw(st.integers(1, 7))
    p = Params(servers=n, features=frozenset({"lease"}))

    def vec(elements: st.SearchStrategy[T]) -> tuple[T, ...]:
        return tuple(draw(st.lists(elements, min_size=n, max_size=n)))

    s = Init(p)._replace(
        role=vec(st.sampled_from(list(Role))),
        current_term=vec(st.integers(1, 3)),
        heard_leader=vec(st.booleans()),
        clock=vec(st.integers(0, 2)),
        lease_until=vec(st.integers(0, 4)),
    )
    return p, s


@settings(max_examples=500, deadline=None)
@given(lease_states())
def test_lease_backed_and_election_safety_imply_lease_safety(ps: tuple[Params, State]) -> None:
    p, s = ps
    if LeaseBacked(p, s) and ElectionSafety(p, s):
        assert LeaseSafety(p, s)


def test_the_lemma_is_needed() -> None:
    """Without LeaseBacked the implication fails: two leases in different terms."""
    p = Params(servers=3, features=frozenset({"lease"}))
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower, Role.Leader),
        current_term=(2, 3, 3),
        clock=(2, 2, 2),
        lease_until=(3, 0, 3),
    )
    assert ElectionSafety(p, s) and not LeaseSafety(p, s) and not LeaseBacked(p, s)
