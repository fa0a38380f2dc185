"""Z3 proofs of Raft election safety for every cluster size (GitHub issue 6)."""
