"""A flat open-addressing set of 64-bit fingerprints: 8 bytes a slot, no Python object per state.

A Python `set` of ints costs about 80 bytes a state (the int object and the set's entry); this
table keeps the fingerprints themselves in one numpy buffer, probed linearly, and grows by
doubling at half full. Fingerprints arrive in batches (numpy arrays): `add` inserts a batch with
vectorised probing and says which of its fingerprints were new, so the cost per state is a few
array operations rather than a dictionary entry. Slot 0 marks an empty slot; the fingerprint 0
itself is remembered by a flag, so every 64-bit value is a distinct fingerprint.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

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
