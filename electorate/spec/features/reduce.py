"""`--reduce`: a smaller lease model for clusters too big to check exactly (3 servers and up).

`Reduce` maps each normalised state (features/relative_time.py) to a representative that can do at
least everything it can, with the same value of every property. It is a sound
over-approximation, not a quotient. For every state the exact model reaches, the reduced
model reaches its image, or the image with some follower deadlines already dropped (rule 1
may drop a deadline that the exact model later needs again: when the leader gets a lease, a
follower that never acked keeps its deadline in the exact model). Either can do at least what
the exact state can, and no property reads a follower's deadline, so "no violation" carries
over to the exact model, while a violation the reduced model reports may need confirming
without `--reduce` (spec/confirm.py). tests/spec/test_reduce.py checks this matching and the
property values on 2 servers, and on 3 servers within 30 steps when asked (ELECTORATE_LONG).
Its state counts are its own: TLC mirrors only the exact model.

Why each rule is sound:
- A deadline that backs no lease ends early (the one rule that adds behaviour). A follower's
  deadline is kept only while it may back a lease: its term's leader holds one, or the
  follower's ack of that leader's current round is counted or on its way. Otherwise (the
  leader's lease is over and the ack belongs to an older round or was lost, or the term has
  no leader any more) the deadline is dropped and `heard_leader` stays, so the follower's timer
  may run out at any step. Only ElectionTimer's guard reads a follower's deadline and an
  expired one enables it more, so the reduced state simulates the exact one; no property reads
  a follower's deadline. Any lease to come needs this follower's ack of a newer round, and
  handling that round's heartbeat sets a fresh deadline.
- An idle cluster forgets its clocks (exact). With no leader, every follower deadline is
  dropped by the rule above and every stamp is stale, so nothing compares a clock with anything
  and all clocks are set to `origin`. An idle state reaches every other skew by Ticks alone,
  so the one thing the skew still decides, the clocks when a leader is elected, is chosen
  then: from an idle state `BecomeLeader` takes every skew within the drift (`skews`), and
  Ticks are not taken (they would change nothing).
- Dead vote tallies are forgotten (exact). raft.tla keeps a server's votesResponded and
  votesGranted after it stops being a candidate; only a candidate's guards read them, and the
  invariants read votesGranted of candidates, pre-candidates and leaders only. A new candidacy
  clears both, so a follower's tallies and a leader's votesResponded are set to the empty set.
- A quorum of acks is a quorum (exact). CheckQuorum's `acked` is read only by IsQuorum and only
  grows until the leader's timer clears it, so once it holds a quorum it is set to all servers.
"""

from __future__ import annotations

from electorate.spec.actions import IsQuorum
from electorate.spec.features.relative_time import origin
from electorate.spec.messages import MType
from electorate.spec.params import Params
from electorate.spec.state import Role, State


def idle(s: State) -> bool:
    """No server is leader: the reduced model does not track time."""
    return Role.Leader not in s.role


def skews(p: Params) -> list[tuple[int, ...]]:
    """Every clock vector of relative time: slowest at origin, none more than drift ahead."""
    o, drift = origin(p), p.knobs.drift
    vectors: list[tuple[int, ...]] = [()]
    for _ in range(p.servers):
        vectors = [(*v, o + k) for v in vectors for k in range(drift + 1)]
    return [v for v in vectors if min(v) == o]


def Reduce(p: Params, s: State) -> State:
    """The reduced model's representative of a normalised state s."""
    t = _forget_dead_tallies(_saturate_acks(p, _end_unneeded_deadlines(s)))
    if idle(t):
        t = t._replace(clock=(origin(p),) * p.servers)
    return s if t == s else t


def _end_unneeded_deadlines(s: State) -> State:
    lease = list(s.lease_until)
    for f, v in enumerate(s.lease_until):
        if v and s.role[f] != Role.Leader and not _may_back_a_lease(s, f):
            lease[f] = 0
    return s if lease == list(s.lease_until) else s._replace(lease_until=tuple(lease))


def _may_back_a_lease(s: State, f: int) -> bool:
    term = s.current_term[f]
    for leader, (t, r) in enumerate(zip(s.current_term, s.role, strict=True)):
        if r != Role.Leader or t != term:
            continue
        if s.lease_until[leader] or s.round_acked[leader] >> f & 1:
            return True
        return any(
            m.mtype == MType.AppendEntriesResponse
            and m.msuccess
            and m.msource == f
            and m.mdest == leader
            and m.msent_at == s.round_at[leader]
            for m, _ in s.messages
        )
    return False  # its term has no leader, and never will again


def _saturate_acks(p: Params, s: State) -> State:
    if not s.acked:
        return s
    everyone = (1 << p.servers) - 1
    acked = tuple(everyone if a and IsQuorum(p, a) else a for a in s.acked)
    return s if acked == s.acked else s._replace(acked=acked)


def _forget_dead_tallies(s: State) -> State:
    responded = tuple(
        v if r == Role.Candidate else 0 for v, r in zip(s.votes_responded, s.role, strict=True)
    )
    granted = tuple(
        0 if r == Role.Follower else v for v, r in zip(s.votes_granted, s.role, strict=True)
    )
    if responded == s.votes_responded and granted == s.votes_granted:
        return s
    return s._replace(votes_responded=responded, votes_granted=granted)
