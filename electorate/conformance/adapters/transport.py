"""Adapter transports: in process (a Host called directly) and a subprocess speaking NDJSON."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import shutil
import subprocess
import sys
import time

from electorate.conformance.adapters.host import Host
from electorate.conformance.canonical import JSON
from electorate.conformance.protocol import Adapter, ProtocolViolationError

REPLY_TIMEOUT = 20.0  # seconds: a loaded CI machine, but a hung adapter must not hang the suite


class InProcessAdapter:
    """The fast path: no JSON, no pipes; the host's replies are fresh dicts."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.name = f"in-process {host.name}"

    def call(self, request: JSON) -> JSON:
        return self.host.call(request)

    def close(self) -> None:
        self.host.close()


class SubprocessAdapter:
    """An adapter program on the other end of a pipe: one JSON line each way per command."""

    def __init__(self, argv: list[str], name: str) -> None:
        self.name = name
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # free-form log: let it through to ours
            )
        except OSError as e:
            raise ProtocolViolationError(f"cannot start adapter {name!r}: {e}") from e
        self._buf = b""

    def call(self, request: JSON) -> JSON:
        line = json.dumps(request, separators=(",", ":")) + "\n"
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(line.encode())
            stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise ProtocolViolationError(f"adapter {self.name!r} closed its stdin: {e}") from e
        raw = self._readline()
        try:
            resp = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ProtocolViolationError(
                f"adapter wrote a line that is not JSON: {raw[:200]!r}"
            ) from e
        if not isinstance(resp, dict):
            raise ProtocolViolationError(f"adapter wrote a non-object: {raw[:200]!r}")
        return resp

    def _readline(self) -> bytes:
        out = self.proc.stdout
        assert out is not None
        fd = out.fileno()
        deadline = time.monotonic() + REPLY_TIMEOUT
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolViolationError(f"adapter sent no reply within {REPLY_TIMEOUT:.0f} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                code = self.proc.poll()
                raise ProtocolViolationError(f"adapter exited (status {code}) without replying")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProtocolViolationError):
                self.call({"type": "shutdown", "msg_id": 0})
            if self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()  # end of input: a well-behaved adapter exits
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def adapter_argv(command: str) -> list[str]:
    """argv of an adapter command. ``electorate adapter ...`` falls back to this interpreter's
    ``-m conformance.cli`` when the console script is not installed (tests, a bare checkout)."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("empty adapter command")
    if argv[0] == "electorate" and shutil.which("electorate") is None:
        return [sys.executable, "-m", "electorate", *argv[1:]]
    if argv[0] in ("python", "python3") and shutil.which(argv[0]) is None:
        return [sys.executable, *argv[1:]]
    return argv


def open_adapter(spec: str) -> Adapter:
    """``impl`` / ``spec`` / ``spec:BUG``: in process; anything else: a command line."""
    from electorate.conformance.adapters.impl_host import ImplHost
    from electorate.conformance.adapters.spec_host import SpecHost

    if spec == "impl":
        return InProcessAdapter(ImplHost())
    if spec == "spec" or spec.startswith("spec:"):
        return InProcessAdapter(SpecHost(spec.partition(":")[2] or None))
    return SubprocessAdapter(adapter_argv(spec), spec)


def serve(host: Host) -> int:
    """Run ``host`` over stdin/stdout until shutdown or end of input."""
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        try:
            req = json.loads(raw)
        except json.JSONDecodeError as e:
            req = {"type": "?", "msg_id": None}
            print(f"adapter: bad JSON line: {e}", file=sys.stderr)
        if not isinstance(req, dict):
            req = {"type": "?", "msg_id": None}
        resp = host.call(req)
        sys.stdout.write(json.dumps(resp, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        if req.get("type") == "shutdown":
            return 0
    return 0
