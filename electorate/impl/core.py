"""The pure role machine of Raft leader election (PreVote, CheckQuorum, leases, transfer).

Pure and deterministic: no clock, socket, thread or global randomness. Time is the ``tick()``
event; the only randomness (the election timeout draw) comes from the injected ``Rng``. The
runtime feeds events in and drains :class:`Ready` batches out (persist, then send, then notify).

Section numbers refer to Ongaro's thesis "Consensus: Bridging Theory and Practice" (2014).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias

from electorate.impl.messages import (
    MAX_UINT64,
    AppendEntries,
    AppendEntriesResponse,
    Message,
    RequestVote,
    RequestVoteResponse,
    TimeoutNow,
)
from electorate.impl.quorum import quorum_size, quorum_value

# Terms and every other integer on the wire are uint64, as in etcd and hashicorp/raft.
MAX_TERM: Final = MAX_UINT64


class ConfigError(ValueError):
    """Invalid CoreConfig or initial HardState; the text says what to fix."""


class Role(enum.Enum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre_candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"


@dataclass(frozen=True)
class HardState:
    """What must survive a crash (§3.8): the term and the vote cast in it."""

    term: int
    voted_for: str | None


@dataclass(frozen=True)
class SoftState:
    """Volatile state the runtime may want to display or export."""

    role: Role
    leader: str | None


@dataclass(frozen=True)
class LeadershipAcquired:
    """This node won the election of ``term``; ``token`` is its fencing token (= term)."""

    term: int
    token: int


@dataclass(frozen=True)
class LeadershipLost:
    """This node stopped leading ``term``; ``reason`` is human-readable."""

    term: int
    reason: str


@dataclass(frozen=True)
class LeaderChanged:
    """The leader this node knows of changed (None: unknown)."""

    leader: str | None
    term: int


Notification: TypeAlias = LeadershipAcquired | LeadershipLost | LeaderChanged


@dataclass(frozen=True)
class Ready:
    """Everything produced since the last ``ready()`` call.

    The runtime MUST durably persist ``hard_state`` (write + fsync) BEFORE sending any of
    ``messages``: a vote or a term bump that reaches a peer but is lost in a crash lets this
    node vote twice in one term (§3.8). ``soft_state`` and ``notifications`` are informational
    and may be delivered after sending.
    """

    hard_state: HardState | None
    messages: tuple[Message, ...]
    soft_state: SoftState | None
    notifications: tuple[Notification, ...]


class Rng(Protocol):
    def randrange(self, start: int, stop: int) -> int: ...


@dataclass(frozen=True)
class CoreConfig:
    """Static configuration of one node. All durations are in ticks.

    The election timeout is drawn from [election_ticks, 2*election_ticks) at every timer reset
    (§3.4: randomization makes split votes rare).
    """

    node_id: str
    voters: tuple[str, ...]
    cluster: str = "electorate"
    election_ticks: int = 10
    heartbeat_ticks: int = 1
    lease_ticks: int = 8
    prevote: bool = True
    check_quorum: bool = True

    def validate(self) -> None:
        """Raise ConfigError naming the first problem found."""
        for problem in self._problems():
            raise ConfigError(problem)

    def _problems(self) -> list[str]:
        p: list[str] = []
        if not self.node_id:
            p.append("node_id must be a non-empty string")
        if not self.cluster:
            p.append("cluster must be a non-empty string")
        if len(set(self.voters)) != len(self.voters):
            p.append(f"voters contain duplicates: {list(self.voters)}")
        if self.node_id not in self.voters:
            p.append(f"node_id {self.node_id!r} is not among voters {list(self.voters)}")
        if self.heartbeat_ticks < 1:
            p.append(f"heartbeat_ticks must be >= 1, got {self.heartbeat_ticks}")
        if self.election_ticks < 2 * self.heartbeat_ticks:
            p.append(
                f"election_ticks ({self.election_ticks}) must be >= 2 * heartbeat_ticks "
                f"({self.heartbeat_ticks}): followers would time out between heartbeats"
            )
        if not 1 <= self.lease_ticks < self.election_ticks:
            p.append(
                f"lease_ticks ({self.lease_ticks}) must be in [1, election_ticks="
                f"{self.election_ticks}): a lease must end before any voter can vote again"
            )
        return p

    @property
    def quorum(self) -> int:
        return quorum_size(len(self.voters))


class RoleMachine:
    """One node's election state machine. Events in, :class:`Ready` out; see the module doc."""

    def __init__(
        self,
        config: CoreConfig,
        hard_state: HardState,
        rng: Rng,
        last_log: tuple[int, int] = (0, 0),
    ) -> None:
        config.validate()
        _check_hard_state(config, hard_state)
        self._cfg = config
        self._rng = rng
        self._id = config.node_id
        self._peers = tuple(v for v in config.voters if v != config.node_id)
        self._last_log = last_log
        self._term = hard_state.term
        self._voted_for = hard_state.voted_for
        self._role = Role.FOLLOWER
        self._leader: str | None = None
        self._now = 0
        self._ignored = 0
        self._election_elapsed = 0
        self._timeout = 0
        self._reset_timer()
        self._no_campaign_until = 0
        # The answers of the current (pre-)election, as (voter, granted), in arrival order.
        self._votes: list[tuple[str, bool]] = []
        self._prevotes: list[tuple[str, bool]] = []
        # Leader-only state, (re)set by _clear_leader_state.
        self._token: int | None = None
        self._round = 0
        self._round_sent: dict[int, int] = {}
        self._acked: dict[str, int] = {}
        self._active: set[str] = set()
        self._lease_expiry: int | None = None
        self._lease_revoked = False
        self._transfer_to: str | None = None
        self._transfer_elapsed = 0
        self._heartbeat_elapsed = 0
        self._clear_leader_state()
        # What the runtime has already been told (the diff base of the next Ready).
        self._told_hard = hard_state
        self._told_soft = SoftState(Role.FOLLOWER, None)
        self._outbox: list[Message] = []
        self._notes: list[Notification] = []

    # ------------------------------------------------------------------ observables
    @property
    def config(self) -> CoreConfig:
        return self._cfg

    @property
    def role(self) -> Role:
        return self._role

    @property
    def term(self) -> int:
        return self._term

    @property
    def voted_for(self) -> str | None:
        return self._voted_for

    @property
    def leader(self) -> str | None:
        return self._leader

    @property
    def hard_state(self) -> HardState:
        return HardState(self._term, self._voted_for)

    @property
    def votes_granted(self) -> frozenset[str]:
        return _granted(self._votes)

    @property
    def prevotes_granted(self) -> frozenset[str]:
        return _granted(self._prevotes)

    @property
    def now(self) -> int:
        return self._now

    @property
    def lease_expiry(self) -> int | None:
        return self._lease_expiry if self._role is Role.LEADER else None

    @property
    def token(self) -> int | None:
        return self._token if self._role is Role.LEADER else None

    @property
    def ignored_messages(self) -> int:
        """Messages dropped: wrong cluster, destination or unknown sender, or a newer term
        refused inside a live leader's lease."""
        return self._ignored

    @property
    def randomized_timeout(self) -> int:
        """The current election timeout draw, in ticks."""
        return self._timeout

    @property
    def heartbeat_round(self) -> int:
        """Number of the newest heartbeat round sent in this leadership (0: none)."""
        return self._round if self._role is Role.LEADER else 0

    @property
    def transfer_target(self) -> str | None:
        return self._transfer_to if self._role is Role.LEADER else None

    def is_leader(self) -> bool:
        """Leader holding a valid lease: safe to serve lease-based reads right now (§6.4.1)."""
        exp = self._lease_expiry
        return self._role is Role.LEADER and exp is not None and self._now < exp

    # ------------------------------------------------------------------ events
    def tick(self) -> None:
        """One logical clock tick."""
        self._now += 1
        if self._role is Role.LEADER:
            self._tick_leader()
            return
        self._election_elapsed += 1
        if self._election_elapsed >= self._timeout:
            self.election_timeout()

    def election_timeout(self) -> None:
        """The election timer fired (§3.4): start PreVote (§9.6) or an election."""
        if self._role is Role.LEADER:
            return
        if not self._may_campaign(transfer=False):
            return  # only reachable by a direct call: the timer itself fires out of the lease
        self._reset_timer()
        if self._now < self._no_campaign_until:
            return  # recently resigned: give the others a full timeout to take over
        if self._cfg.prevote:
            self._start_prevote()
        else:
            self._campaign(transfer=False)

    def heartbeat_timeout(self) -> None:
        """Leader: send a heartbeat round now; also the CheckQuorum check point (§6.2)."""
        if self._role is not Role.LEADER:
            return
        self._heartbeat_elapsed = 0
        if self._election_elapsed >= self._cfg.election_ticks and not self._end_quorum_period():
            return
        self._broadcast_heartbeat()

    def campaign(self, transfer: bool = False) -> None:
        """Become candidate now, skipping PreVote (§3.4). ``transfer``: started by TimeoutNow,
        so peers must not ignore the request on account of the current leader's lease."""
        if self._role is not Role.LEADER and self._may_campaign(transfer):
            self._campaign(transfer)

    def _campaign(self, transfer: bool) -> None:
        term = self._campaign_term()
        if term > MAX_TERM:
            return  # terms are uint64; never reached by honest peers (a log line is the runtime's)
        self._adopt_term(term)
        self._vote_for_self()
        self._role = Role.CANDIDATE
        self._set_leader(None)
        self._reset_timer()
        self._votes = [(self._id, True)]
        for peer in self._peers:
            self._send_vote_request(peer, self._term, pre_vote=False, transfer=transfer)
        self._tally(pre_vote=False)

    def transfer_leadership(self, to: str | None) -> None:
        """Leader: hand leadership to ``to`` (None: the most responsive follower), §3.10.

        The lease is revoked at once and for the rest of this term: the target's election
        overrides the peers' lease check. If the target has not taken over within
        election_ticks, this node steps down rather than lead on without a lease.
        """
        if to is not None and to not in self._cfg.voters:
            raise ValueError(f"transfer target {to!r} is not a voter of {list(self._cfg.voters)}")
        if self._role is not Role.LEADER:
            return
        target = to if to is not None else self._best_follower()
        if target is None or target == self._id:
            return
        self._transfer_to = target
        self._transfer_elapsed = 0
        self._lease_expiry = None
        self._lease_revoked = True
        self._send(TimeoutNow(self._cfg.cluster, self._id, target, self._term))

    def resign(self) -> None:
        """Step down to follower in the current term and sit out one full election timeout."""
        self._become_follower(self._term, None, "resigned")
        self._no_campaign_until = self._now + 2 * self._cfg.election_ticks

    def step(self, msg: Message) -> None:
        """Handle one received message."""
        c = self._cfg
        if msg.cluster != c.cluster or msg.dst != self._id or msg.src not in self._peers:
            self._ignored += 1
            return
        if not self._term_prelude(msg):
            return
        if isinstance(msg, RequestVote):
            self._on_request_vote(msg)
        elif isinstance(msg, RequestVoteResponse):
            self._on_vote_response(msg)
        elif isinstance(msg, AppendEntries):
            self._on_heartbeat(msg)
        elif isinstance(msg, AppendEntriesResponse):
            self._on_heartbeat_response(msg)
        else:
            self._on_timeout_now(msg)

    # ------------------------------------------------------------------ Ready
    def has_ready(self) -> bool:
        return bool(
            self._outbox
            or self._notes
            or self.hard_state != self._told_hard
            or self._soft_state() != self._told_soft
        )

    def ready(self) -> Ready:
        """Return and clear everything pending since the last call (see :class:`Ready`)."""
        hs = self._unsaved_hard_state()
        self._told_hard = self.hard_state
        ss: SoftState | None = self._soft_state()
        if ss == self._told_soft:
            ss = None
        self._told_soft = self._soft_state()
        out = Ready(hs, tuple(self._outbox), ss, tuple(self._notes))
        self._outbox.clear()
        self._notes.clear()
        return out

    def _unsaved_hard_state(self) -> HardState | None:
        """§3.8: the hard state the runtime must persist before sending, if it changed."""
        hs = self.hard_state
        return None if hs == self._told_hard else hs

    # ------------------------------------------------------------------ term prelude
    def _term_prelude(self, m: Message) -> bool:
        """Apply the term rules common to every message (§3.3); False: message consumed."""
        if m.term > MAX_TERM:
            self._ignored += 1  # the codec refuses these; an embedding might not
            return False
        if m.term > self._term:
            return self._higher_term(m)
        if m.term < self._term:
            return self._lower_term(m)
        return True

    def _higher_term(self, m: Message) -> bool:
        if isinstance(m, RequestVote):
            if self._lease_blocks(m):
                self._ignored += 1
                return False  # §6.2/§4.2.3: a live leader exists; do not even adopt the term
            if not m.pre_vote:
                self._on_newer_vote_request(m)
            return True  # a pre-vote request never changes the receiver's term (§9.6)
        if self._keeps_lease_promise(m):
            self._ignored += 1
            return False
        if isinstance(m, RequestVoteResponse) and m.pre_vote and m.granted:
            return True  # a granted pre-vote carries the proposed term, not the voter's
        if isinstance(m, AppendEntries):
            self._on_newer_heartbeat(m)
            return True
        if isinstance(m, TimeoutNow):
            self._become_follower(m.term, m.src, "transfer request from a newer leader")
            return True
        self._on_newer_response(m)
        return False

    def _on_newer_vote_request(self, m: RequestVote) -> None:
        """§3.3: a vote request of a newer term makes us its follower, vote free (§3.4)."""
        self._become_follower(m.term, None, "higher term in a vote request")

    def _on_newer_heartbeat(self, m: AppendEntries) -> None:
        """§3.3/§3.4: a heartbeat of a newer term comes from that term's leader: follow it."""
        self._become_follower(m.term, m.src, "heartbeat from a newer leader")

    def _on_newer_response(self, m: Message) -> None:
        """§3.3: a response of a newer term shows we are stale: step down to follower."""
        self._become_follower(m.term, None, "higher term in a response")

    def _lower_term(self, m: Message) -> bool:
        """Answer stale requests with our term so their senders catch up (§3.3).

        A stale vote response goes on to its handler, which counts only answers of the current
        round (``_counts_in_round``); every other stale message is consumed here.
        """
        if isinstance(m, RequestVote):
            self._send_vote_response(m, granted=False)
        elif isinstance(m, AppendEntries):
            self._send(
                AppendEntriesResponse(
                    self._cfg.cluster, self._id, m.src, self._refusal_term(m), False, m.round
                )
            )
        return isinstance(m, RequestVoteResponse)

    def _refusal_term(self, m: Message) -> int:
        """§3.3: a refusal carries our term, so that a stale sender learns it."""
        return self._term

    def _in_lease(self) -> bool:
        """Heard from a live leader within the minimum election timeout (§4.2.3, §6.2).

        A freshly (re)started node assumes it has: it may have acknowledged a heartbeat just
        before crashing, and that leader's lease must not be undercut by a quick vote.
        """
        recent = self._election_elapsed < self._cfg.election_ticks
        return recent and (self._leader is not None or self._now < self._cfg.election_ticks)

    def _may_campaign(self, transfer: bool) -> bool:
        """A node inside a live leader's lease must not vote, not even for itself: its self-vote
        plus votes from nodes the leader cannot reach could elect a rival during the lease.
        Only the leader can lift its own lease, by a transfer."""
        return transfer or not self._cfg.check_quorum or not self._in_lease()

    def _keeps_lease_promise(self, m: Message) -> bool:
        """Inside a live leader's lease, only that term's leader (heartbeat, TimeoutNow) may
        move a non-leader to a newer term; vote requests are filtered by _lease_blocks.

        Why: our ack promised the leader no vote until our lease check ends. A newer term
        from a response (say s3's refusal, carrying term 3, of our stale RequestVote(2))
        would forget the leader and end the check, and we could then vote s3 in while the
        leader's lease still runs: two valid leases (docs/impl-core.md, "lease promise").
        """
        if self._role is Role.LEADER or not self._cfg.check_quorum:
            return False
        responses = (RequestVoteResponse, AppendEntriesResponse)
        return isinstance(m, responses) and self._in_lease()

    def _lease_blocks(self, m: RequestVote) -> bool:
        if m.transfer:
            return False
        if not m.pre_vote and not self._cfg.check_quorum:
            return False
        return self._in_lease()

    # ------------------------------------------------------------------ votes
    def _on_request_vote(self, m: RequestVote) -> None:
        grant = self._may_prevote(m) if m.pre_vote else self._may_vote(m)
        if grant and not m.pre_vote:
            self._voted_for = m.src
            self._election_elapsed = 0  # granting a vote defers our own candidacy (§3.4)
        self._send_vote_response(m, granted=grant)

    def _may_vote(self, m: RequestVote) -> bool:
        """§3.4: at most one vote per term, first come first served; §3.6: log up to date."""
        return m.term >= self._term and self._vote_is_free(m) and self._log_ok(m)

    def _vote_is_free(self, m: RequestVote) -> bool:
        """§3.4: no vote cast in this term yet, or cast for this very candidate (a retry)."""
        return self._voted_for in (None, m.src)

    def _may_prevote(self, m: RequestVote) -> bool:
        """§9.6: would we vote in term m.term? Same rules, plus no recent leader."""
        if m.term > self._term:
            fresh = True
        else:
            undecided = self._voted_for is None and self._leader is None
            fresh = m.term == self._term and (self._voted_for == m.src or undecided)
        return fresh and self._log_ok(m) and not self._in_lease()

    def _log_ok(self, m: RequestVote) -> bool:
        """§3.6.1 up-to-date: later last term wins; same last term, longer (or equal) log wins."""
        index, term = self._last_log
        if m.last_log_term != term:
            return m.last_log_term > term
        return m.last_log_index >= index

    def _on_vote_response(self, m: RequestVoteResponse) -> None:
        if not self._counts_in_round(m):
            return
        if m.pre_vote and self._role is Role.PRE_CANDIDATE:
            self._record(self._prevotes, m)
            self._tally(pre_vote=True)
        elif not m.pre_vote and self._role is Role.CANDIDATE:
            self._record(self._votes, m)
            self._tally(pre_vote=False)

    def _counts_in_round(self, m: RequestVoteResponse) -> bool:
        """§3.3: only answers of the current round count; older ones are stale.

        A pre-vote grant counts only for the term this round asks for (term + 1): a grant
        carrying the current term answered an earlier round and must not elect us (§9.6). A
        refusal carries the voter's term, which may be ours.
        """
        if m.pre_vote:
            return m.term == self._term + 1 or (m.term == self._term and not m.granted)
        return m.term == self._term

    def _record(self, answers: list[tuple[str, bool]], m: RequestVoteResponse) -> None:
        """First answer per voter counts (§3.4: duplicates must not be counted twice)."""
        if all(voter != m.src for voter, _ in answers):
            answers.append((m.src, m.granted))

    def _quorum(self) -> int:
        """§3.4: a majority of all voters (elections, CheckQuorum and the lease alike)."""
        return self._cfg.quorum

    def _tally(self, pre_vote: bool) -> None:
        answers = self._prevotes if pre_vote else self._votes
        granted = sum(ok for _, ok in answers)
        rejected = len(answers) - granted
        q = self._quorum()
        if granted >= q:
            if pre_vote:
                self._campaign(transfer=False)
            else:
                self._become_leader()
        elif rejected > len(self._cfg.voters) - q:
            self._become_follower(self._term, None, "election lost")

    def _start_prevote(self) -> None:
        """§9.6: ask whether we could win term+1 before disturbing anyone with it."""
        if self._term >= MAX_TERM:
            return  # no term left to ask for (terms are uint64)
        self._become_pre_candidate()
        for peer in self._peers:
            self._send_vote_request(peer, self._term + 1, pre_vote=True, transfer=False)
        self._tally(pre_vote=True)

    def _become_pre_candidate(self) -> None:
        """§9.6: a pre-candidate keeps its term and vote, and forgets its leader (etcd)."""
        self._role = Role.PRE_CANDIDATE
        self._set_leader(None)
        self._prevotes = [(self._id, True)]

    def _campaign_term(self) -> int:
        """§3.4: a candidate increments its term."""
        return self._term + 1

    def _vote_for_self(self) -> None:
        """§3.4: a candidate votes for itself (persisted with its new term)."""
        self._voted_for = self._id

    # ------------------------------------------------------------------ leader
    def _become_leader(self) -> None:
        self._role = Role.LEADER
        self._clear_leader_state()
        self._token = self._term
        self._notes.append(LeadershipAcquired(self._term, self._term))
        self._set_leader(self._id)
        self._broadcast_heartbeat()

    def _clear_leader_state(self) -> None:
        self._token = None
        self._round = 0
        self._round_sent = {}
        self._acked = {}
        self._active = {self._id}
        self._lease_expiry = None
        self._lease_revoked = False
        self._transfer_to = None
        self._transfer_elapsed = 0
        self._heartbeat_elapsed = 0
        self._election_elapsed = 0

    def _tick_leader(self) -> None:
        self._election_elapsed += 1
        self._heartbeat_elapsed += 1
        exp = self._lease_expiry
        if exp is not None and self._now >= exp:
            self._become_follower(self._term, None, "lease expired")
            return
        if self._transfer_to is not None:
            self._transfer_elapsed += 1
            if self._transfer_elapsed >= self._cfg.election_ticks:
                self._become_follower(self._term, None, "transfer timed out")
                return
        if self._election_elapsed >= self._cfg.election_ticks and not self._end_quorum_period():
            return
        if self._heartbeat_elapsed >= self._cfg.heartbeat_ticks:
            self.heartbeat_timeout()

    def _end_quorum_period(self) -> bool:
        """CheckQuorum (§6.2): step down unless a quorum was heard from in this period.

        Returns whether this node is still the leader.
        """
        self._election_elapsed = 0
        if self._cfg.check_quorum and len(self._active) < self._quorum():
            self._become_follower(self._term, None, "check quorum failed")
            return False
        self._active = {self._id}
        return True

    def _broadcast_heartbeat(self) -> None:
        self._round += 1
        self._round_sent[self._round] = self._now
        for peer in self._peers:
            self._send(AppendEntries(self._cfg.cluster, self._id, peer, self._term, 0, self._round))
        self._update_lease()  # a single-node cluster is its own quorum

    def _on_heartbeat_response(self, m: AppendEntriesResponse) -> None:
        if self._role is not Role.LEADER:
            return
        self._active.add(m.src)
        if m.success and 0 < m.round <= self._round:
            self._acked[m.src] = max(self._acked.get(m.src, 0), m.round)
            self._update_lease()

    def _update_lease(self) -> None:
        """Lease (§6.4.1): round r, sent at t_r, acked by a quorum => valid until t_r + lease.

        Each acker reset its election timer on receipt (at or after t_r) and will not vote
        for anyone else for election_ticks > lease_ticks, so no rival can win before then.
        Leases need the voters' lease check, hence check_quorum.
        """
        if not self._cfg.check_quorum or self._lease_revoked:
            return
        rounds = [self._round] + [self._acked.get(p, 0) for p in self._peers]
        r = quorum_value(rounds, self._quorum())
        if r == 0:
            return
        expiry = self._round_sent[r] + self._cfg.lease_ticks
        if self._lease_expiry is None or expiry > self._lease_expiry:
            self._lease_expiry = expiry
        # The quorum round never decreases, so older send times are never needed again.
        for old in [k for k in self._round_sent if k < r]:
            del self._round_sent[old]

    def _best_follower(self) -> str | None:
        """The follower that acknowledged the newest round (ties: smallest id)."""
        if not self._peers:
            return None
        return min(self._peers, key=lambda p: (-self._acked.get(p, 0), p))

    # ------------------------------------------------------------------ follower
    def _on_heartbeat(self, m: AppendEntries) -> None:
        if m.term != self._term or self._role is Role.LEADER:
            # Only reachable with a planted bug (no step-down) or two leaders in one term.
            self._send(
                AppendEntriesResponse(
                    self._cfg.cluster, self._id, m.src, self._term, False, m.round
                )
            )
            return
        if self._role is not Role.FOLLOWER:
            self._follow_same_term_leader(m.src)
        self._set_leader(m.src)
        self._election_elapsed = 0
        self._send(
            AppendEntriesResponse(self._cfg.cluster, self._id, m.src, self._term, True, m.round)
        )

    def _follow_same_term_leader(self, leader: str) -> None:
        """§3.4: a (pre-)candidate that hears from the leader of its own term returns to
        follower, keeping term and vote: it voted for itself and must not vote again."""
        self._become_follower(self._term, leader, "heartbeat from the leader")

    def _on_timeout_now(self, m: TimeoutNow) -> None:
        if self._role is not Role.LEADER:
            self.campaign(transfer=True)  # §3.10: the leader asked us to take over now

    # ------------------------------------------------------------------ helpers
    def _become_follower(self, term: int, leader: str | None, reason: str) -> None:
        old_role, old_term = self._role, self._term
        self._adopt_term(self._stepdown_term(term))
        self._role = Role.FOLLOWER
        self._clear_leader_state()
        self._set_leader(leader)
        self._reset_timer()
        if old_role is Role.LEADER:
            self._notes.append(LeadershipLost(old_term, reason))

    def _stepdown_term(self, term: int) -> int:
        """§3.3: stepping down moves to the term that caused it, never beyond."""
        return term

    def _adopt_term(self, term: int) -> None:
        """A new term voids the vote (§3.4); the caller re-votes if it campaigns."""
        if term > self._term:
            self._term = term
            self._voted_for = None

    def _set_leader(self, leader: str | None) -> None:
        if leader != self._leader:
            self._leader = leader
            self._notes.append(LeaderChanged(leader, self._term))

    def _reset_timer(self) -> None:
        e = self._cfg.election_ticks
        self._election_elapsed = 0
        self._timeout = self._rng.randrange(e, 2 * e)

    def _soft_state(self) -> SoftState:
        return SoftState(self._role, self._leader)

    def _send(self, m: Message) -> None:
        self._outbox.append(m)

    def _send_vote_request(self, peer: str, term: int, *, pre_vote: bool, transfer: bool) -> None:
        index, last_term = self._last_log
        self._send(
            RequestVote(
                self._cfg.cluster, self._id, peer, term, index, last_term, pre_vote, transfer
            )
        )

    def _send_vote_response(self, m: RequestVote, *, granted: bool) -> None:
        # A grant speaks for m.term (a pre-vote's proposed term); a refusal carries our term
        # so a stale candidate learns it (§3.3).
        term = m.term if granted else self._refusal_term(m)
        self._send(
            RequestVoteResponse(self._cfg.cluster, self._id, m.src, term, granted, m.pre_vote)
        )


def _granted(answers: list[tuple[str, bool]]) -> frozenset[str]:
    """The voters whose first answer was a grant."""
    first: dict[str, bool] = {}
    for voter, ok in answers:
        first.setdefault(voter, ok)
    return frozenset(v for v, ok in first.items() if ok)


def _check_hard_state(config: CoreConfig, hs: HardState) -> None:
    if not 0 <= hs.term <= MAX_TERM:
        raise ConfigError(f"hard state term must be in [0, 2**64 - 1], got {hs.term}")
    if hs.voted_for is not None and hs.voted_for not in config.voters:
        raise ConfigError(f"hard state votes for {hs.voted_for!r}, not a voter")
