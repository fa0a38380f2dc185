"""Planted bugs in the role machine: one catalogue, one one-method subclass per bug.

Each mutant overrides the small named method of :class:`~electorate.impl.core.RoleMachine`
that holds one rule, and breaks that rule only. Tests run every rule check against the mutant
that breaks it (a check that cannot fail is caught that way); the simulator and the
conformance suite must notice the safety-relevant ones. Production code never builds these.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from functools import cache
from typing import Final

from electorate.impl.core import CoreConfig, HardState, Rng, Role, RoleMachine
from electorate.impl.messages import AppendEntries, Message, RequestVote, RequestVoteResponse


class Mutant(enum.StrEnum):
    """The planted bugs; the value is the name used on command lines and in the protocol."""

    VOTE_TWICE = "vote-twice"
    KEEP_VOTE_ON_NEW_TERM = "keep-vote-on-new-term"
    NO_STEPDOWN_REQUEST = "no-stepdown-request"
    NO_STEPDOWN_RESPONSE = "no-stepdown-response"
    NO_STEPDOWN_HEARTBEAT = "no-stepdown-heartbeat"
    UPTODATE_GT = "uptodate-gt"
    UPTODATE_INDEX_FIRST = "uptodate-index-first"
    QUORUM_HALF = "quorum-half"
    COUNT_DUPLICATE_VOTES = "count-duplicate-votes"
    COUNT_STALE_VOTES = "count-stale-votes"
    NO_TERM_INCREMENT = "no-term-increment"
    NO_SELF_VOTE = "no-self-vote"
    STALE_TERM_IN_RESPONSE = "stale-term-in-response"
    FORGET_STATE_ON_RESTART = "forget-state-on-restart"
    BUMP_TERM_ON_STEPDOWN = "bump-term-on-stepdown"
    PREVOTE_BUMPS_TERM = "prevote-bumps-term"
    CLEAR_VOTE_ON_SAME_TERM_STEPDOWN = "clear-vote-on-same-term-stepdown"


class VoteTwice(RoleMachine):
    """A second vote in the same term is granted."""

    def _vote_is_free(self, m: RequestVote) -> bool:
        return True


class KeepVoteOnNewTerm(RoleMachine):
    """``voted_for`` survives a term change."""

    def _adopt_term(self, term: int) -> None:
        self._term = max(self._term, term)


class NoStepdownRequest(RoleMachine):
    """A newer term in a vote request is not adopted."""

    def _on_newer_vote_request(self, m: RequestVote) -> None:
        return None


class NoStepdownResponse(RoleMachine):
    """A newer term in a response is not adopted."""

    def _on_newer_response(self, m: Message) -> None:
        return None


class NoStepdownHeartbeat(RoleMachine):
    """A newer term in a heartbeat is not adopted."""

    def _on_newer_heartbeat(self, m: AppendEntries) -> None:
        return None


class UptodateGt(RoleMachine):
    """Equal last terms need a strictly longer log."""

    def _log_ok(self, m: RequestVote) -> bool:
        index, term = self._last_log
        if m.last_log_term != term:
            return m.last_log_term > term
        return m.last_log_index > index


class UptodateIndexFirst(RoleMachine):
    """Log length is compared before the last term."""

    def _log_ok(self, m: RequestVote) -> bool:
        index, term = self._last_log
        return m.last_log_index > index or (m.last_log_index == index and m.last_log_term >= term)


class QuorumHalf(RoleMachine):
    """A quorum is n // 2 instead of n // 2 + 1."""

    def _quorum(self) -> int:
        return len(self.config.voters) // 2


class CountDuplicateVotes(RoleMachine):
    """A repeated grant from one voter counts again."""

    def _record(self, answers: list[tuple[str, bool]], m: RequestVoteResponse) -> None:
        if m.granted or all(voter != m.src for voter, _ in answers):
            answers.append((m.src, m.granted))


class CountStaleVotes(RoleMachine):
    """Grants from older terms count."""

    def _counts_in_round(self, m: RequestVoteResponse) -> bool:
        wanted = self._term + 1 if m.pre_vote else self._term
        return super()._counts_in_round(m) or m.term < wanted


class NoTermIncrement(RoleMachine):
    """A candidate keeps its term."""

    def _campaign_term(self) -> int:
        return self._term


class NoSelfVote(RoleMachine):
    """A candidate counts itself but does not record the vote (it can vote again)."""

    def _vote_for_self(self) -> None:
        return None


