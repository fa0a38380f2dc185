"""Model parameters: the TLA+ CONSTANTS and the TLC state-constraint bounds of one model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from electorate.spec.ids import (
    BUG_IDS,
    FEATURES,
    OPTIONS,
    PROFILES,
    BugId,
    Feature,
    Option,
    Profile,
)
from electorate.spec.topology import Topology, TopologyError
from electorate.spec.topology import validate as validate_topology

MAX_SERVERS: Final = 7  # server sets are bitmasks and symmetry tries permutations: keep it small


class ParamsError(ValueError):
    """An impossible model configuration; the message says what to fix."""


def bug_named(name: str | None) -> BugId | None:
    """A bug name from outside (a flag, a file) as a BugId; ParamsError if there is none such."""
    if name is None:
        return None
    for bug in BUG_IDS:
        if bug == name:
            return bug
    raise ParamsError(f"unknown bug {name!r}; known: {', '.join(BUG_IDS)}")


def features_named(names: Iterable[str]) -> frozenset[Feature]:
    """Feature names from outside as Features; ParamsError naming any unknown one."""
    chosen = set(names)
    unknown = sorted(chosen - set(FEATURES))
    if unknown:
        raise ParamsError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    return frozenset(f for f in FEATURES if f in chosen)


def options_named(names: Iterable[str]) -> frozenset[Option]:
    """Option names from outside as Options; ParamsError naming any unknown one."""
    chosen = set(names)
    unknown = sorted(chosen - set(OPTIONS))
    if unknown:
        raise ParamsError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    return frozenset(o for o in OPTIONS if o in chosen)


# What an option changes must exist in the model: the pre-vote options change PreVote's
# handlers, the others the AppendEntries traffic (a profile with heartbeats, or any feature).
PREVOTE_OPTIONS: Final[frozenset[Option]] = frozenset(
    {
        "prevote_refused_with_known_leader",
        "prevote_granted_to_voted_candidate",
        "stale_prevote_grant_counted",
    }
)
HEARTBEAT_OPTIONS: Final[frozenset[Option]] = frozenset(
    {
        "bare_heartbeats",
        "monotone_progress",
        "optimistic_next_index",
        "stale_append_success",
        "vote_refused_with_known_leader",  # a follower knows its leader from an AppendEntries
    }
)


@dataclass(frozen=True, slots=True)
class Params:
    """One model: the servers, the profile (which part of raft.tla), bounds and features."""

    servers: int = 3
    profile: Profile = "election"
    max_term: int = 2  # TLC constraint: every currentTerm <= max_term
    max_msgs: int = 1  # TLC constraint: total copies in the message bag <= max_msgs
    max_log: int = 1  # TLC constraint (log profile): every log length <= max_log
    values: int = 0  # |Value|: client values (log profile only)
    bug: BugId | None = None  # a named bug variant (spec.ids, spec.bugs), None: the correct spec
    features: frozenset[Feature] = field(default_factory=frozenset)
    # Implementation choices raft.tla does not have, each shown safe (spec/features/options.py).
    options: frozenset[Option] = field(default_factory=frozenset)
    max_clock: int = 0  # lease feature: bound on each clock (0: relative time, no bound)
    lease_ticks: int = 0  # lease feature: lease length in ticks (0: derived, see lease)
    election_ticks: int = 0  # lease feature: minimum election timeout in ticks
    drift: int = 0  # lease feature: max clock ticks one server may run ahead of another
    reduce: bool = False  # lease, relative time: the over-approximation of features/reduce.py
    # Liveness models (spec/liveness/): the network's links, None for the safety models; and
    # whether randomized timeouts are assumed (spec/liveness/timing.py, LuckyTimeout).
    topology: Topology | None = None
    randomized: bool = True
    # Derived once: the spec reads the lease knobs on nearly every step.
    knobs: LeaseKnobs = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "knobs", _derive_knobs(self))
        validate(self)

    @property
    def quorum_size(self) -> int:
        """The smallest strict majority, floor(N/2)+1: two such sets always intersect."""
        return self.servers // 2 + 1

    def has(self, feature: Feature) -> bool:
        return feature in self.features

    def opt(self, option: Option) -> bool:
        return option in self.options

    def describe(self) -> str:
        parts = [f"servers={self.servers}", f"profile={self.profile}"]
        parts += [f"max_term={self.max_term}", f"max_msgs={self.max_msgs}"]
        if self.profile == "log":
            parts += [f"max_log={self.max_log}", f"values={self.values}"]
        if self.features:
            parts.append("features=" + ",".join(sorted(self.features)))
        if self.options:
            parts.append("options=" + ",".join(sorted(self.options)))
        if self.has("lease") and self.topology is None:  # a liveness model's lease has no clocks
            k = self.knobs
            parts += [f"max_clock={k.max_clock}", f"election_ticks={k.election_ticks}"]
            parts += [f"drift={k.drift}", f"lease_ticks={k.lease_ticks}"]
        if self.reduce:
            parts.append("reduce")
        if self.bug:
            parts.append(f"bug={self.bug}")
        if self.topology is not None:
            parts = [p for p in parts if not p.startswith(("max_term=", "max_msgs="))]
            parts.append(f"topology={self.topology.name}")
            if not self.randomized:
                parts.append("no-randomized-timeouts")
        return " ".join(parts)


class LeaseKnobs(NamedTuple):
    """The lease feature's bounds with the defaults filled in (a 0 in Params means "derive")."""

    max_clock: int
    election_ticks: int
    drift: int
    lease_ticks: int


