"""The search on packed states against the readable one, and the C modules against their numpy
fallbacks: the same counts on every path, a path chosen and named honestly, and the C
fingerprint set and router agreeing with the numpy ones batch by batch."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from electorate.app.check import main
from electorate.model_check import engine, fptable
from electorate.model_check.engine import EngineError, Options
from electorate.model_check.fptable import NativeRouter, NativeTable, NumpyRouter, NumpyTable
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
def test_the_packed_path_runs_on_the_numpy_table_and_router(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Params(servers=2, max_term=3, max_msgs=2)
    whole = engine.check(RaftModel(p), True, Options(workers=workers))
    monkeypatch.setattr(fptable, "FpSet", None)
    monkeypatch.setattr(fptable, "Router", None)
    assert isinstance(fptable.new_table(), NumpyTable)
    numpy_run = engine.check(RaftModel(p), True, Options(workers=workers))
    assert numpy_run.successors == "packed"
    assert (numpy_run.distinct, numpy_run.generated) == (whole.distinct, whole.generated)


def test_without_the_c_modules_the_readable_path_runs_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fptable, "FpSet", None)
    monkeypatch.setattr(fptable, "Router", None)
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


@pytest.mark.parametrize("count", [1, 2, 3])
def test_the_c_router_sends_what_the_numpy_router_sends_less_repeats(count: int) -> None:
    """Each owner gets its candidates in generation order, the first of each fingerprint; the C
    router also leaves out some it sent in an earlier round (never one it did not send)."""
    seed = random.randrange(1 << 30)
    words = 2
    native, plain = NativeRouter(count, words), NumpyRouter(count, words)
    sent: list[set[int]] = [set() for _ in range(count)]
    for fps in random_batches(seed):
        rows = np.stack([fps.view(np.uint64), ~fps.view(np.uint64)], axis=1)
        parents = fps[::-1].copy()
        got, want = native.route(rows, fps, parents), plain.route(rows, fps, parents)
        for o in range(count):
            k = len(want[o]) // (8 * (words + 2))
            want_fps = np.frombuffer(want[o], dtype=np.int64, offset=8 * k * words, count=k)
            assert all(fptable.owner(int(fp), count) == o for fp in want_fps), f"seed {seed}"
            kept = [x for x in want_fps.tolist() if x not in sent[o]]
            n = len(got[o]) // (8 * (words + 2))
            got_rows = np.frombuffer(got[o], dtype=np.uint64, count=n * words).reshape(n, words)
            got_fps = np.frombuffer(got[o], dtype=np.int64, offset=8 * n * words, count=n)
            assert (got_rows[:, 0] == got_fps.view(np.uint64)).all(), f"seed {seed}"
            # everything not sent before is sent, first occurrences in order (a repeat the
            # cache forgot may follow; the owner's table drops it)
            fresh = list(dict.fromkeys(x for x in got_fps.tolist() if x not in sent[o]))
            assert fresh == kept, f"seed {seed}"
            assert set(got_fps.tolist()) <= set(want_fps.tolist()), f"seed {seed}"
            sent[o].update(got_fps.tolist())
