---------------------------- MODULE RaftElection ----------------------------
(***************************************************************************)
(* Raft leader election (and, in the richer profiles, log replication),    *)
(* restated for the Electorate project from Diego Ongaro's raft.tla (2014, *)
(* github.com/ongardie/raft.tla). It is the TLC twin of the Python spec in *)
(* spec/*.py: same variables, same actions, same quirks, so that TLC and   *)
(* our checker explore the same state space, number for number.           *)
(*                                                                         *)
(* Differences from raft.tla, each repeated where it happens:              *)
(*  - the proof-only history variables (elections, allLogs, voterLog, the  *)
(*    mlog message field) are left out;                                    *)
(*  - a message whose count drops to 0 leaves the bag (see Discard);       *)
(*  - Profile picks which actions make up Next (see the Next section);     *)
(*  - a quorum is tested by counting rather than by enumerating SUBSET     *)
(*    Server (same meaning, much faster for TLC);                          *)
(*  - a few guards and updates are named operators ("bug hooks") so that a *)
(*    config can swap in one of the bug variants of spec/bugs.py with      *)
(*    TLC's `Op <- BugOp` override; unswapped, they mean what raft.tla     *)
(*    says.                                                                *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, Sequences, TLC

\* The servers (model values s1..sN in the generated configs).
CONSTANT Server
\* The client values a leader may append to its log ({} outside "log").
CONSTANT Value
\* A model value meaning "no server" (votedFor before a vote is cast).
CONSTANT Nil
\* Bounds for the state constraint: highest term, total copies of messages
\* in flight, longest log.
CONSTANTS MaxTerm, MaxMsgs, MaxLog
\* Which actions make up Next: "election", "heartbeat" or "log".
CONSTANT Profile

ASSUME Profile \in {"election", "heartbeat", "log"}
ASSUME MaxTerm \in Nat /\ MaxMsgs \in Nat /\ MaxLog \in Nat
ASSUME Nil \notin Server

\* Server roles and message types. raft.tla declares them as constants; they
\* are plain strings here so that a config needs to name only the parameters.
Follower  == "Follower"
Candidate == "Candidate"
Leader    == "Leader"
RequestVoteRequest    == "RequestVoteRequest"
RequestVoteResponse   == "RequestVoteResponse"
AppendEntriesRequest  == "AppendEntriesRequest"
AppendEntriesResponse == "AppendEntriesResponse"

-----------------------------------------------------------------------------
\* The network.

\* The messages in flight, as a bag: a function from message records to the
\* number of copies in flight (always at least 1, see Discard).
VARIABLE messages

-----------------------------------------------------------------------------
\* Per-server variables: functions with domain Server.

\* The latest term the server has seen.
VARIABLE currentTerm
\* Follower, Candidate or Leader (called `role` in the Python mirror).
VARIABLE state
\* Whom the server voted for in currentTerm, or Nil.
VARIABLE votedFor
serverVars == <<currentTerm, state, votedFor>>

\* The server's log: a sequence of [term, value] records, index 1 first.
VARIABLE log
\* The highest log index the server knows to be committed.
VARIABLE commitIndex
logVars == <<log, commitIndex>>

\* Read only while a candidate: the servers that answered its RequestVote in
\* currentTerm, and those among them that granted their vote.
VARIABLE votesResponded
VARIABLE votesGranted
candidateVars == <<votesResponded, votesGranted>>

\* Read only while a leader: for each peer, the next log index to send it and
\* the highest index known to match the leader's log.
VARIABLE nextIndex
VARIABLE matchIndex
leaderVars == <<nextIndex, matchIndex>>

vars == <<messages, serverVars, candidateVars, leaderVars, logVars>>

-----------------------------------------------------------------------------
\* Helpers.

\* A strict majority of Server. raft.tla writes this as membership in
\* {Q \in SUBSET Server : 2 * |Q| > |Server|}; counting means the same thing.
IsQuorum(S) == Cardinality(S) * 2 > Cardinality(Server)

\* Term of the last entry of a log, 0 for the empty log.
LastTerm(xlog) == IF Len(xlog) = 0 THEN 0 ELSE xlog[Len(xlog)].term

Min(S) == CHOOSE x \in S : \A y \in S : x <= y
Max(S) == CHOOSE x \in S : \A y \in S : x >= y

\* The bag with one more copy of m.
WithMessage(m, msgs) ==
    IF m \in DOMAIN msgs
    THEN [msgs EXCEPT ![m] = @ + 1]
    ELSE msgs @@ (m :> 1)

\* The bag with one copy of m fewer. Deviation from raft.tla: when the last
\* copy goes, m leaves DOMAIN msgs instead of staying with count 0, so that a
\* received or dropped message cannot be received, duplicated or dropped again.
WithoutMessage(m, msgs) ==
    IF m \notin DOMAIN msgs THEN msgs
    ELSE IF msgs[m] = 1 THEN [n \in DOMAIN msgs \ {m} |-> msgs[n]]
    ELSE [msgs EXCEPT ![m] = @ - 1]

Send(m) == messages' = WithMessage(m, messages)
Discard(m) == messages' = WithoutMessage(m, messages)
\* Send a response and consume the request in one step.
Reply(response, request) ==
    messages' = WithoutMessage(request, WithMessage(response, messages))

\* Total number of copies in a bag (for the state constraint).
RECURSIVE SumCounts(_, _)
SumCounts(msgs, D) ==
    IF D = {} THEN 0
    ELSE LET d == CHOOSE x \in D : TRUE
         IN msgs[d] + SumCounts(msgs, D \ {d})
BagSize(msgs) == SumCounts(msgs, DOMAIN msgs)

-----------------------------------------------------------------------------
\* Bug hooks: the correct behaviour, named so that a config can replace it
\* (`IsQuorum <- IsQuorumAtLeastHalf`). The replacements are the bug variants
\* of spec/bugs.py, grouped at the end of this module.

\* What Restart leaves in votedFor[i]: the durable vote.
VoteAfterRestart(i) == votedFor[i]
\* Whether i may still give its vote to j in its current term.
VoteFree(i, j) == votedFor[i] \in {Nil, j}
\* Whether the vote request m's log is at least as up to date as i's.
VoteLogOk(i, m) ==
    \/ m.mlastLogTerm > LastTerm(log[i])
    \/ /\ m.mlastLogTerm = LastTerm(log[i])
       /\ m.mlastLogIndex >= Len(log[i])
\* Whether i tallies the vote response m.
VoteResponseCounted(i, m) == m.mterm = currentTerm[i]
\* Whether i throws the response m away as stale.
ResponseStale(i, m) == m.mterm < currentTerm[i]
\* The role i takes on adopting a newer term.
RoleOnNewTerm(i) == Follower

-----------------------------------------------------------------------------
\* The initial state: everyone a follower in term 1 with an empty log, and
\* nothing in flight.

Init ==
    /\ messages       = [m \in {} |-> 0]
    /\ currentTerm    = [i \in Server |-> 1]
    /\ state          = [i \in Server |-> Follower]
    /\ votedFor       = [i \in Server |-> Nil]
    /\ votesResponded = [i \in Server |-> {}]
    /\ votesGranted   = [i \in Server |-> {}]
    \* nextIndex[i][i] and matchIndex[i][i] exist but are never read.
    /\ nextIndex      = [i \in Server |-> [j \in Server |-> 1]]
    /\ matchIndex     = [i \in Server |-> [j \in Server |-> 0]]
    /\ log            = [i \in Server |-> <<>>]
    /\ commitIndex    = [i \in Server |-> 0]

-----------------------------------------------------------------------------
\* Actions a server takes on its own.

\* Server i crashes and comes back with only its persistent state: term, vote
\* and log survive, everything volatile is reset. Always enabled, so it
\* stutters when i is already a reset follower.
Restart(i) ==
    /\ state'          = [state EXCEPT ![i] = Follower]
    /\ votesResponded' = [votesResponded EXCEPT ![i] = {}]
    /\ votesGranted'   = [votesGranted EXCEPT ![i] = {}]
    /\ nextIndex'      = [nextIndex EXCEPT ![i] = [j \in Server |-> 1]]
    /\ matchIndex'     = [matchIndex EXCEPT ![i] = [j \in Server |-> 0]]
    /\ commitIndex'    = [commitIndex EXCEPT ![i] = 0]
    /\ votedFor'       = [votedFor EXCEPT ![i] = VoteAfterRestart(i)]
    /\ UNCHANGED <<messages, currentTerm, log>>

\* Server i, a follower or candidate, gives up waiting and starts an election
\* in the next term. It does not vote for itself here: that vote travels as a
\* RequestVote message from i to i, like any other.
Timeout(i) ==
    /\ state[i] \in {Follower, Candidate}
    /\ state'          = [state EXCEPT ![i] = Candidate]
    /\ currentTerm'    = [currentTerm EXCEPT ![i] = @ + 1]
    /\ votedFor'       = [votedFor EXCEPT ![i] = Nil]
    /\ votesResponded' = [votesResponded EXCEPT ![i] = {}]
    /\ votesGranted'   = [votesGranted EXCEPT ![i] = {}]
    /\ UNCHANGED <<messages, leaderVars, logVars>>

\* Candidate i asks server j (possibly itself) for its vote, unless j has
\* already answered in this term.
RequestVote(i, j) ==
    /\ state[i] = Candidate
    /\ j \notin votesResponded[i]
    /\ Send([mtype         |-> RequestVoteRequest,
             mterm         |-> currentTerm[i],
             mlastLogTerm  |-> LastTerm(log[i]),
             mlastLogIndex |-> Len(log[i]),
             msource       |-> i,
             mdest         |-> j])
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars>>

\* Leader i sends peer j an AppendEntries request carrying at most one entry
\* (none when j is up to date: a heartbeat).
AppendEntries(i, j) ==
    /\ i /= j
    /\ state[i] = Leader
    /\ LET prevLogIndex == nextIndex[i][j] - 1
           prevLogTerm  == IF prevLogIndex > 0 THEN log[i][prevLogIndex].term ELSE 0
           lastEntry    == Min({Len(log[i]), nextIndex[i][j]})
           entries      == SubSeq(log[i], nextIndex[i][j], lastEntry)
       IN Send([mtype         |-> AppendEntriesRequest,
                mterm         |-> currentTerm[i],
                mprevLogIndex |-> prevLogIndex,
                mprevLogTerm  |-> prevLogTerm,
                mentries      |-> entries,
                mcommitIndex  |-> Min({commitIndex[i], lastEntry}),
                msource       |-> i,
                mdest         |-> j])
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars>>

\* Candidate i, holding votes from a majority, becomes leader and starts
\* each peer's nextIndex just past its own log.
BecomeLeader(i) ==
    /\ state[i] = Candidate
    /\ IsQuorum(votesGranted[i])
    /\ state'      = [state EXCEPT ![i] = Leader]
    /\ nextIndex'  = [nextIndex EXCEPT ![i] = [j \in Server |-> Len(log[i]) + 1]]
    /\ matchIndex' = [matchIndex EXCEPT ![i] = [j \in Server |-> 0]]
    /\ UNCHANGED <<messages, currentTerm, votedFor, candidateVars, logVars>>

\* Leader i appends client value v to its log in its current term.
ClientRequest(i, v) ==
    /\ state[i] = Leader
    /\ log' = [log EXCEPT ![i] = Append(@, [term |-> currentTerm[i], value |-> v])]
    /\ UNCHANGED <<messages, serverVars, candidateVars, leaderVars, commitIndex>>

\* Leader i moves its commitIndex to the highest index a majority stores, if
\* that entry is from i's current term; otherwise it keeps it (the action is
\* still taken, as a stutter).
AdvanceCommitIndex(i) ==
    /\ state[i] = Leader
    /\ LET Agree(index) == {i} \cup {k \in Server : matchIndex[i][k] >= index}
           agreeIndexes == {index \in 1..Len(log[i]) : IsQuorum(Agree(index))}
           newCommitIndex ==
               IF /\ agreeIndexes /= {}
                  /\ log[i][Max(agreeIndexes)].term = currentTerm[i]
               THEN Max(agreeIndexes)
               ELSE commitIndex[i]
       IN commitIndex' = [commitIndex EXCEPT ![i] = newCommitIndex]
    /\ UNCHANGED <<messages, serverVars, candidateVars, leaderVars, log>>

-----------------------------------------------------------------------------
\* Message handlers: server i receives message m from server j.

\* Server i answers j's vote request of a term no newer than its own. It
\* grants the vote when the terms match, j's log is at least as up to date as
\* its own, and it has not voted for anyone else in this term.
HandleRequestVoteRequest(i, j, m) ==
    LET grant == /\ m.mterm = currentTerm[i]
                 /\ VoteLogOk(i, m)
                 /\ VoteFree(i, j)
    IN /\ m.mterm <= currentTerm[i]
       /\ \/ grant /\ votedFor' = [votedFor EXCEPT ![i] = j]
          \/ ~grant /\ UNCHANGED votedFor
       /\ Reply([mtype        |-> RequestVoteResponse,
                 mterm        |-> currentTerm[i],
                 mvoteGranted |-> grant,
                 msource      |-> i,
                 mdest        |-> j],
                m)
       /\ UNCHANGED <<state, currentTerm, candidateVars, leaderVars, logVars>>

\* Server i records j's answer to a vote request of its current term. As in
\* raft.tla the answer is tallied whatever i's role: only a candidate reads
\* the tally.
HandleRequestVoteResponse(i, j, m) ==
    /\ VoteResponseCounted(i, m)
    /\ votesResponded' = [votesResponded EXCEPT ![i] = @ \cup {j}]
    /\ \/ m.mvoteGranted /\ votesGranted' = [votesGranted EXCEPT ![i] = @ \cup {j}]
       \/ ~m.mvoteGranted /\ UNCHANGED votesGranted
    /\ Discard(m)
    /\ UNCHANGED <<serverVars, leaderVars, logVars>>

\* Server i handles leader j's AppendEntries request of a term no newer than
\* its own: it rejects it, steps down from candidate (keeping the message to
\* handle it again as a follower), or accepts it as a follower.
HandleAppendEntriesRequest(i, j, m) ==
    LET logOk == \/ m.mprevLogIndex = 0
                 \/ /\ m.mprevLogIndex > 0
                    /\ m.mprevLogIndex <= Len(log[i])
                    /\ m.mprevLogTerm = log[i][m.mprevLogIndex].term
        index == m.mprevLogIndex + 1
    IN /\ m.mterm <= currentTerm[i]
       /\ \/ \* Reject: stale term, or a follower whose log does not match.
             /\ \/ m.mterm < currentTerm[i]
                \/ /\ m.mterm = currentTerm[i]
                   /\ state[i] = Follower
                   /\ ~logOk
             /\ Reply([mtype       |-> AppendEntriesResponse,
                       mterm       |-> currentTerm[i],
                       msuccess    |-> FALSE,
                       mmatchIndex |-> 0,
                       msource     |-> i,
                       mdest       |-> j],
                      m)
             /\ UNCHANGED <<serverVars, logVars>>
          \/ \* A candidate learns of a leader in its term and steps down.
             /\ m.mterm = currentTerm[i]
             /\ state[i] = Candidate
             /\ state' = [state EXCEPT ![i] = Follower]
             /\ UNCHANGED <<currentTerm, votedFor, logVars, messages>>
          \/ \* Accept: the follower's log matches up to mprevLogIndex.
             /\ m.mterm = currentTerm[i]
             /\ state[i] = Follower
             /\ logOk
             /\ \/ \* Nothing new to store: acknowledge and adopt the commit
                   \* index (which may move backwards on an old duplicate).
                   /\ \/ m.mentries = <<>>
                      \/ /\ m.mentries /= <<>>
                         /\ Len(log[i]) >= index
                         /\ log[i][index].term = m.mentries[1].term
                   /\ commitIndex' = [commitIndex EXCEPT ![i] = m.mcommitIndex]
                   /\ Reply([mtype       |-> AppendEntriesResponse,
                             mterm       |-> currentTerm[i],
                             msuccess    |-> TRUE,
                             mmatchIndex |-> m.mprevLogIndex + Len(m.mentries),
                             msource     |-> i,
                             mdest       |-> j],
                            m)
                   /\ UNCHANGED <<serverVars, log>>
                \/ \* Conflicting entry at index: drop the log's last entry
                   \* (the message stays, to be handled again).
                   /\ m.mentries /= <<>>
                   /\ Len(log[i]) >= index
                   /\ log[i][index].term /= m.mentries[1].term
                   /\ log' = [log EXCEPT ![i] = SubSeq(@, 1, Len(@) - 1)]
                   /\ UNCHANGED <<serverVars, commitIndex, messages>>
                \/ \* The entry extends the log exactly: append it (the
                   \* message stays, to be acknowledged next time).
                   /\ m.mentries /= <<>>
                   /\ Len(log[i]) = m.mprevLogIndex
                   /\ log' = [log EXCEPT ![i] = Append(@, m.mentries[1])]
                   /\ UNCHANGED <<serverVars, commitIndex, messages>>
       /\ UNCHANGED <<candidateVars, leaderVars>>

\* Leader i records j's answer to an AppendEntries request of its current
\* term: on success j matches up to mmatchIndex, on failure i backs off by one.
HandleAppendEntriesResponse(i, j, m) ==
    /\ m.mterm = currentTerm[i]
    /\ \/ /\ m.msuccess
          /\ nextIndex'  = [nextIndex EXCEPT ![i][j] = m.mmatchIndex + 1]
          /\ matchIndex' = [matchIndex EXCEPT ![i][j] = m.mmatchIndex]
       \/ /\ ~m.msuccess
          /\ nextIndex' = [nextIndex EXCEPT ![i][j] = Max({@ - 1, 1})]
          /\ UNCHANGED matchIndex
    /\ Discard(m)
    /\ UNCHANGED <<serverVars, candidateVars, logVars>>

\* Server i sees a newer term in any message and adopts it as a follower
\* with no vote. The message is left in the bag, to be handled next.
UpdateTerm(i, j, m) ==
    /\ m.mterm > currentTerm[i]
    /\ currentTerm' = [currentTerm EXCEPT ![i] = m.mterm]
    /\ state'       = [state EXCEPT ![i] = RoleOnNewTerm(i)]
    /\ votedFor'    = [votedFor EXCEPT ![i] = Nil]
    /\ UNCHANGED <<messages, candidateVars, leaderVars, logVars>>

\* Server i throws away a response from an older term.
DropStaleResponse(i, j, m) ==
    /\ ResponseStale(i, m)
    /\ Discard(m)
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars>>

\* The addressee of m receives it: a newer term is adopted first, stale
\* responses are dropped, anything else goes to the handler for its type.
Receive(m) ==
    LET i == m.mdest
        j == m.msource
    IN \/ UpdateTerm(i, j, m)
       \/ /\ m.mtype = RequestVoteRequest
          /\ HandleRequestVoteRequest(i, j, m)
       \/ /\ m.mtype = RequestVoteResponse
          /\ \/ DropStaleResponse(i, j, m)
             \/ HandleRequestVoteResponse(i, j, m)
       \/ /\ m.mtype = AppendEntriesRequest
          /\ HandleAppendEntriesRequest(i, j, m)
       \/ /\ m.mtype = AppendEntriesResponse
          /\ \/ DropStaleResponse(i, j, m)
             \/ HandleAppendEntriesResponse(i, j, m)

-----------------------------------------------------------------------------
\* Network faults. Any message in flight may be copied or lost.

\* The network delivers one more copy of m later.
DuplicateMessage(m) ==
    /\ Send(m)
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars>>

\* The network loses one copy of m.
DropMessage(m) ==
    /\ Discard(m)
    /\ UNCHANGED <<serverVars, candidateVars, leaderVars, logVars>>

-----------------------------------------------------------------------------
\* The next-state relation. Profiles (an Electorate addition) pick actions:
\*   "election"  - Restart, Timeout, RequestVote, BecomeLeader, Receive and
\*                 the network faults; only vote messages ever exist.
\*   "heartbeat" - raft.tla's whole Next; run with Value = {} so that logs
\*                 stay empty and AppendEntries carries heartbeats only.
\*   "log"       - raft.tla's whole Next, with client values.

\* The message actions get names of their own only so that TLC labels trace
\* steps "ReceiveAny" rather than "ElectionNext" (it cannot split a quantifier
\* over DOMAIN messages into one action per message, as it does for Server).
ReceiveAny   == \E m \in DOMAIN messages : Receive(m)
DuplicateAny == \E m \in DOMAIN messages : DuplicateMessage(m)
DropAny      == \E m \in DOMAIN messages : DropMessage(m)

ElectionNext ==
    \/ \E i \in Server : Restart(i)
    \/ \E i \in Server : Timeout(i)
    \/ \E i, j \in Server : RequestVote(i, j)
    \/ \E i \in Server : BecomeLeader(i)
    \/ ReceiveAny
    \/ DuplicateAny
    \/ DropAny

\* The servers that may take replication steps: none in "election". Written as
\* a constant set, not as a guard, so that TLC still splits the quantifiers
\* below into one action per server and names trace steps after them.
ReplicatingServer == IF Profile = "election" THEN {} ELSE Server

ReplicationNext ==
    \/ \E i \in ReplicatingServer, v \in Value : ClientRequest(i, v)
    \/ \E i \in ReplicatingServer : AdvanceCommitIndex(i)
    \/ \E i \in ReplicatingServer, j \in Server : AppendEntries(i, j)

Next == ElectionNext \/ ReplicationNext

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
\* Model checking: state constraint, symmetry and invariants.

\* Bounds the otherwise infinite state space (TLC CONSTRAINT).
Constraint ==
    /\ \A i \in Server : currentTerm[i] <= MaxTerm
    /\ BagSize(messages) <= MaxMsgs
    /\ \A i \in Server : Len(log[i]) <= MaxLog

\* Servers are interchangeable (TLC SYMMETRY).
Perms == Permutations(Server)

\* At most one leader per term.
ElectionSafety ==
    \A i, j \in Server :
        (i /= j /\ state[i] = Leader /\ state[j] = Leader)
            => currentTerm[i] /= currentTerm[j]

\* Two logs holding an entry of the same term at the same index agree on
\* every entry up to that index.
LogMatching ==
    \A i, j \in Server :
        \A k \in 1..Min({Len(log[i]), Len(log[j])}) :
            log[i][k].term = log[j][k].term
                => SubSeq(log[i], 1, k) = SubSeq(log[j], 1, k)

\* Log a is at least as up to date as log b (Raft 5.4.1: last term, then
\* length): the test a voter applies, stated on two logs.
UpToDate(a, b) ==
    \/ LastTerm(a) > LastTerm(b)
    \/ LastTerm(a) = LastTerm(b) /\ Len(a) >= Len(b)

\* A leader's log is at least as up to date as the log of every server that
\* voted for it in its current term and is still in that term.
LeaderLogCoversVoters ==
    \A c, v \in Server :
        (/\ state[c] = Leader
         /\ votedFor[v] = c
         /\ currentTerm[v] = currentTerm[c])
            => UpToDate(log[c], log[v])

\* Every leader holds a majority of granted votes.
LeaderHasQuorum ==
    \A i \in Server : state[i] = Leader => IsQuorum(votesGranted[i])

\* A candidate's or leader's tally holds only real votes for it in its term:
\* each voter j still votes for i, or has since moved to a later term. (A
\* follower's tally is not constrained: raft.tla tallies for followers too.)
VotesGrantedAreVotes ==
    \A i \in Server : state[i] /= Follower =>
        \A j \in votesGranted[i] :
            currentTerm[j] > currentTerm[i] \/ votedFor[j] = i

\* A granted vote in flight is its sender's vote in that term, unless the
\* sender has since moved to a later term.
VoteResponsesAreVotes ==
    \A m \in DOMAIN messages :
        (m.mtype = RequestVoteResponse /\ m.mvoteGranted)
            => \/ currentTerm[m.msource] > m.mterm
               \/ votedFor[m.msource] = m.mdest

\* The first k entries of a log (all of it when k is past its end).
Prefix(xlog, k) == SubSeq(xlog, 1, Min({k, Len(xlog)}))

\* A leader whose term is at least server i's holds every entry i counts as
\* committed (stated without history variables: i learnt its commitIndex in
\* a term no later than currentTerm[i]).
LeaderCompleteness ==
    \A i, j \in Server :
        LET committed == Prefix(log[i], commitIndex[i])
        IN (state[j] = Leader /\ currentTerm[j] >= currentTerm[i])
              => Prefix(log[j], Len(committed)) = committed

\* Not a safety property but a reachability witness, checked on its own: TLC
\* reports it violated exactly when some server can become leader, and the
\* counterexample is a shortest election. A model where it holds is vacuous.
NoLeaderElected == \A i \in Server : state[i] /= Leader

-----------------------------------------------------------------------------
\* Bug variants (spec/bugs.py), each a replacement for a bug hook above; a
\* config selects one with `Hook <- Variant`. Never used by the correct spec.

\* quorum-half: "at least half" -- two disjoint halves of an even cluster.
IsQuorumAtLeastHalf(S) == Cardinality(S) * 2 >= Cardinality(Server)
\* vote-twice: votedFor is ignored when granting.
VoteFreeAlways(i, j) == TRUE
\* no-log-check: votes are granted without the up-to-date check.
VoteLogOkAlways(i, m) == TRUE
\* forget-vote-on-restart: votedFor is not durable.
VoteForgottenOnRestart(i) == Nil
\* stale-votes-counted: vote responses from older terms are tallied instead of
\* dropped (two hooks: the tally accepts them, DropStaleResponse skips them).
VoteResponseCountedIfNotNewer(i, m) == m.mterm <= currentTerm[i]
ResponseStaleUnlessVote(i, m) ==
    m.mterm < currentTerm[i] /\ m.mtype /= RequestVoteResponse
\* leader-keeps-role: a leader that adopts a newer term stays leader.
RoleOnNewTermLeaderStays(i) == IF state[i] = Leader THEN Leader ELSE Follower

=============================================================================
