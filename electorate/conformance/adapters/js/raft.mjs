// Raft leader election as the Raft paper's Figure 2 states it (Ongaro & Ousterhout, "In Search of
// an Understandable Consensus Algorithm", 2014), written from the paper alone: terms, RequestVote,
// votes, AppendEntries as heartbeat, stepping down on a higher term, the log up-to-date check.
//
// A server is a pure state machine: a timer or a message goes in, the messages to send come out.
// It owns no clock, no socket and no disk: the caller fires its timers, carries its messages and
// gives it a `storage` whose save() makes currentTerm and votedFor durable. Figure 2: persistent
// state is "updated on stable storage before responding to RPCs", so every handler saves before
// it returns the replies.
//
// The log is static (leader election only): the caller gives each server its entries' terms.
// A candidate that a majority refused stays a candidate until its election timer fires again
// (Figure 2 says nothing else), and a vote response is counted only while the election it
// answers is still running.
//
// Planted bugs (`mutations`) let a conformance suite show that it catches each one; the names and
// what they do are in MUTATIONS below. Production use passes none.

export const FOLLOWER = "follower";
export const CANDIDATE = "candidate";
export const LEADER = "leader";

// name -> what the planted bug does (the server checks `this.bug(name)` where it acts). The names
// and meanings are the suite's mutant catalogue (docs/conformance.md), so that
// `electorate conform --all-mutants` runs them; PreVote's bug has no place in Figure 2, and a
// response of a newer term ignored altogether is no bug to raft.tla (a lost message).
export const MUTATIONS = Object.freeze({
  "vote-twice": "a second vote in the same term is granted",
  "keep-vote-on-new-term": "votedFor survives a term change",
  "no-stepdown-request": "a newer term in a vote request is not adopted",
  "no-stepdown-heartbeat": "a newer term in a heartbeat (AppendEntries) is not adopted",
  "uptodate-gt": "equal last terms need a strictly longer log",
  "uptodate-index-first": "log length is compared before the last term",
  "quorum-half": "a quorum is n / 2 (rounded down) instead of a majority",
  "count-duplicate-votes": "a repeated grant from one voter counts again",
  "count-stale-votes": "grants from older terms count",
  "no-term-increment": "a candidate keeps its term",
  "no-self-vote": "a candidate counts itself but does not record the vote (it can vote again)",
  "stale-term-in-response": "refusals carry the request's term, not ours",
  "forget-state-on-restart": "currentTerm and votedFor are never saved",
  "bump-term-on-stepdown": "a candidate or leader stepping down adds 1 to the term",
  "clear-vote-on-same-term-stepdown":
    "a candidate that steps down on a same-term AppendEntries clears its vote (a double vote)",
});

export class Server {
  // id: this server's name; peers: every server's name (this one included, in cluster order);
  // logTerms: the term of each log entry, index 1 first; durable: {term, votedFor} as saved;
  // storage: save({term, votedFor}); mutations: names from MUTATIONS.
  constructor({ id, peers, logTerms, durable, storage, mutations = [] }) {
    this.id = id;
    this.peers = peers;
    this.logTerms = logTerms;
    this.storage = storage;
    this.mutations = new Set(mutations);
    // Persistent state on all servers (Figure 2).
    this.currentTerm = durable.term;
    this.votedFor = durable.votedFor;
    // Volatile state on all servers.
    this.commitIndex = 0;
    this.role = FOLLOWER;
    this.leader = null;
    this.votesGranted = new Set();
    this.grants = 0; // grant messages counted: votesGranted.size unless a bug counts repeats
    // Volatile state on leaders (reinitialized after election).
    this.nextIndex = new Map();
    this.matchIndex = new Map();
  }

  bug(name) {
    return this.mutations.has(name);
  }

  lastLogIndex() {
    return this.logTerms.length;
  }

  termAt(index) {
    return index === 0 ? 0 : this.logTerms[index - 1];
  }

