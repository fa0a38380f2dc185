"""The features' properties, each with a stable ID (docs/failure-modes.md cites them)."""

from __future__ import annotations

from electorate.spec.actions import IsQuorum
from electorate.spec.invariants import Invariant
from electorate.spec.params import Params
from electorate.spec.state import Role, State


def PreVoteTermsEarned(p: Params, s: State) -> bool:
    """Every term beyond the initial one was opened by a server holding a quorum of pre-votes
    for exactly that term. So a server that cannot collect a pre-vote quorum never raises its
    own term: it only adopts terms that some quorum already agreed to."""
    return all(t == 1 or s.earned_terms >> t & 1 for t in s.current_term)


def NoUnearnedDeposition(p: Params, s: State) -> bool:
    """No leader was ever deposed by a term that no quorum of pre-votes opened (a rejoining
    node that could not collect pre-votes cannot depose a leader)."""
    return not s.unearned_deposition


def CheckQuorumStepDown(p: Params, s: State) -> bool:
    """A leader that ends a CheckQuorum period (one step of its own timer) without having heard
    from a quorum is no longer leader: an isolated leader is gone after at most two timer
    steps (the first may still count acks from before the partition)."""
    return not any(q and r == Role.Leader for q, r in zip(s.quiet, s.role, strict=True))


def is_leader(p: Params, s: State, i: int) -> bool:
    """The application's view (impl's `is_leader()`): leader and inside its lease."""
    return s.role[i] == Role.Leader and s.clock[i] < s.lease_until[i]


def LeaseSafety(p: Params, s: State) -> bool:
    """At no time do two servers both see is_leader true (given the drift bound)."""
    return sum(is_leader(p, s, i) for i in range(p.servers)) <= 1


def LeaseBacked(p: Params, s: State) -> bool:
    """While a leader has is_leader, a quorum (it and followers of its term inside its lease)
    will vote for nobody else: the lemma behind LeaseSafety, checked at every state."""
    for i in range(p.servers):
        if is_leader(p, s, i):
            term = s.current_term[i]
            mask = 1 << i
            for j in range(p.servers):
                if s.current_term[j] == term and s.heard_leader[j] and s.role[j] == Role.Follower:
                    mask |= 1 << j
            if not IsQuorum(p, mask):
                return False
    return True


def PreVoteSucceeded(p: Params, s: State) -> bool:
    """Sometimes: a pre-vote round succeeded (some term was opened by a pre-vote quorum)."""
    return s.earned_terms != 0


def CheckQuorumFired(p: Params, s: State) -> bool:
    """Sometimes: a leader ended a CheckQuorum period without a quorum."""
    return any(s.quiet)


def LeaseHeld(p: Params, s: State) -> bool:
    """Sometimes: some leader holds a lease."""
    return any(is_leader(p, s, i) for i in range(p.servers))


_PREVOTE_EARNED = Invariant(
    "PreVoteTermsEarned",
    "every term > 1 was opened by a quorum of pre-votes for it",
    PreVoteTermsEarned,
)
_PREVOTE_DEPOSE = Invariant(
    "NoUnearnedDeposition",
    "no leader is deposed by a term no pre-vote quorum opened",
    NoUnearnedDeposition,
)
_CHECK_QUORUM = Invariant(
    "CheckQuorumStepDown",
    "a leader that ends a period without hearing from a quorum is no longer leader",
    CheckQuorumStepDown,
)
_LEASE = (
    Invariant("LeaseSafety", "never two servers with is_leader true", LeaseSafety),
    Invariant(
        "LeaseBacked",
        "while a leader has is_leader, a quorum is inside its lease",
        LeaseBacked,
    ),
)


def ZombieBesideNewLeader(p: Params, s: State) -> bool:
    """Witness goal (no-check-quorum-zombie): a leader that ended a period without hearing a
    quorum still leads while a leader of a newer term was elected beside it."""
    for i, (quiet, role) in enumerate(zip(s.quiet, s.role, strict=True)):
        if quiet and role == Role.Leader:
            newer = [j for j, t in enumerate(s.current_term) if t > s.current_term[i]]
            if any(s.role[j] == Role.Leader for j in newer):
                return True
    return False


def invariants_for(p: Params) -> tuple[Invariant, ...]:
    out: tuple[Invariant, ...] = ()
    if p.has("prevote"):
        # The variant without the pre-vote phase has no pre-vote bookkeeping to check; what it
        # shows is the consequence, a leader deposed by a lone server's term.
        if p.bug != "no-prevote-disruption":
            out += (_PREVOTE_EARNED,)
        out += (_PREVOTE_DEPOSE,)
    if p.has("check_quorum"):
        out += (_CHECK_QUORUM,)
    if p.has("lease"):
        out += _LEASE
    return out


def sometimes_for(p: Params) -> tuple[Invariant, ...]:
    out: tuple[Invariant, ...] = ()
    if p.has("prevote") and p.bug != "no-prevote-disruption":
        out += (Invariant("PreVoteSucceeded", "a pre-vote round succeeds", PreVoteSucceeded),)
    if p.has("check_quorum"):
        out += (
            Invariant("CheckQuorumFired", "a leader steps down by CheckQuorum", CheckQuorumFired),
        )
    if p.has("lease"):
        out += (Invariant("LeaseHeld", "a leader holds a lease", LeaseHeld),)
    if p.bug == "no-check-quorum-zombie":  # for --witness; the variant stops at its violation
        out += (
            Invariant(
                "ZombieBesideNewLeader",
                "a cut-off leader leads on beside a newly elected one",
                ZombieBesideNewLeader,
            ),
        )
    return out
