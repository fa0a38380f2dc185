"""The lease hole the model checker found (spec/features/restated.py, ``keeps_lease_promise``).

Three pure cores s1, s2, s3 (CheckQuorum and leases on) tick in lockstep; the test delivers,
holds or drops each message:

1. t=10: s1 and s2 both campaign for term 2 (with PreVote, each grants the other's pre-vote).
   s3 votes for s1; its grant reaches s1 at t=14: s1 leads term 2. s2's RequestVote(2) to s3
   stays in flight.
2. t=20: s3 has heard no heartbeat since its vote and campaigns for term 3 (with PreVote, s2,
   still a candidate that knows no leader, grants its pre-vote).
3. s1's delayed heartbeats reach s2, which acks: s1 holds a lease backed by {s1, s2}.
4. s3 answers s2's stale RequestVote(2) with a refusal carrying term 3 (§3.3).
5. s2 receives it. Adopting term 3 forgets s1 and ends s2's lease check; s2 then votes s3 in
   and acks its heartbeat while s1's lease still runs: two cores with ``is_leader()``.

The rule that closes it: inside a live leader's lease a non-leader adopts a newer term only
from that term's leader (a heartbeat) or a transfer; other newer-term messages are dropped
and counted in ``ignored_messages``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from electorate.impl.core import CoreConfig, HardState, Role, RoleMachine
from electorate.impl.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Message,
    RequestVote,
    RequestVoteResponse,
)

IDS = ("s1", "s2", "s3")
ELECTION, LEASE = 10, 8
# Election timeout draws, in order (the last one repeats). s1 and s2 fire at t=10; s3's draw
# after its vote at t=10 is the shortest allowed, so it fires at t=20; later draws are long.
DRAWS = {"s1": [10, 19], "s2": [10, 19], "s3": [15, 10, 19]}
Pick = Callable[[Message], bool]


class ScriptedRng:
    """Returns the scripted election timeout draws, so the schedule is fixed."""

    def __init__(self, draws: list[int]) -> None:
        self.draws = list(draws)

    def randrange(self, start: int, stop: int) -> int:
        value = self.draws.pop(0) if len(self.draws) > 1 else self.draws[0]
        assert start <= value < stop, f"draw {value} outside [{start}, {stop})"
        return value


class Net:
    """The three cores and the messages in flight between them. After every event it checks
    that at most one core holds a valid lease."""

    def __init__(self, prevote: bool) -> None:
        self.nodes = {
            n: RoleMachine(
                CoreConfig(n, IDS, election_ticks=ELECTION, lease_ticks=LEASE, prevote=prevote),
                HardState(1, None),
                ScriptedRng(DRAWS[n]),
            )
            for n in IDS
        }
        self.flight: list[Message] = []

    def __getitem__(self, n: str) -> RoleMachine:
        return self.nodes[n]

    def collect(self) -> None:
        for m in self.nodes.values():
            self.flight.extend(m.ready().messages)
        holders = sorted((n, m.term) for n, m in self.nodes.items() if m.is_leader())
        assert len(holders) <= 1, f"two valid leases at t={self['s1'].now}: {holders}"

    def tick(self) -> None:
        for m in self.nodes.values():
            m.tick()
        self.collect()

    def take(self, want: Pick) -> Message:
        """Remove and return the one in-flight message ``want`` picks."""
        hits = [m for m in self.flight if want(m)]
        assert len(hits) == 1, f"expected one matching message in flight, got {hits}"
        self.flight.remove(hits[0])
        return hits[0]

    def deliver(self, want: Pick) -> None:
        m = self.take(want)
        self.nodes[m.dst].step(m)
        self.collect()

    def deliver_all(self, want: Pick) -> None:
        """Deliver, oldest first, every message ``want`` picks (also ones sent meanwhile)."""
        while hits := [m for m in self.flight if want(m)]:
            self.flight.remove(hits[0])
            self.nodes[hits[0].dst].step(hits[0])
            self.collect()

    def drop_all(self, want: Pick) -> None:
        self.flight = [m for m in self.flight if not want(m)]


def link(kind: type[Message], src: str, dst: str, term: int | None = None) -> Pick:
    def pick(m: Message) -> bool:
        ok = isinstance(m, kind) and m.src == src and m.dst == dst
        return ok and (term is None or m.term == term)

    return pick


def is_pre(m: Message) -> bool:
    return isinstance(m, (RequestVote, RequestVoteResponse)) and m.pre_vote


def between_s1_s2(m: Message) -> bool:
    return is_pre(m) and {m.src, m.dst} == {"s1", "s2"}


def tick_until(net: Net, t: int) -> None:
    """Tick to time t; s1's heartbeats to s3 are lost, those to s2 held back."""
    while net["s1"].now < t:
        net.tick()
        net.drop_all(link(AppendEntries, "s1", "s3"))


