"""Unit tests of impl.core, one per rule of the thesis (section cited in each docstring).

Each rule is written once as a *check* returning the list of broken expectations, so the same
scenario serves twice: it must pass on the real machine and must fail with the planted bug
(``electorate.testing.mutants``) that breaks that rule. A check that cannot fail is caught
that way.
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Callable

import pytest

from electorate.impl.core import (
    MAX_TERM,
    ConfigError,
    CoreConfig,
    HardState,
    LeaderChanged,
    LeadershipAcquired,
    LeadershipLost,
    Role,
    RoleMachine,
    SoftState,
)
from electorate.impl.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Message,
    RequestVote,
    RequestVoteResponse,
    TimeoutNow,
)
from electorate.testing.mutants import MUTANTS, Mutant, machine_class, mutant_machine

CL = "electorate"
V3 = ("a", "b", "c")
V5 = ("a", "b", "c", "d", "e")
Muts = frozenset[Mutant]
Check = Callable[[Muts], list[str]]


class FixedRng:
    """Deterministic Rng: the longest timeout, so only explicit events start elections."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def randrange(self, start: int, stop: int) -> int:
        self.calls.append((start, stop))
        return stop - 1


def node(
    nid: str = "a",
    voters: tuple[str, ...] = V3,
    *,
    term: int = 0,
    voted: str | None = None,
    mut: Muts = frozenset(),
    last_log: tuple[int, int] = (0, 0),
    warm: bool = True,
    prevote: bool = True,
    check_quorum: bool = True,
) -> RoleMachine:
    """A follower; ``warm`` ticks it past the restart guard (one election_ticks)."""
    c = CoreConfig(nid, voters, prevote=prevote, check_quorum=check_quorum)
    m = mutant_machine(mut, c, HardState(term, voted), FixedRng(), last_log=last_log)
    for _ in range(c.election_ticks if warm else 0):
        m.tick()
    m.ready()
    return m


def rv(src: str, dst: str, term: int, *, pre: bool = False, log: tuple[int, int] = (0, 0),
       transfer: bool = False) -> RequestVote:  # fmt: skip
    return RequestVote(CL, src, dst, term, log[0], log[1], pre, transfer)


def rvr(src: str, dst: str, term: int, granted: bool, *, pre: bool = False) -> RequestVoteResponse:
    return RequestVoteResponse(CL, src, dst, term, granted, pre)


def ae(src: str, dst: str, term: int, rnd: int = 1) -> AppendEntries:
    return AppendEntries(CL, src, dst, term, 0, rnd)


def aer(src: str, dst: str, term: int, rnd: int = 1, ok: bool = True) -> AppendEntriesResponse:
    return AppendEntriesResponse(CL, src, dst, term, ok, rnd)


def role(m: RoleMachine) -> Role:
    """Read the role through a call, so mypy does not narrow it across events."""
    return m.role


def lease(m: RoleMachine) -> int | None:
    return m.lease_expiry


def out(m: RoleMachine) -> tuple[Message, ...]:
    return m.ready().messages


