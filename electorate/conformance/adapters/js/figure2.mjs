#!/usr/bin/env node
// The conformance adapter around raft.mjs (the Raft paper's Figure 2): N servers in one process,
// speaking the electorate-conformance/1 protocol on stdin/stdout (docs/conformance.md), one JSON
// line in, one JSON line out. Run it with `electorate conform --adapter figure2-js`, or
// `electorate conform --adapter "node figure2.mjs"`. Needs Node 18 or newer, nothing else.
//
// The adapter plays the servers' runtime: it fires their timers when told to, carries no message
// by itself (the harness owns the network), and keeps each server's durable store (currentTerm,
// votedFor) across crash and restart. Log lines go to stderr.

import { createInterface } from "node:readline";
import { MUTATIONS, Server } from "./raft.mjs";

const PROTOCOL = "electorate-conformance/1";
const CAPABILITIES = ["step", "crash_restart"]; // planted bugs: hello_ok.mutants
const OBSERVABLES = ["role", "term", "voted_for", "votes_granted", "leader"];
const MESSAGE_TYPES = new Set(["request_vote", "request_vote_res", "append_entries", "append_entries_res"]);

class CommandError extends Error {
  constructor(code, text) {
    super(text);
    this.code = code;
  }
}

class Cluster {
  constructor() {
    this.nodes = null; // names in cluster order, after init
  }

  init(cmd) {
    const { nodes, initial = {}, features = [], mutations = [] } = cmd;
    if (!Array.isArray(nodes) || nodes.length === 0) throw new CommandError("bad_request", "init needs nodes");
    if (features.length > 0) {
      throw new CommandError("unsupported", `features ${JSON.stringify(features)}: Figure 2 has none`);
    }
    const unknown = mutations.filter((m) => !(m in MUTATIONS));
    if (unknown.length > 0) {
      throw new CommandError("unsupported", `unknown mutation ${JSON.stringify(unknown[0])}`);
    }
    this.nodes = nodes;
    this.mutations = mutations;
    this.logs = new Map();
    this.durable = new Map();
    this.servers = new Map();
    for (const id of nodes) {
      const init = initial[id] ?? { term: 0, voted_for: null, last_log_index: 0, last_log_term: 0 };
      // The log's entries carry term 1, the last one last_log_term (docs/conformance.md).
      const k = init.last_log_index;
      this.logs.set(id, Array.from({ length: k }, (_, i) => (i === k - 1 ? init.last_log_term : 1)));
      this.durable.set(id, { term: init.term, votedFor: init.voted_for ?? null });
      this.start(id);
    }
    return this.state([]);
  }

  start(id) {
    const server = new Server({
      id,
      peers: this.nodes,
      logTerms: this.logs.get(id),
      durable: this.durable.get(id),
      storage: { save: (hard) => this.durable.set(id, { ...hard }) },
      mutations: this.mutations,
    });
    this.servers.set(id, server);
  }

  requireInit() {
    if (this.nodes === null) throw new CommandError("not_initialized", "init first");
  }

  server(id, { up = true } = {}) {
    this.requireInit();
    if (!this.nodes.includes(id)) throw new CommandError("unknown_node", `unknown node ${JSON.stringify(id)}`);
    const s = this.servers.get(id);
    if (up && s === undefined) throw new CommandError("node_down", `${id} is crashed`);
    return s;
  }

  fireTimer({ node, timer }) {
    const s = this.server(node);
    if (timer === "election") return this.state(s.electionTimeout());
    if (timer === "heartbeat") return this.state(s.heartbeatTimeout());
    throw new CommandError("unsupported", `timer ${JSON.stringify(timer)}`);
  }

  deliver({ message }) {
    if (typeof message !== "object" || message === null || !MESSAGE_TYPES.has(message.type)) {
      throw new CommandError("bad_request", "deliver needs a canonical message");
    }
    this.server(message.src, { up: false });
    return this.state(this.server(message.dest).receive(message));
  }

  crash({ node }) {
    this.server(node);
    this.servers.delete(node);
    return this.state([]);
  }

  restart({ node }) {
    if (this.server(node, { up: false }) !== undefined) throw new CommandError("bad_request", `${node} is up`);
    this.start(node);
    return this.state([]);
  }

  observe() {
    this.requireInit();
    return this.state([]);
  }

  state(emitted) {
    const nodes = {};
    for (const id of this.nodes) {
      const s = this.servers.get(id);
      nodes[id] = s === undefined ? { up: false } : s.observe();
    }
    return { emitted, nodes };
  }
}

const cluster = new Cluster();

function handle(cmd) {
  switch (cmd.type) {
    case "hello":
      if (cmd.protocol !== PROTOCOL) {
        throw new CommandError("unsupported", `protocol ${JSON.stringify(cmd.protocol)}; I speak ${PROTOCOL}`);
      }
      return {
        protocol: PROTOCOL,
        implementation: "figure2-js",
        capabilities: CAPABILITIES,
        observables: OBSERVABLES,
        options: [], // Figure 2 as written: no optional behaviour of docs/conformance.md's table
        mutants: Object.keys(MUTATIONS),
      };
    case "init":
      return cluster.init(cmd);
    case "fire_timer":
      return cluster.fireTimer(cmd);
    case "deliver":
      return cluster.deliver(cmd);
    case "crash":
      return cluster.crash(cmd);
    case "restart":
      return cluster.restart(cmd);
    case "observe":
      return cluster.observe();
    case "shutdown":
      return {};
    default:
      throw new CommandError("unsupported", `command ${JSON.stringify(cmd.type)}`);
  }
}

let replyId = 0;

function reply(type, inReplyTo, body) {
  replyId += 1;
  process.stdout.write(`${JSON.stringify({ type, msg_id: replyId, in_reply_to: inReplyTo, ...body })}\n`);
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => {
  if (line.trim() === "") return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    process.stderr.write(`figure2-js: bad JSON line: ${e.message}\n`);
    reply("error", null, { code: "bad_request", text: "not a JSON line" });
    return;
  }
  const id = Number.isInteger(cmd?.msg_id) ? cmd.msg_id : null;
  try {
    if (id === null || typeof cmd.type !== "string") {
      throw new CommandError("bad_request", "a command needs a string type and an integer msg_id");
    }
    reply(`${cmd.type}_ok`, id, handle(cmd));
  } catch (e) {
    const code = e instanceof CommandError ? e.code : "internal";
    reply("error", id, { code, text: e instanceof CommandError ? e.message : String(e) });
  }
  if (cmd?.type === "shutdown") process.exit(0);
});