def elect_s1(net: Net) -> None:
    """Step 1: s1 leads term 2 from t=14; s2, a candidate of term 2, knows no leader."""
    tick_until(net, 10)
    # With PreVote on, s1 and s2 grant each other's pre-vote, then both campaign.
    net.deliver_all(lambda m: between_s1_s2(m) and isinstance(m, RequestVote))
    net.deliver_all(between_s1_s2)
    net.drop_all(is_pre)
    assert [net[n].role for n in IDS] == [Role.CANDIDATE, Role.CANDIDATE, Role.FOLLOWER]
    net.deliver(link(RequestVote, "s1", "s3", 2))
    assert net["s3"].voted_for == "s1"
    tick_until(net, 14)
    net.deliver(link(RequestVoteResponse, "s3", "s1", 2))
    assert net["s1"].role is Role.LEADER and net["s2"].role is Role.CANDIDATE
    net.drop_all(link(RequestVote, "s1", "s2"))
    net.drop_all(link(RequestVote, "s2", "s1"))
    net.drop_all(link(RequestVoteResponse, "s2", "s1"))


def s3_campaigns(net: Net) -> None:
    """Step 2: s3's timer fires at t=20; it reaches term 3 (through PreVote, if on)."""
    tick_until(net, 20)
    net.deliver_all(lambda m: is_pre(m) and "s2" in (m.src, m.dst))
    net.drop_all(is_pre)
    assert net["s3"].role is Role.CANDIDATE and net["s3"].term == 3


def s1_gets_its_lease(net: Net) -> None:
    """Step 3: s1's held heartbeats reach s2; its acks give s1 a lease."""
    net.deliver_all(link(AppendEntries, "s1", "s2"))
    net.deliver_all(link(AppendEntriesResponse, "s2", "s1"))
    assert net["s2"].leader == "s1" and net["s1"].is_leader()


def stale_refusal_reaches_s2(net: Net) -> None:
    """Steps 4-5: s3 refuses s2's stale RequestVote(2) with term 3, and s2 receives that."""
    net.deliver(link(RequestVote, "s2", "s3", 2))
    net.deliver(link(RequestVoteResponse, "s3", "s2", 3))


def setup(prevote: bool) -> Net:
    net = Net(prevote)
    elect_s1(net)
    s3_campaigns(net)
    s1_gets_its_lease(net)
    return net


