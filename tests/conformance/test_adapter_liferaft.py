"""The liferaft adapter (electorate/conformance/adapters/liferaft): liferaft driven step by step,
and its findings (docs/conformance-matrix.md, *liferaft*), each replayed from its stored script
or carried on by hand to what a user would see."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from electorate.conformance.adapters import liferaft
from electorate.conformance.adapters.transport import SubprocessAdapter
from electorate.conformance.canonical import JSON
from electorate.conformance.cli import main
from electorate.conformance.protocol import AdapterError, Client

_missing = liferaft.available()
if _missing is not None and os.environ.get("CI"):
    raise RuntimeError(f"{_missing} (.ci/run installs it)")
pytestmark = pytest.mark.skipif(_missing is not None, reason=str(_missing))

SCRIPTS = Path(__file__).resolve().parents[2] / "docs" / "conformance-matrix" / "liferaft"


def _init(logs: list[tuple[int, int]], term: int = 1) -> JSON:
    ids = [f"n{k}" for k in range(1, len(logs) + 1)]
    initial = {
        i: {"term": term, "voted_for": None, "last_log_index": k, "last_log_term": t}
        for i, (k, t) in zip(ids, logs, strict=True)
    }
    return {"nodes": ids, "seed": 1, "features": [], "initial": initial}


@pytest.fixture
def client() -> Iterator[Client]:
    adapter = SubprocessAdapter(liferaft.argv(), "liferaft")
    try:
        c = Client(adapter, strict=True)  # replies checked against the JSON Schemas
        c.hello()
        yield c
    finally:
        adapter.close()


def _to(messages: list[JSON], dest: str) -> JSON:
    return next(m for m in messages if m["dest"] == dest)


def _leaders(resp: JSON) -> list[tuple[str, int]]:
    return [(i, n["term"]) for i, n in resp["nodes"].items() if n.get("role") == "leader"]


def test_hello() -> None:
    adapter = SubprocessAdapter(liferaft.argv(), "liferaft")
    try:
        hello = Client(adapter).hello()
    finally:
        adapter.close()
    assert hello.implementation == "liferaft 1.4.0 (npm @markwylde/liferaft)"
    assert hello.capabilities == {"step", "crash_restart"}
    assert "votes_granted" not in hello.observables  # liferaft counts grants, names no voters


def test_a_candidate_with_an_empty_log_is_elected_over_a_longer_log(client: Client) -> None:
    """An empty log reports the node's current term as its last log term: n3, with no entry,
    wins n2's vote although n2 holds an entry (index 1, term 1) that n3 lacks (Raft §5.4.1)."""
    client.request("init", **_init([(1, 1), (1, 1), (0, 0)]))
    requests = client.request("fire_timer", node="n3", timer="election")["emitted"]
    to_n2 = _to(requests, "n2")
    assert (to_n2["term"], to_n2["last_log_index"], to_n2["last_log_term"]) == (2, 0, 2)
    grant = client.request("deliver", message=to_n2)["emitted"]
    assert [m["vote_granted"] for m in grant] == [True]
    assert _leaders(client.request("deliver", message=grant[0])) == [("n3", 2)]


def test_a_duplicated_grant_counts_twice_two_leaders_in_one_term(client: Client) -> None:
    client.request("init", **_init([(0, 0)] * 4))
    n1 = client.request("fire_timer", node="n1", timer="election")["emitted"]
    n3 = client.request("fire_timer", node="n3", timer="election")["emitted"]
    for requests, voter in ((n1, "n2"), (n3, "n4")):
        grant = client.request("deliver", message=_to(requests, voter))["emitted"][0]
        for _ in range(2):  # the network delivers the grant twice
            last = client.request("deliver", message=grant)
    assert _leaders(last) == [("n1", 2), ("n3", 2)]


def test_a_single_node_never_elects_itself(client: Client) -> None:
    client.request("init", **_init([(0, 0)]))
    for _ in range(3):
        n1 = client.request("fire_timer", node="n1", timer="election")["nodes"]["n1"]
        assert n1["role"] == "candidate"  # quorum() is false with no peers: no leader, ever
    assert n1["term"] == 4


def test_error_replies(client: Client) -> None:
    cases: list[tuple[str, JSON, str]] = [
        ("init", {**_init([(0, 0)] * 3), "features": ["prevote"]}, "unsupported"),
        ("init", {**_init([(0, 0)] * 3), "mutations": ["vote-twice"]}, "unsupported"),
    ]
    for command, body, code in cases:
        with pytest.raises(AdapterError) as e:
            client.request(command, **body)
        assert e.value.code == code
    client.request("init", **_init([(0, 0)] * 3))
    later: list[tuple[str, JSON, str]] = [
        ("fire_timer", {"node": "n9", "timer": "election"}, "unknown_node"),
        ("fire_timer", {"node": "n1", "timer": "period"}, "unsupported"),
        ("restart", {"node": "n1"}, "bad_request"),
        ("transfer", {"from": "n1", "to": "n2"}, "unsupported"),
    ]
    for command, body, code in later:
        with pytest.raises(AdapterError) as e:
            client.request(command, **body)
        assert e.value.code == code, command


@pytest.mark.parametrize(
    ("script", "check"),
    [
        ("empty-log-claims-current-term", "first divergence (messages)"),
        ("empty-log-voter-refuses", "first divergence (refinement, messages)"),
        # the reply never reaches the wire: to raft.tla a lost reply, which the suite accepts
        ("stale-request-answered-with-promise", "PASS"),
        ("restart-forgets-term", "invariant:TermsNeverDecrease"),
    ],
)
def test_findings_replay(script: str, check: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conform", "replay", str(SCRIPTS / f"{script}.jsonl"), "--adapter", "liferaft"])
    out = capsys.readouterr().out
    assert code == (0 if check == "PASS" else 1) and check in out
