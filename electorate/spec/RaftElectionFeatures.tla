------------------------- MODULE RaftElectionFeatures -------------------------
(***************************************************************************)
(* The features -- PreVote, CheckQuorum, a leader lease -- on top of       *)
(* RaftElection (election profile only), the TLC mirror of the featured    *)
(* model of spec/next.py and spec/features/. Every canonical action is     *)
(* RaftElection's own, conjoined with UNCHANGED on the feature variables;  *)
(* the ones a feature changes (Restart, Timeout, BecomeLeader, the         *)
(* heartbeat handlers, UpdateTerm) are restated here, as                   *)
(* spec/features/restated.py restates them. A feature that is off keeps    *)
(* its variables at their initial values, as the Python mirror keeps them  *)
(* empty, so the two count the same states.                                *)
(*                                                                         *)
(* Message types: the Python `mpre_vote` flag becomes the types            *)
(* PreVoteRequest / PreVoteResponse; heartbeats carry msentAt (0 without   *)
(* the lease). Leader bookkeeping (nextIndex, matchIndex) never changes in *)
(* the election profile, so the heartbeat handlers leave it alone.         *)
(*                                                                         *)
(* Time has two modes, as in spec/features/relative_time.py. MaxClock > 0: *)
(* absolute clocks bounded by MaxClock. MaxClock = 0: relative time, Tick  *)
(* has no bound and the config names `VIEW RelativeView`, which maps a     *)
(* state to its canonical form (relative_time.Normalize), so TLC counts    *)
(* distinct normalised states, as our checker does.                        *)
(*                                                                         *)
(* Bug hooks, as in RaftElection: a few behaviours are named operators     *)
(* that a config replaces with a bug variant of spec/bugs.py (`Hook <-     *)
(* Variant`, written by electorate/app/tlc.py); the variants are grouped   *)
(* at the end of this module. lease-too-long needs no hook: only its       *)
(* LeaseTicks differs.                                                     *)
(***************************************************************************)
EXTENDS RaftElection, Integers

\* A subset of {"prevote", "check_quorum", "lease"}.
CONSTANT Features
\* The lease's discrete clocks: bound, minimum election timeout, drift bound
\* between any two clocks, lease length (all in ticks).
CONSTANTS MaxClock, ElectionTicks, Drift, LeaseTicks

ASSUME Profile = "election"
ASSUME Features \subseteq {"prevote", "check_quorum", "lease"}

PreCandidate    == "PreCandidate"
PreVoteRequest  == "PreVoteRequest"
PreVoteResponse == "PreVoteResponse"

PreVote     == "prevote" \in Features
CheckQuorum == "check_quorum" \in Features
Lease       == "lease" \in Features
\* Voters inside a live leader's lease refuse real votes.
Sticky      == CheckQuorum \/ Lease

\* heardLeader[i]: i is inside a live leader's lease (heard it this period).
VARIABLE heardLeader
\* prevote: pre-votes granted to a pre-candidate; the terms a pre-vote quorum
\* opened (ghost); whether a leader adopted a term no quorum opened (ghost).
VARIABLES prevotesGranted, earnedTerms, unearnedDeposition
\* check_quorum: servers a leader heard from this period; whether i ended a
\* leader period without a quorum (ghost).
VARIABLES acked, quiet
\* lease: clocks; leader: lease expiry, others: no timeout before it; the
\* leader's current round's start and the servers that acked it.
VARIABLES clock, leaseUntil, roundAt, roundAcked

extVars == <<heardLeader, prevotesGranted, earnedTerms, unearnedDeposition,
             acked, quiet, clock, leaseUntil, roundAt, roundAcked>>
allVars == <<vars, extVars>>

FInit ==
    /\ Init
    /\ heardLeader        = [i \in Server |-> FALSE]
    /\ prevotesGranted    = [i \in Server |-> {}]
    /\ earnedTerms        = {}
    /\ unearnedDeposition = FALSE
    /\ acked              = [i \in Server |-> {}]
    /\ quiet              = [i \in Server |-> FALSE]
    /\ clock              = [i \in Server |-> 0]
    /\ leaseUntil         = [i \in Server |-> 0]
    /\ roundAt            = [i \in Server |-> 0]
    /\ roundAcked         = [i \in Server |-> {}]

MinClock == CHOOSE c \in {clock[k] : k \in Server} : \A k \in Server : c <= clock[k]

\* Bug hook: a lease runs from the send time of the round a quorum acked.
LeaseStart(i) == roundAt[i]

\* A leader's lease once a quorum acked its current round (given the acks).
LeaseAfter(i, acks) ==
    IF IsQuorum(acks) THEN Max({leaseUntil[i], LeaseStart(i) + LeaseTicks}) ELSE leaseUntil[i]

\* i leaves leadership (or pre-candidacy): its bookkeeping is cleared.
ClearLeader(i) ==
    /\ acked'      = [acked EXCEPT ![i] = {}]
    /\ roundAt'    = [roundAt EXCEPT ![i] = 0]
    /\ roundAcked' = [roundAcked EXCEPT ![i] = {}]

\* Bug hooks: the correct behaviour, named so that a config can replace it.
\* Whether a timed-out server goes through the pre-vote phase first.
PreVotePhase == PreVote
\* The term a server holds as pre-candidate: its own, not yet raised.
PreCandidateTerm(i) == currentTerm[i]
\* A leader that heard no quorum in a CheckQuorum period steps down.
LeaderWithoutQuorum(i) ==
    /\ state' = [state EXCEPT ![i] = Follower]
    /\ heardLeader' = [heardLeader EXCEPT ![i] = FALSE]
    /\ leaseUntil' = [leaseUntil EXCEPT ![i] = 0]
    /\ quiet' = [quiet EXCEPT ![i] = TRUE]
    /\ ClearLeader(i)
    /\ UNCHANGED <<messages, currentTerm, votedFor, candidateVars, leaderVars,
                   logVars, prevotesGranted, earnedTerms, unearnedDeposition, clock>>

-----------------------------------------------------------------------------

\* Restart: with a lease, the restarted server is inside one until its
\* deadline; without, its untimed timer may run out at any later step.
FRestart(i) ==
    /\ Restart(i)
    /\ heardLeader' = [heardLeader EXCEPT ![i] =
                          IF Lease THEN TRUE ELSE IF state[i] = Leader THEN FALSE ELSE @]
    /\ leaseUntil' = [leaseUntil EXCEPT ![i] = IF Lease THEN clock[i] + ElectionTicks ELSE 0]
    /\ prevotesGranted' = [prevotesGranted EXCEPT ![i] = {}]
    /\ ClearLeader(i)
    /\ UNCHANGED <<earnedTerms, unearnedDeposition, quiet, clock>>