def leader(
    voters: tuple[str, ...] = V3, mut: Muts = frozenset(), check_quorum: bool = True
) -> RoleMachine:
    """Node "a" elected through PreVote with the votes of the next voters in line."""
    a = node("a", voters, mut=mut, check_quorum=check_quorum)
    a.election_timeout()
    for v in voters[1 : len(voters) // 2 + 1]:
        a.step(rvr(v, "a", a.term + 1, True, pre=True))
    for v in voters[1 : len(voters) // 2 + 1]:
        a.step(rvr(v, "a", a.term, True))
    assert role(a) is Role.LEADER, "test setup: a should have won"
    a.ready()
    return a


def candidate(voters: tuple[str, ...] = V3, mut: Muts = frozenset()) -> RoleMachine:
    a = node("a", voters, mut=mut, prevote=False)
    a.election_timeout()
    a.ready()
    return a


class Expect:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, cond: bool, text: str) -> None:
        if not cond:
            self.problems.append(text)


# ---------------------------------------------------------------------- checks
def c_higher_term_request(mut: Muts) -> list[str]:
    ex = Expect()
    a = node("a", term=2, voted="b", mut=mut)
    a.step(rv("c", "a", 3))
    ex(a.term == 3, f"term {a.term} after a term-3 vote request, want 3")
    ex(a.voted_for == "c", f"voted_for {a.voted_for} in the new term, want c")
    ex(out(a) == (rvr("a", "c", 3, True),), "want a granted response at term 3")
    b = candidate(mut=mut)
    b.step(rv("c", "a", 2))
    ex(b.role is Role.FOLLOWER and b.term == 2, f"candidate did not step down: {b.role} {b.term}")
    return ex.problems


def c_higher_term_response(mut: Muts) -> list[str]:
    ex = Expect()
    a = leader(mut=mut)
    a.step(aer("b", "a", a.term + 1, ok=False))
    rd = a.ready()
    ex(a.role is Role.FOLLOWER, f"leader still {a.role} after a newer term in a response")
    ex(a.term == 2, f"term {a.term}, want 2")
    ex(LeadershipLost(1, "higher term in a response") in rd.notifications, "no LeadershipLost")
    return ex.problems


def c_higher_term_heartbeat(mut: Muts) -> list[str]:
    ex = Expect()
    a = candidate(mut=mut)
    a.step(ae("b", "a", 2))
    ex(a.role is Role.FOLLOWER and a.term == 2, f"got {a.role} term {a.term}, want follower 2")
    ex(a.leader == "b", f"leader {a.leader}, want b")
    ex(out(a) == (aer("a", "b", 2),), "want a successful heartbeat response at term 2")
    return ex.problems


def c_one_vote_per_term(mut: Muts) -> list[str]:
    ex = Expect()
    a = node("a", mut=mut)
    a.step(rv("b", "a", 1))
    a.step(rv("c", "a", 1))
    a.step(rv("b", "a", 1))  # a retransmission from the chosen candidate is granted again
    got = [(m.dst, m.granted) for m in out(a) if isinstance(m, RequestVoteResponse)]
    ex(got == [("b", True), ("c", False), ("b", True)], f"responses {got}")
    ex(a.voted_for == "b", f"voted_for {a.voted_for}, want b")
    return ex.problems


def c_candidate_term_and_self_vote(mut: Muts) -> list[str]:
    ex = Expect()
    a = node("a", mut=mut, prevote=False)
    a.election_timeout()
    rd = a.ready()
    ex(a.role is Role.CANDIDATE, f"role {a.role}")
    ex(rd.hard_state == HardState(1, "a"), f"hard state {rd.hard_state}, want term 1 vote a")
    ex(rd.messages == (rv("a", "b", 1), rv("a", "c", 1)), f"requests {rd.messages}")
    a.step(rv("c", "a", 1))
    ex(out(a) == (rvr("a", "c", 1, False),), "a candidate must refuse a rival in its own term")
    return ex.problems


def c_majority(mut: Muts) -> list[str]:
    ex = Expect()
    a = candidate(V5, mut)
    ex(a.role is Role.CANDIDATE, "won with its own vote only")
    a.step(rvr("b", "a", 1, True))
    ex(a.role is Role.CANDIDATE, "won with 2 of 5 votes")
    a.step(rvr("c", "a", 1, True))
    ex(a.role is Role.LEADER, "did not win with 3 of 5 votes")
    return ex.problems


def c_duplicate_votes(mut: Muts) -> list[str]:
    ex = Expect()
    a = candidate(V5, mut)
    a.step(rvr("b", "a", 1, True))
    a.step(rvr("b", "a", 1, True))
    ex(a.role is Role.CANDIDATE, "a duplicated grant was counted twice")
    ex(a.votes_granted == {"a", "b"}, f"votes {sorted(a.votes_granted)}")
    return ex.problems


def c_stale_votes(mut: Muts) -> list[str]:
    ex = Expect()
    a = candidate(mut=mut)
    a.election_timeout()  # second election: term 2
    a.step(rvr("b", "a", 1, True))
    ex(a.role is Role.CANDIDATE, "a grant from term 1 counted in term 2")
    a.step(rvr("b", "a", 2, True))
    ex(a.role is Role.LEADER, "the term-2 grant did not elect a")
    return ex.problems


def c_response_term(mut: Muts) -> list[str]:
    ex = Expect()
    a = node("a", term=5, mut=mut)
    a.step(rv("b", "a", 3))
    a.step(ae("b", "a", 3))
    a.step(rv("b", "a", 4, pre=True))
    want = (rvr("a", "b", 5, False), aer("a", "b", 5, ok=False), rvr("a", "b", 5, False, pre=True))
    ex(out(a) == want, "stale requests must be refused with the current term 5")
    return ex.problems


def c_up_to_date(mut: Muts) -> list[str]:
    ex = Expect()
    cases = [((5, 2), True), ((3, 3), True), ((9, 1), False), ((4, 2), False)]
    for log, want in cases:
        a = node("a", mut=mut, last_log=(5, 2))
        a.step(rv("b", "a", 1, log=log))
        got = out(a)[0]
        ok = isinstance(got, RequestVoteResponse) and got.granted == want
        ex(ok, f"candidate log (index, term)={log} vs (5, 2): granted should be {want}")
    return ex.problems


def c_persist(mut: Muts) -> list[str]:
    ex = Expect()
    a = node("a", mut=mut)
    a.step(rv("b", "a", 1))
    rd = a.ready()
    ex(rd.hard_state == HardState(1, "b"), f"hard state {rd.hard_state}, want HardState(1, 'b')")
    disk = rd.hard_state or HardState(0, None)
    again = mutant_machine(mut, a.config, disk, FixedRng())
    for _ in range(10):
        again.tick()
    again.step(rv("c", "a", 1))
    ex(not any(getattr(m, "granted", False) for m in out(again)), "voted twice across a restart")
    return ex.problems


def c_prevote_keeps_terms(mut: Muts) -> list[str]:
    ex = Expect()
    a = node("a", mut=mut)
    a.election_timeout()
    rd = a.ready()
    ex(a.role is Role.PRE_CANDIDATE, f"role {a.role}, want pre_candidate")
    ex((a.term, a.voted_for) == (0, None), f"pre-candidate changed term/vote: {a.hard_state}")
    ex(rd.hard_state is None, "a pre-vote must not need a disk write")
    ex(rd.messages == (rv("a", "b", 1, pre=True), rv("a", "c", 1, pre=True)), "pre-vote requests")
    b = node("b", mut=mut)
    b.step(rv("a", "b", 1, pre=True))
    ex(out(b) == (rvr("b", "a", 1, True, pre=True),), "pre-vote should be granted at term 1")
    ex((b.term, b.voted_for) == (0, None), f"voter changed term/vote on a pre-vote: {b.hard_state}")
    return ex.problems


def c_stepdown_same_term(mut: Muts) -> list[str]:
    ex = Expect()
    a = candidate(mut=mut)
    a.step(ae("b", "a", 1))
    ex((a.role, a.term, a.leader) == (Role.FOLLOWER, 1, "b"), f"{a.role} {a.term} {a.leader}")
    ex(a.voted_for == "a", f"voted_for {a.voted_for} after stepping down in term 1, want a")
    a.ready()
    a.step(rv("c", "a", 1))
    ex(out(a) == (rvr("a", "c", 1, False),), "voted twice in term 1 after stepping down")
    return ex.problems


MUTANT_CHECKS: dict[Mutant, Check] = {
    Mutant.VOTE_TWICE: c_one_vote_per_term,
    Mutant.KEEP_VOTE_ON_NEW_TERM: c_higher_term_request,
    Mutant.NO_STEPDOWN_REQUEST: c_higher_term_request,
    Mutant.NO_STEPDOWN_RESPONSE: c_higher_term_response,
    Mutant.NO_STEPDOWN_HEARTBEAT: c_higher_term_heartbeat,
    Mutant.UPTODATE_GT: c_up_to_date,
    Mutant.UPTODATE_INDEX_FIRST: c_up_to_date,
    Mutant.QUORUM_HALF: c_majority,
    Mutant.COUNT_DUPLICATE_VOTES: c_duplicate_votes,
    Mutant.COUNT_STALE_VOTES: c_stale_votes,
    Mutant.NO_TERM_INCREMENT: c_candidate_term_and_self_vote,
    Mutant.NO_SELF_VOTE: c_candidate_term_and_self_vote,
    Mutant.STALE_TERM_IN_RESPONSE: c_response_term,
    Mutant.FORGET_STATE_ON_RESTART: c_persist,
    Mutant.BUMP_TERM_ON_STEPDOWN: c_stepdown_same_term,
    Mutant.PREVOTE_BUMPS_TERM: c_prevote_keeps_terms,
    Mutant.CLEAR_VOTE_ON_SAME_TERM_STEPDOWN: c_stepdown_same_term,
}


# ---------------------------------------------------------------------- the rules
def test_3_3_higher_term_in_request_makes_follower_with_fresh_vote() -> None:
    """§3.3: a newer term seen in a request converts the receiver to follower of that term
    with no vote yet (§3.4), so it can vote in the new term."""
    assert c_higher_term_request(frozenset()) == []


def test_3_3_higher_term_in_response_steps_leader_down() -> None:
    """§3.3: a leader that learns of a newer term from a response reverts to follower."""
    assert c_higher_term_response(frozenset()) == []


def test_3_4_heartbeat_of_newer_term_makes_candidate_follow_its_sender() -> None:
    """§3.4: a candidate receiving AppendEntries from a leader of a newer term follows it."""
    assert c_higher_term_heartbeat(frozenset()) == []


def test_3_4_candidate_steps_down_on_heartbeat_of_same_term() -> None:
    """§3.4: a candidate that hears from the leader of its own term returns to follower,
    keeping the term and its vote (it voted for itself and must not vote again)."""
    assert c_stepdown_same_term(frozenset()) == []


def test_3_4_votes_for_at_most_one_candidate_per_term() -> None:
    """§3.4: each server votes for at most one candidate in a term, first come first served."""
    assert c_one_vote_per_term(frozenset()) == []


def test_3_4_candidate_increments_term_and_votes_for_itself() -> None:
    """§3.4: to begin an election a follower increments its term, votes for itself (persisted)
    and sends RequestVote to every other server."""
    assert c_candidate_term_and_self_vote(frozenset()) == []


def test_3_4_candidate_needs_a_majority() -> None:
    """§3.4: a candidate wins only with votes from a majority of the full cluster."""
    assert c_majority(frozenset()) == []


def test_3_4_a_voter_is_counted_once() -> None:
    """§3.4 (majority of *servers*): a duplicated grant from one voter counts once."""
    assert c_duplicate_votes(frozenset()) == []


def test_3_3_votes_from_an_older_term_are_ignored() -> None:
    """§3.3: responses of an older term are stale and must be discarded."""
    assert c_stale_votes(frozenset()) == []


def test_3_3_refusals_carry_the_current_term() -> None:
    """§3.3: stale requests are refused and the reply carries the current term, so the
    stale sender updates itself."""
    assert c_response_term(frozenset()) == []


def test_3_6_vote_only_for_an_up_to_date_log() -> None:
    """§3.6.1: grant only if the candidate's last log term is higher, or equal with a log at
    least as long."""
    assert c_up_to_date(frozenset()) == []


def test_3_8_vote_is_persisted_before_it_is_sent() -> None:
    """§3.8: term and vote are on stable storage before responding; a restart keeps them."""
    assert c_persist(frozenset()) == []


def test_9_6_prevote_changes_no_term_or_vote() -> None:
    """§9.6: PreVote asks for term+1 without adopting it, on either side."""
    assert c_prevote_keeps_terms(frozenset()) == []


@pytest.mark.parametrize("mutant", list(Mutant), ids=[m.value for m in Mutant])
def test_each_planted_bug_is_caught_by_its_rule(mutant: Mutant) -> None:
    """Every mutant breaks the rule mapped to it (a rule test that cannot fail is no test)."""
    problems = MUTANT_CHECKS[mutant](frozenset({mutant}))
    assert problems, f"mutant {mutant} went unnoticed by {MUTANT_CHECKS[mutant].__name__}"


def test_every_mutant_has_a_rule_and_a_class() -> None:
    assert set(MUTANT_CHECKS) == set(Mutant) == set(MUTANTS)


@pytest.mark.parametrize("mutant", list(Mutant), ids=[m.value for m in Mutant])
def test_each_mutant_replaces_exactly_one_rule_method(mutant: Mutant) -> None:
    """A mutant is a one-method subclass: it breaks one named rule of the machine."""
    cls = MUTANTS[mutant]
    replaced = [n for n in vars(cls) if callable(getattr(RoleMachine, n, None))]
    assert len(replaced) == 1 and cls.__bases__ == (RoleMachine,), (mutant, replaced)


def test_mutants_combine_unless_they_break_the_same_rule() -> None:
    both = machine_class(frozenset({Mutant.VOTE_TWICE, Mutant.QUORUM_HALF}))
    assert issubclass(both, MUTANTS[Mutant.VOTE_TWICE]) and issubclass(
        both, MUTANTS[Mutant.QUORUM_HALF]
    )
    assert c_one_vote_per_term(frozenset({Mutant.VOTE_TWICE, Mutant.QUORUM_HALF}))
    with pytest.raises(ValueError, match="both replace _log_ok"):
        machine_class(frozenset({Mutant.UPTODATE_GT, Mutant.UPTODATE_INDEX_FIRST}))


def test_core_has_no_mutation_switches() -> None:
    """The production machine carries no test-only switches: the mutants are subclasses."""
    src = (pathlib.Path(__file__).parents[2] / "electorate" / "impl" / "core.py").read_text()
    assert not [m.value for m in Mutant if f'"{m.value}"' in src]
    assert "mutation" not in src.lower()


def test_9_6_prevote_quorum_starts_the_real_election() -> None:
    """§9.6: with a quorum of pre-votes the node becomes candidate of term+1."""
    a = node("a")
    a.election_timeout()
    a.ready()
    a.step(rvr("b", "a", 1, True, pre=True))
    rd = a.ready()
    assert (a.role, a.term, a.voted_for) == (Role.CANDIDATE, 1, "a")
    assert rd.messages == (rv("a", "b", 1), rv("a", "c", 1))


def test_9_6_a_grant_from_an_earlier_prevote_round_does_not_count() -> None:
    """§9.6: a pre-vote grant counts only for the term this round asks for (term+1); a late
    grant of an earlier round (it carries our current term) must not start an election.
    Found by the conformance suite's PreVote/CheckQuorum level."""
    a = node("a", term=1)
    a.election_timeout()
    a.ready()
    assert (a.role, a.term) == (Role.PRE_CANDIDATE, 1)
    a.step(rvr("b", "a", 1, True, pre=True))  # answered the round of term 0, asking for 1
    assert (role(a), a.term) == (Role.PRE_CANDIDATE, 1)
    a.step(rvr("b", "a", 2, True, pre=True))  # this round's grant
    assert (role(a), a.term) == (Role.CANDIDATE, 2)


def test_9_6_prevote_refusals_return_to_follower() -> None:
    """§9.6: once a quorum cannot be reached the pre-candidate gives up, term unchanged."""
    a = node("a")
    a.election_timeout()
    a.step(rvr("b", "a", 0, False, pre=True))
    assert role(a) is Role.PRE_CANDIDATE  # 1 refusal of 3: a could still win
    a.step(rvr("c", "a", 0, False, pre=True))
    assert (a.role, a.term) == (Role.FOLLOWER, 0)


def test_9_6_no_prevote_while_a_leader_was_heard_recently() -> None:
    """§9.6/§4.2.3: a server that heard from a leader within the minimum election timeout
    refuses pre-votes; after that timeout without heartbeats it grants them."""
    b = node("b")
    b.step(ae("c", "b", 1))
    b.ready()
    b.step(rv("a", "b", 2, pre=True))
    assert not any(getattr(m, "granted", False) for m in out(b))
    for _ in range(10):
        b.tick()
    b.ready()
    b.step(rv("a", "b", 2, pre=True))
    assert out(b) == (rvr("b", "a", 2, True, pre=True),)
    assert b.term == 1


def test_6_2_vote_requests_inside_a_lease_are_ignored() -> None:
    """§6.2 with CheckQuorum: a follower hearing from a live leader ignores vote requests
    (it does not even adopt their term); without CheckQuorum it votes."""
    for cq, want_term in ((True, 1), (False, 2)):
        b = node("b", check_quorum=cq)
        b.step(ae("c", "b", 1))
        b.ready()
        b.step(rv("a", "b", 2))
        assert b.term == want_term, f"check_quorum={cq}"
        granted = [m for m in out(b) if isinstance(m, RequestVoteResponse) and m.granted]
        assert bool(granted) == (not cq)


def test_6_4_no_campaign_inside_a_lease_unless_transferred() -> None:
    """§6.4.1: F acked leader L's heartbeat; G cannot reach L. If F could campaign on demand,
    its own vote plus G's would elect F while L still holds its lease. Only a transfer
    (the lease holder's own request) may start that election."""
    f = node("b")
    f.step(ae("c", "b", 1))
    f.ready()
    f.campaign()
    f.election_timeout()
    assert (role(f), f.term, out(f)) == (Role.FOLLOWER, 1, ())
    f.campaign(transfer=True)
    assert (role(f), f.term) == (Role.CANDIDATE, 2)
    g = node("a", term=1)  # no leader heard for a full election timeout
    g.step(out(f)[0])
    assert out(g) == (rvr("a", "b", 2, True),)
    nocq = node("b", check_quorum=False)
    nocq.step(ae("c", "b", 1))
    nocq.campaign()
    assert role(nocq) is Role.CANDIDATE, "without CheckQuorum there is no lease to protect"


def test_3_10_transfer_votes_override_the_lease() -> None:
    """§3.10: the vote request of a transfer target is considered inside the lease."""
    b = node("b")
    b.step(ae("c", "b", 1))
    b.ready()
    b.step(rv("a", "b", 2, transfer=True))
    assert out(b) == (rvr("b", "a", 2, True),)


def test_3_10_transfer_sends_timeout_now_and_target_campaigns_at_once() -> None:
    """§3.10: the leader sends TimeoutNow; the target starts an election immediately,
    skipping PreVote, and flags its requests as a transfer. The old leader's lease ends."""
    a = leader()
    a.step(aer("b", "a", 1))
    assert a.is_leader()
    a.transfer_leadership("b")
    assert out(a) == (TimeoutNow(CL, "a", "b", 1),)
    assert not a.is_leader() and a.lease_expiry is None and a.transfer_target == "b"
    b = node("b")
    b.step(ae("a", "b", 1))
    b.ready()
    b.step(TimeoutNow(CL, "a", "b", 1))
    assert (b.role, b.term) == (Role.CANDIDATE, 2)
    assert out(b) == (rv("b", "a", 2, transfer=True), rv("b", "c", 2, transfer=True))


def test_3_10_transfer_to_none_picks_the_most_responsive_follower() -> None:
    """§3.10: without a named target the follower that acknowledged the newest round wins."""
    a = leader()
    a.heartbeat_timeout()
    a.step(aer("b", "a", 1, rnd=1))
    a.step(aer("c", "a", 1, rnd=2))
    a.ready()
    a.transfer_leadership(None)
    assert out(a) == (TimeoutNow(CL, "a", "c", 1),)


def test_3_10_transfer_that_times_out_steps_down() -> None:
    """§3.10: a transfer not completed within an election timeout is abandoned; having given
    up its lease, the leader steps down rather than lead without one."""
    a = leader()
    a.transfer_leadership("c")
    a.ready()
    for _ in range(10):
        a.step(aer("b", "a", 1, rnd=a.heartbeat_round))  # keep CheckQuorum satisfied
        a.tick()
    assert role(a) is Role.FOLLOWER
    assert LeadershipLost(1, "transfer timed out") in a.ready().notifications


def test_transfer_to_a_non_voter_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a voter"):
        leader().transfer_leadership("zz")


def test_6_2_check_quorum_steps_down_a_leader_without_a_quorum() -> None:
    """§6.2: a leader that has not heard from a majority within an election timeout steps
    down."""
    a = leader()
    for _ in range(10):
        a.tick()
    assert role(a) is Role.FOLLOWER
    assert LeadershipLost(1, "check quorum failed") in a.ready().notifications


def test_6_2_check_quorum_keeps_a_leader_with_a_quorum() -> None:
    """§6.2: one responsive follower plus the leader is a quorum of 3."""
    a = leader()
    for _ in range(40):
        a.tick()
        a.step(aer("b", "a", 1, rnd=a.heartbeat_round))
    assert role(a) is Role.LEADER and a.is_leader()


def test_6_4_lease_starts_at_the_send_time_of_the_acknowledged_round() -> None:
    """§6.4.1: once a majority acknowledged a heartbeat round sent at t, the leader may act
    as leader until t + lease; then, without renewal, it steps down."""
    a = leader()  # round 1 sent at now = 10
    assert role(a) is Role.LEADER and not a.is_leader() and a.lease_expiry is None
    for _ in range(3):
        a.tick()  # rounds 2..4, unacknowledged
    a.step(aer("b", "a", 1, rnd=1))
    assert lease(a) == 10 + 8 and a.is_leader()
    a.step(aer("b", "a", 1, rnd=3))
    assert lease(a) == 12 + 8
    while a.now < 19:
        a.tick()
    assert a.is_leader()
    a.tick()
    assert role(a) is Role.FOLLOWER and not a.is_leader()
    assert LeadershipLost(1, "lease expired") in a.ready().notifications


def test_6_4_no_lease_without_check_quorum() -> None:
    """§6.4.1: leases rely on voters ignoring requests inside the lease, i.e. CheckQuorum."""
    a = leader(check_quorum=False)
    a.step(aer("b", "a", 1, rnd=1))
    assert a.lease_expiry is None and not a.is_leader()


def test_leader_token_is_its_term_and_is_announced() -> None:
    a = node("a", term=6, prevote=False)
    a.election_timeout()
    a.step(rvr("b", "a", 7, True))
    rd = a.ready()
    assert a.token == 7
    assert rd.notifications == (LeadershipAcquired(7, 7), LeaderChanged("a", 7))
    assert rd.soft_state == SoftState(Role.LEADER, "a")


def test_resign_steps_down_and_sits_out_a_timeout() -> None:
    a = leader()
    a.resign()
    assert role(a) is Role.FOLLOWER and a.leader is None
    assert LeadershipLost(1, "resigned") in a.ready().notifications
    a.election_timeout()
    assert role(a) is Role.FOLLOWER, "campaigned right after resigning"
    for _ in range(40):
        a.tick()
    assert role(a) is Role.PRE_CANDIDATE


def test_stale_leader_learns_the_new_term_from_a_refused_heartbeat() -> None:
    """§3.3: a deposed leader's heartbeat is refused with the newer term; it steps down."""
    b = node("b", term=3)
    b.step(ae("a", "b", 1))
    refusal = out(b)
    assert refusal == (aer("b", "a", 3, ok=False),)
    a = leader()
    a.step(refusal[0])
    assert (a.role, a.term) == (Role.FOLLOWER, 3)


def test_3_4_election_timeout_is_drawn_from_one_to_two_timeouts() -> None:
    """§3.4: randomized timeouts in [T, 2T) on every timer reset."""
    rng = FixedRng()
    m = RoleMachine(CoreConfig("a", V3, election_ticks=7, lease_ticks=5), HardState(0, None), rng)
    m.step(ae("b", "a", 1))
    m.election_timeout()
    assert rng.calls and set(rng.calls) == {(7, 14)}
    assert m.randomized_timeout == 13


def test_election_fires_after_the_drawn_timeout() -> None:
    m = node("a", warm=False)
    for _ in range(18):
        m.tick()
    assert role(m) is Role.FOLLOWER
    m.tick()
    assert role(m) is Role.PRE_CANDIDATE


def test_3_4_follower_of_a_silent_leader_campaigns_when_its_timer_fires() -> None:
    """§3.4: a follower that hears nothing for its election timeout starts an election, even
    though it still remembers the (silent) leader; with and without PreVote."""
    for prevote, want in ((False, Role.CANDIDATE), (True, Role.PRE_CANDIDATE)):
        m = node("a", prevote=prevote)
        m.step(ae("c", "a", 1))
        for _ in range(m.randomized_timeout):
            m.tick()
        assert role(m) is want, f"prevote={prevote}"


def test_single_node_elects_itself_with_a_lease() -> None:
    m = node("a", ("a",))
    m.election_timeout()
    assert role(m) is Role.LEADER and m.is_leader() and m.term == 1


def test_restarted_node_refuses_votes_for_one_election_timeout() -> None:
    """A node that just (re)started may have acked a leader's heartbeat before crashing:
    it must not help undercut that lease (see docs/impl-core.md, restart guard)."""
    b = node("b", warm=False)
    b.step(rv("a", "b", 1, pre=True))
    assert out(b) == ()
    for _ in range(10):
        b.tick()
    b.step(rv("a", "b", 1, pre=True))
    assert out(b) == (rvr("b", "a", 1, True, pre=True),)


@pytest.mark.parametrize(
    "msg",
    [
        RequestVote("other", "b", "a", 5, 0, 0, False),
        RequestVote(CL, "zz", "a", 5, 0, 0, False),
        RequestVote(CL, "b", "c", 5, 0, 0, False),
        RequestVote(CL, "a", "a", 5, 0, 0, False),
    ],
    ids=["other-cluster", "unknown-sender", "wrong-destination", "from-self"],
)
def test_foreign_messages_are_ignored_and_counted(msg: RequestVote) -> None:
    m = node("a")
    m.step(msg)
    assert m.term == 0 and out(m) == () and m.ignored_messages == 1


def test_ready_reports_each_change_once() -> None:
    m = node("a", prevote=False)
    assert not m.has_ready()
    m.election_timeout()
    assert m.has_ready()
    rd = m.ready()
    assert rd.hard_state == HardState(1, "a")
    assert rd.soft_state == SoftState(Role.CANDIDATE, None)
    assert not m.has_ready() and m.ready() == type(rd)(None, (), None, ())


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"node_id": "x"}, "not among voters"),
        ({"voters": ("a", "a", "b")}, "duplicates"),
        ({"heartbeat_ticks": 0}, "heartbeat_ticks"),
        ({"election_ticks": 3, "heartbeat_ticks": 2, "lease_ticks": 1}, r"2 \* heartbeat_ticks"),
        ({"lease_ticks": 10}, "lease_ticks"),
        ({"lease_ticks": 0}, "lease_ticks"),
        ({"cluster": ""}, "cluster"),
    ],
)
def test_config_errors_say_what_to_fix(kwargs: dict[str, object], needle: str) -> None:
    base: dict[str, object] = {"node_id": "a", "voters": V3}
    cfg = CoreConfig(**(base | kwargs))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=needle):
        cfg.validate()
    with pytest.raises(ConfigError):
        RoleMachine(cfg, HardState(0, None), FixedRng())