  others() {
    return this.peers.filter((p) => p !== this.id);
  }

  isMajority() {
    const n = this.peers.length;
    const count = this.bug("count-duplicate-votes") ? this.grants : this.votesGranted.size;
    return this.bug("quorum-half") ? count >= Math.floor(n / 2) : count > n / 2;
  }

  persist() {
    if (!this.bug("forget-state-on-restart")) {
      this.storage.save({ term: this.currentTerm, votedFor: this.votedFor });
    }
  }

  // Rules for Servers, all servers: "If RPC request or response contains term T > currentTerm:
  // set currentTerm = T, convert to follower". votedFor belongs to the old term and is cleared.
  adoptTerm(term) {
    this.currentTerm = term + (this.bug("bump-term-on-stepdown") && this.role !== FOLLOWER ? 1 : 0);
    if (!this.bug("keep-vote-on-new-term")) this.votedFor = null;
    this.becomeFollower(null);
    this.persist();
  }

  becomeFollower(leader) {
    this.role = FOLLOWER;
    this.leader = leader;
    this.votesGranted = new Set();
    this.grants = 0;
  }

  // Followers and candidates: "If election timeout elapses ... convert to candidate"; on
  // conversion: increment currentTerm, vote for self, send RequestVote RPCs to all other servers.
  electionTimeout() {
    if (this.role === LEADER) return []; // a leader runs no election timer
    if (!this.bug("no-term-increment")) this.currentTerm += 1;
    this.role = CANDIDATE;
    this.leader = null;
    this.votesGranted = new Set([this.id]);
    this.grants = 1;
    this.votedFor = this.bug("no-self-vote") ? null : this.id;
    this.persist();
    const out = this.others().map((p) => ({
      type: "request_vote",
      src: this.id,
      dest: p,
      term: this.currentTerm,
      candidate_id: this.id,
      last_log_index: this.lastLogIndex(),
      last_log_term: this.termAt(this.lastLogIndex()),
      pre_vote: false,
    }));
    return out.concat(this.maybeWin());
  }

  // Leaders: "repeat during idle periods to prevent election timeouts".
  heartbeatTimeout() {
    if (this.role !== LEADER) return [];
    return this.others().map((p) => this.appendEntriesTo(p));
  }

  appendEntriesTo(peer) {
    const prev = this.nextIndex.get(peer) - 1;
    return {
      type: "append_entries",
      src: this.id,
      dest: peer,
      term: this.currentTerm,
      leader_id: this.id,
      prev_log_index: prev,
      prev_log_term: this.termAt(prev),
      entries: this.logTerms.slice(prev).map((term) => ({ term, value: 0 })),
      leader_commit: this.commitIndex,
    };
  }

  // Candidates: "If votes received from majority of servers: become leader". Leaders: "Upon
  // election: send initial empty AppendEntries RPCs (heartbeat) to each server".
  maybeWin() {
    if (this.role !== CANDIDATE || !this.isMajority()) return [];
    this.role = LEADER;
    this.leader = this.id;
    for (const p of this.others()) {
      this.nextIndex.set(p, this.lastLogIndex() + 1);
      this.matchIndex.set(p, 0);
    }
    return this.heartbeatTimeout();
  }

  receive(m) {
    const ignored = { request_vote: "no-stepdown-request", append_entries: "no-stepdown-heartbeat" };
    if (m.term > this.currentTerm && !this.bug(ignored[m.type])) this.adoptTerm(m.term);
    switch (m.type) {
      case "request_vote":
        return [this.onRequestVote(m)];
      case "request_vote_res":
        return this.onRequestVoteResponse(m);
      case "append_entries":
        return this.onAppendEntries(m);
      case "append_entries_res":
        this.onAppendEntriesResponse(m);
        return [];
      default:
        throw new Error(`unknown message type ${JSON.stringify(m.type)}`);
    }
  }

