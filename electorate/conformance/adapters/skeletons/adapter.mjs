#!/usr/bin/env node
// A conformance adapter skeleton in JavaScript (Node 18+, no npm package): the whole
// electorate-conformance/1 envelope (docs/conformance.md), with the places where your Raft plugs
// in marked "PLUG IN". Copy this file next to your implementation, fill in the class `Node`, then
//     electorate conform --adapter "node adapter.mjs"
// As shipped, the node is a stub that never campaigns: the suite runs it and reports it as
// failing (a timeout must make the node a candidate), which shows the envelope works.

import { createInterface } from "node:readline";

const PROTOCOL = "electorate-conformance/1";
// PLUG IN: add "crash_restart" once restart() rebuilds a node from its durable store, and
// "mutations" if init.mutations plants bugs in your implementation.
const CAPABILITIES = ["step"];
const OBSERVABLES = ["role", "term", "voted_for", "votes_granted", "leader"];

class CommandError extends Error {
  constructor(code, text) {
    super(text);
    this.code = code;
  }
}

// One Raft server. PLUG IN: wrap your implementation here. Every handler returns the messages the
// server sends (canonical form: docs/conformance.md, "Canonical messages"), runs to quiescence,
// and saves currentTerm and votedFor into `durable` before it returns. No real timers or clocks:
// the harness fires timers by calling electionTimer() and heartbeatTimer().
class Node {
  // id: "n1"...; peers: every node's id in cluster order; durable: {term, votedFor}, kept by the
  // adapter across crashes; log: {lastIndex, lastTerm} (earlier entries have term 1).
  constructor({ id, peers, durable, log, seed }) {
    this.id = id;
    this.peers = peers;
    this.durable = durable;
    this.log = log;
    this.seed = seed;
  }

  electionTimer() {
    return []; // PLUG IN: your election timeout (become candidate, send request_vote)
  }

  heartbeatTimer() {
    return []; // PLUG IN: your leader's heartbeat (append_entries to every peer)
  }

  receive(message) {
    return []; // PLUG IN: hand `message` to your implementation, return what it sends
  }

  observe() {
    // PLUG IN: map your roles to follower / pre_candidate / candidate / leader.
    return {
      up: true,
      role: "follower",
      term: this.durable.term,
      voted_for: this.durable.votedFor,
      votes_granted: [], // the voters a candidate counts, else []
      leader: null,
    };
  }
}

class Cluster {
  constructor() {
    this.ids = null;
  }

  init({ nodes, seed = 0, features = [], initial = {}, mutations = [] }) {
    if (!Array.isArray(nodes) || nodes.length === 0) throw new CommandError("bad_request", "init needs nodes");
    if (features.length > 0) throw new CommandError("unsupported", `features ${JSON.stringify(features)}`);
    if (mutations.length > 0) throw new CommandError("unsupported", `mutations ${JSON.stringify(mutations)}`);
    this.ids = nodes;
    this.seed = seed;
    this.logs = new Map();
    this.durable = new Map();
    this.live = new Map();
    for (const id of nodes) {
      const init = initial[id] ?? { term: 0, last_log_index: 0, last_log_term: 0 };
      this.logs.set(id, { lastIndex: init.last_log_index, lastTerm: init.last_log_term });
      this.durable.set(id, { term: init.term, votedFor: init.voted_for ?? null });
      this.start(id);
    }
    return this.state([]);
  }

  start(id) {
    const args = { id, peers: this.ids, durable: this.durable.get(id), log: this.logs.get(id), seed: this.seed };
    this.live.set(id, new Node(args));
  }

  node(id, mustBeUp = true) {
    if (this.ids === null) throw new CommandError("not_initialized", "init first");
    if (!this.ids.includes(id)) throw new CommandError("unknown_node", `unknown node ${JSON.stringify(id)}`);
    const n = this.live.get(id);
    if (mustBeUp && n === undefined) throw new CommandError("node_down", `${id} is crashed`);
    return n;
  }

  state(emitted) {
    const nodes = {};
    for (const id of this.ids) nodes[id] = this.live.has(id) ? this.live.get(id).observe() : { up: false };
    return { emitted, nodes };
  }

  handle(cmd) {
    switch (cmd.type) {
      case "hello":
        if (cmd.protocol !== PROTOCOL) throw new CommandError("unsupported", `I speak ${PROTOCOL}`);
        return { protocol: PROTOCOL, implementation: "skeleton-js", capabilities: CAPABILITIES, observables: OBSERVABLES };
      case "init":
        return this.init(cmd);
      case "fire_timer": {
        const n = this.node(cmd.node);
        if (cmd.timer === "election") return this.state(n.electionTimer());
        if (cmd.timer === "heartbeat") return this.state(n.heartbeatTimer());
        throw new CommandError("unsupported", `timer ${JSON.stringify(cmd.timer)}`);
      }
      case "deliver": {
        const m = cmd.message;
        if (typeof m !== "object" || m === null) throw new CommandError("bad_request", "deliver needs a message");
        return this.state(this.node(m.dest).receive(m));
      }
      case "crash":
        this.node(cmd.node);
        this.live.delete(cmd.node);
        return this.state([]);
      case "restart":
        if (this.node(cmd.node, false) !== undefined) throw new CommandError("bad_request", `${cmd.node} is up`);
        this.start(cmd.node); // rebuilt from the durable store only
        return this.state([]);
      case "observe":
        this.node(this.ids?.[0], false);
        return this.state([]);
      case "shutdown":
        return {};
      default: // transfer, and anything newer than this skeleton
        throw new CommandError("unsupported", `command ${JSON.stringify(cmd.type)}`);
    }
  }
}

const cluster = new Cluster();
let replyId = 0;

function reply(type, inReplyTo, body) {
  replyId += 1;
  process.stdout.write(`${JSON.stringify({ type, msg_id: replyId, in_reply_to: inReplyTo, ...body })}\n`);
}

createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
  if (line.trim() === "") return;
  let cmd = null;
  try {
    cmd = JSON.parse(line);
  } catch {
    reply("error", null, { code: "bad_request", text: "not a JSON line" });
    return;
  }
  const id = Number.isInteger(cmd?.msg_id) ? cmd.msg_id : null;
  try {
    if (id === null || typeof cmd.type !== "string") throw new CommandError("bad_request", "need type and msg_id");
    reply(`${cmd.type}_ok`, id, cluster.handle(cmd));
  } catch (e) {
    const known = e instanceof CommandError;
    if (!known) process.stderr.write(`${e.stack}\n`); // log to stderr only
    reply("error", id, { code: known ? e.code : "internal", text: known ? e.message : String(e) });
  }
  if (cmd?.type === "shutdown") process.exit(0);
});
