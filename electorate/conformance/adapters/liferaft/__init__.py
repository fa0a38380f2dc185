"""Adapter for liferaft (npm ``@markwylde/liferaft``), a JavaScript Raft library nobody here wrote:
``adapter.mjs`` (shipped as package data) drives it step by step; the package itself is installed
by name with npm into electorate's cache folder, never vendored.

``python -m electorate.conformance.adapters.liferaft --install`` runs that npm install (``.ci/run``
does); ``electorate conform --adapter liferaft`` then runs the adapter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Final

from electorate.conformance.adapters.etcd_raft import cache_dir

PACKAGE: Final = "@markwylde/liferaft"
VERSION: Final = "1.4.0"  # pinned: its behaviour is the result


def prefix() -> Path:
    """The npm prefix liferaft is installed under (its node_modules is the adapter's argument)."""
    return cache_dir() / "npm"


def modules() -> Path:
    return prefix() / "node_modules"


def script() -> Path:
    return Path(str(resources.files(__name__).joinpath("adapter.mjs")))


def installed_version() -> str | None:
    try:
        meta = json.loads((modules() / PACKAGE / "package.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    version = meta.get("version") if isinstance(meta, dict) else None
    return str(version) if version is not None else None


def install_command() -> list[str]:
    spec = f"{PACKAGE}@{VERSION}"
    return ["npm", "install", "--prefix", str(prefix()), "--no-audit", "--no-fund", spec]


def available() -> str | None:
    """None when the adapter can run here, else what is missing and how to get it."""
    if shutil.which("node") is None:
        return "needs Node.js 18 or newer on PATH (Debian: apt-get install nodejs)"
    have = installed_version()
    if have != VERSION:
        found = "not installed" if have is None else f"found {have}"
        how = "python -m electorate.conformance.adapters.liferaft --install"
        return f"needs {PACKAGE} {VERSION} under {modules()} ({found}): {how}"
    return None


def argv() -> list[str]:
    """The adapter's command line (the built-in registry's form)."""
    return ["node", str(script()), str(modules())]


def install() -> int:
    """Install the pinned liferaft with npm; one line on failure, exit 2."""
    if shutil.which("npm") is None:
        print("liferaft: npm not found (Debian: apt-get install npm)", file=sys.stderr)
        return 2
    prefix().mkdir(parents=True, exist_ok=True)
    done = subprocess.run(install_command(), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"liferaft: npm install failed: {last}", file=sys.stderr)
        return 2
    return 0
