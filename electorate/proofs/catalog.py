"""What `electorate prove` proves: each property with its proof, its checks and its tie.

A property is proved for every cluster size by a theory (proofs.induction.Theory) and comes with
the checks that make the proof worth citing:

* a mutant: a bug variant of the spec, mirrored in the encoding, under which the proof must fail
  with a counterexample to induction (the proof is not true for a trivial reason);
* anti-vacuity: Init and every action satisfiable under the invariant, and the property's
  situation (a leader, a lease, ...) possible (proofs.vacuity);
* a bad state: the property's formula is false on a state that breaks it (proofs.sanity);
* ties: spec configurations whose every step, up to a depth, the theory's relation must accept
  (proofs.tie).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import z3

from electorate.proofs import (
    checkquorum,
    commit,
    commitindex,
    completeness,
    election,
    history,
    leadercompleteness,
    lease,
    logsafety,
    prevote,
)
from electorate.proofs.core import Obligation
from electorate.proofs.induction import Theory
from electorate.proofs.sanity import BadState, Formula
from electorate.proofs.vacuity import Hypotheses, Witness
from electorate.proofs.vocab import ALL_FEATURES, CANONICAL, Model, Sorts, Vocab
from electorate.spec.ids import Feature, Profile
from electorate.spec.messages import Entry as LogEntry
from electorate.spec.next import Init
from electorate.spec.params import Params
from electorate.spec.state import Role


@dataclass(frozen=True)
class TieConfig:
    """A spec configuration explored to `depth` (BFS levels) and the models it must match."""

    params: Params
    depth: int
    models: tuple[Model, ...]
    # CPU seconds of a reference run (docs/proofs.md), only to start the longest first; a
    # configuration without one is started first.
    cpu: float | None = None

    @property
    def name(self) -> str:
        return f"{self.params.describe()} depth={self.depth}"


@dataclass(frozen=True)
class Entry:
    theory: Theory
    statement: str  # the property's id: a conjunct or a corollary of the theory
    mutant: str  # a spec bug variant's mirror (BugId) or a relation mutant (proofs.mutants)
    witness: Witness
    witness_words: str
    bad: Callable[[], BadState]
    # More mutants that must break the proof, each checked by `prove` like the first.
    more_mutants: tuple[str, ...] = ()
    # The property's obligations, when it has more than its theory's (default: the theory's).
    obligations: Callable[[], list[Obligation]] | None = None
    # Vacuity on concrete states of a spec trace (proofs.witnesses) rather than by a search
    # for a model: the hypotheses as formulas (pre-state, post-state) to evaluate there.
    concrete: Hypotheses | None = None
    # Its obligations run in `prove`'s worker processes, in parts, beside the other proofs.
    pooled: bool = False
    # The whole property (obligations and checks) runs in a worker's fresh fork, first: its
    # mutant's counterexample search took 0.3 to 3.4 CPU s alone and 19 s after the other
    # properties had built their formulas in the same process.
    isolated: bool = False

    @property
    def mutants(self) -> tuple[str, ...]:
        return (self.mutant, *self.more_mutants)

    @property
    def formula(self) -> Formula:
        """The property's formula as the proof states it (the conjunct or corollary itself)."""
        for cor in self.theory.corollaries:
            if cor.id == self.statement:
                return cor.formula
        return self.theory.conjunct(self.statement).formula


def _exists_node(body: Callable[[Vocab, z3.ExprRef], z3.BoolRef]) -> Witness:
    def witness(s: Sorts, v: Vocab) -> z3.BoolRef:
        i = z3.Const("wi", s.node)
        return z3.Exists([i], body(v, i))

    return witness


def _two_leaders() -> BadState:
    p = Params(servers=2)
    s = Init(p)._replace(role=(Role.Leader, Role.Leader), votes_granted=(0b11, 0b11))
    return BadState(p, s, words="two leaders in term 1")


def _logs_disagree() -> BadState:
    p = Params(servers=2, profile="log", max_log=2, values=2)
    logs = ((LogEntry(1, 1), LogEntry(2, 1)), (LogEntry(1, 2), LogEntry(2, 1)))
    s = Init(p)._replace(log=logs)
    return BadState(p, s, words="two logs with the same entry at index 2 and different at 1")


def _shared_entry(s: Sorts, v: Vocab) -> z3.BoolRef:
    i, j = z3.Consts("wi wj", s.node)
    one = z3.IntVal(1)
    held = z3.And(v.fn("len")(i) >= 1, v.fn("len")(j) >= 1)
    same = v.fn("lterm")(i, one) == v.fn("lterm")(j, one)
    return z3.Exists([i, j], z3.And(i != j, held, same))


def _voter_ahead() -> BadState:
    p = Params(servers=2, profile="log", max_log=2, values=2)
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower), voted_for=(0, 0), log=((), (LogEntry(1, 1),))
    )
    return BadState(p, s, words="a leader with an empty log and a voter holding an entry")


