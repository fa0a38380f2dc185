"""Seeded traces of simulated clusters, for the trace validator's tests and benchmarks.

`generate` runs N role machines (the production core, or a mutant of it) on a simulated
network with random delivery order, loss, duplication, late messages, partitions, crashes and
restarts, and writes their events through the production tracer (electorate.impl.tracelog) to one
NDJSON file. It is much faster than a cluster of real processes (no sockets, no clocks), so a
benchmark can make a thousand traces in seconds; the same seed gives the same trace.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from electorate.impl.core import CoreConfig, HardState, Ready, RoleMachine
from electorate.impl.messages import Message
from electorate.impl.tracelog import NodeTracer
from electorate.testing.mutants import Mutant, machine_class
from electorate.validate.tracefile import TraceWriter


@dataclass(frozen=True)
class Faults:
    """Per simulated event: the chance of each fault (0: never)."""

    loss: float = 0.02
    duplicate: float = 0.01
    crash: float = 0.002
    restart: float = 0.05  # a crashed node comes back
    partition: float = 0.002  # a node is cut off (all its links), or the cut heals
    quiet: bool = False  # no faults at all
    # A message held back for ``late_events`` events before it can be delivered (a slow link,
    # a retransmission): long enough for its receiver to time out and move on to a new term.
    # Off by default; when off it draws no random number, so a seed's trace stays the same.
    late: float = 0.0
    late_events: int = 200

    @staticmethod
    def none() -> Faults:
        return Faults(0.0, 0.0, 0.0, 0.0, 0.0, True)


@dataclass
class _Node:
    name: str
    disk: HardState
    core: RoleMachine | None = None
    tracer: NodeTracer | None = None
    cut: bool = False


@dataclass
class SimCluster:
    """A cluster of traced role machines on a simulated network (see the module doc)."""

    path: Path
    seed: int
    nodes: int = 3
    prevote: bool = True
    check_quorum: bool = True
    mutants: frozenset[Mutant] = frozenset()
    faults: Faults = field(default_factory=Faults)
    # With mutants: step a correct twin of each node beside it and record the first step
    # whose outputs differ (node, first seq, last seq of that step), for the tests.
    shadow: bool = False

    def __post_init__(self) -> None:
        self.divergence: tuple[str, int, int] | None = None
        self.rng = random.Random(self.seed)
        names = tuple(f"n{k + 1}" for k in range(self.nodes))
        self.config = {
            n: CoreConfig(
                node_id=n,
                voters=names,
                election_ticks=10,
                heartbeat_ticks=1,
                lease_ticks=8,
                prevote=self.prevote,
                check_quorum=self.check_quorum,
            )
            for n in names
        }
        self.writers = {n: TraceWriter(self.path, n) for n in names}
        self.members = {n: _Node(n, HardState(0, None)) for n in names}
        self.network: list[Message] = []
        self.held: list[tuple[int, Message]] = []  # late messages and the event they rejoin at
        self.clock = 0  # simulated events so far
        self.late_sent = 0
        for n in names:
            self._start(n)

    @property
    def events(self) -> int:
        return sum(w.seq for w in self.writers.values())

    def close(self) -> None:
        for node in self.members.values():
            if node.tracer is not None:
                node.tracer.step_done()
        for w in self.writers.values():
            w.close()

    def run(self, events: int) -> None:
        """Simulate until the trace holds at least ``events`` events."""
        while self.events < events:
            self._event()

    # ------------------------------------------------------------------ one event

    def _event(self) -> None:
        rng, f = self.rng, self.faults
        self.clock += 1
        while self.held and self.held[0][0] <= self.clock:
            self.network.append(self.held.pop(0)[1])
        up = [n for n, m in self.members.items() if m.core is not None]
        down = [n for n, m in self.members.items() if m.core is None]
        if not f.quiet:
            if up and rng.random() < f.crash:
                self._crash(rng.choice(up))
                return
            if down and rng.random() < f.restart:
                self._start(rng.choice(down))
                return
            if rng.random() < f.partition:
                node = self.members[rng.choice(sorted(self.members))]
                node.cut = not node.cut
                return
        if self.network and rng.random() < 0.6:
            self._deliver(self.network.pop(rng.randrange(len(self.network))))
        elif up:
            self._tick(rng.choice(up))

    def _deliver(self, m: Message) -> None:
        rng, f = self.rng, self.faults
        src, dst = self.members[m.src], self.members[m.dst]
        if src.cut or dst.cut or dst.core is None or rng.random() < f.loss:
            return
        if rng.random() < f.duplicate:
            self.network.append(m)
        assert dst.tracer is not None
        twin = self._twin(dst)
        dst.tracer.received(m)
        dst.core.step(m)
        self._flush(dst, twin, lambda c: c.step(m))

    def _tick(self, name: str) -> None:
        node = self.members[name]
        assert node.core is not None
        twin = self._twin(node)
        node.core.tick()
        self._flush(node, twin, RoleMachine.tick)

    def _twin(self, node: _Node) -> RoleMachine | None:
        if not (self.shadow and self.mutants) or self.divergence is not None:
            return None
        twin = copy.deepcopy(node.core)
        assert twin is not None
        twin.__class__ = RoleMachine  # the correct core, in the mutant's state
        return twin

    def _flush(
        self,
        node: _Node,
        twin: RoleMachine | None = None,
        again: Callable[[RoleMachine], None] | None = None,
    ) -> None:
        core, tracer = node.core, node.tracer
        assert core is not None and tracer is not None
        first = tracer.writer.seq + 1
        readies: list[Ready] = []
        while core.has_ready():
            rd = core.ready()
            readies.append(rd)
            if rd.hard_state is not None:
                node.disk = rd.hard_state
            tracer.ready(rd)
            self._send(rd.messages)
        tracer.step_done()
        if twin is not None and again is not None:
            again(twin)
            expected = []
            while twin.has_ready():
                expected.append(twin.ready())
            if expected != readies or twin.is_leader() != core.is_leader():
                self.divergence = (node.name, first, tracer.writer.seq)

    def _send(self, messages: tuple[Message, ...]) -> None:
        f = self.faults
        for m in messages:
            if f.late and self.rng.random() < f.late:
                self.held.append((self.clock + f.late_events, m))
                self.late_sent += 1
            else:
                self.network.append(m)

    def _crash(self, name: str) -> None:
        node = self.members[name]
        if node.tracer is not None:
            node.tracer.step_done()
        node.core = node.tracer = None

    def _start(self, name: str) -> None:
        node = self.members[name]
        cls = machine_class(self.mutants)
        node.core = cls(self.config[name], node.disk, random.Random(self.rng.random()))
        node.tracer = NodeTracer(self.writers[name], node.core)
        node.tracer.started()


def generate(
    path: Path,
    seed: int,
    events: int = 1000,
    *,
    nodes: int = 3,
    prevote: bool = True,
    check_quorum: bool = True,
    mutants: frozenset[Mutant] = frozenset(),
    faults: Faults | None = None,
) -> Path:
    """Write one seeded trace of at least ``events`` events to ``path`` (one file)."""
    run(path, seed, events, nodes=nodes, prevote=prevote, check_quorum=check_quorum,
        mutants=mutants, faults=faults)  # fmt: skip
    return path


def run(
    path: Path,
    seed: int,
    events: int = 1000,
    *,
    nodes: int = 3,
    prevote: bool = True,
    check_quorum: bool = True,
    mutants: frozenset[Mutant] = frozenset(),
    faults: Faults | None = None,
    shadow: bool = False,
) -> SimCluster:
    """`generate`, returning the finished simulation (for its ``divergence``)."""
    sim = SimCluster(
        path,
        seed,
        nodes,
        prevote,
        check_quorum,
        mutants,
        faults if faults is not None else Faults(),
        shadow,
    )
    try:
        sim.run(events)
    finally:
        sim.close()
    return sim
