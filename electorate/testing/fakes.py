"""In-memory stand-ins for a node's I/O seams: storage, network and clock.

``NodeRuntime(config, storage=MemoryStorage(), network=net.attach, clock=clock)`` runs a node
with no disk, no socket and no real time: ``MemoryNetwork`` carries messages between the nodes
of one event loop (with per-link blocking), and ``VirtualClock`` advances only when the test
says so, so timing tests do not depend on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

from electorate.impl.config import NodeConfig
from electorate.impl.core import HardState
from electorate.impl.messages import Message
from electorate.impl.storage import StorageFatalError
from electorate.impl.transport import TransportStats


class MemoryStorage:
    """A hard-state store in memory; ``fail`` makes every later save fail like a broken disk."""

    def __init__(self, state: HardState | None = None) -> None:
        self.state = state or HardState(0, None)
        self.saved: list[HardState] = []
        self.writes = 0
        self.fail = False
        self.closed = False

    def load(self, lock: bool = True, fresh_start: bool = False) -> HardState:
        self.closed = False
        return self.state

    def save(self, state: HardState) -> None:
        if self.fail:
            raise StorageFatalError("cannot persist state: injected failure")
        self.state = state
        self.saved.append(state)
        self.writes += 1

    def close(self) -> None:
        self.closed = True


class MemoryNetwork:
    """In-process links between the nodes of one event loop. ``attach`` is the network
    factory a ``NodeRuntime`` takes; ``block(a, b)`` cuts the link a -> b."""

    def __init__(self) -> None:
        self.nodes: dict[str, MemoryTransport] = {}
        self.blocked: set[tuple[str, str]] = set()
        self.sent: list[Message] = []  # every message handed to the network, in order

    def attach(self, config: NodeConfig, deliver: Callable[[Message], None]) -> MemoryTransport:
        t = MemoryTransport(self, config.node_id, deliver)
        self.nodes[config.node_id] = t
        return t

    def block(self, src: str, dst: str) -> None:
        self.blocked.add((src, dst))

    def heal(self) -> None:
        self.blocked.clear()

    def carry(self, msg: Message) -> bool:
        """Deliver ``msg`` on the next loop iteration if its link is up and its target runs."""
        self.sent.append(msg)
        target = self.nodes.get(msg.dst)
        sender = self.nodes.get(msg.src)
        down = sender is not None and sender.isolated
        if target is None or not target.running or down or target.isolated:
            return False
        if (msg.src, msg.dst) in self.blocked:
            return False
        asyncio.get_running_loop().call_soon(target.receive, msg)
        return True


class MemoryTransport:
    """One node's end of a ``MemoryNetwork`` (the ``Network`` protocol of the runtime)."""

    def __init__(self, net: MemoryNetwork, node: str, deliver: Callable[[Message], None]) -> None:
        self.net, self.node, self.deliver = net, node, deliver
        self.stats = TransportStats()
        self.isolated = False
        self.running = False

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False

    def send(self, msg: Message) -> None:
        if self.net.carry(msg):
            self.stats.sent += 1
        else:
            self.stats.dropped_injected += 1

    def receive(self, msg: Message) -> None:
        if self.running and not self.isolated:
            self.stats.received += 1
            self.deliver(msg)


class VirtualClock:
    """Time that moves only when ``advance`` is awaited; sleepers wake in deadline order, and
    the loop runs everything they start before time moves on."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._seq), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking each sleeper at its own deadline."""
        end = self.now + seconds
        await _settle()
        while self._sleepers and self._sleepers[0][0] <= end:
            deadline, _, fut = heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            if not fut.done():
                fut.set_result(None)
            await _settle()
        self.now = end
        await _settle()


async def _settle(rounds: int = 20) -> None:
    """Let the loop run what is ready now (deliveries, replies, the tasks they wake)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
