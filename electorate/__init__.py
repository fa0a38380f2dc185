"""Electorate: Raft leader election, formally specified, model-checked, proved and implemented.

One import root for the whole distribution:

- `electorate.spec`: the executable specification (a mirror of raft.tla), pure and immutable;
- `electorate.model_check`: a generic explicit-state model checker that knows nothing of Raft;
- `electorate.app`: the `electorate` command (check, the TLC runner, the command router);
- `electorate.proofs`: Z3 proofs for every cluster size;
- `electorate.impl`: the production node (pure role machine, asyncio runtime);
- `electorate.conformance`: conformance of any implementation to the spec;
- `electorate.testing`: test machinery for the production node (planted bugs, a simulator).
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Read the version only when asked: importing the package stays cheap, which keeps the
    # window in which a Ctrl-C at start-up can interrupt an import (and print a traceback) short.
    if name != "__version__":
        raise AttributeError(f"module 'electorate' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("electorate")
    except PackageNotFoundError:  # a bare checkout on sys.path, not installed
        return "0+unknown"
