"""Quorum arithmetic shared by elections, CheckQuorum and the lease."""

from __future__ import annotations

from collections.abc import Iterable


def quorum_size(voters: int) -> int:
    """Smallest majority of ``voters`` (§3.4)."""
    return voters // 2 + 1


def quorum_value(values: Iterable[int], quorum: int) -> int:
    """The largest v such that at least ``quorum`` of ``values`` are >= v (0 if none).

    With one value per voter (e.g. the newest heartbeat round each voter acknowledged), this is
    the newest round that a quorum has acknowledged: the same computation as a commit index.
    """
    ordered = sorted(values, reverse=True)
    if quorum <= 0:
        return ordered[0] if ordered else 0
    return ordered[quorum - 1] if len(ordered) >= quorum else 0