def test_bad_hard_state_is_rejected() -> None:
    cfg = CoreConfig("a", V3)
    with pytest.raises(ConfigError, match="not a voter"):
        RoleMachine(cfg, HardState(1, "zz"), FixedRng())
    with pytest.raises(ConfigError, match="term"):
        RoleMachine(cfg, HardState(-1, None), FixedRng())
    with pytest.raises(ConfigError, match="term"):
        RoleMachine(cfg, HardState(MAX_TERM + 1, None), FixedRng())


def test_terms_stop_at_uint64_without_an_overflow() -> None:
    """Terms are uint64 (etcd, hashicorp/raft): a node at the last term never campaigns into
    an unencodable one, and a message beyond it is ignored and counted."""
    m = node("a", term=MAX_TERM, prevote=False)
    m.election_timeout()
    m.campaign()
    assert (role(m), m.term, m.ready().messages) == (Role.FOLLOWER, MAX_TERM, ())
    p = node("a", term=MAX_TERM)
    p.election_timeout()
    assert (role(p), p.term, p.ready().messages) == (Role.FOLLOWER, MAX_TERM, ())
    f = node("a")
    f.step(ae("b", "a", MAX_TERM + 1))
    assert (f.term, out(f), f.ignored_messages) == (0, (), 1)


def test_core_is_pure() -> None:
    """The core imports no clock, I/O, thread or global randomness, and not spec/."""
    src = pathlib.Path(__file__).parents[2] / "electorate" / "impl" / "core.py"
    tree = ast.parse(src.read_text())
    imported: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            imported |= {_root(a.name) for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.module:
            imported.add(_root(n.module))
    assert not imported & {"asyncio", "socket", "time", "random", "threading", "spec", "os"}


def _root(module: str) -> str:
    """The top-level name of a module, or its subpackage for electorate's own modules."""
    parts = module.split(".")
    return parts[1] if parts[0] == "electorate" and len(parts) > 1 else parts[0]


def test_production_modules_never_import_the_test_machinery() -> None:
    impl = pathlib.Path(__file__).parents[2] / "electorate" / "impl"
    for path in sorted(impl.glob("*.py")):
        for n in ast.walk(ast.parse(path.read_text())):
            if isinstance(n, ast.ImportFrom) and n.module:
                assert _root(n.module) != "testing", f"{path.name} imports {n.module}"
