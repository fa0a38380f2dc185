"""The searches behind `electorate check --liveness`, and the verdict each property gets.

1. Violations, on the fly, in the exact model (spec/liveness/model.py, ShiftedRaftModel):
   terms shifted so the smallest is 1 (exact: every cycle is a concrete behaviour that repeats
   with its terms shifted), states with live terms more than SPAN apart cut (their actions
   still count as enabled), stable states first, depth first (long paths close cycles early),
   the fair-cycle search run on the partial graph at each doubling, at most BUDGET states
   expanded. A fair violating cycle found here is a violation, replayed concretely. If the
   bounded graph is explored to its end and nothing was cut, it is the whole model: a property
   without a lasso holds.
   Deep: where the C module covers the model (spec/fast/_liveness.c), the same search goes on
   for the properties left open on packed states of the same exact quotient, up to DEEP
   states expanded (a violation may need millions of states: the lassos of howard and full 3
   with PreVote), its lassos' stems shortest paths of the graph it explored, each lasso
   replayed in the readable model and then concretely like the others.
   Before the deep search, the same packed search runs in sub-models (app/liveness_hunt.py:
   at most 4, then 3, then 5 messages in flight), up to HUNT states each: fewer interleavings,
   so it reaches lassos the deep search's 3 million states do not (howard and full 3 with
   PreVote + CheckQuorum). A step outside the sub-model counts as enabled where it was, as a
   cut does, so a cycle found there is fair in the whole model; never a "holds".
   Every lasso's fairness is judged once more from the whole model's own successors
   (model_check.liveness.unfair_instances) before it is called a violation.
2. Holds, on the finite quotient (LivenessRaftModel: term gaps capped), breadth first, for the
   properties the first search left open: it over-approximates, so no fair violating cycle
   there means the property holds; a lasso found there is replayed concretely before it is
   called a violation ("violated (unconfirmed)" otherwise). With `symmetry` (the default) it
   expands one state per orbit of the topology's automorphisms and judges fairness on the
   unfolded graph, which is exact for the whole quotient (model_check/liveness_symmetry.py).
   With `fast` (the default where it covers the model) it expands packed states with the C
   successor function of spec/fast/_liveness.c instead (every state, no symmetry): the same
   graph up to parallel edges, several times faster (tests/spec/test_fast_liveness.py holds
   the two to the same successors).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from electorate.app.liveness_hunt import SUBMODELS, restriction
from electorate.model_check import liveness as fair
from electorate.model_check.liveness_packed import PackedExplorer, Restriction
from electorate.model_check.liveness_symmetry import check_symmetric
from electorate.spec.fast import liveness as fast_liveness
from electorate.spec.liveness import quotient
from electorate.spec.liveness.model import (
    Confirmation,
    LivenessRaftModel,
    ShiftedRaftModel,
    confirm,
)
from electorate.spec.next import Action
from electorate.spec.params import Params
from electorate.spec.state import State

LassoT = fair.Lasso[State, Action]
Progress = Callable[[int, int, float], None] | None

SPAN: Final = 3  # the exact search keeps live terms at most this far apart
BUDGET: Final = 50_000  # states the exact search expands at most
DEEP: Final = 3_000_000  # states the deep search (packed, exact) expands at most
HUNTS: Final = ("msgs-4", "msgs-3", "msgs-5")  # the sub-models searched, in this order
HUNT: Final = 1_000_000  # states each sub-model's search expands at most
FIRST: Final = 2_000  # expanded states before the first search on a partial graph


@dataclass
class Search:
    """One search: which graph, its result, the CPU seconds it took."""

    name: str
    graph: str
    result: fair.LivenessResult[State, Action]
    cpu_seconds: float


@dataclass
class Outcome:
    verdicts: dict[str, str]
    lassos: dict[str, LassoT | None]
    confirmations: dict[str, Confirmation] = field(default_factory=dict)
    found_by: dict[str, str] = field(default_factory=dict)
    searches: list[Search] = field(default_factory=list)


def run(
    p: Params,
    props: Sequence[fair.LiveProperty[State, Action]],
    progress: Progress = None,
    span: int = SPAN,
    budget: int = BUDGET,
    seconds: float = 0.0,
    symmetry: bool = True,
    stop: Callable[[], bool] | None = None,
    fast: bool | None = None,
    deep: int = DEEP,
    hunts: Sequence[str] = HUNTS,
    hunt: int = HUNT,
    memory: fair.MemoryBound | None = None,
) -> Outcome:
    """Both searches; each property's verdict and lasso (its concrete replay beside it). Each
    search stops after `seconds` (0: no limit): a property not decided by then is
    "undecided", never "holds". `symmetry`: the search for holds expands one state per orbit
    of the topology's automorphisms (when it has more than the identity). Once `stop()` says
    so (a signal), the search under way judges the graph it has and none follows. `fast`:
    the search for holds on packed states in C (None: where it covers the model, else the
    readable spec; True: ValueError where it does not, see `packed_reason`), and the deep
    search for violations before it, expanding at most `deep` states (0: none), and before
    that the searches of the sub-models `hunts` (app/liveness_hunt.py), at most `hunt` states
    each (0: none). `memory`: a bound on the process's memory (app/memory.py): a search
    stops while judging its graph still fits in it, and none follows (`stop()` should say so
    once the bound is reached)."""
    out = Outcome({prop.id: "undecided" for prop in props}, dict.fromkeys(x.id for x in props))
    exact = ShiftedRaftModel(p, span)
    first = _search(
        out,
        "exact",
        f"terms shifted (exact), live terms at most {span} apart, depth first, "
        f"at most {budget:,} states expanded",
        lambda: fair.check(
            exact,
            exact.key,
            props,
            progress,
            rank=exact.rank,
            on_the_fly=FIRST,
            depth_first=True,
            budget=budget,
            seconds=seconds,
            stop=stop,
            memory=memory,
        ),
    )
    whole = first.complete and not first.vacuous
    for pid, lasso in first.lassos.items():
        if lasso is not None:
            _found(out, p, pid, lasso, "exact")
        elif whole:
            out.verdicts[pid] = "holds"
    rest = [prop for prop in props if out.verdicts[prop.id] == "undecided"]
    if not rest or (stop is not None and stop()):
        return out
    why = fast_liveness.not_covered(p)
    if fast and why is not None:
        raise ValueError(why)
    if fast is not False and why is None and hunt and not first.complete:
        for name in hunts:
            deep_search(
                out,
                p,
                rest,
                exact,
                hunt,
                seconds,
                progress,
                stop,
                name=f"hunt {name}",
                restrict=restriction(p, name),
                what=f"sub-model {name}: {SUBMODELS.get(name, name)}",
                memory=memory,
            )
            rest = [prop for prop in props if out.verdicts[prop.id] == "undecided"]
            if not rest or (stop is not None and stop()):
                return out
    if fast is not False and why is None and deep and not first.complete:
        deep_search(out, p, rest, exact, deep, seconds, progress, stop, memory=memory)
        rest = [prop for prop in props if out.verdicts[prop.id] == "undecided"]
        if not rest or (stop is not None and stop()):
            return out
    model = LivenessRaftModel(p)
    group = len(model.automorphisms()) if symmetry else 1
    graph = f"term gaps capped at {quotient.GAP} (over-approximation), breadth first, whole graph"
    if fast is not False and why is None:

        def pack(s: State) -> bytes:
            return fast_liveness.pack(p, s)

        ex = PackedExplorer(model, pack, rest, fast_liveness.PackedQuotient(p))
        second = _search(
            out,
            "quotient",
            f"{graph}, every state, packed successors in C (spec/fast/_liveness.c)",
            lambda: fair.check(
                model,
                pack,
                rest,
                progress,
                on_the_fly=FIRST,
                seconds=seconds,
                explorer=ex,
                stop=stop,
                memory=memory,
            ),
        )
    elif group > 1:
        second = _search(
            out,
            "quotient",
            f"{graph}, one state per orbit of the topology's {group} automorphisms "
            "(fairness judged on the unfolded graph: exact)",
            lambda: check_symmetric(
                model,
                model.key,
                rest,
                progress,
                model.rank,
                on_the_fly=FIRST,
                seconds=seconds,
                stop=stop,
                memory=memory,
            ),
        )
    else:
        second = _search(
            out,
            "quotient",
            graph,
            lambda: fair.check(
                model,
                model.key,
                rest,
                progress,
                rank=model.rank,
                on_the_fly=FIRST,
                seconds=seconds,
                stop=stop,
                memory=memory,
            ),
        )
    for pid, lasso in second.lassos.items():
        if lasso is not None:
            _found(out, p, pid, lasso, "quotient")
        elif second.complete:
            out.verdicts[pid] = "inconclusive" if second.vacuous else "holds"
    return out


def deep_search(
    out: Outcome,
    p: Params,
    props: Sequence[fair.LiveProperty[State, Action]],
    exact: ShiftedRaftModel,
    deep: int,
    seconds: float,
    progress: Progress,
    stop: Callable[[], bool] | None,
    name: str = "deep",
    restrict: Restriction | None = None,
    seed: int | None = None,
    what: str = "",
    memory: fair.MemoryBound | None = None,
) -> None:
    """The search for violations on packed states of the exact quotient (module docstring);
    with `restrict`, in a sub-model (liveness_packed.Restriction: its steps outside count as
    enabled, so fairness is the whole model's), never deciding "holds"; with `seed`, each
    state's successors in a seeded random order. `what` says which sub-model and order."""

    def pack(s: State) -> bytes:
        return fast_liveness.pack(p, s)

    packed = fast_liveness.PackedQuotient(p, span=exact.span)
    ex = PackedExplorer(
        exact,
        pack,
        props,
        packed,
        depth_first=True,
        shortest_stems=True,
        restrict=restrict,
        seed=seed,
    )
    result = _search(
        out,
        name,
        f"terms shifted (exact), live terms at most {exact.span} apart, depth first, "
        f"packed successors in C (spec/fast/_liveness.c), at most {deep:,} states expanded"
        + (f"; {what}" if what else ""),
        lambda: fair.check(
            exact,
            pack,
            props,
            progress,
            on_the_fly=FIRST,
            budget=deep,
            seconds=seconds,
            explorer=ex,
            stop=stop,
            memory=memory,
        ),
    )
    whole = result.complete and not result.vacuous and restrict is None
    for pid, lasso in result.lassos.items():
        if lasso is not None:
            _found(out, p, pid, lasso, name)
        elif whole:
            out.verdicts[pid] = "holds"


def _search(
    out: Outcome,
    name: str,
    graph: str,
    go: Callable[[], fair.LivenessResult[State, Action]],
) -> fair.LivenessResult[State, Action]:
    cpu = time.process_time()
    result = go()
    out.searches.append(Search(name, graph, result, time.process_time() - cpu))
    return result


def lasso_states(by: str) -> Callable[[State], State]:
    """The quotient a lasso found by search `by` lives in: the exact one (terms shifted) for
    the exact and deep searches, the capped one for the search for holds."""
    return quotient.normalise if by == "quotient" else quotient.lowest


def _found(
    out: Outcome,
    p: Params,
    pid: str,
    lasso: LassoT,
    by: str,
) -> None:
    c = confirm(p, lasso, normalise=lasso_states(by))
    whole = LivenessRaftModel(p) if by == "quotient" else ShiftedRaftModel(p)
    bad = tuple(repr(x) for x in fair.unfair_instances(whole, lasso))
    if bad:  # a search's bug, never a violation: say so
        c = dataclasses.replace(
            c, unfair=bad, reason=f"unfair in the whole model: {', '.join(bad)} never taken"
        )
    out.lassos[pid], out.confirmations[pid], out.found_by[pid] = lasso, c, by
    out.verdicts[pid] = "violated" if c.replayed and not bad else "violated (unconfirmed)"
