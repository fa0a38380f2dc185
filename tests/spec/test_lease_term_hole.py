"""The lease hole the LeaseBacked lemma pointed at: a follower inside a lease adopted a newer
term from a vote *response*, forgot its promise and voted a rival in while the old leader still
held its lease (two is_leader at once). The trace needs max_msgs 2 and max_term 3 on 3 servers.

The test replays that schedule step by step on the spec: every step up to the response is
enabled, and the response is now ignored (`IgnoreNewerTermInLease`); without the rule the label
is `UpdateTerm` and the rest of the schedule ends with s1 and s3 both holding a lease.
"""

from __future__ import annotations

from electorate.spec.features.lease import LeaseBacked, is_leader
from electorate.spec.features.restated import keeps_lease_promise
from electorate.spec.messages import Message, MType
from electorate.spec.next import Init, Next
from electorate.spec.params import Params
from electorate.spec.state import Role, State

P = Params(servers=3, features=frozenset({"lease"}), max_term=3, max_msgs=2)

# s1 wins term 2 with s3's vote; s2, a term-2 candidate with a vote request to s3 in flight,
# hears s1 and acks (s1's lease rests on s2); s3 campaigns in term 3 and refuses s2's stale
# request with term 3.
TO_THE_RESPONSE = [
    "Timeout(s1)",
    "RequestVote(s1, s3)",
    "Receive(RequestVoteRequest s1->s3 term 2) [UpdateTerm]",
    "Receive(RequestVoteRequest s1->s3 term 2) [HandleRequestVoteRequest]",
    "Receive(RequestVoteResponse s3->s1 term 2 granted) [HandleRequestVoteResponse]",
    "RequestVote(s1, s1)",
    "Receive(RequestVoteRequest s1->s1 term 2) [HandleRequestVoteRequest]",
    "Receive(RequestVoteResponse s1->s1 term 2 granted) [HandleRequestVoteResponse]",
    "BecomeLeader(s1)",
    "Timeout(s2)",
    "RequestVote(s2, s3)",
    "AppendEntries(s1, s2)",
    "Receive(AppendEntriesRequest s1->s2 term 2 prev 0@0) [HandleAppendEntriesRequest]",
    "Receive(AppendEntriesRequest s1->s2 term 2 prev 0@0) [HandleAppendEntriesRequest]",
    "Receive(AppendEntriesResponse s2->s1 term 2 ok match 0) [HandleAppendEntriesResponse]",
    "Timeout(s3)",
    "Receive(RequestVoteRequest s2->s3 term 2) [HandleRequestVoteRequest]",
]
THE_RESPONSE = "Receive(RequestVoteResponse s3->s2 term 3 denied)"


def _replay(labels: list[str]) -> State:
    return _replay_from(Init(P), labels)


def test_follower_in_lease_ignores_a_newer_term_from_a_response() -> None:
    s = _replay(TO_THE_RESPONSE)
    assert is_leader(P, s, 0) and s.heard_leader[1]
    labels = [str(a) for a, _ in Next(P, s) if str(a).startswith(THE_RESPONSE)]
    assert labels == [f"{THE_RESPONSE} [IgnoreNewerTermInLease]"]
    t = _replay([*TO_THE_RESPONSE, labels[0]])
    assert (t.current_term[1], t.heard_leader[1]) == (2, True)
    assert LeaseBacked(P, t)


def test_the_rival_cannot_collect_the_follower_vote_inside_the_lease() -> None:
    s = _replay([*TO_THE_RESPONSE, f"{THE_RESPONSE} [IgnoreNewerTermInLease]"])
    s = _replay_from(s, ["RequestVote(s3, s2)"])
    labels = [str(a) for a, _ in Next(P, s) if str(a).startswith("Receive(RequestVoteRequest")]
    assert labels == ["Receive(RequestVoteRequest s3->s2 term 3) [IgnoreVoteRequestInLease]"]


def test_a_leader_still_adopts_a_newer_term_from_a_response() -> None:
    """Only followers keep a promise; a leader that learns of a newer term steps down."""
    s = _replay(TO_THE_RESPONSE[:9])
    assert s.role[0] == Role.Leader
    assert not _would_ignore(s, 0)


def _would_ignore(s: State, i: int) -> bool:
    m = Message(MType.RequestVoteResponse, s.current_term[i] + 1, (i + 1) % 3, i)
    return keeps_lease_promise(P, s, i, m)


def _replay_from(s: State, labels: list[str]) -> State:
    for label in labels:
        steps = {str(a): t for a, t in Next(P, s)}
        assert label in steps, f"{label} not enabled; enabled: {sorted(steps)}"
        s = steps[label]
    return s
