"""`--liveness-memory` bounds the peak of the whole run: the searches stop while judging their
graph still fits, and the estimate of what judging takes is above what it takes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from electorate.app import memory
from electorate.model_check import liveness as fair
from electorate.model_check.liveness_packed import PackedExplorer
from electorate.spec.fast import liveness as fast_liveness
from electorate.spec.liveness.model import LivenessRaftModel, ShiftedRaftModel
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.next import Action
from electorate.spec.params import Params, features_named
from electorate.spec.state import State
from electorate.spec.topology import topology_from

pytestmark = pytest.mark.skipif(
    fast_liveness._MISSING is not None, reason="the packed liveness model needs its C module"
)


def _howard_prevote() -> Params:
    return dataclasses.replace(
        Params(),
        servers=5,
        topology=topology_from("howard", 5),
        randomized=True,
        features=features_named(["prevote"]),
    )


Explorer = PackedExplorer[State, Action]


def _explorer(p: Params, exact: bool) -> Explorer:
    props = liveness_properties(p)

    def pack(s: State) -> bytes:
        return fast_liveness.pack(p, s)

    if exact:
        model = ShiftedRaftModel(p, 3)
        packed = fast_liveness.PackedQuotient(p, span=3)
        return PackedExplorer(model, pack, props, packed, depth_first=True, shortest_stems=True)
    return PackedExplorer(LivenessRaftModel(p), pack, props, fast_liveness.PackedQuotient(p))


def _traced_peak(go: Callable[[], object]) -> int:
    """The most go() held at once beyond what was held before it (numpy registers its arrays
    with tracemalloc, scipy's sparse graphs are numpy arrays)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        go()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("exact", [False, True], ids=["search for holds", "depth first"])
def test_judging_takes_less_than_its_estimate(exact: bool) -> None:
    """On a partial graph of howard with PreVote (a million edges), judging every property
    holds less than the estimate's share for the graph's size, the fixed allowance left out."""
    p = _howard_prevote()
    ex = _explorer(p, exact)
    ex.run(60_000)
    props = liveness_properties(p)
    pending = list(zip(props, fair._layout(props), strict=True))
    lassos: dict[str, fair.Lasso[State, Action] | None] = {}
    peak = _traced_peak(lambda: fair._judge(ex, pending, lassos, None))
    need = ex.judging_need() - fair.JUDGE_FIXED
    assert len(ex.g.targets) > 400_000
    assert 0.3 * need < peak <= need, (peak, need)


def test_a_lasso_takes_less_than_its_estimate() -> None:
    """Building the split-vote lasso (2 servers, no randomized timeouts) through the whole
    graph's component: less than `lasso_need` for that component."""
    p = dataclasses.replace(
        Params(), servers=2, topology=topology_from("full", 2), randomized=False
    )
    ex = _explorer(p, exact=False)
    ex.run(-1)
    props = [x for x in liveness_properties(p) if x.id == "EventuallyLeader"]
    bits = fair._layout(props)[0][0]
    cycles = ex.cycles()
    found = cycles.find(bits)
    assert found is not None
    comp, _ = found
    need = ex.lasso_need(cycles, comp) - fair.JUDGE_FIXED

    def build() -> None:
        edges = cycles.cycle(comp, bits, int(comp.min()))
        ex.lasso(cycles, props[0], props[0].queries[0], int(comp.min()), edges)

    peak = _traced_peak(build)
    assert 0 < peak <= need, (peak, need)


# Runs the command in argv[2:] and writes its peak RSS (KiB) to the file argv[1]. Measured
# from a small process: a child's ru_maxrss starts at its parent's peak RSS when it execs
# (Linux keeps the old memory's high-water mark; subprocess uses vfork), which for a test
# session that ran big searches is far above what the child itself ever held.
_MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(proc.returncode)
"""


def test_a_view_caught_in_a_reference_cycle_does_not_stop_the_graph_growing() -> None:
    """A judging's view of the graph's arrays that outlives it (held by a reference cycle)
    would make the next append raise BufferError; `_growable` collects it."""
    g = fair.Graph()
    g.sources.append(1)

    class Holder:
        pass

    h = Holder()
    h.view, h.me = np.frombuffer(g.sources, dtype=np.int64), h  # type: ignore[attr-defined]
    del h
    fair._growable(g)
    g.sources.append(2)
    assert g.sources.tolist() == [1, 2]


def _peak_rss(args: list[str], tmp: Path) -> tuple[int, int, str]:
    """(exit code, peak RSS in bytes, stdout) of `python args`."""
    kib = tmp / "maxrss"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(kib), sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    return done.returncode, int(kib.read_text()) * 1024, done.stdout


@pytest.mark.timeout(600)
def test_the_peak_of_a_whole_run_stays_within_the_budget(tmp_path: Path) -> None:
    """Full 3 (classic): its graphs are far beyond 0.3 GiB. Under that budget the run stops a
    search while judging its graph still fits, judges it, and reports every property
    undecided (exit 1, "stopped": "memory budget"). The peak RSS of the whole process stays
    within the budget; the interpreter with the checker imported (measured here) is part of
    it."""
    gib = 0.3
    _, base, _ = _peak_rss(["-c", "import electorate.app.liveness"], tmp_path)
    run = ["-m", "electorate", "check", "--liveness", "--servers", "3"]
    code, peak, out = _peak_rss([*run, "--liveness-memory", str(gib), "--json"], tmp_path)
    doc = json.loads(out)
    assert code == 1
    assert doc["stopped"] == "memory budget"
    assert {v["result"] for v in doc["properties"].values()} == {"undecided"}
    stopped = [x for x in doc["searches"] if x["stopped_by_memory_budget"]]
    assert len(stopped) == 1 and not stopped[0]["complete_graph"]
    assert stopped[0] is doc["searches"][-1]  # no search follows the stop
    budget = int(gib * memory.GIB)
    print(f"peak RSS {peak >> 20} MiB, budget {budget >> 20} MiB, interpreter {base >> 20} MiB")
    assert base < peak <= budget
