"""Embedding Electorate in a threaded service: a ``NodeConfig`` built in code, the threaded
``Elector``, leader-only work fenced by its token.

    PYTHONPATH=. python docs/examples/embedded_elector.py

runs three nodes in this one process on loopback (in production each is its own process on its
own host; ``start_node`` is the part a service copies). It waits for a leader, lets it do a few
jobs, stops it (a leader hands leadership over first), and shows a successor take over with a
larger fencing token. Exit 0 when that happened, 1 if not, 130 on Ctrl-C.

The jobs write to ``FencedLog``, a stand-in for the resource a real service writes (a database
row, an object store): it refuses a token lower than the highest it has seen, in the same step
as the write. That, not the lease, is what stops a deposed leader that has not noticed yet.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

from electorate.impl.cluster import free_ports
from electorate.impl.config import NodeConfig, read_secret
from electorate.impl.threaded import Elector, Tenure

LOOPBACK = "127.0.0.1"


class FencedLog:
    """An append-only log that refuses writes under a token older than one it has seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.highest = 0
        self.entries: list[tuple[int, str]] = []

    def append(self, token: int, entry: str) -> bool:
        with self._lock:  # check and write in one step, as a database transaction would
            if token < self.highest:
                return False
            self.highest = token
            self.entries.append((token, entry))
            return True


def start_node(
    node_id: str, ports: dict[str, int], root: Path, log: FencedLog, interval: float
) -> Elector:
    """One node of the cluster: its config built in code, its leader-only work in a callback."""
    config = NodeConfig(
        node_id=node_id,
        listen=(LOOPBACK, ports[node_id]),
        peers={peer: (LOOPBACK, port) for peer, port in ports.items() if peer != node_id},
        data_dir=root / node_id,  # term and vote, fsynced: keep it across restarts
        secret=read_secret(str(root / "secret")),  # the same secret on every node
        election_timeout_ms=300,
        heartbeat_ms=30,
    )
    config.validate()

    def run_jobs(tenure: Tenure) -> None:  # a thread of its own, once per tenure
        print(f"{node_id}: leading, term {tenure.term}, token {tenure.token}", flush=True)
        job = 0
        while not tenure.lost.wait(interval):
            job += 1
            done = log.append(tenure.token, f"{node_id} job {job}")
            print(f"{node_id}: job {job} {'done' if done else 'refused'} with token {tenure.token}")

    def stopped() -> None:
        print(f"{node_id}: stopped leading", flush=True)

    elector = Elector(config, on_started_leading=run_jobs, on_stopped_leading=stopped)
    elector.start()
    return elector


def wait_for_leader(electors: dict[str, Elector], timeout: float) -> str | None:
    """The id of the node that leads with a lease, once one does."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for node_id, elector in electors.items():
            if elector.current_tenure() is not None:
                return node_id
        time.sleep(0.01)
    return None


def demo(root: Path, interval: float) -> int:
    (root / "secret").write_text(secrets.token_hex(32))
    ids = ["n1", "n2", "n3"]
    ports = dict(zip(ids, free_ports(len(ids)), strict=True))
    log = FencedLog()
    electors: dict[str, Elector] = {}
    try:
        for node_id in ids:
            electors[node_id] = start_node(node_id, ports, root, log, interval)
        print("started " + ", ".join(f"{i} on {LOOPBACK}:{p}" for i, p in ports.items()))
        first = wait_for_leader(electors, 10)
        if first is None:
            print("no leader within 10 s")
            return 1
        tenure = electors[first].current_tenure()
        time.sleep(4 * interval)  # a few jobs
        print(f"stopping {first} (it hands leadership over first)", flush=True)
        electors.pop(first).stop()
        second = wait_for_leader(electors, 10)
        if second is None or tenure is None:
            print("no successor within 10 s")
            return 1
        successor = electors[second].current_tenure()
        time.sleep(4 * interval)
        if successor is None or successor.token <= tenure.token:
            print("the successor's token is not larger")
            return 1
        print(
            f"ok: {first} -> {second}, tokens {tenure.token} -> {successor.token}, "
            f"{len(log.entries)} jobs written"
        )
        return 0
    finally:
        for elector in electors.values():
            elector.stop(handover=False)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--interval", type=float, default=0.1, help="seconds between two jobs")
    args = p.parse_args(argv)
    if not 0 < args.interval <= 10:
        p.error("--interval must be in (0, 10] seconds")
    try:
        with tempfile.TemporaryDirectory(prefix="electorate-embedded-") as tmp:
            return demo(Path(tmp), args.interval)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
