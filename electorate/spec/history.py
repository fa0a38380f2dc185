"""History variables recorded along a behaviour: written by steps, never read by a guard.

raft.tla keeps history variables for its proofs (`elections`, `voterLog`, ...); the executable
spec leaves them out of `State` (they would multiply the state count), and records them here, from
each step (pre-state, action, post-state), for the proofs' tie (proofs/tie.py): the relation's
ghost updates must accept the spec's history step as they accept its state step.

* `elected` (server, term): the server became leader in the term (raft.tla's `elections`);
  `wq` (term, quorum mask): the votes it had then (`elections[t].evotes`);
* `voted_in` (voter, term, candidate): a vote granted in the voter's term (`voterLog`);
* `stored` (server, term, index): the server, in its term, holds an entry of that term at that
  index and said so: a leader appending it (ClientRequest), a follower answering an
  AppendEntries request with success and a matchIndex >= index;
* `committed` (index, term): a leader of the term advanced its commitIndex to the index;
  `cq` (index, term, quorum mask): the servers whose matchIndex it counted (itself included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from electorate.spec.messages import Bag, Message, MType
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import State


class History(NamedTuple):
    elected: frozenset[tuple[int, int]] = frozenset()
    wq: frozenset[tuple[int, int]] = frozenset()
    voted_in: frozenset[tuple[int, int, int]] = frozenset()
    stored: frozenset[tuple[int, int, int]] = frozenset()
    committed: frozenset[tuple[int, int]] = frozenset()
    cq: frozenset[tuple[int, int, int]] = frozenset()


EMPTY = History()


def _added(pre: Bag, post: Bag, wanted: Callable[[Message], bool]) -> list[Message]:
    """Messages with more copies in flight after the step than before."""
    before = dict(pre)
    return [m for m, n in post if wanted(m) and n > before.get(m, 0)]


def record(p: Params, h: History, pre: State, action: Action, post: State) -> History:
    """The history after the step pre --action--> post."""
    name = action.detail or action.name
    if name == "BecomeLeader":
        (i,) = action.args[:1]
        assert isinstance(i, int)
        term = pre.current_term[i]
        return h._replace(
            elected=h.elected | {(i, term)},
            wq=frozenset((t, q) for t, q in h.wq if t != term) | {(term, pre.votes_granted[i])},
        )
    if name == "ClientRequest":
        i = action.args[0]
        assert isinstance(i, int)
        stored = (i, pre.current_term[i], len(pre.log[i]) + 1)
        return h._replace(stored=h.stored | {stored})
    if name == "AdvanceCommitIndex":
        i = action.args[0]
        assert isinstance(i, int)
        k, term = post.commit_index[i], pre.current_term[i]
        if k == pre.commit_index[i]:
            return h
        mask = 1 << i
        for j, match in enumerate(pre.match_index[i]):
            mask |= (1 << j) if match >= k else 0
        cq = frozenset(x for x in h.cq if x[:2] != (k, term)) | {(k, term, mask)}
        return h._replace(committed=h.committed | {(k, term)}, cq=cq)
    if name == "HandleRequestVoteRequest":
        m = action.args[0]
        assert isinstance(m, Message)
        i, j = m.mdest, m.msource
        term = pre.current_term[i]

        def granted(r: Message) -> bool:
            return r.mtype == MType.RequestVoteResponse and r.mvote_granted and r.mdest == j

        if _added(pre.messages, post.messages, granted):
            return h._replace(voted_in=h.voted_in | {(i, term, j)})
        return h
    if name == "HandleAppendEntriesRequest":
        m = action.args[0]
        assert isinstance(m, Message)
        i, j = m.mdest, m.msource
        term = pre.current_term[i]

        def success(r: Message) -> bool:
            return r.mtype == MType.AppendEntriesResponse and bool(r.msuccess) and r.mdest == j

        acks = _added(pre.messages, post.messages, success)
        if not acks:
            return h
        log = pre.log[i]
        held = {(i, term, k) for k in range(1, acks[0].mmatch_index + 1) if log[k - 1].term == term}
        return h._replace(stored=h.stored | held)
    return h


def permute(h: History, pi: tuple[int, ...], masks: tuple[int, ...]) -> History:
    """The history with server k renamed pi[k] (masks: pi applied to every server set)."""
    return History(
        frozenset((pi[n], t) for n, t in h.elected),
        frozenset((t, masks[q]) for t, q in h.wq),
        frozenset((pi[n], t, pi[c]) for n, t, c in h.voted_in),
        frozenset((pi[n], t, k) for n, t, k in h.stored),
        h.committed,
        frozenset((k, t, masks[q]) for k, t, q in h.cq),
    )
