"""The node's small HTTP endpoint: status, Prometheus metrics, health probes; and a client.

Served on the node's own event loop, so an answer proves that loop is running:

- ``GET /status``: JSON with at least ``id``, ``role``, ``term``, ``leader``, ``is_leader`` and
  ``lease_remaining_ms``; ``is_leader`` and the lease are computed from the monotonic clock when
  the request is answered, so a frozen-then-resumed leader never reports a lease it no longer
  holds.
- ``GET /metrics``: the Prometheus exposition of the node's own registry (``impl.metrics``), in
  the format the ``Accept`` header asks for (text or OpenMetrics).
- ``GET /healthz`` (liveness): 200 while the node runs and its loop ticked within the last
  election timeout, else 503.
- ``GET /readyz`` (readiness): 200 while a leader is known and, if this node is the leader, it
  holds its lease; else 503. Kubernetes probes count 200-399 as success and anything else as a
  failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import time

from electorate.impl.config import Addr
from electorate.impl.core import Role
from electorate.impl.nodeview import NodeView

MAX_REQUEST_BYTES = 8192
REQUIRED_FIELDS = ("id", "role", "term", "leader", "is_leader", "lease_remaining_ms")


class StatusError(Exception):
    """The status endpoint could not be read; the message says why."""


def status_dict(node: NodeView) -> dict[str, object]:
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
        "messages_dropped": {
            "outbox": stats.dropped_outbox,
            "injected": stats.dropped_injected,
            "unencodable": stats.dropped_unencodable,
        },
        "send_task_restarts": stats.send_task_restarts,
        "frames_rejected": dict(stats.rejected),
        "state_writes": node.storage.writes,
    }


def health(node: NodeView, now: float) -> tuple[bool, dict[str, object]]:
    """Liveness: the node has not failed and its loop ticked within one election timeout."""
    limit = node.config.election_timeout_ms / 1000.0
    last = node.last_tick_at
    since = None if last is None else now - last
    if node.failure is not None:
        return False, {"status": "failed", "error": str(node.failure)}
    if since is None or since > limit:
        return False, {
            "status": "stalled",
            "since_last_tick_ms": _ms(since),
            "limit_ms": _ms(limit),
        }
    return True, {"status": "ok", "since_last_tick_ms": _ms(since)}


def readiness(node: NodeView, now: float) -> tuple[bool, dict[str, object]]:
    """Readiness: a leader is known and, on the leader itself, the lease is held."""
    snap = node.snapshot
    doc: dict[str, object] = {"role": snap.role.value, "term": snap.term, "leader": snap.leader}
    if snap.leader is None:
        return False, {"status": "no leader known", **doc}
    if snap.role is Role.LEADER and not snap.is_leader(now):
        return False, {"status": "leader without a lease", **doc}
    return True, {"status": "ok", **doc}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


JSON = "application/json"


def _route(node: NodeView, path: bytes, accept: str) -> tuple[str, str, bytes]:
    """(status line, content type, body) for one GET."""
    path = path.split(b"?", 1)[0]
    if path in (b"/", b"/status"):
        return "200 OK", JSON, json.dumps(status_dict(node)).encode()
    if path == b"/metrics":
        body, content_type = node.metrics.render(accept)
        return "200 OK", content_type, body
    if path in (b"/healthz", b"/readyz"):
        check = health if path == b"/healthz" else readiness
        ok, doc = check(node, time.monotonic())
        code = "200 OK" if ok else "503 Service Unavailable"
        return code, JSON, json.dumps(doc).encode()
    return "404 Not Found", JSON, b'{"error": "try /status, /metrics, /healthz or /readyz"}'


def _request(head: bytes) -> tuple[bytes, bytes, str]:
    """(method, path, Accept header) of a request head."""
    lines = head.split(b"\r\n")
    parts = lines[0].split()
    accept = ""
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"accept":
            accept = value.strip().decode("latin-1")
    if len(parts) < 2:
        return b"", b"", accept
    return parts[0], parts[1], accept


async def serve_status(node: NodeView, addr: Addr) -> asyncio.Server:
    """Start the endpoint on the node's loop; the caller closes the returned server."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            method, path, accept = _request(head)
            if method == b"GET":
                code, content_type, body = _route(node, path, accept)
            else:
                code, content_type, body = "405 Method Not Allowed", JSON, b'{"error": "GET only"}'
            writer.write(
                f"HTTP/1.0 {code}\r\nContent-Type: {content_type}\r\n"
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
