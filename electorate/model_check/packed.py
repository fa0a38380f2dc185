"""The search on packed states: for a model that offers its states as fixed-width rows of words.

A model may offer, beside its readable states and successors (model_check.model.Model), a
packed form of them (`PackedSpace`): each state a row of `words` 64-bit words, and one call that
expands a whole chunk of rows in native code, checking the invariants and the constraint and
fingerprinting the successors on the way. The engine (model_check.engine) then keeps a BFS level
as arrays of rows, 8 bytes a word, instead of Python objects, and runs no Python code per
successor. Everything it reports stays in readable states: a counterexample is replayed in the
model's own `successors` along the fingerprints, as with the readable search.

`choose` picks the path: the packed one when the model offers it for this run (a model says why
not, e.g. a feature its packed form does not cover), else the readable one; the result says
which, and why.

One round of a `PackedShard` is `accept` then `expand`: the candidates other shards (or this one)
found for it in the previous round go into its fingerprint table, the new ones into its next
level with a (fingerprint, parent fingerprint) record in its trace log, and the next chunk of
its level is expanded into candidates, grouped by owning shard. The driver relays the groups.
Counts are exactly the readable search's: every successor is counted, the invariants are checked
on every successor in generation order (a violating one cannot have been seen before: every
seen state was checked), and with one shard the level order is the reference's too, so the
first violation and its trace are the same.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from electorate.model_check.fptable import Table, new_inserter, new_table
from electorate.model_check.model import Model
from electorate.model_check.shard import Found, cut_trace_log, trace_log_path

S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)

Rows = npt.NDArray[np.uint64]  # (k, words): k packed states
Ints = npt.NDArray[np.int64]

# What `PackedSpace.expand` returns for a chunk of rows: the successors inside the constraint
# that are not stuttering steps, as rows (bytes), their fingerprints (int64 bytes), the index of
# each one's parent in the chunk (int32 bytes), the chunk's own fingerprints (int64 bytes),
# the number of states generated, the first violation in generation order (the parent's index,
# the violating successor's row, the invariant's id; expansion stops there), and the ids of the
# "sometimes" properties that some kept successor satisfies.
RawExpansion = tuple[bytes, bytes, bytes, bytes, int, "tuple[int, bytes, str] | None", list[str]]


class PackedSpace(Protocol[S]):
    """A model's states as rows of 64-bit words, expanded in native code."""

    @property
    def words(self) -> int: ...

    @property
    def note(self) -> str:
        """What runs, for the result: e.g. which part of the model is in native code."""
        ...

    def pack(self, s: S) -> bytes: ...

    def unpack(self, row: bytes) -> S: ...

    def fingerprint(self, s: S) -> int:
        """The fingerprint `expand` gives s (of its canonical form with symmetry)."""
        ...

    def expand(self, rows: Rows) -> RawExpansion: ...


class OffersPacked(Protocol[S_co]):
    """A model with a packed form for some runs."""

    def packed(self, symmetric: bool) -> PackedSpace[Any] | str:
        """The packed form for a search with or without symmetry, or why there is none."""
        ...


@dataclass(frozen=True)
class SearchPath:
    """Which successor function a search runs, and why."""

    packed: bool
    note: str

    @property
    def name(self) -> str:
        return "packed" if self.packed else "readable"


class PathError(Exception):
    """The packed path was asked for and the model has none for this run; says why."""


def choose(model: Model[S, Any], symmetry: bool, want: bool | None) -> tuple[Any, SearchPath]:
    """The packed space to search (None: the readable successors) and the path's description.

    `want`: True insists on the packed path (PathError if there is none), False refuses it,
    None takes it when the model offers it.
    """
    if want is False:
        return None, SearchPath(False, "readable successors (asked for)")
    offer = getattr(model, "packed", None)
    space: PackedSpace[Any] | str = (
        offer(symmetry) if callable(offer) else "the model offers no packed form"
    )
    if isinstance(space, str):
        if want:
            raise PathError(f"no packed successors for this model: {space}")
        return None, SearchPath(False, f"readable successors: {space}")
    return space, SearchPath(True, space.note)


# ---- the shard: one table, searched by one or several threads ----------------------------------

