"""A matched behaviour as a TLA+ module, for TLC to re-check step by step.

`replay` re-runs the behaviour's actions through the spec's functions from the first state
(every action must be enabled and lead where the search said), placing each inferred
duplication where the message was last in flight. `export` writes the states as a sequence
``T`` in a module that EXTENDS the spec's TLA+ (RaftElectionFeatures.tla with features,
RaftElection.tla without) and a config whose next-state relation is

    TraceNext == k < Len(T) /\\ k' = k + 1 /\\ FNext /\\ <every variable>' = T[k + 1].<it>

so TLC accepts the trace only if every step is a step of the spec's own Next: a deadlock
before ``k = Len(T)`` is the step TLC cannot take. The first state is the nodes' start
records (not Init). One action is the module's own: with the lease on, a restart is the lease
feature's (FRestart with heardLeader TRUE), its clocks left out (``RestartInLease``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from electorate.app import tlc
from electorate.spec import actions
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action
from electorate.spec.state import NIL, Role, State, members
from electorate.validate.mapping import Model, started_in_lease, table_for, with_copy
from electorate.validate.search import Verdict
from electorate.validate.why import show_action

MODULE_PREFIX = "Trace"


class ReplayError(ValueError):
    """The behaviour does not replay (a validator defect: the search and the spec disagree)."""


def replay(verdict: Verdict) -> tuple[list[State], list[Action]]:
    """Every state of the matched behaviour and the action between each pair."""
    mdl, s0 = verdict.model, verdict.first
    if mdl is None or s0 is None:
        raise ReplayError("the verdict has no model")
    states: list[State] = [s0]
    acts: list[Action] = []
    for _, step_acts in verdict.behaviour:
        for a in step_acts:
            s = states[-1]
            if a.name == "DuplicateMessage" and a.detail == "inferred":
                m = a.args[0]
                assert isinstance(m, Message)
                _duplicate_earlier(states, acts, m)
                continue
            t = _apply(mdl, s, a)
            if t is None:
                raise ReplayError(f"{a} is not enabled when replayed")
            states.append(t)
            acts.append(a)
    return states, acts


def _apply(mdl: Model, s: State, a: Action) -> State | None:
    t = table_for(mdl)
    p = mdl.p
    x = a.args
    if a.name == "Receive":
        assert isinstance(x[0], Message)
        r = t.Receive(p, s, x[0])
        if r is None or r[0] != a.detail:
            return None
        return r[1]
    if a.name in ("DropMessage", "DuplicateMessage"):
        assert isinstance(x[0], Message)
        fn = actions.DropMessage if a.name == "DropMessage" else actions.DuplicateMessage
        return fn(p, s, x[0])
    i = x[0]
    assert isinstance(i, int)
    if a.name == "ElectionTimer":
        assert t.ElectionTimer is not None
        fired = t.ElectionTimer(p, s, i)
        return None if fired is None else fired[1]
    if a.name == "Restart":
        back = t.Restart(p, s, i)
        if back is not None and a.detail == "in lease":
            return started_in_lease(mdl, back, i)
        return back
    if len(x) == 2:
        j = x[1]
        assert isinstance(j, int)
        pair = {
            "RequestVote": t.RequestVote,
            "RequestPreVote": t.RequestPreVote,
            "AppendEntries": t.AppendEntries,
        }[a.name]
        return None if pair is None else pair(p, s, i, j)
    single = {
        "Timeout": t.Timeout,
        "StartElection": t.StartElection,
        "BecomeLeader": t.BecomeLeader,
    }
    fn1 = single[a.name]
    return None if fn1 is None else fn1(p, s, i)


def _duplicate_earlier(states: list[State], acts: list[Action], m: Message) -> None:
    """m was received once more than sent: the network duplicated it while it was last in
    flight. Insert DuplicateMessage(m) there and carry the extra copy to the end."""
    for q in range(len(states) - 1, -1, -1):
        if any(x == m for x, _ in states[q].messages):
            break
    else:
        raise ReplayError(f"a duplicate of a message never in flight: {m}")
    tail = [with_copy(s, m) for s in states[q + 1 :]]
    del states[q + 1 :]
    states.append(with_copy(states[q], m))
    states += tail
    acts.insert(q, Action("DuplicateMessage", (m,)))


# ---------------------------------------------------------------------------- TLA+ text


@dataclass(frozen=True)
class _Names:
    n: int

    def server(self, i: int) -> str:
        return "Nil" if i == NIL else f"s{i + 1}"

    def servers(self) -> list[str]:
        return [f"s{i + 1}" for i in range(self.n)]

    def fn(self, values: list[str]) -> str:
        return (
            "("
            + " @@ ".join(f"{s} :> {v}" for s, v in zip(self.servers(), values, strict=True))
            + ")"
        )

    def set(self, mask: int) -> str:
        return "{" + ", ".join(self.server(j) for j in members(mask)) + "}"


_ROLES = {
    Role.Follower: '"Follower"',
    Role.Candidate: '"Candidate"',
    Role.Leader: '"Leader"',
    Role.PreCandidate: '"PreCandidate"',
}


def _message(nm: _Names, m: Message, featured: bool) -> str:
    ends = f"msource |-> {nm.server(m.msource)}, mdest |-> {nm.server(m.mdest)}"
    if m.mtype == MType.RequestVoteRequest:
        kind = '"PreVoteRequest"' if m.mpre_vote else '"RequestVoteRequest"'
        return (
            f"[mtype |-> {kind}, mterm |-> {m.mterm}, mlastLogTerm |-> {m.mlast_log_term}, "
            f"mlastLogIndex |-> {m.mlast_log_index}, {ends}]"
        )
    if m.mtype == MType.RequestVoteResponse:
        kind = '"PreVoteResponse"' if m.mpre_vote else '"RequestVoteResponse"'
        return (
            f"[mtype |-> {kind}, mterm |-> {m.mterm}, "
            f"mvoteGranted |-> {_bool(m.mvote_granted)}, {ends}]"
        )
    stamp = f", msentAt |-> {m.msent_at}" if featured else ""
    if m.mtype == MType.AppendEntriesRequest:
        entries = (
            "<<" + ", ".join(f"[term |-> {e.term}, value |-> {e.value}]" for e in m.mentries) + ">>"
        )
        return (
            f'[mtype |-> "AppendEntriesRequest", mterm |-> {m.mterm}, '
            f"mprevLogIndex |-> {m.mprev_log_index}, mprevLogTerm |-> {m.mprev_log_term}, "
            f"mentries |-> {entries}, mcommitIndex |-> {m.mcommit_index}{stamp}, {ends}]"
        )
    return (
        f'[mtype |-> "AppendEntriesResponse", mterm |-> {m.mterm}, '
        f"msuccess |-> {_bool(m.msuccess)}, mmatchIndex |-> {m.mmatch_index}{stamp}, {ends}]"
    )


def _bool(b: bool) -> str:
    return "TRUE" if b else "FALSE"


def state_record(nm: _Names, s: State, featured: bool) -> str:
    """One state as a TLA+ record of every variable of the module."""
    n = nm.n
    bag = (
        "(" + " @@ ".join(f"{_message(nm, m, featured)} :> {c}" for m, c in s.messages) + ")"
        if s.messages
        else "[m \\in {} |-> 0]"
    )
    fields = {
        "messages": bag,
        "currentTerm": nm.fn([str(t) for t in s.current_term]),
        "state": nm.fn([_ROLES[r] for r in s.role]),
        "votedFor": nm.fn([nm.server(v) for v in s.voted_for]),
        "votesResponded": nm.fn([nm.set(x) for x in s.votes_responded]),
        "votesGranted": nm.fn([nm.set(x) for x in s.votes_granted]),
        "nextIndex": nm.fn([nm.fn([str(v) for v in row]) for row in s.next_index]),
        "matchIndex": nm.fn([nm.fn([str(v) for v in row]) for row in s.match_index]),
        "log": nm.fn(
            [
                "<<" + ", ".join(f"[term |-> {e.term}, value |-> {e.value}]" for e in log) + ">>"
                for log in s.log
            ]
        ),
        "commitIndex": nm.fn([str(c) for c in s.commit_index]),
    }
    if featured:
        zeros, falses, empties = ["0"] * n, ["FALSE"] * n, ["{}"] * n
        fields |= {
            "heardLeader": nm.fn([_bool(b) for b in s.heard_leader] or falses),
            "prevotesGranted": nm.fn([nm.set(x) for x in s.prevotes_granted] or empties),
            "earnedTerms": "{" + ", ".join(str(t) for t in members(s.earned_terms)) + "}",
            "unearnedDeposition": _bool(s.unearned_deposition),
            "acked": nm.fn([nm.set(x) for x in s.acked] or empties),
            "quiet": nm.fn([_bool(b) for b in s.quiet] or falses),
            "clock": nm.fn([str(c) for c in s.clock] or zeros),
            "leaseUntil": nm.fn([str(c) for c in s.lease_until] or zeros),
            "roundAt": nm.fn([str(c) for c in s.round_at] or zeros),
            "roundAcked": nm.fn([nm.set(x) for x in s.round_acked] or empties),
        }
    return "[" + ", ".join(f"{k} |-> {v}" for k, v in fields.items()) + "]"


_RESTART_IN_LEASE = r"""\* The nodes run a lease, whose clocks the trace does not show: a node
\* restarts as the lease feature's FRestart has it (inside a lease, heardLeader
\* TRUE), untimed.
RestartInLease(i) ==
    /\ Restart(i)
    /\ heardLeader' = [heardLeader EXCEPT ![i] = TRUE]
    /\ leaseUntil' = [leaseUntil EXCEPT ![i] = 0]
    /\ prevotesGranted' = [prevotesGranted EXCEPT ![i] = {}]
    /\ ClearLeader(i)
    /\ UNCHANGED <<earnedTerms, unearnedDeposition, quiet, clock>>
