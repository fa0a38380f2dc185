"""Adapter skeletons to copy: the whole protocol envelope in JavaScript (``adapter.mjs``) and Go
(``go/main.go``, standard library only), with the places where a Raft implementation plugs in
marked ``PLUG IN``. Shipped as package data so that an installed ``electorate`` carries them and
its tests run them; docs/conformance.md, *Writing an adapter*, walks through them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def path(name: str) -> Path:
    """A skeleton's file inside the installed package: ``adapter.mjs`` or ``go/main.go``."""
    return Path(str(resources.files(__name__).joinpath(name)))
