"""The search on packed states against the readable one, and the C modules against their numpy
fallbacks: the same counts on every path, a path chosen and named honestly, the C fingerprint
set and inserter agreeing with the numpy ones batch by batch, and threads sharing one set."""

from __future__ import annotations

import json
import random
import threading

import numpy as np
import pytest

from electorate.app.check import main
from electorate.model_check import engine, fptable
from electorate.model_check.engine import EngineError, Options
from electorate.model_check.fptable import NativeTable, NumpyTable
from electorate.model_check.search import Search
from electorate.spec.fast import election
from electorate.spec.model import RaftModel
from electorate.spec.params import Params

COVERED = [
    (Params(servers=2), False),
    (Params(servers=2, max_msgs=2), True),
    (Params(servers=2, bug="stale-votes-counted"), False),
]


def test_the_c_modules_are_built() -> None:
    """An install builds both (setup.py); without them the checker falls back, slower."""
    assert fptable.native(), "model_check/_fpset.c was not built: reinstall with a C compiler"
    assert election.not_covered(Params()) is None


@pytest.mark.parametrize(("params", "sym"), COVERED, ids=lambda x: str(x))
@pytest.mark.parametrize("workers", [1, 2])
def test_the_packed_and_readable_paths_count_alike(params: Params, sym: bool, workers: int) -> None:
    ref = Search(RaftModel(params), sym).run()
    packed = engine.check(RaftModel(params), sym, Options(workers=workers, fast=True))
    readable = engine.check(RaftModel(params), sym, Options(workers=workers, fast=False))
    assert packed.successors == "packed" and "spec/fast/_election.c" in packed.successors_note
    assert readable.successors == "readable"
    for r in (packed, readable):
        assert (r.distinct, r.generated, r.depth) == (ref.distinct, ref.generated, ref.depth)
        assert r.sometimes == ref.sometimes and r.violation is None


@pytest.mark.slow
@pytest.mark.parametrize("sym", [False, True])
def test_the_paths_count_alike_on_three_servers(sym: bool) -> None:
    p = Params(servers=3)
    readable = engine.check(RaftModel(p), sym, Options(fast=False))
    for workers in (1, 2):
        packed = engine.check(RaftModel(p), sym, Options(workers=workers, fast=True))
        assert (packed.distinct, packed.generated, packed.depth) == (
            readable.distinct,
            readable.generated,
            readable.depth,
        )
    assert readable.distinct == (89_606 if sym else 535_491)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_packed_path_runs_on_the_numpy_table_and_inserter(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Params(servers=2, max_term=3, max_msgs=2)
    whole = engine.check(RaftModel(p), True, Options(workers=workers))
    monkeypatch.setattr(fptable, "FpSet", None)
    monkeypatch.setattr(fptable, "Inserter", None)
    assert isinstance(fptable.new_table(), NumpyTable)
    numpy_run = engine.check(RaftModel(p), True, Options(workers=workers))
    assert numpy_run.successors == "packed"
    assert (numpy_run.distinct, numpy_run.generated) == (whole.distinct, whole.generated)


def test_without_the_c_modules_the_readable_path_runs_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fptable, "FpSet", None)
    monkeypatch.setattr(fptable, "Inserter", None)
    monkeypatch.setattr(election, "_MISSING", "the C module spec/fast/_election is not built (x)")
    p = Params(servers=2)
    r = engine.check(RaftModel(p), False, Options())
    ref = Search(RaftModel(p), False).run()
    assert r.successors == "readable" and "_election is not built" in r.successors_note
    assert (r.distinct, r.generated) == (ref.distinct, ref.generated)
    with pytest.raises(EngineError, match="no packed successors for this model: the C module"):
        engine.check(RaftModel(p), False, Options(fast=True))


def test_a_model_the_packed_path_does_not_cover_runs_readable() -> None:
    p = Params(servers=2, features=frozenset({"prevote"}))
    r = engine.check(RaftModel(p), True, Options())
    assert r.successors == "readable" and "no features (prevote given)" in r.successors_note
    with pytest.raises(EngineError, match="no packed successors for this model"):
        engine.check(RaftModel(p), True, Options(fast=True))


