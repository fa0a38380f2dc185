"""The fast search: breadth-first, in one process or several.

Beside the readable reference (model_check.search) this is the search `electorate check` runs.
It counts exactly as the reference does (tests/model_check/test_mc_engine.py holds the two to
the same counts and, with one worker, the same shortest traces). What it adds:

- fingerprints in a flat table (model_check.fptable), parents in a trace log on disk;
- a model that offers packed states (model_check.packed) is searched on them: a BFS level is
  arrays of 64-bit words and its successors are computed in native code a chunk at a time;
  other models, or `fast=False`, run the readable successors (the result says which);
- `workers > 1` on the packed path: threads in this process, which expand chunks of the level
  and insert their successors into one shared fingerprint table in native code, without the
  GIL (as TLC's workers share its fingerprint set); nothing is sent between workers;
- `workers > 1` on the readable path (Python successors, which hold the GIL): one persistent
  process per shard for the whole run, each owning the states whose fingerprint falls in its
  partition (not a fork per level); a round exchanges only fingerprints, then the new states,
  between them;
- a stop request (Ctrl-C, SIGTERM: see `StopFlag`) ends the run between two rounds, a fraction
  of a second, with the partial figures; worker processes never outlive the run;
- `checkpoint`: at the end of a BFS level, every `checkpoint_every` seconds, the trace logs, the
  next level and the figures are written to a folder; `resume` continues from it to the same
  figures as an uninterrupted run;
- the garbage collector is off during the search: states are acyclic tuples, and its passes over
  millions of live states cost a fifth of the time.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing as mp
import os
import pickle
import resource
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from electorate.model_check.fptable import owner
from electorate.model_check.model import Model
from electorate.model_check.packed import (
    PackedShard,
    PathError,
    Stepped,
    choose,
)
from electorate.model_check.search import Progress, ProgressFn, SearchResult, Violation
from electorate.model_check.shard import (
    Collected,
    Expanded,
    Found,
    Shard,
    identity,
    trace_chain,
    trace_log_path,
)

S = TypeVar("S")
A = TypeVar("A")

CHECKPOINT_FORMAT = 2
ROUND_STATES = 2048  # states a shard expands per round: a round lasts a fraction of a second
PACKED_ROUND_STATES = 65536  # the same per thread on the packed path, where a state costs less


class EngineError(Exception):
    """A checkpoint that cannot be used, or a path that cannot be taken (bad input); the
    message says why."""


class WorkerError(Exception):
    """A worker process failed or died; the message says how."""


@dataclass
class StopFlag:
    """Set by a signal handler (or a test); the search stops at the end of the current round."""

    requested: bool = False
    signal_name: str = ""


@dataclass
class Options:
    workers: int = 1
    max_depth: int = 0  # stop after this many BFS levels (0: no bound)
    progress: ProgressFn | None = None
    every: float = 0.5  # seconds between progress reports
    stop: StopFlag = field(default_factory=StopFlag)
    checkpoint: Path | None = None  # folder for checkpoints (and the trace logs)
    checkpoint_every: float = 600.0  # seconds between checkpoints (0: every level)
    resume: Path | None = None  # a checkpoint folder to continue from
    model_id: str = ""  # what the model is; a checkpoint of another model is refused
    fast: bool | None = None  # packed successors: required (True), refused (False), or if offered


def check(model: Model[S, A], symmetry: bool = True, options: Options | None = None) -> Any:
    """Search `model` exhaustively (or to `options.max_depth` levels); a SearchResult."""
    opts = options or Options()
    if opts.workers < 1:
        raise EngineError(f"workers must be >= 1, got {opts.workers}")
    try:
        run = _Run(model, symmetry, opts)
    except PathError as e:
        raise EngineError(str(e)) from None
    enabled = gc.isenabled()
    gc.disable()
    try:
        return run.go()
    finally:
        run.close()
        if enabled:
            gc.enable()


class _Run(Generic[S, A]):
    """One search: the shards, the figures, the checkpoints."""

    def __init__(self, model: Model[S, A], symmetry: bool, opts: Options) -> None:
        self.model, self.symmetry, self.opts = model, symmetry, opts
        self.key = model.canonical if symmetry else identity
        self.space, self.path = choose(model, symmetry, opts.fast)
        self.start = time.perf_counter()
        self.own_folder = opts.checkpoint is None and opts.resume is None
        folder = opts.resume or opts.checkpoint
        self.folder = Path(tempfile.mkdtemp(prefix="electorate-")) if folder is None else folder
        self.meta: dict[str, Any] | None = None
        if opts.resume is not None:
            self.meta = read_meta(opts.resume, opts.model_id, opts.workers, self.path.name)
        elif opts.checkpoint is not None:
            prepare_checkpoint_folder(opts.checkpoint)
        self.shards: _Shards[S, A]
        if self.space is not None:  # threads, one table
            shard = _ServedPacked(model, self.space, self.folder, opts.workers)
            self.shards = _LocalShards(shard)
        elif opts.workers == 1:
            self.shards = _LocalShards(_Served(model, symmetry, 0, 1, self.folder))
        else:  # processes, one shard each
            self.shards = _WorkerShards(model, symmetry, opts.workers, self.folder)
        self.generated = 0  # initial states (the shards count the successors)
        self.depth = 0
        self.reached: dict[str, bool] = {p.id: False for p in model.sometimes}
        self.last_checkpoint = time.monotonic()
        self.interrupted = False

    def close(self) -> None:
        self.shards.close()
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    # ---- the search ----------------------------------------------------------------------

    def go(self) -> SearchResult[S, A]:
        if self.meta is not None:
            total = self.restore(self.meta)
        else:
            found = self.initial_states()
            if found is not None:
                trace: list[tuple[A | None, S]] = [(None, found.state)]
                return self.result(Violation(found.invariant, self.describe(found), trace))
            total = sum(self.shards.call_all("next_level", [()] * self.shards.count))
            self.depth = 1 if total else 0
        last = time.perf_counter()
        while total and self.depth != self.opts.max_depth:
            found = self.level()
            if found is not None:
                return self.result(self.violation(found))
            if self.interrupted:
                return self.result(None)
            total = sum(self.shards.call_all("next_level", [()] * self.shards.count))
            if total:
                self.depth += 1
                self.maybe_checkpoint(force=self.depth == self.opts.max_depth)
            now = time.perf_counter()
            if self.opts.progress and now - last >= self.opts.every:
                last = now
                self.report(now)
        return self.result(None)

    def fingerprint(self, s: S) -> int:
        return self.space.fingerprint(s) if self.space is not None else hash(self.key(s))

    def initial_states(self) -> Found[S] | None:
        model = self.model
        for s in model.init_states():
            self.generated += 1
            for inv in model.invariants:
                if not inv.holds(s):
                    return Found(inv.id, s, 0)
            if not model.in_constraint(s):
                continue
            fp = self.fingerprint(s)
            state: Any = s if self.space is None else self.space.pack(s)
            if self.shards.call_one(self.shards.owner(fp), "add_initial", (state, fp)):
                for p in model.sometimes:
                    if p.holds(s):
                        self.reached[p.id] = True
        return None

    def level(self) -> Found[S] | None:
        """Expand the whole level, round by round; the first violation found, if any."""
        if self.space is not None:
            return self.packed_level()
        n = self.shards.count
        last = time.perf_counter()
        while True:
            reached = [k for k, v in self.reached.items() if v]
            expanded: list[Expanded] = self.shards.call_all(
                "expand_round", [(ROUND_STATES, reached)] * n
            )
            masks = self.shards.call_all(
                "insert", [([e.fps[o] for e in expanded],) for o in range(n)]
            )
            collected: list[Collected[S]] = self.shards.call_all(
                "collect", [([m[src] for m in masks],) for src in range(n)]
            )
            self.shards.call_all(
                "accept", [([c.handover[o] for c in collected],) for o in range(n)]
            )
            for c in collected:
                for pid in c.reached:
                    self.reached[pid] = True
            for e, c in zip(expanded, collected, strict=True):
                if c.found is not None or e.found is not None:
                    return c.found or e.found
            if self.opts.stop.requested:
                self.interrupted = True
                return None
            if all(e.exhausted for e in expanded):
                return None
            now = time.perf_counter()
            if self.opts.progress and now - last >= self.opts.every:
                last = now
                self.report(now)

    def packed_level(self) -> Found[S] | None:
        """The level on the packed path, round by round: each round the threads expand a chunk
        of the level each (model_check.packed)."""
        last = time.perf_counter()
        while True:
            stepped: Stepped = self.shards.call_one(0, "step", (PACKED_ROUND_STATES,))
            for pid in stepped.reached:
                self.reached[pid] = True
            if stepped.found is not None:
                return stepped.found
            if self.opts.stop.requested or stepped.exhausted:
                self.interrupted = self.opts.stop.requested
                return None
            now = time.perf_counter()
            if self.opts.progress and now - last >= self.opts.every:
                last = now
                self.report(now)

    # ---- figures, traces ------------------------------------------------------------------

    def report(self, now: float) -> None:
        assert self.opts.progress is not None
        distinct, generated, queued = self.shards.figures()
        self.opts.progress(
            Progress(distinct, self.generated + generated, queued, self.depth, now - self.start)
        )

    def result(self, violation: Violation[S, A] | None) -> SearchResult[S, A]:
        distinct, generated, queued = self.shards.figures()
        rss = self.shards.peak_rss() + _peak_rss()
        done = SearchResult(
            distinct=distinct,
            generated=self.generated + generated,
            depth=len(violation.trace) if violation else self.depth,
            seconds=time.perf_counter() - self.start,
            violation=violation,
            sometimes=dict(self.reached),
            bytes_per_state=rss / distinct if distinct else 0.0,
            workers=self.opts.workers,
        )
        done.peak_rss = rss
        done.successors, done.successors_note = self.path.name, self.path.note
        if violation is None and (self.interrupted or self.depth == self.opts.max_depth):
            done.unexplored = queued
        done.interrupted = self.interrupted
        return done

    def describe(self, found: Found[S]) -> str:
        return next(p.description for p in self.model.invariants if p.id == found.invariant)

    def violation(self, found: Found[S]) -> Violation[S, A]:
        """The shortest behaviour to the violating state, replayed in the model's readable
        successors along the fingerprints of the trace logs."""
        model, fp_of = self.model, self.fingerprint
        chain = trace_chain(self.shards.log_paths(), found.parent)
        init = next(s for s in model.init_states() if fp_of(s) == chain[0])
        trace: list[tuple[A | None, S]] = [(None, init)]
        for fp in chain[1:]:
            trace.append(self._step_to(trace[-1][1], _fingerprint_is(fp_of, fp)))
        if self.space is None:
            last = self.key(found.state)
            trace.append(self._step_to(trace[-1][1], lambda t: self.key(t) == last))
        else:
            trace.append(self._step_to(trace[-1][1], _fingerprint_is(fp_of, fp_of(found.state))))
        return Violation(found.invariant, self.describe(found), trace)

    def _step_to(self, here: S, wanted: Callable[[S], bool]) -> tuple[A, S]:
        step = next(((a, t) for a, t in self.model.successors(here) if wanted(t)), None)
        if step is None:  # the packed successors found a state the readable ones do not have
            raise WorkerError(
                f"no successor of a traced state matches the trace ({self.path.note})"
            )
        return step

    # ---- checkpoints ----------------------------------------------------------------------

    def maybe_checkpoint(self, force: bool = False) -> None:
        folder = self.opts.checkpoint or self.opts.resume
        if folder is None:
            return
        due = time.monotonic() - self.last_checkpoint >= self.opts.checkpoint_every
        if not (due or force):
            return
        saved = self.shards.call_all("save_level", [(folder, self.depth)] * self.shards.count)
        meta = {
            "format": CHECKPOINT_FORMAT,
            "model": self.opts.model_id,
            "successors": self.path.name,
            "workers": self.opts.workers,
            "depth": self.depth,
            "generated_initial": self.generated,
            "reached": self.reached,
            "shards": saved,
            "written": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        tmp = folder / "checkpoint.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2))
        tmp.replace(folder / "checkpoint.json")
        for old in folder.glob("level-*.pickle"):
            if not old.name.endswith(f"-{self.depth}.pickle"):
                old.unlink()
        self.last_checkpoint = time.monotonic()

    def restore(self, meta: dict[str, Any]) -> int:
        folder = self.opts.resume
        assert folder is not None
        self.depth = int(meta["depth"])
        self.generated = int(meta["generated_initial"])
        self.reached = {k: bool(v) for k, v in meta["reached"].items()}
        args = [(folder, entry) for entry in meta["shards"]]
        return sum(self.shards.call_all("restore_from", args))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---- checkpoint folders ---------------------------------------------------------------------


def _fingerprint_is(fp_of: Callable[[S], int], fp: int) -> Callable[[S], bool]:
    return lambda t: fp_of(t) == fp


def prepare_checkpoint_folder(folder: Path) -> None:
    if (folder / "checkpoint.json").exists():
        raise EngineError(
            f"{folder} already holds a checkpoint: continue it with --resume {folder}, "
            "or give an empty folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("trace-*.bin"):
        old.unlink()


def read_meta(folder: Path, model_id: str, workers: int, successors: str) -> dict[str, Any]:
    path = folder / "checkpoint.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise EngineError(f"no checkpoint in {folder} (expected {path})") from None
    except (OSError, ValueError) as e:
        raise EngineError(f"cannot read the checkpoint {path}: {e}") from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise EngineError(f"{path} is not a checkpoint this version can read")
    if meta.get("model") != model_id:
        raise EngineError(
            f"the checkpoint in {folder} is of another model ({meta.get('model')}); "
            "give the same model options as the run that wrote it"
        )
    if meta.get("workers") != workers:
        raise EngineError(
            f"the checkpoint in {folder} was written with --workers {meta.get('workers')}; "
            "resume it with the same number of workers"
        )
    if meta.get("successors") != successors:
        flag = "--fast" if meta.get("successors") == "packed" else "--no-fast"
        raise EngineError(
            f"the checkpoint in {folder} was written by the search on {meta.get('successors')} "
            f"successors; resume it with {flag}"
        )
    return meta


# ---- shards in this process, or one per worker process --------------------------------------


class _Shards(Generic[S, A]):
    count: int

    def owner(self, fp: int) -> int:
        return owner(fp, self.count)

    def call_all(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        raise NotImplementedError

    def call_one(self, index: int, method: str, args: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    def figures(self) -> tuple[int, int, int]:
        """(distinct, generated, queued) over every shard."""
        rows = self.call_all("figures", [()] * self.count)
        return sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows)

    def peak_rss(self) -> int:
        return 0

    def log_paths(self) -> list[Path]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _ServedPacked(PackedShard[S]):
    """The packed shard with the driver's requests as methods."""

    def restore_from(self, folder: Path, entry: dict[str, Any]) -> int:
        try:
            rows = np.load(folder / entry["level"])
        except (OSError, ValueError, KeyError) as e:
            raise EngineError(f"the checkpoint in {folder} is damaged: {e}") from None
        self.restore(rows, int(entry["logged"]))
        self.generated = int(entry["generated"])
        return len(rows)

    def peak_rss(self) -> int:
        return _peak_rss()


