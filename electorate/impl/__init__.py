"""Electorate's production library: Raft leader election (PreVote, CheckQuorum, leases).

``electorate.impl.core`` is the pure, deterministic role machine; ``electorate.impl.messages``
the wire messages. The I/O side (storage, transport, runtime) drives the core through its Ready
contract. Nothing here imports ``electorate.spec`` or the test machinery in
``electorate.testing``: the conformance suite judges this package from outside.
"""
