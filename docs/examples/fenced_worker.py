"""Example service: a leader-only worker whose writes are fenced by the leadership token.

Run one node of a real cluster (one process per node):

    PYTHONPATH=. python docs/examples/fenced_worker.py --config node.toml --db /shared/jobs.db

or the self-contained demo (three nodes in one process, each on its own thread and loop):

    PYTHONPATH=. python docs/examples/fenced_worker.py --demo

The resource (here a SQLite table) remembers the highest token it has accepted and refuses
writes carrying a lower one:

    UPDATE jobs SET owner = :me, token = :t, runs = runs + 1 WHERE id = 1 AND token <= :t

so a deposed leader that has not noticed yet (a "zombie": paused, partitioned) cannot overwrite
the work of its successor, even if its lease check raced with the takeover.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sqlite3
import sys
import tempfile
from pathlib import Path

from electorate.impl.api import Elector, LeaderScope, LeadershipLostError
from electorate.impl.config import ConfigError, NodeConfig, from_toml

FENCED_UPDATE = "UPDATE jobs SET owner = ?, token = ?, runs = runs + 1 WHERE id = 1 AND token <= ?"


class FencedError(Exception):
    """The resource has seen a newer token: this node is no longer the leader."""


def init_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, owner TEXT, "
            "token INTEGER NOT NULL, runs INTEGER NOT NULL)"
        )
        db.execute("INSERT OR IGNORE INTO jobs VALUES (1, NULL, 0, 0)")


def fenced_write(db_path: Path, node_id: str, token: int) -> bool:
    """One unit of leader-only work; False if the resource refused the (stale) token."""
    with sqlite3.connect(db_path) as db:
        return db.execute(FENCED_UPDATE, (node_id, token, token)).rowcount == 1


async def leader_work(lead: LeaderScope, db_path: Path, node_id: str) -> None:
    while True:
        if not fenced_write(db_path, node_id, lead.token):
            raise FencedError(f"{node_id}: token {lead.token} is stale")
        await asyncio.sleep(0.05)


async def serve(elector: Elector, db_path: Path) -> None:
    """Forever: whenever this node leads, run the worker; stop it the moment it does not."""
    me = elector.config.node_id
    while True:
        try:
            async with elector.leadership() as lead:
                print(f"{me}: leading with token {lead.token}", flush=True)
                lead.create_task(leader_work(lead, db_path, me))
                await lead.lost()
        except LeadershipLostError as e:
            print(f"{me}: {e}; worker cancelled", flush=True)


async def run_node(config: NodeConfig, db_path: Path) -> None:
    async with Elector(config) as elector:
        await serve(elector, db_path)


def owner(db_path: Path) -> tuple[str | None, int]:
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT owner, token FROM jobs WHERE id = 1").fetchone()
    return row[0], row[1]


def _demo_configs(root: Path, n: int = 3) -> list[NodeConfig]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    ids = [f"n{i + 1}" for i in range(n)]
    return [
        NodeConfig(
            node_id=me,
            listen=("127.0.0.1", ports[i]),
            peers={p: ("127.0.0.1", ports[j]) for j, p in enumerate(ids) if p != me},
            data_dir=root / me,
            secret=b"demo-secret-not-for-production!!",
            election_timeout_ms=150,
            heartbeat_ms=15,
        )
        for i, me in enumerate(ids)
    ]


async def demo() -> int:
    with tempfile.TemporaryDirectory(prefix="electorate-example-") as tmp:
        db_path = Path(tmp) / "jobs.db"
        init_db(db_path)
        electors = [Elector(c) for c in _demo_configs(Path(tmp))]
        for e in electors:
            await e.start()
        workers = {e.config.node_id: asyncio.create_task(serve(e, db_path)) for e in electors}
        try:
            first = await _leader_among(electors)
            await asyncio.sleep(0.3)
            who, old_token = owner(db_path)
            print(f"resource owned by {who} with token {old_token}; crashing {who}", flush=True)
            workers[first.config.node_id].cancel()
            await first.stop()  # a crash, as far as the others can tell: no handover
            second = await _leader_among([e for e in electors if e is not first])
            await asyncio.sleep(0.3)
            who, new_token = owner(db_path)
            print(f"resource owned by {who} with token {new_token}", flush=True)
            # The old leader wakes up from a long pause and writes with its old token.
            zombie_ok = fenced_write(db_path, first.config.node_id, old_token)
            verdict = "ACCEPTED (bug)" if zombie_ok else "refused"
            print(f"zombie write with token {old_token}: {verdict}", flush=True)
            ok = who == second.config.node_id and new_token > old_token and not zombie_ok
            return 0 if ok else 1
        finally:
            for task in workers.values():
                task.cancel()
            for e in electors:
                await e.stop()


async def _leader_among(electors: list[Elector], timeout: float = 10.0) -> Elector:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        for e in electors:
            if e.is_leader():
                return e
        await asyncio.sleep(0.01)
    raise RuntimeError("no leader elected")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="fenced leader-only worker (electorate example)")
    p.add_argument("--demo", action="store_true", help="three nodes in one process")
    p.add_argument("--config", help="this node's TOML config")
    p.add_argument("--db", help="the shared SQLite database")
    a = p.parse_args(argv)
    if a.demo:
        return asyncio.run(demo())
    if not (a.config and a.db):
        print("fenced_worker: pass --demo, or --config FILE and --db FILE", file=sys.stderr)
        return 2
    try:
        config = from_toml(a.config)
        config.validate()
    except ConfigError as e:
        print(f"fenced_worker: {e}", file=sys.stderr)
        return 2
    init_db(Path(a.db))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_node(config, Path(a.db)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
