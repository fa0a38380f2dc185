#!/usr/bin/env node
// Conformance adapter for liferaft (npm @markwylde/liferaft 1.4.0), a Raft library nobody here
// wrote, driven step by step through its own seams; its code is installed by package name and
// never changed. Usage: node adapter.mjs NODE_MODULES_DIR (the folder holding @markwylde/liferaft).
//
// - Network: each Raft joins its peers with a `write(packet)` that only records the packet; a
//   request is delivered with the Raft's own `data` handler and a `write` that records the reply,
//   as liferaft's transports do. A reply is delivered with the `data` handler and no `write`, which
//   is what the sender's `message()` does with an answer.
// - Time: `raft.timers` (tick-tock) is replaced by a manual timer table that never fires by
//   itself: `fire_timer election` runs the callback liferaft armed (`heartbeat` on a follower,
//   `election` on a candidate), `fire_timer heartbeat` runs a leader's `heartbeat` callback.
//   Every handler is async: the adapter awaits it and then lets the event loop settle.
// - Durable state: the log is liferaft's own `Log` (levelup on leveldown, one folder per node);
//   liferaft keeps term and vote in memory only, so a restarted node starts at term 0, no vote.
//   The `initial` term and vote are set on the Raft object (it has no API for them).
// - Mapping: `vote` -> request_vote, `voted` -> request_vote_res, `append` -> append_entries
//   (prev_log_* = the packet's `last`), `append ack`/`append fail` -> append_entries_res. A reply
//   liferaft hands to `write` as a pending Promise (its stale-term branch lacks an `await`) cannot
//   be sent and is not emitted (logged on stderr). liferaft counts grants without recording
//   voters: votes_granted is reported empty and not declared observable.

import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

const PROTOCOL = "electorate-conformance/1";
const modules = process.argv[2];
if (!modules) {
  process.stderr.write("usage: node adapter.mjs NODE_MODULES_DIR\n");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "index.js"));
const Raft = require("@markwylde/liferaft");
const Log = require("@markwylde/liferaft/log");
const VERSION = require("@markwylde/liferaft/package.json").version;
const ROLES = { [Raft.FOLLOWER]: "follower", [Raft.CANDIDATE]: "candidate", [Raft.LEADER]: "leader" };

class CommandError extends Error {
  constructor(code, text) {
    super(text);
    this.code = code;
  }
}