"""


def module_text(name: str, verdict: Verdict, states: list[State], acts: list[Action]) -> str:
    mdl = verdict.model
    assert mdl is not None
    featured = mdl.featured
    nm = _Names(mdl.p.servers)
    base = "RaftElectionFeatures" if featured else "RaftElection"
    variables = list(_VARS) + (list(_EXT_VARS) if featured else [])
    nxt = "FNext" if featured else "Next"
    lease_restart = featured and mdl.lease and any(a.detail == "in lease" for a in acts)
    if lease_restart:
        nxt = f"({nxt} \\/ \\E i \\in Server : RestartInLease(i))"
    servers = ", ".join(nm.servers())
    legend = ", ".join(f"{nm.server(i)} = {mdl.name(i)}" for i in range(mdl.p.servers))
    lines = [
        f"---- MODULE {name} ----",
        f"\\* The behaviour `electorate validate` matched to {verdict.source}",
        f"\\* ({verdict.events} events, {len(acts)} spec steps); servers: {legend}.",
        f"EXTENDS {base}, TLC, Sequences",
        f"CONSTANTS {servers}",
        "VARIABLE k",
        "",
    ]
    if lease_restart:
        lines.append(_RESTART_IN_LEASE)
    lines.append("T == <<")
    records = [state_record(nm, s, featured) for s in states]
    for idx, rec in enumerate(records):
        step = f"\\* {idx + 1}: {_show(mdl, acts[idx - 1]) if idx else 'the nodes as they started'}"
        lines.append(f"  {step}")
        lines.append(f"  {rec}{',' if idx + 1 < len(records) else ''}")
    lines.append(">>")
    lines.append("")
    lines.append("TraceInit ==")
    lines.append("    /\\ k = 1")
    lines += [f"    /\\ {v} = T[1].{v}" for v in variables]
    lines.append("")
    lines.append("TraceNext ==")
    lines.append("    \\/ /\\ k < Len(T)")
    lines.append("       /\\ k' = k + 1")
    lines.append(f"       /\\ {nxt}")
    lines += [f"       /\\ {v}' = T[k + 1].{v}" for v in variables]
    lines.append("    \\/ /\\ k = Len(T)")
    lines.append(f"       /\\ UNCHANGED <<k, {', '.join(variables)}>>")
    lines.append("====")
    return "\n".join(lines) + "\n"


def _show(mdl: Model, a: Action) -> str:
    return show_action(mdl, a).replace("\n", " ")


def cfg_text(verdict: Verdict) -> str:
    mdl = verdict.model
    assert mdl is not None
    nm = _Names(mdl.p.servers)
    consts = [f"    {s} = {s}" for s in nm.servers()]
    consts += [
        f"    Server = {{{', '.join(nm.servers())}}}",
        "    Value = {}",
        "    Nil = Nil",
        "    MaxTerm = 0",
        "    MaxMsgs = 0",
        "    MaxLog = 0",
        f'    Profile = "{mdl.p.profile}"',
    ]
    if mdl.featured:
        features = ", ".join(f'"{f}"' for f in sorted(mdl.p.features))
        consts += [
            f"    Features = {{{features}}}",
            "    MaxClock = 0",
            "    ElectionTicks = 3",
            "    Drift = 1",
            "    LeaseTicks = 1",
        ]
    return "\n".join(
        ["\\* Generated by electorate validate --tla-out", "CONSTANTS", *consts,
         "INIT TraceInit", "NEXT TraceNext", ""]
    )  # fmt: skip


_VARS = (
    "messages",
    "currentTerm",
    "state",
    "votedFor",
    "votesResponded",
    "votesGranted",
    "nextIndex",
    "matchIndex",
    "log",
    "commitIndex",
)
_EXT_VARS = (
    "heardLeader",
    "prevotesGranted",
    "earnedTerms",
    "unearnedDeposition",
    "acked",
    "quiet",
    "clock",
    "leaseUntil",
    "roundAt",
    "roundAcked",
)


def module_name(folder: Path) -> str:
    return MODULE_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", folder.name)


def export(verdict: Verdict, folder: Path) -> list[Path]:
    """Write the behaviour of a valid verdict as ``<module>.tla`` and ``.cfg`` in ``folder``,
    with the spec modules it extends; the files written."""
    if verdict.status != "valid":
        raise ValueError("only a valid trace has a behaviour to export")
    states, acts = replay(verdict)
    folder.mkdir(parents=True, exist_ok=True)
    name = module_name(folder)
    tla_path = folder / f"{name}.tla"
    cfg_path = folder / f"{name}.cfg"
    tla_path.write_text(module_text(name, verdict, states, acts))
    cfg_path.write_text(cfg_text(verdict))
    copied = [Path(shutil.copy(tlc.SPEC_DIR / "RaftElection.tla", folder))]
    if verdict.model is not None and verdict.model.featured:
        copied.append(Path(shutil.copy(tlc.SPEC_DIR / "RaftElectionFeatures.tla", folder)))
    return [tla_path, cfg_path, *copied]


@dataclass(frozen=True)
class TlcCheck:
    """TLC's answer on an exported behaviour."""

    accepted: bool
    distinct_states: int
    expected_states: int
    seconds: float
    detail: str


