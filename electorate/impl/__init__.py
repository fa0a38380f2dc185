"""Electorate's production library: Raft leader election (PreVote, CheckQuorum, leases).

``impl.core`` is the pure, deterministic role machine; ``impl.messages`` the wire messages;
``impl.sim`` a seeded cluster simulator. The I/O side (storage, transport, runtime) drives the
core through its Ready contract. Nothing here imports ``spec``: the conformance suite judges
this package from outside.
"""
