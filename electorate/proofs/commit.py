"""Every commit is backed by a quorum that stored the entry in its term (the `log` profile).

raft.tla's leader commits an index once a quorum's matchIndex reaches it and its entry is of the
leader's term (AdvanceCommitIndex); matchIndex comes from AppendEntries responses, which may be
stale. The Raft paper's notion of "committed" is "stored on a majority by the leader that
created it" (section 5.4.2): this proves that the spec's commit is that, for every cluster size.
The model tracks the commit bookkeeping (proofs.vocab, group `commit`: commitIndex, matchIndex,
the responses' mmatchIndex and the requests' mcommitIndex) and three history variables written
by it, never read by a guard:

* `stored(n, t, k)`: n, in term t, answered an AppendEntries request with success and a
  matchIndex >= k while its entry at k was of term t;
* `committed(k, t)`: a leader of term t advanced its commitIndex to k (the entry is of term t);
* `cq(k, t)`: the quorum whose matchIndex it counted.

CommittedStored: a committed entry (k, t) was stored in term t by every member of some quorum
(each acknowledged it, or is the leader of t). Why it is inductive: matchIndex[l][j] >= k of a
leader l, with l's entry at k of its term, means j stored it (MatchIsStored), because each
successful response carries a matchIndex up to which the responder's log was the leader's: the
request it answered agreed with the leader's log (LeaderHasSentEntries, LeaderHasSentPrev) and
so, by Log Matching, does every log that passed its check (proofs.logsafety).
"""

from __future__ import annotations

import z3

from electorate.proofs import logsafety
from electorate.proofs.core import Property
from electorate.proofs.induction import Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma
from electorate.proofs.logmodel import entry, ints, nodes, term_at
from electorate.proofs.vocab import AE_REQ, AE_RESP, CANONICAL, Expr, Model, Sorts, Vocab

COMMIT_MODEL = Model(CANONICAL.features, frozenset({"history", "log", "commit"}))
# A mutant of the relation (proofs.mutants.RELATION_MUTANTS): a commit counted without a quorum.
MUTANT = "commit-without-quorum"


def _request(
    s: Sorts, v: Vocab
) -> tuple[list[Expr], z3.BoolRef, Expr, Expr, Expr, tuple[Expr, ...]]:
    """An AppendEntries request in flight: bound variables, "in flight", source, term, "carries
    an entry", (prevLogIndex, prevLogTerm, entry term)."""
    src, dst = nodes(s, "qsrc qdst")
    t, a, b, et, ev, ci = ints("qt qa qb qet qev qci")
    carries = z3.Bool("qcarries")
    sent = v.msg(AE_REQ, src, dst, t, carries, a, b, et, ev, ci)
    return [src, dst, t, carries, a, b, et, ev, ci], sent, src, t, carries, (a, b, et)


def _response(s: Sorts, v: Vocab) -> tuple[list[Expr], z3.BoolRef, Expr, Expr, Expr, Expr]:
    """A successful AppendEntries response in flight: bound variables, "in flight", source,
    destination, term, mmatchIndex."""
    src, dst = nodes(s, "rsrc rdst")
    t, x, y, z, w, m = ints("rt rx ry rz rw rm")
    sent = v.msg(AE_RESP, src, dst, t, z3.BoolVal(True), x, y, z, w, m)
    return [src, dst, t, x, y, z, w, m], sent, src, dst, t, m