\* The election timer ran out (no live leader heard): PreVote or election.
FTimeout(i) ==
    /\ ~heardLeader[i]
    /\ state[i] /= Leader
    /\ IF ~PreVotePhase
       THEN Timeout(i) /\ UNCHANGED extVars
       ELSE /\ state' = [state EXCEPT ![i] = PreCandidate]
            /\ currentTerm' = [currentTerm EXCEPT ![i] = PreCandidateTerm(i)]
            \* (a raised term, under the bug variant, frees the vote)
            /\ votedFor' = [votedFor EXCEPT ![i] =
                               IF PreCandidateTerm(i) = currentTerm[i] THEN @ ELSE Nil]
            /\ votesResponded' = [votesResponded EXCEPT ![i] = {}]
            /\ votesGranted' = [votesGranted EXCEPT ![i] = {}]
            /\ prevotesGranted' = [prevotesGranted EXCEPT ![i] = {}]
            /\ UNCHANGED <<messages, leaderVars, logVars>>
            /\ UNCHANGED <<heardLeader, earnedTerms, unearnedDeposition, acked, quiet,
                           clock, leaseUntil, roundAt, roundAcked>>

RequestPreVote(i, j) ==
    /\ state[i] = PreCandidate
    /\ j \notin prevotesGranted[i]
    /\ Send([mtype         |-> PreVoteRequest,
             mterm         |-> currentTerm[i] + 1,
             mlastLogTerm  |-> LastTerm(log[i]),
             mlastLogIndex |-> Len(log[i]),
             msource       |-> i,
             mdest         |-> j])
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>

