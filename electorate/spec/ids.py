"""The typed names the whole project shares: model profiles, features, options, bug variants.

Each is a `Literal` type, so mypy checks every place a name is written (`p.bug == "vote-twice"`,
`Params(features=frozenset({"lease"}))`, a table keyed by bug): a misspelt name is a type error,
not a silently different model. The tuples list every name once, for loops, parsers and help.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# Which part of raft.tla's Next a model runs (spec/next.py).
Profile = Literal["election", "heartbeat", "log"]
PROFILES: Final[tuple[Profile, ...]] = get_args(Profile)

# The opt-in features (spec/features/): PreVote, CheckQuorum, the leader lease.
Feature = Literal["prevote", "check_quorum", "lease"]
FEATURES: Final[tuple[Feature, ...]] = get_args(Feature)

# The options (spec/features/options.py): implementation choices raft.tla does not have, each a
# deviation the model checker shows safe, so that the conformance suite can accept it when an
# implementation declares it. Off by default: a model without options is raft.tla's.
Option = Literal[
    "bare_heartbeats",
    "monotone_progress",
    "optimistic_next_index",
    "stale_append_success",
    "vote_refused_with_known_leader",
    "prevote_refused_with_known_leader",
    "prevote_granted_to_voted_candidate",
    "stale_prevote_grant_counted",
    "newer_term_adopted_in_lease",
]
OPTIONS: Final[tuple[Option, ...]] = get_args(Option)

# Every bug variant the spec can run (the `p.bug == ...` branches). spec/bugs.py describes the
# ones `electorate check --bug` offers; no-term-increment is a mutant of the Z3 proofs and the
# conformance suite only (a candidate that keeps its term).
BugId = Literal[
    "quorum-half",
    "vote-twice",
    "forget-vote-on-restart",
    "stale-votes-counted",
    "leader-keeps-role",
    "no-log-check",
    "no-term-increment",
    "no-prevote-disruption",
    "prevote-bumps-term",
    "no-check-quorum-zombie",
    "lease-too-long",
    "lease-from-receive-time",
]
BUG_IDS: Final[tuple[BugId, ...]] = get_args(BugId)
