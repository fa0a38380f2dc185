"""Lemma necessity: each lemma of an invariant is needed by its proof.

A lemma that no obligation needs is dead weight (and a sign that the proof is not understood).
Dropping a lemma L from a theory removes L's own obligations and L from every other
obligation's hypotheses; L is needed when one of the obligations that assumed it then fails: a
counterexample to induction (`sat`), or `unknown` within the budget (weaker: z3 could no longer
prove it, which is not a proof that it does not hold). The obligations keep their hypothesis
lists (proofs.induction.Theory.uses) less L: the proof as it is written, without L.

For commit-index-committed the facts it assumes from Leader Completeness's proved invariant
(its `hypotheses`: the conjuncts it uses and the facts derived from them) are dropped the same
way, one at a time.

`python -m electorate.proofs.necessity [--seed N]` searches every obligation in order for each
lemma and prints the table (docs/proofs.md, "Lemma necessity"); `--replay L` runs the pinned
obligation of lemma L (NEEDED) alone and prints its answer as JSON, which tests/proofs does for
each lemma, each in a fresh interpreter (replay_alone).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TextIO

import z3

from electorate.proofs import commitindex, leadercompleteness
from electorate.proofs.core import Obligation, Outcome, Settings, expect_unsat
from electorate.proofs.induction import (
    Theory,
    background,
    cases,
    context,
    lemma_formula,
    obligations,
    relation_formula,
    tuned,
)

LEADER_COMPLETENESS = leadercompleteness.LEADER_COMPLETENESS
COMMIT_INDEX = commitindex.COMMIT_INDEX

# Per query: one quick attempt and one long one (no retries: `unknown` is reported as such).
SETTINGS = Settings(attempts=1)
REPLAY_SEEDS = 4  # seeds tried when a pinned `sat` is replayed (replay)


def lemmas(theory: Theory) -> tuple[str, ...]:
    """The lemmas whose necessity is checked: the theory's own (not the property, not what it
    assumes from another theory, not the voting step's that proofs.completeness owns), and
    for commit-index-committed the facts it assumes."""
    if theory is LEADER_COMPLETENESS:
        return tuple(lem.id for lem in leadercompleteness.LEMMAS)
    if theory is COMMIT_INDEX:
        basis = (*commitindex.USED, *(d.id for d in commitindex.DERIVED))
        return (*(lem.id for lem in commitindex.LEMMAS), *basis)
    raise ValueError(f"no necessity table for {theory.name}")


def _uses(theory: Theory, dropped: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (owner, tuple(x for x in ids if x != dropped))
        for owner, ids in theory.uses
        if owner.rpartition(":")[2] != dropped
    )


def _basis_without(dropped: str) -> Callable[[str | None], list[z3.BoolRef]]:
    """commitindex's hypotheses less one of them (CommittedHeld: in both states)."""

    def hypotheses(bug: str | None) -> list[z3.BoolRef]:
        ctx = context(commitindex.MODEL)
        held = [
            lemma_formula(commitindex.BASIS.conjunct(c), False, commitindex.MODEL)
            for c in commitindex.USED
            if c != dropped
        ]
        derived = [d.formula(ctx.sorts, ctx.pre) for d in commitindex.DERIVED if d.id != dropped]
        post = (
            [] if dropped == "CommittedHeld" else [commitindex.committed_held(ctx.sorts, ctx.post)]
        )
        return [*held, *derived, *post]

    return hypotheses


def without(theory: Theory, dropped: str) -> Theory:
    """The theory with lemma (or assumed fact) `dropped` left out."""
    if dropped not in lemmas(theory):
        raise ValueError(f"{dropped} is not a lemma of {theory.name}")
    if theory is COMMIT_INDEX and dropped not in {lem.id for lem in commitindex.LEMMAS}:
        return replace(theory, name=f"{theory.name}-{dropped}", hypotheses=_basis_without(dropped))
    return replace(
        theory,
        name=f"{theory.name}-{dropped}",
        conjuncts=tuple(c for c in theory.conjuncts if c.id != dropped),
        uses=_uses(theory, dropped),
    )


@dataclass(frozen=True)
class Query:
    """One obligation of the theory without a lemma: its name and its goal (a model of the
    goal refutes it). No counterexample is rendered: the search needs only the answer, and
    shrinking a model for printing costs more than finding it (replay renders one)."""

    name: str
    goals: tuple[tuple[z3.BoolRef, ...], ...]  # one per case (Theory.splits), else one


def affected(theory: Theory, dropped: str) -> list[Obligation]:
    """The obligations of the theory without `dropped` that assumed it: every step and
    corollary obligation whose hypothesis list named it (all of them, for an assumed fact)."""
    names = {q.name for q in queries(theory, dropped)}
    return [o for o in obligations(without(theory, dropped)) if o.name in names]


