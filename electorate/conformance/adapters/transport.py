"""Adapter transports: in process (a Host called directly) and a subprocess speaking NDJSON."""

from __future__ import annotations

import contextlib
import json
import os
import re
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
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


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

    def __init__(
        self,
        argv: list[str],
        name: str,
        env: dict[str, str] | None = None,
        reply_timeout: float = REPLY_TIMEOUT,
    ) -> None:
        self.name = name
        self.reply_timeout = reply_timeout
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # free-form log: let it through to ours
                env=None if env is None else {**os.environ, **env},
            )
        except FileNotFoundError as e:
            raise ProtocolViolationError(f"command not found: {argv[0]}") from e
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise ProtocolViolationError(f"cannot start {argv[0]}: {reason}") from e
        self._buf = b""
        self.broken = False

    def call(self, request: JSON) -> JSON:
        line = json.dumps(request, separators=(",", ":")) + "\n"
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(line.encode())
            stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise self._violation(self._exit_text()) from e
        raw = self._readline()
        try:
            resp = json.loads(raw)
        except json.JSONDecodeError as e:
            shown = raw[:120].decode("utf-8", "replace")
            raise self._violation(f"the reply is not JSON: {json.dumps(shown)}") from e
        if not isinstance(resp, dict):
            shown = raw[:120].decode("utf-8", "replace")
            raise self._violation(f"the reply is not a JSON object: {shown}")
        return resp

    def _readline(self) -> bytes:
        out = self.proc.stdout
        assert out is not None
        fd = out.fileno()
        deadline = time.monotonic() + self.reply_timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._violation(f"no reply within {self.reply_timeout:g} s (--reply-timeout)")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._violation(self._exit_text())
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def _violation(self, text: str) -> ProtocolViolationError:
        """The adapter broke the protocol: it gets no second chance (close() kills it)."""
        self.broken = True
        return ProtocolViolationError(text)

    def _exit_text(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the adapter closed its output without replying"
        return f"the adapter exited (status {code}) without replying"

    def close(self) -> None:
        if self.broken and self.proc.poll() is None:
            self.proc.kill()
        if self.proc.poll() is None:
            with contextlib.suppress(ProtocolViolationError):
                self.reply_timeout = min(self.reply_timeout, 5.0)
                self.call({"type": "shutdown", "msg_id": 0})
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # end of input: a well-behaved adapter exits
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def alive(self) -> bool:
        return self.proc.poll() is None


def parse_command(command: str) -> tuple[list[str], dict[str, str]]:
    """argv and extra environment of an adapter command line, split like a POSIX shell:
    quotes work and leading ``NAME=value`` words set environment variables
    (``RAFT_DEBUG=1 node adapter.mjs``). ``electorate ...`` falls back to this interpreter's
    ``-m electorate`` when the console script is not installed (tests, a bare checkout)."""
    try:
        words = shlex.split(command)
    except ValueError as e:
        raise ValueError(f"cannot parse the adapter command ({e})") from e
    env: dict[str, str] = {}
    while words and _ASSIGNMENT.match(words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    if not words:
        raise ValueError("the adapter command names no program")
    if words[0] == "electorate" and shutil.which("electorate") is None:
        words = [sys.executable, "-m", "electorate", *words[1:]]
    elif words[0] in ("python", "python3") and shutil.which(words[0]) is None:
        words = [sys.executable, *words[1:]]
    return words, env


def adapter_argv(command: str) -> list[str]:
    """argv of an adapter command (see :func:`parse_command`; the environment is dropped)."""
    return parse_command(command)[0]


def open_adapter(spec: str, reply_timeout: float = REPLY_TIMEOUT) -> Adapter:
    """A built-in adapter by name (conformance.registry: ``impl``, ``spec``, ``spec:BUG``, ...)
    or any other string as a command line. Raises ValueError for an unusable name or command,
    ProtocolViolationError when the program cannot start."""
    from electorate.conformance import registry

    entry = registry.lookup(spec)
    if entry is not None:
        reason = entry.unavailable()
        if reason is not None:
            raise ValueError(f"built-in adapter {entry.name!r} is not available here: {reason}")
        if entry.host:
            arg = spec.partition(":")[2] or None
            return InProcessAdapter(entry.make_host(arg))
        return SubprocessAdapter(entry.command(), entry.name, reply_timeout=reply_timeout)
    argv, env = parse_command(spec)
    return SubprocessAdapter(argv, spec, env or None, reply_timeout)


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
