"""``python tests/validate/mutant_node.py MUTANT node ARGS...``: ``electorate node`` with a
planted bug in its core, for the real-cluster tests of trace validation.

Beside the mutant core runs a correct twin: before each input (a message, a tick, a
resignation) the core is copied as a plain RoleMachine and given the same input; the first
input after which their outputs differ (messages, notifications, the state to persist, role,
leader, lease) is where the bug shows, and its trace sequence number goes to
``<trace file>.divergence.json``. Nothing of this is in the production node: the script
replaces the runtime's RoleMachine in its own process only.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from electorate.impl import cli, runtime, tracelog
from electorate.impl.core import RoleMachine
from electorate.impl.messages import Message
from electorate.testing.mutants import machine_class, parse_mutants

_TRACER: list[tracelog.NodeTracer] = []
_SEEN: list[bool] = []


def _outputs(c: RoleMachine) -> tuple[Any, ...]:
    return (
        tuple(c._outbox),
        tuple(c._notes),
        c._unsaved_hard_state(),
        c._soft_state(),
        c.is_leader(),
    )


def shadowed(cls: type[RoleMachine]) -> type[RoleMachine]:
    """``cls`` with a correct twin checked after each input (see the module doc)."""

    class Shadowed(cls):  # type: ignore[valid-type, misc]
        def step(self, msg: Message) -> None:
            twin = self._twin()
            super().step(msg)
            if twin is not None:
                RoleMachine.step(twin, msg)
                self._compare(twin, logged=True)  # the recv is logged before the step

        def tick(self) -> None:
            twin = self._twin()
            super().tick()
            if twin is not None:
                RoleMachine.tick(twin)
                self._compare(twin, logged=False)

        def resign(self) -> None:
            twin = self._twin()
            super().resign()
            if twin is not None:
                RoleMachine.resign(twin)
                self._compare(twin, logged=False)

        def _twin(self) -> RoleMachine | None:
            if _SEEN or not _TRACER:
                return None
            twin: RoleMachine = copy.deepcopy(self)
            twin.__class__ = RoleMachine  # the correct core, in the mutant's state
            return twin

        def _compare(self, twin: RoleMachine, logged: bool) -> None:
            if _outputs(twin) == _outputs(self):
                return
            _SEEN.append(True)
            writer = _TRACER[0].writer
            first = writer.seq if logged else writer.seq + 1  # a timer step is logged next
            out = Path(str(writer.path) + ".divergence.json")
            if not out.exists():  # a restarted process keeps its earlier incarnation's
                out.write_text(json.dumps({"node": writer.node, "seq": first}))

    Shadowed.__name__ = f"Shadowed{cls.__name__}"
    return Shadowed


def main(argv: list[str]) -> int:
    mutants = parse_mutants(argv[0].split("+"))
    setattr(runtime, "RoleMachine", shadowed(machine_class(mutants)))  # noqa: B010
    make = tracelog.NodeTracer.to_file

    def to_file(path: str | Path, core: RoleMachine) -> tracelog.NodeTracer:
        tracer = make(path, core)
        _TRACER.append(tracer)
        return tracer

    setattr(tracelog.NodeTracer, "to_file", staticmethod(to_file))  # noqa: B010
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
