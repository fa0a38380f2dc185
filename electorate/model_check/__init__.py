"""A generic explicit-state model checker: BFS, fingerprints, symmetry, shortest traces.

It knows nothing about Raft: it checks any `model_check.model.Model`, and a model that also
offers a packed form of its states (`model_check.packed`) is searched on that.
"""

from __future__ import annotations

from electorate._native import prefer_compiled

prefer_compiled(__path__, __file__)