StartElection(i) ==
    /\ state[i] = PreCandidate
    /\ IsQuorum(prevotesGranted[i])
    /\ state' = [state EXCEPT ![i] = Candidate]
    /\ currentTerm' = [currentTerm EXCEPT ![i] = @ + 1]
    /\ votedFor' = [votedFor EXCEPT ![i] = Nil]
    /\ votesResponded' = [votesResponded EXCEPT ![i] = {}]
    /\ votesGranted' = [votesGranted EXCEPT ![i] = {}]
    /\ prevotesGranted' = [prevotesGranted EXCEPT ![i] = {}]
    /\ earnedTerms' = earnedTerms \cup {currentTerm[i] + 1}
    /\ UNCHANGED <<messages, leaderVars, logVars>>
    /\ UNCHANGED <<heardLeader, unearnedDeposition, acked, quiet, clock, leaseUntil,
                   roundAt, roundAcked>>

FRequestVote(i, j) == RequestVote(i, j) /\ UNCHANGED extVars

FBecomeLeader(i) ==
    /\ BecomeLeader(i)
    /\ heardLeader' = [heardLeader EXCEPT ![i] = TRUE]
    /\ acked' = IF CheckQuorum THEN [acked EXCEPT ![i] = {i}] ELSE acked
    /\ quiet' = [quiet EXCEPT ![i] = FALSE]
    /\ IF Lease
       THEN /\ roundAt' = [roundAt EXCEPT ![i] = clock[i]]
            /\ roundAcked' = [roundAcked EXCEPT ![i] = {i}]
            /\ leaseUntil' = [leaseUntil EXCEPT ![i] =
                                 IF IsQuorum({i}) THEN clock[i] + LeaseTicks ELSE 0]
       ELSE UNCHANGED <<roundAt, roundAcked, leaseUntil>>
    /\ UNCHANGED <<prevotesGranted, earnedTerms, unearnedDeposition, clock>>

\* Leader i sends j a heartbeat of its current round (election profile: the
\* log is empty, so prev index 0 and no entries).
FAppendEntries(i, j) ==
    /\ i /= j
    /\ state[i] = Leader
    /\ Send([mtype         |-> AppendEntriesRequest,
             mterm         |-> currentTerm[i],
             mprevLogIndex |-> 0,
             mprevLogTerm  |-> 0,
             mentries      |-> <<>>,
             mcommitIndex  |-> 0,
             msentAt       |-> roundAt[i],
             msource       |-> i,
             mdest         |-> j])
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>

HeartbeatRound(i) ==
    /\ Lease
    /\ state[i] = Leader
    /\ clock[i] > roundAt[i]
    /\ roundAt' = [roundAt EXCEPT ![i] = clock[i]]
    /\ roundAcked' = [roundAcked EXCEPT ![i] = {i}]
    /\ leaseUntil' = [leaseUntil EXCEPT ![i] =
                         IF IsQuorum({i}) THEN Max({@, clock[i] + LeaseTicks}) ELSE @]
    /\ UNCHANGED <<vars, heardLeader, prevotesGranted, earnedTerms, unearnedDeposition,
                   acked, quiet, clock>>

