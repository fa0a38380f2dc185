"""Sub-models for the search for violations: named restrictions of a liveness model's steps.

A sub-model leaves out some of the model's steps (model_check/liveness_packed.py,
`Restriction`): fewer interleavings, so a depth-first search of the same size reaches
further into the cycles that remain. What it leaves out still counts as enabled where it was,
so a cycle it finds is fair in the whole model or rejected, and it never decides "holds".

- `lucky`: no plain Timeout(i), for every server (each timeout is a LuckyTimeout: R's lucky
  round, or none). A weakly fair Timeout(i) left out must be disabled somewhere on a fair
  cycle (an open window, a leader that reaches i, or i leading), else the cycle is rejected.
- `lucky-outer`: the same for the servers not connected both ways to a quorum only (howard's
  s4 and s5).
- `msgs-K`: at most K messages in flight after a step.
Names combine with "+": `lucky+msgs-6`.
"""

from __future__ import annotations

from typing import Final

from electorate.model_check.liveness_packed import Restriction
from electorate.spec.fast.liveness import KINDS
from electorate.spec.params import Params

TIMEOUT: Final = KINDS.index("Timeout") * 1024  # spec/fast/liveness.py's instance codes
SUBMODELS: Final = {
    "lucky": "no plain Timeout (every timeout lucky)",
    "lucky-outer": "no plain Timeout of a server not connected to a quorum",
    **{f"msgs-{k}": f"at most {k} messages in flight" for k in range(1, 10)},
}


class SubModelError(ValueError):
    """An unknown sub-model name."""


def restriction(p: Params, name: str) -> Restriction:
    """The Restriction named `name` (module docstring) of the liveness model p."""
    assert p.topology is not None
    codes: set[int] = set()
    max_len = 0
    for part in name.split("+"):
        if part == "lucky":
            codes |= {TIMEOUT + i for i in range(p.servers)}
        elif part == "lucky-outer":
            t = p.topology
            codes |= {TIMEOUT + i for i in range(p.servers) if not t.quorum_connected(i)}
        elif part.startswith("msgs-") and part[5:].isdigit():
            max_len = 8 * p.servers + 2 + 3 * int(part[5:])  # spec/fast/liveness.py's `pack`
        else:
            raise SubModelError(
                f"unknown sub-model {part!r}: lucky, lucky-outer, msgs-K, joined with +"
            )
    return Restriction(frozenset(codes), max_len)
