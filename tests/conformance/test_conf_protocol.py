"""The adapter protocol: envelopes, error codes, schemas, transports."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from electorate.conformance.adapters.impl_host import ImplHost
from electorate.conformance.adapters.spec_host import SpecHost
from electorate.conformance.adapters.transport import (
    InProcessAdapter,
    SubprocessAdapter,
    adapter_argv,
)
from electorate.conformance.canonical import from_canonical, to_canonical
from electorate.conformance.harness import Session
from electorate.conformance.protocol import (
    PROTOCOL,
    AdapterError,
    Client,
    ProtocolViolationError,
    schema_errors,
)
from electorate.conformance.script import RunConfig, Step
from electorate.spec.messages import Message, MType

CFG = RunConfig(3, ((0, 0), (1, 1), (2, 1)))


@pytest.mark.parametrize("host", [ImplHost, SpecHost])
def test_hello_and_errors_carry_codes(host: type[ImplHost] | type[SpecHost]) -> None:
    h = host()
    assert h.call({"type": "hello", "msg_id": 1, "protocol": PROTOCOL})["type"] == "hello_ok"
    r = h.call({"type": "fire_timer", "msg_id": 2, "node": "n1", "timer": "election"})
    assert (r["type"], r["code"], r["in_reply_to"]) == ("error", "not_initialized", 2)
    assert h.call({"type": "bogus", "msg_id": 3})["code"] == "unsupported"
    h.call({"type": "init", "msg_id": 4, **CFG.init_body()})
    assert h.call({"type": "crash", "msg_id": 5, "node": "n9"})["code"] in (
        "unknown_node",
        "bad_request",
    )


def test_responses_validate_against_the_schemas() -> None:
    client = Client(InProcessAdapter(ImplHost()), strict=True)
    client.hello()
    client.request("init", **CFG.init_body())
    r = client.request("fire_timer", node="n2", timer="election")
    assert {m["type"] for m in r["emitted"]} == {"request_vote"}
    assert r["nodes"]["n2"]["role"] == "candidate"


def test_schema_rejects_a_message_missing_a_field() -> None:
    m = to_canonical(Message(MType.RequestVoteResponse, 2, 0, 1, mvote_granted=True))
    assert schema_errors("request_vote_res", m) == []
    del m["vote_granted"]
    assert schema_errors("request_vote_res", m)


def test_canonical_round_trip() -> None:
    m = Message(MType.AppendEntriesRequest, 3, 2, 0, mprev_log_index=1, mprev_log_term=1)
    assert from_canonical(to_canonical(m), 3) == m


def test_adapter_error_is_not_a_divergence() -> None:
    client = Client(InProcessAdapter(ImplHost()), strict=True)
    client.hello()
    with pytest.raises(AdapterError):
        client.request("init", **{**CFG.init_body(), "mutations": ["no-such-bug"]})


def _fake_adapter(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "fake.py"
    script.write_text(textwrap.dedent(body))
    return [sys.executable, str(script)]


def test_garbage_from_a_subprocess_is_a_protocol_violation(tmp_path: Path) -> None:
    argv = _fake_adapter(
        tmp_path,
        """
        import sys
        for line in sys.stdin:
            print("this is not json", flush=True)
        """,
    )
    adapter = SubprocessAdapter(argv, "fake")
    try:
        with pytest.raises(ProtocolViolationError, match="not JSON"):
            Client(adapter).hello()
    finally:
        adapter.close()


def test_wrong_in_reply_to_is_a_protocol_violation(tmp_path: Path) -> None:
    argv = _fake_adapter(
        tmp_path,
        """
        import json, sys
        for line in sys.stdin:
            print(json.dumps({"type": "hello_ok", "in_reply_to": 999}), flush=True)
        """,
    )
    adapter = SubprocessAdapter(argv, "fake")
    try:
        with pytest.raises(ProtocolViolationError, match="in_reply_to"):
            Client(adapter).hello()
    finally:
        adapter.close()


def test_subprocess_impl_adapter_speaks_the_protocol() -> None:
    adapter = SubprocessAdapter(adapter_argv("electorate adapter impl"), "impl")
    try:
        client = Client(adapter, strict=True)
        hello = client.hello()
        assert "crash_restart" in hello.capabilities
        session = Session(client, hello, CFG)
        session.start()
        session.apply(Step("timeout", 2))
        assert session.s.current_term[2] == 2
    finally:
        adapter.close()
