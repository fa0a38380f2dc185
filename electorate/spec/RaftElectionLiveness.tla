------------------------- MODULE RaftElectionLiveness -------------------------
(***************************************************************************)
(* The liveness models (spec/liveness/) in TLA+: RaftElectionFeatures'     *)
(* actions on a network topology, with the timing assumptions, the         *)
(* fairness of spec/liveness/fairness.py and the three liveness properties *)
(* of spec/liveness/properties.py (same IDs). TLC checks them with one     *)
(* worker, no symmetry and no state constraint (app/tlc_liveness.py).      *)
(*                                                                         *)
(* Macro steps. A liveness step is a server's whole reaction to an event   *)
(* (spec/liveness/steps.py): a timeout with the self-vote and every        *)
(* request, a heartbeat to everyone, a message handled to the end and a    *)
(* quorum acted on at once. TLC has no action composition (\cdot), so a    *)
(* macro step is run here as a short program of RaftElectionFeatures'      *)
(* own actions, one per TLC step, in the order steps.py runs them; `pc`    *)
(* holds what is left to do and `before` the messages in flight when the   *)
(* step began. Between two macro steps pc is idle (`Idle`); only then may  *)
(* a macro step start, and once started only its program moves (Micro),    *)
(* to the end: the network settles, the lucky window closes if its round   *)
(* is over, dead variables are cleared and terms normalised (Settle).      *)
(* The behaviour seen at idle states is the behaviour of our liveness      *)
(* model, step for step. TLC runs with its deadlock check on: a program    *)
(* stuck where the Python step would have been disabled is an error.       *)
(*                                                                         *)
(* Terms stay finite without a state constraint (a constraint would make   *)
(* TLC's liveness checking vacuous, tlaplus#839): Settle renumbers the     *)
(* live terms (servers' and messages', a stale request's 0 excepted) from  *)
(* 1, each gap between consecutive ones capped at Gap = 2, exactly as      *)
(* quotient.normalise does, and then keeps either that state (every        *)
(* capped gap 2) or its wide twin (every capped gap 3): the two            *)
(* representatives of quotient.representatives. The argument:              *)
(*  - Shifting every term by one amount is an exact symmetry (every guard  *)
(*    compares terms by order or by "exactly one more", every update       *)
(*    copies a term or adds one), so renumbering from 1 loses nothing.     *)
(*  - Capping gaps is not exact: a capped gap stands for "2 or more". The  *)
(*    capped quotient of our checker (quotient.py) steps a node from both  *)
(*    representatives; both enable the same actions (a gap of 2 or 3 is    *)
(*    "more than one" to every guard), and the successors of the two       *)
(*    cover a concrete state of any gap (a step raises one term by one).   *)
(*    Here TLC's idle states are those representatives themselves: a node  *)
(*    N of our capped quotient is split into its (at most two)             *)
(*    representatives, each with N's enabled instances, and every step of  *)
(*    N (from either representative) leads to both representatives of its  *)
(*    target. So a cycle of TLC's idle graph maps to a cycle of N's graph  *)
(*    with the same action instances, enabled instances and roles, and     *)
(*    back: TLC's fair-cycle question is our "holds" search's, on the same *)
(*    over-approximation of the concrete model. A "holds" is sound for the *)
(*    concrete model; a violation may in principle be spurious, which is   *)
(*    why our checker replays every lasso in the concrete model.           *)
(*                                                                         *)
(* Fairness. Weak fairness of a macro step A is WF_vars(A) of the          *)
(* behaviour seen at idle states. In the program form A is never enabled   *)
(* at a busy state, so WF_lvars(A) itself would be void whenever other     *)
(* steps run in between; MacroWF(A) is WF_lvars(A) with "continuously      *)
(* enabled" read at idle states only:                                      *)
(*     <>[](Idle => ENABLED <<A>>_lvars) => []<><<A>>_lvars,               *)
(* which is WF_lvars(Pause \/ A), Pause being a step that is enabled at    *)
(* every busy state and that no behaviour takes. Strong fairness needs no  *)
(* such reading (A is enabled infinitely often iff it is at infinitely     *)
(* many idle states), so Lull and LuckyTimeout(i) get SF_lvars itself.     *)
(* The programs get WF_lvars(Micro): a started step runs to its end.       *)
(*                                                                         *)
(* The lease, untimed (spec/features/lease.py, `timed`). A liveness model  *)
(* states timing as guards, so its lease has no clocks: only the           *)
(* follower's promise (Sticky: inside a live leader's lease, heardLeader,  *)
(* a follower ignores vote requests and messages of a newer term) until    *)
(* its timer runs out, which TimerMayRunOut (T1) restricts. Here that is   *)
(* RaftElectionFeatures' lease with every time constant 0 and no Tick or   *)
(* HeartbeatRound in LNext: clocks stay 0, every deadline is 0, so the     *)
(* clock guard of FollowerTimer (clock >= leaseUntil) always holds and     *)
(* only T1 decides. The leader's round acks (roundAcked) are then read by  *)
(* nothing that matters (the lease they grant ends at 0) and Settle        *)
(* clears them, as quotient.clear_dead clears what no guard reads.         *)
(***************************************************************************)
EXTENDS RaftElectionFeatures

\* The topology: the ordered pairs <<i, j>> (i /= j) on which i reaches j
\* (spec/topology.py; a server always reaches itself).
CONSTANT Links
\* The lucky window of a Lull (a model value; the other windows are a server
\* or Nil, none open).
CONSTANT LullWindow

ASSUME Links \subseteq Server \X Server
ASSUME Profile = "election" /\ Features \subseteq {"prevote", "check_quorum", "lease"}
\* The untimed lease (see the header): no clock ever matters.
ASSUME MaxClock = 0 /\ ElectionTicks = 0 /\ Drift = 0 /\ LeaseTicks = 0

\* stable: the network has stabilized. lucky: the open window of assumption
\* R (spec/liveness/timing.py): Nil, LullWindow, or the lucky server.
VARIABLES stable, lucky
\* The macro step under way (see the header), and the messages in flight
\* when it began ({} between steps).
VARIABLES pc, before

lvars == <<allVars, stable, lucky, pc, before>>

Gap == 2
Stale == 0            \* the term of every stale request (network.STALE)
MaxReceives == 4      \* steps.MAX_RECEIVES

Up(i, j)   == i = j \/ <<i, j>> \in Links
Both(i, j) == Up(i, j) /\ Up(j, i)
QuorumConnected(i) == IsQuorum({j \in Server : Both(i, j)})
QC == {i \in Server : QuorumConnected(i)}

Campaigning == {Candidate, PreCandidate}
VoteTypes == {RequestVoteRequest, RequestVoteResponse, PreVoteRequest, PreVoteResponse}
RequestTypes == {RequestVoteRequest, AppendEntriesRequest, PreVoteRequest}
MsgTypes == {RequestVoteRequest, RequestVoteResponse, AppendEntriesRequest,
             AppendEntriesResponse}
            \cup (IF PreVote THEN {PreVoteRequest, PreVoteResponse} ELSE {})

\* A link holds at most one message of each kind: fairness is per slot.
Slot(m) == <<m.msource, m.mdest, m.mtype>>
Slots == {<<l[1], l[2], t>> : l \in Links, t \in MsgTypes}

Prog(op, i, todo) == [op |-> op, i |-> i, todo |-> todo, m |-> <<>>, n |-> 0]
IdlePc == Prog("idle", Nil, {})
Idle == pc.op = "idle"

-----------------------------------------------------------------------------
\* Timing assumptions (spec/liveness/timing.py).

\* T1's premise: the leader of i's term, or the candidate i voted for in it,
\* leads or campaigns in that term and reaches i.
LeaderReaches(i) ==
    \E k \in Server \ {i} :
        /\ currentTerm[k] = currentTerm[i]
        /\ Up(k, i)
        /\ \/ state[k] = Leader
           \/ k = votedFor[i] /\ state[k] = Candidate

VoteTraffic(M) == \E m \in M : m.mtype \in VoteTypes
\* i's round (timing.round_traffic): a (pre-)vote request of i's, or an
\* answer to i, is in flight.
RoundTraffic(M, i) ==
    \E m \in M :
        \/ /\ m.mtype \in {RequestVoteRequest, PreVoteRequest}
           /\ m.msource = i
        \/ /\ m.mtype \in {RequestVoteResponse, PreVoteResponse}
           /\ m.mdest = i
\* R's two situations (timing.situation): a quiet network, or votes in flight.
Quiet == ~VoteTraffic(DOMAIN messages)

\* After stabilization i times out only outside T1 and outside any window.
MayTimeOut(i) == ~stable \/ (lucky = Nil /\ ~LeaderReaches(i))
\* R's premise (besides T1): stabilized, no window open, whatever is in flight.
MayBeLucky == stable /\ lucky = Nil
\* T1 for a follower's timer, T2 for a leader's CheckQuorum period.
TimerMayRunOut(i) ==
    \/ ~stable
    \/ IF state[i] = Leader
       THEN (~CheckQuorum \/ IsQuorum(acked[i])) \/ ~QuorumConnected(i)
       ELSE ~LeaderReaches(i)

-----------------------------------------------------------------------------
\* The macro steps' first moves (TLA+ names of spec/liveness/steps.py).

Begin(prog) == pc' = prog /\ before' = DOMAIN messages

LTimeout(i) ==
    /\ Idle
    /\ MayTimeOut(i)
    /\ FTimeout(i)
    /\ Begin(Prog("askself", i, {}))
    /\ UNCHANGED <<stable, lucky>>

\* Assumption R: i times out first by a margin, whatever is in flight; no
\* other server times out until its round is over (the window closes in
\* Settle).
LuckyTimeout(i) ==
    /\ Idle
    /\ MayBeLucky
    /\ MayTimeOut(i)
    /\ FTimeout(i)
    /\ lucky' = i
    /\ Begin(Prog("askself", i, {}))
    /\ UNCHANGED stable

LHeartbeat(i) ==
    /\ Idle
    /\ state[i] = Leader
    /\ Begin(Prog("broadcast", i, Server \ {i}))
    /\ UNCHANGED <<allVars, stable, lucky>>

LElectionTimer(i) ==
    /\ Idle
    /\ TimerMayRunOut(i)
    /\ FollowerTimer(i) \/ LeaderTimer(i)
    /\ Begin(Prog("settle", Nil, {}))
    /\ UNCHANGED <<stable, lucky>>

\* m's receiver handles it until it is consumed (UpdateTerm leaves it in
\* flight for its handler), then acts on a quorum it completed.
\* (A receiver that is no (pre-)candidate has no quorum to act on: straight to
\* the end.)
AfterReceive(m, n) ==
    pc' = IF m \in DOMAIN messages'
          THEN [op |-> "deliver", i |-> m.mdest, todo |-> {}, m |-> m, n |-> n]
          ELSE IF state'[m.mdest] \in Campaigning THEN Prog("advance", m.mdest, {})
          ELSE Prog("settle", Nil, {})

LDeliver(m) ==
    /\ Idle
    /\ FReceive(m)
    /\ AfterReceive(m, 1)
    /\ before' = DOMAIN messages
    /\ UNCHANGED <<stable, lucky>>

LDropMessage(m) ==
    /\ Idle
    /\ ~stable
    /\ DropMessage(m)
    /\ UNCHANGED extVars
    /\ Begin(Prog("settle", Nil, {}))
    /\ UNCHANGED <<stable, lucky>>

Stabilize ==
    /\ Idle
    /\ ~stable
    /\ stable' = TRUE
    /\ Begin(Prog("settle", Nil, {}))
    /\ UNCHANGED <<allVars, lucky>>

\* Assumption R: elections stop overlapping until the votes in flight are in.
Lull ==
    /\ Idle
    /\ stable
    /\ lucky = Nil
    /\ VoteTraffic(DOMAIN messages)
    /\ lucky' = LullWindow
    /\ Begin(Prog("settle", Nil, {}))
    /\ UNCHANGED <<allVars, stable>>

-----------------------------------------------------------------------------
\* The programs' moves (steps.campaign, advance, broadcast, Deliver).

CanAsk(i, j) ==
    IF state[i] = PreCandidate THEN j \notin prevotesGranted[i]
    ELSE state[i] = Candidate /\ j \notin votesResponded[i]
Ask(i, j) == IF state[i] = PreCandidate THEN RequestPreVote(i, j) ELSE FRequestVote(i, j)
Mine(i) == {m \in DOMAIN messages : m.msource = i /\ m.mdest = i}
Skip == UNCHANGED allVars

\* A (pre-)candidate asks itself, handles its own request and answer, asks
\* every other server, then acts on a quorum.
AskSelf == pc.op = "askself" /\ Ask(pc.i, pc.i) /\ pc' = Prog("drain", pc.i, {})
\* (Each move goes straight on to the next part once its own is done.)
AskOthers(i) ==
    IF Server = {i} THEN Prog("advance", i, {}) ELSE Prog("ask", i, Server \ {i})
Drain ==
    /\ pc.op = "drain"
    /\ IF Mine(pc.i) = {}
       THEN Skip /\ pc' = AskOthers(pc.i)
       ELSE \E m \in Mine(pc.i) :
              /\ FReceive(m)
              /\ pc' = IF \E x \in DOMAIN messages' : x.msource = pc.i /\ x.mdest = pc.i
                       THEN pc ELSE AskOthers(pc.i)
AskNext ==
    /\ pc.op = "ask"
    /\ LET j == CHOOSE j \in pc.todo : TRUE
       IN /\ IF CanAsk(pc.i, j) THEN Ask(pc.i, j) ELSE Skip
          /\ pc' = IF pc.todo = {j} THEN Prog("advance", pc.i, {})
                   ELSE [pc EXCEPT !.todo = @ \ {j}]
\* A pre-vote quorum starts the election (and a new campaign); a vote quorum
\* makes the candidate leader, which sends everyone a heartbeat.
Advance ==
    /\ pc.op = "advance"
    /\ LET i == pc.i
       IN IF state[i] = PreCandidate /\ IsQuorum(prevotesGranted[i])
          THEN StartElection(i) /\ pc' = Prog("askself", i, {})
          ELSE IF state[i] = Candidate /\ IsQuorum(votesGranted[i])
          THEN FBecomeLeader(i) /\ pc' = Prog("broadcast", i, Server \ {i})
          ELSE Skip /\ pc' = Prog("settle", Nil, {})
Broadcast ==
    /\ pc.op = "broadcast"
    /\ IF pc.todo = {}
       THEN Skip /\ pc' = Prog("settle", Nil, {})
       ELSE LET j == CHOOSE j \in pc.todo : TRUE
            IN /\ IF state[pc.i] = Leader THEN FAppendEntries(pc.i, j) ELSE Skip
               /\ pc' = IF pc.todo = {j} THEN Prog("settle", Nil, {})
                        ELSE [pc EXCEPT !.todo = @ \ {j}]
Delivering ==
    /\ pc.op = "deliver"
    /\ pc.n < MaxReceives
    /\ FReceive(pc.m)
    /\ AfterReceive(pc.m, pc.n + 1)

-----------------------------------------------------------------------------
\* The end of every macro step (next.liveness_step, quotient.normalise).

\* A response its receiver can only discard, now and later (network.dead).
Dead(m) ==
    LET i == m.mdest
    IN CASE m.mtype = PreVoteResponse -> m.mterm <= currentTerm[i]
         [] m.mtype = RequestVoteResponse ->
                \/ m.mterm < currentTerm[i]
                \/ m.mterm = currentTerm[i] /\ state[i] /= Candidate
         [] m.mtype = AppendEntriesResponse ->
                \/ m.mterm < currentTerm[i]
                \/ m.mterm = currentTerm[i] /\ state[i] /= Leader
         [] OTHER -> FALSE

\* network.settle: messages on a link outside the topology are lost, a new
\* message supersedes the one of its slot, dead responses leave, and a stale
\* request carries term Stale.
Settled ==
    LET new   == DOMAIN messages \ before
        fresh == {Slot(m) : m \in new}
        kept  == {m \in DOMAIN messages :
                     /\ Up(m.msource, m.mdest)
                     /\ m \in new \/ Slot(m) \notin fresh
                     /\ ~Dead(m)}
        Aged(m) == IF m.mtype \in RequestTypes /\ m.mterm < currentTerm[m.mdest]
                   THEN [m EXCEPT !.mterm = Stale] ELSE m
    IN {Aged(m) : m \in kept}

\* timing.close_window, on the settled network M: a Lull window stays open
\* while votes are in flight, a lucky server's while its own round is (and
\* it campaigns).
WindowAfter(M) ==
    IF lucky = Nil THEN Nil
    ELSE IF lucky = LullWindow THEN IF VoteTraffic(M) THEN lucky ELSE Nil
    ELSE IF state[lucky] \in Campaigning /\ RoundTraffic(M, lucky) THEN lucky
    ELSE Nil

\* quotient.normalise (wide = FALSE) and its wide representative (TRUE): the
\* live terms T renumbered from 1, each gap of Gap or more made Gap (Gap + 1).
Below(T, t) == {u \in T : u < t}
RECURSIVE Renum(_, _, _)
Renum(T, t, wide) ==
    IF Below(T, t) = {} THEN 1
    ELSE LET p == Max(Below(T, t))
             g == t - p
         IN Renum(T, p, wide) + (IF g < Gap THEN g ELSE IF wide THEN Gap + 1 ELSE Gap)
CappedGap(T) == \E t \in T : Below(T, t) /= {} /\ t - Max(Below(T, t)) >= Gap

Settle ==
    /\ pc.op = "settle"
    /\ LET M == Settled
           T == ({currentTerm[i] : i \in Server} \cup {m.mterm : m \in M}) \ {Stale}
           R(t, w) == IF t = Stale THEN Stale ELSE Renum(T, t, w)
       IN \E wide \in (IF CappedGap(T) THEN BOOLEAN ELSE {FALSE}) :
            /\ messages' = [n \in {[m EXCEPT !.mterm = R(m.mterm, wide)] : m \in M} |-> 1]
            /\ currentTerm' = [i \in Server |-> R(currentTerm[i], wide)]
            /\ lucky' = WindowAfter(M)
    \* quotient.clear_dead: what no guard reads before it is reset.
    /\ votesResponded' = [i \in Server |->
                             IF state[i] = Candidate THEN votesResponded[i] ELSE {}]
    /\ votesGranted' = [i \in Server |-> IF state[i] = Candidate THEN votesGranted[i] ELSE {}]
    /\ quiet' = [i \in Server |-> FALSE]
    /\ earnedTerms' = {}
    /\ unearnedDeposition' = FALSE
    \* The untimed lease's round acks: read by nothing (see the header).
    /\ roundAcked' = [i \in Server |-> {}]
    /\ pc' = IdlePc
    /\ before' = {}
    /\ UNCHANGED <<state, votedFor, leaderVars, logVars, heardLeader, prevotesGranted,
                   acked, clock, leaseUntil, roundAt, stable>>

Micro ==
    /\ ~Idle
    /\ \/ AskSelf \/ Drain \/ AskNext \/ Advance \/ Broadcast \/ Delivering
       \/ Settle
    /\ UNCHANGED <<stable>>
    /\ pc.op /= "settle" => UNCHANGED <<lucky, before>>

-----------------------------------------------------------------------------

LInit ==
    /\ FInit
    /\ stable = FALSE
    /\ lucky = Nil
    /\ pc = IdlePc
    /\ before = {}

LNext ==
    \/ Micro
    \/ \E i \in Server : LTimeout(i)
    \/ \E i \in Server : LuckyTimeout(i)
    \/ \E i \in Server : LHeartbeat(i)
    \/ \E i \in Server : LElectionTimer(i)
    \/ \E m \in DOMAIN messages : LDeliver(m)
    \/ \E m \in DOMAIN messages : LDropMessage(m)
    \/ Stabilize
    \/ Lull

\* Weak fairness of a macro step A, "continuously enabled" read at idle states
\* (see the header), MacroWF(A): <>[](Idle => ENABLED <<A>>_lvars) =>
\* []<><<A>>_lvars. Written WF_lvars(Pause \/ A): Pause is enabled at every
\* busy state and no behaviour of LNext takes it (pc is never "pause"), so
\* A \/ Pause is enabled where A is or a step is under way, and taken where A
\* is. (Spelt out per action: TLC cannot take an action as an operator's
\* argument inside a fairness formula.)
Pause == ~Idle /\ pc' = Prog("pause", Nil, {}) /\ UNCHANGED <<allVars, stable, lucky, before>>

DeliverSlot(s) == \E m \in DOMAIN messages : Slot(m) = s /\ LDeliver(m)

\* spec/liveness/fairness.py, conjunct for conjunct.
LFairness ==
    /\ WF_lvars(Micro)
    /\ \A s \in Slots : WF_lvars(Pause \/ DeliverSlot(s))
    /\ \A i \in Server : WF_lvars(Pause \/ LHeartbeat(i))
    /\ \A i \in Server : WF_lvars(Pause \/ LTimeout(i))
    /\ \A i \in Server : WF_lvars(Pause \/ LElectionTimer(i))
    /\ WF_lvars(Pause \/ Stabilize)

\* Assumption R (randomized timeouts): LuckyTimeout(i) strongly fair in each
\* of its two situations (fairness.py: two fair instances per server).
RFairness ==
    /\ SF_lvars(Lull)
    /\ \A i \in Server : SF_lvars(LuckyTimeout(i) /\ Quiet)
    /\ \A i \in Server : SF_lvars(LuckyTimeout(i) /\ ~Quiet)

\* Without R, a fair scheduler may split every vote.
LiveSpec  == LInit /\ [][LNext]_lvars /\ LFairness
LiveSpecR == LiveSpec /\ RFairness

-----------------------------------------------------------------------------
\* The liveness properties (spec/liveness/properties.py, same IDs), read at
\* idle states (a macro step's intermediate states are not states of our
\* model). A leader deposed during a macro step stays deposed to its end.

LeadsForever(l) == <>[](Idle => state[l] = Leader)
\* TLC cannot take \E over a temporal formula: the generated model checks
\* the same formula as LeadsForever(s1) \/ ... \/ LeadsForever(sN).
EventuallyLeader == \E l \in Server : LeadsForever(l)

LeaderStability ==
    <>[][\A i \in QC : state[i] = Leader => state'[i] = Leader]_lvars

CandidateProgress == \A i \in QC : []<>(Idle /\ state[i] \notin Campaigning)

=============================================================================
