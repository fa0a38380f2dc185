"""Errors of the failover client, and the "not leader" answer application servers give.

A server that is not the leader answers a request with ``NotLeaderError(leader_hint, term)``;
over HTTP as status 421 (Misdirected Request) with the JSON body of ``to_json()``. The client
follows the hint at once and falls back to discovery when there is none.
"""

from __future__ import annotations

import json
from typing import Protocol

NOT_LEADER_HTTP_STATUS = 421  # Misdirected Request: "sent to a server that cannot answer it"


class NotLeaderError(Exception):
    """This server does not lead; ``leader_hint`` is who it believes does (None: unknown)."""

    def __init__(self, leader_hint: str | None, term: int) -> None:
        hint = leader_hint or "unknown"
        super().__init__(f"not the leader (term {term}, leader {hint})")
        self.leader_hint = leader_hint
        self.term = term

    def to_json(self) -> bytes:
        return json.dumps(
            {"error": "not_leader", "leader": self.leader_hint, "term": self.term}
        ).encode()

    @classmethod
    def from_json(cls, body: bytes) -> NotLeaderError | None:
        """The error a ``to_json`` body describes; None if ``body`` is something else."""
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(doc, dict) or doc.get("error") != "not_leader":
            return None
        leader, term = doc.get("leader"), doc.get("term")
        if not (leader is None or isinstance(leader, str)) or type(term) is not int:
            return None
        return cls(leader, term)


class _KnowsLeader(Protocol):
    def current_leader(self) -> tuple[str | None, int]: ...

    @property
    def config(self) -> _HasId: ...


class _HasId(Protocol):
    @property
    def node_id(self) -> str: ...


def not_leader(elector: _KnowsLeader) -> NotLeaderError:
    """The answer for a request that reached a node that does not lead (either Elector)."""
    leader, term = elector.current_leader()
    if leader == elector.config.node_id:
        leader = None  # elected but without a lease yet: no better node to point at
    return NotLeaderError(leader, term)


class FailoverError(Exception):
    """The request did not succeed within its deadline or attempts; ``last`` says why."""

    def __init__(self, message: str, attempts: int, last: BaseException | None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last = last


class NoLeaderError(TimeoutError):
    """No node reported a leader holding a lease within the time allowed."""
