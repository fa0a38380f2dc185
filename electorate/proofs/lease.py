"""Lease safety: no two servers hold a lease at the same time, for every N, under a stated
clock-drift hypothesis.

A leader holds a lease (spec.features.lease.is_leader) while its clock is below `lease_until`, which
it sets, once a quorum acknowledged a heartbeat round sent at its clock R, to R + LeaseTicks. A
follower that acknowledges a round hears its leader: it refuses votes and newer terms (except a
newer leader's AppendEntries) and keeps its election timer from running out until its own clock
reaches the moment of the acknowledgement + ElectionTicks.

Trusted hypothesis (docs/proofs.md): clocks never run backwards and at every instant any two
servers' clocks differ by at most Drift ticks (the spec's Tick keeps them so), and the knobs
satisfy LeaseTicks + 2 * Drift <= ElectionTicks (spec/params.py: _derive_knobs sets LeaseTicks =
ElectionTicks - 2 * Drift). The proof is for symbolic knobs: every setting that satisfies it.

Why it is inductive. An acknowledging follower's deadline is at least R - Drift + ElectionTicks
(its clock was at least the leader's minus the drift when the round was sent), so it is still
inside its promise while the leader's clock is below R + LeaseTicks + Drift (RoundAckInPromise).
A newer leader needs a quorum of votes in a newer term, which meets the acknowledging quorum in a
follower still keeping its promise: impossible while the round can still give a live lease
(NoNewerWhileGainable). Hence a leader in its lease is backed by a quorum of followers of its
term inside their promise (LeaseBacked); two such quorums meet, so two leases in a lease share
a term, and Election Safety (proofs.history) makes them one leader.
"""

from __future__ import annotations

import z3

from electorate.proofs import history
from electorate.proofs.core import Property
from electorate.proofs.induction import Corollary, Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma, election_safety
from electorate.proofs.model import DRIFT, ELECTION_TICKS, LEASE_TICKS
from electorate.proofs.vocab import AE_REQ, AE_RESP, Model, Sorts, Vocab

LEASE_MODEL = Model(frozenset({"lease"}), frozenset({"lease", "history"}))


def _nodes(sorts: Sorts, names: str) -> list[z3.ExprRef]:
    return [z3.Const(n, sorts.node) for n in names.split()]


def hypothesis(bug: str | None) -> list[z3.BoolRef]:
    """The trusted clock arithmetic; `lease-too-long` drops the drift margin (lease = the whole
    election timeout, with a positive drift)."""
    E, D, L = ELECTION_TICKS, DRIFT, LEASE_TICKS
    if bug == "lease-too-long":
        return [D >= 1, L >= 1, L == E]
    return [D >= 0, L >= 1, L + 2 * D <= E]


def _leader(v: Vocab, i: z3.ExprRef) -> z3.BoolRef:
    return v.role(i) == v.roles.leader


def in_lease(v: Vocab, i: z3.ExprRef) -> z3.BoolRef:
    """spec.features.lease.is_leader: leader and its clock below its lease deadline."""
    return z3.And(_leader(v, i), v.fn("clock")(i) < v.fn("lu")(i))


def _live(v: Vocab, i: z3.ExprRef) -> z3.BoolRef:
    """i's current round could still give a lease that is not over."""
    return v.fn("clock")(i) < v.fn("ra")(i) + LEASE_TICKS


def _acked(v: Vocab, i: z3.ExprRef, m: z3.ExprRef) -> z3.BoolRef:
    """m acknowledged i's current round: counted, or a successful ack of it in flight."""
    ack = v.msg(AE_RESP, m, i, v.ct(i), z3.BoolVal(True), v.fn("ra")(i))
    return z3.Or(v.fn("rack")(i, m), ack)


def _in_promise(v: Vocab, m: z3.ExprRef, i: z3.ExprRef, until: z3.ArithRef) -> z3.BoolRef:
    """m is a follower of i's term that heard its leader, deadline at least `until`."""
    return z3.And(
        v.role(m) == v.roles.follower,
        v.ct(m) == v.ct(i),
        v.fn("heard")(m),
        v.fn("lu")(m) >= until,
    )