CHUNK = 4096  # rows a thread expands at a time at most: a few milliseconds
MIN_CHUNK = 256  # ... and at least where the round's last rows are shared out (unless costly)
CHUNK_SECONDS = 0.005  # a chunk of costly rows (symmetry on many servers) is cut to about this
ROUND_SECONDS = 0.25  # a round ends after this long even short of its rows (Ctrl-C waits for it)


@dataclass
class Stepped:
    generated: int
    found: Found[Any] | None
    reached: list[str]
    exhausted: bool  # no state of the level is left to expand
    new: int = 0  # states this round found new


@dataclass
class _Chunk:
    """What one chunk of the level gave: its place in the round, the new rows and their trace
    records, and the chunk's figures."""

    seq: int
    rows: bytes
    records: bytes
    generated: int
    found: Found[Any] | None
    reached: list[str]


@dataclass
class _Level:
    """A BFS level as chunks of rows, consumed from the front (spent chunks are freed)."""

    chunks: list[Rows | None] = field(default_factory=list)
    first: int = 0  # first chunk not yet spent
    offset: int = 0  # rows of it already taken
    remaining: int = -1  # rows not yet taken (-1: to be counted)

    def __post_init__(self) -> None:
        if self.remaining < 0:
            self.remaining = sum(len(c) for c in self.chunks if c is not None)

    def take(self, limit: int, words: int) -> Rows:
        parts: list[Rows] = []
        got = 0
        while got < limit and self.first < len(self.chunks):
            chunk = self.chunks[self.first]
            assert chunk is not None
            part = chunk[self.offset : self.offset + limit - got]
            parts.append(part)
            got += len(part)
            self.offset += len(part)
            if self.offset >= len(chunk):
                self.chunks[self.first] = None
                self.first += 1
                self.offset = 0
        self.remaining -= got
        if not parts:
            return np.zeros((0, words), dtype=np.uint64)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def left(self) -> int:
        return self.remaining

    def rows(self, words: int) -> Rows:
        """Every row not yet taken (for a checkpoint)."""
        rest = [c for c in self.chunks[self.first :] if c is not None]
        if not rest:
            return np.zeros((0, words), dtype=np.uint64)
        rest[0] = rest[0][self.offset :]
        return np.concatenate(rest)


