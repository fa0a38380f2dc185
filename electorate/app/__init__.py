"""The `electorate` application: the command router, `check`, and the TLC runner.

Unlike `electorate.model_check`, which is a generic search, this package knows the Raft spec: it
builds the spec's model from command-line parameters, runs it through the checker or TLC, and
prints the result.
"""
