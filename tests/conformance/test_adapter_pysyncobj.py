"""The PySyncObj adapter (electorate/conformance/adapters/pysyncobj_host.py): PySyncObj driven step
by step, its messages in canonical form, its journal across restarts, and the suite's findings
(docs/conformance-matrix.md, *PySyncObj*), each replayed from its stored script."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from electorate.conformance.adapters import pysyncobj_host
from electorate.conformance.adapters.pysyncobj_host import PySyncObjHost
from electorate.conformance.adapters.transport import InProcessAdapter
from electorate.conformance.canonical import JSON
from electorate.conformance.cli import main
from electorate.conformance.minimize import replay
from electorate.conformance.protocol import AdapterError, Client
from electorate.conformance.script import read_script

_missing = pysyncobj_host.available()
if _missing is not None and os.environ.get("CI"):
    raise RuntimeError(f"{_missing} (.ci/run installs it)")
pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=str(_missing)),
    # PySyncObj's journal reads its meta file without closing it (journal.py MetaStorer.getMeta)
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

SCRIPTS = Path(__file__).resolve().parents[2] / "docs" / "conformance-matrix" / "pysyncobj"


def _init(n: int, term: int = 1, last: tuple[int, int] = (0, 0)) -> JSON:
    ids = [f"n{k}" for k in range(1, n + 1)]
    state = {"term": term, "voted_for": None, "last_log_index": last[0], "last_log_term": last[1]}
    return {"nodes": ids, "seed": 5, "features": [], "initial": {i: dict(state) for i in ids}}


@pytest.fixture
def client() -> Iterator[Client]:
    adapter = InProcessAdapter(PySyncObjHost())
    try:
        c = Client(adapter, strict=True)  # replies checked against the JSON Schemas
        c.hello()
        yield c
    finally:
        adapter.close()


def _node(resp: JSON, nid: str) -> tuple[str, int, object]:
    n = resp["nodes"][nid]
    return n["role"], n["term"], n["voted_for"]


def test_hello_declares_no_voters_observable() -> None:
    c = Client(InProcessAdapter(PySyncObjHost()))
    hello = c.hello()
    assert hello.capabilities == {"step", "crash_restart"}
    assert "votes_granted" not in hello.observables  # PySyncObj keeps a count, not the voters


def test_an_election_in_canonical_form(client: Client) -> None:
    client.request("init", **_init(3, term=2, last=(2, 2)))
    r = client.request("fire_timer", node="n1", timer="election")
    assert _node(r, "n1") == ("candidate", 3, "n1")
    request = next(m for m in r["emitted"] if m["dest"] == "n2")
    # PySyncObj's log starts with a no-op at index 1: canonical indices are one less
    assert (request["last_log_index"], request["last_log_term"]) == (2, 2)
    assert request["ext"]["pysyncobj"]["last_log_index"] == 3
    grant = client.request("deliver", message=request)["emitted"]
    assert [(m["type"], m["term"], m["vote_granted"]) for m in grant] == [
        ("request_vote_res", 3, True)
    ]
    won = client.request("deliver", message=grant[0])
    assert _node(won, "n1") == ("leader", 3, "n1")
    # the leader appends a no-op entry of its term and sends it at once
    heartbeat = next(m for m in won["emitted"] if m["dest"] == "n2")
    assert (heartbeat["prev_log_index"], heartbeat["prev_log_term"]) == (2, 2)
    assert heartbeat["entries"] == [{"term": 3, "value": 0}]
    ack = client.request("deliver", message=heartbeat)
    assert ack["nodes"]["n2"]["leader"] == "n1"
    assert [(m["type"], m["success"], m["match_index"]) for m in ack["emitted"]] == [
        ("append_entries_res", True, 3)
    ]


def test_a_refusal_is_not_sent(client: Client) -> None:
    client.request("init", **_init(3))
    a = client.request("fire_timer", node="n1", timer="election")["emitted"]
    client.request("fire_timer", node="n2", timer="election")
    to_n2 = next(m for m in a if m["dest"] == "n2")
    r = client.request("deliver", message=to_n2)  # n2 voted for itself in term 2
    assert r["emitted"] == [] and _node(r, "n2") == ("candidate", 2, "n2")


def test_restart_reads_term_and_vote_from_the_journal(client: Client) -> None:
    client.request("init", **_init(3))
    a = client.request("fire_timer", node="n1", timer="election")["emitted"]
    client.request("deliver", message=next(m for m in a if m["dest"] == "n3"))
    assert client.request("crash", node="n3")["nodes"]["n3"] == {"up": False}
    assert _node(client.request("restart", node="n3"), "n3") == ("follower", 2, "n1")


def test_duplicated_grant_counted_twice_makes_two_leaders_in_one_term(client: Client) -> None:
    """The bug behind `duplicate-grant-counted.jsonl`, carried on to its consequence: with four
    servers, two candidates of term 2 each win with one real grant counted twice."""
    client.request("init", **_init(4))
    n1 = client.request("fire_timer", node="n1", timer="election")["emitted"]
    n3 = client.request("fire_timer", node="n3", timer="election")["emitted"]
    for requests, voter in ((n1, "n2"), (n3, "n4")):
        grant = client.request("deliver", message=next(m for m in requests if m["dest"] == voter))
        for _ in range(2):  # the network delivers the grant twice
            last = client.request("deliver", message=grant["emitted"][0])
    leaders = [(i, n["term"]) for i, n in last["nodes"].items() if n["role"] == "leader"]
    assert leaders == [("n1", 2), ("n3", 2)]


def test_without_a_journal_a_restarted_voter_votes_twice_two_leaders() -> None:
    """PySyncObj's default configuration (no journalFile): a voter restarted after granting a
    vote has forgotten it, grants a second candidate of the same term, and both lead."""
    adapter = InProcessAdapter(PySyncObjHost("memory"))
    try:
        client = Client(adapter, strict=True)
        client.hello()
        client.request("init", **_init(3))
        n1 = client.request("fire_timer", node="n1", timer="election")["emitted"]
        grant = client.request("deliver", message=next(m for m in n1 if m["dest"] == "n2"))
        client.request("crash", node="n2")
        assert _node(client.request("restart", node="n2"), "n2") == ("follower", 0, None)
        n3 = client.request("fire_timer", node="n3", timer="election")["emitted"]
        again = client.request("deliver", message=next(m for m in n3 if m["dest"] == "n2"))
        assert _node(again, "n2") == ("follower", 2, "n3")  # its second vote in term 2
        client.request("deliver", message=grant["emitted"][0])
        last = client.request("deliver", message=again["emitted"][0])
        leaders = [(i, n["term"]) for i, n in last["nodes"].items() if n["role"] == "leader"]
        assert leaders == [("n1", 2), ("n3", 2)]
    finally:
        adapter.close()


@pytest.mark.parametrize(
    ("command", "body", "code"),
    [
        ("init", {**_init(3), "features": ["prevote"]}, "unsupported"),
        ("init", {**_init(3), "mutations": ["vote-twice"]}, "unsupported"),
        ("fire_timer", {"node": "n9", "timer": "election"}, "unknown_node"),
        ("fire_timer", {"node": "n1", "timer": "period"}, "unsupported"),
        ("restart", {"node": "n1"}, "bad_request"),
        ("transfer", {"from": "n1", "to": "n2"}, "unsupported"),
    ],
)
def test_error_replies(client: Client, command: str, body: JSON, code: str) -> None:
    if command != "init":
        client.request("init", **_init(3))
    with pytest.raises(AdapterError) as e:
        client.request(command, **body)
    assert e.value.code == code


def _replay(
    name: str, capsys: pytest.CaptureFixture[str], adapter: str = "pysyncobj"
) -> tuple[int, str]:
    code = main(["conform", "replay", str(SCRIPTS / f"{name}.jsonl"), "--adapter", adapter])
    return code, capsys.readouterr().out


def test_finding_duplicate_grant_counted_is_a_bug(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _replay("duplicate-grant-counted", capsys)
    assert code == 1
    assert "first divergence (refinement" in out and "n4.role" in out


def test_finding_optimistic_next_index_is_a_declared_deviation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The adapter declares optimistic_next_index (the spec's option): the script passes; with
    the option withheld it still fails where the deviation shows."""
    code, out = _replay("optimistic-next-index", capsys)
    assert code == 0, out
    assert "PASS with declared deviations: optimistic_next_index" in out
    adapter = InProcessAdapter(PySyncObjHost())
    try:
        client = Client(adapter, strict=True)
        hello = client.hello()
        withheld = replace(hello, options=hello.options - {"optimistic_next_index"})
        r = replay(client, withheld, read_script(SCRIPTS / "optimistic-next-index.jsonl"))
    finally:
        adapter.close()
    assert r.failure is not None and (r.failure.check, r.failure.step) == (
        "messages",
        "heartbeat(n2)",
    )
    assert r.failure.step_index == 4
    assert ("message", "not sendable here", "append_entries n2->n1 term 2 prev 1@2 x1") in (
        r.failure.rows
    )


def test_finding_restart_without_journal_breaks_persistence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _replay("restart-without-journal", capsys, "pysyncobj:memory")
    assert code == 1 and "TermsNeverDecrease" in out


def test_finding_noop_entry_on_election_is_admitted(capsys: pytest.CaptureFixture[str]) -> None:
    assert _replay("noop-entry-on-election", capsys)[0] == 0


def test_finding_refusal_not_sent_is_admitted(capsys: pytest.CaptureFixture[str]) -> None:
    assert _replay("refusal-not-sent", capsys)[0] == 0
