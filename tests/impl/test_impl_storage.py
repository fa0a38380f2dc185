"""Hard-state storage: one atomic checksummed record; corrupt files refuse start-up."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from electorate.impl.core import HardState
from electorate.impl.storage import (
    LOCK_FILE,
    STATE_FILE,
    TMP_FILE,
    FileStorage,
    StorageError,
    StorageFatalError,
    encode_record,
)


def test_fresh_directory_loads_term_zero_no_vote_and_writes_its_first_record(
    tmp_path: Path,
) -> None:
    store = FileStorage(tmp_path / "new")
    assert store.load() == HardState(0, None)
    assert (tmp_path / "new" / STATE_FILE).is_file()  # from now on, a missing file is a loss
    store.close()
    assert FileStorage(tmp_path / "new").load(lock=False) == HardState(0, None)


@pytest.mark.parametrize("leftover", [LOCK_FILE, TMP_FILE])
def test_a_used_directory_that_lost_its_state_file_refuses_to_start(
    tmp_path: Path, leftover: str
) -> None:
    """A node that forgets its vote can vote twice in one term: a data directory that shows
    an earlier run (its lock file, a half-written record) but has no state file is refused."""
    store = FileStorage(tmp_path)
    store.save(HardState(4, "n2"))
    (tmp_path / leftover).write_bytes(b"")
    (tmp_path / STATE_FILE).unlink()
    with pytest.raises(StorageError) as e:
        FileStorage(tmp_path).load()
    text = str(e.value)
    assert "state file state.json is missing" in text and "--fresh-start" in text
    assert "\n" not in text and str(tmp_path) in text
    assert not (tmp_path / STATE_FILE).exists()  # nothing written on a refusal
    again = FileStorage(tmp_path)  # the refusal released the directory
    assert again.load(fresh_start=True) == HardState(0, None)
    again.close()
    assert FileStorage(tmp_path).load() == HardState(0, None)  # and the start is recorded


def test_inspecting_a_directory_writes_nothing(tmp_path: Path) -> None:
    assert FileStorage(tmp_path).load(lock=False) == HardState(0, None)
    assert list(tmp_path.iterdir()) == []


def test_a_term_beyond_uint64_in_the_state_file_is_refused(tmp_path: Path) -> None:
    raw = encode_record(HardState(2**64 - 1, None)).replace(
        str(2**64 - 1).encode(), str(2**64).encode()
    )
    (tmp_path / STATE_FILE).write_bytes(raw)
    with pytest.raises(StorageError, match="invalid term"):
        FileStorage(tmp_path).load(lock=False)


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
