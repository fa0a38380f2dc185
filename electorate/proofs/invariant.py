"""The inductive invariant for election safety: the safety property and eight lemmas.

Each lemma has a stable id, its statement in words and why it is needed (which step it makes go
through). tests/proofs check that every lemma is necessary: without it some (action, conjunct)
obligation has a counterexample to induction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import z3

from electorate.proofs.vocab import RV_RESP, Sorts, Vocab, holds_quorum


@dataclass(frozen=True)
class Lemma:
    id: str
    words: str
    why: str
    formula: Callable[[Sorts, Vocab], z3.BoolRef]
    # Obligations that fail when this lemma is left out (tests check each one does).
    broken_without: tuple[str, ...] = ()


def _nodes(sorts: Sorts, names: str) -> list[z3.ExprRef]:
    return [z3.Const(n, sorts.node) for n in names.split()]


def in_flight(
    v: Vocab, ty: z3.ExprRef, src: z3.ExprRef, dst: z3.ExprRef, t: z3.ExprRef, g: z3.ExprRef
) -> tuple[z3.BoolRef, list[z3.ExprRef]]:
    """ "This message is in flight", and the extra bound variables it needs: a model whose
    messages carry a send-time stamp (the lease) or a log payload (the logs) quantifies over
    them."""
    extra = [z3.Int("mstamp")] if v.stamped else []
    if v.logged:
        extra += [z3.Int(f"mlog{k}") for k in range(4)]
    if v.indexed:
        extra.append(z3.Int("mindex"))
    return v.msg(ty, src, dst, t, g, *extra), extra


def _electing(v: Vocab, i: z3.ExprRef) -> z3.BoolRef:
    """Candidate or leader: the roles whose votesGranted counts for the current term (a
    follower's or pre-candidate's tally is never read)."""
    R = v.roles
    return z3.And(*[v.role(i) != r for r in (R.follower, R.precandidate) if r is not None])


def election_safety(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, j = _nodes(s, "i j")
    both = z3.And(v.role(i) == v.roles.leader, v.role(j) == v.roles.leader, v.ct(i) == v.ct(j))
    return z3.ForAll([i, j], z3.Implies(both, i == j))


def leader_has_quorum(s: Sorts, v: Vocab) -> z3.BoolRef:
    (i,) = _nodes(s, "i")
    return z3.ForAll([i], z3.Implies(v.role(i) == v.roles.leader, holds_quorum(s, v, i)))


def votes_disjoint(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, j, n = _nodes(s, "i j n")
    rivals = z3.And(i != j, _electing(v, i), _electing(v, j), v.ct(i) == v.ct(j))
    return z3.ForAll([i, j, n], z3.Implies(z3.And(rivals, v.vg(i, n)), z3.Not(v.vg(j, n))))


def counted_vote_exclusive(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, n, c = _nodes(s, "i n c")
    counted = z3.And(_electing(v, i), v.vg(i, n))
    granted, extra = in_flight(v, RV_RESP, n, c, v.ct(i), z3.BoolVal(True))
    return z3.ForAll([i, n, c, *extra], z3.Implies(z3.And(counted, granted), c == i))


def counted_voter_term(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, n = _nodes(s, "i n")
    counted = z3.And(_electing(v, i), v.vg(i, n))
    return z3.ForAll([i, n], z3.Implies(counted, v.ct(i) <= v.ct(n)))


def counted_vote_is_vote(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, n = _nodes(s, "i n")
    counted = z3.And(_electing(v, i), v.vg(i, n), v.ct(n) == v.ct(i))
    return z3.ForAll([i, n], z3.Implies(counted, z3.And(v.voted(n), v.vf(n) == i)))


def one_grant_per_term(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, c1, c2 = _nodes(s, "n c1 c2")
    t = z3.Int("t")
    yes = z3.BoolVal(True)
    one, extra = in_flight(v, RV_RESP, n, c1, t, yes)
    other = (
        v.msg(RV_RESP, n, c2, t, yes, z3.Int("mstamp2")) if extra else v.msg(RV_RESP, n, c2, t, yes)
    )
    both = z3.And(one, other)
    more = [z3.Int("mstamp2")] if extra else []
    return z3.ForAll([n, c1, c2, t, *extra, *more], z3.Implies(both, c1 == c2))


def response_term_bounded(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, c = _nodes(s, "n c")
    t, g = z3.Int("t"), z3.Bool("g")
    sent, extra = in_flight(v, RV_RESP, n, c, t, g)
    return z3.ForAll([n, c, t, g, *extra], z3.Implies(sent, t <= v.ct(n)))


def grant_is_vote(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, c = _nodes(s, "n c")
    t = z3.Int("t")
    sent, extra = in_flight(v, RV_RESP, n, c, t, z3.BoolVal(True))
    current = z3.And(sent, v.ct(n) == t)
    return z3.ForAll([n, c, t, *extra], z3.Implies(current, z3.And(v.voted(n), v.vf(n) == c)))


SAFETY = Lemma(
    "ElectionSafety",
    "two leaders with the same currentTerm are the same server",
    "the property itself",
    election_safety,
)

LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "LeaderHasQuorum",
        "every leader's votesGranted contains a quorum",
        "BecomeLeader checks it once; safety needs it for the leader already in office",
        leader_has_quorum,
        ("BecomeLeader => ElectionSafety'",),
    ),
    Lemma(
        "VotesDisjoint",
        "two different candidates/leaders of the same term have disjoint votesGranted",
        "with LeaderHasQuorum and the quorum axiom this gives safety at BecomeLeader",
        votes_disjoint,
        ("BecomeLeader => ElectionSafety'",),
    ),
    Lemma(
        "CountedVoteExclusive",
        "once a candidate/leader has counted n's vote, no granted response from n of that term "
        "is in flight to anyone else",
        "tallying a response (HandleRequestVoteResponse) must not put n into a rival's votes",
        counted_vote_exclusive,
        ("HandleRequestVoteResponse => VotesDisjoint'",),
    ),
    Lemma(
        "CountedVoterTerm",
        "a candidate's/leader's term is <= the term of every server it counted",
        "a voter moving to a newer term (Timeout, UpdateTerm) forgets its vote safely",
        counted_voter_term,
        (
            "Timeout => CountedVoteIsVote'",
            "UpdateTerm => CountedVoteIsVote'",
        ),
    ),
    Lemma(
        "CountedVoteIsVote",
        "a counted voter still in the candidate's term has votedFor = that candidate",
        "the voter then refuses anyone else in that term (HandleRequestVoteRequest)",
        counted_vote_is_vote,
        ("HandleRequestVoteRequest => CountedVoteExclusive'",),
    ),
    Lemma(
        "OneGrantPerTerm",
        "granted vote responses from one server in one term all go to the same candidate",
        "a response being tallied is the only live grant of its voter and term",
        one_grant_per_term,
        ("HandleRequestVoteResponse => CountedVoteExclusive'",),
    ),
    Lemma(
        "ResponseTermBounded",
        "a vote response's term is <= its sender's currentTerm",
        "a voter that moved on has no in-flight grant for its new term",
        response_term_bounded,
        (
            "Timeout => GrantIsVote'",
            "UpdateTerm => GrantIsVote'",
            "HandleRequestVoteResponse => CountedVoterTerm'",
        ),
    ),
    Lemma(
        "GrantIsVote",
        "a granted response of the sender's current term matches the sender's votedFor",
        "a new grant and the grants in flight agree on the candidate (OneGrantPerTerm)",
        grant_is_vote,
        (
            "HandleRequestVoteRequest => OneGrantPerTerm'",
            "HandleRequestVoteResponse => CountedVoteIsVote'",
        ),
    ),
)

CONJUNCTS: tuple[Lemma, ...] = (SAFETY, *LEMMAS)


def conjunct(name: str) -> Lemma:
    for lemma in CONJUNCTS:
        if lemma.id == name:
            return lemma
    raise ValueError(f"unknown conjunct {name!r}; known: {', '.join(c.id for c in CONJUNCTS)}")
