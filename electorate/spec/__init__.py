"""The executable specification of Raft leader election.

A Python mirror of Diego Ongaro's raft.tla (2014), action for action, with PreVote, CheckQuorum
and a leader lease as opt-in features. Pure and immutable.

The hot modules are compiled with mypyc when the package is installed (setup.py); see
`electorate._native` for where the compiled modules live.
"""

from __future__ import annotations

from electorate._native import prefer_compiled

prefer_compiled(__path__, __file__)
