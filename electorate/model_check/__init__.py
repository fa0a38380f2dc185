"""A generic explicit-state model checker: BFS, fingerprints, symmetry, shortest traces.

It knows nothing about Raft: it checks any `model_check.model.Model`.
"""
