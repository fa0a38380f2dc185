"""The lease in the liveness models: untimed, the follower's promise bounded by T1.

spec/features/lease.py (`timed`): a liveness model's lease has no clocks; a follower that
heard the leader of its term ignores newer vote requests until its timer runs out, and T1
(spec/liveness/timing.py) says when that may happen. docs/liveness.md, "The lease".
"""

from __future__ import annotations

from collections import deque

from electorate.spec import next as spec_next
from electorate.spec.ids import Feature
from electorate.spec.liveness import steps
from electorate.spec.messages import Message, MType
from electorate.spec.params import Params
from electorate.spec.state import Role, State
from electorate.spec.topology import topology_from

LEASE: frozenset[Feature] = frozenset({"lease"})
NONE: frozenset[Feature] = frozenset()


def chained(features: frozenset[Feature]) -> Params:
    return Params(servers=3, topology=topology_from("chained", 3), features=features)


def test_the_liveness_lease_has_no_clocks() -> None:
    p = chained(LEASE)
    s = spec_next.Init(p)
    assert s.clock == s.lease_until == s.round_at == s.round_acked == ()
    assert s.heard_leader == (False, False, False)
    assert "election_ticks" not in p.describe() and "features=lease" in p.describe()


def _s2_follows_s3(p: Params) -> State:
    """Stable; s3 leads term 2 and s2 (which s3 reaches) heard it; s1 asks s2 for term 3."""
    s = spec_next.Init(p)
    ask = Message(MType.RequestVoteRequest, 3, 0, 1)
    return s._replace(
        stable=True,
        current_term=(3, 2, 2),
        role=(Role.Candidate, Role.Follower, Role.Leader),
        voted_for=(0, 2, 2),
        heard_leader=(False, True, True),
        messages=((ask, 1),),
    )


def test_a_follower_inside_a_lease_ignores_a_newer_vote_request() -> None:
    for features, label, term in ((LEASE, "IgnoreVoteRequestInLease", 2), (NONE, "", 3)):
        p = chained(features)
        s = _s2_follows_s3(p)
        m = s.messages[0][0]
        done = steps.Deliver(p, s, m)
        assert done is not None
        if label:
            assert done[0] == label
        assert done[1].current_term[1] == term  # classic Raft adopts term 3 (and deposes s3)


def test_the_promise_ends_only_as_t1_allows() -> None:
    p = chained(LEASE)
    s = _s2_follows_s3(p)
    assert steps.ElectionTimer(p, s, 1) is None  # s3 leads term 2 and reaches s2: T1
    gone = s._replace(role=(Role.Candidate, Role.Follower, Role.Follower))
    fired = steps.ElectionTimer(p, gone, 1)
    assert fired is not None and fired[1].heard_leader[1] is False


def _graph(p: Params, limit: int) -> dict[State, set[tuple[str, object, str, State]]]:
    """The first `limit` states of the quotient (breadth first) and their steps."""
    seen: dict[State, set[tuple[str, object, str, State]]] = {}
    queue = deque([spec_next.Init(p)])
    while queue and len(seen) < limit:
        s = queue.popleft()
        if s in seen:
            continue
        seen[s] = {(a.name, spec_next._instance(a), a.detail, t) for a, t in spec_next.Next(p, s)}
        queue.extend(t for *_, t in seen[s] if t not in seen)
    return seen


def test_lease_adds_nothing_to_check_quorum_untimed() -> None:
    """With CheckQuorum the untimed lease's promise is CheckQuorum's own (`sticky`): the two
    models are one graph, state for state and step for step."""
    cq: frozenset[Feature] = frozenset({"check_quorum"})
    assert _graph(chained(cq | LEASE), 1500) == _graph(chained(cq), 1500)
