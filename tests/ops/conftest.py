"""An in-process cluster for the operator tests: real nodes (own thread, TCP on loopback, status
endpoint), election timeout 150-300 ms, heartbeat 15 ms, fixed seeds."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from electorate.impl.cluster import free_ports
from electorate.impl.config import NodeConfig
from electorate.impl.runtime import NodeRuntime

LO = "127.0.0.1"
SECRET = b"ops-test-secret-0123456789abcdef"
_T = TypeVar("_T")


def configs(root: Path, n: int, seed: int = 11, election_ms: int = 150) -> list[NodeConfig]:
    ports = free_ports(2 * n)
    ids = [f"n{i + 1}" for i in range(n)]
    return [
        NodeConfig(
            node_id=me,
            listen=(LO, ports[2 * i]),
            peers={p: (LO, ports[2 * j]) for j, p in enumerate(ids) if p != me},
            data_dir=root / me,
            secret=SECRET,
            status=(LO, ports[2 * i + 1]),
            election_timeout_ms=election_ms,
            heartbeat_ms=15,
            seed=seed + i,
        )
        for i, me in enumerate(ids)
    ]


def wait_for(cond: Callable[[], _T | None], timeout: float, what: str) -> _T:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value is not None and value is not False:
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def http_get(addr: tuple[str, int], path: str, accept: str = "") -> tuple[int, str, str]:
    """(status, content type, body) of one GET."""
    conn = http.client.HTTPConnection(addr[0], addr[1], timeout=5.0)
    try:
        conn.request("GET", path, headers={"Accept": accept} if accept else {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read().decode()
    finally:
        conn.close()


@dataclass
class Cluster:
    configs: list[NodeConfig]
    nodes: dict[str, NodeRuntime]

    def start(self, node_id: str) -> NodeRuntime:
        config = next(c for c in self.configs if c.node_id == node_id)
        node = NodeRuntime(config)
        node.start_in_thread()
        self.nodes[node_id] = node
        return node

    def stop(self, node_id: str) -> None:
        self.nodes.pop(node_id).stop()

    def leader(self, timeout: float = 10.0, other_than: int = 0) -> NodeRuntime:
        """The node leading with a lease in a term above ``other_than``."""

        def find() -> NodeRuntime | None:
            for n in self.nodes.values():
                snap = n.snapshot
                if snap.is_leader() and snap.term > other_than:
                    return n
            return None

        return wait_for(find, timeout, "a leader with a lease")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(configs(tmp_path, 3), {})
    try:
        for config in c.configs:
            c.start(config.node_id)
        yield c
    finally:
        for node_id in list(c.nodes):
            c.stop(node_id)
