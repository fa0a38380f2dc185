"""Coverage targets: what a run must have exercised, defined from the spec.

A target is hit by a step the implementation passed. The targets of the canonical level are
every branch of raft.tla's ``Receive`` by message type, receiver role and term relation (the
message's term older than, equal to or newer than the receiver's), the actions by the roles
they fire in, and a few situations named after bugs they expose (a duplicated vote response, a
restart right after a vote, a vote split between candidates, ...). The feature level adds the
PreVote and CheckQuorum branches. A run that misses a target fails as vacuous: a pass means
nothing for a branch the search never reached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Final

from electorate.conformance.canonical import MESSAGE_TYPES
from electorate.conformance.compose import Composite
from electorate.conformance.script import Step
from electorate.spec.messages import Message, MType
from electorate.spec.state import NIL, Role, State

REQUESTS: Final = (MType.RequestVoteRequest, MType.AppendEntriesRequest)
ROLE: Final = {
    Role.Follower: "follower",
    Role.Candidate: "candidate",
    Role.Leader: "leader",
    Role.PreCandidate: "pre_candidate",
}


def _receive(kind: str, relation: str, role: str) -> str:
    return f"receive {kind} {relation} at {role}"


# Receive branches raft.tla can take, by message type, term relation and receiver role. A
# leader never receives an AppendEntries of its own term (one leader per term); every other
# combination is reachable.
_ROLES3 = ("follower", "candidate", "leader")
RECEIVE_TARGETS: Final = tuple(
    _receive(kind, rel, role)
    for kind in ("request_vote", "request_vote_res", "append_entries", "append_entries_res")
    for rel in ("older", "same", "newer")
    for role in _ROLES3
    if not (kind == "append_entries" and rel == "same" and role == "leader")
)

ACTION_TARGETS: Final = (
    "timeout at follower",
    "timeout at candidate",  # a split vote: the candidate starts again
    "become leader",
    "heartbeat",  # a leader's heartbeat timer
    "split vote",  # a vote refused: the voter voted for another candidate this term
    "vote refused for stale log",  # a vote refused: the candidate's log is behind
    "duplicate vote response",  # a grant delivered again to its candidate
    "leader after heal",  # an election completed after a partition healed
)
RESTART_TARGETS: Final = (
    "restart at follower",
    "restart at candidate",
    "restart at leader",
    "restart right after a vote",  # the restarted node had voted in its current term
)
TRANSFER_TARGETS: Final = ("transfer",)
FEATURE_TARGETS: Final = (
    "prevote won",  # a quorum of pre-votes started a real election (StartElection)
    "prevote ignored in lease",  # a voter inside a leader's lease dropped a pre-vote
    "vote ignored in lease",  # a voter inside a leader's lease dropped a real vote request
    "check quorum step down",  # a leader that heard no quorum in a period stepped down
    "become leader",  # every election on this level follows a PreVote round
)
ABANDON_TARGETS: Final = ("prevote abandoned",)  # a pre-candidate gave up: lost pre-vote
# Reached only through the answer to a request of an older term (the answer carries the newer
# term back): an implementation that answers none (raft.tla admits it, a lost reply) cannot
# reach them, and a run that shows it is excused from them (see `excused`).
STALE_ANSWER_TARGETS: Final = (
    _receive("request_vote_res", "newer", "follower"),
    _receive("request_vote_res", "newer", "candidate"),
    _receive("request_vote_res", "newer", "leader"),
    _receive("append_entries_res", "same", "candidate"),
    _receive("append_entries_res", "newer", "follower"),
    _receive("append_entries_res", "newer", "candidate"),
    _receive("append_entries_res", "newer", "leader"),
)
# Options that change only a reply: exercised only when the reply was sent, not lost.
REPLY_ONLY: Final = frozenset({"AckStaleAppendEntries", "GrantPreVoteToVotedCandidate"})
STALE_ANSWERED, STALE_UNANSWERED = "stale request answered", "stale request unanswered"
# The option whose restated action or handler a composition took (counted, not required): the
# report shows how often each declared deviation was exercised.
OPTION_ACTIONS: Final = {
    "BareHeartbeat": "bare_heartbeats",
    "KeepProgress": "monotone_progress",
    "AckStaleAppendEntries": "stale_append_success",
    "RefuseVoteKnowingLeader": "vote_refused_with_known_leader",
    "RefusePreVoteKnowingLeader": "prevote_refused_with_known_leader",
    "GrantPreVoteToVotedCandidate": "prevote_granted_to_voted_candidate",
    "CountStalePreVote": "stale_prevote_grant_counted",
    "AdoptNewerTermInLease": "newer_term_adopted_in_lease",
}
# Everything else a run hits is counted and reported without being required, among them the
# feature level's Receive branches and "newer term ignored in lease" (rare at any budget).


def required(
    featured: bool, capabilities: Iterable[str], options: Iterable[str]
) -> tuple[str, ...]:
    """The targets a run of this level, for an adapter with these declarations, must hit."""
    caps, opts = set(capabilities), set(options)
    if featured:
        extra = ABANDON_TARGETS if "abandon_lost_election" in opts else ()
        return FEATURE_TARGETS + extra
    out = RECEIVE_TARGETS + ACTION_TARGETS
    if "crash_restart" in caps:
        out += RESTART_TARGETS
    if "transfer" in caps:
        out += TRANSFER_TARGETS
    return out


def excused(hit: Counter[str]) -> dict[str, str]:
    """Targets this implementation's admitted choices make unreachable, with the reason: an
    implementation that answered none of the requests of an older term it was given (and was
    given some) never sends the answers that STALE_ANSWER_TARGETS receive."""
    if hit[STALE_ANSWERED] or not hit[STALE_UNANSWERED]:
        return {}
    why = (
        f"unreachable here: the implementation answered none of {hit[STALE_UNANSWERED]} "
        "requests of an older term (raft.tla admits it: a lost reply), and only such an "
        "answer brings a newer term back to this receiver"
    )
    return dict.fromkeys(STALE_ANSWER_TARGETS, why)


def option(name: str) -> str:
    """The coverage entry that counts the steps exercising a declared option."""
    return f"option {name}"


def hits(
    step: Step,
    before: State,
    shown_before: dict[int, str],
    comp: Composite,
    healed: bool,
) -> list[str]:
    """The targets one passed step hit. ``shown_before`` is each node's role as the mapping
    showed it before the step (an abandoned candidate is a follower)."""
    out = [_action(a.name, a.detail, healed) for a in comp.actions]
    found = [t for t in out if t]
    for a in comp.actions:
        name = a.detail or a.name
        if name in OPTION_ACTIONS and not (name in REPLY_ONLY and comp.omitted):
            found.append(option(OPTION_ACTIONS[name]))
    for i in comp.aux.abandoned:
        if shown_before[i] == "pre_candidate":
            found.append("prevote abandoned")
    m = step.msg
    if step.op == "deliver" and m is not None and comp.core == "full":
        found.append(_receive(_kind(m), _relation(m, before), shown_before[m.mdest]))
        found += _delivery_situations(m, before)
        if m.mtype in REQUESTS and m.mterm < before.current_term[m.mdest]:
            found.append(STALE_UNANSWERED if comp.omitted else STALE_ANSWERED)
    elif step.op == "timeout" and comp.actions:
        found.append(f"timeout at {shown_before[step.node]}")
    elif step.op == "heartbeat":
        found.append("heartbeat")
    elif step.op == "restart":
        found.append(f"restart at {ROLE[before.role[step.node]]}")
        if before.voted_for[step.node] != NIL:
            found.append("restart right after a vote")
    elif step.op == "transfer":
        found.append("transfer")
    return found


def _action(name: str, detail: str, healed: bool) -> str:
    if name == "BecomeLeader":
        return "leader after heal" if healed else "become leader"
    if name == "StartElection":
        return "prevote won"
    if name == "ElectionTimer" and "steps down" in detail:
        return "check quorum step down"
    return {
        "IgnorePreVoteInLease": "prevote ignored in lease",
        "IgnoreVoteRequestInLease": "vote ignored in lease",
        "IgnoreNewerTermInLease": "newer term ignored in lease",
    }.get(detail, "")


def _kind(m: Message) -> str:
    kind = MESSAGE_TYPES[m.mtype]
    return kind.replace("request_vote", "pre_vote") if m.mpre_vote else kind


def _relation(m: Message, s: State) -> str:
    mine = s.current_term[m.mdest]
    return "older" if m.mterm < mine else "newer" if m.mterm > mine else "same"


def _delivery_situations(m: Message, s: State) -> list[str]:
    d = m.mdest
    out = []
    vote = m.mtype == MType.RequestVoteRequest and not m.mpre_vote
    if vote and m.mterm == s.current_term[d] and s.voted_for[d] not in (NIL, m.msource):
        out.append("split vote")
    if m.mtype == MType.RequestVoteRequest and not m.mpre_vote and m.mterm >= s.current_term[d]:
        last = s.log[d][-1].term if s.log[d] else 0
        behind = m.mlast_log_term < last or (
            m.mlast_log_term == last and m.mlast_log_index < len(s.log[d])
        )
        if behind:
            out.append("vote refused for stale log")
    if (
        m.mtype == MType.RequestVoteResponse
        and not m.mpre_vote
        and m.mvote_granted
        and m.mterm == s.current_term[d]
        and s.role[d] == Role.Candidate
        and s.votes_responded[d] >> m.msource & 1
    ):
        out.append("duplicate vote response")
    return out


def predict(step: Step, s: State, shown: dict[int, str]) -> list[str]:
    """The targets a step would hit if the implementation handles it in full (used to steer
    the search towards the targets it has not hit yet)."""
    m = step.msg
    if step.op == "deliver" and m is not None:
        out = [_receive(_kind(m), _relation(m, s), shown[m.mdest]), *_delivery_situations(m, s)]
        return out + _likely_outcomes(m, s)
    if step.op == "period" and s.role[step.node] == Role.Leader:
        return ["check quorum step down"]  # drawn only when the leader heard no quorum
    if step.op == "timeout":
        return [f"timeout at {shown[step.node]}"]
    if step.op == "restart":
        out = [f"restart at {ROLE[s.role[step.node]]}"]
        return out + (["restart right after a vote"] if s.voted_for[step.node] != NIL else [])
    if step.op in ("heartbeat", "transfer"):
        return [step.op]
    return []


def _likely_outcomes(m: Message, s: State) -> list[str]:
    """Targets a delivery usually leads to (the implementation decides: a guess for steering)."""
    d = m.mdest
    newer = m.mterm > s.current_term[d]
    heard = bool(s.heard_leader) and s.heard_leader[d]
    if m.mtype == MType.RequestVoteRequest:
        if newer and heard:
            return ["prevote ignored in lease" if m.mpre_vote else "vote ignored in lease"]
        return []
    if m.mtype != MType.RequestVoteResponse:
        return []
    if m.mpre_vote and s.role[d] == Role.PreCandidate:
        return ["prevote won"] if m.mvote_granted else ["prevote abandoned"]
    if not m.mpre_vote and m.mvote_granted and s.role[d] == Role.Candidate:
        return ["become leader"]
    return []
