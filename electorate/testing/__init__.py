"""Test machinery for the production library, kept out of ``electorate.impl``.

``testing.mutants`` plants known bugs in the role machine (one-method subclasses), so tests
and the conformance suite can show that they would notice each one; ``testing.sim`` runs
role machines on a seeded, simulated network and clock; ``testing.fakes`` holds in-memory
stand-ins for a node's I/O seams (storage, network, a virtual clock), so whole runtimes run in
tests without disks, sockets or real time. Nothing in ``electorate.impl`` imports this package.
"""
