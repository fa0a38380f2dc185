"""The JavaScript reference adapter: the Raft paper's Figure 2 written in Node (``figure2.mjs``,
``raft.mjs``), shipped as package data so that ``electorate conform --adapter figure2-js`` runs it.

It is an independent implementation, written from docs/conformance.md and the paper only; the
suite must pass it. It needs ``node`` (18 or newer) on ``PATH`` and no npm package.
"""

from __future__ import annotations

import shlex
import shutil
from importlib import resources
from pathlib import Path

NODE = "node"


def script() -> Path:
    """The adapter's entry point inside the installed package."""
    return Path(str(resources.files(__name__).joinpath("figure2.mjs")))


def available() -> str | None:
    """None when the adapter can run here, else what is missing and how to get it."""
    if shutil.which(NODE) is None:
        return "needs Node.js 18 or newer on PATH (Debian: apt-get install nodejs)"
    return None


def argv() -> list[str]:
    """The adapter's command line as a list (the built-in registry's form)."""
    return [NODE, str(script())]


def command() -> str:
    """The adapter's command line, as ``electorate conform --adapter`` takes it."""
    return shlex.join(argv())
