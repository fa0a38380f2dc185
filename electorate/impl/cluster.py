"""``electorate cluster --nodes 3``: a local cluster of real node processes on loopback.

It shows a live table (role, term, leader, lease) and takes single-key commands: press an action
key then a node number — ``k`` kill -9, ``r`` restart, ``p`` pause/resume (SIGSTOP/SIGCONT),
``i`` isolate/rejoin (drops all the node's traffic) — and ``q`` to quit. Every key that has
arrived is applied at once (typed or pasted together), and the event line says what was done
(``paused n2``, ``resumed n2``, ``isolated n3``, ...). Without a terminal (or with
``--duration S``) it runs for a while, prints the final table and exits 0 if a leader with a
lease was seen, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from electorate._signals import handling
from electorate.impl.config import Addr
from electorate.impl.status import StatusError, fetch_status

LOOPBACK = "127.0.0.1"


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports below the kernel's ephemeral range.

    Below it on purpose: while a node is down (killed, restarting) its port must not be taken
    as the source port of some outgoing connection, or the restart would fail to bind.
    """
    rng = random.Random()
    low = max(_ephemeral_low(), 12000)
    ports: list[int] = []
    while len(ports) < n:
        port = rng.randrange(10000, low)
        if port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue
        ports.append(port)
    return ports


@dataclass
class Member:
    node_id: str
    port: int
    status_port: int
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    paused: bool = False
    isolated: bool = False
    last: dict[str, object] = field(default_factory=dict)

    @property
    def status_addr(self) -> Addr:
        return (LOOPBACK, self.status_port)

    @property
    def state(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            return "killed"
        return "paused" if self.paused else "running"


class LocalCluster:
    """Start, kill, restart, pause and isolate node processes; read their status endpoints."""

    def __init__(
        self,
        n: int,
        root: Path,
        election_ms: int = 150,
        heartbeat_ms: int = 15,
        extra: tuple[str, ...] = (),
        base_port: int = 0,
        seed: int | None = None,
        trace_dir: Path | None = None,
    ) -> None:
        self.root = root
        self.trace_dir = trace_dir  # each node appends its trace to trace_dir/<id>.ndjson
        self.secret_file = root / "secret"
        self.secret_file.write_text(secrets.token_hex(32))
        self.secret_file.chmod(0o600)
        self.election_ms, self.heartbeat_ms, self.extra = election_ms, heartbeat_ms, extra
        self.seed = seed  # node i draws its timeouts from seed + i (None: unseeded)
        # Node i listens on base + 2i and serves its status on base + 2i + 1.
        ports = list(range(base_port, base_port + 2 * n)) if base_port else free_ports(2 * n)
        self.members = [
            Member(f"n{i + 1}", ports[2 * i], ports[2 * i + 1], root / f"n{i + 1}")
            for i in range(n)
        ]

    def command(self, m: Member) -> list[str]:
        cmd = [sys.executable, "-m", "electorate", "node", "--id", m.node_id]
        cmd += ["--listen", f"{LOOPBACK}:{m.port}", "--status", f"{LOOPBACK}:{m.status_port}"]
        for p in self.members:
            if p is not m:
                cmd += ["--peer", f"{p.node_id}={LOOPBACK}:{p.port}"]
        cmd += ["--data-dir", str(m.data_dir), "--secret-file", str(self.secret_file)]
        cmd += ["--election-timeout-ms", str(self.election_ms)]
        cmd += ["--heartbeat-ms", str(self.heartbeat_ms), "--demo-controls"]
        cmd += ["--log-level", "WARNING", *self.extra]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed + self.members.index(m))]
        if self.trace_dir is not None:
            cmd += ["--trace-file", str(self.trace_dir / f"{m.node_id}.ndjson")]
        return cmd

    def start(self, m: Member) -> None:
        if m.state != "killed":
            return
        log = (self.root / f"{m.node_id}.log").open("ab")
        env = dict(os.environ)
        repo = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
        m.proc = subprocess.Popen(self.command(m), stdout=log, stderr=log, env=env)
        log.close()
        m.paused = m.isolated = False

    def start_all(self) -> None:
        for m in self.members:
            self.start(m)

    def kill(self, m: Member) -> str:
        """kill -9 ``m``; says what happened."""
        if m.proc is None or m.proc.poll() is not None:
            return f"{m.node_id} is not running"
        m.proc.kill()  # SIGKILL ends a stopped process too
        m.proc.wait()
        m.paused = False
        return f"killed {m.node_id} (kill -9)"

    def restart(self, m: Member) -> str:
        if m.state != "killed":
            return f"{m.node_id} is already running"
        self.start(m)
        return f"restarted {m.node_id}"

    def toggle_pause(self, m: Member) -> str:
        """SIGSTOP a running node, SIGCONT a paused one; says which."""
        if m.state == "killed" or m.proc is None:
            return f"{m.node_id} is not running: nothing to pause or resume"
        m.proc.send_signal(signal.SIGCONT if m.paused else signal.SIGSTOP)
        m.paused = not m.paused
        return f"{'paused' if m.paused else 'resumed'} {m.node_id}"

    def toggle_isolation(self, m: Member) -> str:
        """Cut a running node off from all traffic, or let it rejoin; says which."""
        if m.state != "running" or m.proc is None:
            return f"{m.node_id} is {m.state}: resume or restart it first"
        m.proc.send_signal(signal.SIGUSR1)
        m.isolated = not m.isolated
        return f"{'isolated' if m.isolated else 'rejoined'} {m.node_id}"

    def stop_all(self) -> None:
        for m in self.members:
            if m.proc is not None and m.proc.poll() is None:
                if m.paused:
                    m.proc.send_signal(signal.SIGCONT)
                m.proc.kill()
                m.proc.wait()

    def poll(self) -> None:
        for m in self.members:
            if m.state != "running":
                m.last = {}
                continue
            try:
                m.last = fetch_status(m.status_addr, timeout=0.3)
            except StatusError:
                m.last = {}

    def leaders(self) -> list[Member]:
        return [m for m in self.members if m.last.get("is_leader")]


