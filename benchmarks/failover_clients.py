"""Failover under client load: kill -9 the leader of a service while clients keep writing.

    PYTHONPATH=. python benchmarks/failover_clients.py [--kills 20] [--clients 4] [--seed S]

Three processes of ``docs/examples/fenced_service.py`` (an Electorate node plus an HTTP writer
that only the leader serves, fenced by its token in a shared SQLite database). ``--clients``
threads share one ``electorate.client.FailoverClient`` and write without pause, each write with
a unique id. ``--kills`` times, once the load has run steadily, the leader is killed with
SIGKILL; the benchmark waits for a successor, restarts the killed node and waits until it
follows again.

Reported: requests acknowledged and failed (the client gave up within its deadline), requests
that needed a retry, and per kill the unavailability window: from the kill to the first write
acknowledged under the successor's (higher) token. Checked from the database at the end, and
asserted (exit 1 otherwise): every acknowledged write is there with the token it was
acknowledged under, and no write was applied under a token older than one applied before it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from electorate.client import (
    NOT_LEADER_HTTP_STATUS,
    FailoverClient,
    FailoverError,
    Node,
    NotLeaderError,
    RetryPolicy,
)
from electorate.impl.cluster import LOOPBACK, LocalCluster, Member, free_ports
from electorate.impl.status import StatusError, fetch_status

SERVICE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "fenced_service.py"


class ServiceCluster(LocalCluster):
    """LocalCluster whose processes run the example service (node + HTTP writer)."""

    def __init__(self, n: int, root: Path, db: Path, election_ms: int, heartbeat_ms: int,
                 seed: int) -> None:  # fmt: skip
        super().__init__(n, root, election_ms, heartbeat_ms, seed=seed)
        self.db = db
        self.service_ports = dict(
            zip((m.node_id for m in self.members), free_ports(n), strict=True)
        )

    def command(self, m: Member) -> list[str]:
        node = super().command(m)
        assert node[1:4] == ["-m", "electorate", "node"], node[:4]
        serve = f"{LOOPBACK}:{self.service_ports[m.node_id]}"
        return [node[0], str(SERVICE), *node[4:], "--serve", serve, "--db", str(self.db)]


def post_write(port: int, write_id: str, timeout: float) -> dict[str, object]:
    """One POST /write; NotLeaderError on 421, OSError/HTTPException if unreachable."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        body = json.dumps({"id": write_id, "value": write_id})
        conn.request("POST", "/write", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    if resp.status == NOT_LEADER_HTTP_STATUS:
        err = NotLeaderError.from_json(raw)
        raise err if err is not None else NotLeaderError(None, 0)
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {raw[:200]!r}")
    doc: dict[str, object] = json.loads(raw)
    return doc


@dataclass
class Record:
    """What the clients saw."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, int] = field(default_factory=dict)  # write id -> token acknowledged
    ack_times: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, token)
    failed: list[str] = field(default_factory=list)
    retried: int = 0
    attempts: list[int] = field(default_factory=list)

    def ack(self, write_id: str, token: int, attempts: int) -> None:
        with self.lock:
            self.acked[write_id] = token
            self.ack_times.append((time.monotonic(), token))
            self.attempts.append(attempts)
            self.retried += attempts > 1

    def fail(self, write_id: str, attempts: int) -> None:
        with self.lock:
            self.failed.append(write_id)
            self.attempts.append(attempts)
            self.retried += attempts > 1


def writer(write_id: str, timeout: float) -> Callable[[str, int], dict[str, object]]:
    """The request function for one write (the client calls it with a node and its port)."""

    def request(node: str, port: int) -> dict[str, object]:
        return post_write(port, write_id, timeout)

    return request


def client_loop(
    client: FailoverClient[int], k: int, rec: Record, stop: threading.Event, timeout: float
) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        write_id = f"c{k}-{i}"
        try:
            out = client.call_detailed(writer(write_id, timeout))
        except FailoverError as e:
            rec.fail(write_id, e.attempts)
            continue
        token = out.value["token"]
        assert isinstance(token, int)
        rec.ack(write_id, token, out.attempts)


def leader_of(c: LocalCluster, skip: Member | None = None) -> tuple[Member, int] | None:
    for m in c.members:
        if m is skip or m.state != "running":
            continue
        try:
            s = fetch_status(m.status_addr, timeout=0.5)
        except StatusError:
            continue
        token = s.get("token")
        if s.get("is_leader") and isinstance(token, int):
            return m, token
    return None


def wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.01)
    raise RuntimeError(f"timed out waiting for {what}")


def has_leader(c: LocalCluster, skip: Member | None) -> bool:
    return leader_of(c, skip) is not None


def follows(c: LocalCluster, m: Member) -> bool:
    now = leader_of(c, m)
    if now is None:
        return False
    try:
        s = fetch_status(m.status_addr, timeout=0.5)
    except StatusError:
        return False
    return s.get("leader") == now[0].node_id


Disruption = tuple[float, int, str, str]  # (monotonic time, leader's token, leader, how)


def disrupt(c: LocalCluster, how: str, settle: float, pause_s: float) -> Disruption:
    """After ``settle`` seconds of load, kill -9 the leader (``kill``) or SIGSTOP it for
    ``pause_s`` (``pause``: it resumes as a deposed leader with requests in flight); wait for a
    successor and for the old leader to follow it again."""
    time.sleep(settle)
    wait(partial(has_leader, c, None), 20, "a leader")
    found = leader_of(c)
    assert found is not None
    leader, token = found
    t0 = time.monotonic()
    if how == "kill":
        c.kill(leader)
        wait(partial(has_leader, c, leader), 20, "a successor")
        c.start(leader)
    else:
        c.toggle_pause(leader)
        time.sleep(pause_s)
        c.toggle_pause(leader)
    wait(partial(follows, c, leader), 20, f"{leader.node_id} to follow")
    return t0, token, leader.node_id, how


def disruptions(c: LocalCluster, kills: int, pauses: int, settle: float, pause_s: float
                ) -> list[Disruption]:  # fmt: skip
    plan = ["kill"] * kills + ["pause"] * pauses
    done = []
    for i, how in enumerate(plan):
        done.append(disrupt(c, how, settle, pause_s))
        _, token, node, _ = done[-1]
        verb = "killed (kill -9)" if how == "kill" else f"paused {pause_s:.2f} s (SIGSTOP)"
        print(f"  {i + 1:2d}: leader {node} (token {token}) {verb}", flush=True)
    return done


def windows(events: list[Disruption], acks: list[tuple[float, int]]) -> list[float]:
    """Per disruption: seconds from it to the first acknowledgement under a newer token."""
    out = []
    for t0, token, _, _ in events:
        later = [t for t, tok in acks if t >= t0 and tok > token]
        out.append(min(later) - t0 if later else math.inf)
    return out


def audit(db: Path, acked: dict[str, int]) -> tuple[list[str], list[str]]:
    """(acknowledged writes missing or with another token, writes applied under a stale token)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT seq, id, token FROM writes ORDER BY seq").fetchall()
    stored = {write_id: token for _, write_id, token in rows}
    lost = [f"{w} (token {t})" for w, t in acked.items() if stored.get(w) != t]
    stale, highest = [], 0
    for seq, write_id, token in rows:
        if token < highest:
            stale.append(f"#{seq} {write_id} under token {token} after {highest}")
        highest = max(highest, token)
    return lost, stale


def pct(xs: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[min(len(s), max(math.ceil(p / 100 * len(s)), 1)) - 1]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--pauses", type=int, default=0, help="also SIGSTOP the leader this often")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--settle", type=float, default=1.0, help="steady load before each kill (s)")
    ap.add_argument("--election-timeout-ms", type=int, default=150)
    ap.add_argument("--heartbeat-ms", type=int, default=15)
    ap.add_argument("--deadline", type=float, default=5.0, help="per request, retries included")
    ap.add_argument("--request-timeout", type=float, default=1.0, help="per attempt (s)")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.randrange(2**31)
    t = a.election_timeout_ms
    print(f"failover with clients: 3 nodes, election timeout {t}-{2 * t} ms, heartbeat "
          f"{a.heartbeat_ms} ms, {a.kills} kills, {a.pauses} pauses, {a.clients} client threads, "
          f"deadline "
          f"{a.deadline} s, seed {seed}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="electorate-clients-") as tmp:
        db = Path(tmp) / "writes.db"
        c = ServiceCluster(3, Path(tmp), db, t, a.heartbeat_ms, seed)
        nodes = {m.node_id: Node(m.status_addr, c.service_ports[m.node_id]) for m in c.members}
        policy = RetryPolicy(deadline=a.deadline, max_attempts=50)
        rec, stop = Record(), threading.Event()
        try:
            c.start_all()
            with FailoverClient(nodes, policy, seed=seed) as client:
                client.wait_for_leader(20)
                threads = [
                    threading.Thread(
                        target=client_loop, args=(client, k, rec, stop, a.request_timeout)
                    )
                    for k in range(a.clients)
                ]
                for th in threads:
                    th.start()
                try:
                    pause_s = 3 * t / 1000  # longer than any election timeout: deposed
                    events = disruptions(c, a.kills, a.pauses, a.settle, pause_s)
                    time.sleep(a.settle)
                finally:
                    stop.set()
                    for th in threads:
                        th.join(a.deadline + 5)
                breakers = client.metrics.text().decode()
        except RuntimeError as e:
            print(f"benchmark aborted: {e}")
            return 1
        finally:
            c.stop_all()
        lost, stale = audit(db, rec.acked)
        refused = sum((Path(tmp) / f"{m.node_id}.log").read_text().count(" refused: ")
                      for m in c.members)  # fmt: skip
    return report(a, events, rec, (lost, stale, refused), breakers)


def report(
    a: argparse.Namespace,
    events: list[Disruption],
    rec: Record,
    audited: tuple[list[str], list[str], int],
    breakers: str,
) -> int:
    lost, stale, refused = audited
    total = len(rec.acked) + len(rec.failed)
    opened = sum(
        float(line.rsplit(" ", 1)[1])
        for line in breakers.splitlines()
        if line.startswith("electorate_client_breaker_transitions_total") and 'state="open"' in line
    )
    print()
    print(f"requests: {total} sent, {len(rec.acked)} acknowledged, {len(rec.failed)} failed "
          f"(gave up within the {a.deadline} s deadline)")  # fmt: skip
    print(f"requests that needed a retry: {rec.retried} ({rec.retried / max(total, 1):.2%}); "
          f"most attempts for one request: {max(rec.attempts, default=0)}")  # fmt: skip
    ok = True
    for how in ("kill", "pause"):
        mine = [e for e in events if e[3] == how]
        if not mine:
            continue
        ms = [w * 1000 for w in windows(mine, rec.ack_times)]
        ok = ok and all(math.isfinite(w) for w in ms)
        what = "kill -9" if how == "kill" else "SIGSTOP"
        print(f"unavailability window ({what} of the leader -> first write acknowledged under "
              f"a newer token), {len(ms)} times:")  # fmt: skip
        print(f"  p50 {statistics.median(ms):.0f} ms   p99 {pct(ms, 99):.0f} ms   "
              f"max {max(ms):.0f} ms")  # fmt: skip
    print(f"circuit breakers opened: {opened:.0f}")
    print(f"acknowledged writes lost (missing, or stored under another token): {len(lost)}")
    print(f"writes applied under a stale fencing token: {len(stale)} (refused by the fence: "
          f"{refused})")  # fmt: skip
    for problem in (lost + stale)[:10]:
        print(f"  {problem}")
    return 0 if ok and not lost and not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