def committed_stored(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    k, t = ints("k t")
    q = z3.Const("q", s.quorum)
    backed = z3.ForAll(
        [n], z3.Implies(s.member(n, q), z3.Or(v.fn("stored")(n, t, k), v.fn("elected")(n, t)))
    )
    return z3.ForAll([k, t], z3.Implies(v.fn("committed")(k, t), z3.Exists([q], backed)))


def commit_quorum_stored(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    k, t = ints("k t")
    held = z3.And(v.fn("committed")(k, t), s.member(n, v.fn("cq")(k, t)))
    return z3.ForAll(
        [k, t, n], z3.Implies(held, z3.Or(v.fn("stored")(n, t, k), v.fn("elected")(n, t)))
    )


def match_is_stored(s: Sorts, v: Vocab) -> z3.BoolRef:
    lead, j = nodes(s, "lead j")
    (k,) = ints("k")
    t = v.ct(lead)
    held = z3.And(
        v.role(lead) == v.roles.leader,
        j != lead,
        k >= 1,
        k <= v.fn("mi")(lead, j),
        entry(v, lead, k, t),
    )
    return z3.ForAll([lead, j, k], z3.Implies(held, v.fn("stored")(j, t, k)))


def response_is_stored(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, src, dst, t, m = _response(s, v)
    (k,) = ints("k")
    leads = z3.And(v.role(dst) == v.roles.leader, v.ct(dst) == t)
    held = z3.And(sent, leads, k >= 1, k <= m, entry(v, dst, k, t))
    return z3.ForAll([*xs, k], z3.Implies(held, v.fn("stored")(src, t, k)))


def match_in_log(s: Sorts, v: Vocab) -> z3.BoolRef:
    lead, j = nodes(s, "lead j")
    held = v.role(lead) == v.roles.leader
    return z3.ForAll([lead, j], z3.Implies(held, v.fn("mi")(lead, j) <= v.fn("len")(lead)))


def response_in_log(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, _src, dst, t, m = _response(s, v)
    leads = z3.And(v.role(dst) == v.roles.leader, v.ct(dst) == t)
    return z3.ForAll(xs, z3.Implies(z3.And(sent, leads), m <= v.fn("len")(dst)))


def response_to_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, _src, dst, t, _m = _response(s, v)
    return z3.ForAll(xs, z3.Implies(sent, v.fn("elected")(dst, t)))


def length_not_negative(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    return z3.ForAll([n], v.fn("len")(n) >= 0)


def request_from_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, src, t, _carries, _ = _request(s, v)
    return z3.ForAll(xs, z3.Implies(sent, v.fn("elected")(src, t)))


def leader_has_sent(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, src, t, carries, (a, b, et) = _request(s, v)
    (k,) = ints("k")
    leads = z3.And(sent, v.role(src) == v.roles.leader, v.ct(src) == t, k == a + 1)
    prev = z3.And(a <= v.fn("len")(src), term_at(v, src, a) == b)
    carried = z3.Implies(carries, entry(v, src, k, et))
    return z3.ForAll([*xs, k], z3.Implies(leads, z3.And(prev, carried)))


PROPERTY_LEMMA = Lemma(
    "CommittedStored",
    "an entry committed in term t was stored in term t by every member of some quorum (each "
    "acknowledged it, or is the leader of t)",
    "the property itself",
    committed_stored,
)

LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "CommitQuorumStored",
        "the same with the quorum the commit counted (history cq)",
        "a witness for the property's quorum, kept as commits repeat",
        commit_quorum_stored,
    ),
    Lemma(
        "MatchIsStored",
        "a leader's matchIndex for j reaches an entry of the leader's term only if j stored it",
        "AdvanceCommitIndex counts matchIndex",
        match_is_stored,
    ),
    Lemma(
        "ResponseIsStored",
        "a successful response to a leader of its term, with matchIndex m, means its sender "
        "stored every entry of that term up to m in the leader's log",
        "HandleAppendEntriesResponse sets matchIndex from it",
        response_is_stored,
    ),
    Lemma(
        "MatchInLog",
        "a leader's matchIndex is at most the length of its log",
        "ClientRequest: the appended entry is beyond every matchIndex",
        match_in_log,
    ),
    Lemma(
        "ResponseInLog",
        "a successful response's matchIndex is at most the length of the log of the leader it "
        "answers, in its term",
        "HandleAppendEntriesResponse keeps MatchInLog",
        response_in_log,
    ),
    Lemma(
        "ResponseToElected",
        "a successful AppendEntries response of term t goes to the server elected in t",
        "a new leader has no responses of its term yet, so its matchIndex starts from 0",
        response_to_elected,
    ),
    Lemma(
        "LengthNotNegative",
        "every log's length is at least 0",
        "BecomeLeader: matchIndex 0 is within the new leader's log",
        length_not_negative,
    ),
    Lemma(
        "RequestFromElected",
        "an AppendEntries request of term t comes from the server elected in t",
        "a new leader has sent no requests of its term yet",
        request_from_elected,
    ),
    Lemma(
        "LeaderHasSent",
        "a leader's log holds what it sent in its term: the term at prevLogIndex and the entry",
        "a log that passed the request's check agrees with the leader's (Log Matching)",
        leader_has_sent,
    ),
)

CONJUNCTS: tuple[Lemma, ...] = (PROPERTY_LEMMA, *LEMMAS, *logsafety.CONJUNCTS)

COMMIT = Theory(
    "commit-stored",
    "CommittedStored for the log profile: every commit was stored by a quorum in its term, all N",
    COMMIT_MODEL,
    CONJUNCTS,
    known_bugs=(MUTANT,),
)

PROPERTY = Property(COMMIT.name, COMMIT.summary, lambda: theory_obligations(COMMIT))
