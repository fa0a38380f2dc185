"""The fast engine against the reference search: same counts, same shortest traces; workers,
stop requests, checkpoints, simulation and the fingerprint table."""

from __future__ import annotations

import dataclasses
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from electorate.model_check import engine
from electorate.model_check.engine import EngineError, Options, StopFlag, WorkerError
from electorate.model_check.fptable import FpTable
from electorate.model_check.search import Progress, Search
from electorate.model_check.simulate import simulate
from electorate.spec.bugs import BUGS
from electorate.spec.ids import BugId
from electorate.spec.model import RaftModel
from electorate.spec.params import Params

MODELS = [
    (Params(servers=2), False),
    (Params(servers=2), True),
    (Params(servers=2, profile="heartbeat"), True),
    (Params(servers=2, profile="log", values=1), False),
    (Params(servers=2, features=frozenset({"prevote", "check_quorum"})), False),
]
BUG_NAMES: list[BugId] = [
    "quorum-half",
    "vote-twice",
    "forget-vote-on-restart",
    "stale-votes-counted",
]


@pytest.mark.parametrize(("params", "sym"), MODELS)
@pytest.mark.parametrize("workers", [1, 2])
def test_engine_counts_equal_the_reference(params: Params, sym: bool, workers: int) -> None:
    ref = Search(RaftModel(params), sym).run()
    fast = engine.check(RaftModel(params), sym, Options(workers=workers))
    assert (fast.distinct, fast.generated, fast.depth) == (ref.distinct, ref.generated, ref.depth)
    assert fast.sometimes == ref.sometimes and fast.violation is None


@pytest.mark.parametrize("name", BUG_NAMES)
def test_one_worker_finds_the_reference_trace(name: BugId) -> None:
    p = Params(bug=name, **BUGS[name].overrides)
    ref = Search(RaftModel(p)).run()
    fast = engine.check(RaftModel(p), True, Options(workers=1))
    assert ref.violation is not None and fast.violation is not None
    assert fast.violation.invariant == ref.violation.invariant
    assert fast.violation.trace == ref.violation.trace


@pytest.mark.parametrize("name", BUG_NAMES)
def test_two_workers_find_a_shortest_trace(name: BugId) -> None:
    p = Params(bug=name, **BUGS[name].overrides)
    ref = Search(RaftModel(p)).run()
    fast = engine.check(RaftModel(p), True, Options(workers=2))
    assert ref.violation is not None and fast.violation is not None
    assert len(fast.violation.trace) == len(ref.violation.trace) == fast.depth
    model = RaftModel(p)
    for (_, before), (action, after) in itertools.pairwise(fast.violation.trace):
        assert (action, after) in list(model.successors(before))
    assert not next(i for i in model.invariants if i.id == fast.violation.invariant).holds(
        fast.violation.trace[-1][1]
    )


def test_max_depth_bounds_both_searches_alike() -> None:
    p = Params(servers=3)
    ref = Search(RaftModel(p), True).run(max_depth=9)
    for workers in (1, 2):
        fast = engine.check(RaftModel(p), True, Options(workers=workers, max_depth=9))
        assert (fast.distinct, fast.generated, fast.depth, fast.unexplored) == (
            ref.distinct,
            ref.generated,
            ref.depth,
            ref.unexplored,
        )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stop_request_ends_the_run_with_partial_figures(workers: int) -> None:
    stop = StopFlag()

    def progress(p: Progress) -> None:
        if p.distinct > 2000:
            stop.requested = True

    opts = Options(workers=workers, progress=progress, every=0.0, stop=stop)
    r = engine.check(RaftModel(Params(servers=3)), False, opts)
    assert r.interrupted and r.violation is None
    assert 2000 < r.distinct < 535_491 and r.generated > r.distinct and r.unexplored > 0


@pytest.mark.parametrize("workers", [1, 2])
def test_resume_reaches_the_uninterrupted_figures(workers: int, tmp_path: Path) -> None:
    p = Params(servers=2, profile="heartbeat")
    whole = engine.check(RaftModel(p), False, Options(workers=workers))
    first = Options(workers=workers, max_depth=8, checkpoint=tmp_path, checkpoint_every=0)
    part = engine.check(RaftModel(p), False, first)
    assert part.depth == 8 and part.unexplored > 0
    rest = engine.check(RaftModel(p), False, Options(workers=workers, resume=tmp_path))
    assert (rest.distinct, rest.generated, rest.depth) == (
        whole.distinct,
        whole.generated,
        whole.depth,
    )
    assert rest.sometimes == whole.sometimes


@pytest.mark.parametrize("workers", [1, 2])
def test_an_interrupted_run_resumes_to_the_same_figures(workers: int, tmp_path: Path) -> None:
    p = Params(servers=3)
    whole = engine.check(RaftModel(p), True, Options(workers=workers, max_depth=14))
    stop = StopFlag()

    def progress(pr: Progress) -> None:
        if pr.depth >= 9:
            stop.requested = True  # mid-level: the checkpoint of a finished level stands

    first = Options(
        workers=workers,
        progress=progress,
        every=0.0,
        stop=stop,
        checkpoint=tmp_path,
        checkpoint_every=0,
    )
    part = engine.check(RaftModel(p), True, first)
    assert part.interrupted and part.depth >= 9
    rest = engine.check(RaftModel(p), True, Options(workers=workers, max_depth=14, resume=tmp_path))
    assert (rest.distinct, rest.generated, rest.depth, rest.unexplored) == (
        whole.distinct,
        whole.generated,
        whole.depth,
        whole.unexplored,
    )


