"""Regenerate docs/model-checking.md by running the checker: every figure in it is measured.

python docs/tools/gen_model_checking_md.py > docs/model-checking.md
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from electorate.app.api import check  # noqa: E402
from electorate.model_check import trace  # noqa: E402
from electorate.spec.bugs import BUGS  # noqa: E402
from electorate.spec.params import Params  # noqa: E402

CONFIGS: list[tuple[Params, bool]] = [
    (Params(servers=2), False),
    (Params(servers=2), True),
    (Params(servers=2, profile="heartbeat"), True),
    (Params(servers=2, profile="log", values=1), True),
    (Params(servers=3), True),
    (Params(servers=3), False),
]
SKIP_BUGS = {"no-log-check"}  # minutes, not seconds: its figures are quoted from a manual run
NO_LOG_CHECK = """`electorate check --bug no-log-check` (servers=3 profile=log max_term=3 max_msgs=1
max_log=1 values=1) is not rerun by this script: it takes minutes. Quoted from a run on
2026-11-26 (pure-Python spec, load average about 6): `LeaderLogCoversVoters` violated after 20
states, 256,478 distinct states, 2,398,988 generated, 469.8 s. The trace: s1 is elected in term 2
and appends an entry; s2 times out to term 3 and s1, whose log holds the entry, votes for it
without the up-to-date check; s2 becomes leader with an empty log. TLC, checking
`LeaderCompleteness` alone on the same model, finds the consequence six steps later (the entry
committed, then the leader without it; depth 26, 996,229 distinct states, 647 s:
`docs/tla-mapping.md`). The test `test_no_log_check_is_refuted` (marked slow) reruns it."""

HOWTO = """# Model checking

`electorate check` explores every reachable state of a small model breadth-first and checks
every invariant on every state (as TLC does: also on successors outside the state constraint).

```sh
electorate check                                  # 3 servers, election profile, terms <= 2, 1 msg
electorate check --servers 2 --profile log        # the full Raft Next with one client value
electorate check --no-symmetry --workers auto     # plain state counts, one worker per CPU
electorate check --bug vote-twice --trace mermaid # a failure mode, as a sequence diagram (alone)
electorate check --bug vote-twice --trace itf --trace-out cex.itf.json  # for ITF trace viewers
electorate check --json                           # one JSON object (result, counts, trace)
electorate check --config model.toml              # the options saved in a file
electorate check --tlc                            # TLC on spec/RaftElection.tla, side by side
electorate check --servers 5 --bug no-check-quorum-zombie --simulate  # random behaviours
```

