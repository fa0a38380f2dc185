"""Election safety of the message-passing model as an inductive invariant, for every N.

"At no time do two servers lead the same term": the invariant of proofs.invariant over raft.tla's
actions (restart, message loss and duplication included), and the same invariant with PreVote,
CheckQuorum and the lease's steps enabled. Raft's own statement, about every leader ever elected,
is proofs.history.
"""

from __future__ import annotations

from collections.abc import Sequence

from electorate.proofs.core import Obligation, Property
from electorate.proofs.induction import Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import CONJUNCTS, Lemma
from electorate.proofs.model import ActionDef
from electorate.proofs.vocab import ALL_FEATURES, CANONICAL
from electorate.spec.ids import BUG_IDS

KNOWN_BUGS = BUG_IDS

ELECTION = Theory(
    "election",
    "election safety of the message-passing model (restart, loss, duplication), all N",
    CANONICAL,
    CONJUNCTS,
    known_bugs=KNOWN_BUGS,
)
ELECTION_FEATURES = Theory(
    "election+prevote+checkquorum",
    "the same invariant with PreVote and CheckQuorum (and the lease's clock steps) enabled",
    ALL_FEATURES,
    CONJUNCTS,
    known_bugs=KNOWN_BUGS,
)


def obligations(
    bug: str | None = None,
    lemmas: Sequence[Lemma] | None = None,
    actions: Sequence[ActionDef] | None = None,
    features: bool = False,
) -> list[Obligation]:
    """The election proof's obligations (with `features`, those of the featured model)."""
    theory = ELECTION_FEATURES if features else ELECTION
    return theory_obligations(theory, bug, lemmas, actions)


PROPERTY = Property(ELECTION.name, ELECTION.summary, lambda: obligations())
PROPERTY_FEATURES = Property(
    ELECTION_FEATURES.name, ELECTION_FEATURES.summary, lambda: obligations(features=True)
)