def render(cluster: LocalCluster, events: list[str], interactive: bool) -> Group:
    table = Table(title="electorate local cluster")
    for col in ("node", "process", "role", "term", "leader", "lease left", "token", "net"):
        table.add_column(col)
    for m in cluster.members:
        s = m.last
        lease = f"{s.get('lease_remaining_ms')} ms" if s.get("is_leader") else "-"
        role = str(s.get("role", "-"))
        style = "bold green" if s.get("is_leader") else ("yellow" if "candidate" in role else "")
        table.add_row(
            m.node_id,
            m.state,
            Text(role, style=style),
            str(s.get("term", "-")),
            str(s.get("leader") or "-"),
            lease,
            str(s.get("token") or "-"),
            "isolated" if m.isolated else "ok",
        )
    parts: list[Table | Text] = [table]
    if interactive:
        parts.append(Text("keys: k<N> kill -9, r<N> restart, p<N> pause/resume, i<N> isolate, q"))
    parts.extend(Text(e) for e in events[-6:])
    return Group(*parts)


@contextlib.contextmanager
def _cbreak() -> Iterator[None]:
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def read_keys(fd: int, timeout: float) -> str | None:
    """Every key that has arrived on ``fd`` within ``timeout`` ("" if none, None at EOF).

    Reads the descriptor itself: a buffered ``sys.stdin.read(1)`` would pull two keys typed
    together into its buffer and return one, and ``select`` would not report the other until
    the next key arrived.
    """
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return ""
    data = os.read(fd, 1024)
    return data.decode("utf-8", errors="replace") if data else None


ACTIONS = {"k": "kill", "r": "restart", "p": "pause/resume", "i": "isolate/rejoin"}


