"""Fairness of the liveness models' actions, and the assumptions every verdict rests on.

Each action of the liveness table (spec/next.py, `_liveness_table`; spec/liveness/steps.py)
with the fairness it is given, and why:

- Deliver(m): weak, per slot (source, destination, kind): a message on a link is eventually
  received (after stabilization nothing on a link is lost; spec/liveness/network.py).
- Heartbeat(i): weak: a leader keeps sending heartbeats.
- Timeout(i): weak: a server whose timer may run out eventually times out.
- ElectionTimer(i): weak: a follower's timer eventually runs out when no leader reaches it;
  a leader's CheckQuorum period eventually ends.
- Stabilize: weak: the network eventually stabilizes.
- Lull and LuckyTimeout(i): strong, when randomized timeouts are assumed (R): elections that
  could stop overlapping infinitely often eventually do, and a server that could time out
  first by a margin infinitely often eventually does, once per situation: LuckyTimeout(i) in
  a quiet network and LuckyTimeout(i) with votes in flight are two fair instances
  (timing.situation, the action's label). A random timer's chance to run out first does not
  depend on what is in flight, so each is strongly fair on its own; together they imply the
  strong fairness of LuckyTimeout(i) whatever the situation, and the quiet one alone is the
  earlier R's (docs/liveness.md, "R as modelled"). Without R they have no fairness, and a
  fair scheduler may split every vote.
- DropMessage(m): none (the network may lose messages before it stabilizes, never must).

TLA+: the conjuncts of LFairness in RaftElectionLiveness.tla.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Final

from electorate.model_check.liveness import Fairness
from electorate.spec.liveness.network import slot
from electorate.spec.messages import Message
from electorate.spec.next import Action
from electorate.spec.params import Params

WEAK_PER_SERVER: Final = ("Heartbeat", "Timeout", "ElectionTimer")


def fairness(p: Params, a: Action) -> tuple[Hashable, Fairness] | None:
    """The fair instance action `a` belongs to, and its fairness (None: no fairness)."""
    if a.name == "Receive":
        m = a.args[0]
        assert isinstance(m, Message)
        return ("Deliver", *slot(m)), Fairness.WEAK
    if a.name in WEAK_PER_SERVER:
        return (a.name, a.args[0]), Fairness.WEAK
    if a.name == "LuckyTimeout":
        return ((a.name, a.args[0], a.detail), Fairness.STRONG) if p.randomized else None
    if a.name == "Lull":
        return (("Lull",), Fairness.STRONG) if p.randomized else None
    if a.name == "Stabilize":
        return ("Stabilize",), Fairness.WEAK
    return None


def assumptions(p: Params) -> list[str]:
    """The fairness and timing assumptions a verdict on the model `p` rests on, in words."""
    out = [
        "network: links of the topology; messages on other links are lost; before "
        "stabilization any message may be lost; the network stabilizes (WF Stabilize)",
        "fairness: WF per link slot of Deliver (after stabilization every message on a link "
        "is received), WF Heartbeat(i), WF Timeout(i), WF ElectionTimer(i)",
        "timing T1 (after stabilization): no server times out, and no follower forgets its "
        "leader, while the leader of its term can reach it (heartbeat interval + delay < "
        "election timeout)",
    ]
    if p.has("lease"):
        out.append(
            "lease, untimed: a server inside a leader's lease (a follower that heard the leader "
            "of its term, or the leader) ignores vote requests of a newer term until its timer "
            "runs out (the follower's promise); T1 bounds "
            "when that may happen, in place of the deadline in ticks; the leader's reads are "
            "not modelled (they change no role or term)"
        )
    if p.has("check_quorum"):
        out.append(
            "timing T2 (after stabilization): a leader connected both ways to a quorum ends a "
            "CheckQuorum period only once a quorum has acked it"
        )
    if p.randomized:
        out.append(
            "randomized timeouts R: SF Lull (elections do not overlap for ever: no timer runs "
            "out until the votes in flight are answered) and SF LuckyTimeout(i), in a quiet "
            "network and with votes in flight alike (a server's timer runs out first by a "
            "margin, whatever is in flight, and no other server times out until its own "
            "(pre-)vote round is over: its requests answered, or it no longer campaigns)"
        )
    else:
        out.append(
            "no randomized-timeout assumption: Lull and LuckyTimeout have no fairness (a fair "
            "scheduler may split every vote)"
        )
    return out
