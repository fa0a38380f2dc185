"""Log Matching for the spec's `log` profile, for every cluster size.

Log Matching (Raft, Figure 3): if two logs contain an entry with the same index and term, the
logs are identical in all entries up to that index. The model is the canonical one with the
logs tracked (proofs.logmodel) and the election history (proofs.history): an entry of term t is
created only by the one server ever elected in t, while it leads t, at the end of its log.

Why it is inductive: a leader appends an entry of its term where no log and no message has an
entry of that term (LeaderHasTermEntries, LeaderHasTermMessages: every entry of its term is
already in its own log, so none sits beyond its end), and a new leader starts with no entry of
its term anywhere (EntryTermElected: an entry's term was won by someone, and the new leader is
the only winner of its term). A follower appends an entry only after checking the entry before
it (prevLogIndex, prevLogTerm), and the message agrees with every log holding that entry
(MessageMatchesLogs) and with every other message carrying it (MessagesAgree); removing a last
entry keeps every property. The election history's lemmas (proofs.history) give the one
winner per term.
"""

from __future__ import annotations

import z3

from electorate.proofs import history
from electorate.proofs.core import Property
from electorate.proofs.induction import Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma
from electorate.proofs.logmodel import entry, has_entry, ints, nodes, term_at
from electorate.proofs.vocab import AE_REQ, CANONICAL, Expr, Model, Sorts, Vocab

LOG_MODEL = Model(CANONICAL.features, frozenset({"history", "log"}))
# A mutant of the relation only (proofs.model, proofs.mutants.RELATION_MUTANTS), with no spec
# variant: a leader that overwrites its last entry instead of appending.
MUTANT = "leader-overwrites"
# Another: a follower that appends an entry without the consistency check on the entry before
# it (prevLogIndex, prevLogTerm).
SKIP_CHECK = "append-skips-check"


def _carrying(s: Sorts, v: Vocab, tag: str) -> tuple[list[Expr], z3.BoolRef, tuple[Expr, ...]]:
    """An AppendEntries request in flight that carries an entry: its bound variables, the
    "in flight" formula and (prevLogIndex, prevLogTerm, entry term, entry value)."""
    src, dst = nodes(s, f"src{tag} dst{tag}")
    mt, a, b, et, ev = ints(f"mt{tag} a{tag} b{tag} et{tag} ev{tag}")
    index = [z3.Int(f"mix{tag}")] if v.indexed else []  # proofs.commit's models
    sent = v.msg(AE_REQ, src, dst, mt, z3.BoolVal(True), a, b, et, ev, *index)
    return [src, dst, mt, a, b, et, ev, *index], sent, (a, b, et, ev)


def log_matching(s: Sorts, v: Vocab) -> z3.BoolRef:
    n1, n2 = nodes(s, "n1 n2")
    k, j = ints("k j")
    lterm, lval = v.fn("lterm"), v.fn("lval")
    same_entry = z3.And(has_entry(v, n1, k), has_entry(v, n2, k), lterm(n1, k) == lterm(n2, k))
    before = z3.And(j >= 1, j <= k)
    equal = z3.And(lterm(n1, j) == lterm(n2, j), lval(n1, j) == lval(n2, j))
    return z3.ForAll([n1, n2, k, j], z3.Implies(z3.And(same_entry, before), equal))


def message_matches_logs(s: Sorts, v: Vocab) -> z3.BoolRef:
    # The entry's index is a bound variable k = a + 1, not a term a + 1 under a function:
    # arithmetic inside function arguments makes z3's model search (vacuity, mutants) fail.
    xs, sent, (a, b, et, ev) = _carrying(s, v, "")
    (n,) = nodes(s, "n")
    (k,) = ints("k")
    held = z3.And(k == a + 1, entry(v, n, k, et))
    agree = z3.And(v.fn("lval")(n, k) == ev, term_at(v, n, a) == b)
    return z3.ForAll([*xs, n, k], z3.Implies(z3.And(sent, held), agree))