def queries(theory: Theory, dropped: str) -> list[Query]:
    """affected()'s obligations as queries, steps first, in the theory's order."""
    reduced = without(theory, dropped)
    hypothesis = reduced.conjuncts == theory.conjuncts  # an assumed fact: every obligation
    ctx = context(theory.model)
    model = theory.model
    found: list[Query] = []
    for action in theory.actions():
        step, args = relation_formula(action, None, model)
        for conj in reduced.conjuncts:
            if conj.id in reduced.assumed:
                continue
            if not (hypothesis or dropped in _ids(theory, conj.id, action.name)):
                continue
            held = reduced.hypotheses_of(conj.id, action.name)
            base = (
                *background(reduced, None),
                *[lemma_formula(c, False, model) for c in held],
                step,
                z3.Not(lemma_formula(conj, True, model)),
            )
            split = cases(reduced, action.name, conj.id, ctx, args)
            goals = tuple((*base, *case) for case in split)
            found.append(Query(f"{action.name} => {conj.id}'", goals))
    for cor in theory.corollaries:
        if hypothesis or dropped in _ids(theory, cor.id):
            held = reduced.hypotheses_of(cor.id)
            goal = (
                *background(reduced, None),
                *[lemma_formula(c, False, model) for c in held],
                z3.Not(cor.formula(ctx.sorts, ctx.pre)),
            )
            found.append(Query(f"Inv => {cor.id}", (goal,)))
    return found


def _ids(theory: Theory, goal: str, action: str | None = None) -> set[str]:
    return {c.id for c in theory.hypotheses_of(goal, action)}


@dataclass(frozen=True)
class Verdict:
    lemma: str
    obligation: str | None  # the first that failed without it (None: none did)
    status: str  # "sat", "unknown: ..." or "proved" (the lemma is not needed)
    seconds: float  # CPU seconds of the search
    checked: int  # obligations run


def search(
    theory: Theory, dropped: str, settings: Settings = SETTINGS, log: TextIO | None = None
) -> Verdict:
    """Run the affected queries in order until one has a model (`sat`); an `unknown` is kept
    unless a later one is `sat`."""
    start = time.process_time()
    settings = tuned(theory.model, settings)
    first_unknown: tuple[str, str] | None = None
    checked = 0
    for query in queries(theory, dropped):
        checked += 1
        began = time.process_time()
        outcome = answer(query, settings)
        if log is not None:
            print(f"  {query.name}: {outcome.status} {time.process_time() - began:.1f}", file=log)
        if outcome.holds:
            continue
        if outcome.status == "sat":
            return Verdict(dropped, query.name, "sat", time.process_time() - start, checked)
        first_unknown = first_unknown or (query.name, outcome.status)
    seconds = time.process_time() - start
    if first_unknown is not None:
        name, status = first_unknown
        return Verdict(dropped, name, status, seconds, checked)
    return Verdict(dropped, None, "proved", seconds, checked)


# Each lemma -> the obligation that fails without it and how: "sat" (the query has a model),
# "sat by the search" (the query answered `unknown`; the search among few servers,
# proofs.cti.bounded, found a counterexample to this obligation) or "unknown" (no model found
# within the budget: z3 can no longer prove it, which is weaker). Seed 0; docs/proofs.md has the
# table with times. tests/proofs replays these.
_HAE = "HandleAppendEntriesRequest"
NEEDED: dict[str, dict[str, tuple[str, str]]] = {
    "leader-completeness": {
        "CommittedLive": ("Inv => LeaderCompleteness", "sat"),
        "StoredHolds": ("HandleRequestVoteRequest => VoterPassesEntry'", "sat"),
        "LaterLeaderHolds": ("Inv => LeaderCompleteness", "sat"),
        "VoterPassesEntry": ("BecomeLeader => LaterLeaderHolds'", "sat"),
        "LaterEntryHolds": ("AppendEntries => LaterRequestAfter'", "unknown"),
        "LaterRequestAfter": (f"{_HAE} => LaterEntryHolds'", "sat"),
        "RequestsAgreeBelow": (f"{_HAE} => StoredHolds'", "unknown"),
        "StoredNotFuture": (f"{_HAE} => LaterEntryHolds'", "sat"),
        "CreatedStored": ("AdvanceCommitIndex => CommittedLive'", "sat"),
        "StoredTermElected": ("BecomeLeader => CommittedLive'", "sat"),
        "LeaderHoldsStored": ("ClientRequest => TermEntriesContiguous'", "sat"),
        "TermEntriesContiguous": ("AppendEntries => RequestTermContiguous'", "sat"),
        "RequestTermContiguous": (f"{_HAE} => TermEntriesContiguous'", "sat"),
        "VotesForNotAhead": ("Timeout => VoterPassesEntry'", "sat by the search"),
    },
    "commit-index-committed": {
        "RequestCommitIndexCommitted": (f"{_HAE} => CommitIndexCommitted'", "sat"),
        "LogMatching": ("AppendEntries => RequestCommitIndexCommitted'", "sat"),
        "SortedTerms": ("AppendEntries => RequestCommitIndexCommitted'", "sat"),
        "LeaderWasElected": ("AdvanceCommitIndex => CommitIndexCommitted'", "sat"),
        "CommittedInLeaders": ("Inv => SpecLeaderCompleteness", "sat"),
        "CommittedHeld": (f"{_HAE} => CommitIndexCommitted'", "unknown"),
        "CommittedRequestsAgree": (f"{_HAE} => CommitIndexCommitted'", "sat"),
        "CommittedBelowLater": (f"{_HAE} => CommitIndexCommitted'", "unknown"),
    },
}
# Lemmas whose every affected obligation is still proved without them (none may be hidden).
# commit-index-committed assumed ElectedOnce too: every obligation holds without it (32 run,
# 0.4 CPU s), and it was removed from commitindex.USED.
NOT_NEEDED: dict[str, tuple[str, ...]] = {"leader-completeness": (), "commit-index-committed": ()}


