"""benchmarks/failover_clients.py: its audit catches what it claims to, and a short run passes."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load(relative: str) -> ModuleType:
    """A script of this repository as a module (it is not in a package)."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(30)
def test_the_fence_and_the_audit(tmp_path: Path) -> None:
    svc = load("docs/examples/fenced_service.py")
    b = load("benchmarks/failover_clients.py")
    db = tmp_path / "w.db"
    svc.init_db(db)
    assert svc.fenced_write(db, "n1", 2, "a", "x")["applied"] is True
    again = svc.fenced_write(db, "n2", 3, "a", "x")  # a retry: not applied twice
    assert again == {"id": "a", "token": 2, "node": "n1", "applied": False}
    assert svc.fenced_write(db, "n2", 3, "b", "y")["token"] == 3
    with pytest.raises(svc.FencedError):
        svc.fenced_write(db, "n1", 2, "c", "z")  # a deposed leader's write
    lost, stale = b.audit(db, {"a": 2, "b": 3})
    assert lost == [] and stale == []
    # What the audit must catch: an acknowledged write that is missing or stored under another
    # token, and a row applied under a token older than one before it.
    lost, _ = b.audit(db, {"a": 2, "b": 3, "zz": 3, "a2": 1})
    assert lost == ["zz (token 3)", "a2 (token 1)"]
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO writes (id, value, token, node) VALUES ('late', '', 1, 'n1')")
    _, stale = b.audit(db, {})
    assert stale == ["#3 late under token 1 after 3"]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_short_run_prints_its_table_with_nothing_lost() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "failover_clients.py"), "--kills", "2",
         "--pauses", "1", "--clients", "2", "--settle", "0.5", "--seed", "3"],
        capture_output=True, text=True, timeout=170, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "seed 3" in text
    assert "acknowledged writes lost (missing, or stored under another token): 0" in text
    assert "writes applied under a stale fencing token: 0" in text
    assert "unavailability window (kill -9 of the leader" in text and "p99" in text
    assert " 0 failed" in text