def run_tlc(folder: Path, timeout_s: float = 600.0) -> TlcCheck:
    """Run TLC on a folder written by `export`: accepted iff TLC finds no error (no deadlock
    before the last state) and counts one distinct state per state of T."""
    java, jar = tlc.find_java(), tlc.find_jar()
    name = module_name(folder)
    text = (folder / f"{name}.tla").read_text()
    expected = text.count("\n  \\* ")
    with tempfile.TemporaryDirectory(prefix="electorate-trace-tlc-") as tmp:
        work = Path(tmp)
        for f in folder.glob("*.tla"):
            shutil.copy(f, work)
        shutil.copy(folder / f"{name}.cfg", work)
        cmd = [
            java, "-XX:+UseParallelGC", f"-Djava.io.tmpdir={work}", "-cp", str(jar),
            "tlc2.TLC", "-workers", "1", "-config", f"{name}.cfg", f"{name}.tla",
        ]  # fmt: skip
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, cwd=work, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as e:
            raise tlc.TlcError(f"TLC timed out after {timeout_s:.0f} s") from e
        wall = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    found = re.findall(r"([\d,]+) distinct states found", out)
    distinct = int(found[-1].replace(",", "")) if found else 0
    ok = "No error has been found" in out
    detail = "" if ok else _tlc_error(out)
    return TlcCheck(ok and distinct == expected, distinct, expected, wall, detail)


def _tlc_error(out: str) -> str:
    for line in out.splitlines():
        if line.startswith("Error:") or "Deadlock reached" in line:
            return line.strip()
    return out.strip().splitlines()[-1] if out.strip() else "TLC printed nothing"
