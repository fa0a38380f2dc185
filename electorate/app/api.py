"""Check a Raft model by parameters: the glue between spec/ and the generic checker."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from electorate.model_check import engine
from electorate.model_check.search import ProgressFn, SearchResult
from electorate.spec.model import RaftModel
from electorate.spec.params import Params, ParamsError


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
            "peak_rss_bytes": self.search.peak_rss,
            "unexplored": self.search.unexplored,
            "successors": self.search.successors,
            "successors_note": self.search.successors_note,
        }
        if self.search.interrupted:
            out["result"] = "interrupted"
        v = self.search.violation
        if v is not None:
            out["witness" if self.model.witness else "violation"] = {
                "invariant": v.invariant,
                "description": v.description,
                "trace": trace.as_json(self.model, v),
            }
        return out


def model_id(params: Params, symmetry: bool, witness: str | None) -> str:
    """What a checkpoint records of the model, to refuse resuming it with another one."""
    sym = "symmetry" if symmetry else "no-symmetry"
    return f"{params.describe()} {sym}" + (f" witness={witness}" if witness else "")


def check(
    params: Params,
    symmetry: bool = True,
    workers: int = 1,
    progress: ProgressFn | None = None,
    witness: str | None = None,
    max_depth: int = 0,
    options: engine.Options | None = None,
) -> CheckResult:
    """Check `params`; with `witness`, search for the shortest trace reaching that "sometimes"
    property instead (its negation is the only invariant). `options` (workers, depth bound,
    stop flag, checkpoints) replaces `workers`, `progress` and `max_depth` when given."""
    model = RaftModel(params, witness)
    if options is None:
        options = engine.Options(workers=workers, progress=progress, max_depth=max_depth)
    options = replace(options, model_id=model_id(params, symmetry, witness))
    result: SearchResult[Any, Any] = engine.check(model, symmetry, options)
    return CheckResult(params, symmetry, result, model)


def export_tla(params: Params, symmetry: bool, folder: Path) -> list[Path]:
    """Write the TLA+ modules and the TLC config of this model to `folder` (for TLC itself, e.g.
    its distributed mode); the files written. ParamsError if no module mirrors the model."""
    from electorate.app import tlc

    model = tlc.TlcModel(params, symmetry)
    try:
        cfg = tlc.cfg_text(model)
    except tlc.TlcConfigError as e:  # e.g. --reduce, or a bug the module has no hook for
        raise ParamsError(f"--export-tla: {e}") from None
    folder.mkdir(parents=True, exist_ok=True)
    written = [
        Path(shutil.copy(tlc.SPEC_DIR / f"{name}.tla", folder)) for name in model.module.files
    ]
    cfg_path = folder / f"{model.module.name}.cfg"
    cfg_path.write_text(cfg)
    return [*written, cfg_path]
