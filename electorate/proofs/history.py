"""Raft's Election Safety as the paper states it (Figure 3): at most one leader can be elected
in a given term, ever, not only at the same time.

The statement needs history: the model tracks raft.tla's proof-only variables (proofs.vocab,
group `history`): `elected(i, t)`, i won an election in term t; `wq(t)`, the quorum that elected
term t's leader; `votedIn(n, t, c)`, n granted its vote to c in term t. They are written by
BecomeLeader and by a granted vote, never read by a guard, and never erased.

Why it is inductive: a voter grants at most one candidate per term (OneVotePerTerm, kept by
votedFor: VoteIsVotedFor, VotesNotFuture); every vote a candidate counts was cast for it in its
term (GrantIsRecorded, CountedIsRecorded); so the quorum electing term t voted for its winner
(ElectedByQuorum), and two winners' quorums would share a voter who voted twice.
"""

from __future__ import annotations

import z3

from electorate.proofs.core import Property
from electorate.proofs.induction import Corollary, Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma, election_safety, in_flight
from electorate.proofs.vocab import CANONICAL, RV_RESP, Model, Sorts, Vocab

HISTORY_MODEL = Model(CANONICAL.features, frozenset({"history"}))


def _nodes(sorts: Sorts, names: str) -> list[z3.ExprRef]:
    return [z3.Const(n, sorts.node) for n in names.split()]


def _electing(v: Vocab, i: z3.ExprRef) -> z3.BoolRef:
    R = v.roles
    return z3.And(*[v.role(i) != r for r in (R.follower, R.precandidate) if r is not None])


