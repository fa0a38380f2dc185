"""Every server's commitIndex points at committed entries (the `log` profile), for every N.

A leader learns its commitIndex by committing (raft.tla's AdvanceCommitIndex, recorded by the
history of proofs.commit: `committed(k, t)`); a follower learns it from an AppendEntries
request it is already done with, as the request's mcommitIndex, which its sender computed as
Min({commitIndex, lastEntry}). CommitIndexCommitted: a server's entry at its commitIndex c is
the entry at c (term and value) in the log of the leader w of a term t <= its own current term,
which holds a committed entry (k, t) with k >= c. With Log Matching (proofs.logsafety), the
server's whole log up to c is then w's up to c, which is the committed prefix: every entry a
server counts as committed is an entry of a commit, of a term no later than its own.

The proof assumes the invariant of Leader Completeness (proofs.leadercompleteness), which that
property proves inductive for every N: every state the spec reaches satisfies it, so assuming
it in the pre-state of each step (and in the post-state, also reached) is sound: relative
induction. It is needed: a follower keeps its commitIndex when it moves to a new term, and a
leader of that term that lacked a committed entry would make it remove one (the conflict branch
of HandleAppendEntriesRequest), which is what Leader Completeness excludes. The obligations
assume three of its conjuncts (USED) and four facts about committed entries (DERIVED), each
proved from a few of its conjuncts in one state (DERIVED_FROM: for a committed (k, t), what
Leader Completeness's lemmas state for an entry a quorum may still store), so that z3 need not
find the quorum itself; CommittedHeld is assumed in the post-state too.

Why the two conjuncts are inductive: a request's mcommitIndex is at most its last entry and at
most its sender's commitIndex, which is committed; the request's (prevLogIndex, prevLogTerm) then
either lies inside the committed prefix (and agrees with it: the sender, a leader of a term >= t,
holds the committed (k, t), by Leader Completeness, so its log up to k is w's) or lies beyond k
with a term >= t (terms are sorted along a log). A follower that passes the check holds that
entry: inside the prefix, Log Matching makes its log w's up to there; beyond k, it holds (k, t)
too (a log holding an entry of a later term, or of term t after k, holds the committed entry),
and Log Matching again. A follower's log keeps its committed prefix: a request of its term agrees
with every log holding a committed entry at the indexes up to it, so a conflict never removes a
committed entry, and w's log never changes up to k.
"""

from __future__ import annotations

import z3

from electorate.proofs import cti, leadercompleteness
from electorate.proofs.core import Obligation, Outcome, Property, Settings, expect_unsat
from electorate.proofs.induction import Corollary, Theory, axioms, context, lemma_formula, tuned
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma
from electorate.proofs.logmodel import entry, ints, nodes, term_at
from electorate.proofs.sanity import Formula
from electorate.proofs.vocab import AE_REQ, Expr, Sorts, Vocab

MODEL = leadercompleteness.MODEL
# The property whose proved invariant this proof assumes (module docstring).
BASIS = leadercompleteness.LEADER_COMPLETENESS
# A mutant of the relation (proofs.mutants.RELATION_MUTANTS): a leader sends its commitIndex as
# mcommitIndex without the Min with the request's last entry, so a follower takes a
# commitIndex beyond what it matched.
MUTANT = "commit-index-unbounded"


def _committed_at(v: Vocab, k: Expr, t: Expr, w: Expr) -> z3.BoolRef:
    """(k, t) was committed and w, the leader of t, holds it."""
    return z3.And(v.fn("committed")(k, t), v.fn("elected")(w, t), entry(v, w, k, t))