def _leader_and_voter(s: Sorts, v: Vocab) -> z3.BoolRef:
    c, n = z3.Consts("wc wn", s.node)
    voter = z3.And(v.voted(n), v.vf(n) == c, v.ct(n) == v.ct(c), v.fn("len")(n) >= 1)
    return z3.Exists([c, n], z3.And(c != n, v.role(c) == v.roles.leader, voter))


def _unstored_commit() -> BadState:
    p = Params(servers=2, profile="log", max_log=2, values=2)
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower), log=((LogEntry(1, 1),), ()), commit_index=(1, 0)
    )
    ghosts: dict[str, Iterable[tuple[Any, ...]]] = {
        "committed": [(1, 1)],
        "elected": [(0, 1)],
        "stored": [],
    }
    return BadState(p, s, ghosts, "an entry committed in term 1 that only its leader stored")


def _a_commit(s: Sorts, v: Vocab) -> z3.BoolRef:
    k, t = z3.Ints("wk wt")
    return z3.Exists([k, t], z3.And(k >= 1, v.fn("committed")(k, t)))


def _elected_twice() -> BadState:
    p = Params(servers=2)
    return BadState(p, Init(p), {"elected": [(0, 2), (1, 2)]}, "two servers elected in term 2")


def _two_leases() -> BadState:
    p = Params(servers=3, features=frozenset({"lease"}), max_clock=4)
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower, Role.Leader),
        current_term=(2, 3, 3),
        clock=(2, 2, 2),
        lease_until=(3, 0, 3),
    )
    return BadState(p, s, words="leaders of terms 2 and 3 both inside their leases")


def _unearned() -> BadState:
    p = Params(servers=2, features=frozenset({"prevote"}))
    return BadState(
        p, Init(p)._replace(unearned_deposition=True), words="a leader deposed by an unearned term"
    )


def _quiet_leader() -> BadState:
    p = Params(servers=2, features=frozenset({"check_quorum"}))
    s = Init(p)._replace(role=(Role.Leader, Role.Follower), quiet=(True, False))
    return BadState(p, s, words="a leader that ended a period without a quorum")


def _later_leader_without_the_commit() -> BadState:
    """s2 committed index 1 in term 1; s1 leads term 2 with an empty log."""
    p = Params(servers=2, profile="log", max_log=2, values=2)
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower),
        current_term=(2, 2),
        log=((), (LogEntry(1, 1),)),
        commit_index=(0, 1),
    )
    ghosts: dict[str, Iterable[tuple[Any, ...]]] = {
        "committed": [(1, 1)],
        "elected": [(1, 1), (0, 2)],
        "stored": [(1, 1, 1)],
    }
    return BadState(p, s, ghosts, "a leader of term 2 without the entry committed in term 1")


def _commit_beside_later_leader(s: Sorts, v: Vocab) -> z3.BoolRef:
    k, t = z3.Ints("wk wt")
    lead = z3.Const("wl", s.node)
    later = z3.And(v.role(lead) == v.roles.leader, v.ct(lead) > t)
    return z3.Exists([k, t, lead], z3.And(k >= 1, v.fn("committed")(k, t), later))


def _no_hypotheses() -> tuple[list[tuple[str, Formula]], list[tuple[str, Formula]]]:
    return [], []


def _commit_index_elsewhere() -> BadState:
    """s1 led term 1 and committed its entry 1:v1; s2, in term 2, has commitIndex 1 at 2:v1."""
    p = Params(servers=2, profile="log", max_log=2, values=2)
    s = Init(p)._replace(
        role=(Role.Leader, Role.Follower),
        current_term=(1, 2),
        log=((LogEntry(1, 1),), (LogEntry(2, 1),)),
        commit_index=(1, 1),
    )
    ghosts: dict[str, Iterable[tuple[Any, ...]]] = {"committed": [(1, 1)], "elected": [(0, 1)]}
    return BadState(p, s, ghosts, "a commitIndex at an entry of term 2 (term 1's committed)")


def _follower_commit_beside_later_leader(s: Sorts, v: Vocab) -> z3.BoolRef:
    n, lead = z3.Consts("wn wl", s.node)
    roles = z3.And(v.role(lead) == v.roles.leader, v.role(n) == v.roles.follower)
    c = v.fn("ci")(n)
    later = v.ct(lead) > v.fn("lterm")(n, c)
    return z3.Exists([n, lead], z3.And(roles, c >= 1, later))