DEFAULT_ELECTION_TICKS: Final = 3
DEFAULT_DRIFT: Final = 1


def _derive_knobs(p: Params) -> LeaseKnobs:
    """Defaults: election 3 ticks, drift 1, lease election - 2*drift, relative time (max_clock 0).

    Why 2*drift: the follower's clock may lag the leader's by `drift` when the round is sent
    and lead it by `drift` when the follower's timer runs out (see docs/failure-modes.md).
    """
    election = p.election_ticks or DEFAULT_ELECTION_TICKS
    drift = p.drift or DEFAULT_DRIFT
    lease = p.lease_ticks or election - 2 * drift
    return LeaseKnobs(p.max_clock, election, drift, lease)


def validate(p: Params) -> None:
    """Refuse a configuration that cannot be checked, naming the parameter to fix."""
    if not 1 <= p.servers <= MAX_SERVERS:
        raise ParamsError(f"--servers must be between 1 and {MAX_SERVERS}, got {p.servers}")
    if p.profile not in PROFILES:
        raise ParamsError(f"unknown profile {p.profile!r}; choose one of {', '.join(PROFILES)}")
    for name in ("max_term", "max_msgs", "max_log", "values", "max_clock", "drift"):
        if getattr(p, name) < 0:
            raise ParamsError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(p, name)}")
    if p.max_term < 1:
        raise ParamsError("--max-term must be >= 1 (servers start in term 1)")
    unknown = sorted(set(p.features) - set(FEATURES))
    if unknown:
        raise ParamsError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    if p.options:
        _validate_options(p)
    if p.bug is not None and p.bug not in BUG_IDS:
        raise ParamsError(f"unknown bug {p.bug!r}; known: {', '.join(BUG_IDS)}")
    if "lease" in p.features:
        _validate_lease(p)
    if p.reduce and ("lease" not in p.features or p.max_clock):
        raise ParamsError(
            "--reduce reduces the lease model in relative time: "
            "give --features ...,lease and no --max-clock"
        )
    if p.values and p.profile != "log":
        raise ParamsError("--values only applies to the log profile (use --profile log)")
    if p.topology is not None:
        _validate_liveness(p)


def _validate_options(p: Params) -> None:
    unknown = sorted(set(p.options) - set(OPTIONS))
    if unknown:
        raise ParamsError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    if p.topology is not None:
        raise ParamsError("the options have no liveness model: give no options with a topology")
    for o in sorted(p.options & PREVOTE_OPTIONS):
        if not p.has("prevote"):
            raise ParamsError(f"option {o} changes PreVote: it needs the prevote feature")
    if p.opt("newer_term_adopted_in_lease"):
        if not p.has("check_quorum"):
            raise ParamsError(
                "option newer_term_adopted_in_lease changes CheckQuorum's lease: it needs the "
                "check_quorum feature"
            )
        if p.has("lease"):  # the lease hole: docs/failure-modes.md
            raise ParamsError(
                "option newer_term_adopted_in_lease is unsafe with the lease feature (a follower "
                "would break its lease promise): drop one of them"
            )
    for o in sorted(p.options & HEARTBEAT_OPTIONS):
        if p.profile == "election" and not p.features:
            raise ParamsError(
                f"option {o} changes AppendEntries: it needs the heartbeat or log profile"
            )


def _validate_liveness(p: Params) -> None:
    t = p.topology
    assert t is not None
    if t.servers != p.servers:
        raise ParamsError(f"topology {t.name} has {t.servers} servers, --servers is {p.servers}")
    if p.profile != "election":
        raise ParamsError("liveness models cover the election profile only (drop --profile)")
    clocks = ("max_clock", "lease_ticks", "election_ticks", "drift")
    given = [f"--{name.replace('_', '-')}" for name in clocks if getattr(p, name)]
    if given:
        raise ParamsError(
            f"{', '.join(given)}: the liveness models' lease has no clocks (its timing is "
            "assumption T1, docs/liveness.md): drop them"
        )
    if p.reduce:
        raise ParamsError("--reduce does not apply to liveness models")
    try:
        validate_topology(t)
    except TopologyError as e:
        raise ParamsError(str(e)) from None


def _validate_lease(p: Params) -> None:
    if p.lease_ticks < 0 or p.election_ticks < 0:
        raise ParamsError("--lease-ticks and --election-ticks must be >= 0 (0: derived)")
    k = p.knobs
    if k.lease_ticks < 1:
        raise ParamsError(
            f"lease of {k.lease_ticks} tick(s): --election-ticks ({k.election_ticks}) must "
            f"exceed 2 * --drift ({2 * k.drift}), or give --lease-ticks"
        )