  // Section 5.4.1: the candidate's log is at least as up to date as the voter's.
  logUpToDate(lastIndex, lastTerm) {
    const myTerm = this.termAt(this.lastLogIndex());
    if (this.bug("uptodate-index-first") && lastIndex !== this.lastLogIndex()) {
      return lastIndex > this.lastLogIndex();
    }
    if (lastTerm !== myTerm) return lastTerm > myTerm;
    return this.bug("uptodate-gt") ? lastIndex > this.lastLogIndex() : lastIndex >= this.lastLogIndex();
  }

  // RequestVote RPC, receiver implementation: 1. reply false if term < currentTerm; 2. if votedFor
  // is null or candidateId, and the candidate's log is at least as up to date, grant the vote.
  onRequestVote(m) {
    const free = this.votedFor === null || this.votedFor === m.candidate_id || this.bug("vote-twice");
    const grant =
      m.term === this.currentTerm &&
      free &&
      this.logUpToDate(m.last_log_index, m.last_log_term);
    if (grant) {
      this.votedFor = m.candidate_id;
      this.persist();
    }
    return {
      type: "request_vote_res",
      src: this.id,
      dest: m.src,
      term: this.replyTerm(grant, m),
      vote_granted: grant,
      pre_vote: false,
    };
  }

  replyTerm(accepted, request) {
    return !accepted && this.bug("stale-term-in-response") ? request.term : this.currentTerm;
  }

  onRequestVoteResponse(m) {
    const current = m.term === this.currentTerm || (this.bug("count-stale-votes") && m.term < this.currentTerm);
    if (this.role !== CANDIDATE || !current || !m.vote_granted) return [];
    this.votesGranted.add(m.src);
    this.grants += 1;
    return this.maybeWin();
  }

  // AppendEntries RPC, receiver implementation: 1. reply false if term < currentTerm; 2. reply
  // false if the log has no entry at prevLogIndex whose term matches prevLogTerm; 3-4. delete a
  // conflicting suffix, append new entries (a static log: leader election only, nothing to
  // append); 5. advance commitIndex. Candidates: "If AppendEntries RPC received from new leader:
  // convert to follower".
  onAppendEntries(m) {
    if (m.term === this.currentTerm && this.role === LEADER) return []; // impossible in Raft
    if (m.term === this.currentTerm && this.role === CANDIDATE) {
      if (this.bug("clear-vote-on-same-term-stepdown")) this.votedFor = null;
      if (this.bug("bump-term-on-stepdown")) this.currentTerm += 1;
      this.becomeFollower(null);
      this.persist();
    }
    const reply = (success, matchIndex) => [
      {
        type: "append_entries_res",
        src: this.id,
        dest: m.src,
        term: this.replyTerm(success, m),
        success,
        match_index: matchIndex,
      },
    ];
    if (m.term < this.currentTerm) return reply(false, 0);
    this.leader = m.leader_id;
    const prev = m.prev_log_index;
    if (prev > this.lastLogIndex() || this.termAt(prev) !== m.prev_log_term) return reply(false, 0);
    const last = prev + m.entries.length;
    if (m.leader_commit > this.commitIndex) this.commitIndex = Math.min(m.leader_commit, last);
    return reply(true, last);
  }

  // Leaders: on success update nextIndex and matchIndex for the follower; "if AppendEntries fails
  // because of log inconsistency: decrement nextIndex and retry".
  onAppendEntriesResponse(m) {
    if (this.role !== LEADER || m.term !== this.currentTerm) return;
    if (m.success) {
      this.matchIndex.set(m.src, m.match_index);
      this.nextIndex.set(m.src, m.match_index + 1);
    } else {
      this.nextIndex.set(m.src, Math.max(1, this.nextIndex.get(m.src) - 1));
    }
  }

  observe() {
    return {
      up: true,
      role: this.role,
      term: this.currentTerm,
      voted_for: this.votedFor,
      votes_granted: this.role === CANDIDATE ? [...this.votesGranted].sort() : [],
      leader: this.leader,
    };
  }
}