Options: `--servers N`, `--profile election|heartbeat|log`, `--max-term`, `--max-msgs`,
`--max-log`, `--values`, `--features prevote,check_quorum,lease`, `--bug NAME`, `--list-bugs`,
`--symmetry/--no-symmetry`, `--workers N|auto`, `--fast/--no-fast` (the packed successors in C
or the readable spec's; by default the packed ones wherever they cover the model), `--json`,
`--trace text|mermaid|json|itf`, `--trace-out FILE`, `--tlc`, `--election-ticks`, `--drift`,
`--max-clock`, `--lease-ticks` (lease; `--max-clock 0`, the default, is relative time with no
horizon), `--witness PROPERTY`
(the shortest trace to a state where a "sometimes" property holds), `--max-depth N` (a bounded
check of the first N BFS levels, reported as `bounded`, never as `ok`), `--reduce` (lease in
relative time: a smaller model that over-approximates the exact one; see below), and for long
runs `--checkpoint DIR`, `--checkpoint-every MINUTES`, `--resume DIR`, `--simulate` with
`--depth`, `--behaviours`, `--time-limit`, `--seed`, `--export-tla DIR`, `--config FILE`.
Exit status: 0 every invariant holds and every "sometimes" property was reached (or the witness
was found, or nothing was violated within `--max-depth`); 1 a violation (or a vacuous model, or
an unreachable witness); 2 a usage or configuration error, with a one-line message; 3 a worker
process failed (no verdict); 130 stopped by Ctrl-C or SIGTERM.

## Output conventions

- Without `--trace`, a counterexample is printed as numbered steps inside the report.
- `--trace FORMAT` puts the counterexample alone on stdout (the report goes to stderr), so
  `electorate check --bug vote-twice --trace json | jq` works; `--trace-out FILE` writes it to a
  file instead and leaves the report on stdout. FORMAT is `text`, `mermaid` (a sequence
  diagram), `json` (our steps: action, arguments, state) or `itf`, the Informal Trace Format of
  Apalache and Quint (integers as `{"#bigint": "2"}`, the step's action under
  `mbt::actionTaken`), which their trace viewers open.
- `--json` combines with a trace format: the JSON object carries the rendered trace under
  `trace_output` (or names `trace_file` with `--trace-out`), beside its own `violation.trace`.
- `--config FILE` reads a TOML file whose keys are the flags (`max_term = 2` or `max-term = 2`,
  `features = ["prevote", "lease"]`, `symmetry = false`, `workers = "auto"`); flags given on the
  command line win, and an unknown key or a wrong type is a one-line error.

## How it counts (TLC's conventions)

- *distinct states*: reachable states inside the constraint, up to symmetry when it is on (the
  number of orbits under server renaming: the canonical form is the smallest renamed image);
- *states generated*: initial states plus every successor of every expanded state, including
  stuttering steps, already-seen states and successors outside the constraint;
- *depth*: BFS levels, the initial state being level 1; a counterexample is a shortest path and its
  length in states is the depth at which it was found.

## The engine

`electorate.model_check` is generic: it imports nothing of the spec and checks anything that
implements its `Model` protocol (initial states, labelled successors, a constraint, invariants,
a canonical form for symmetry). Two searches live there: `search.py`, the readable reference
(one loop over a BFS level, a Python set of fingerprints), and `engine.py`, the one `electorate
check` runs. Tests hold them to the same counts on every shipped model and, with one worker, to
the same counterexample step for step.

- **Packed successors.** A model may also offer its states packed into fixed-width rows of
  64-bit words, with one native call that expands a whole chunk of rows: successors, the
  constraint, the invariants and the fingerprints (`model_check/packed.py`). The engine then
  keeps each BFS level as arrays of words (8 bytes a word, no Python object per state) and runs
  no Python code per successor. The spec offers one for the election profile without features
  and its bug variants (`spec/fast/_election.c`: a state in one or two words on 3 servers);
  the readable spec stays the reference, and tests/spec/test_fast_election.py holds the C
  successors to `Next`'s, in `Next`'s order, on every state of small models and sampled states
  of 3- to 7-server models. Elsewhere (another profile, any feature, a liveness model) the
  readable spec runs. The result table (`Successors: ...`) and `--json` (`successors`,
  `successors_note`) say which ran and why; `--no-fast` runs the readable spec, `--fast`
  refuses a model the packed path does not cover (exit 2, with the reason). Counterexamples
  are always replayed, and printed, in the readable spec.
- Visited states are 64-bit fingerprints (of the canonical state) in a set of flat
  open-addressing tables in C, 256 segments each grown by half when three quarters full, so
  about 11 to 16 bytes a state and never a whole-table copy (`model_check/_fpset.c`); without a
  C compiler at install, a numpy table of 8-byte slots kept at most half full
  (`model_check/fptable.py`), and the readable spec's successors. Both are tested against the
  C versions.
- Each state's parent is a (fingerprint, parent fingerprint) record in a trace log on disk, as
  TLC's trace file; a counterexample is rebuilt by replaying the spec from Init along it.
- `--workers N` on the packed path runs N threads in the checker's one process: each takes
  chunks of the BFS level in turn, expands them and inserts the successors into one shared
  fingerprint table, both in C without the GIL, so the threads run on separate cores (as TLC's
  workers share one fingerprint set). A thread claims a table slot by compare-and-swap; only a
  segment's growth waits for the other threads. Nothing is sent between workers, a state is
  expanded once, and each thread keeps the level's order, in which successive states are alike
  (on a shuffled level the C successors took 1.45x as long). Two workers spend about what one
  spends in CPU (`benchmarks/engine.py` prints the ratio). A hash partition over processes
  costs more on this path: measured with two workers, 1.3x one worker's CPU, since the
  successors a worker hands to the other are repeats its cache cannot recognise, they cross
  pipes, and each worker's level is less ordered.
- `--workers N` on the readable path (Python successors, which hold the GIL) starts N processes
  once, for the whole run. Each owns the states whose fingerprint falls in its share
  (hash-partitioned ownership, as in Stern and Dill's distributed BFS and TLC's fingerprint
  servers). In a round every worker expands a slice of its states, sends each successor's
  fingerprint to its owner, learns which were new, and hands the new states to their owners for
  the next level.
- Either way counts are exactly the one-worker counts; a counterexample is a shortest one,
  though with several workers not always the same one. `--workers auto` is one per CPU this
  process may use; more than that is refused.
- With symmetry on the readable path, a successor whose state (not its orbit) the worker has
  already submitted is dropped before its canonical form is computed, by a second table of
  plain state hashes: in the 3-server election model three successors in four are such
  repeats, and the canonical form is the costly step (1.35x less CPU for the whole run, same
  counts).
- The garbage collector is off during the search (states are acyclic tuples; its passes over
  millions of live states cost a tenth of the time).
- `peak MB` (`peak_rss_bytes` in the JSON) is the peak resident memory of the checker's
  processes, workers included, and `bytes/state` (`bytes_per_state`) that over the distinct
  states: everything counts, the interpreter (about 60 MB, which dominates small models) and the
  states waiting in the BFS queue as much as the fingerprints. With worker processes (the
  readable path) it is the sum of every process's peak, so pages a forked worker still shares
  with the driver count twice: an upper bound.

## Long runs

- **Ctrl-C or SIGTERM** ends the run at the end of the current round (a fraction of a second):
  the figures so far (distinct, generated, depth reached, states queued), exit 130, no
  traceback, and no worker process left behind; a second Ctrl-C stops at once.
- **`--checkpoint DIR`** writes the search to DIR at the end of a BFS level, every
  `--checkpoint-every` minutes (10 by default; 0: every level): the trace logs, the level to
  expand, the figures. **`--resume DIR`** continues from the last one, with the same model
  options and `--workers`, to the same figures as an uninterrupted run. A checkpoint of another
  model is refused with a one-line message.
- **`--simulate`** (TLC's `-simulate`) walks random behaviours of at most `--depth` states
  (default 100) from Init, each step to a random successor inside the constraint, checking
  every invariant on every successor it generates, until a violation, `--behaviours N`,
  `--time-limit SECONDS` or Ctrl-C. It prints behaviours per second and the seed; `--seed N`
  replays a run exactly. Each behaviour leaves out a random half of the kinds of action (swarm
  testing): a uniform walk almost never strings together the dozen steps of a split brain among
  restarts and lost messages. On 5 servers it finds `no-prevote-disruption`,
  `prevote-bumps-term` and `no-check-quorum-zombie`, and on 4 servers the `quorum-half` split
  brain, in seconds (tests/model_check/test_mc_engine.py; on 5 servers "at least half" is a
  majority, so that variant has nothing to find). Its traces are not the shortest, and finding
  nothing proves nothing: it is for models too big to exhaust.
- **Past one machine**: `--export-tla DIR` writes the `.tla` modules and the `.cfg` of the model
  being checked (any profile, bug or feature set our `.tla` mirror covers), which TLC's own
  distributed mode runs: a server and any number of workers, e.g.

  ```sh
  electorate check --servers 4 --max-msgs 2 --no-symmetry --export-tla big --max-depth 1
  cd big && java -cp tla2tools.jar tlc2.tool.distributed.TLCServer -deadlock \\
      -config RaftElection.cfg RaftElection.tla
  java -cp tla2tools.jar tlc2.tool.distributed.TLCWorker SERVER-HOST   # on every worker machine
  ```

  (`-Djava.rmi.server.hostname=...` after `java` when the machines need to be told their
  address.) tests/model_check/test_mc_export.py runs this on the loopback interface: distributed
  TLC finds the same 1,249 distinct states on 2 servers; it counts generated states and depth
  its own way (10,943 and 17 against 9,743 and 18).

## `--reduce`: lease models too big to check exactly

The lease model on three servers with every feature (`--servers 3 --features
prevote,check_quorum,lease`, the set impl/ runs by default) does not finish exactly: a 50-minute
run stopped at depth 47 with 6.4 million states. `--reduce` (spec/features/reduce.py) checks a
smaller model that can do at least everything the exact one can, with the same value of every
property:

- a follower's deadline that backs no lease (its leader holds none, and the follower's ack of
  the leader's current round is neither counted nor on its way) ends early: its timer may run
  out at any step. This is the one rule that adds behaviour;
- a cluster with no leader keeps no clocks; `BecomeLeader` then takes every clock skew within
  the drift (exact: an idle cluster reaches every skew by Ticks alone);
- vote tallies of servers that are no longer candidates are forgotten, and a CheckQuorum ack set
  that holds a quorum is saturated (both exact: nothing reads them any more).

So "no violation" under `--reduce` holds for the exact model too: for every exact state the
reduced model reaches its image, or the image with some follower deadlines already dropped,
and no property tells a state from its image (tests/spec/test_reduce.py checks this on 2
servers, and on 3 servers within 30 steps with `ELECTORATE_LONG=1`). Its counts are its
own; TLC mirrors only the exact model. A violation under `--reduce` could in principle be one
the exact model cannot reach, so the checker searches the exact model for it along the
reduced trace and says whether it was confirmed.

```
electorate check --servers 3 --features prevote,check_quorum,lease --reduce --workers 2
│     ok │         309,217 │        4,349,920 │    61 │   95.98 │          79 │
```

Every property holds and every "sometimes" property is reached (96 s wall with 2 workers, 140 s
with one, compiled spec; tested in CI). On 2 servers the reduction is 13x (19,614 exact states,
1,483 reduced): `benchmarks/reduce.py`.
"""


SPEED_TEMPLATE = """## Speed, measured

`python benchmarks/engine.py`, three invocations on 2026-12-06: x86_64, 2 cores shared with other
jobs (load average 9 to 14; the column `others` is how many cores the other jobs kept busy
during each run, from /proc/stat), Python 3.11.7, mypyc-compiled spec, the C modules built by
`pip install -e .`. Each contender runs as its own process; CPU seconds include its children
and its start (about 0.2 s of imports for electorate); the ratios are the first row's time
over the contender's (above 1: faster); B/state is peak memory over distinct states.
`electorate, readable` is `electorate check --no-fast`: the same engine on the readable spec's
successors.

```
{benchmark}
```

What the figures say, target by target (CPU seconds: on this loaded machine wall time measures
the other jobs as much as the checker, and the script prints no verdict on a wall-time ratio
while they keep a quarter of a core busy or more):

- 3 servers, MaxTerm 2, MaxMsgs 1 without symmetry: one worker takes 0.6 s of CPU against the
  plain BFS's 16.5 s, 28x (target 3x: reached); TLC took 42.0 s. The readable spec's successors
  take 23.1 s (0.71x the plain BFS): the spec's `Next` alone costs about what the plain BFS's
  whole loop does. With symmetry: 0.4 s against the plain BFS's 22.1 s, 62x (target 5x:
  reached); the readable successors 4.9 s (4.5x). On this model half of electorate's CPU is
  its start.
- MaxMsgs 2 with symmetry (2,198,180 orbits, 30,542,282 generated, depth 39): one worker takes
  4.1 s of CPU (target: under 60 s, reached). TLC was not rerun on it here (13 minutes of wall
  time on this machine): in an earlier invocation the same day, on the same model, one TLC
  worker took 200.3 s of CPU and 806.8 s of wall time against electorate's 3.9 s in that
  invocation: 51x in CPU (target 4x: reached).
- Memory, on the 13,178,016-state model (no symmetry, MaxMsgs 2, 183,109,576 generated, depth
  39): one worker peaks at about 19 bytes per distinct state, two workers at about 20 (one
  process: the threads share the table and the queue), against the target of 40: reached. The
  fingerprint set takes 11 to 16 bytes a state, the BFS queue 8 bytes a queued state (one 64-bit
  word: the packed state), the parents are on disk (16 bytes a state, as TLC's trace file). Two
  workers finish it in about 36 s of wall time even on this machine (target: under 10 minutes,
  exact counts: reached).
- Two workers against one, measured on a quiet machine: after the other jobs had ended (load
  average 1.4 to 1.6; the column `others` 0.00 to 0.01 cores), the same day and install,
  `python benchmarks/engine.py --max-msgs 2 --only-no-symmetry --no-plain --no-tlc` and the
  same with `--only-symmetry` printed:

  | model | distinct | 1 worker: wall s, CPU s | 2 workers: wall s, CPU s | wall ratio |
  |---|---|---|---|---|
  | no symmetry | 13,178,016 | 14.5, 14.5 | 7.4, 14.0 | 1.96x |
  | symmetry | 2,198,180 | 3.9, 4.0 | 2.1, 4.0 | 1.84x |

  with "figures agree" and "goal: 2 workers >= 1.7x 1 worker (wall, quiet machine): 1.96x,
  reached" (1.84x, reached, with symmetry). The symmetric run is short (2 s with two workers),
  so the driver's work between rounds, which runs alone, weighs more in it.
- Two workers against one on the loaded machine: on the packed path the workers are threads over
  one fingerprint table (see The engine). On the 13-million-state model two workers spend 1.02x
  one worker's CPU in the run quoted (with symmetry 1.00x, on MaxMsgs 1 0.98x to 0.99x), so two
  idle cores could give at most 1.96x. Six pairs of runs of that model the same day gave 0.98x
  to 1.17x (median 1.03x): the spread of a machine whose other jobs kept 1.5 cores busy. The
  wall ratio itself was not measurable under that load (the other jobs kept 1.6 cores busy); the
  quiet run above measures it. `benchmarks/threads.py` estimates it from CPU time, which waiting
  for a core does not inflate: on idle cores a round of two workers takes its busier thread's
  CPU, and the driver's work between rounds runs alone. On the 13-million-state model that is
  7.78 s against one worker's 14.89 s, 1.91x; with symmetry on MaxMsgs 2, 1.98 s against 3.88 s,
  1.96x (load average 11 to 13). An estimate, not a measurement: it leaves out a thread's waits
  for the GIL while the other runs Python code (the code outside the C expansion and insertion
  is 3.5% of the CPU) and the two cores' contention for memory.
"""
# benchmarks/engine.py's output from the run SPEED_TEMPLATE describes, verbatim.
BENCHMARK = Path(__file__).with_name("engine_benchmark.txt")


def _build() -> str:
    from electorate.spec import actions

    compiled = not actions.__file__.endswith(".py")
    return "mypyc-compiled spec, as installed" if compiled else "pure-Python spec"


def results_table() -> list[str]:
    rows = [
        "## Results",
        "",
        f"Measured by `python docs/tools/gen_model_checking_md.py` ({_build()}) on "
        f"{platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, one worker, load average "
        f"{os.getloadavg()[0]:.1f} at the start (seconds are wall time: on a shared machine "
        "they grow with the load; the counts do not). Distinct, "
        "generated and depth equal TLC's for every configuration TLC finished "
        "(`docs/tla-mapping.md`). *successors*: `packed` is spec/fast's C, `readable` the "
        "spec's own Python (see The engine).",
        "",
        "| configuration | symmetry | successors | result | distinct | generated | depth | seconds "
        "| peak MB |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for params, symmetry in CONFIGS:
        r = check(params, symmetry=symmetry)
        s = r.search
        rows.append(
            f"| {params.describe()} | {'on' if symmetry else 'off'} | {s.successors} | "
            f"{r.result} | "
            f"{s.distinct:,} | {s.generated:,} | {s.depth} | {s.seconds:.1f} | "
            f"{s.peak_rss / 2**20:.0f} |"
        )
    return rows


def bug_sections() -> list[str]:
    out = ["## Bug variants", ""]
    out.append(
        "Each variant changes one action (`p.bug == ...` in `spec/actions.py`). The checker "
        "refutes it with a shortest counterexample. Rerun any of them with "
        "`electorate check --bug NAME` (add `--trace mermaid` for the diagram)."
    )
    out.append("")
    for bug in BUGS.values():
        out += [f"### `{bug.name}`", "", f"*What is wrong:* {bug.summary}.", ""]
        out += [f"*What it teaches:* {bug.teaches}.", ""]
        if bug.name in SKIP_BUGS:
            out += [NO_LOG_CHECK, ""]
            continue
        if bug.overrides.get("features"):
            out += [f"Breaks `{bug.breaks}`; see `docs/failure-modes.md` for its figures.", ""]
            continue
        params = Params(bug=bug.name, **bug.overrides)  # type: ignore[arg-type]
        r = check(params)
        v = r.search.violation
        assert v is not None, bug.name
        out += [
            f"`electorate check --bug {bug.name}` ({params.describe()}): `{v.invariant}` violated "
            f"after {len(v.trace)} states ({r.search.distinct:,} states explored, "
            f"{r.search.seconds:.1f} s).",
            "",
            "```mermaid",
            trace.mermaid(r.model, v),
            "```",
            "",
        ]
    return out


def main() -> None:
    print(HOWTO)
    print(SPEED_TEMPLATE.format(benchmark=BENCHMARK.read_text().rstrip("\n")))
    print("\n".join(results_table()))
    print()
    print("\n".join(bug_sections()))


if __name__ == "__main__":
    main()
