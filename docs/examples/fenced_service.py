"""Example service: a threaded HTTP writer that only the leader serves, fenced by its token.

One process per node; each runs an Electorate node (the thread-based ``Elector``) and an HTTP
service on ``--serve``. All of them write to one shared SQLite database, the fenced resource:

    PYTHONPATH=. python docs/examples/fenced_service.py --config node.toml \\
        --serve 127.0.0.1:9001 --db /shared/writes.db

    POST /write  {"id": "w-17", "value": "..."}
      200 {"id", "token", "node", "applied"}        the write is durable (applied: now, or by
                                                    an earlier attempt with the same id)
      421 {"error": "not_leader", "leader", "term"} ask the leader instead (NotLeaderError)

Only a node holding a lease (``elector.current_tenure()``) accepts a write, and the database
refuses a token lower than the highest it has seen, in the same transaction as the write. A
deposed leader that has not noticed yet (paused, partitioned) is refused by the database even if
its lease check raced with the takeover. Ids make writes idempotent, so a client may retry a
write whose answer it never got. ``benchmarks/failover_clients.py`` drives three of these with
``electorate.client.FailoverClient`` while it kills leaders.

The leadership callbacks only log here; a service with leader-only background work would start
it in ``on_started_leading`` and stop when ``tenure.lost`` is set.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from electorate.client import NOT_LEADER_HTTP_STATUS, NotLeaderError, not_leader
from electorate.impl.config import ConfigError, add_node_flags, from_args, parse_addr
from electorate.impl.storage import StorageError
from electorate.impl.threaded import Elector, Tenure

log = logging.getLogger("fenced_service")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS fence (k INTEGER PRIMARY KEY CHECK (k = 1), token INTEGER)",
    "INSERT OR IGNORE INTO fence VALUES (1, 0)",
    "CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "id TEXT UNIQUE NOT NULL, value TEXT, token INTEGER NOT NULL, node TEXT NOT NULL)",
)


def init_db(path: Path) -> None:
    with sqlite3.connect(path, timeout=10) as db:
        for statement in SCHEMA:
            db.execute(statement)


class FencedError(Exception):
    """The database has seen a newer token: this node is no longer the leader."""


def fenced_write(
    db_path: Path, node: str, token: int, write_id: str, value: str
) -> dict[str, object]:
    """Apply one write under ``token`` in one transaction; FencedError if the token is stale."""
    db = sqlite3.connect(db_path, timeout=10, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")  # the write lock first: check and write are one step
        (highest,) = db.execute("SELECT token FROM fence WHERE k = 1").fetchone()
        if token < highest:
            db.execute("ROLLBACK")
            raise FencedError(f"token {token} is older than {highest}")
        done = db.execute("SELECT token, node FROM writes WHERE id = ?", (write_id,)).fetchone()
        if done is None:
            db.execute(
                "INSERT INTO writes (id, value, token, node) VALUES (?, ?, ?, ?)",
                (write_id, value, token, node),
            )
            db.execute("UPDATE fence SET token = ? WHERE k = 1", (token,))
        db.execute("COMMIT")
    finally:
        db.close()
    if done is not None:  # an earlier attempt applied it: same answer, nothing written twice
        return {"id": write_id, "token": done[0], "node": done[1], "applied": False}
    return {"id": write_id, "token": token, "node": node, "applied": True}


def make_handler(elector: Elector, db_path: Path) -> type[BaseHTTPRequestHandler]:
    me = elector.config.node_id

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/write":
                self._answer(404, b'{"error": "POST /write"}')
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                write_id, value = str(body["id"]), str(body["value"])
            except (ValueError, KeyError, TypeError):
                self._answer(400, b'{"error": "expected {\\"id\\": ..., \\"value\\": ...}"}')
                return
            tenure = elector.current_tenure()
            if tenure is None:
                self._answer(NOT_LEADER_HTTP_STATUS, not_leader(elector).to_json())
                return
            try:
                doc = fenced_write(db_path, me, tenure.token, write_id, value)
            except FencedError as e:
                log.warning("%s: write %s refused: %s", me, write_id, e)
                self._answer(NOT_LEADER_HTTP_STATUS, NotLeaderError(None, tenure.term).to_json())
                return
            self._answer(200, json.dumps(doc).encode())

        def _answer(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per request would drown the node's own log

    return Handler


def serve(elector: Elector, addr: tuple[str, int], db_path: Path) -> None:
    """Serve writes until SIGTERM/SIGINT; then hand leadership over and stop."""
    server = ThreadingHTTPServer(addr, make_handler(elector, db_path))
    server.daemon_threads = True

    def shutdown(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown).start()  # not from the serving thread

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="fenced HTTP writer (electorate example)")
    add_node_flags(p)
    p.add_argument("--serve", required=True, metavar="HOST:PORT", help="the HTTP service")
    p.add_argument("--db", required=True, help="the shared SQLite database")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING"])
    a = p.parse_args(argv)
    logging.basicConfig(level=a.log_level, format="%(asctime)s %(name)s %(message)s")
    try:
        config = from_args(a)
        config.validate()
        addr = parse_addr(a.serve, "--serve")
    except ConfigError as e:
        print(f"fenced_service: {e}", file=sys.stderr)
        return 2
    init_db(Path(a.db))

    def started(tenure: Tenure) -> None:
        log.info("%s: leading with token %d", config.node_id, tenure.token)

    try:
        elector = Elector(config, on_started_leading=started)
    except StorageError as e:
        print(f"fenced_service: {e}", file=sys.stderr)
        return 1
    with elector:
        serve(elector, addr, Path(a.db))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