// tick-tock's interface, as liferaft uses it, with nothing ever firing by itself.
class ManualTimers {
  constructor(context) {
    this.context = context;
    this.armed = new Map();
  }
  setTimeout(name, fn) {
    this.armed.set(name, fn);
    return this;
  }
  setImmediate(name, fn) {
    return this.setTimeout(name, fn);
  }
  active(name) {
    return this.armed.has(name);
  }
  adjust() {
    return this;
  }
  clear(names) {
    for (const n of String(names).split(/,\s*/)) this.armed.delete(n);
    return this;
  }
  end() {
    this.armed.clear();
  }
  fire(name) {
    const fn = this.armed.get(name);
    if (fn === undefined) return undefined;
    this.armed.delete(name); // a timeout fires once; liferaft re-arms what it needs
    return fn.call(this.context);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

class Cluster {
  constructor() {
    this.ids = null;
    this.dir = null;
  }

  async init({ nodes, initial = {}, features = [], mutations = [] }) {
    if (!Array.isArray(nodes) || nodes.length === 0) throw new CommandError("bad_request", "init needs nodes");
    if (features.length > 0) throw new CommandError("unsupported", "liferaft has neither PreVote nor CheckQuorum");
    if (mutations.length > 0) throw new CommandError("unsupported", "liferaft is third-party code: no planted bugs");
    await this.close();
    this.dir = mkdtempSync(path.join(tmpdir(), "electorate-liferaft-"));
    this.ids = nodes;
    this.live = new Map();
    this.outbox = [];
    for (const id of nodes) {
      const init = initial[id] ?? { term: 0, last_log_index: 0, last_log_term: 0 };
      const raft = await this.start(id);
      const k = init.last_log_index;
      for (let index = 1; index <= k; index += 1) {
        await raft.log.saveCommand(null, index === k ? init.last_log_term : 1, index);
      }
      raft.term = init.term; // no API for the persistent state: liferaft keeps it in memory
      raft.votes.for = init.voted_for ?? null;
    }
    return this.state();
  }

  async start(id) {
    const raft = new Raft({
      address: id,
      Log,
      path: path.join(this.dir, id),
      "election min": 150,
      "election max": 300,
      heartbeat: 50,
    });
    raft.timers.end();
    raft.timers = new ManualTimers(raft);
    raft.heartbeat(raft.timeout()); // re-arm, on the manual table, what its start armed
    raft.on("error", () => {}); // liferaft reports refusals as errors too: not a failure here
    for (const peer of this.ids) {
      if (peer !== id) raft.join(peer, (packet) => this.send(id, peer, packet));
    }
    this.live.set(id, raft);
    await settle();
    return raft;
  }

  send(src, dest, packet) {
    if (packet instanceof Promise) {
      process.stderr.write(`liferaft: ${src} handed a Promise to write() for ${dest}; nothing sent\n`);
      return;
    }
    this.outbox.push(canonical(src, dest, packet));
  }

  raft(id, mustBeUp = true) {
    if (this.ids === null) throw new CommandError("not_initialized", "init first");
    if (!this.ids.includes(id)) throw new CommandError("unknown_node", `unknown node ${JSON.stringify(id)}`);
    const raft = this.live.get(id);
    if (mustBeUp && raft === undefined) throw new CommandError("node_down", `${id} is crashed`);
    return raft;
  }

  async fireTimer({ node, timer }) {
    const raft = this.raft(node);
    const leads = raft.state === Raft.LEADER;
    if (timer === "election" && !leads) {
      await raft.timers.fire(raft.timers.active("election") ? "election" : "heartbeat");
    } else if (timer === "heartbeat" && leads) {
      await raft.timers.fire("heartbeat");
    } else if (timer !== "election" && timer !== "heartbeat") {
      throw new CommandError("unsupported", `timer ${JSON.stringify(timer)}`);
    }
    return this.state();
  }

  async deliver({ message }) {
    const packet = message?.ext?.liferaft;
    if (typeof packet !== "object" || packet === null) {
      throw new CommandError("bad_request", "a liferaft message carries ext.liferaft");
    }
    this.raft(message.src, false);
    const raft = this.raft(message.dest);
    const handler = raft.listeners("data")[0];
    const isReply = message.type === "request_vote_res" || message.type === "append_entries_res";
    const write = isReply ? undefined : (reply) => this.send(message.dest, message.src, reply);
    await handler.call(raft, packet, write);
    return this.state();
  }

  async crash({ node }) {
    const raft = this.raft(node);
    this.live.delete(node);
    raft.timers.end();
    await raft.log.db.close(); // the log stays on disk; everything else is gone
    return this.state();
  }

  async restart({ node }) {
    if (this.raft(node, false) !== undefined) throw new CommandError("bad_request", `${node} is up`);
    await this.start(node);
    return this.state();
  }

  async state() {
    for (let k = 0; k < 3; k += 1) await settle();
    const nodes = {};
    for (const id of this.ids) {
      const raft = this.live.get(id);
      nodes[id] = raft === undefined ? { up: false } : observe(raft);
    }
    const emitted = this.outbox;
    this.outbox = [];
    return { emitted, nodes };
  }

  async close() {
    for (const raft of this.live?.values() ?? []) {
      raft.timers.end();
      await raft.log.db.close();
    }
    this.live = new Map();
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

function observe(raft) {
  return {
    up: true,
    role: ROLES[raft.state] ?? "follower",
    term: raft.term,
    voted_for: raft.votes.for || null,
    votes_granted: [], // liferaft counts grants (votes.granted) without recording voters
    leader: raft.leader || null,
  };
}

function canonical(src, dest, p) {
  const head = { src, dest, term: p.term, ext: { liferaft: p } };
  const last = p.last ?? { index: 0, term: 0, committedIndex: 0 };
  switch (p.type) {
    case "vote":
      return {
        type: "request_vote",
        ...head,
        candidate_id: src,
        last_log_index: last.index,
        last_log_term: last.term,
        pre_vote: false,
      };
    case "voted":
      return { type: "request_vote_res", ...head, vote_granted: Boolean(p.data?.granted), pre_vote: false };
    case "append":
      return {
        type: "append_entries",
        ...head,
        leader_id: src,
        prev_log_index: last.index,
        prev_log_term: last.term,
        entries: (p.data ?? []).map((e) => ({ term: e.term, value: 0 })),
        leader_commit: last.committedIndex,
      };
    case "append ack":
      return { type: "append_entries_res", ...head, success: true, match_index: p.data.index };
    case "append fail":
      return { type: "append_entries_res", ...head, success: false, match_index: 0 };
    default:
      throw new CommandError("internal", `liferaft sent a ${JSON.stringify(p.type)} packet, which has no canonical form`);
  }
}

const cluster = new Cluster();

async function handle(cmd) {
  switch (cmd.type) {
    case "hello":
      if (cmd.protocol !== PROTOCOL) throw new CommandError("unsupported", `I speak ${PROTOCOL}`);
      return {
        protocol: PROTOCOL,
        implementation: `liferaft ${VERSION} (npm @markwylde/liferaft)`,
        capabilities: ["step", "crash_restart"],
        observables: ["role", "term", "voted_for", "leader"],
        options: [],
        mutants: [],
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
      cluster.raft(cluster.ids?.[0], false);
      return cluster.state();
    case "shutdown":
      await cluster.close();
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

// One command at a time, in order: each is awaited before the next line is read.
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") continue;
  let cmd = null;
  try {
    cmd = JSON.parse(line);
  } catch {
    reply("error", null, { code: "bad_request", text: "not a JSON line" });
    continue;
  }
  const id = Number.isInteger(cmd?.msg_id) ? cmd.msg_id : null;
  try {
    if (id === null || typeof cmd.type !== "string") throw new CommandError("bad_request", "need type and msg_id");
    reply(`${cmd.type}_ok`, id, await handle(cmd));
  } catch (e) {
    const known = e instanceof CommandError;
    if (!known) process.stderr.write(`${e.stack}\n`);
    reply("error", id, { code: known ? e.code : "internal", text: known ? e.message : String(e) });
  }
  if (cmd?.type === "shutdown") break;
}
await cluster.close();
process.exit(0);
