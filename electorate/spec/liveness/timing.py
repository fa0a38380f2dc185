"""Timing assumptions and the environment: what may time out when, and stabilization.

Raft keeps a leader only under timing assumptions (Raft §5.6: broadcast time << election
timeout); an untimed model states them as guards that hold once the network has stabilized
(`State.stable`). Before stabilization every timer may run out at any step, as in raft.tla.

- T1, heartbeats arrive in time: a server does not time out, and a follower's timer does not
  run out, while the leader of its own term can reach it, or while the candidate it voted for
  in its term is still campaigning or leading and can reach it (granting a vote resets the
  timer, Raft Figure 2; the election's outcome arrives in time).
  With the lease this is also when a follower's promise ends: the liveness models' lease has
  no clocks (features/lease.py, `timed`), so its deadline in ticks is read as "the timer runs
  out", which T1 restricts; a promise lasts at least while its leader reaches the follower.
- T2, acks arrive in time (CheckQuorum): a leader connected both ways to a quorum ends a
  period only once a quorum has acked it.
- R, randomized timeouts: elections do not overlap for ever, and eventually some server's
  timer runs out first by a margin, whatever is in flight, and its (pre-)vote round completes
  before any other timer runs out (Raft §5.2, §9.3: the timeout is chosen at random so that a
  server usually times out alone). Two environment actions: `Lull` (no timer runs out until
  the vote traffic in flight is over) and `LuckyTimeout(i)` (i times out, with T1's leave,
  while no window is open, and no other server times out until i's round is over). Each
  opens a window (`State.lucky`: LULL or i) closed by `close_window`. i's round is its own
  traffic: its (pre-)vote requests and the answers to them (`round_traffic`); it is over once
  none is in flight, or once i no longer campaigns (it leads, or follows a newer term or a
  leader). Messages of other rounds already in flight are delivered as usual during the
  window, and i's own requests are answered in finite time (weak fairness of delivery; a
  request is always taken), so no window stays open for ever. R is the strong fairness of
  `Lull` and of `LuckyTimeout(i)` in each of two situations, a quiet network (no vote in
  flight, `quiet`) and vote traffic in flight: a server whose timer can run out first in
  either situation infinitely often eventually does in it (spec/liveness/fairness.py).
  Without R a fair scheduler can split the vote for ever.
"""

from __future__ import annotations

from electorate.spec.actions import IsQuorum
from electorate.spec.messages import MType
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State
from electorate.spec.topology import Topology

CANDIDATES = (Role.Candidate, Role.PreCandidate)
VOTES = (MType.RequestVoteRequest, MType.RequestVoteResponse)
LULL = 100  # State.lucky in a Lull window (NIL: none; a server: its lucky window). Not -2:
# CPython hashes -2 as -1 (NIL), and the checker keeps only hashes of states.


def links(p: Params) -> Topology:
    assert p.topology is not None, "a liveness action in a model without a topology"
    return p.topology


def leader_reaches(p: Params, s: State, i: int) -> bool:
    """T1's premise: the leader of i's term, or the candidate i voted for in it, leads or
    campaigns in that term and reaches i."""
    term = s.current_term[i]
    up = links(p).up
    voted = s.voted_for[i]
    for k in range(p.servers):
        if k == i or s.current_term[k] != term or not up(k, i):
            continue
        if s.role[k] == Role.Leader or (k == voted and s.role[k] == Role.Candidate):
            return True
    return False


def may_time_out(p: Params, s: State, i: int) -> bool:
    """After stabilization, i's election timer runs out only outside T1 and outside a lucky
    server's window (R)."""
    return not s.stable or (s.lucky == NIL and not leader_reaches(p, s, i))


def vote_traffic(s: State) -> bool:
    """A (pre-)vote request or answer is in flight: some election round is under way."""
    return any(m.mtype in VOTES for m, _ in s.messages)


def round_traffic(s: State, i: int) -> bool:
    """i's round is under way: a (pre-)vote request of i's, or an answer to i, is in flight."""
    return any(
        (m.mtype == MType.RequestVoteRequest and m.msource == i)
        or (m.mtype == MType.RequestVoteResponse and m.mdest == i)
        for m, _ in s.messages
    )


def may_be_lucky(p: Params, s: State, i: int) -> bool:
    """R's premise (besides T1, which Timeout checks): stabilized and no window open, whatever
    is in flight."""
    return s.stable and s.lucky == NIL


def situation(s: State) -> str:
    """Which of R's two situations a LuckyTimeout is taken in (its fair instance): a quiet
    network or votes in flight."""
    return "votes in flight" if vote_traffic(s) else "quiet"


def Lull(p: Params, s: State) -> State | None:
    """No timer runs out until the elections under way are over (assumption R).

    TLA+: Lull.
    """
    if not s.stable or s.lucky != NIL or not vote_traffic(s):
        return None
    return s._replace(lucky=LULL)


def timer_may_run_out(p: Params, s: State, i: int) -> bool:
    """After stabilization: a follower forgets a leader only outside T1; a leader ends a
    CheckQuorum period only once a quorum acked it, if it is connected to one (T2)."""
    if not s.stable:
        return True
    if s.role[i] == Role.Leader:
        heard = not s.acked or IsQuorum(p, s.acked[i])
        return heard or not links(p).quorum_connected(i)
    return not leader_reaches(p, s, i)


def close_window(p: Params, s: State) -> State:
    """A Lull window closes when the vote traffic is over (no timer runs out in it, so only
    the rounds under way when it opened are in flight); a lucky server's window when its own
    round is over (`round_traffic`) or it no longer campaigns."""
    c = s.lucky
    if c == NIL:
        return s
    if c == LULL and vote_traffic(s):
        return s
    if c != LULL and s.role[c] in CANDIDATES and round_traffic(s, c):
        return s
    return s._replace(lucky=NIL)
