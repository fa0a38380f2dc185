"""The searches for violations in sub-models (app/liveness_hunt.py) against the deep search on
the whole exact quotient, on the models the deep search leaves open.

    python benchmarks/liveness_hunt.py [--states 1000000] [--models howard-pcq,full3-pcq]
                                       [--submodels none,msgs-4,msgs-3,msgs-5] [--seed N]

For each model and each sub-model ("none": the deep search's own graph), the packed search
for violations (depth first, stable states first, fair cycles at each doubling) runs in this
process, one after the other, up to --states states expanded: printed are the states seen
and expanded, CPU seconds (with the lassos' replays), and each property's verdict with its
lasso's shape (stem + cycle). --seed shuffles each state's successors with a seeded random
generator (printed; none: the C module's order).
"""

from __future__ import annotations

import argparse
import time

from electorate.app import liveness_search as search
from electorate.app.liveness_hunt import restriction
from electorate.spec.liveness.model import ShiftedRaftModel
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.params import Params
from electorate.spec.topology import topology_from

MODELS = {
    "howard-pcq": ("howard", 5, "prevote,check_quorum"),
    "howard-prevote": ("howard", 5, "prevote"),
    "howard-classic": ("howard", 5, ""),
    "full3-pcq": ("full", 3, "prevote,check_quorum"),
    "full3-classic": ("full", 3, ""),
    "full3-prevote": ("full", 3, "prevote"),
    "star-prevote": ("star", 5, "prevote"),
    "star-pcq": ("star", 5, "prevote,check_quorum"),
    "bridge-prevote": ("bridge", 5, "prevote"),
    "bridge-pcq": ("bridge", 5, "prevote,check_quorum"),
}


def params(topology: str, n: int, features: str) -> Params:
    chosen = frozenset(f for f in features.split(",") if f)
    return Params(servers=n, topology=topology_from(topology, n), features=chosen)  # type: ignore[arg-type]


def hunt(p: Params, sub: str, states: int, seed: int | None) -> str:
    props = liveness_properties(p)
    out = search.Outcome({x.id: "undecided" for x in props}, dict.fromkeys(x.id for x in props))
    cpu = time.process_time()
    search.deep_search(
        out,
        p,
        props,
        ShiftedRaftModel(p, search.SPAN),
        states,
        0.0,
        None,
        None,
        name="hunt",
        restrict=None if sub == "none" else restriction(p, sub),
        seed=seed,
    )
    seconds = time.process_time() - cpu
    (r,) = (x.result for x in out.searches)
    found = []
    for pid, lasso in out.lassos.items():
        shape = "-" if lasso is None else f"{len(lasso.stem) - 1} + {len(lasso.cycle)}"
        found.append(f"{pid} {out.verdicts[pid]} ({shape})")
    return f"{r.distinct:>10,} {r.expanded:>10,} {seconds:>8.1f}  " + "; ".join(found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=1_000_000, help="states expanded per search")
    ap.add_argument("--models", default="howard-pcq,full3-pcq", help=", ".join(MODELS))
    ap.add_argument("--submodels", default="none,msgs-4,msgs-3,msgs-5")
    ap.add_argument("--seed", type=int, default=None, help="shuffle successors (seeded)")
    args = ap.parse_args()
    print(f"seed: {args.seed}; at most {args.states:,} states expanded a search; CPU seconds")
    print(f"{'model':<16} {'sub-model':<10} {'seen':>10} {'expanded':>10} {'CPU s':>8}  verdicts")
    for name in args.models.split(","):
        p = params(*MODELS[name])
        for sub in args.submodels.split(","):
            print(f"{name:<16} {sub:<10} {hunt(p, sub, args.states, args.seed)}", flush=True)


if __name__ == "__main__":
    main()