class _Served(Shard[S, A]):
    """A shard with the driver's requests as methods (in this process or a worker)."""

    def expand_round(self, limit: int, reached: list[str]) -> Expanded:
        if reached and self.pending:
            self.mark_reached(reached)
        return self.expand(limit)

    def figures(self) -> tuple[int, int, int]:
        return len(self.table), self.generated, self.queued()

    def save_level(self, folder: Path, depth: int) -> dict[str, Any]:
        self.flush()
        name = f"level-{self.index}-{depth}.pickle"
        with (folder / name).open("wb") as f:
            pickle.dump(self.level, f, protocol=pickle.HIGHEST_PROTOCOL)
        return {"level": name, "logged": self.logged, "generated": self.generated}

    def restore_from(self, folder: Path, entry: dict[str, Any]) -> int:
        try:
            with (folder / entry["level"]).open("rb") as f:
                level = pickle.load(f)
        except (OSError, pickle.UnpicklingError, KeyError) as e:
            raise EngineError(f"the checkpoint in {folder} is damaged: {e}") from None
        self.restore(level, int(entry["logged"]))
        self.generated = int(entry["generated"])
        return len(self.level)

    def peak_rss(self) -> int:
        return _peak_rss()


class _LocalShards(_Shards[S, A]):
    def __init__(self, shard: Any) -> None:
        self.shard = shard
        self.count = 1

    def call_all(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [getattr(self.shard, method)(*args[0])]

    def call_one(self, index: int, method: str, args: tuple[Any, ...]) -> Any:
        return getattr(self.shard, method)(*args)

    def log_paths(self) -> list[Path]:
        self.shard.flush()
        return [self.shard.log_path]

    def close(self) -> None:
        self.shard.close()


class _WorkerShards(_Shards[S, A]):
    """One forked process per shard of the readable search, alive for the whole run, driven
    over pipes."""

    def __init__(self, model: Model[S, A], symmetry: bool, workers: int, folder: Path) -> None:
        self.count = workers
        self.folder = folder
        ctx = mp.get_context("fork")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for index in range(workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_serve,
                args=(theirs, model, symmetry, index, workers, folder),
                daemon=True,
            )
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)

    def call_all(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        for conn, a in zip(self.conns, args, strict=True):
            self._send(conn, method, a)
        return [self._reply(conn) for conn in self.conns]

    def call_one(self, index: int, method: str, args: tuple[Any, ...]) -> Any:
        self._send(self.conns[index], method, args)
        return self._reply(self.conns[index])

    def _send(self, conn: Connection, method: str, args: tuple[Any, ...]) -> None:
        try:
            conn.send((method, args))
        except OSError:
            raise WorkerError("a worker process died (see its message above)") from None

    def _reply(self, conn: Connection) -> Any:
        try:
            ok, value = conn.recv()
        except (EOFError, OSError):
            raise WorkerError("a worker process died (see its message above)") from None
        if not ok:
            raise (EngineError if value.startswith("the checkpoint") else WorkerError)(value)
        return value

    def peak_rss(self) -> int:
        return sum(self.call_all("peak_rss", [()] * self.count))

    def log_paths(self) -> list[Path]:
        return [trace_log_path(self.folder, k) for k in range(self.count)]

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("exit", ()))
        deadline = time.monotonic() + 0.5
        for proc in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


def _serve(
    conn: Connection, model: Any, symmetry: bool, index: int, count: int, folder: Path
) -> None:
    """A worker: serve the driver's requests on one shard until told to exit (or orphaned)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the driver, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.disable()
    shard = _Served(model, symmetry, index, count, folder)
    try:
        while True:
            try:
                method, args = conn.recv()
            except (EOFError, OSError):
                return  # the driver is gone
            if method == "exit":
                return
            try:
                value = getattr(shard, method)(*args)
            except EngineError as e:
                conn.send((False, str(e)))
            except Exception:
                conn.send((False, f"worker {index} failed:\n{traceback.format_exc()}"))
            else:
                conn.send((True, value))
    finally:
        shard.close()
        os._exit(0)  # no atexit handlers or buffers of the driver's run in a forked child


__all__ = ["EngineError", "Options", "StopFlag", "WorkerError", "check"]
