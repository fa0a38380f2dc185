"""The JavaScript Figure-2 adapter (electorate/conformance/adapters/js): the protocol envelope,
its error replies, and the suite's verdict on it (it is correct Raft: it must pass)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from electorate.conformance.adapters import js
from electorate.conformance.adapters.transport import SubprocessAdapter
from electorate.conformance.cli import main
from electorate.conformance.mutants import ADMITTED, CATALOGUE
from electorate.conformance.protocol import PROTOCOL, AdapterError, Client

pytestmark = pytest.mark.skipif(js.available() is not None, reason=str(js.available()))

THREE = {
    "nodes": ["n1", "n2", "n3"],
    "seed": 7,
    "features": [],
    "initial": {
        "n1": {"term": 1, "voted_for": None, "last_log_index": 1, "last_log_term": 1},
        "n2": {"term": 1, "voted_for": None, "last_log_index": 0, "last_log_term": 0},
        "n3": {"term": 2, "voted_for": None, "last_log_index": 2, "last_log_term": 2},
    },
}


@pytest.fixture
def client() -> Iterator[Client]:
    adapter = SubprocessAdapter(shlex.split(js.command()), "figure2-js")
    try:
        yield Client(adapter, strict=True)  # every reply checked against the JSON Schemas
    finally:
        adapter.close()


def test_hello_declares_steps_restarts_no_options_and_the_catalogue(client: Client) -> None:
    hello = client.hello()
    assert hello.implementation == "figure2-js"
    assert hello.capabilities == {"step", "crash_restart"}
    assert hello.options == frozenset()  # Figure 2 as written: a refused candidate stays one
    # every mutant of the suite's catalogue but PreVote's and those raft.tla admits
    offered = {m.name for m in CATALOGUE} - {"prevote-bumps-term"} - set(ADMITTED)
    assert set(hello.mutants) == offered
    assert {"role", "term", "voted_for", "votes_granted"} <= hello.observables


def test_a_three_node_election_by_hand(client: Client) -> None:
    client.hello()
    client.request("init", **THREE)
    r = client.request("fire_timer", node="n1", timer="election")
    assert r["nodes"]["n1"] == {
        "up": True,
        "role": "candidate",
        "term": 2,
        "voted_for": "n1",
        "votes_granted": ["n1"],
        "leader": None,
    }
    to_n2, to_n3 = r["emitted"]
    assert (to_n2["dest"], to_n2["last_log_index"], to_n2["last_log_term"]) == ("n2", 1, 1)
    # n3's log (2 entries, last term 2) is more up to date: it refuses, in its own term 2
    refusal = client.request("deliver", message=to_n3)["emitted"]
    assert [(m["type"], m["term"], m["vote_granted"]) for m in refusal] == [
        ("request_vote_res", 2, False)
    ]
    # Figure 2: a refused candidate stays a candidate until its timer fires again
    after = client.request("deliver", message=refusal[0])["nodes"]["n1"]
    assert (after["role"], after["votes_granted"]) == ("candidate", ["n1"])
    grant = client.request("deliver", message=to_n2)["emitted"]
    won = client.request("deliver", message=grant[0])
    assert won["nodes"]["n1"]["role"] == "leader"
    heartbeats = won["emitted"]
    assert [(m["type"], m["dest"], m["entries"]) for m in heartbeats] == [
        ("append_entries", "n2", []),
        ("append_entries", "n3", []),
    ]
    # n3's log holds n1's last entry (index 1, term 1): the heartbeat matches there
    ack = client.request("deliver", message=heartbeats[1])
    assert [(m["success"], m["match_index"]) for m in ack["emitted"]] == [(True, 1)]
    assert ack["nodes"]["n3"]["leader"] == "n1"


def test_restart_reads_only_the_durable_term_and_vote(client: Client) -> None:
    client.hello()
    client.request("init", **THREE)
    request = client.request("fire_timer", node="n1", timer="election")["emitted"][0]
    client.request("deliver", message=request)  # n2 votes for n1 in term 2
    assert client.request("crash", node="n2")["nodes"]["n2"] == {"up": False}
    n2 = client.request("restart", node="n2")["nodes"]["n2"]
    assert (n2["role"], n2["term"], n2["voted_for"]) == ("follower", 2, "n1")


@pytest.mark.parametrize(
    ("command", "body", "code"),
    [
        ("observe", {}, "not_initialized"),
        ("init", {**THREE, "mutations": ["no-such-bug"]}, "unsupported"),
        ("init", {**THREE, "features": ["prevote"]}, "unsupported"),
        ("transfer", {"from": "n1", "to": "n2"}, "unsupported"),
    ],
)
def test_error_replies_carry_codes(
    client: Client, command: str, body: dict[str, object], code: str
) -> None:
    client.hello()
    with pytest.raises(AdapterError) as e:
        client.request(command, **body)
    assert e.value.code == code


def test_errors_after_init(client: Client) -> None:
    client.hello()
    client.request("init", **THREE)
    client.request("crash", node="n3")
    cases: list[tuple[str, dict[str, object], str]] = [
        ("fire_timer", {"node": "n9", "timer": "election"}, "unknown_node"),
        ("fire_timer", {"node": "n3", "timer": "election"}, "node_down"),
        ("fire_timer", {"node": "n1", "timer": "period"}, "unsupported"),
        ("deliver", {"message": {"type": "gossip"}}, "bad_request"),
        ("restart", {"node": "n1"}, "bad_request"),
    ]
    for command, body, code in cases:
        with pytest.raises(AdapterError) as e:
            client.request(command, **body)
        assert e.value.code == code, command
    assert client.request("observe")["nodes"]["n3"] == {"up": False}


def test_a_line_that_is_not_json_gets_an_error_reply() -> None:
    adapter = SubprocessAdapter(shlex.split(js.command()), "figure2-js")
    try:
        stdin, stdout = adapter.proc.stdin, adapter.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(b"not json\n")
        stdin.flush()
        reply = json.loads(stdout.readline())
        assert (reply["code"], reply["in_reply_to"]) == ("bad_request", None)
        stdin.write(json.dumps({"type": "hello", "msg_id": 4, "protocol": PROTOCOL}).encode())
        stdin.write(b"\n")
        stdin.flush()
        assert json.loads(stdout.readline())["in_reply_to"] == 4  # and it goes on answering
    finally:
        adapter.close()


@pytest.mark.slow
def test_the_suite_passes_figure2_at_the_default_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["conform", "--adapter", "figure2-js", "--json", "--bundle-dir", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["result"]) == (0, "pass"), out.get("failure")


def test_planted_bugs_are_killed_behaviourally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kill matrix on this second implementation: each planted bug dies by a behavioural
    check (the stored scenarios find them within a few steps)."""
    names = "vote-twice,no-term-increment,quorum-half,forget-state-on-restart"
    argv = ["conform", "--adapter", "figure2-js", "--mutants", names, "--json"]
    code = main([*argv, "--bundle-dir", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["killed"], out["not_run"]) == (0, 4, 0)
    for name, row in out["mutants"].items():
        assert row["check"] in ("refinement", "messages") or row["check"].startswith("invariant")
        assert row["killed"], name


@pytest.mark.slow
def test_the_double_vote_bug_is_killed_at_the_default_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["conform", "--adapter", "figure2-js", "--json", "--bundle-dir", str(tmp_path)]
    code = main([*argv, "--mutant", "clear-vote-on-same-term-stepdown"])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["killed"]) == (0, 1)