class KeyParser:
    """Turns keys into commands: ``q``, or an action key followed by a node number."""

    def __init__(self) -> None:
        self.action: str | None = None

    def feed(self, keys: str) -> list[tuple[str, str]]:
        commands: list[tuple[str, str]] = []
        for key in keys:
            if key == "q":
                commands.append(("q", ""))
            elif key in ACTIONS:
                self.action = key
            elif self.action is not None and key.isdigit():
                commands.append((self.action, key))
                self.action = None
        return commands


def apply_command(cluster: LocalCluster, action: str, digit: str) -> str:
    """Carry out one command; the event line says what was done."""
    idx = int(digit) - 1
    if not 0 <= idx < len(cluster.members):
        return f"no node {digit!r}"
    m = cluster.members[idx]
    do = {
        "k": cluster.kill,
        "r": cluster.restart,
        "p": cluster.toggle_pause,
        "i": cluster.toggle_isolation,
    }[action]
    return f"{time.strftime('%H:%M:%S')} {do(m)}"


def run_cluster(args: argparse.Namespace) -> int:
    if not 1 <= args.nodes <= 9:
        print("electorate cluster: --nodes must be between 1 and 9", file=sys.stderr)
        return 2
    if args.base_port and not 1024 <= args.base_port <= 65535 - 2 * args.nodes:
        print(
            "electorate cluster: --base-port must leave room for 2 ports per node", file=sys.stderr
        )
        return 2
    interactive = args.duration is None and sys.stdin.isatty()
    duration = args.duration if args.duration is not None else (None if interactive else 10.0)
    with tempfile.TemporaryDirectory(prefix="electorate-") as tmp:
        root = Path(args.data_dir) if args.data_dir else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        trace_dir = Path(args.trace_dir).resolve() if args.trace_dir else None
        if trace_dir is not None:
            try:
                trace_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                print(f"electorate cluster: --trace-dir {trace_dir}: {e.strerror}", file=sys.stderr)
                return 2
        cluster = LocalCluster(
            args.nodes,
            root,
            args.election_timeout_ms,
            args.heartbeat_ms,
            (),
            args.base_port,
            trace_dir=trace_dir,
        )
        with handling(_terminated, (signal.SIGTERM,)):
            try:
                return _drive(cluster, interactive, duration)
            except _TerminatedError:
                return 0
            finally:
                cluster.stop_all()  # also on SIGTERM and Ctrl-C: never leave the nodes running


class _TerminatedError(Exception):
    """SIGTERM reached the demo: stop it as if its time were up."""


def _terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the cleanup must not be interrupted
    raise _TerminatedError


def _drive(cluster: LocalCluster, interactive: bool, duration: float | None) -> int:
    console = Console()
    events: list[str] = []
    seen_leader = False
    cluster.start_all()
    end = None if duration is None else time.monotonic() + duration
    keys = KeyParser()
    stop = threading.Event()
    ctx = _cbreak() if interactive else contextlib.nullcontext()
    with (
        ctx,
        Live(
            render(cluster, events, interactive),
            console=console,
            auto_refresh=False,
            transient=not interactive,
        ) as live,
    ):
        while not stop.is_set() and (end is None or time.monotonic() < end):
            cluster.poll()
            seen_leader = seen_leader or bool(cluster.leaders())
            if len(cluster.leaders()) > 1:
                events.append("WARNING: two nodes report a valid lease")
            live.update(render(cluster, events, interactive), refresh=True)
            if not interactive:
                time.sleep(0.2)
                continue
            typed = read_keys(sys.stdin.fileno(), 0.2)
            for action, digit in keys.feed("q" if typed is None else typed):
                if action == "q":
                    stop.set()
                    break
                events.append(apply_command(cluster, action, digit))
    if not interactive:  # the live view was transient: leave the final table on screen
        cluster.poll()
        console.print(render(cluster, events, False))
    if not seen_leader:
        print("electorate cluster: no leader was elected", file=sys.stderr)
        return 1
    return 0
