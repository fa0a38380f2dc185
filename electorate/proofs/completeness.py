"""A leader's log covers its voters' logs (the `log` profile), for every cluster size.

The spec's `LeaderLogCoversVoters` (spec/properties.py): a leader's log is at least as up to date
as the log of every server that voted for it in its current term and is still in that term.
This is the step of Raft's Leader Completeness argument (the paper's section 5.4.3) that the
up-to-date check of a vote buys: a voter that holds an entry passes it on to the leader it
elects. The model is Log Matching's (proofs.logsafety: the logs and the election history
tracked), so the same tie to the spec's log actions covers it.

Why it is inductive: a vote is granted only to a request whose lastLogIndex and lastLogTerm are
at least as up to date as the voter's log (the up-to-date check), and a candidate's or leader's
log is at least as up to date as every vote request it sent in its term (VoteRequestCovered: a
candidate's log does not change, a leader's only grows by entries of its term). After the vote
the voter's log changes only by AppendEntries of its term, sent by that term's one leader
(AppendFromElected, the history's ElectedOnce), whose log holds the entry sent
(LeaderHasSentEntries); removing a last entry only makes a log less up to date (SortedTerms).
While the candidate has not won, nobody has (CandidateLogCoversVoters is stated for a term no
one won yet), so no AppendEntries of its term exists to change its voters' logs.
"""

from __future__ import annotations

import z3

from electorate.proofs import history
from electorate.proofs.core import Property
from electorate.proofs.induction import Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma
from electorate.proofs.logmodel import has_entry, ints, last_term, nodes
from electorate.proofs.logsafety import LOG_MODEL, prev_in_range
from electorate.proofs.vocab import AE_REQ, RV_REQ, Expr, Sorts, Vocab

# The spec's bug variant that grants votes without the up-to-date check (spec.bugs), mirrored
# in the encoding's HandleRequestVoteRequest (proofs.model).
MUTANT = "no-log-check"


def covers(v: Vocab, a: Expr, last_index: Expr, last_term_: Expr) -> z3.BoolRef:
    """a's log is at least as up to date as a log whose last entry is (last_index, last_term_)
    (Raft section 5.4.1: the last term first, then the length)."""
    mine = last_term(v, a)
    return z3.Or(mine > last_term_, z3.And(mine == last_term_, v.fn("len")(a) >= last_index))


def covers_log(v: Vocab, a: Expr, b: Expr) -> z3.BoolRef:
    """UpToDate(log[a], log[b])."""
    return covers(v, a, v.fn("len")(b), last_term(v, b))


def _voter(v: Vocab, n: Expr, c: Expr) -> z3.BoolRef:
    """n voted for c in c's current term and is still in it."""
    return z3.And(v.voted(n), v.vf(n) == c, v.ct(n) == v.ct(c))


def leader_log_covers_voters(s: Sorts, v: Vocab) -> z3.BoolRef:
    c, n = nodes(s, "c n")
    held = z3.And(v.role(c) == v.roles.leader, _voter(v, n, c))
    return z3.ForAll([c, n], z3.Implies(held, covers_log(v, c, n)))


def candidate_log_covers_voters(s: Sorts, v: Vocab) -> z3.BoolRef:
    c, n, w = nodes(s, "c n w")
    unwon = z3.ForAll([w], z3.Not(v.fn("elected")(w, v.ct(c))))
    held = z3.And(v.role(c) == v.roles.candidate, _voter(v, n, c), unwon)
    return z3.ForAll([c, n], z3.Implies(held, covers_log(v, c, n)))


def _vote_request(s: Sorts, v: Vocab) -> tuple[list[Expr], z3.BoolRef, Expr, Expr, Expr, Expr]:
    """A vote request in flight: its bound variables, "in flight", source, term and payload."""
    c, d = nodes(s, "rc rd")
    t, li, lt, x, y = ints("rt rli rlt rx ry")
    index = [z3.Int("rix")] if v.indexed else []  # proofs.commit's models
    sent = v.msg(RV_REQ, c, d, t, z3.BoolVal(False), li, lt, x, y, *index)
    return [c, d, t, li, lt, x, y, *index], sent, c, t, li, lt