def test_resume_refuses_another_model_or_worker_count(tmp_path: Path) -> None:
    first = Options(max_depth=3, checkpoint=tmp_path, checkpoint_every=0, model_id="A")
    engine.check(RaftModel(Params(servers=2)), True, first)
    with pytest.raises(EngineError, match="of another model"):
        engine.check(RaftModel(Params(servers=2)), True, Options(resume=tmp_path, model_id="B"))
    with pytest.raises(EngineError, match="written with --workers 1"):
        engine.check(
            RaftModel(Params(servers=2)), True, Options(workers=2, resume=tmp_path, model_id="A")
        )
    with pytest.raises(EngineError, match="already holds a checkpoint"):
        engine.check(RaftModel(Params(servers=2)), True, Options(checkpoint=tmp_path))
    with pytest.raises(EngineError, match="no checkpoint in"):
        engine.check(RaftModel(Params(servers=2)), True, Options(resume=tmp_path / "none"))


def test_simulation_finds_the_quorum_half_split_brain_and_replays_by_seed() -> None:
    p = Params(bug="quorum-half", **BUGS["quorum-half"].overrides)
    seed = random.randrange(1 << 32)
    a = simulate(RaftModel(p), depth=40, seed=seed, seconds=60)
    assert a.violation is not None, f"seed {seed}"
    assert a.violation.invariant == "ElectionSafety"
    b = simulate(RaftModel(p), depth=40, seed=seed, seconds=60)
    assert b.violation is not None and b.violation.trace == a.violation.trace, f"seed {seed}"
    assert b.behaviours == a.behaviours


@pytest.mark.parametrize(
    ("bug", "servers"),
    [
        ("quorum-half", 4),  # on 5 servers "at least half" is a majority: nothing to find
        ("no-prevote-disruption", 5),
        ("prevote-bumps-term", 5),
        ("no-check-quorum-zombie", 5),
    ],
)
def test_simulation_finds_the_variants_on_big_clusters_within_a_minute(
    bug: BugId, servers: int
) -> None:
    p = dataclasses.replace(Params(bug=bug, **BUGS[bug].overrides), servers=servers)
    seed = random.randrange(1 << 32)
    r = simulate(RaftModel(p), depth=100, seed=seed, seconds=60)
    assert r.violation is not None, f"{bug}: nothing in {r.behaviours} behaviours, seed {seed}"
    assert r.violation.invariant == BUGS[bug].breaks, f"seed {seed}"


def test_simulation_of_a_correct_model_finds_nothing() -> None:
    r = simulate(RaftModel(Params(servers=3)), depth=30, seed=7, behaviours=50)
    assert r.violation is None and r.behaviours == 50 and r.states > 50
    with pytest.raises(ValueError, match="depth must be >= 1"):
        simulate(RaftModel(Params(servers=3)), depth=0, seed=7, behaviours=1)


def test_fingerprint_table_is_a_set() -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    table, ref = FpTable(16), set()
    for _ in range(100):
        pool = [rng.randrange(-(1 << 63), 1 << 63), rng.randrange(-40, 40), 0]
        batch = list(
            {
                rng.choice(pool) if rng.random() < 0.3 else rng.randrange(-9, 9)
                for _ in range(rng.randrange(1, 500))
            }
        )
        new = table.add(np.array(batch, dtype=np.int64))
        assert new.tolist() == [x not in ref for x in batch], f"seed {seed}"
        ref.update(batch)
    assert len(table) == len(ref) and sorted(table.values().tolist()) == sorted(ref)
    assert all(table.contains(x) for x in ref) and not table.contains(1 << 62)


def test_the_generic_checker_imports_nothing_of_the_spec() -> None:
    code = (
        "import sys\n"
        "import electorate.model_check.engine, electorate.model_check.search\n"
        "import electorate.model_check.simulate, electorate.model_check.trace\n"
        "print(sorted(m for m in sys.modules if m.startswith('electorate.spec')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
    sources = Path(engine.__file__).parent.glob("*.py")
    assert not [f.name for f in sources if "electorate.spec" in f.read_text()]


def test_a_dead_worker_fails_the_run_and_leaves_no_other_behind() -> None:
    """The readable path's workers are processes (the packed path's are threads)."""
    killed: list[int] = []

    def progress(p: Progress) -> None:
        if not killed and p.distinct > 1000:
            kids = [
                int(c)
                for c in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
                .read_text()
                .split()
            ]
            os.kill(kids[0], signal.SIGKILL)
            killed.extend(kids)

    opts = Options(workers=2, progress=progress, every=0.0, fast=False)
    with pytest.raises(WorkerError, match="a worker process died"):
        engine.check(RaftModel(Params(servers=3)), False, opts)
    assert len(killed) == 2
    time.sleep(0.2)
    assert not [k for k in killed if Path(f"/proc/{k}").exists()]
