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
    assert "zombie write with token 1: refused" in proc.stdout
    assert "leading with token 2" in proc.stdout