class StaleTermInResponse(RoleMachine):
    """Refusals carry the request's term, not ours."""

    def _refusal_term(self, m: Message) -> int:
        return m.term


class ForgetStateOnRestart(RoleMachine):
    """``Ready.hard_state`` is never emitted, so nothing is persisted."""

    def _unsaved_hard_state(self) -> HardState | None:
        return None


class BumpTermOnStepdown(RoleMachine):
    """A candidate or leader stepping down adds 1 to the term."""

    def _stepdown_term(self, term: int) -> int:
        return term if self.role is Role.FOLLOWER else term + 1


class PrevoteBumpsTerm(RoleMachine):
    """Starting PreVote bumps the real term."""

    def _become_pre_candidate(self) -> None:
        self._adopt_term(self._term + 1)
        super()._become_pre_candidate()


class ClearVoteOnSameTermStepdown(RoleMachine):
    """A candidate that steps down on a same-term heartbeat clears its vote (it may then vote
    for another candidate of the term it already voted in: a double vote)."""

    def _follow_same_term_leader(self, leader: str) -> None:
        super()._follow_same_term_leader(leader)
        self._voted_for = None


MUTANTS: Final[dict[Mutant, type[RoleMachine]]] = {
    Mutant.VOTE_TWICE: VoteTwice,
    Mutant.KEEP_VOTE_ON_NEW_TERM: KeepVoteOnNewTerm,
    Mutant.NO_STEPDOWN_REQUEST: NoStepdownRequest,
    Mutant.NO_STEPDOWN_RESPONSE: NoStepdownResponse,
    Mutant.NO_STEPDOWN_HEARTBEAT: NoStepdownHeartbeat,
    Mutant.UPTODATE_GT: UptodateGt,
    Mutant.UPTODATE_INDEX_FIRST: UptodateIndexFirst,
    Mutant.QUORUM_HALF: QuorumHalf,
    Mutant.COUNT_DUPLICATE_VOTES: CountDuplicateVotes,
    Mutant.COUNT_STALE_VOTES: CountStaleVotes,
    Mutant.NO_TERM_INCREMENT: NoTermIncrement,
    Mutant.NO_SELF_VOTE: NoSelfVote,
    Mutant.STALE_TERM_IN_RESPONSE: StaleTermInResponse,
    Mutant.FORGET_STATE_ON_RESTART: ForgetStateOnRestart,
    Mutant.BUMP_TERM_ON_STEPDOWN: BumpTermOnStepdown,
    Mutant.PREVOTE_BUMPS_TERM: PrevoteBumpsTerm,
    Mutant.CLEAR_VOTE_ON_SAME_TERM_STEPDOWN: ClearVoteOnSameTermStepdown,
}


def parse_mutants(names: Iterable[str]) -> frozenset[Mutant]:
    """Mutants by name; ValueError naming the unknown ones and listing the known."""
    known = {m.value for m in Mutant}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown mutant(s) {unknown}; known: {', '.join(sorted(known))}")
    return frozenset(Mutant(n) for n in names)


@cache
def machine_class(mutants: frozenset[Mutant] = frozenset()) -> type[RoleMachine]:
    """RoleMachine with every mutant in ``mutants`` planted (several combine by inheritance).

    ValueError if two mutants break the same rule (override the same method).
    """
    if not mutants:
        return RoleMachine
    order = sorted(mutants)
    classes = [MUTANTS[m] for m in order]
    seen: dict[str, Mutant] = {}
    for m, cls in zip(order, classes, strict=True):
        for method in _overrides(cls):
            if method in seen:
                raise ValueError(f"mutants {seen[method]} and {m} both replace {method}")
            seen[method] = m
    if len(classes) == 1:
        return classes[0]
    name = "+".join(cls.__name__ for cls in classes)
    return type(name, tuple(classes), {})


def mutant_machine(
    mutants: frozenset[Mutant],
    config: CoreConfig,
    hard_state: HardState,
    rng: Rng,
    last_log: tuple[int, int] = (0, 0),
) -> RoleMachine:
    """A role machine with ``mutants`` planted (none: the real one)."""
    return machine_class(mutants)(config, hard_state, rng, last_log)


def _overrides(cls: type[RoleMachine]) -> list[str]:
    return [name for name in vars(cls) if callable(getattr(RoleMachine, name, None))]
