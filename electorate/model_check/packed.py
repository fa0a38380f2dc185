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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from electorate.model_check.fptable import Table, new_router, new_table
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


# ---- one shard ------------------------------------------------------------------------------


@dataclass
class Batch:
    """Candidates for one owner: packed rows, their fingerprints, their parents' fingerprints.

    Between shards a batch travels as one blob of bytes (the rows, then the fingerprints, then
    the parents' fingerprints), which the driver relays to the owner without decoding it."""

    rows: Rows
    fps: Ints
    parents: Ints

    def __len__(self) -> int:
        return len(self.fps)

    @staticmethod
    def decode(blob: bytes, words: int) -> Batch:
        k = len(blob) // (8 * (words + 2))
        return Batch(
            np.frombuffer(blob, dtype=np.uint64, count=k * words).reshape(k, words),
            np.frombuffer(blob, dtype=np.int64, count=k, offset=8 * k * words),
            np.frombuffer(blob, dtype=np.int64, count=k, offset=8 * k * (words + 1)),
        )


@dataclass
class Stepped:
    generated: int
    found: Found[Any] | None
    reached: list[str]
    exhausted: bool  # no state of the level is left to expand
    new: int = 0  # states this round's accept found new


@dataclass
class _Level:
    """A BFS level as chunks of rows, consumed from the front (spent chunks are freed)."""

    chunks: list[Rows | None] = field(default_factory=list)
    first: int = 0  # first chunk not yet spent
    offset: int = 0  # rows of it already taken

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
        if not parts:
            return np.zeros((0, words), dtype=np.uint64)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def left(self) -> int:
        rest = [c for c in self.chunks[self.first :] if c is not None]
        return sum(len(c) for c in rest) - self.offset

    def rows(self, words: int) -> Rows:
        """Every row not yet taken (for a checkpoint)."""
        rest = [c for c in self.chunks[self.first :] if c is not None]
        if not rest:
            return np.zeros((0, words), dtype=np.uint64)
        rest[0] = rest[0][self.offset :]
        return np.concatenate(rest)


class PackedShard(Generic[S]):
    """The states one partition owns, packed, and the work of one round on them."""

    def __init__(
        self, model: Model[S, Any], space: PackedSpace[S], index: int, count: int, folder: Path
    ) -> None:
        self.model, self.space = model, space
        self.words = space.words
        self.index, self.count = index, count
        self.table: Table = new_table()
        self.router = new_router(count, self.words)
        self.level = _Level()
        self.next: list[Rows] = []
        self.own = b""  # the candidates this shard found for itself in the last round
        self.generated = 0
        self.log_path = trace_log_path(folder, index)
        self.log: BinaryIO = self.log_path.open("ab")
        self.logged = self.log_path.stat().st_size // 16

    # ---- a round ----------------------------------------------------------------------------

    def step(self, limit: int, incoming: Sequence[bytes]) -> tuple[Stepped, list[bytes]]:
        """Accept the candidates found for this shard (a blob from each shard), then expand up
        to `limit` states; the round's figures and a blob of candidates for each owner.

        The blob a shard makes for itself stays here (its place in the lists is b""): with
        workers, half the candidates or more would otherwise cross two pipes for nothing."""
        blobs = list(incoming)
        blobs[self.index], self.own = self.own, b""
        new = self.accept([Batch.decode(blob, self.words) for blob in blobs if blob])
        if not limit:
            return Stepped(0, None, [], True, new), [b""] * self.count
        done, out = self.expand(limit)
        out[self.index], self.own = b"", out[self.index]
        done.new = new
        return done, out

    def accept(self, incoming: Sequence[Batch]) -> int:
        """Keep the candidates new to this shard's table, in the order given; how many."""
        new = 0
        for batch in incoming:
            if not len(batch):
                continue
            mask = self.table.add(batch.fps)
            if not mask.any():
                continue
            self.next.append(batch.rows[mask])
            records = np.empty((int(mask.sum()), 2), dtype=np.int64)
            records[:, 0] = batch.fps[mask]
            records[:, 1] = batch.parents[mask]
            self.log.write(records.tobytes())
            self.logged += len(records)
            new += len(records)
        self.log.flush()
        return new

    def expand(self, limit: int) -> tuple[Stepped, list[bytes]]:
        rows = self.level.take(limit, self.words)
        cand, fps_b, parents_b, own_b, generated, violation, reached = self.space.expand(rows)
        self.generated += generated
        own = np.frombuffer(own_b, dtype=np.int64)
        found: Found[S] | None = None
        if violation is not None:
            parent, row, invariant = violation
            found = Found(invariant, self.space.unpack(row), int(own[parent]))
        out = self.router.route(
            np.frombuffer(cand, dtype=np.uint64),
            np.frombuffer(fps_b, dtype=np.int64),
            own[np.frombuffer(parents_b, dtype=np.int32)],
        )
        return Stepped(generated, found, reached, self.level.left() == 0), out

    # ---- levels, initial states, bookkeeping --------------------------------------------------

    def next_level(self) -> int:
        """Make the states found for the next level the level to expand; their number."""
        self.level = _Level(list(self.next))
        self.next = []
        return self.level.left()

    def add_initial(self, row: bytes, fp: int) -> bool:
        """Record an initial state this shard owns (its own parent in the trace log)."""
        rows = np.frombuffer(row, dtype=np.uint64).reshape(1, self.words)
        fps = np.array([fp], dtype=np.int64)
        return self.accept([Batch(rows, fps, fps.copy())]) == 1

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
        self.logged = logged
        self.level = _Level([rows] if len(rows) else [])
        self.next, self.own = [], b""

    def close(self) -> None:
        self.log.close()
