"""Hard-state storage: one atomic checksummed record; corrupt files refuse start-up."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from electorate.impl.core import HardState
from electorate.impl.storage import (
    STATE_FILE,
    FileStorage,
    StorageError,
    StorageFatalError,
    encode_record,
)


def test_fresh_directory_loads_term_zero_no_vote(tmp_path: Path) -> None:
    store = FileStorage(tmp_path / "new")
    assert store.load() == HardState(0, None)
    assert (tmp_path / "new").is_dir()
    store.close()


@pytest.mark.parametrize("state", [HardState(0, None), HardState(7, "n2"), HardState(2**40, "x")])
def test_save_then_load_round_trips(tmp_path: Path, state: HardState) -> None:
    FileStorage(tmp_path).save(state)
    assert FileStorage(tmp_path).load(lock=False) == state  # a new instance: from disk


def test_save_replaces_atomically_and_leaves_no_temp_file(tmp_path: Path) -> None:
    store = FileStorage(tmp_path)
    store.save(HardState(1, "n1"))
    store.save(HardState(2, None))
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]  # no temp file left
    assert store.load(lock=False) == HardState(2, None)
    assert store.writes == 2


def _corrupt_variants(good: bytes) -> dict[str, bytes]:
    obj = json.loads(good)
    flipped = dict(obj, term=obj["term"] + 1)  # valid JSON, checksum no longer matches
    return {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "garbage": b"\x00\xff\x13garbage",
        "bad-crc": json.dumps(flipped).encode(),
        "wrong-version": json.dumps(dict(obj, version=99)).encode(),
        "extra-field": json.dumps(dict(obj, extra=1)).encode(),
        "negative-term": json.dumps(dict(obj, term=-1)).encode(),
        "list": b"[1, 2]",
    }


@pytest.mark.parametrize("kind", list(_corrupt_variants(encode_record(HardState(3, "n2")))))
def test_corrupt_state_file_is_refused_naming_the_file(tmp_path: Path, kind: str) -> None:
    raw = _corrupt_variants(encode_record(HardState(3, "n2")))[kind]
    (tmp_path / STATE_FILE).write_bytes(raw)
    with pytest.raises(StorageError) as err:
        FileStorage(tmp_path).load()
    msg = str(err.value)
    assert str(tmp_path / STATE_FILE) in msg and "refusing to start" in msg
    assert "\n" not in msg
    # Never silently reset: the bad file is still there, untouched.
    assert (tmp_path / STATE_FILE).read_bytes() == raw


def test_unreadable_state_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).mkdir()  # reading a directory fails even as root
    with pytest.raises(StorageError, match="cannot read state file"):
        FileStorage(tmp_path).load()


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError, match="not a directory"):
        FileStorage(tmp_path / "f").load()


def test_fsync_failure_is_fatal_and_keeps_old_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStorage(tmp_path)
    store.save(HardState(4, "n3"))

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StorageFatalError, match="cannot persist"):
        store.save(HardState(5, "n1"))
    monkeypatch.undo()
    assert FileStorage(tmp_path).load(lock=False) == HardState(4, "n3")


def test_one_data_directory_serves_one_node_at_a_time(tmp_path: Path) -> None:
    first = FileStorage(tmp_path)
    first.load()
    with pytest.raises(StorageError, match="in use by another node process"):
        FileStorage(tmp_path).load()
    first.close()
    second = FileStorage(tmp_path)
    second.load()  # released: a restarted node can take over
    second.close()
