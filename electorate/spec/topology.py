"""Network topologies: which ordered pairs of servers can deliver messages to each other.

A parameter of the liveness models (`Params.topology`): messages on a link outside the topology
are lost, on a link inside it they are lost only before the network stabilizes
(spec/liveness/network.py). A server always reaches itself. The catalogue names the topologies
of the partial-connectivity literature; any other is given as an edge list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from electorate.spec.messages import server_name

Link = tuple[int, int]  # (source, destination), servers 0-based


class TopologyError(ValueError):
    """An unknown topology or a malformed edge list; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Topology:
    """A named set of directed links over `servers` servers (self-links implied)."""

    name: str
    servers: int
    links: frozenset[Link]

    def up(self, i: int, j: int) -> bool:
        """Whether a message from i reaches j (always, for a message to oneself)."""
        return i == j or (i, j) in self.links

    def both(self, i: int, j: int) -> bool:
        """i and j reach each other (a request can be answered)."""
        return self.up(i, j) and self.up(j, i)

    def peers(self, i: int) -> int:
        """Bitmask: i and every server connected to i in both directions."""
        return sum(1 << j for j in range(self.servers) if self.both(i, j))

    def quorum_connected(self, i: int) -> bool:
        """i and the servers it exchanges messages with form a strict majority."""
        return self.peers(i).bit_count() * 2 > self.servers

    def describe(self) -> str:
        """`howard (5 servers: s1<->s2, s1<->s3, ...)`: both directions joined."""
        shown: list[str] = []
        for i, j in sorted(self.links):
            if (j, i) in self.links:
                if i < j:
                    shown.append(f"{server_name(i)}<->{server_name(j)}")
            else:
                shown.append(f"{server_name(i)}->{server_name(j)}")
        return f"{self.name} ({self.servers} servers: {', '.join(shown) or 'no links'})"

    def edge_list(self) -> str:
        """The links in the edge-list syntax `parse_edges` reads (both directions: `1-2`)."""
        out: list[str] = []
        for i, j in sorted(self.links):
            if (j, i) in self.links:
                if i < j:
                    out.append(f"{i + 1}-{j + 1}")
            else:
                out.append(f"{i + 1}>{j + 1}")
        return ",".join(out)


def _both_ways(pairs: list[tuple[int, int]]) -> frozenset[Link]:
    """Links in both directions between 1-based server pairs."""
    return frozenset((a - 1, b - 1) for x, y in pairs for a, b in ((x, y), (y, x)))


def full(n: int) -> Topology:
    """Every server reaches every other."""
    return Topology("full", n, frozenset((i, j) for i in range(n) for j in range(n) if i != j))


def howard(n: int) -> Topology:
    """Howard & Abraham (2020): {1,2,3} fully connected, 4 reaches only 2, 5 reaches only 3."""
    _need(n, 5, "howard")
    return Topology("howard", 5, _both_ways([(1, 2), (1, 3), (2, 3), (2, 4), (3, 5)]))


def star(n: int) -> Topology:
    """Server 1 is the hub: every other server reaches only it."""
    return Topology("star", n, _both_ways([(1, k) for k in range(2, n + 1)]))


def chain(n: int) -> Topology:
    """1 - 2 - ... - n: each server reaches its neighbours only."""
    return Topology("chain", n, _both_ways([(k, k + 1) for k in range(1, n)]))


def bridge(n: int) -> Topology:
    """Two fully connected halves joined through one bridge server (the middle one): on 5,
    {1,2,3} and {3,4,5}; the bridge alone reaches both sides."""
    _need(n, 3, "bridge")
    mid = (n + 1) // 2
    left, right = range(1, mid + 1), range(mid, n + 1)
    pairs = [(a, b) for side in (left, right) for a in side for b in side if a < b]
    return Topology("bridge", n, _both_ways(pairs))


def chained(n: int) -> Topology:
    """OmniPaxos's "chained" scenario (Harrison & Ng, 2023) on 3 servers: the links 1-2 and
    2-3 are up, 1-3 is down; the leader sits at one end of the chain."""
    _need(n, 3, "chained")
    return Topology("chained", 3, _both_ways([(1, 2), (2, 3)]))


def _need(n: int, k: int, name: str) -> None:
    if n != k and not (name == "bridge" and n >= k):
        size = f"{k} servers" if name != "bridge" else f"at least {k} servers"
        raise TopologyError(f"topology {name} needs {size}, got --servers {n}")


CATALOGUE: Final[dict[str, Callable[[int], Topology]]] = {
    "full": full,
    "howard": howard,
    "star": star,
    "bridge": bridge,
    "chain": chain,
    "chained": chained,
}
# The server count a catalogue topology implies when --servers is not given.
DEFAULT_SERVERS: Final[dict[str, int]] = {"howard": 5, "chained": 3}


def parse_edges(text: str, n: int) -> Topology:
    """An edge list: `1-2,2-3` (both directions) or `1>2` (one direction), servers 1..n."""
    links: set[Link] = set()
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        sep = "-" if "-" in item else (">" if ">" in item else None)
        if sep is None:
            raise TopologyError(f"edge {item!r}: write A-B (both directions) or A>B (one)")
        a_text, _, b_text = item.partition(sep)
        try:
            a, b = int(a_text.strip().lstrip("s")), int(b_text.strip().lstrip("s"))
        except ValueError:
            raise TopologyError(f"edge {item!r}: servers are numbers 1..{n}") from None
        for x in (a, b):
            if not 1 <= x <= n:
                raise TopologyError(
                    f"edge {item!r} names server {x}, but there are {n} servers (1..{n}); "
                    "give --servers or fix the edge list"
                )
        if a == b:
            raise TopologyError(f"edge {item!r}: a server always reaches itself")
        links.add((a - 1, b - 1))
        if sep == "-":
            links.add((b - 1, a - 1))
    return Topology("edges", n, frozenset(links))


def topology_from(name: str, n: int) -> Topology:
    """A catalogue name or an edge list (anything with a digit in it) for n servers."""
    if name in CATALOGUE:
        return CATALOGUE[name](n)
    if any(c.isdigit() for c in name):
        return parse_edges(name, n)
    raise TopologyError(
        f"unknown topology {name!r}; choose one of {', '.join(CATALOGUE)} or give an edge "
        "list such as 1-2,2-3"
    )


def validate(t: Topology) -> None:
    """Refuse a topology in which no server exchanges messages with a quorum: nobody could
    ever be elected, so every liveness property would fail for want of a network."""
    if not any(t.quorum_connected(i) for i in range(t.servers)):
        raise TopologyError(
            f"no server of {t.describe()} is connected both ways to a quorum "
            f"({t.servers // 2 + 1} of {t.servers}): no leader can ever be elected; "
            "connect more servers"
        )
