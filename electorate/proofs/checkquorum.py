"""CheckQuorum's step-down, for every N: a leader that ends a CheckQuorum period without having
heard from a quorum is no longer leader, so a leader cut off from the majority is gone within
two periods (the first may still count acknowledgements from before the cut).

The model tracks CheckQuorum's bookkeeping (proofs.vocab, group `quiet`): `acked(i, j)`, leader
i heard from j this period, and `quiet(i)`, i ended a period without a quorum (spec: acked,
quiet). At the end of a period the leader's ElectionTimer tests whether `acked` contains a
quorum: yes, a new period begins; no, it steps down.
"""

from __future__ import annotations

import z3

from electorate.proofs.core import Property
from electorate.proofs.induction import Theory
from electorate.proofs.induction import obligations as theory_obligations
from electorate.proofs.invariant import Lemma
from electorate.proofs.vocab import Model, Sorts, Vocab

CHECK_QUORUM_MODEL = Model(frozenset({"check_quorum"}), frozenset({"quiet"}))


def check_quorum_step_down(s: Sorts, v: Vocab) -> z3.BoolRef:
    i = z3.Const("i", s.node)
    return z3.ForAll([i], z3.Implies(v.fn("quiet")(i), v.role(i) != v.roles.leader))


STEP_DOWN = Lemma(
    "CheckQuorumStepDown",
    "a leader that ended a period without hearing from a quorum is no longer leader",
    "the property itself (self-inductive: only BecomeLeader makes a leader, and clears quiet)",
    check_quorum_step_down,
)

CHECK_QUORUM = Theory(
    "checkquorum-stepdown",
    "CheckQuorum: a leader that heard from no quorum in a period steps down, all N",
    CHECK_QUORUM_MODEL,
    (STEP_DOWN,),
    bridge=False,
    known_bugs=("no-check-quorum-zombie",),
)

PROPERTY = Property(
    CHECK_QUORUM.name, CHECK_QUORUM.summary, lambda: theory_obligations(CHECK_QUORUM)
)
