"""The search for holds on packed states (spec/fast/_liveness.c) against the readable one.

    python benchmarks/liveness_packed.py [--states 20000] [--whole]

For each model, both explorations of the capped quotient (model_check/liveness.py, no fair-cycle
search on the way) expand `--states` states in this process, stable states first, breadth first
(successors in a different order, so the states seen differ slightly); printed: states seen,
CPU seconds of each and the ratio readable / packed (above 1: the packed one is faster). With
--whole, the packed search for holds also runs to the end of the graph of the two-server models
with PreVote (every property), with its verdicts, states and CPU seconds.
"""

from __future__ import annotations

import argparse
import resource
import time

from electorate.model_check import liveness as fair
from electorate.model_check.liveness_packed import PackedExplorer
from electorate.spec.fast import liveness as fast
from electorate.spec.liveness.model import LivenessRaftModel
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.params import Params
from electorate.spec.state import State
from electorate.spec.topology import topology_from

MODELS = [
    ("full", 3, ""),
    ("full", 3, "prevote,check_quorum"),
    ("howard", 5, ""),
    ("howard", 5, "prevote,check_quorum"),
]


def params(topology: str, n: int, features: str) -> Params:
    chosen = frozenset(f for f in features.split(",") if f)
    return Params(servers=n, topology=topology_from(topology, n), features=chosen)  # type: ignore[arg-type]


def explorer(p: Params, packed: bool) -> fair.Explorer[State, object]:
    model = LivenessRaftModel(p)
    props = liveness_properties(p)
    if not packed:
        return fair.Explorer(model, model.key, props, model.rank)  # type: ignore[arg-type]

    def pack(s: State) -> bytes:
        return fast.pack(p, s)

    return PackedExplorer(model, pack, props, fast.PackedQuotient(p))  # type: ignore[arg-type]


def expand(p: Params, packed: bool, states: int) -> tuple[int, float]:
    cpu = time.process_time()
    ex = explorer(p, packed)
    ex.run(states)
    return ex.g.size, time.process_time() - cpu


def whole(p: Params) -> None:
    model = LivenessRaftModel(p)
    props = liveness_properties(p)

    def pack(s: State) -> bytes:
        return fast.pack(p, s)

    cpu = time.process_time()
    ex = PackedExplorer(model, pack, props, fast.PackedQuotient(p))
    r = fair.check(model, pack, props, on_the_fly=2000, explorer=ex)
    seconds = time.process_time() - cpu
    verdicts = {
        k: "violated" if v else "holds" if r.complete else "undecided" for k, v in r.lassos.items()
    }
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{p.describe()}: {r.distinct:,} states, {seconds:.1f} CPU s, "
        f"peak RSS {rss:,} MB: {verdicts}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=20_000, help="states expanded per search")
    ap.add_argument("--whole", action="store_true", help="also: whole two-server graphs")
    args = ap.parse_args()
    print(f"{'model':<34} {'readable':>20} {'packed':>20} {'cpu x':>7}")
    for topology, n, features in MODELS:
        p = params(topology, n, features)
        seen, slow = expand(p, False, args.states)
        seen_packed, quick = expand(p, True, args.states)
        name = f"{topology} {n} {features or 'classic'}"
        print(
            f"{name:<34} {seen:>10,} {slow:>7.1f} s {seen_packed:>10,} {quick:>7.1f} s "
            f"{slow / quick:>7.2f}"
        )
    print(f"{args.states:,} states expanded by each search, CPU seconds, one process")
    if args.whole:
        for features in ("prevote", "prevote,check_quorum"):
            whole(params("full", 2, features))


if __name__ == "__main__":
    main()