@pytest.mark.parametrize("prevote", [False, True], ids=["no-prevote", "prevote"])
def test_a_stale_refusal_does_not_wipe_a_lease_promise(prevote: bool) -> None:
    """The whole schedule: s2 keeps term 2 and its leader, drops s3's vote request, and s3
    cannot win while s1's lease runs (Net asserts one lease holder after every event)."""
    net = setup(prevote)
    s2 = net["s2"]
    ignored = s2.ignored_messages
    stale_refusal_reaches_s2(net)
    net.deliver_all(link(RequestVote, "s3", "s2", 3))
    net.deliver_all(link(RequestVoteResponse, "s2", "s3", 3))
    net.deliver_all(link(AppendEntries, "s3", "s2", 3))
    net.deliver_all(link(AppendEntriesResponse, "s2", "s3", 3))
    assert (s2.term, s2.leader, s2.role, s2.voted_for) == (2, "s1", Role.FOLLOWER, "s2")
    assert s2.ignored_messages == ignored + 2  # the refusal and the vote request
    assert not any(m.src == "s2" and m.dst == "s3" for m in net.flight), "s2 answered s3"
    assert net["s1"].is_leader() and net["s3"].role is Role.CANDIDATE


@pytest.mark.parametrize("prevote", [False, True], ids=["no-prevote", "prevote"])
def test_s3_wins_once_the_lease_check_of_s2_expires(prevote: bool) -> None:
    """Liveness: s1 is cut off after t=20. s3's RequestVote(3), redelivered every tick, is
    granted exactly when s2 last heard s1 election_ticks ago (not before); s1's lease ran out
    earlier, so s3 then wins term 3 (Net asserts one lease holder after every event)."""
    net = setup(prevote)
    stale_refusal_reaches_s2(net)
    ask = net.take(link(RequestVote, "s3", "s2", 3))
    s2, last_heard = net["s2"], net["s2"].now
    while net["s3"].role is not Role.LEADER:
        net.tick()
        net.drop_all(lambda m: "s1" in (m.src, m.dst))
        s2.step(ask)
        net.collect()
        granted = any(link(RequestVoteResponse, "s2", "s3", 3)(m) for m in net.flight)
        assert granted == (s2.now - last_heard >= ELECTION), f"t={s2.now} granted={granted}"
        net.deliver_all(link(RequestVoteResponse, "s2", "s3", 3))
    assert net["s3"].term == 3 and net["s3"].now == last_heard + ELECTION
    assert net["s1"].role is Role.FOLLOWER and not net["s1"].is_leader()


@pytest.mark.parametrize("kind", [RequestVoteResponse, AppendEntriesResponse])
def test_newer_term_responses_are_dropped_inside_a_lease(kind: type[Message]) -> None:
    """The rule on its own: a follower inside a lease drops any response of a newer term."""
    net = Net(prevote=False)
    elect_s1(net)
    s1_gets_its_lease(net)
    s2 = net["s2"]
    before = s2.ignored_messages
    m: Message
    if kind is RequestVoteResponse:
        m = RequestVoteResponse("electorate", "s3", "s2", 5, False, False)
    else:
        m = AppendEntriesResponse("electorate", "s3", "s2", 5, False, 1)
    s2.step(m)
    assert (s2.term, s2.leader, s2.ignored_messages) == (2, "s1", before + 1)
    assert s2.ready().messages == ()


def test_a_newer_leader_still_takes_over_inside_a_lease() -> None:
    """The exception: a heartbeat of a newer term comes from that term's leader, so a follower
    inside a lease adopts its term and leader at once."""
    net = Net(prevote=False)
    elect_s1(net)
    s1_gets_its_lease(net)
    s2 = net["s2"]
    s2.step(AppendEntries("electorate", "s3", "s2", 5, 0, 1))
    assert (s2.term, s2.leader) == (5, "s3")
    assert AppendEntriesResponse("electorate", "s2", "s3", 5, True, 1) in s2.ready().messages


def test_a_leader_still_steps_down_on_a_newer_term_response() -> None:
    """A leader keeps the usual rule (§3.3): a response of a newer term deposes it."""
    net = Net(prevote=False)
    elect_s1(net)
    s1_gets_its_lease(net)
    s1 = net["s1"]
    s1.step(AppendEntriesResponse("electorate", "s3", "s1", 5, False, 1))
    assert (s1.role, s1.term, s1.leader) == (Role.FOLLOWER, 5, None)
