"""PreVote's non-disruption, for every N: no leader is deposed by a term that no pre-vote quorum
opened, so a server that cannot win a pre-vote (a rejoining, partitioned node) cannot disrupt a
live leader by raising its term.

The model tracks the spec's PreVote bookkeeping (proofs.vocab, group `earned`): `earned(t)`,
term t was opened by StartElection (which the spec allows only to a pre-candidate holding a
quorum of pre-votes for exactly that term; the tally itself stays a free choice here), and
`unearned`, some leader adopted a term not earned (spec: unearned_deposition).

Why it is inductive: a pre-candidate keeps its term, so every term a server holds (TermsEarned)
and every term a message carries (MessageTermsEarned, PreVoteRefusalTermsEarned) was earned or
is the initial term; a leader can only adopt a term from a message, so the term is earned.
"""

from __future__ import annotations

import z3

from electorate.proofs.core import Property
from electorate.proofs.induction import Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma
from electorate.proofs.vocab import RV_RESP, Model, Sorts, Vocab, msg_vars

PREVOTE_MODEL = Model(frozenset({"prevote"}), frozenset({"earned"}))


def _earned(v: Vocab, t: z3.ArithRef) -> z3.BoolRef:
    """t is the initial term or a term a pre-vote quorum opened (and no term is below 1)."""
    return z3.Or(t == 1, z3.And(t > 1, v.fn("earned")(t)))


def no_unearned_deposition(s: Sorts, v: Vocab) -> z3.BoolRef:
    return z3.Not(v.fn("unearned"))


def terms_earned(s: Sorts, v: Vocab) -> z3.BoolRef:
    x = z3.Const("x", s.node)
    return z3.ForAll([x], _earned(v, v.ct(x)))


def message_terms_earned(s: Sorts, v: Vocab) -> z3.BoolRef:
    m = msg_vars(v)
    return z3.ForAll(m, z3.Implies(v.msg(*m), _earned(v, m[3])))


def prevote_refusal_terms_earned(s: Sorts, v: Vocab) -> z3.BoolRef:
    a, b = z3.Consts("a b", s.node)
    t = z3.Int("t")
    refusal = v.fn("pmsg")(RV_RESP, a, b, t, z3.BoolVal(False))
    return z3.ForAll([a, b, t], z3.Implies(refusal, _earned(v, t)))


NO_UNEARNED_DEPOSITION = Lemma(
    "NoUnearnedDeposition",
    "no leader was ever deposed by a term that no pre-vote quorum opened",
    "the property itself",
    no_unearned_deposition,
)

CONJUNCTS: tuple[Lemma, ...] = (
    NO_UNEARNED_DEPOSITION,
    Lemma(
        "TermsEarned",
        "every server's term is 1 or was opened by a pre-vote quorum (spec PreVoteTermsEarned)",
        "the terms messages carry come from servers' terms",
        terms_earned,
        ("RequestVote => MessageTermsEarned'", "UpdateTerm => NoUnearnedDeposition'"),
    ),
    Lemma(
        "MessageTermsEarned",
        "every message in flight carries an earned term",
        "a leader adopts a newer term only from a message (UpdateTerm)",
        message_terms_earned,
        ("UpdateTerm => NoUnearnedDeposition'", "UpdateTerm => TermsEarned'"),
    ),
    Lemma(
        "PreVoteRefusalTermsEarned",
        "a pre-vote refusal carries an earned term (its sender's)",
        "a pre-candidate adopts the term of a refusal (PreVoteUpdateTerm)",
        prevote_refusal_terms_earned,
        ("PreVoteUpdateTerm => NoUnearnedDeposition'", "PreVoteUpdateTerm => TermsEarned'"),
    ),
)

PREVOTE = Theory(
    "prevote-nondisruption",
    "PreVote: no leader is deposed by a term no pre-vote quorum opened, all N",
    PREVOTE_MODEL,
    CONJUNCTS,
    bridge=False,
    known_bugs=("no-prevote-disruption", "prevote-bumps-term"),
)

PROPERTY = Property(PREVOTE.name, PREVOTE.summary, lambda: theory_obligations(PREVOTE))
