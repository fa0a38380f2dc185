"""Durable storage of the election hard state ``(term, voted_for)``.

One record, one file: ``<data_dir>/state.json`` holding a versioned JSON object with a CRC32 of
its canonical payload. Writes are atomic (temp file, fsync, rename, fsync of the directory) so a
crash leaves either the old or the new record, never a torn one.

A record that cannot be read or fails its checksum refuses start-up: silently resetting it would
forget a vote already granted in the current term, and a node that forgets its vote can vote
twice (two leaders in one term). For the same reason a missing record is only taken for a new
node when the directory shows no sign of an earlier run: a new node writes its first record
(term 0, no vote) at once, so a directory that holds a lock file or a half-written record but
no state file has lost its state, and refuses start-up unless told ``fresh_start``.
"""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from pathlib import Path
from typing import Protocol

from electorate.impl.core import MAX_TERM, HardState

STATE_FILE = "state.json"
TMP_FILE = STATE_FILE + ".tmp"
LOCK_FILE = "LOCK"
FORMAT_VERSION = 1


class StorageError(Exception):
    """The state file is unusable; the message names the file and what to do."""


class StorageFatalError(Exception):
    """A write or fsync failed: the node must stop (its durability promise is broken)."""


def _payload(term: int, voted_for: str | None) -> bytes:
    # Canonical encoding: the checksum is computed over exactly these bytes.
    return json.dumps({"term": term, "voted_for": voted_for}, sort_keys=True).encode()


def encode_record(state: HardState) -> bytes:
    """Serialise ``state`` into the on-disk record (versioned, checksummed)."""
    crc = zlib.crc32(_payload(state.term, state.voted_for))
    record = {
        "version": FORMAT_VERSION,
        "term": state.term,
        "voted_for": state.voted_for,
        "crc32": crc,
    }
    return (json.dumps(record, sort_keys=True) + "\n").encode()


def decode_record(raw: bytes, where: str) -> HardState:
    """Parse and verify a record; raise StorageError naming ``where`` on any defect."""
    advice = (
        f"refusing to start: state file {where} is {{}}. Restore it from a backup or, only if "
        "this node's vote is known to be lost for good, remove the node from the cluster and "
        "re-add it with a fresh data directory (never just delete the file: a node that "
        "forgets its vote can vote twice)"
    )
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StorageError(advice.format("not valid JSON (corrupt)")) from None
    if not isinstance(obj, dict):
        raise StorageError(advice.format("not a JSON object (corrupt)"))
    if obj.get("version") != FORMAT_VERSION:
        raise StorageError(advice.format(f"of unknown format version {obj.get('version')!r}"))
    if set(obj) != {"version", "term", "voted_for", "crc32"}:
        raise StorageError(advice.format(f"missing or extra fields {sorted(obj)} (corrupt)"))
    term, voted_for, crc = obj["term"], obj["voted_for"], obj["crc32"]
    if type(term) is not int or not 0 <= term <= MAX_TERM:
        raise StorageError(advice.format(f"holding an invalid term {term!r} (corrupt)"))
    if voted_for is not None and not isinstance(voted_for, str):
        raise StorageError(advice.format(f"holding an invalid vote {voted_for!r} (corrupt)"))
    if type(crc) is not int or crc != zlib.crc32(_payload(term, voted_for)):
        raise StorageError(advice.format("failing its checksum (corrupt)"))
    return HardState(term, voted_for)


class Storage(Protocol):
    """Where a node keeps its hard state; ``save`` returns only once the state is durable.

    ``FileStorage`` is the real one; ``electorate.testing.fakes.MemoryStorage`` a test double.
    """

    writes: int

    def load(self, lock: bool = True, fresh_start: bool = False) -> HardState: ...

    def save(self, state: HardState) -> None: ...

    def close(self) -> None: ...


class FileStorage:
    """The hard state of one node in ``data_dir``; ``save`` returns only once it is durable."""

    def __init__(self, data_dir: str | Path) -> None:
        self.dir = Path(data_dir)
        self.path = self.dir / STATE_FILE
        self.writes = 0
        self._lock_fd: int | None = None

    def load(self, lock: bool = True, fresh_start: bool = False) -> HardState:
        """Return the stored state, ``(0, None)`` for a new node; StorageError if unusable.

        ``lock`` (the default for a node) also takes the data directory for this process until
        ``close()`` and writes a new node's first record; tools that only inspect the state pass
        ``lock=False``. ``fresh_start`` accepts a directory that was used before but lost its
        state file (an operator's deliberate decision: the node forgets its vote).
        """
        if not self.dir.exists():
            try:
                self.dir.mkdir(parents=True)
            except OSError as e:
                raise StorageError(f"cannot create data directory {self.dir}: {e.strerror}") from e
        if not self.dir.is_dir():
            raise StorageError(f"data directory {self.dir} is not a directory")
        used = (self.dir / LOCK_FILE).exists() or (self.dir / TMP_FILE).exists()
        if lock:
            self._lock()
        try:
            state = self._read()
            if state is None:
                state = self._first_record(used, fresh_start, write=lock)
            return state
        except (StorageError, StorageFatalError):
            self.close()  # a node that may not start must not keep the directory
            raise

    def _first_record(self, used: bool, fresh_start: bool, write: bool) -> HardState:
        """The state of a node without a state file: new, or refused if it ran here before."""
        if used and not fresh_start:
            raise StorageError(
                f"refusing to start: data directory {self.dir} was used by a node before (it "
                f"holds {LOCK_FILE}) but its state file {STATE_FILE} is missing, so this node's "
                "term and vote are lost. Restore the file from a backup; only if no vote of this "
                "node can matter any more (e.g. it was removed from the cluster), start it once "
                "with --fresh-start"
            )
        state = HardState(0, None)
        if write:
            self.save(state)  # from now on a missing file means lost state, not a new node
        return state

    def _read(self) -> HardState | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StorageError(
                f"refusing to start: cannot read state file {self.path}: {e.strerror}; "
                "fix its permissions or the disk, do not delete it"
            ) from e
        return decode_record(raw, str(self.path))

    def save(self, state: HardState) -> None:
        """Atomically and durably replace the record. Raise StorageFatalError on any I/O error."""
        tmp = self.path.with_name(TMP_FILE)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, encode_record(state))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            self._fsync_dir()
        except OSError as e:
            raise StorageFatalError(f"cannot persist state to {self.path}: {e}") from e
        self.writes += 1

    def _lock(self) -> None:
        # Two processes on one data directory would each vote once per term: a double vote.
        if self._lock_fd is not None:
            return
        path = self.dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StorageError(
                f"refusing to start: data directory {self.dir} is in use by another node "
                f"process (lock {path}); stop that process first"
            ) from None
        self._lock_fd = fd

    def close(self) -> None:
        """Release the data directory (also released by the OS when the process dies)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _fsync_dir(self) -> None:
        # The rename is only durable once the directory entry itself is flushed.
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