\* A follower's timer runs out (with a lease, not before its deadline); a
\* leader's ends a CheckQuorum period.
FollowerTimer(i) ==
    /\ state[i] /= Leader
    /\ heardLeader[i]
    \* (an IF, not a disjunction: TLC would take each true disjunct as a step)
    /\ IF Lease THEN clock[i] >= leaseUntil[i] ELSE TRUE
    /\ heardLeader' = [heardLeader EXCEPT ![i] = FALSE]
    /\ leaseUntil' = [leaseUntil EXCEPT ![i] = 0]
    /\ UNCHANGED <<vars, prevotesGranted, earnedTerms, unearnedDeposition, acked, quiet,
                   clock, roundAt, roundAcked>>

LeaderTimer(i) ==
    /\ state[i] = Leader
    /\ CheckQuorum
    /\ IF IsQuorum(acked[i])
       THEN /\ acked' = [acked EXCEPT ![i] = {i}]
            /\ UNCHANGED <<vars, heardLeader, prevotesGranted, earnedTerms,
                           unearnedDeposition, quiet, clock, leaseUntil, roundAt, roundAcked>>
       ELSE LeaderWithoutQuorum(i)

\* MaxClock = 0: relative time, no bound (an IF for the same reason as above).
Tick(i) ==
    /\ Lease
    /\ IF MaxClock = 0 THEN TRUE ELSE clock[i] < MaxClock
    /\ clock[i] + 1 - MinClock <= Drift
    /\ clock' = [clock EXCEPT ![i] = @ + 1]
    /\ UNCHANGED <<vars, heardLeader, prevotesGranted, earnedTerms, unearnedDeposition,
                   acked, quiet, leaseUntil, roundAt, roundAcked>>

-----------------------------------------------------------------------------
\* Receiving, server i = m.mdest from j = m.msource.

\* A newer term: i knows no leader of it yet (the message stays).
FUpdateTerm(i, m) ==
    /\ currentTerm' = [currentTerm EXCEPT ![i] = m.mterm]
    /\ state' = [state EXCEPT ![i] = Follower]
    /\ votedFor' = [votedFor EXCEPT ![i] = Nil]
    /\ heardLeader' = [heardLeader EXCEPT ![i] = FALSE]
    /\ leaseUntil' = [leaseUntil EXCEPT ![i] = 0]
    /\ prevotesGranted' = [prevotesGranted EXCEPT ![i] = {}]
    /\ ClearLeader(i)
    /\ unearnedDeposition' = \/ unearnedDeposition
                             \/ PreVote /\ state[i] = Leader /\ m.mterm \notin earnedTerms
    /\ UNCHANGED <<messages, candidateVars, leaderVars, logVars, earnedTerms, quiet, clock>>

PLogOk(i, m) ==
    \/ m.mlastLogTerm > LastTerm(log[i])
    \/ /\ m.mlastLogTerm = LastTerm(log[i])
       /\ m.mlastLogIndex >= Len(log[i])

HandlePreVoteRequest(i, j, m) ==
    IF m.mterm > currentTerm[i] /\ heardLeader[i]
    THEN Discard(m) /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>
    ELSE LET grant == /\ \/ m.mterm > currentTerm[i]
                         \/ m.mterm = currentTerm[i] /\ votedFor[i] \in {Nil, j}
                      /\ PLogOk(i, m)
                      /\ ~heardLeader[i]
         IN /\ Reply([mtype        |-> PreVoteResponse,
                      mterm        |-> IF grant THEN m.mterm ELSE currentTerm[i],
                      mvoteGranted |-> grant,
                      msource      |-> i,
                      mdest        |-> j], m)
            /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>

HandlePreVoteResponse(i, j, m) ==
    IF m.mvoteGranted
    THEN /\ IF state[i] = PreCandidate /\ m.mterm = currentTerm[i] + 1
            THEN prevotesGranted' = [prevotesGranted EXCEPT ![i] = @ \cup {j}]
            ELSE UNCHANGED prevotesGranted
         /\ Discard(m)
         /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, heardLeader,
                        earnedTerms, unearnedDeposition, acked, quiet, clock, leaseUntil,
                        roundAt, roundAcked>>
    ELSE IF m.mterm > currentTerm[i]
         THEN FUpdateTerm(i, m)
         ELSE Discard(m) /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>