def commit_index_committed(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, w = nodes(s, "n w")
    k, t = ints("k t")
    c = v.fn("ci")(n)
    lterm = v.fn("lterm")
    same = z3.And(lterm(w, c) == lterm(n, c), v.fn("lval")(w, c) == v.fn("lval")(n, c))
    witness = z3.And(_committed_at(v, k, t, w), c <= k, t <= v.ct(n), same)
    held = z3.And(c <= v.fn("len")(n), z3.Exists([k, t, w], witness))
    return z3.ForAll([n], z3.Implies(c >= 1, held))


def request_commit_index_committed(s: Sorts, v: Vocab) -> z3.BoolRef:
    src, dst, w = nodes(s, "rsrc rdst w")
    mt, a, b, et, ev, mci, k, t = ints("rmt ra rb ret rev rmci k t")
    carries = z3.Bool("rcarries")
    sent = v.msg(AE_REQ, src, dst, mt, carries, a, b, et, ev, mci)
    view = z3.And(
        z3.Implies(a <= k, term_at(v, w, a) == b),
        z3.Implies(a > k, b >= t),
        z3.Implies(z3.And(carries, a + 1 <= k), v.fn("lterm")(w, a + 1) == et),
    )
    witness = z3.And(_committed_at(v, k, t, w), mci <= k, t <= mt, view)
    held = z3.And(mci <= a + z3.If(carries, 1, 0), z3.Exists([k, t, w], witness))
    xs = [src, dst, mt, carries, a, b, et, ev, mci]
    return z3.ForAll(xs, z3.Implies(z3.And(sent, mci >= 1), held))


def spec_leader_completeness(s: Sorts, v: Vocab) -> z3.BoolRef:
    """The spec's LeaderCompleteness (spec/properties.py): a leader of a term >= i's holds
    log[i] up to commitIndex[i]."""
    i, lead = nodes(s, "i lead")
    (x,) = ints("x")
    held = z3.And(v.role(lead) == v.roles.leader, v.ct(lead) >= v.ct(i))
    inside = z3.And(x >= 1, x <= v.fn("ci")(i))
    return z3.ForAll([i, lead, x], z3.Implies(z3.And(held, inside), _same_entry(v, lead, i, x)))


def state_machine_safety(s: Sorts, v: Vocab) -> z3.BoolRef:
    """Two servers hold the same entries up to both their commitIndexes."""
    i, j = nodes(s, "i j")
    (x,) = ints("x")
    inside = z3.And(x >= 1, x <= v.fn("ci")(i), x <= v.fn("ci")(j))
    return z3.ForAll([i, j, x], z3.Implies(inside, _same_entry(v, i, j, x)))


def _same_entry(v: Vocab, a: Expr, b: Expr, x: Expr) -> z3.BoolRef:
    """a's log has b's entry at index x (term and value), and b's log has an entry there."""
    lterm, lval, length = v.fn("lterm"), v.fn("lval"), v.fn("len")
    inside = z3.And(x <= length(a), x <= length(b))
    return z3.And(inside, lterm(a, x) == lterm(b, x), lval(a, x) == lval(b, x))


PROPERTY_LEMMA = Lemma(
    "CommitIndexCommitted",
    "a server's entry at its commitIndex c is the entry at c in the log of the leader of a term "
    "<= its own that committed an index >= c (by Log Matching, its whole log up to c is then "
    "that committed prefix)",
    "the property itself",
    commit_index_committed,
)

LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "RequestCommitIndexCommitted",
        "an AppendEntries request's mcommitIndex is at most its last entry and at most a "
        "committed index of a term <= the request's, whose leader's log agrees with the "
        "request's prevLogTerm (and entry) up to that index, or has a term <= prevLogTerm there",
        "a follower already done with the request takes its mcommitIndex as commitIndex",
        request_commit_index_committed,
    ),
)

CONJUNCTS: tuple[Lemma, ...] = (PROPERTY_LEMMA, *LEMMAS)


# ---- facts about committed entries, from Leader Completeness's invariant, in one state ------


def committed_held(s: Sorts, v: Vocab) -> z3.BoolRef:
    (w,) = nodes(s, "w")
    k, t = ints("k t")
    held = z3.And(v.fn("committed")(k, t), v.fn("elected")(w, t))
    return z3.ForAll([k, t, w], z3.Implies(held, entry(v, w, k, t)))


def committed_requests_agree(s: Sorts, v: Vocab) -> z3.BoolRef:
    src, dst, n = nodes(s, "gsrc gdst n")
    mt, a, b, et, ev, mci, k, t = ints("gmt ga gb get gev gmci k t")
    sent = v.msg(AE_REQ, src, dst, mt, z3.BoolVal(True), a, b, et, ev, mci)
    held = z3.And(v.fn("committed")(k, t), entry(v, n, k, t), sent, mt >= t, a + 1 <= k)
    xs = [src, dst, mt, a, b, et, ev, mci, n, k, t]
    return z3.ForAll(xs, z3.Implies(held, v.fn("lterm")(n, a + 1) == et))


def committed_below_later(s: Sorts, v: Vocab) -> z3.BoolRef:
    (n,) = nodes(s, "n")
    k, t, j, u = ints("k t j u")
    later = z3.Or(u > t, z3.And(u == t, j >= k))
    held = z3.And(v.fn("committed")(k, t), entry(v, n, j, u), later)
    return z3.ForAll([k, t, n, j, u], z3.Implies(held, entry(v, n, k, t)))


def committed_in_leaders(s: Sorts, v: Vocab) -> z3.BoolRef:
    (lead,) = nodes(s, "lead")
    k, t = ints("k t")
    held = z3.And(v.fn("committed")(k, t), v.role(lead) == v.roles.leader, v.ct(lead) >= t)
    return z3.ForAll([k, t, lead], z3.Implies(held, entry(v, lead, k, t)))


