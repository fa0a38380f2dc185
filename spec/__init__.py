"""The executable specification of Raft leader election.

A Python mirror of Diego Ongaro's raft.tla (2014), action for action, plus the extensions of
issue 3 (PreVote, CheckQuorum, leader lease) as opt-in features. Pure and immutable: no I/O
beyond the start-up check below.

The hot modules are compiled with mypyc when the package is installed (setup.py). A compiled
module shadows its source, so an edited source with a stale compiled module beside it would run
old code silently: refuse that with a message saying how to rebuild.
"""

from __future__ import annotations

from pathlib import Path


def _refuse_stale_compiled_modules() -> None:
    here = Path(__file__).parent
    for compiled in here.glob("*.so"):
        source = here / (compiled.name.split(".")[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            raise ImportError(
                f"{source} was edited after it was compiled to {compiled.name}; rebuild with "
                "`pip install -e .` (or ELECTORATE_PURE=1 pip install -e . to skip compiling), "
                f"or delete {here}/*.so to run the pure-Python spec"
            )


_refuse_stale_compiled_modules()