class PackedShard(Generic[S]):
    """Every packed state of the search, in one process: `threads` threads expand the level,
    a chunk at a time, and insert the successors into one shared fingerprint table.

    A thread expands its chunk and inserts the candidates in native code without the GIL, so
    the threads run on separate cores; the table (model_check/_fpset.c) takes them from all
    threads at once and says which are new. Nothing is sent between workers: with one table
    there are no owners, and a state any thread finds new joins the next level once, in the
    order of the chunk it came from (with one thread, the reference search's order)."""

    def __init__(
        self, model: Model[S, Any], space: PackedSpace[S], folder: Path, threads: int = 1
    ) -> None:
        self.model, self.space = model, space
        self.words = space.words
        self.index, self.count = 0, 1
        self.threads = threads
        self.table: Table = new_table()
        self.inserter = new_inserter(self.table, self.words)  # one cache for every thread
        self.pool = ThreadPoolExecutor(threads - 1) if threads > 1 else None
        self.lock = threading.Lock()  # the level and the round's bookkeeping, between threads
        self.level = _Level()
        self.next: list[Rows] = []
        self.generated = 0
        self.log_path = trace_log_path(folder, 0)
        self.log: BinaryIO = self.log_path.open("ab")
        self.logged = self.log_path.stat().st_size // 16
        self._quota = self._seq = 0
        self._halt = False
        self._deadline = 0.0
        self._row_seconds = 0.0  # the last chunk's time per row

    # ---- a round ----------------------------------------------------------------------------

    def step(self, limit: int) -> Stepped:
        """Expand up to `limit` states per thread; the round's figures. The threads take the
        level's chunks in turn; their new states join the next level in chunk order."""
        self._quota, self._seq, self._halt = limit * self.threads, 0, False
        self._deadline = time.perf_counter() + ROUND_SECONDS
        pool = self.pool
        others = [pool.submit(self._work) for _ in range(1, self.threads)] if pool else []
        chunks = self._work()  # this thread works too
        for f in others:
            chunks += f.result()
        chunks.sort(key=lambda c: c.seq)
        found = next((c.found for c in chunks if c.found is not None), None)
        new = 0
        for c in chunks:
            if c.rows:
                self.next.append(np.frombuffer(c.rows, dtype=np.uint64).reshape(-1, self.words))
                self.log.write(c.records)
                new += len(c.records) // 16
        self.log.flush()
        self.logged += new
        self.generated += sum(c.generated for c in chunks)
        reached = sorted({pid for c in chunks for pid in c.reached})
        return Stepped(
            sum(c.generated for c in chunks), found, reached, self.level.left() == 0, new
        )

    def _work(self) -> list[_Chunk]:
        done: list[_Chunk] = []
        while True:
            with self.lock:
                left = min(self._quota, self.level.left())
                late = done and time.perf_counter() > self._deadline  # one chunk at least
                if self._halt or left <= 0 or late:
                    return done
                # Smaller chunks towards the end of the round (guided self-scheduling): the
                # threads finish it at nearly the same time. Costly rows: smaller chunks still.
                size = min(CHUNK, max(MIN_CHUNK, left // (2 * self.threads)), left)
                if self._row_seconds * size > CHUNK_SECONDS:
                    size = max(1, int(CHUNK_SECONDS / self._row_seconds))
                rows = self.level.take(size, self.words)
                self._quota -= len(rows)
                seq, self._seq = self._seq, self._seq + 1
            start = time.perf_counter()
            done.append(self._expand(seq, rows))
            self._row_seconds = (time.perf_counter() - start) / len(rows)
            if done[-1].found is not None:
                self._halt = True  # the others finish their chunk and stop

    def _expand(self, seq: int, rows: Rows) -> _Chunk:
        cand, fps, parents, own, generated, violation, reached = self.space.expand(rows)
        new_rows, records = self.inserter.insert(self.table, cand, fps, parents, own)
        found: Found[S] | None = None
        if violation is not None:
            parent, row, invariant = violation
            parent_fp = int(np.frombuffer(own, dtype=np.int64)[parent])
            found = Found(invariant, self.space.unpack(row), parent_fp)
        return _Chunk(seq, new_rows, records, generated, found, reached)

    # ---- levels, initial states, bookkeeping --------------------------------------------------

    def next_level(self) -> int:
        """Make the states found for the next level the level to expand; their number."""
        self.level = _Level(list(self.next))
        self.next = []
        return self.level.left()

    def add_initial(self, row: bytes, fp: int) -> bool:
        """Record an initial state (its own parent in the trace log)."""
        if not self.table.add(np.array([fp], dtype=np.int64))[0]:
            return False
        self.next.append(np.frombuffer(row, dtype=np.uint64).reshape(1, self.words))
        self.log.write(np.array([fp, fp], dtype=np.int64).tobytes())
        self.log.flush()
        self.logged += 1
        return True

    def queued(self) -> int:
        return self.level.left() + sum(len(r) for r in self.next)

    def figures(self) -> tuple[int, int, int]:
        return len(self.table), self.generated, self.queued()

    def flush(self) -> None:
        self.log.flush()

    def save_level(self, folder: Path, depth: int) -> dict[str, Any]:
        self.flush()
        name = f"level-{self.index}-{depth}.npy"
        np.save(folder / name, self.level.rows(self.words))
        return {"level": name, "logged": self.logged, "generated": self.generated}

    def restore(self, rows: Rows, logged: int) -> None:
        """Continue from a checkpoint: the trace log cut to `logged` records, the table rebuilt
        from it, and the level to expand."""
        self.log.close()
        self.log, self.table = cut_trace_log(self.log_path, logged)
        self.inserter = new_inserter(self.table, self.words)
        self.logged = logged
        self.level = _Level([rows] if len(rows) else [])
        self.next = []

    def close(self) -> None:
        if self.pool is not None:
            self._halt = True  # a round cut short (a second Ctrl-C): the others stop too
            self.pool.shutdown()
        self.log.close()
