"""--export-tla: the model's .tla and .cfg, run by TLC's distributed mode (server and one worker
on the loopback interface), as docs/model-checking.md tells a user to run it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from electorate.app.check import main

pytestmark = [pytest.mark.tlc, pytest.mark.slow]


def test_distributed_tlc_checks_the_exported_model(tmp_path: Path) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not installed: TLC cannot run (install a JRE 11+ to enable)")
    from electorate.app.tlc import find_jar

    jar = str(find_jar())
    assert main(["--servers", "2", "--no-symmetry", "--export-tla", str(tmp_path), "--json"]) == 0
    loopback = "-Djava.rmi.server.hostname=127.0.0.1"
    server_cmd = [java, loopback, "-cp", jar, "tlc2.tool.distributed.TLCServer", "-deadlock"]
    server_cmd += ["-config", "RaftElection.cfg", "RaftElection.tla"]
    server = subprocess.Popen(
        server_cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    worker = None
    try:
        assert server.stdout is not None
        lines = []
        for line in server.stdout:  # the worker may register once the server is ready
            lines.append(line)
            if "is ready" in line:
                break
        worker_cmd = [java, loopback, "-cp", jar, "tlc2.tool.distributed.TLCWorker", "127.0.0.1"]
        worker = subprocess.Popen(
            worker_cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        rest, _ = server.communicate(timeout=300)
        output = "".join(lines) + rest
    finally:
        for proc in (server, worker):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Model checking completed. No error has been found." in output, output[-2000:]
    counts = re.search(r"([\d,]+) states generated, ([\d,]+) distinct states found", output)
    assert counts is not None
    # Distributed TLC finds the same 1,249 distinct states as our checker and TLC's ordinary
    # mode; it counts generated states (and depth) its own way, so only distinct is compared.
    assert int(counts.group(2).replace(",", "")) == 1249
