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

from electorate.conformance import interrupt
from electorate.conformance.canonical import JSON, show
from electorate.spec.ids import OPTIONS as SPEC_OPTIONS

PROTOCOL: Final = "electorate-conformance/1"
MESSAGE_SCHEMAS: Final = (
    "request_vote",
    "request_vote_res",
    "append_entries",
    "append_entries_res",
)
# Capabilities an adapter may declare in hello_ok; each enables rules or conformance levels.
# ("mutations" is the older spelling of a non-empty ``mutants`` list and is still accepted.)
CAPABILITIES: Final = ("step", "crash_restart", "transfer", "mutations", "prevote", "check_quorum")
OBSERVABLES: Final = ("role", "term", "voted_for", "votes_granted", "leader")
REQUIRED_OBSERVABLES: Final = ("role", "term", "voted_for")
# Implementation choices an adapter declares in hello_ok.options (docs/conformance.md,
# "Options"): each one widens what the harness accepts in a documented way; none is assumed.
# Two are choices of the mapping; the others are the spec's options (spec/features/options.py:
# deviations from raft.tla the model checker shows safe), run by the spec itself.
MAPPING_OPTIONS: Final = (
    "abandon_lost_election",  # a (pre-)candidate may give up its candidacy (term, vote kept)
    "restart_guard",  # a (re)started node acts as inside a leader's lease for one period
)
OPTIONS: Final = MAPPING_OPTIONS + SPEC_OPTIONS
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
        super().__init__(f"error reply {code}: {text}")
        self.code = code
        self.text = text


class Adapter(Protocol):
    """Transport to one adapter: one request dict in, one response dict out."""

    name: str

    def call(self, request: JSON) -> JSON: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Hello:
    """What an adapter declared in ``hello_ok``."""

    implementation: str
    capabilities: frozenset[str]
    observables: frozenset[str]
    options: frozenset[str] = frozenset()
    mutants: tuple[str, ...] = ()  # the planted bugs it offers, in its order


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
        raise ProtocolViolationError(f"the reply to {expect} is not a JSON object: {show(resp)}")
    if resp.get("in_reply_to") != msg_id:
        raise ProtocolViolationError(
            f"the reply to {expect} (msg_id {msg_id}) has in_reply_to "
            f"{show(resp.get('in_reply_to'))}: replies must come one per command, in order"
        )
    if strict:
        _strict_checks(resp)
    if resp.get("type") == "error":
        code, text = resp.get("code"), resp.get("text")
        if code not in ERROR_CODES or not isinstance(text, str):
            raise ProtocolViolationError(f"malformed error reply: {show(resp)}")
        raise AdapterError(str(code), text)
    if resp.get("type") != expect + "_ok":
        raise ProtocolViolationError(f"expected {expect}_ok, got type {show(resp.get('type'))}")
    return resp


def _strict_checks(resp: JSON) -> None:
    problems = schema_errors("response", resp)
    for k, m in enumerate(resp.get("emitted") or []):
        kind = m.get("type") if isinstance(m, dict) else None
        if kind not in MESSAGE_SCHEMAS:
            problems.append(f"emitted/{k}: unknown message type {show(kind)}")
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
        interrupt.check()
        try:
            resp = self.adapter.call(req)
        except ProtocolViolationError:
            interrupt.check()  # a read cut short by Ctrl-C or SIGTERM is the signal's
            raise
        except Exception as e:  # an in-process adapter that raises broke the protocol too
            interrupt.check()
            raise ProtocolViolationError(
                f"adapter failed on {kind}: {type(e).__name__}: {e}"
            ) from e
        return validate_response(resp, kind, self._next_id, self.strict)

    def hello(self) -> Hello:
        resp = self.request("hello", protocol=PROTOCOL)
        if resp.get("protocol") != PROTOCOL:
            raise ProtocolViolationError(
                f"the adapter speaks {json.dumps(resp.get('protocol'))}, "
                f"the harness speaks {json.dumps(PROTOCOL)}"
            )
        return parse_hello(resp)


def parse_hello(resp: JSON) -> Hello:
    """The declarations of a ``hello_ok`` reply; unknown names are protocol violations."""
    caps = _names(resp, "capabilities")
    observables = _names(resp, "observables")
    options = _names(resp, "options")
    mutants = tuple(_names_in_order(resp, "mutants"))
    problems = [f"unknown capability {json.dumps(c)}" for c in sorted(caps - set(CAPABILITIES))]
    problems += [f"unknown option {json.dumps(o)}" for o in sorted(options - set(OPTIONS))]
    problems += [
        f"unknown observable {json.dumps(o)}" for o in sorted(observables - set(OBSERVABLES))
    ]
    missing = [o for o in REQUIRED_OBSERVABLES if o not in observables]
    if missing:
        problems.append("observables must include " + ", ".join(missing))
    if problems:
        raise ProtocolViolationError("hello_ok: " + "; ".join(problems))
    return Hello(str(resp.get("implementation", "?")), caps, observables, options, mutants)


def _names_in_order(resp: JSON, key: str) -> list[str]:
    value = resp.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ProtocolViolationError(f"hello_ok: {key} must be a list of strings")
    return list(value)


def _names(resp: JSON, key: str) -> frozenset[str]:
    return frozenset(_names_in_order(resp, key))
