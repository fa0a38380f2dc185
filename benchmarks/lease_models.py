"""What benchmarks/relative_time.py and benchmarks/reduce.py share: the lease models they
compare and a CPU-time measurement of one complete check."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from electorate.app.api import check
from electorate.spec.params import Params

MODELS = {
    "lease": frozenset({"lease"}),
    "prevote, check_quorum, lease": frozenset({"prevote", "check_quorum", "lease"}),
}


def cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def measure(p: Params) -> tuple[int, float]:
    """Distinct states and CPU seconds of a check that must pass, none vacuously."""
    start = cpu()
    r = check(p)
    assert r.result == "ok" and not r.vacuous, (p.describe(), r.result, r.vacuous)
    return r.distinct_states, cpu() - start
