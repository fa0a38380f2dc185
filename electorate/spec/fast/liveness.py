"""The liveness models' quotients on packed states: what the C module covers, State -> bytes,
and the fair instance of each of its instance codes.

`space_for(p)` is the C successor function of the capped quotient (`_liveness.c`), and
`space_for(p, span)` that of the exact one (ShiftedRaftModel: terms shifted, live terms at most
`span` apart, a successor beyond marked CUT), when the C module covers the model
(`not_covered`: a liveness model with any of PreVote, CheckQuorum and the (untimed) lease, no
options, no bug variant). A state is a bytes object (`pack`); the C module yields each
(successor, instance code) pair once, and `instance` turns a code into the action instance
spec/liveness/fairness.py judges. tests/spec/test_fast_liveness.py holds the pairs to the
readable spec's on every state of small models, in both quotients.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final

from electorate.model_check.liveness import Fairness
from electorate.spec.liveness import fairness as liveness_fairness
from electorate.spec.liveness.timing import LULL
from electorate.spec.messages import Message, MType
from electorate.spec.next import Action, Init
from electorate.spec.params import Params
from electorate.spec.state import NIL, Role, State

_MISSING: str | None = None  # why the C module is not there
try:
    from electorate.spec.fast import _liveness
except ImportError as e:  # not built: the search runs the readable spec
    _MISSING = f"the C module spec/fast/_liveness is not built ({e})"

COVERED_FEATURES: Final = frozenset({"prevote", "check_quorum", "lease"})
MAX_SERVERS: Final = 7
# Instance codes (_liveness.c): kind * 1024 + argument; a message's argument is its slot.
KINDS: Final = (
    "Timeout",
    "LuckyTimeout",
    "Heartbeat",
    "ElectionTimer",
    "Receive",
    "DropMessage",
    "Stabilize",
    "Lull",
)
SERVER_KINDS: Final = 4  # the first four take a server
CUT: Final = 1 << 16  # a code's flag (_liveness.c): the successor is outside the exact span
IN_TRAFFIC: Final = 512  # added to a LuckyTimeout's code taken with votes in flight


def not_covered(p: Params) -> str | None:
    """Why the C module cannot run the liveness model p, or None when it can."""
    if _MISSING is not None:
        return _MISSING
    if p.topology is None:
        return "not a liveness model"
    if not p.features <= COVERED_FEATURES:
        extra = ", ".join(sorted(p.features - COVERED_FEATURES))
        return f"the packed liveness model covers PreVote, CheckQuorum and lease, not {extra}"
    if p.options:
        return f"the packed liveness model covers no options ({', '.join(sorted(p.options))})"
    if p.bug is not None:
        return f"the packed liveness model covers no bug variant ({p.bug} given)"
    if p.profile != "election":
        return f"the packed liveness model covers the election profile, not {p.profile}"
    if p.servers > MAX_SERVERS:
        return f"the packed liveness model holds at most {MAX_SERVERS} servers"
    return None


def space_for(p: Params, span: int = 0) -> Any:
    """The C module's Space for the model p: its capped quotient, or with a span its exact
    one; call only when `not_covered(p)` is None."""
    assert not_covered(p) is None and p.topology is not None
    assert _liveness.CUT == CUT
    return _liveness.Space(
        p.servers,
        sorted(p.topology.links),
        p.has("prevote"),
        p.has("check_quorum"),
        p.has("lease"),
        span,
    )


def pack(p: Params, s: State) -> bytes:
    """A readable state of the quotient as the C module packs it (every field it drops is
    checked to be at its initial value: the packed form is one-to-one on the model's states)."""
    n = p.servers
    out = bytearray()
    prevotes = s.prevotes_granted or (0,) * n
    acked = s.acked or (0,) * n
    for k in range(n):
        out += bytes(
            (
                s.current_term[k],
                int(s.role[k]),
                s.voted_for[k] + 1,
                s.votes_responded[k],
                s.votes_granted[k],
                prevotes[k],
                int(s.heard_leader[k]),
                acked[k],
            )
        )
    out.append(int(s.stable))
    out.append(0 if s.lucky == NIL else 255 if s.lucky == LULL else s.lucky + 1)
    codes = []
    for m, copies in s.messages:
        if copies != 1 or m != _bare(m):
            raise ValueError(f"not a state of a liveness model's quotient: {m}")
        flag = m.msuccess if m.mtype == MType.AppendEntriesResponse else m.mvote_granted
        codes.append(
            bytes(
                (int(m.mtype) * 4 + 2 * m.mpre_vote + int(flag), m.msource * 16 + m.mdest, m.mterm)
            )
        )
    for code in sorted(codes):
        out += code
    return bytes(out)


def _bare(m: Message) -> Message:
    """m with only the fields a liveness model's messages use (logs stay empty)."""
    return Message(
        m.mtype,
        m.mterm,
        m.msource,
        m.mdest,
        mvote_granted=m.mvote_granted,
        msuccess=m.msuccess,
        mpre_vote=m.mpre_vote,
    )


def roles(p: Params, b: bytes) -> bytes:
    """The servers' roles of a packed state (what the liveness properties read)."""
    return b[1 : 8 * p.servers : 8]


def stable(p: Params, b: bytes) -> bool:
    return bool(b[8 * p.servers])


def instance(code: int) -> Action:
    """The action instance of a code (a message named by its slot, its term left out: fairness
    and the search read only the slot)."""
    kind, arg = divmod(code & ~CUT, 1024)
    name = KINDS[kind]
    if name == "LuckyTimeout":  # its situation names its fair instance (timing.situation)
        busy, i = divmod(arg, IN_TRAFFIC)
        return Action(name, (i,), "votes in flight" if busy else "quiet")
    if kind < SERVER_KINDS:
        return Action(name, (arg,))
    if name in ("Receive", "DropMessage"):
        rest, pre = divmod(arg, 2)
        rest, mtype = divmod(rest, 4)
        src, dst = divmod(rest, 8)
        return Action(name, (Message(MType(mtype), 0, src, dst, mpre_vote=bool(pre)),))
    return Action(name, ())


class PackedQuotient:
    """A quotient of a liveness model in packed form, for
    model_check.liveness_packed.PackedExplorer: the C successor function, the readable
    fairness of each instance code, and readable views of the servers' roles. The capped
    quotient (LivenessRaftModel), or with a span the exact one (ShiftedRaftModel(p, span)),
    whose successors beyond the span come with CUT set in their code."""

    def __init__(self, p: Params, span: int = 0) -> None:
        self.p = p
        self.cut = CUT if span else 0
        self.space = space_for(p, span)
        self.successors = self.space.successors
        self._init = Init(p)
        self._roles = slice(1, 8 * p.servers, 8)  # `roles`, without a call per successor

    def fairness(self, code: int) -> tuple[Hashable, Fairness] | None:
        return liveness_fairness.fairness(self.p, instance(code))

    def action(self, code: int) -> Action:
        return instance(code)

    def view_key(self, b: bytes) -> bytes:
        return b[self._roles]

    def view(self, key: bytes) -> State:
        """The initial state with these roles: what the liveness properties read of a state
        (spec/liveness/properties.py reads roles only; tests/spec/test_fast_liveness.py checks
        the predicates agree on real states)."""
        return self._init._replace(role=tuple(Role(x) for x in key))

    def rank(self, b: bytes) -> int:
        return 0 if stable(self.p, b) else 1