def test_the_result_says_which_path_ran(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--servers", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["successors"] == "packed" and "election profile" in doc["successors_note"]
    assert main(["--servers", "2", "--no-fast", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["successors"] == "readable"
    assert main(["--servers", "2", "--profile", "heartbeat"]) == 0
    assert (
        "Successors: readable successors: the packed model covers the election profile, not "
        in (capsys.readouterr().out.replace("\n", " "))
    )
    assert main(["--servers", "2", "--profile", "heartbeat", "--fast"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no packed successors for this model" in err


def random_batches(seed: int) -> list[np.ndarray[tuple[int], np.dtype[np.int64]]]:
    """Batches with repeats within and across them, 0 and the extreme values."""
    rng = random.Random(seed)
    pool = [
        0,
        -1,
        1,
        -(1 << 63),
        (1 << 63) - 1,
        *(rng.randrange(-(1 << 63), 1 << 63) for _ in range(50)),
    ]
    return [
        np.array(
            [
                rng.choice(pool) if rng.random() < 0.3 else rng.randrange(-(1 << 63), 1 << 63)
                for _ in range(rng.randrange(0, 3000))
            ],
            dtype=np.int64,
        )
        for _ in range(60)
    ]


@pytest.mark.parametrize("table", [NativeTable, NumpyTable])
def test_a_fingerprint_table_is_a_set(table: type[NativeTable] | type[NumpyTable]) -> None:
    seed = random.randrange(1 << 30)
    t, ref = table(), set()
    for batch in random_batches(seed):
        expect = []
        for x in batch.tolist():
            expect.append(x not in ref)
            ref.add(x)
        assert t.add(batch).tolist() == expect, f"seed {seed}"
    assert len(t) == len(ref) and sorted(t.values().tolist()) == sorted(ref), f"seed {seed}"
    assert all(t.contains(x) for x in list(ref)[:500]) and not t.contains(12345), f"seed {seed}"


def candidates(
    fps: np.ndarray[tuple[int], np.dtype[np.int64]], words: int, seed: int
) -> tuple[bytes, bytes, bytes, bytes]:
    """An expansion's output for fps: rows (the fingerprint, then its complement), int32 parent
    indexes into a chunk of 50 states, and the chunk's fingerprints."""
    rng = np.random.default_rng(seed)
    rows = np.stack([fps.view(np.uint64), ~fps.view(np.uint64)], axis=1)[:, :words]
    parents = rng.integers(0, 50, size=len(fps), dtype=np.int32)
    own = rng.integers(-(1 << 63), (1 << 63) - 1, size=50, dtype=np.int64)
    return rows.tobytes(), fps.tobytes(), parents.tobytes(), own.tobytes()


def test_the_c_inserter_keeps_what_the_numpy_inserter_keeps() -> None:
    """The states new to the table, in generation order, with their parents' fingerprints: the
    C inserter's cache only leaves out repeats the table would refuse."""
    seed = random.randrange(1 << 30)
    words = 2
    native_table, plain_table = NativeTable(), NumpyTable()
    native = fptable.new_inserter(native_table, words)
    plain = fptable.new_inserter(plain_table, words)
    assert isinstance(native, fptable.NativeInserter)
    assert isinstance(plain, fptable.NumpyInserter)
    for k, fps in enumerate(random_batches(seed)):
        batch = candidates(fps, words, seed + k)
        got, want = native.insert(native_table, *batch), plain.insert(plain_table, *batch)
        assert got == want, f"seed {seed}"
        records = np.frombuffer(got[1], dtype=np.int64).reshape(-1, 2)
        rows = np.frombuffer(got[0], dtype=np.uint64).reshape(-1, words)
        assert (rows[:, 0] == records[:, 0].view(np.uint64)).all(), f"seed {seed}"
    assert len(native_table) == len(plain_table), f"seed {seed}"


def test_an_inserter_refuses_a_parent_outside_the_chunk() -> None:
    table = NativeTable()
    inserter = fptable.new_inserter(table, 1)
    fps = np.array([5, 6], dtype=np.int64)
    rows, fp, _, own = candidates(fps, 1, 0)
    with pytest.raises(ValueError, match="parent index outside the chunk"):
        inserter.insert(table, rows, fp, np.array([0, 50], dtype=np.int32).tobytes(), own)


def test_threads_inserting_into_one_table_keep_each_state_once() -> None:
    """Four threads, overlapping batches, the table growing meanwhile, two of them sharing an
    inserter (and its cache): every distinct fingerprint comes out new exactly once, whichever
    thread met it first."""
    seed = random.randrange(1 << 30)
    rng = np.random.default_rng(seed)
    universe = rng.integers(-(1 << 63), (1 << 63) - 1, size=400_000, dtype=np.int64)
    universe[:3] = (0, -1, 1 << 62)
    table = NativeTable()
    batches = [
        [universe[rng.integers(0, len(universe), size=20_000)] for _ in range(30)] for _ in range(4)
    ]
    out: list[list[int]] = [[] for _ in range(4)]
    shared = fptable.new_inserter(table, 1)

    def work(k: int) -> None:
        inserter = shared if k < 2 else fptable.new_inserter(table, 1)
        for j, fps in enumerate(batches[k]):
            if j % 2:  # the plain add too: both take part in the same table
                out[k] += fps[table.add(fps)].tolist()
            else:
                records = inserter.insert(table, *candidates(fps, 1, j))[1]
                out[k] += np.frombuffer(records, dtype=np.int64)[::2].tolist()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [x for part in out for x in part]
    distinct = {x for part in batches for fps in part for x in fps.tolist()}
    assert len(every) == len(set(every)) == len(distinct) == len(table), f"seed {seed}"
    assert set(every) == distinct, f"seed {seed}"
    assert sorted(table.values().tolist()) == sorted(distinct), f"seed {seed}"
