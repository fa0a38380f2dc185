"""Sets of 64-bit fingerprints in flat buffers: no Python object per visited state.

`new_table()` is the one the searches use: the C one of model_check/_fpset.c (11 to 16 bytes a
fingerprint, grown a segment at a time) when it is built, else `FpTable` below, in numpy. Both
take a batch of fingerprints and say which were new (the first of equal ones in a batch).

`FpTable`: a flat open-addressing set, 8 bytes a slot, no Python object per state.

A Python `set` of ints costs about 80 bytes a state (the int object and the set's entry); this
table keeps the fingerprints themselves in one numpy buffer, probed linearly, and grows by
doubling at half full. Fingerprints arrive in batches (numpy arrays): `add` inserts a batch with
vectorised probing and says which of its fingerprints were new, so the cost per state is a few
array operations rather than a dictionary entry. Slot 0 marks an empty slot; the fingerprint 0
itself is remembered by a flag, so every 64-bit value is a distinct fingerprint.
"""

from __future__ import annotations

import threading
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

try:
    from electorate.model_check._fpset import FpSet, Inserter
except ImportError:  # not built (no C compiler at install): the numpy versions do the job
    FpSet = Inserter = None  # type: ignore[assignment,misc]

Fps = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads any bit pattern
_MAX_LOAD: Final = 0.5


