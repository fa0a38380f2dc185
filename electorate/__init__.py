"""Electorate: Raft leader election, formally specified, model-checked, proved and implemented.

One import root for the whole distribution:

- `electorate.spec`: the executable specification (a mirror of raft.tla), pure and immutable;
- `electorate.model_check`: a generic explicit-state model checker that knows nothing of Raft;
- `electorate.app`: the `electorate` command (check, the TLC runner, the command router);
- `electorate.proofs`: Z3 proofs for every cluster size;
- `electorate.impl`: the production node (pure role machine, asyncio runtime);
- `electorate.conformance`: conformance of any implementation to the spec.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("electorate")
except PackageNotFoundError:  # a bare checkout on sys.path, not installed
    __version__ = "0+unknown"
