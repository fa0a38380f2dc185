"""The adapter protocol: envelopes, error codes, schemas, transports."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from electorate.conformance.adapters.impl_host import ImplHost
from electorate.conformance.adapters.spec_host import SpecHost
from electorate.conformance.adapters.transport import (
    InProcessAdapter,
    SubprocessAdapter,
    adapter_argv,
    open_adapter,
    parse_command,
)
from electorate.conformance.canonical import from_canonical, to_canonical
from electorate.conformance.harness import Session
from electorate.conformance.protocol import (
    PROTOCOL,
    AdapterError,
    Client,
    ProtocolViolationError,
    parse_hello,
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


def _documented_exchange() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The request/reply pairs of docs/conformance.md, "A complete exchange"."""
    doc = Path(__file__).parents[2] / "docs" / "conformance.md"
    text = doc.read_text("utf-8").split("### A complete exchange", 1)[1].split("```")[1]
    lines = [x for x in text.splitlines() if x.startswith(("→ ", "← "))]
    sent = [json.loads(x[2:]) for x in lines if x.startswith("→ ")]
    got = [json.loads(x[2:]) for x in lines if x.startswith("← ")]
    assert len(sent) == len(got) >= 10
    return list(zip(sent, got, strict=True))


def test_the_documented_exchange_is_what_the_impl_adapter_says() -> None:
    host = ImplHost()
    kinds = set()
    for request, documented in _documented_exchange():
        kinds.add(request["type"])
        reply = host.call(request)
        if reply["type"] == "hello_ok":  # the docs shorten the mutant list
            assert set(documented["mutants"]) <= set(reply["mutants"]) | {
                "clear-vote-on-same-term-stepdown"
            }
            reply["mutants"] = documented["mutants"]
        assert reply == documented, request
        assert schema_errors("response", reply) == []
    assert kinds >= {"hello", "init", "fire_timer", "deliver", "crash", "restart", "observe"}


def test_hello_declarations_are_checked() -> None:
    ok = {"protocol": PROTOCOL, "capabilities": ["step"], "observables": ["role", "term"]}
    with pytest.raises(ProtocolViolationError, match="must include voted_for"):
        parse_hello(ok)
    ok["observables"] = ["role", "term", "voted_for"]
    assert parse_hello(ok).options == frozenset()
    with pytest.raises(ProtocolViolationError, match='unknown option "fast"'):
        parse_hello({**ok, "options": ["fast"]})
    hello = parse_hello({**ok, "options": ["abandon_lost_election"], "mutants": ["b", "a"]})
    assert hello.mutants == ("b", "a") and "abandon_lost_election" in hello.options


def test_command_lines_are_split_like_a_shell() -> None:
    argv, env = parse_command("RAFT_LOG=debug  X='a b' node 'my adapter.mjs' --n=3")
    assert argv == ["node", "my adapter.mjs", "--n=3"]
    assert env == {"RAFT_LOG": "debug", "X": "a b"}
    with pytest.raises(ValueError, match="names no program"):
        parse_command("A=1")
    with pytest.raises(ValueError, match="cannot parse"):
        parse_command("node 'unterminated")


def test_environment_assignments_reach_the_adapter(tmp_path: Path) -> None:
    script = tmp_path / "env.py"
    script.write_text(
        "import json, sys, os\n"
        "for line in sys.stdin:\n"
        "    req = json.loads(line)\n"
        "    print(json.dumps({'type': 'hello_ok', 'in_reply_to': req['msg_id'],\n"
        "        'protocol': req['protocol'], 'implementation': os.environ['WHO'],\n"
        "        'capabilities': [], 'observables': ['role', 'term', 'voted_for']}), flush=True)\n"
    )
    adapter = open_adapter(f"WHO=figure2 {sys.executable} {script}")
    try:
        assert Client(adapter).hello().implementation == "figure2"
    finally:
        adapter.close()