def gainable(s: Sorts, v: Vocab, i: z3.ExprRef) -> z3.BoolRef:
    """Some quorum has acknowledged i's current round or may still do so (is in a term no newer
    than i's)."""
    q = z3.Const("gq", s.quorum)
    m = z3.Const("gm", s.node)
    may = z3.Or(m == i, _acked(v, i, m), v.ct(m) <= v.ct(i))
    return z3.Exists([q], z3.ForAll([m], z3.Implies(s.member(m, q), may)))


def lease_safety(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, j = _nodes(s, "i j")
    return z3.ForAll([i, j], z3.Implies(z3.And(in_lease(v, i), in_lease(v, j)), i == j))


def lease_backed(s: Sorts, v: Vocab) -> z3.BoolRef:
    (i,) = _nodes(s, "i")
    q = z3.Const("lq", s.quorum)
    n = z3.Const("ln", s.node)
    keeps = z3.Or(n == i, _in_promise(v, n, i, v.fn("lu")(i) + DRIFT))
    backed = z3.Exists([q], z3.ForAll([n], z3.Implies(s.member(n, q), keeps)))
    return z3.ForAll([i], z3.Implies(in_lease(v, i), backed))


def round_ack_in_promise(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, m = _nodes(s, "i m")
    pending = z3.And(_leader(v, i), _live(v, i), gainable(s, v, i), _acked(v, i, m), m != i)
    until = v.fn("ra")(i) + LEASE_TICKS + DRIFT
    return z3.ForAll([i, m], z3.Implies(pending, _in_promise(v, m, i, until)))


def no_newer_while_gainable(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, j = _nodes(s, "i j")
    t = z3.Int("t")
    pending = z3.And(_leader(v, i), _live(v, i), gainable(s, v, i), v.fn("elected")(j, t))
    return z3.ForAll([i, j, t], z3.Implies(pending, t <= v.ct(i)))


def no_newer_while_leased(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, j = _nodes(s, "i j")
    t = z3.Int("t")
    pending = z3.And(in_lease(v, i), v.fn("elected")(j, t))
    return z3.ForAll([i, j, t], z3.Implies(pending, t <= v.ct(i)))


def clocks_within_drift(s: Sorts, v: Vocab) -> z3.BoolRef:
    x, y = _nodes(s, "x y")
    clock = v.fn("clock")
    return z3.ForAll([x, y], z3.And(clock(x) >= 0, clock(x) <= clock(y) + DRIFT))


def round_started(s: Sorts, v: Vocab) -> z3.BoolRef:
    (i,) = _nodes(s, "i")
    return z3.ForAll([i], z3.Implies(_leader(v, i), v.fn("ra")(i) <= v.fn("clock")(i)))


def lease_by_round(s: Sorts, v: Vocab) -> z3.BoolRef:
    (i,) = _nodes(s, "i")
    bound = v.fn("lu")(i) <= v.fn("ra")(i) + LEASE_TICKS
    return z3.ForAll([i], z3.Implies(_leader(v, i), bound))


def deadline_bound(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = _nodes(s, "n")
    bound = v.fn("lu")(n) <= v.fn("clock")(n) + ELECTION_TICKS
    return z3.ForAll([n], z3.Implies(z3.Not(_leader(v, n)), bound))


def _ae(
    v: Vocab, ty: z3.ExprRef, names: str, flag: bool | None
) -> tuple[list[z3.ExprRef], z3.BoolRef]:
    """Bound variables over AppendEntries messages of type `ty` (and, if `flag` is None, of
    any flag) and "such a message is in flight"."""
    a, b = z3.Consts(names, v.sorts.node)
    t, r, f = z3.Int("at"), z3.Int("ar"), z3.Bool("af")
    bound = [a, b, t, r] + ([f] if flag is None else [])
    return bound, v.msg(ty, a, b, t, f if flag is None else z3.BoolVal(flag), r)


def stamp_past(s: Sorts, v: Vocab) -> z3.BoolRef:
    bound, sent = _ae(v, AE_REQ, "sa sb", None)
    x = z3.Const("sx", s.node)
    return z3.ForAll([*bound, x], z3.Implies(sent, bound[3] <= v.fn("clock")(x) + DRIFT))


def sender_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    bound, sent = _ae(v, AE_REQ, "ea eb", None)
    return z3.ForAll(bound, z3.Implies(sent, v.fn("elected")(bound[0], bound[2])))


def ack_to_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    (a, b, t, r), sent = _ae(v, AE_RESP, "ka kb", True)
    return z3.ForAll([a, b, t, r], z3.Implies(sent, v.fn("elected")(b, t)))


def request_stamp_current(s: Sorts, v: Vocab) -> z3.BoolRef:
    bound, sent = _ae(v, AE_REQ, "ra rb", None)
    a, _, t, r = bound[:4]
    mine = z3.And(sent, _leader(v, a), t == v.ct(a))
    return z3.ForAll(bound, z3.Implies(mine, r <= v.fn("ra")(a)))


def ack_stamp_current(s: Sorts, v: Vocab) -> z3.BoolRef:
    (a, b, t, r), sent = _ae(v, AE_RESP, "ca cb", True)
    mine = z3.And(sent, _leader(v, b), t == v.ct(b))
    return z3.ForAll([a, b, t, r], z3.Implies(mine, r <= v.fn("ra")(b)))


LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "RoundAckInPromise",
        "while a leader's current round can still give a live lease, every server that "
        "acknowledged it is a follower of its term, heard, deadline >= round + lease + drift",
        "a lease is granted only by such acknowledgements (HandleAppendEntriesResponse)",
        round_ack_in_promise,
    ),
    Lemma(
        "NoNewerWhileGainable",
        "while a leader's current round can still give a live lease, nobody has won a newer term",
        "an acknowledging follower leaves its promise early only for a newer leader",
        no_newer_while_gainable,
    ),
    Lemma(
        "NoNewerWhileLeased",
        "while a leader is in its lease, nobody has won a newer term",
        "its backing followers leave their promise early only for a newer leader",
        no_newer_while_leased,
    ),
    Lemma(
        "ClocksWithinDrift",
        "clocks are non-negative and any two differ by at most Drift (kept by Tick)",
        "relates a follower's deadline on its clock to the leader's lease on the leader's",
        clocks_within_drift,
    ),
    Lemma(
        "RoundStarted",
        "a leader's round began at or before its clock",
        "a heartbeat's stamp is never ahead of the clocks (StampPast)",
        round_started,
    ),
    Lemma(
        "LeaseByRound",
        "a leader's lease ends at most LeaseTicks after its current round began",
        "a new round's acknowledgements cover the whole lease",
        lease_by_round,
    ),
    Lemma(
        "DeadlineBound",
        "a non-leader's deadline is at most its clock + ElectionTicks",
        "a restart (deadline := clock + ElectionTicks) never shortens a promise",
        deadline_bound,
    ),
    Lemma(
        "StampPast",
        "a heartbeat's stamp is at most any clock + Drift",
        "so an acknowledging follower's deadline is at least stamp - Drift + ElectionTicks",
        stamp_past,
    ),
    Lemma(
        "SenderElected",
        "an AppendEntries request of term t comes from t's elected leader",
        "a follower leaves its promise early only for a newer elected leader",
        sender_elected,
    ),
    Lemma(
        "AckToElected",
        "a successful AppendEntries response of term t goes to t's elected leader",
        "a new leader has no acknowledgement of its term yet",
        ack_to_elected,
    ),
    Lemma(
        "RequestStampCurrent",
        "a leader's heartbeats of its term carry rounds no later than its current one",
        "acknowledgements of a new round come only after it began",
        request_stamp_current,
    ),
    Lemma(
        "AckStampCurrent",
        "acknowledgements to a leader of its term carry rounds no later than its current one",
        "a new round starts with no acknowledgement",
        ack_stamp_current,
    ),
)

LEASE_BACKED = Lemma(
    "LeaseBacked",
    "a leader in its lease is backed by a quorum of followers of its term inside their promise "
    "(deadline >= lease + drift)",
    "two leases' quorums meet in a server of both terms",
    lease_backed,
)

CONJUNCTS: tuple[Lemma, ...] = (LEASE_BACKED, *LEMMAS, *history.CONJUNCTS)

# The other conjuncts each conjunct's preservation assumes: per conjunct, the union over the
# actions of the unsat cores (`python -m electorate.proofs.graph lease`). With the whole
# invariant, BecomeLeader => NoNewerWhileGainable' took z3 up to 7 attempts and 27 CPU s under
# some seeds (the counterexample search of a long attempt's `unknown` included); with these,
# the slow obligations are proved at the first attempt under every seed tried (docs/proofs.md).
USES_BY_CONJUNCT: dict[str, tuple[str, ...]] = {
    "LeaseBacked": (
        "RoundAckInPromise",
        "NoNewerWhileLeased",
        "ClocksWithinDrift",
        "DeadlineBound",
        "SenderElected",
        "ElectedOnce",
        "LeaderWasElected",
    ),
    "RoundAckInPromise": (
        "NoNewerWhileGainable",
        "ClocksWithinDrift",
        "RoundStarted",
        "DeadlineBound",
        "SenderElected",
        "AckToElected",
        "AckStampCurrent",
        "ElectedOnce",
        "CandidateNotElected",
        "LeaderWasElected",
    ),
    "NoNewerWhileGainable": (
        "RoundAckInPromise",
        "AckToElected",
        "AckStampCurrent",
        "ElectedByQuorum",
        "VotesNotFuture",
        "CountedIsRecorded",
        "CandidateNotElected",
    ),
    "NoNewerWhileLeased": (
        "LeaseBacked",
        "NoNewerWhileGainable",
        "ClocksWithinDrift",
        "ElectedByQuorum",
        "VotesNotFuture",
        "CountedIsRecorded",
    ),
    "ClocksWithinDrift": (),
    "RoundStarted": (),
    "LeaseByRound": ("ClocksWithinDrift",),
    "DeadlineBound": ("ClocksWithinDrift", "RoundStarted", "LeaseByRound"),
    "StampPast": ("ClocksWithinDrift", "RoundStarted"),
    "SenderElected": ("LeaderWasElected",),
    "AckToElected": ("SenderElected",),
    "RequestStampCurrent": ("SenderElected", "CandidateNotElected"),
    "AckStampCurrent": ("AckToElected", "RequestStampCurrent", "CandidateNotElected"),
    "ElectedOnce": ("ElectedByQuorum", "OneVotePerTerm", "CountedIsRecorded"),
    "ElectedByQuorum": ("OneVotePerTerm", "CountedIsRecorded"),
    "OneVotePerTerm": ("VoteIsVotedFor",),
    "VoteIsVotedFor": ("VotesNotFuture",),
    "VotesNotFuture": (),
    "GrantIsRecorded": (),
    "CountedIsRecorded": ("GrantIsRecorded",),
    "CandidateNotElected": ("ElectedNotFuture",),
    "ElectedNotFuture": (),
    "LeaderWasElected": (),
}

# The actions the lease's mutants change (proofs.mutants) keep the whole invariant, so that a
# mutant's counterexample is one to the whole invariant, as before these lists.
WHOLE_INVARIANT_ACTIONS = ("ClockStep", "HandleAppendEntriesRequest", "HandleAppendEntriesResponse")

USES: tuple[tuple[str, tuple[str, ...]], ...] = (
    *USES_BY_CONJUNCT.items(),
    *[
        (f"{action}:{c.id}", tuple(d.id for d in CONJUNCTS))
        for action in WHOLE_INVARIANT_ACTIONS
        for c in CONJUNCTS
    ],
)

LEASE = Theory(
    "lease",
    "lease safety: never two servers in a lease at once, all N, under the drift hypothesis",
    LEASE_MODEL,
    CONJUNCTS,
    hypotheses=hypothesis,
    corollaries=(
        Corollary("LeaseSafety", "never two servers with is_leader true", lease_safety),
        Corollary("ElectionSafety", "two leaders of one term are one server", election_safety),
    ),
    known_bugs=("lease-too-long", "lease-from-receive-time"),
    uses=USES,
)

PROPERTY = Property(LEASE.name, LEASE.summary, lambda: theory_obligations(LEASE))