ENTRIES: tuple[Entry, ...] = (
    Entry(
        election.ELECTION,
        "ElectionSafety",
        "forget-vote-on-restart",
        _exists_node(lambda v, i: v.role(i) == v.roles.leader),
        "a leader",
        _two_leaders,
    ),
    Entry(
        election.ELECTION_FEATURES,
        "ElectionSafety",
        "forget-vote-on-restart",
        _exists_node(lambda v, i: v.role(i) == v.roles.leader),
        "a leader",
        _two_leaders,
    ),
    Entry(
        history.HISTORY,
        "ElectedOnce",
        "forget-vote-on-restart",
        _exists_node(lambda v, i: v.fn("elected")(i, v.ct(i))),
        "a server elected",
        _elected_twice,
    ),
    Entry(
        lease.LEASE,
        "LeaseSafety",
        "lease-too-long",
        _exists_node(lease.in_lease),
        "a leader in its lease",
        _two_leases,
    ),
    Entry(
        prevote.PREVOTE,
        "NoUnearnedDeposition",
        "no-prevote-disruption",
        _exists_node(lambda v, i: z3.And(v.role(i) == v.roles.leader, v.ct(i) > 1)),
        "a leader of an earned term",
        _unearned,
    ),
    Entry(
        checkquorum.CHECK_QUORUM,
        "CheckQuorumStepDown",
        "no-check-quorum-zombie",
        _exists_node(lambda v, i: v.fn("quiet")(i)),
        "a server that stepped down",
        _quiet_leader,
    ),
    Entry(
        logsafety.LOG_MATCHING,
        "LogMatching",
        logsafety.MUTANT,
        _shared_entry,
        "two servers holding an entry of the same index and term",
        _logs_disagree,
        more_mutants=(logsafety.SKIP_CHECK,),
    ),
    Entry(
        commit.COMMIT,
        "CommittedStored",
        commit.MUTANT,
        _a_commit,
        "an entry committed",
        _unstored_commit,
    ),
    Entry(
        completeness.VOTERS,
        "LeaderLogCoversVoters",
        completeness.MUTANT,
        _leader_and_voter,
        "a leader and another server that voted for it holding an entry",
        _voter_ahead,
    ),
    Entry(
        leadercompleteness.LEADER_COMPLETENESS,
        "LeaderCompleteness",
        leadercompleteness.MUTANT,
        _commit_beside_later_leader,
        "an entry committed beside a leader of a later term",
        _later_leader_without_the_commit,
        more_mutants=leadercompleteness.MUTANTS,
        concrete=_no_hypotheses,
        pooled=True,
    ),
    Entry(
        commitindex.COMMIT_INDEX,
        "CommitIndexCommitted",
        commitindex.MUTANT,
        _follower_commit_beside_later_leader,
        "a follower's commitIndex at an entry older than its leader's term",
        _commit_index_elsewhere,
        obligations=commitindex.obligations,
        concrete=commitindex.basis_formulas,
        isolated=True,
    ),
)
ENTRY_BY_NAME = {e.theory.name: e for e in ENTRIES}

# Terms up to 3, one message in flight; 3 servers, and a deeper 2-server lease model (a leader,
# its heartbeat rounds and acknowledgements). Every step up to the depth (BFS levels): the
# canonical depth reaches a leader deposed by a newer term (13 steps) and a vote request
# answered from a newer term (5 steps). tests/proofs widen these.


def _params(servers: int, *features: Feature, profile: Profile = "election") -> Params:
    """Terms up to 3, one message in flight; with the lease, absolute clocks up to 3."""
    clock = 3 if "lease" in features else 0
    return Params(
        servers=servers,
        profile=profile,
        max_term=3,
        max_msgs=1,
        features=frozenset(features),
        max_clock=clock,
    )


TIES: tuple[TieConfig, ...] = (
    TieConfig(_params(3, profile="heartbeat"), 13, (CANONICAL, history.HISTORY_MODEL), cpu=12.6),
    TieConfig(_params(3, "prevote"), 14, (prevote.PREVOTE_MODEL,), cpu=1.8),
    TieConfig(_params(3, "check_quorum"), 10, (checkquorum.CHECK_QUORUM_MODEL,), cpu=3.2),
    TieConfig(_params(3, "lease"), 8, (lease.LEASE_MODEL,), cpu=4.0),
    TieConfig(_params(2, "lease"), 13, (lease.LEASE_MODEL,), cpu=6.2),
    TieConfig(_params(3, "prevote", "check_quorum", "lease"), 10, (ALL_FEATURES,), cpu=2.7),
    # The log profile: two values, logs of up to two entries; depth 16 reaches leaders that
    # append, replicate and answer, and logs holding entries of two terms.
    TieConfig(
        Params(servers=2, profile="log", max_term=3, max_msgs=1, max_log=2, values=2),
        16,
        (logsafety.LOG_MODEL, commit.COMMIT_MODEL),  # also completeness.VOTERS's model
        cpu=4.0,
    ),
    # The options that change PreVote's votes and tally (spec/features/options.py), all on:
    # depth 12 reaches a stale pre-vote grant counted (docs/proofs.md, "The options").
    TieConfig(
        dataclasses.replace(
            _params(3, "prevote"),
            options=frozenset(
                {
                    "vote_refused_with_known_leader",
                    "prevote_refused_with_known_leader",
                    "prevote_granted_to_voted_candidate",
                    "stale_prevote_grant_counted",
                }
            ),
        ),
        12,
        (prevote.PREVOTE_MODEL,),
        cpu=2.0,
    ),
)
