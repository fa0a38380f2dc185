"""The adapter protocol: newline-delimited JSON, strict request/response (docs/conformance.md).

The harness sends ``{"type": CMD, "msg_id": k, ...}``; the adapter answers
``{"type": CMD + "_ok", "in_reply_to": k, ...}`` or ``{"type": "error", "in_reply_to": k,
"code": ..., "text": ...}``. Anything else is a *protocol violation* by the adapter, reported as
such and never as a divergence from the spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final, Protocol

from electorate.conformance.canonical import JSON

PROTOCOL: Final = "electorate-conformance/1"
MESSAGE_SCHEMAS: Final = (
    "request_vote",
    "request_vote_res",
    "append_entries",
    "append_entries_res",
)
# Capabilities an adapter may declare in hello_ok; each enables rules or conformance levels.
CAPABILITIES: Final = ("step", "crash_restart", "transfer", "mutations", "prevote", "check_quorum")
OBSERVABLES: Final = ("role", "term", "voted_for", "votes_granted", "leader")
ERROR_CODES: Final = (
    "bad_request",
    "unsupported",
    "not_initialized",
    "unknown_node",
    "node_down",
    "internal",
)


class ProtocolViolationError(Exception):
    """The adapter broke the protocol (bad JSON, wrong reply, schema violation, crash)."""


class AdapterError(Exception):
    """The adapter answered a command with a well-formed error."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"adapter error {code}: {text}")
        self.code = code
        self.text = text


class Adapter(Protocol):
    """Transport to one adapter: one request dict in, one response dict out."""

    name: str

    def call(self, request: JSON) -> JSON: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Hello:
    implementation: str
    capabilities: frozenset[str]
    observables: frozenset[str]


@cache
def schema(name: str) -> Any:
    text = (
        resources.files("electorate.conformance")
        .joinpath(f"schemas/{name}.json")
        .read_text("utf-8")
    )
    return json.loads(text)


@cache
def _validator(name: str) -> Any:
    import jsonschema  # imported lazily: the in-process fast path does not need it

    cls = jsonschema.validators.validator_for(schema(name))
    return cls(schema(name))


def schema_errors(name: str, instance: object) -> list[str]:
    """Human-readable schema violations of ``instance`` against schemas/<name>.json."""
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: list(e.path))
    return [f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors]


def validate_response(resp: object, expect: str, msg_id: int, strict: bool) -> JSON:
    """Check one response envelope; raise ProtocolViolationError or AdapterError."""
    if not isinstance(resp, dict):
        raise ProtocolViolationError(f"response to {expect} is not a JSON object: {resp!r:.200}")
    if resp.get("in_reply_to") != msg_id:
        raise ProtocolViolationError(
            f"response to {expect} (msg_id {msg_id}) has in_reply_to {resp.get('in_reply_to')!r}"
        )
    if strict:
        _strict_checks(resp)
    if resp.get("type") == "error":
        code, text = resp.get("code"), resp.get("text")
        if code not in ERROR_CODES or not isinstance(text, str):
            raise ProtocolViolationError(f"malformed error response: {resp!r:.200}")
        raise AdapterError(str(code), text)
    if resp.get("type") != expect + "_ok":
        raise ProtocolViolationError(f"expected {expect}_ok, got type {resp.get('type')!r}")
    return resp


def _strict_checks(resp: JSON) -> None:
    problems = schema_errors("response", resp)
    for k, m in enumerate(resp.get("emitted") or []):
        kind = m.get("type") if isinstance(m, dict) else None
        if kind not in MESSAGE_SCHEMAS:
            problems.append(f"emitted/{k}: unknown message type {kind!r}")
            continue
        problems += [f"emitted/{k}/{p}" for p in schema_errors(str(kind), m)]
    for node, state in (resp.get("nodes") or {}).items():
        problems += [f"nodes/{node}/{p}" for p in schema_errors("node_state", state)]
    if problems:
        raise ProtocolViolationError("schema violation: " + "; ".join(problems[:3]))


class Client:
    """Numbers requests and checks every reply; ``strict`` adds JSON Schema validation."""

    def __init__(self, adapter: Adapter, strict: bool = True) -> None:
        self.adapter = adapter
        self.strict = strict
        self._next_id = 0

    def request(self, kind: str, **body: object) -> JSON:
        self._next_id += 1
        req: JSON = {"type": kind, "msg_id": self._next_id, **body}
        try:
            resp = self.adapter.call(req)
        except ProtocolViolationError:
            raise
        except Exception as e:  # an in-process adapter that raises broke the protocol too
            raise ProtocolViolationError(
                f"adapter failed on {kind}: {type(e).__name__}: {e}"
            ) from e
        return validate_response(resp, kind, self._next_id, self.strict)

    def hello(self) -> Hello:
        resp = self.request("hello", protocol=PROTOCOL)
        if resp.get("protocol") != PROTOCOL:
            raise ProtocolViolationError(
                f"adapter speaks {resp.get('protocol')!r}, the harness speaks {PROTOCOL!r}"
            )
        return Hello(
            str(resp.get("implementation", "?")),
            frozenset(resp.get("capabilities", [])),
            frozenset(resp.get("observables", [])),
        )