\* A heartbeat of a term no newer than i's.
FHandleAppendEntriesRequest(i, j, m) ==
    \/ /\ m.mterm < currentTerm[i]
       /\ Reply([mtype       |-> AppendEntriesResponse,
                 mterm       |-> currentTerm[i],
                 msuccess    |-> FALSE,
                 mmatchIndex |-> 0,
                 msentAt     |-> 0,
                 msource     |-> i,
                 mdest       |-> j], m)
       /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>
    \/ /\ m.mterm = currentTerm[i]
       /\ state[i] \in {Candidate, PreCandidate}
       /\ state' = [state EXCEPT ![i] = Follower]
       /\ prevotesGranted' = [prevotesGranted EXCEPT ![i] = {}]
       /\ UNCHANGED <<messages, currentTerm, votedFor, candidateVars, leaderVars, logVars,
                      heardLeader, earnedTerms, unearnedDeposition, acked, quiet, clock,
                      leaseUntil, roundAt, roundAcked>>
    \/ /\ m.mterm = currentTerm[i]
       /\ state[i] = Follower
       /\ Reply([mtype       |-> AppendEntriesResponse,
                 mterm       |-> currentTerm[i],
                 msuccess    |-> TRUE,
                 mmatchIndex |-> 0,
                 msentAt     |-> m.msentAt,
                 msource     |-> i,
                 mdest       |-> j], m)
       /\ heardLeader' = [heardLeader EXCEPT ![i] = TRUE]
       /\ leaseUntil' = IF Lease THEN [leaseUntil EXCEPT ![i] = clock[i] + ElectionTicks]
                        ELSE leaseUntil
       /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, prevotesGranted,
                      earnedTerms, unearnedDeposition, acked, quiet, clock, roundAt,
                      roundAcked>>

\* A heartbeat answer of i's term: a leader heard from j; an ack of its
\* current round counts to the lease.
FHandleAppendEntriesResponse(i, j, m) ==
    /\ m.mterm = currentTerm[i]
    /\ Discard(m)
    /\ IF state[i] = Leader
       THEN /\ acked' = IF CheckQuorum THEN [acked EXCEPT ![i] = @ \cup {j}] ELSE acked
            /\ IF Lease /\ m.msuccess /\ m.msentAt = roundAt[i]
               THEN /\ roundAcked' = [roundAcked EXCEPT ![i] = @ \cup {j}]
                    /\ leaseUntil' = [leaseUntil EXCEPT ![i] =
                                         LeaseAfter(i, roundAcked[i] \cup {j})]
               ELSE UNCHANGED <<roundAcked, leaseUntil>>
       ELSE UNCHANGED <<acked, roundAcked, leaseUntil>>
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, heardLeader,
                   prevotesGranted, earnedTerms, unearnedDeposition, quiet, clock, roundAt>>

\* A follower inside a live leader's lease adopts a newer term only from that
\* term's leader: its ack promised to vote for nobody until its deadline, and
\* adopting a term from, say, a late refusal of its own old vote request would
\* wipe that promise (spec/features/restated.py, keeps_lease_promise).
KeepsLeasePromise(i, m) ==
    /\ m.mterm > currentTerm[i]
    /\ m.mtype /= AppendEntriesRequest
    /\ Sticky
    /\ heardLeader[i]
    /\ state[i] /= Leader

