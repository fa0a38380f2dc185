"""The election profile on packed states: what the C module covers, and State <-> row.

`space_for(p, ...)` is the packed form of a model (model_check.packed.PackedSpace) when the
C module covers it, else a sentence saying why not: the election profile, no features, and the
bug variants of that profile. Everything the checker reports is in readable States: rows are
unpacked for a counterexample, and fingerprints of readable States are taken by packing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from electorate.spec.ids import BugId
from electorate.spec.messages import Message, MType
from electorate.spec.params import Params
from electorate.spec.state import Role, State

_MISSING: str | None = None  # why the C module is not there
try:
    from electorate.spec.fast import _election
except ImportError as e:  # not built: the checker runs the readable spec
    _MISSING = f"the C module spec/fast/_election is not built ({e})"

# The properties the C module evaluates (its P_* predicates), by property id.
PREDICATES: Final[dict[str, int]] = {
    "ElectionSafety": 0,
    "LeaderHasQuorum": 1,
    "VotesGrantedAreVotes": 2,
    "VoteResponsesAreVotes": 3,
    "LeaderElected": 4,
}
# The bug variants it runs (its BUG_* flags). With empty logs every log is up to date, so
# no-log-check changes nothing in this profile.
BUGS: Final[dict[BugId, int]] = {
    "quorum-half": 1,
    "vote-twice": 2,
    "forget-vote-on-restart": 4,
    "stale-votes-counted": 8,
    "leader-keeps-role": 16,
    "no-term-increment": 32,
    "no-log-check": 0,
}
MAX_MSGS: Final = 15  # message slots in a packed state: max_msgs + 1 <= 16


def not_covered(p: Params) -> str | None:
    """Why the C module cannot run the model p, or None when it can."""
    if _MISSING is not None:
        return _MISSING
    if p.topology is not None:
        return "liveness models are not covered by the packed election model"
    if p.profile != "election":
        return f"the packed model covers the election profile, not {p.profile}"
    if p.features:
        return f"the packed model covers no features ({', '.join(sorted(p.features))} given)"
    if p.options:
        return f"the packed model covers no options ({', '.join(sorted(p.options))} given)"
    if p.bug is not None and p.bug not in BUGS:
        return f"the packed model does not cover the bug variant {p.bug}"
    if p.max_msgs > MAX_MSGS:
        return f"the packed model holds at most {MAX_MSGS} messages (--max-msgs {p.max_msgs})"
    return None


class ElectionSpace:
    """The packed election model of one Params (a model_check.packed.PackedSpace)."""

    def __init__(
        self,
        p: Params,
        invariants: Sequence[tuple[str, bool]],
        sometimes: Sequence[str],
        symmetry: bool,
    ) -> None:
        """`invariants`: (property id, negated) pairs in checking order (a witness search checks
        a negated "sometimes" property); `sometimes`: the ids of the goals to report."""
        assert not_covered(p) is None
        self.params = p
        self.invariant_ids = [pid for pid, _ in invariants]
        self.sometimes_ids = list(sometimes)
        self._c = _election.Space(
            p.servers,
            p.max_term,
            p.max_msgs,
            BUGS[p.bug] if p.bug is not None else 0,
            bytes(PREDICATES[pid] for pid, _ in invariants),
            bytes(int(neg) for _, neg in invariants),
            bytes(PREDICATES[pid] for pid in sometimes),
            symmetry,
        )
        self.words = self._c.words
        mode = "symmetry" if symmetry else "no symmetry"
        self.note = (
            f"packed successors in C (spec/fast/_election.c: election profile, {mode}, "
            f"{self.words} word{'s' if self.words > 1 else ''} a state)"
        )

    def pack(self, s: State) -> bytes:
        """s as a row; ValueError if s is not a state of this profile."""
        n = self.params.servers
        empty = (
            all(not log for log in s.log)
            and s.commit_index == (0,) * n
            and s.next_index == ((1,) * n,) * n
            and s.match_index == ((0,) * n,) * n
            and not s.heard_leader
        )
        if not empty:
            raise ValueError("not a state of the election profile without features")
        msgs = tuple(_message_fields(m, c) for m, c in s.messages)
        roles = tuple(int(r) for r in s.role)
        row = self._c.pack(
            s.current_term, roles, s.voted_for, s.votes_responded, s.votes_granted, msgs
        )
        if self.unpack(row) != s:  # a variable the row does not hold (a feature's, an option's)
            raise ValueError("not a state of the election profile without features")
        return row

    def unpack(self, row: Any) -> State:
        terms, roles, voted, resp, granted, msgs = self._c.unpack(row)
        n = self.params.servers
        return State(
            current_term=terms,
            role=tuple(Role(r) for r in roles),
            voted_for=voted,
            votes_responded=resp,
            votes_granted=granted,
            next_index=((1,) * n,) * n,
            match_index=((0,) * n,) * n,
            log=((),) * n,
            commit_index=(0,) * n,
            messages=tuple((_message(f), f[5]) for f in msgs),
        )

    def fingerprint(self, s: State) -> int:
        return self._c.fingerprint(self.pack(s))

    def key(self, row: Any) -> bytes:
        return self._c.key(row)

    def check(self, row: Any) -> tuple[tuple[bool, ...], tuple[bool, ...], bool]:
        """(each invariant holds, each "sometimes" property holds, inside the constraint)."""
        return self._c.check(row)

    def successors(self, row: Any) -> list[bytes]:
        """Every successor of an in-constraint row, in Next's order (stutters: the row)."""
        return self._c.successors(row)

    def expand(
        self, rows: Any
    ) -> tuple[bytes, bytes, bytes, bytes, int, tuple[int, bytes, str] | None, list[str]]:
        cand, fps, parents, own, generated, found, reached = self._c.expand(rows)
        violation = None
        if found is not None:
            parent, row, k = found
            violation = (parent, row, self.invariant_ids[k])
        ids = [pid for k, pid in enumerate(self.sometimes_ids) if reached >> k & 1]
        return cand, fps, parents, own, generated, violation, ids


def _message_fields(m: Message, copies: int) -> tuple[int, int, int, int, int, int]:
    plain = Message(m.mtype, m.mterm, m.msource, m.mdest, mvote_granted=m.mvote_granted)
    if m != plain or m.mtype not in (MType.RequestVoteRequest, MType.RequestVoteResponse):
        raise ValueError(f"not a message of the election profile: {m}")
    return (int(m.mtype), m.mterm, m.msource, m.mdest, int(m.mvote_granted), copies)


def _message(f: tuple[int, int, int, int, int, int]) -> Message:
    return Message(MType(f[0]), f[1], f[2], f[3], mvote_granted=bool(f[4]))


def space_for(
    p: Params, invariants: Sequence[tuple[str, bool]], sometimes: Sequence[str], symmetry: bool
) -> ElectionSpace | str:
    """The packed form of the model, or why there is none."""
    reason = not_covered(p)
    if reason is not None:
        return reason
    unknown = [pid for pid, _ in invariants if pid not in PREDICATES]
    unknown += [pid for pid in sometimes if pid not in PREDICATES]
    if unknown:
        return f"the packed model does not evaluate {', '.join(unknown)}"
    if len(invariants) > 8 or len(sometimes) > 8:
        return "the packed model checks at most 8 invariants and 8 goals"
    return ElectionSpace(p, invariants, sometimes, symmetry)
