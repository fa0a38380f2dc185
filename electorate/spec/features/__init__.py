"""The opt-in features, each a parameter of the one model (`Params.features`).

As spec/RaftElectionFeatures.tla EXTENDS RaftElection.tla and restates only what changes, a
featured model is raft.tla's model with some actions replaced and some added (spec/next.py
builds the one action table from both):

- `variables`: the feature variables, their initial values and the updates the features share;
- `prevote`, `check_quorum`, `lease`: each feature's own actions, bookkeeping and properties;
- `restated`: raft.tla's actions that the features change, each built on the canonical one;
- `relative_time`: the lease model's unbounded clocks, normalised to a finite space (exact);
- `reduce`: `--reduce`, a smaller lease model for big clusters (a sound over-approximation).
"""

from __future__ import annotations

from electorate._native import prefer_compiled

prefer_compiled(__path__, __file__)
