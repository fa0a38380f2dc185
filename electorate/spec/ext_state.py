"""The feature variables: which ones a feature set uses, their initial values, small updates.

A feature's variables are empty tuples when it is off, so that the states of a smaller feature
set stay small. `heard_leader` is kept by every feature: PreVote's and CheckQuorum's lease
check both read it.
"""

from __future__ import annotations

from typing import Any

from electorate.spec import ext_time
from electorate.spec.params import Params, lease_knobs
from electorate.spec.state import Except, Role, State

LEADER_FIELDS = ("acked", "round_at", "round_acked", "lease_until")


def sticky(p: Params) -> bool:
    """Voters inside a live leader's lease refuse real votes (CheckQuorum; leases need it)."""
    return p.has("check_quorum") or p.has("lease")


def init_vars(p: Params, s: State) -> State:
    n = p.servers
    zeros = (0,) * n
    ext: dict[str, Any] = {"heard_leader": (False,) * n}
    if p.has("prevote"):
        ext["prevotes_granted"] = zeros
    if p.has("check_quorum"):
        ext["acked"] = zeros
        ext["quiet"] = (False,) * n
    if p.has("lease"):
        start = (ext_time.origin(p),) * n if ext_time.relative(p) else zeros
        ext.update(clock=start, lease_until=zeros, round_at=zeros, round_acked=zeros)
    return s._replace(**ext)


def put(s: State, field: str, i: int, value: object) -> State:
    """[field EXCEPT ![i] = value] when the field is in use; unchanged otherwise."""
    current = getattr(s, field)
    if not current:
        return s
    changed: dict[str, Any] = {field: Except(current, i, value)}
    return s._replace(**changed)


def clear_role_vars(s: State, i: int) -> State:
    """Forget i's leader and pre-candidate bookkeeping once i is neither (role already set)."""
    if s.role[i] != Role.PreCandidate:
        s = put(s, "prevotes_granted", i, 0)
    if s.role[i] != Role.Leader:
        for field in LEADER_FIELDS:
            s = put(s, field, i, 0)
    return s


def lose_leader(s: State, i: int) -> State:
    """i no longer knows a live leader: out of any lease, its timer free to run out."""
    return clear_role_vars(put(put(s, "heard_leader", i, False), "lease_until", i, 0), i)


def hear_leader(p: Params, s: State, i: int) -> State:
    """i heard from a live leader (or restarted): no vote, no timeout for an election period."""
    s = put(s, "heard_leader", i, True)
    if p.has("lease"):
        s = put(s, "lease_until", i, s.clock[i] + lease_knobs(p).election_ticks)
    return s