def replay(theory: Theory, dropped: str, settings: Settings = SETTINGS) -> Outcome:
    """The pinned obligation of `dropped`, in the theory without it, as it was found: the query
    alone (no counterexample printed), or, for "sat by the search", the obligation with the
    search among few servers first (a counterexample printed)."""
    name, how = NEEDED[theory.name][dropped]
    # The resource limit bounds each attempt; a replay leaves the wall-clock backstop ten
    # times longer, so that the machine's load cannot decide the answer.
    settings = replace(settings, timeout_ms=10 * settings.timeout_ms)
    if how == "sat by the search":
        (ob,) = [o for o in affected(theory, dropped) if o.name == name]
        return ob.run(replace(settings, search_first=True))
    (query,) = [q for q in queries(theory, dropped) if q.name == name]
    # A model under any seed is a counterexample; which seed finds it depends on what the
    # process built before (a test session is not the search's process): up to REPLAY_SEEDS.
    outcome = answer(query, tuned(theory.model, settings))
    for k in range(1, REPLAY_SEEDS if how == "sat" else 1):
        if outcome.status == "sat":
            break
        other = replace(settings, seed=settings.seed + 7919 * k)
        outcome = answer(query, tuned(theory.model, other))
    return outcome


def replay_alone(lemma: str, timeout: float = 540.0) -> Outcome:
    """`replay` in a fresh interpreter. Within a resource limit, z3's answer depends on the
    terms the process created before (their order and ids): a test session that ran other
    proofs first ran out of budget under every replay seed (z3 says `unknown: canceled`)
    where a process of its own finds a model. A process that builds only this query answers
    the same in every session and on every machine."""
    argv = [sys.executable, "-m", "electorate.proofs.necessity", "--replay", lemma]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} exited {done.returncode}: {done.stderr}")
    doc = json.loads(done.stdout)
    return Outcome(doc["holds"], doc["status"], doc["seconds"], doc["detail"], doc["attempts"])


def _replay_json(lemma: str) -> str:
    (theory,) = [t for t in (LEADER_COMPLETENESS, COMMIT_INDEX) if lemma in NEEDED[t.name]]
    outcome = replay(theory, lemma)
    name, how = NEEDED[theory.name][lemma]
    return json.dumps(
        {
            "theory": theory.name,
            "lemma": lemma,
            "obligation": name,
            "pinned": how,
            "holds": outcome.holds,
            "status": outcome.status,
            "seconds": outcome.seconds,
            "detail": outcome.detail,
            "attempts": outcome.attempts,
        }
    )


def answer(query: Query, settings: Settings) -> Outcome:
    """Every case unsatisfiable (the obligation holds), or the first case that is not."""
    outcome = Outcome(True, "unsat", 0.0)
    for goal in query.goals:
        outcome = expect_unsat(list(goal), settings, lambda solver: "")
        if not outcome.holds:
            return outcome
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m electorate.proofs.necessity",
        description="Drop each lemma of Leader Completeness and commit-index-committed and "
        "report the obligation that fails without it.",
    )
    parser.add_argument("--seed", type=int, default=0, help="z3's random seed (default 0)")
    parser.add_argument("--only", help="one lemma (default: all)")
    parser.add_argument("--verbose", action="store_true", help="each obligation run, on stderr")
    parser.add_argument(
        "--replay",
        metavar="LEMMA",
        help="run the pinned obligation that fails without LEMMA (seed 0) and print its answer "
        "as JSON",
    )
    args = parser.parse_args(argv)
    known = [x for theory in (LEADER_COMPLETENESS, COMMIT_INDEX) for x in lemmas(theory)]
    for given in (args.only, args.replay):
        if given and given not in known:
            parser.error(f"unknown lemma {given!r}; known: {', '.join(known)}")
    if args.replay:
        print(_replay_json(args.replay), flush=True)
        return 0
    settings = replace(SETTINGS, seed=args.seed)
    print(f"seed {args.seed}", flush=True)
    for theory in (LEADER_COMPLETENESS, COMMIT_INDEX):
        for dropped in lemmas(theory):
            if args.only and dropped != args.only:
                continue
            v = search(theory, dropped, settings, sys.stderr if args.verbose else None)
            print(
                f"{theory.name} | {v.lemma} | {v.obligation or '-'} | {v.status} | "
                f"{v.seconds:.1f} CPU s | {v.checked} run",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
