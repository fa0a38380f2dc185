"""Check a Raft model by parameters: the glue between spec/ and the generic checker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from electorate.model_check.search import ProgressFn, SearchResult
from electorate.model_check.search import check as search
from electorate.spec.model import RaftModel
from electorate.spec.params import Params


@dataclass
class CheckResult:
    """What `electorate check --json` prints (see `to_json`)."""

    params: Params
    symmetry: bool
    search: SearchResult[Any, Any]
    model: RaftModel

    @property
    def result(self) -> str:
        if self.model.witness is not None:
            return "witness" if self.search.violation else "unreachable"
        if self.search.violation:
            return "violation"
        return "bounded" if self.search.unexplored else "ok"

    @property
    def distinct_states(self) -> int:
        return self.search.distinct

    @property
    def states_generated(self) -> int:
        return self.search.generated

    @property
    def depth(self) -> int:
        return self.search.depth

    @property
    def vacuous(self) -> list[str]:
        """ "Sometimes" properties never reached (a passing but vacuous model)."""
        return [k for k, reached in self.search.sometimes.items() if not reached]

    def to_json(self) -> dict[str, Any]:
        from electorate.model_check import trace

        p = self.params
        out: dict[str, Any] = {
            "result": self.result,
            "distinct_states": self.distinct_states,
            "states_generated": self.states_generated,
            "depth": self.depth,
            "seconds": round(self.search.seconds, 3),
            "params": {
                "servers": p.servers,
                "profile": p.profile,
                "max_term": p.max_term,
                "max_msgs": p.max_msgs,
                "max_log": p.max_log,
                "values": p.values,
                "bug": p.bug,
                "features": sorted(p.features),
                "symmetry": self.symmetry,
                "workers": self.search.workers,
            },
            "invariants": [inv.id for inv in self.model.invariants],
            "sometimes": self.search.sometimes,
            "bytes_per_state": round(self.search.bytes_per_state, 1),
            "unexplored": self.search.unexplored,
        }
        v = self.search.violation
        if v is not None:
            out["witness" if self.model.witness else "violation"] = {
                "invariant": v.invariant,
                "description": v.description,
                "trace": trace.as_json(self.model, v),
            }
        return out


def check(
    params: Params,
    symmetry: bool = True,
    workers: int = 1,
    progress: ProgressFn | None = None,
    witness: str | None = None,
    max_depth: int = 0,
) -> CheckResult:
    """Check `params`; with `witness`, search for the shortest trace reaching that "sometimes"
    property instead (its negation is the only invariant)."""
    model = RaftModel(params, witness)
    result = search(model, symmetry, workers, progress, max_depth)
    result.workers = workers
    return CheckResult(params, symmetry, result, model)
