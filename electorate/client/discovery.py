"""Leader discovery from the nodes' status endpoints (``GET /status`` on each ``--status``).

Every node is asked at once. A node that answers with ``is_leader`` (it leads and holds its
lease at that moment) is the leader; the highest term wins if two claim it, as a deposed leader
may still answer while its lease runs out. Without such an answer, the leader most answering
nodes name in the highest term they report is returned unconfirmed, but only if that node
answered itself: a dead leader's followers keep naming it until their election timeout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from electorate.client.policy import LeaderInfo
from electorate.impl.config import Addr
from electorate.impl.status import StatusError, fetch_status

Status = dict[str, object]


def poll_status(addr: Addr, timeout: float) -> Status | None:
    """One node's status document, or None if it cannot be had in ``timeout`` seconds."""
    try:
        return fetch_status(addr, timeout=timeout)
    except StatusError:
        return None


def poll_all(
    pool: ThreadPoolExecutor, status: Mapping[str, Addr], timeout: float
) -> dict[str, Status]:
    """Every node's status, asked in parallel; nodes that did not answer are left out."""
    futures = {n: pool.submit(poll_status, addr, timeout) for n, addr in status.items()}
    answers = {n: f.result() for n, f in futures.items()}
    return {n: doc for n, doc in answers.items() if doc is not None}


def leader_from(answers: Mapping[str, Status]) -> LeaderInfo | None:
    """The leader the answers show (see the module doc), or None."""
    claims = [(_term(doc), node) for node, doc in answers.items() if doc.get("is_leader") is True]
    if claims:
        term, node = max(claims)
        return LeaderInfo(node, term, confirmed=True)
    named: list[tuple[int, str]] = []
    for doc in answers.values():
        leader = doc.get("leader")
        if isinstance(leader, str) and leader in answers:
            named.append((_term(doc), leader))
    if not named:
        return None
    top = max(t for t, _ in named)
    node, _ = Counter(n for t, n in named if t == top).most_common(1)[0]
    return LeaderInfo(node, top, confirmed=False)


def _term(doc: Status) -> int:
    term = doc.get("term")
    return term if isinstance(term, int) else -1
