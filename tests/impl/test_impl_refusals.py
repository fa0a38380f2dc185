"""`electorate node` refuses bad configuration and lost state with one line, and stops on
Ctrl-C or SIGTERM without a traceback.

Exit codes: 2 for a configuration error, 1 for a state the node must not start from.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from electorate.impl import cli
from electorate.impl.cluster import LOOPBACK, free_ports
from electorate.impl.config import NodeConfig
from electorate.impl.core import HardState
from electorate.impl.runtime import NodeRuntime
from electorate.impl.storage import LOCK_FILE, STATE_FILE, FileStorage, encode_record

SECRET = "refusals-test-secret-0123456789"


def node_argv(tmp: Path, port: int, *extra: str) -> list[str]:
    secret = tmp / "secret"
    secret.write_text(SECRET)
    return [
        "node", "--id", "n1", "--listen", f"{LOOPBACK}:{port}", "--data-dir", str(tmp / "n1"),
        "--secret-file", str(secret), "--election-timeout-ms", "150", "--heartbeat-ms", "15",
        *extra,
    ]  # fmt: skip


def refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if "warning:" not in line]
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return code, err[0]


@pytest.mark.parametrize("host", [LOOPBACK, "localhost"])
def test_a_peer_on_the_nodes_own_address_is_refused(
    tmp_path: Path, host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Such a peer would be a voter that never answers: with three voters, one more failure
    would leave no majority."""
    port, other = free_ports(2)
    argv = node_argv(tmp_path, port, "--peer", f"n2={host}:{port}", "--peer", f"n3=h:{other}")
    code, line = refusal(argv, capsys)
    assert code == 2 and "is this node's own listen address" in line


def test_a_used_data_directory_without_its_state_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (port,) = free_ports(1)
    data = tmp_path / "n1"
    store = FileStorage(data)
    store.load()
    store.save(HardState(7, "n1"))
    store.close()
    (data / STATE_FILE).unlink()
    code, line = refusal(node_argv(tmp_path, port), capsys)
    assert code == 1 and "state file state.json is missing" in line and "--fresh-start" in line
    assert sorted(p.name for p in data.iterdir()) == [LOCK_FILE]


@pytest.mark.parametrize(
    "raw",
    [b'{"term": 4, "voted_for": "n2", "crc32": 1}\n', encode_record(HardState(3, "n2"))[:-9]],
    ids=["bad-fields", "truncated"],
)
def test_a_damaged_state_file_is_refused(
    tmp_path: Path, raw: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    (port,) = free_ports(1)
    (tmp_path / "n1").mkdir()
    (tmp_path / "n1" / STATE_FILE).write_bytes(raw)
    code, line = refusal(node_argv(tmp_path, port), capsys)
    assert code == 1 and "refusing to start" in line
    assert (tmp_path / "n1" / STATE_FILE).read_bytes() == raw  # untouched


def test_fresh_start_accepts_a_used_directory_without_state(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    data = tmp_path / "n1"
    data.mkdir()
    (data / LOCK_FILE).write_bytes(b"")
    cfg = NodeConfig("n1", (LOOPBACK, port), {}, data, SECRET.encode(), fresh_start=True)
    node = NodeRuntime(cfg)
    assert (node.core.term, node.core.voted_for) == (0, None)
    node.storage.close()
    assert json.loads((data / STATE_FILE).read_text())["term"] == 0


def test_stopping_hands_the_signals_back_while_the_loop_still_runs(tmp_path: Path) -> None:
    """asyncio.run closes the loop's wakeup pipe before removing its signal handlers; a
    signal in between printed "Exception ignored ... Bad file descriptor". The node gives
    SIGINT/SIGTERM back to the OS default before its loop ends."""
    (port,) = free_ports(1)
    cfg = NodeConfig("n1", (LOOPBACK, port), {}, tmp_path / "n1", SECRET.encode())
    node = NodeRuntime(cfg)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}

    async def quick(stop: asyncio.Event | None = None) -> None:
        node.storage.close()

    node.run = quick  # type: ignore[method-assign]

    async def main() -> tuple[object, object, int]:
        await cli._serve(node)
        wakeup = signal.set_wakeup_fd(-1)  # what the loop would still write to
        return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), wakeup

    try:
        sigint, sigterm, wakeup = asyncio.run(main())
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    assert (sigint, sigterm, wakeup) == (signal.SIG_DFL, signal.SIG_DFL, -1)


def test_ctrl_c_and_sigterm_never_print_a_traceback(tmp_path: Path) -> None:
    """A leader stopped by SIGTERM, then SIGINT (or more) while it shuts down."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    sequences = [
        [signal.SIGINT],
        [signal.SIGTERM],
        [signal.SIGTERM, signal.SIGINT],
        [signal.SIGINT, signal.SIGINT, signal.SIGINT],
    ]
    for n, sigs in enumerate(sequences):
        port, status = free_ports(2)
        (tmp_path / str(n)).mkdir()
        argv = node_argv(tmp_path / str(n), port, "--status", f"{LOOPBACK}:{status}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "electorate", *argv],
            stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        try:
            _wait_listening(status, proc)
            for s in sigs:
                proc.send_signal(s)
                time.sleep(0.002)
            _, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert "Traceback" not in err and "Exception ignored" not in err, (sigs, err)
        assert proc.returncode in (0, 130, -signal.SIGINT, -signal.SIGTERM), (sigs, err)


def _wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    """Until the node's status endpoint accepts connections: its handlers are installed."""
    end = time.monotonic() + 30
    while time.monotonic() < end:
        assert proc.poll() is None, "node exited early"
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("node did not start listening")


def test_sigterm_stops_the_cluster_demo_and_its_nodes(tmp_path: Path) -> None:
    """SIGTERM of `electorate cluster` used to end it at once and leave its nodes running."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    # The demo takes six ports in a row from --base-port; find a free run.
    base = next(p for p in range(20000, 60000, 97) if _all_free(range(p, p + 6)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "electorate", "cluster", "--nodes", "3", "--duration", "60",
         "--base-port", str(base), "--data-dir", str(tmp_path / "demo")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=env,
    )  # fmt: skip
    status_ports = [base + 2 * i + 1 for i in range(3)]
    try:
        for port in status_ports:
            _wait_listening(port, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and "Traceback" not in err, err
    for port in status_ports:  # every node is gone: nothing answers on its status port
        with pytest.raises(OSError):
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()


def _all_free(ports: range) -> bool:
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                return False
    return True