def elected_once(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, j = _nodes(s, "i j")
    t = z3.Int("t")
    elected = v.fn("elected")
    return z3.ForAll([i, j, t], z3.Implies(z3.And(elected(i, t), elected(j, t)), i == j))


def elected_by_quorum(s: Sorts, v: Vocab) -> z3.BoolRef:
    c, n = _nodes(s, "c n")
    t = z3.Int("t")
    voted = z3.And(v.fn("elected")(c, t), s.member(n, v.fn("wq")(t)))
    return z3.ForAll([c, n, t], z3.Implies(voted, v.fn("votedIn")(n, t, c)))


def one_vote_per_term(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, c1, c2 = _nodes(s, "n c1 c2")
    t = z3.Int("t")
    votes = v.fn("votedIn")
    return z3.ForAll([n, t, c1, c2], z3.Implies(z3.And(votes(n, t, c1), votes(n, t, c2)), c1 == c2))


def vote_is_voted_for(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, c = _nodes(s, "n c")
    current = v.fn("votedIn")(n, v.ct(n), c)
    return z3.ForAll([n, c], z3.Implies(current, z3.And(v.voted(n), v.vf(n) == c)))


def votes_not_future(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, c = _nodes(s, "n c")
    t = z3.Int("t")
    return z3.ForAll([n, t, c], z3.Implies(v.fn("votedIn")(n, t, c), t <= v.ct(n)))


def grant_is_recorded(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, c = _nodes(s, "n c")
    t = z3.Int("t")
    sent, extra = in_flight(v, RV_RESP, n, c, t, z3.BoolVal(True))
    return z3.ForAll([n, c, t, *extra], z3.Implies(sent, v.fn("votedIn")(n, t, c)))


def counted_is_recorded(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, n = _nodes(s, "i n")
    counted = z3.And(_electing(v, i), v.vg(i, n))
    return z3.ForAll([i, n], z3.Implies(counted, v.fn("votedIn")(n, v.ct(i), i)))


def elected_not_future(s: Sorts, v: Vocab) -> z3.BoolRef:
    (i,) = _nodes(s, "i")
    t = z3.Int("t")
    return z3.ForAll([i, t], z3.Implies(v.fn("elected")(i, t), t <= v.ct(i)))


def leader_was_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    (i,) = _nodes(s, "i")
    leads = v.role(i) == v.roles.leader
    return z3.ForAll([i], z3.Implies(leads, v.fn("elected")(i, v.ct(i))))


def candidate_not_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    (i,) = _nodes(s, "i")
    running = v.role(i) == v.roles.candidate
    return z3.ForAll([i], z3.Implies(running, z3.Not(v.fn("elected")(i, v.ct(i)))))


ELECTED_ONCE = Lemma(
    "ElectedOnce",
    "two servers elected in the same term are the same server (raft.tla's history: ever)",
    "the property itself",
    elected_once,
)

LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "ElectedByQuorum",
        "every member of the quorum recorded for term t voted in t for t's winner",
        "at BecomeLeader the new winner's quorum meets the recorded one",
        elected_by_quorum,
        ("BecomeLeader => ElectedOnce'",),
    ),
    Lemma(
        "OneVotePerTerm",
        "a server votes for at most one candidate per term",
        "the shared voter of two winners' quorums cannot have voted for both",
        one_vote_per_term,
        ("BecomeLeader => ElectedOnce'",),
    ),
    Lemma(
        "VoteIsVotedFor",
        "a vote cast in the voter's current term is its votedFor",
        "a grant (HandleRequestVoteRequest) checks votedFor, so it repeats that vote",
        vote_is_voted_for,
        ("HandleRequestVoteRequest => OneVotePerTerm'",),
    ),
    Lemma(
        "VotesNotFuture",
        "no vote is recorded in a term beyond the voter's current term",
        "a voter moving to a new term (Timeout, UpdateTerm) has cast no vote there yet",
        votes_not_future,
        ("Timeout => VoteIsVotedFor'", "UpdateTerm => VoteIsVotedFor'"),
    ),
    Lemma(
        "GrantIsRecorded",
        "a granted vote response in flight is a recorded vote of its term",
        "tallying a response counts a real vote (HandleRequestVoteResponse)",
        grant_is_recorded,
        ("HandleRequestVoteResponse => CountedIsRecorded'",),
    ),
    Lemma(
        "CountedIsRecorded",
        "every vote a candidate or leader counts was cast for it in its current term",
        "BecomeLeader's quorum of votesGranted voted for the winner",
        counted_is_recorded,
        ("BecomeLeader => ElectedByQuorum'",),
    ),
    Lemma(
        "CandidateNotElected",
        "a candidate has not yet won its current term",
        "nobody is elected twice, so a winner's recorded quorum is never overwritten",
        candidate_not_elected,
        ("BecomeLeader => ElectedByQuorum'",),
    ),
    Lemma(
        "ElectedNotFuture",
        "nobody has won a term beyond its current term",
        "a server timing out into a new term has not won it (CandidateNotElected)",
        elected_not_future,
        ("Timeout => CandidateNotElected'",),
    ),
    Lemma(
        "LeaderWasElected",
        "a leader was elected in its current term",
        "it makes ElectedOnce cover leaders in office (the corollary ElectionSafety)",
        leader_was_elected,
        ("UpdateTerm => LeaderWasElected'",),
    ),
)

CONJUNCTS: tuple[Lemma, ...] = (ELECTED_ONCE, *LEMMAS)

HISTORY = Theory(
    "election-history",
    "Raft's Election Safety (Figure 3): at most one leader is ever elected per term, all N",
    HISTORY_MODEL,
    CONJUNCTS,
    corollaries=(
        Corollary(
            "ElectionSafety",
            "two leaders with the same currentTerm are the same server",
            election_safety,
        ),
    ),
    known_bugs=(
        "quorum-half",
        "vote-twice",
        "forget-vote-on-restart",
        "stale-votes-counted",
        "leader-keeps-role",
        "no-term-increment",
        "no-log-check",
    ),
)

PROPERTY = Property(HISTORY.name, HISTORY.summary, lambda: theory_obligations(HISTORY))