DERIVED: tuple[Lemma, ...] = (
    Lemma(
        "CommittedInLeaders",
        "an entry committed in term t is in the log of every leader of a term >= t (Leader "
        "Completeness)",
        "a leader's mcommitIndex points into a prefix it shares with the commit's leader",
        committed_in_leaders,
    ),
    Lemma(
        "CommittedHeld",
        "the leader of a committed entry's term holds it",
        "the witness of a commitIndex keeps its log up to the committed index",
        committed_held,
    ),
    Lemma(
        "CommittedRequestsAgree",
        "an AppendEntries entry of a request of a term >= t, at an index <= k, agrees with "
        "every log holding the committed (k, t)",
        "a conflict never removes an entry of a committed prefix",
        committed_requests_agree,
    ),
    Lemma(
        "CommittedBelowLater",
        "a log holding an entry of a term > t, or of term t at an index >= k, holds the "
        "committed (k, t)",
        "a follower that passes a check beyond the committed index holds the commit",
        committed_below_later,
    ),
)


# The conjuncts of Leader Completeness's invariant the steps use (every conjunct of a proved
# invariant holds in every reachable state, so any of them may be assumed; fewer make the
# counterexample search of the mutant and the vacuity checks quicker). Each is needed: without
# it an obligation fails (proofs.necessity; ElectedOnce was assumed too, and every obligation
# holds without it).
USED = ("LogMatching", "SortedTerms", "LeaderWasElected")


def _basis(bug: str | None) -> list[z3.BoolRef]:
    """The conjuncts used and the derived facts, in the pre-state; CommittedHeld also in the
    post-state (the post-state of a step from a reachable state is reachable)."""
    ctx = context(MODEL)
    held = [lemma_formula(BASIS.conjunct(c), False, MODEL) for c in USED]
    derived = [d.formula(ctx.sorts, ctx.pre) for d in DERIVED]
    return [*held, *derived, committed_held(ctx.sorts, ctx.post)]


def basis_formulas() -> tuple[list[tuple[str, Formula]], list[tuple[str, Formula]]]:
    """The hypotheses of `_basis` as named formulas: in the pre-state, then in the post-state
    (proofs.vacuity evaluates them on concrete states)."""
    pre = [(c, BASIS.conjunct(c).formula) for c in USED] + [(d.id, d.formula) for d in DERIVED]
    return pre, [("CommittedHeld'", committed_held)]


COMMIT_INDEX = Theory(
    "commit-index-committed",
    "CommitIndexCommitted for the log profile: every server's commitIndex points at committed "
    "entries, all N (assuming Leader Completeness's proved invariant)",
    MODEL,
    CONJUNCTS,
    hypotheses=_basis,
    corollaries=(
        Corollary(
            "SpecLeaderCompleteness",
            "the spec's LeaderCompleteness: a leader of a term >= a server's holds that server's "
            "log up to its commitIndex",
            spec_leader_completeness,
        ),
        Corollary(
            "StateMachineSafety",
            "two servers hold the same entries up to both their commitIndexes",
            state_machine_safety,
        ),
    ),
    known_bugs=(MUTANT,),
)


# The conjuncts of Leader Completeness's invariant each derived fact follows from (a committed
# entry's quorum is live: CommitQuorumStored, CommittedLive; then the live forms).
_COMMITTED = ("CommitQuorumStored", "CommittedLive")
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "CommittedInLeaders": ("LaterLeaderHolds", "LeaderHoldsStored", *_COMMITTED),
    "CommittedHeld": ("StoredHolds", *_COMMITTED),
    "CommittedRequestsAgree": ("RequestsAgreeBelow", "StoredHolds", *_COMMITTED),
    "CommittedBelowLater": (
        "LaterEntryHolds",
        "TermEntriesContiguous",
        "StoredHolds",
        *_COMMITTED,
    ),
}


def _derived(lemma: Lemma, settings: Settings) -> Outcome:
    """Leader Completeness's invariant (the conjuncts in DERIVED_FROM) => the derived fact, in
    one state."""
    settings = tuned(MODEL, settings)
    ctx = context(MODEL)
    held = [lemma_formula(BASIS.conjunct(c), False, MODEL) for c in DERIVED_FROM[lemma.id]]
    goal = [*axioms(ctx, None), *held, z3.Not(lemma.formula(ctx.sorts, ctx.pre))]
    return expect_unsat(goal, settings, lambda s: cti.render_state(s, ctx, "Inv", lemma.id))


def obligations(bug: str | None = None) -> list[Obligation]:
    """The derived facts (Leader Completeness's invariant => each), then the induction."""
    found = [
        Obligation(f"{BASIS.name} invariant => {d.id}", lambda s, d=d: _derived(d, s))  # type: ignore[misc]
        for d in DERIVED
    ]
    return [*found, *theory_obligations(COMMIT_INDEX, bug)]


PROPERTY = Property(COMMIT_INDEX.name, COMMIT_INDEX.summary, obligations)
