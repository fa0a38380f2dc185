"""The runnable example service in docs/examples runs and its fencing refuses a zombie write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_fenced_worker_demo_fails_over_and_fences_the_old_leader() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "docs/examples/fenced_worker.py"), "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zombie = [line for line in proc.stdout.splitlines() if line.startswith("zombie write")]
    assert len(zombie) == 1 and zombie[0].endswith(": refused")
    assert proc.stdout.count("leading with token") >= 2  # the successor took over
