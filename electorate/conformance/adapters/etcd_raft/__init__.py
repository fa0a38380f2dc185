"""The ``etcd-raft`` built-in adapter: etcd's raft (go.etcd.io/etcd/raft 3.4) driven over stdio.

The adapter is a small Go program shipped beside this module (``*.go``, our own code; see
``main.go`` for how it drives etcd's ``RawNode``). etcd itself is never vendored: Debian's
``golang-etcd-server-dev`` installs its sources under ``/usr/share/gocode``, and the program is
built from them offline, in GOPATH mode, on first use. The binary goes to a cache directory (never
the source folder), keyed by a hash of the Go sources, the Go version and etcd's version, so a
change to any of them rebuilds it and an unchanged one starts at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path
from typing import Final

GOCODE: Final = Path("/usr/share/gocode")  # where Debian's golang-*-dev packages put sources
ETCD_RAFT: Final = GOCODE / "src/go.etcd.io/etcd/raft"
ETCD_VERSION_FILE: Final = GOCODE / "src/go.etcd.io/etcd/version/version.go"
INSTALL: Final = "apt-get install golang-go golang-etcd-server-dev"
BUILD_TIMEOUT: Final = 600.0  # seconds: a cold build compiles etcd's raft and gogo/protobuf


class BuildError(ValueError):
    """The adapter program cannot be built here; the text is one line saying why."""


def unavailable() -> str | None:
    """None when the adapter can be built here, else what to install (one line)."""
    if shutil.which("go") is None:
        return f"Go is not installed (`go` not on PATH); install it: {INSTALL}"
    if not (ETCD_RAFT / "rawnode.go").is_file():
        return f"etcd's raft sources are missing ({ETCD_RAFT}); install them: {INSTALL}"
    return None


def command() -> list[str]:
    """The adapter's command line, building the program first if the cache has no current copy."""
    return [str(binary())]


def binary() -> Path:
    reason = unavailable()
    if reason is not None:
        raise BuildError(reason)
    sources = _sources()
    out = cache_dir() / f"etcd-raft-adapter-{_key(sources)}"
    if not out.is_file():
        _build(sources, out)
    return out


def cache_dir() -> Path:
    """$ELECTORATE_CACHE, else $XDG_CACHE_HOME/electorate, else ~/.cache/electorate, else (no
    HOME, as in some CI jobs) a per-user folder in the system's temporary directory."""
    if os.environ.get("ELECTORATE_CACHE"):
        return Path(os.environ["ELECTORATE_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "electorate"
    if os.environ.get("HOME"):
        return Path(os.environ["HOME"]) / ".cache" / "electorate"
    return Path(tempfile.gettempdir()) / f"electorate-{os.getuid()}"


def _sources() -> dict[str, bytes]:
    pkg = resources.files(__name__)
    return {f.name: f.read_bytes() for f in pkg.iterdir() if f.name.endswith(".go")}


def _key(sources: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name] + b"\0")
    h.update(_run_go(["version"]).encode())
    if ETCD_VERSION_FILE.is_file():
        h.update(ETCD_VERSION_FILE.read_bytes())
    return h.hexdigest()[:16]


def go_env(cache: Path) -> dict[str, str]:
    """An offline GOPATH-mode build: Debian's sources only, no module proxy, no cgo. GOCACHE
    defaults into our cache when the caller has none (Go refuses to guess one without HOME)."""
    env = dict(os.environ)
    env |= {
        "GO111MODULE": "off",
        "GOPATH": f"{cache / 'gopath'}{os.pathsep}{GOCODE}",
        "GOPROXY": "off",
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
        "GOTOOLCHAIN": "local",
    }
    env.setdefault("GOCACHE", str(cache / "go-build"))
    return env


def _run_go(args: list[str], cwd: Path | None = None, cache: Path | None = None) -> str:
    env = go_env(cache or cache_dir())
    try:
        done = subprocess.run(
            ["go", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BuildError(f"cannot run `go {' '.join(args)}`: {e}") from e
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        detail = "; ".join(lines[:3]) or f"exit status {done.returncode}"
        raise BuildError(f"`go {' '.join(args)}` failed: {detail}")
    return done.stdout


def _build(sources: dict[str, bytes], out: Path) -> None:
    """Build into a fresh folder, then move the binary into place (atomic: two runs that build
    at once both end with a complete program)."""
    cache = out.parent
    try:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "gopath").mkdir(exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="etcd-raft-build-", dir=cache))
    except OSError as e:
        raise BuildError(f"cannot create the build cache {cache}: {e.strerror or e}") from e
    try:
        src = work / "src"
        src.mkdir()
        for name, text in sources.items():
            (src / name).write_bytes(text)
        _run_go(["build", "-o", str(work / "adapter"), "."], cwd=src, cache=cache)
        os.replace(work / "adapter", out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