FReceive(m) ==
    LET i == m.mdest
        j == m.msource
    IN IF m.mtype = PreVoteRequest THEN HandlePreVoteRequest(i, j, m)
       ELSE IF KeepsLeasePromise(i, m)
       THEN Discard(m) /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>
       ELSE
           CASE m.mtype = PreVoteResponse -> HandlePreVoteResponse(i, j, m)
             [] m.mterm > currentTerm[i] ->
                   IF m.mtype = RequestVoteRequest /\ Sticky /\ heardLeader[i]
                   THEN Discard(m)
                        /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars, extVars>>
                   ELSE FUpdateTerm(i, m)
             [] m.mtype = RequestVoteRequest ->
                   HandleRequestVoteRequest(i, j, m) /\ UNCHANGED extVars
             [] m.mtype = RequestVoteResponse ->
                   (DropStaleResponse(i, j, m) \/ HandleRequestVoteResponse(i, j, m))
                   /\ UNCHANGED extVars
             [] m.mtype = AppendEntriesRequest -> FHandleAppendEntriesRequest(i, j, m)
             [] OTHER ->
                   \/ DropStaleResponse(i, j, m) /\ UNCHANGED extVars
                   \/ FHandleAppendEntriesResponse(i, j, m)

FReceiveAny   == \E m \in DOMAIN messages : FReceive(m)
FDuplicateAny == \E m \in DOMAIN messages : DuplicateMessage(m) /\ UNCHANGED extVars
FDropAny      == \E m \in DOMAIN messages : DropMessage(m) /\ UNCHANGED extVars

FNext ==
    \/ \E i \in Server : FRestart(i)
    \/ \E i \in Server : FTimeout(i)
    \/ \E i, j \in Server : PreVote /\ RequestPreVote(i, j)
    \/ \E i \in Server : PreVote /\ StartElection(i)
    \/ \E i, j \in Server : FRequestVote(i, j)
    \/ \E i \in Server : FBecomeLeader(i)
    \/ \E i, j \in Server : FAppendEntries(i, j)
    \/ \E i \in Server : HeartbeatRound(i)
    \/ \E i \in Server : FollowerTimer(i)
    \/ \E i \in Server : LeaderTimer(i)
    \/ \E i \in Server : Tick(i)
    \/ FReceiveAny
    \/ FDuplicateAny
    \/ FDropAny

FConstraint ==
    /\ Constraint
    /\ PreVote => \A i \in Server : state[i] = PreCandidate => currentTerm[i] < MaxTerm

-----------------------------------------------------------------------------
\* Relative time (MaxClock = 0): the VIEW under which TLC tells states apart.
\* It is relative_time.Normalize, rule for rule (its docstring says why
\* each rule keeps every guard and property): times shifted so that the
\* slowest clock is at Origin, expired deadlines 0, a leader's dead round
\* DeadRound with only its own ack, and a heartbeat stamp that is not its
\* leader's current round StaleStamp. TLC still expands concrete states
\* (clocks from 0, ever larger), but keeps one per view. (Under the bug
\* lease-from-receive-time old rounds are clamped instead: NRoundAt and
\* NRoundAcked are bug hooks, replaced by the variants at the end.)

\* Every normalised time is positive (relative_time.origin); non-leaders' round
\* fields stay 0, as ClearLeader leaves them.
Origin     == LeaseTicks + 1
DeadRound  == Origin - LeaseTicks
StaleStamp == 0
Shift(t)   == t - MinClock + Origin

\* A leader's round can no longer give it a lease that is not already over.
RoundDead(i) == state[i] = Leader /\ roundAt[i] + LeaseTicks <= clock[i]

NClock == [i \in Server |-> Shift(clock[i])]
NLeaseUntil ==
    [i \in Server |-> IF leaseUntil[i] > clock[i] THEN Shift(leaseUntil[i]) ELSE 0]
NRoundAt ==
    [i \in Server |-> IF state[i] /= Leader THEN roundAt[i]
                      ELSE IF RoundDead(i) THEN DeadRound
                      ELSE Shift(roundAt[i])]
NRoundAcked == [i \in Server |-> IF RoundDead(i) THEN {i} ELSE roundAcked[i]]