class FpTable:
    """A set of int64 fingerprints in a flat buffer, added to in batches."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        bits = max(4, (capacity - 1).bit_length())
        self._slots: Fps = np.zeros(1 << bits, dtype=np.int64)
        self._bits = bits
        self._count = 0
        self._has_zero = False

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return int(self._slots.nbytes)

    def add(self, fps: Fps) -> Mask:
        """Insert a batch of DISTINCT fingerprints; True where one was not in the table."""
        new = np.zeros(len(fps), dtype=np.bool_)
        zero = fps == 0
        if zero.any():
            new[zero] = not self._has_zero
            self._count += int(not self._has_zero)
            self._has_zero = True
            rest = np.flatnonzero(~zero)
            new[rest] = self._add_nonzero(fps[rest])
            return new
        return self._add_nonzero(fps)

    def contains(self, fp: int) -> bool:
        """Whether one fingerprint is in the table (for tests and trace rebuilding)."""
        if fp == 0:
            return self._has_zero
        mask = len(self._slots) - 1
        k = int(self._home(np.array([fp], dtype=np.int64))[0])
        while True:
            cur = int(self._slots[k])
            if cur == fp:
                return True
            if cur == 0:
                return False
            k = (k + 1) & mask

    def _home(self, fps: Fps) -> npt.NDArray[np.int64]:
        mixed = fps.view(np.uint64) * _GOLDEN
        return (mixed >> np.uint64(64 - self._bits)).astype(np.int64)

    def _add_nonzero(self, fps: Fps) -> Mask:
        if (self._count + len(fps)) > _MAX_LOAD * len(self._slots):
            self._grow(self._count + len(fps))
        new = _probe_insert(self._slots, self._home(fps), fps)
        self._count += int(new.sum())
        return new

    def _grow(self, need: int) -> None:
        bits = self._bits
        while need > _MAX_LOAD * (1 << bits):
            bits += 1
        old = self._slots[self._slots != 0]
        self._slots = np.zeros(1 << bits, dtype=np.int64)
        self._bits = bits
        home = self._home(old)
        order = np.argsort(home, kind="stable")
        old, home = old[order], home[order]
        # Into an empty table, in increasing home order, linear probing puts the k-th
        # fingerprint at max(home[k], place[k-1] + 1), that is k + max_{j<=k}(home[j] - j).
        place = np.arange(len(old)) + np.maximum.accumulate(home - np.arange(len(old)))
        fits = place < len(self._slots)
        self._slots[place[fits]] = old[fits]
        overflow = old[~fits]  # the few that wrap past the last slot: probe from slot 0
        _probe_insert(self._slots, np.zeros(len(overflow), dtype=np.int64), overflow)

    def values(self) -> Fps:
        """Every fingerprint in the table (slot order)."""
        out: Fps = self._slots[self._slots != 0]
        if self._has_zero:
            out = np.concatenate([out, np.zeros(1, dtype=np.int64)])
        return out


def _probe_insert(slots: Fps, home: npt.NDArray[np.int64], fps: Fps) -> Mask:
    """Linear probing for a whole batch at once: each round, every pending fingerprint looks at
    its current slot; a match is an old fingerprint, an empty slot is claimed (when several
    claim one slot, one wins and the others probe on), anything else probes the next slot."""
    mask = len(slots) - 1
    new = np.zeros(len(fps), dtype=np.bool_)
    pending = np.arange(len(fps))
    pos = home.copy()
    while len(pending):
        where = pos[pending]
        mine = fps[pending]
        cur = slots[where]
        empty = cur == 0
        claim, claim_at = pending[empty], where[empty]
        slots[claim_at] = fps[claim]  # among equal slots the last write wins
        won = slots[claim_at] == fps[claim]
        new[claim[won]] = True
        moving = ~empty & (cur != mine)
        advance = pending[moving]
        pos[advance] = (pos[advance] + 1) & mask
        pending = np.concatenate([advance, claim[~won]])
    return new


class Table(Protocol):
    """A set of fingerprints added to in batches."""

    def add(self, fps: Fps) -> Mask:
        """Insert a batch; True at the first occurrence of each fingerprint not in the table."""
        ...

    def __len__(self) -> int: ...

    @property
    def nbytes(self) -> int: ...

    def contains(self, fp: int) -> bool: ...

    def values(self) -> Fps: ...


class NativeTable:
    """The C fingerprint set (model_check/_fpset.c) behind the `Table` interface."""

    def __init__(self) -> None:
        assert FpSet is not None
        self.native = FpSet()

    def add(self, fps: Fps) -> Mask:
        mask: Mask = np.frombuffer(self.native.add(np.ascontiguousarray(fps)), dtype=np.bool_)
        return mask

    def __len__(self) -> int:
        return len(self.native)

    @property
    def nbytes(self) -> int:
        return self.native.nbytes

    def contains(self, fp: int) -> bool:
        return self.native.contains(fp)

    def values(self) -> Fps:
        return np.frombuffer(self.native.values(), dtype=np.int64)


class NumpyTable(FpTable):
    """`FpTable` taking batches with repeats, as the `Table` interface does."""

    def add(self, fps: Fps) -> Mask:
        unique, first = np.unique(fps, return_index=True)
        new = np.zeros(len(fps), dtype=np.bool_)
        new[first[super().add(unique)]] = True
        return new


def native() -> bool:
    """Whether the C fingerprint set is built."""
    return FpSet is not None


def new_table() -> Table:
    return NativeTable() if FpSet is not None else NumpyTable()


# ---- which shard owns a fingerprint ---------------------------------------------------------


def owner(fp: int, count: int) -> int:
    """The shard owning a fingerprint: its bits 32-63 scaled to `count` (every search agrees)."""
    return ((fp & 0xFFFFFFFFFFFFFFFF) >> 32) * count >> 32


def owners(fps: Fps, count: int) -> npt.NDArray[np.int64]:
    """`owner` of each fingerprint of a batch."""
    high = fps.view(np.uint64) >> np.uint64(32)
    return ((high * np.uint64(count)) >> np.uint64(32)).astype(np.int64)


# An inserter remembers the last 2**20 fingerprints it saw (8 MiB) to probe the table less.
CACHE_BITS: Final = 20


class Inserting(Protocol):
    def insert(
        self, table: Table, rows: bytes, fps: bytes, parents: bytes, own: bytes
    ) -> tuple[bytes, bytes]:
        """Expanded candidates into `table`: rows of `words` words, int64 fingerprints, int32
        indexes of their parents into `own` (the expanded chunk's int64 fingerprints). Out: the
        rows new to the table, in generation order, and a trace record (int64 fingerprint,
        parent's fingerprint) for each. Repeats this inserter saw before are left out first
        (some of them: a cache); the table decides the rest."""
        ...


class NativeInserter:
    """model_check/_fpset.c's Inserter: one pass in C, without the GIL, into a NativeTable
    that other threads may be adding to at the same time (through this inserter or others)."""

    def __init__(self, words: int) -> None:
        assert Inserter is not None
        self._ins = Inserter(CACHE_BITS)
        self.words = words

    def insert(
        self, table: Table, rows: bytes, fps: bytes, parents: bytes, own: bytes
    ) -> tuple[bytes, bytes]:
        assert isinstance(table, NativeTable)
        return self._ins.insert(table.native, rows, fps, parents, own, self.words)


class NumpyInserter:
    """The same in numpy (repeats left out by the table alone); one thread at a time."""

    _lock = threading.Lock()  # the numpy table is not safe for threads

    def __init__(self, words: int) -> None:
        self.words = words

    def insert(
        self, table: Table, rows: bytes, fps: bytes, parents: bytes, own: bytes
    ) -> tuple[bytes, bytes]:
        cand = np.frombuffer(rows, dtype=np.uint64).reshape(-1, self.words)
        fp = np.frombuffer(fps, dtype=np.int64)
        parent = np.frombuffer(own, dtype=np.int64)[np.frombuffer(parents, dtype=np.int32)]
        with self._lock:
            new = table.add(fp)
        records = np.empty((int(new.sum()), 2), dtype=np.int64)
        records[:, 0], records[:, 1] = fp[new], parent[new]
        return cand[new].tobytes(), records.tobytes()


def new_inserter(table: Table, words: int) -> Inserting:
    """An inserter into `table`, which threads may share."""
    return NativeInserter(words) if isinstance(table, NativeTable) else NumpyInserter(words)
