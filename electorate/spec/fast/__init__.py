"""The spec on packed states, in C, for the model checker's inner loop.

A second rendering of part of the model beside the readable spec, which stays the reference:
`election` packs the election profile's states into 64-bit words and expands them in C
(`_election.c`): the same successors in the same order as `spec.next.Next`, the constraint,
the invariants and server symmetry. tests/spec/test_fast_election.py holds it to the readable
spec state by state; the checker uses it where it covers the model and says so, and runs the
readable spec everywhere else (`RaftModel.packed`).
"""

from __future__ import annotations

from electorate._native import prefer_compiled

prefer_compiled(__path__, __file__)
