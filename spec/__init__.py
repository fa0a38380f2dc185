"""The executable specification of Raft leader election.

A Python mirror of Diego Ongaro's raft.tla (2014), action for action, plus the extensions of
issue 3 (PreVote, CheckQuorum, leader lease) as opt-in features. Pure and immutable: no I/O.
Our own TLA+ text of the same model is `spec/RaftElection.tla`.
"""
