"""A tiny HTTP JSON status endpoint (``GET /status``) and its client.

The JSON always has ``id``, ``role``, ``term``, ``leader``, ``is_leader`` and
``lease_remaining_ms``; ``is_leader`` and the lease are computed from the monotonic clock when the
request is answered, so a frozen-then-resumed leader never reports a lease it no longer holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import time
from typing import TYPE_CHECKING

from electorate.impl.config import Addr

if TYPE_CHECKING:
    from electorate.impl.runtime import NodeRuntime

MAX_REQUEST_BYTES = 8192
REQUIRED_FIELDS = ("id", "role", "term", "leader", "is_leader", "lease_remaining_ms")


class StatusError(Exception):
    """The status endpoint could not be read; the message says why."""


def status_dict(node: NodeRuntime) -> dict[str, object]:
    snap, now = node.snapshot, time.monotonic()
    stats = node.transport.stats
    return {
        "id": snap.node_id,
        "cluster": node.config.cluster,
        "role": snap.role.value,
        "term": snap.term,
        "leader": snap.leader,
        "voted_for": snap.voted_for,
        "is_leader": snap.is_leader(now),
        "token": snap.token,
        "lease_remaining_ms": round(snap.lease_remaining(now) * 1000, 1),
        "monotonic": now,  # when this was computed (CLOCK_MONOTONIC, comparable on one host)
        "isolated": node.transport.isolated,
        "max_loop_lag_ms": round(node.max_lag_s * 1000, 1),
        "lease_stepdowns": node.lag_stepdowns,
        "messages_sent": stats.sent,
        "messages_received": stats.received,
        "frames_rejected": dict(stats.rejected),
        "state_writes": node.storage.writes,
    }


async def serve_status(node: NodeRuntime, addr: Addr) -> asyncio.Server:
    """Start the endpoint on the node's loop; the caller closes the returned server."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            parts = head.split(b"\r\n", 1)[0].split()
            if len(parts) >= 2 and parts[0] == b"GET" and parts[1] in (b"/", b"/status"):
                code, body = "200 OK", json.dumps(status_dict(node)).encode()
            else:
                code, body = "404 Not Found", b'{"error": "try GET /status"}'
            writer.write(
                f"HTTP/1.0 {code}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, addr[0], addr[1], limit=MAX_REQUEST_BYTES)


def fetch_status(addr: Addr, timeout: float = 2.0) -> dict[str, object]:
    """GET a node's status; StatusError with a one-line reason on any failure."""
    conn = http.client.HTTPConnection(addr[0], addr[1], timeout=timeout)
    where = f"{addr[0]}:{addr[1]}"
    try:
        conn.request("GET", "/status")
        resp = conn.getresponse()
        raw = resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise StatusError(f"cannot reach status endpoint {where}: {e}") from None
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    if resp.status != 200:
        raise StatusError(f"status endpoint {where} answered HTTP {resp.status}")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise StatusError(f"status endpoint {where} sent invalid JSON") from None
    if not isinstance(data, dict) or any(k not in data for k in REQUIRED_FIELDS):
        raise StatusError(f"status endpoint {where} sent an unexpected document")
    return data


def format_status(s: dict[str, object]) -> str:
    """One human line per field group, for ``electorate status``."""
    leader = s.get("leader") or "-"
    lease = f"{s['lease_remaining_ms']} ms" if s.get("is_leader") else "-"
    return (
        f"node {s['id']}: {s['role']} in term {s['term']}, leader {leader}, "
        f"is_leader {str(s['is_leader']).lower()}, lease left {lease}, token {s.get('token')}"
    )