def messages_agree(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, (a, b, et, ev) = _carrying(s, v, "1")
    ys, sent2, (a2, b2, et2, ev2) = _carrying(s, v, "2")
    same = z3.And(sent, sent2, a == a2, et == et2)
    return z3.ForAll([*xs, *ys], z3.Implies(same, z3.And(ev == ev2, b == b2)))


def prev_in_range(s: Sorts, v: Vocab) -> z3.BoolRef:
    src, dst = nodes(s, "src dst")
    mt, a, b, et, ev = ints("mt a b et ev")
    flag = z3.Bool("carries")
    index = [z3.Int("mix")] if v.indexed else []  # proofs.commit's models
    sent = v.msg(AE_REQ, src, dst, mt, flag, a, b, et, ev, *index)
    ok = z3.And(a >= 0, z3.Implies(a == 0, b == 0))
    return z3.ForAll([src, dst, mt, flag, a, b, et, ev, *index], z3.Implies(sent, ok))


def leader_has_term_entries(s: Sorts, v: Vocab) -> z3.BoolRef:
    lead, n = nodes(s, "lead n")
    (k,) = ints("k")
    t = v.ct(lead)
    held = z3.And(v.role(lead) == v.roles.leader, entry(v, n, k, t))
    return z3.ForAll([lead, n, k], z3.Implies(held, entry(v, lead, k, t)))


def leader_has_term_messages(s: Sorts, v: Vocab) -> z3.BoolRef:
    xs, sent, (a, _b, et, _ev) = _carrying(s, v, "")
    (lead,) = nodes(s, "lead")
    (k,) = ints("k")
    held = z3.And(sent, k == a + 1, v.role(lead) == v.roles.leader, et == v.ct(lead))
    return z3.ForAll([*xs, lead, k], z3.Implies(held, entry(v, lead, k, et)))


def entry_term_elected(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, w, w2 = nodes(s, "n w w2")
    (k,) = ints("k")
    elected = v.fn("elected")
    in_log = z3.ForAll(
        [n, k],
        z3.Implies(has_entry(v, n, k), z3.Exists([w], elected(w, v.fn("lterm")(n, k)))),
    )
    xs, sent, (_a, _b, et, _ev) = _carrying(s, v, "")
    in_msg = z3.ForAll(xs, z3.Implies(sent, z3.Exists([w2], elected(w2, et))))
    return z3.And(in_log, in_msg)


LOG_MATCHING_LEMMA = Lemma(
    "LogMatching",
    "two logs with an entry of the same index and term are identical up to that index",
    "the property itself",
    log_matching,
)

LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "MessageMatchesLogs",
        "an AppendEntries entry in flight agrees with every log holding an entry of its index "
        "and term: the same value, and the same term at the index before",
        "a follower appending the entry after its consistency check extends a matching prefix",
        message_matches_logs,
        ("AppendEntries => MessagesAgree'",),
    ),
    Lemma(
        "MessagesAgree",
        "two AppendEntries entries in flight of the same index and term have the same value "
        "and the same prevLogTerm",
        "a log taking one of them still agrees with the other (MessageMatchesLogs)",
        messages_agree,
        ("HandleAppendEntriesRequest => MessageMatchesLogs'",),
    ),
    Lemma(
        "PrevInRange",
        "an AppendEntries request's prevLogIndex is at least 0, and its prevLogTerm is 0 when "
        "prevLogIndex is",
        "the entry it carries sits at an index of a log (1 or more), after the empty prefix",
        prev_in_range,
        ("HandleAppendEntriesRequest => MessageMatchesLogs'",),
    ),
    Lemma(
        "LeaderHasTermEntries",
        "every log entry of a leader's term is in the leader's log, at the same index",
        "a leader appends at the end of its log, where no entry of its term can be",
        leader_has_term_entries,
        ("ClientRequest => LogMatching'",),
    ),
    Lemma(
        "LeaderHasTermMessages",
        "every AppendEntries entry in flight of a leader's term is in the leader's log",
        "no message carries an entry where the leader appends (MessageMatchesLogs)",
        leader_has_term_messages,
        ("ClientRequest => MessageMatchesLogs'",),
    ),
    Lemma(
        "EntryTermElected",
        "the term of every entry, in a log or in flight, was won by some server",
        "a new leader finds no entry of its term anywhere: its term's only winner is itself",
        entry_term_elected,
        ("BecomeLeader => LeaderHasTermEntries'",),
    ),
)

# Each lemma is necessary: without it, the obligation in its `broken_without` has a
# counterexample to induction (tests/proofs). The ordinary attempts answer `unknown` for most of
# them (model finding among integer-indexed logs); the search among two servers in term 1
# (proofs.cti, `Settings.search_first`) finds each in 0.1 to 5 s.
CONJUNCTS: tuple[Lemma, ...] = (LOG_MATCHING_LEMMA, *LEMMAS, *history.CONJUNCTS)

LOG_MATCHING = Theory(
    "log-matching",
    "Log Matching for the log profile: same index and term => same prefix, all N",
    LOG_MODEL,
    CONJUNCTS,
    known_bugs=(MUTANT, SKIP_CHECK),
)

PROPERTY = Property(
    LOG_MATCHING.name, LOG_MATCHING.summary, lambda: theory_obligations(LOG_MATCHING)
)
