"""The deep search for violations (packed, spec/fast/_liveness.c's exact mode) against the
readable exact search it continues.

    python benchmarks/liveness_deep.py [--states 20000] [--find]

For each model, both explorations of the exact quotient (terms shifted, live terms at most 3
apart; model_check/liveness.py, no fair-cycle search on the way) expand `--states` states in
this process, stable states first, depth first (successors in a different order, so the
states seen differ); printed: states seen, CPU seconds of each and the ratio readable / packed
(above 1: the packed one is faster). With --find, the whole deep search (fair cycles on the
partial graph at each doubling) runs on full 3 with PreVote + CheckQuorum, where it finds
every property violated: its states, CPU seconds, peak RSS and lassos.
"""

from __future__ import annotations

import argparse
import resource
import time

from electorate.app import liveness_search as search
from electorate.model_check import liveness as fair
from electorate.model_check.liveness_packed import PackedExplorer
from electorate.spec.fast import liveness as fast
from electorate.spec.liveness.model import ShiftedRaftModel
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
    model = ShiftedRaftModel(p, search.SPAN)
    props = liveness_properties(p)
    if not packed:
        return fair.Explorer(model, model.key, props, model.rank, depth_first=True)  # type: ignore[arg-type]

    def pack(s: State) -> bytes:
        return fast.pack(p, s)

    quotient = fast.PackedQuotient(p, span=search.SPAN)
    return PackedExplorer(model, pack, props, quotient, depth_first=True)  # type: ignore[arg-type]


def expand(p: Params, packed: bool, states: int) -> tuple[int, float]:
    cpu = time.process_time()
    ex = explorer(p, packed)
    ex.run(states)
    return ex.g.size, time.process_time() - cpu


def find(p: Params) -> None:
    props = liveness_properties(p)
    out = search.Outcome({x.id: "undecided" for x in props}, dict.fromkeys(x.id for x in props))
    cpu = time.process_time()
    search.deep_search(
        out, p, props, ShiftedRaftModel(p, search.SPAN), search.DEEP, 0.0, None, None
    )
    seconds = time.process_time() - cpu
    (deep,) = out.searches
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{p.describe()}: deep search {deep.result.distinct:,} states "
        f"({deep.result.expanded:,} expanded), {seconds:.1f} CPU s with the replays, "
        f"peak RSS {rss:,} MB"
    )
    for pid, lasso in out.lassos.items():
        c = out.confirmations.get(pid)
        shape = "-" if lasso is None else f"{len(lasso.stem) - 1} + {len(lasso.cycle)}"
        replay = "" if c is None else f", replayed {c.replayed}, periodic {c.periodic}"
        print(f"  {pid}: {out.verdicts[pid]} ({shape}{replay})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=20_000, help="states expanded per search")
    ap.add_argument("--find", action="store_true", help="also: the deep search on full 3")
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
    if args.find:
        find(params("full", 3, "prevote,check_quorum"))


if __name__ == "__main__":
    main()