def vote_request_not_ahead(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, c, t, _li, _lt = _vote_request(s, v)
    return z3.ForAll(xs, z3.Implies(sent, t <= v.ct(c)))


def vote_request_covered(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, c, t, li, lt = _vote_request(s, v)
    running = z3.Or(v.role(c) == v.roles.candidate, v.role(c) == v.roles.leader)
    held = z3.And(sent, v.ct(c) == t, running)
    return z3.ForAll(xs, z3.Implies(held, covers(v, c, li, lt)))


def voted_for_not_ahead(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    return z3.ForAll([n], z3.Implies(v.voted(n), v.ct(n) <= v.ct(v.vf(n))))


def _append_request(
    s: Sorts, v: Vocab, carries: z3.BoolRef | None = None
) -> tuple[list[Expr], z3.BoolRef, Expr, Expr, tuple[Expr, Expr, Expr]]:
    """An AppendEntries request in flight (carrying an entry unless `carries` is given): its
    bound variables, "in flight", source, term and (prevLogIndex, prevLogTerm, entry term)."""
    src, dst = nodes(s, "asrc adst")
    t, a, b, et, ev = ints("at aa ab aet aev")
    flag = z3.BoolVal(True) if carries is None else carries
    index = [z3.Int("aix")] if v.indexed else []  # proofs.commit's models
    sent = v.msg(AE_REQ, src, dst, t, flag, a, b, et, ev, *index)
    xs = [src, dst, t, a, b, et, ev, *index]
    if carries is not None:
        xs.append(carries)
    return xs, sent, src, t, (a, b, et)


def append_from_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, src, t, _ = _append_request(s, v, z3.Bool("acarries"))
    return z3.ForAll(xs, z3.Implies(sent, v.fn("elected")(src, t)))


def leader_has_sent_entries(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, src, t, (a, _b, et) = _append_request(s, v)
    (k,) = ints("k")
    held = z3.And(sent, k == a + 1, v.role(src) == v.roles.leader, v.ct(src) == t)
    return z3.ForAll(
        [*xs, k], z3.Implies(held, z3.And(has_entry(v, src, k), v.fn("lterm")(src, k) == et))
    )


def sorted_terms(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    j, k = ints("j k")
    lterm = v.fn("lterm")
    held = z3.And(j >= 1, j <= k, k <= v.fn("len")(n))
    return z3.ForAll([n, j, k], z3.Implies(held, lterm(n, j) <= lterm(n, k)))


def prev_term_below_entry(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, _src, t, (_a, b, et) = _append_request(s, v)
    return z3.ForAll(xs, z3.Implies(sent, z3.And(b <= et, et <= t)))


def entry_terms_bounded(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    (k,) = ints("k")
    term = v.fn("lterm")(n, k)
    held = has_entry(v, n, k)
    return z3.ForAll([n, k], z3.Implies(held, z3.And(term >= 1, term <= v.ct(n))))


def terms_positive(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    xs, sent, _src, _t, (_a, _b, et) = _append_request(s, v)
    logs = z3.ForAll([n], z3.And(v.ct(n) >= 1, v.fn("len")(n) >= 0))
    return z3.And(logs, z3.ForAll(xs, z3.Implies(sent, et >= 1)))


PROPERTY_LEMMA = Lemma(
    "LeaderLogCoversVoters",
    "a leader's log is at least as up to date as the log of every server that voted for it in "
    "its current term and is still in that term",
    "the property itself",
    leader_log_covers_voters,
)

LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "CandidateLogCoversVoters",
        "the same for a candidate, while nobody has won its term",
        "BecomeLeader: the new leader's voters were a candidate's voters",
        candidate_log_covers_voters,
    ),
    Lemma(
        "VoteRequestNotAhead",
        "a vote request's term is at most its sender's current term",
        "a candidate of a new term has no vote requests of that term yet (Timeout)",
        vote_request_not_ahead,
    ),
    Lemma(
        "VoteRequestCovered",
        "a candidate's or leader's log is at least as up to date as the lastLogIndex and "
        "lastLogTerm of every vote request it sent in its current term",
        "a vote granted after the up-to-date check is a vote for a log at least as up to date",
        vote_request_covered,
    ),
    Lemma(
        "VotedForNotAhead",
        "a server's current term is at most the current term of the server it voted for",
        "a server starting a new election (Timeout) has no voters in its new term yet",
        voted_for_not_ahead,
    ),
    Lemma(
        "AppendFromElected",
        "an AppendEntries request was sent by a server elected in the request's term",
        "a voter's log changes in its term only by entries of that term's one leader",
        append_from_elected,
    ),
    Lemma(
        "LeaderHasSentEntries",
        "an entry a leader sent in its current term is in its log at the same index",
        "a voter taking that entry keeps the leader's log at least as up to date",
        leader_has_sent_entries,
    ),
    Lemma(
        "SortedTerms",
        "the terms in a log never decrease with the index",
        "removing a last entry leaves a log less up to date; an appended entry is the last term",
        sorted_terms,
    ),
    Lemma(
        "PrevTermBelowEntry",
        "an AppendEntries entry's term is at least its prevLogTerm and at most the request's term",
        "a follower appending it keeps its log sorted and its terms no newer than its own",
        prev_term_below_entry,
    ),
    Lemma(
        "EntryTermsBounded",
        "every entry's term is at least 1 and at most its holder's current term",
        "a leader's new entry has the largest term of every log in its term",
        entry_terms_bounded,
    ),
    Lemma(
        "TermsPositive",
        "current terms are at least 1, log lengths at least 0, entries in flight of term >= 1",
        "an empty log is the least up to date of all",
        terms_positive,
    ),
    Lemma(
        "PrevInRange",
        "an AppendEntries request's prevLogIndex is at least 0, and its prevLogTerm is 0 when "
        "prevLogIndex is",
        "an appended entry sits at an index of a log, after the empty prefix",
        prev_in_range,
    ),
)

CONJUNCTS: tuple[Lemma, ...] = (PROPERTY_LEMMA, *LEMMAS, *history.CONJUNCTS)

VOTERS = Theory(
    "leader-covers-voters",
    "LeaderLogCoversVoters for the log profile: a leader's log covers its voters', all N",
    LOG_MODEL,
    CONJUNCTS,
    known_bugs=(MUTANT,),
)

PROPERTY = Property(VOTERS.name, VOTERS.summary, lambda: theory_obligations(VOTERS))
