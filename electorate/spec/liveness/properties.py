"""The liveness properties, each with a stable ID, as the fair cycles that violate it.

Every fair behaviour of a liveness model stabilizes (WF Stabilize), so each property speaks of
the behaviour after stabilization, and is violated by a fair cycle (model_check.liveness):

- EventuallyLeader: eventually some server is leader and stays leader for ever
  (<>[] "server l leads", for some l). Violated by a fair cycle in which every server is, at
  some state, not leader.
- LeaderStability: eventually no leader connected both ways to a quorum is deposed any more
  (once the topology is stable, such a leader is deposed finitely often). Violated by a fair
  cycle with a step in which such a leader stops being leader. (The stricter "never deposed
  after stabilization" fails on every topology: a term raised before stabilization may still
  be in flight and depose the first leader.)
- CandidateProgress: a server connected both ways to a quorum does not stay a candidate or
  pre-candidate for ever. Violated by a fair cycle in which such a server is a
  (pre-)candidate in every state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from electorate.model_check.liveness import LiveProperty, Query
from electorate.spec.liveness.timing import CANDIDATES, links
from electorate.spec.messages import server_name
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import Role, State

IDS: Final = ("EventuallyLeader", "LeaderStability", "CandidateProgress")

RaftProperty = LiveProperty[State, Action]
StatePredicate = Callable[[State], bool]


def _not_leader(i: int) -> StatePredicate:
    def holds(s: State) -> bool:
        return s.role[i] != Role.Leader

    return holds


def _campaigning(i: int) -> StatePredicate:
    def holds(s: State) -> bool:
        return s.role[i] in CANDIDATES

    return holds


def eventually_leader(p: Params) -> RaftProperty:
    visits = tuple(_not_leader(i) for i in range(p.servers))
    return LiveProperty(
        "EventuallyLeader",
        "eventually some server is leader and stays leader",
        (Query("no server leads throughout the cycle", visit=visits),),
    )


def leader_stability(p: Params) -> RaftProperty:
    t = links(p)
    connected = [i for i in range(p.servers) if t.quorum_connected(i)]

    def deposed(s: State, a: Action, u: State) -> bool:
        return any(s.role[i] == Role.Leader and u.role[i] != Role.Leader for i in connected)

    return LiveProperty(
        "LeaderStability",
        "eventually no leader connected to a quorum is deposed",
        (Query("a leader connected to a quorum is deposed in the cycle", take=(deposed,)),),
    )


def candidate_progress(p: Params) -> RaftProperty:
    t = links(p)
    queries: tuple[Query[State, Action], ...] = tuple(
        Query(f"{server_name(i)} is a (pre-)candidate throughout the cycle", stay=_campaigning(i))
        for i in range(p.servers)
        if t.quorum_connected(i)
    )
    return LiveProperty(
        "CandidateProgress",
        "no server connected to a quorum stays a (pre-)candidate for ever",
        queries,
    )


BUILDERS: Final[dict[str, Callable[[Params], RaftProperty]]] = {
    "EventuallyLeader": eventually_leader,
    "LeaderStability": leader_stability,
    "CandidateProgress": candidate_progress,
}


def liveness_properties(p: Params, only: str | None = None) -> list[RaftProperty]:
    """The liveness properties of the model `p` (or the one named `only`), in IDS order."""
    return [BUILDERS[i](p) for i in IDS if only is None or i == only]
