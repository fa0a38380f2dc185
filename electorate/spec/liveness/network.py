"""The liveness models' network: the topology's links, lossy until the network stabilizes.

Differences from raft.tla's network (a bag that duplicates and loses at any time), each stated
once here:

- A message on a link outside the topology is lost at once (it could only ever be dropped).
- Before stabilization any message may be lost (DropMessage); after it, none is, and every
  message on a link is eventually received (weak fairness of Receive, spec/liveness/fairness).
- Each link holds at most one message of each kind (request or response, vote or pre-vote or
  heartbeat): a newer one of the same kind supersedes it, as the older one would arrive stale
  or as a duplicate (a server's term only grows, and within one term a server sends the same
  request and gives the same answer again). So the network is finite, and a message is named
  by its slot (source, destination, kind) whatever its term: fairness is stated per slot.
- No duplication: a duplicate only repeats a delivery the slot already makes.
- A response that can no longer change anything (`dead`) leaves at once: receiving it would
  only discard it. Terms only grow and a server never returns to a role within one term, so a
  dead response stays dead; removing it early changes no future.
- A stale request (of a term older than its receiver's) carries term STALE (0, below every
  term): its receiver answers it from its own term alone and never reads how old it is, and a
  stale request stays stale. So the network keeps no history of old terms.
"""

from __future__ import annotations

from electorate.spec import actions
from electorate.spec.messages import Bag, Message, MType
from electorate.spec.params import Params
from electorate.spec.state import Role, State

Slot = tuple[int, int, MType, bool]  # (source, destination, type, pre-vote)
STALE = 0  # the term of every stale request (servers start in term 1)
REQUESTS = (MType.RequestVoteRequest, MType.AppendEntriesRequest)


def slot(m: Message) -> Slot:
    return (m.msource, m.mdest, m.mtype, m.mpre_vote)


def DropMessage(p: Params, s: State, m: Message) -> State | None:
    """The network loses a message in flight, before it has stabilized.

    TLA+: LDropMessage(m).
    """
    return None if s.stable else actions.DropMessage(p, s, m)


def dead(s: State, m: Message) -> bool:
    """A response its receiver can only discard, now and later: of an older term, or of its
    term when it no longer has the role that response is for (a vote for a candidate, a
    heartbeat answer for a leader; nobody becomes candidate or leader again in one term), or
    a pre-vote for a term it already holds."""
    i = m.mdest
    term = s.current_term[i]
    if m.mtype == MType.RequestVoteResponse:
        if m.mpre_vote:
            return m.mterm <= term
        return m.mterm < term or (m.mterm == term and s.role[i] != Role.Candidate)
    if m.mtype == MType.AppendEntriesResponse:
        return m.mterm < term or (m.mterm == term and s.role[i] != Role.Leader)
    return False


def settle(p: Params, before: State, after: State) -> State:
    """The network after a step: messages sent on a link outside the topology are lost, a new
    message supersedes the one of its slot, dead responses leave, no message has two copies."""
    assert p.topology is not None
    up = p.topology.up
    old = {m for m, _ in before.messages}
    new = [m for m, _ in after.messages if m not in old]
    fresh = {slot(m) for m in new}
    kept = [
        m
        for m, _ in after.messages
        if up(m.msource, m.mdest) and (m in new or slot(m) not in fresh) and not dead(after, m)
    ]
    terms = after.current_term
    aged = [
        m._replace(mterm=STALE) if m.mtype in REQUESTS and m.mterm < terms[m.mdest] else m
        for m in kept
    ]
    msgs: Bag = tuple(sorted((m, 1) for m in set(aged)))
    return after if msgs == after.messages else after._replace(messages=msgs)
