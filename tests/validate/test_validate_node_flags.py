"""`electorate node --trace-file` and `electorate cluster --trace-dir`: a path that cannot be
written is refused with one line (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from electorate.impl import cli
from electorate.impl.cluster import LOOPBACK, free_ports

SECRET = "trace-flags-test-secret-0123456789"


def test_an_unwritable_trace_file_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (secret := tmp_path / "secret").write_text(SECRET)
    (port,) = free_ports(1)
    argv = [
        "node", "--id", "n1", "--listen", f"{LOOPBACK}:{port}", "--data-dir",
        str(tmp_path / "n1"), "--secret-file", str(secret),
        "--trace-file", str(tmp_path / "no-such-dir" / "n1.ndjson"),
    ]  # fmt: skip
    assert cli.main(argv) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if "warning:" not in x]
    assert err == [f"electorate node: --trace-file {argv[-1]}: No such file or directory"]


def test_an_unusable_trace_dir_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (blocker := tmp_path / "file").write_text("")
    assert cli.main(["cluster", "--duration", "1", "--trace-dir", str(blocker / "x")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("electorate cluster: --trace-dir")
