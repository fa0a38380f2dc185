"""Test machinery for the production library, kept out of ``electorate.impl``.

``testing.mutants`` plants known bugs in the role machine (one-method subclasses), so tests
and the conformance suite can show that they would notice each one; ``testing.sim`` runs
role machines on a seeded, simulated network and clock. Nothing in ``electorate.impl`` imports
this package.
"""