\* Heartbeats and successful acks carry their leader's round stamp; refusals
\* and vote traffic carry none (refusals: 0, kept).
Stamped(m) ==
    \/ m.mtype = AppendEntriesRequest
    \/ m.mtype = AppendEntriesResponse /\ m.msuccess
StampLeader(m) == IF m.mtype = AppendEntriesRequest THEN m.msource ELSE m.mdest
\* The stamp still names the current round of a leader of its term.
StampCurrent(m) ==
    LET l == StampLeader(m)
    IN state[l] = Leader /\ currentTerm[l] = m.mterm /\ m.msentAt = roundAt[l]
NMessage(m) ==
    IF ~Stamped(m) THEN m
    ELSE [m EXCEPT !.msentAt = IF StampCurrent(m) THEN NRoundAt[StampLeader(m)]
                                ELSE StaleStamp]
\* The bag is a function message -> copies: messages that normalise to the
\* same record become one entry holding all their copies.
NMessages ==
    LET D == {NMessage(m) : m \in DOMAIN messages}
    IN [n \in D |-> SumCounts(messages, {m \in DOMAIN messages : NMessage(m) = n})]

RelativeView ==
    <<NMessages, currentTerm, state, votedFor, votesResponded, votesGranted,
      nextIndex, matchIndex, log, commitIndex,
      heardLeader, prevotesGranted, earnedTerms, unearnedDeposition, acked, quiet,
      NClock, NLeaseUntil, NRoundAt, NRoundAcked>>

-----------------------------------------------------------------------------
\* The features' properties (spec/features/*.py, listed in spec/properties.py,
\* same IDs).

PreVoteTermsEarned == \A i \in Server : currentTerm[i] = 1 \/ currentTerm[i] \in earnedTerms
NoUnearnedDeposition == ~unearnedDeposition
CheckQuorumStepDown == \A i \in Server : ~(quiet[i] /\ state[i] = Leader)
IsLeaderView(i) == state[i] = Leader /\ clock[i] < leaseUntil[i]
LeaseSafety == \A i, j \in Server : (IsLeaderView(i) /\ IsLeaderView(j)) => i = j
LeaseBacked ==
    \A i \in Server : IsLeaderView(i) =>
        IsQuorum({i} \cup {j \in Server : /\ currentTerm[j] = currentTerm[i]
                                          /\ heardLeader[j]
                                          /\ state[j] = Follower})

-----------------------------------------------------------------------------
\* Bug variants of the features (spec/bugs.py; their Python twins are the
\* `p.bug == ...` branches of spec/features/), each a replacement for a
\* bug hook above. Never used by the correct spec.

\* no-prevote-disruption: a timed-out server starts an election at once.
PreVotePhaseSkipped == FALSE
\* prevote-bumps-term: starting the pre-vote phase raises the server's term.
PreCandidateTermBumped(i) == currentTerm[i] + 1
\* no-check-quorum-zombie: the leader never checks; it leads on (the period
\* still ends, so the ghost `quiet` records it).
LeaderWithoutQuorumLeadsOn(i) ==
    /\ acked' = [acked EXCEPT ![i] = {i}]
    /\ quiet' = [quiet EXCEPT ![i] = TRUE]
    /\ UNCHANGED <<vars, heardLeader, prevotesGranted, earnedTerms, unearnedDeposition,
                   clock, leaseUntil, roundAt, roundAcked>>
\* lease-from-receive-time: the lease is measured from the ack's arrival.
LeaseStartAtReceive(i) == clock[i]
\* ... so a round's acks grant a lease whatever its age: a leader's round is
\* never dead; an old one is clamped to Origin - 1, which keeps every
\* comparison it takes part in (spec/features/relative_time.py, _rounds).
NRoundAtClamped ==
    [i \in Server |-> IF state[i] /= Leader THEN roundAt[i]
                      ELSE Max({Shift(roundAt[i]), Origin - 1})]
NRoundAckedKept == roundAcked

=============================================================================
