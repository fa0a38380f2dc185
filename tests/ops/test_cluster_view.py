"""``electorate cluster``: keys typed together are applied together, events say what was done."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from electorate.impl.cluster import KeyParser, LocalCluster, read_keys

pytestmark = pytest.mark.timeout(60)


def test_two_keys_arriving_together_are_both_read_at_once() -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"p2")
        assert read_keys(r, 1.0) == "p2"
        assert read_keys(r, 0.01) == ""
        os.close(w)
        assert read_keys(r, 1.0) is None  # EOF
    finally:
        os.close(r)


def test_the_key_parser_pairs_actions_with_node_numbers() -> None:
    keys = KeyParser()
    assert keys.feed("p2") == [("p", "2")]
    assert keys.feed("i") == []
    assert keys.feed("3k1") == [("i", "3"), ("k", "1")]
    assert keys.feed("7x") == []  # a number without an action is ignored
    assert keys.feed("rq") == [("q", "")]


def test_pause_and_isolation_events_say_which_happened(tmp_path: Path) -> None:
    cluster = LocalCluster(1, tmp_path)
    m = cluster.members[0]
    # A stand-in process that only has to take signals.
    m.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert cluster.toggle_pause(m) == "paused n1"
        assert cluster.toggle_isolation(m) == "n1 is paused: resume or restart it first"
        assert cluster.toggle_pause(m) == "resumed n1"
        assert cluster.kill(m) == "killed n1 (kill -9)"
        assert cluster.toggle_pause(m) == "n1 is not running: nothing to pause or resume"
        assert cluster.kill(m) == "n1 is not running"
    finally:
        if m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait()


def _read_until(fd: int, pattern: str, timeout: float, seen: list[str]) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        chunk = read_keys(fd, 0.1)
        if chunk is None:
            break
        seen.append(chunk)
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", "".join(seen))
        if re.search(pattern, text):
            return text
    raise AssertionError(f"no {pattern!r} in the view within {timeout} s: {''.join(seen)[-800:]}")


def test_the_live_view_applies_a_pasted_command_at_once(tmp_path: Path) -> None:
    main, sub = pty.openpty()
    env = dict(os.environ, COLUMNS="120", LINES="40", TERM="xterm")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "electorate",
            "cluster",
            "--nodes",
            "3",
            "--data-dir",
            str(tmp_path),
        ],
        stdin=sub,
        stdout=sub,
        stderr=sub,
        env=env,
        start_new_session=True,
    )
    os.close(sub)
    seen: list[str] = []
    try:
        _read_until(main, r"\d ms", 20.0, seen)  # a lease left: a leader was elected
        os.write(main, b"p2")  # both keys in one write: the command must not wait for a third
        _read_until(main, r"paused n2", 5.0, seen)
        os.write(main, b"p2")
        _read_until(main, r"resumed n2", 5.0, seen)
        os.write(main, b"i3")
        _read_until(main, r"isolated n3", 5.0, seen)
        os.write(main, b"q")
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
