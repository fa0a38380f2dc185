"""The trace format: the writer, the reader, the shipped JSON Schema, and bad input (one line
naming the file and line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from electorate.validate import cli, events
from electorate.validate.events import TraceFormatError
from electorate.validate.tracefile import SCHEMA_FILE, TraceWriter, message, read_trace

TRACES = Path(__file__).parent / "traces"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
VOTERS = ["n1", "n2", "n3"]


def schema_ok(event: object) -> bool:
    return not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(event))


def write_all_kinds(path: Path) -> None:
    w = TraceWriter(path, "n1")
    w.start(0, None, VOTERS, prevote=True, check_quorum=True, lease=True, t=1.5)
    w.timer("election", t=2.0)
    w.send(message("request_vote", "n1", "n2", 1, pre_vote=True))
    w.role("pre_candidate")
    w.recv(message("request_vote_res", "n2", "n1", 1, granted=True, pre_vote=True))
    w.term(1, "n1")
    w.role("candidate")
    w.recv(message("request_vote", "n3", "n1", 1, last_log_index=0, last_log_term=0))
    w.vote("n3", 1, False)
    w.send(message("request_vote_res", "n1", "n3", 1, granted=False))
    w.recv(message("append_entries_res", "n2", "n1", 1, success=True, round=3))
    w.lease_start(1)
    w.lease_end(1)
    w.close()


def test_every_kind_round_trips_and_matches_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "n1.ndjson"
    write_all_kinds(path)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, 14))
    assert all(schema_ok(e) for e in lines), [e for e in lines if not schema_ok(e)]
    trace = read_trace(path)
    assert trace.voters == tuple(VOTERS)
    assert trace.config == {"prevote": True, "check_quorum": True, "lease": True}
    kinds = [e.kind for e in trace.logs["n1"].events]
    assert kinds[:3] == ["start", "timer", "send"] and kinds[-2:] == ["lease_start", "lease_end"]


def test_a_reopened_file_continues_the_sequence_as_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "n1.ndjson"
    w = TraceWriter(path, "n1")
    w.start(0, None, VOTERS, prevote=False, check_quorum=False, lease=False)
    w.timer()
    w.close()
    again = TraceWriter(path, "n1")
    again.start(3, "n2", VOTERS, prevote=False, check_quorum=False, lease=False)
    again.close()
    events = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(e["seq"], e["kind"]) for e in events] == [(1, "start"), (2, "timer"), (3, "restart")]


def test_a_torn_last_line_is_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "n1.ndjson"
    w = TraceWriter(path, "n1")
    w.start(0, None, VOTERS, prevote=False, check_quorum=False, lease=False)
    w.close()
    with path.open("ab") as f:
        f.write(b'{"node":"n1","seq":2,"kind":"ti')  # a crash in the middle of a write
    w = TraceWriter(path, "n1")
    w.timer()
    w.close()
    events = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(e["seq"], e["kind"]) for e in events] == [(1, "start"), (2, "timer")]


START: dict[str, Any] = {
    "node": "n1",
    "seq": 1,
    "kind": "start",
    "term": 0,
    "voted_for": None,
    "voters": VOTERS,
    "config": {"prevote": False, "check_quorum": False, "lease": False},
}
RECV: dict[str, Any] = {
    "node": "n1",
    "seq": 2,
    "kind": "recv",
    "msg": {"type": "append_entries", "src": "n2", "dst": "n1", "term": 1},
}


# (name, the file's lines, the line number named, what the message says, schema rejects it)
BAD: list[tuple[str, list[str], int, str, bool | None]] = [
    ("not NDJSON", [json.dumps(START), "node=n1 seq=2 kind=timer"], 2, "not JSON", None),
    ("not an object", [json.dumps(START), "[1, 2]"], 2, "must be a JSON object", True),
    (
        "unknown kind",
        [json.dumps(START), json.dumps({"node": "n1", "seq": 2, "kind": "elected"})],
        2,
        "unknown event kind 'elected'",
        True,
    ),
    (
        "missing field",
        [json.dumps({k: v for k, v in START.items() if k != "voters"})],
        1,
        "missing field 'voters'",
        True,
    ),
    (
        "missing message field",
        [json.dumps(START), json.dumps({**RECV, "msg": {**RECV["msg"], "term": None}} | {})],
        2,
        "msg.term must be an integer",
        True,
    ),
    (
        "unknown node",
        [json.dumps(START), json.dumps({**RECV, "node": "n9"})],
        2,
        "event from unknown node 'n9'",
        False,
    ),
    (
        "message from an unknown node",
        [json.dumps(START), json.dumps({**RECV, "msg": {**RECV["msg"], "src": "x7"}})],
        2,
        "unknown node 'x7'",
        False,
    ),
    ("first event not a start", [json.dumps({**RECV, "seq": 1})], 1, "must be 'start'", False),
    (
        "a gap in seq",
        [json.dumps(START), json.dumps({**RECV, "seq": 3})],
        2,
        "seq 3 follows 1",
        False,
    ),
    (
        "an unexpected field",
        [json.dumps(START), json.dumps({**RECV, "extra": 1})],
        2,
        "unexpected field(s) extra",
        True,
    ),
    (
        "a wrong type",
        [json.dumps({**START, "term": "0"})],
        1,
        "term must be an integer",
        True,
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_one_line_with_file_and_line_and_exit_2(
    case: tuple[str, list[str], int, str, bool | None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, lines, line_no, says, schema_rejects = case
    path = tmp_path / "run.ndjson"
    path.write_text("\n".join(lines) + "\n")
    assert cli.main([str(path), "--jobs", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert f"{path}:{line_no}: " in err and says in err, err
    if schema_rejects is not None:
        assert schema_ok(json.loads(lines[line_no - 1])) is not schema_rejects


def test_a_truncated_last_line_and_an_empty_trace_are_bad_input(tmp_path: Path) -> None:
    torn = tmp_path / "torn.ndjson"
    torn.write_text(json.dumps(START) + "\n" + '{"node": "n1"')
    with pytest.raises(TraceFormatError, match=r"torn.ndjson:2: truncated line"):
        read_trace(torn)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "n1.ndjson").write_text("")
    with pytest.raises(TraceFormatError, match="no events"):
        read_trace(empty)
    with pytest.raises(TraceFormatError, match="no such file"):
        read_trace(tmp_path / "missing")


def test_nodes_of_one_trace_must_agree_on_voters_and_features(tmp_path: Path) -> None:
    other = {**START, "node": "n2", "config": {**START["config"], "prevote": True}}
    path = tmp_path / "run.ndjson"
    path.write_text(json.dumps(START) + "\n" + json.dumps(other) + "\n")
    with pytest.raises(TraceFormatError, match=r"run.ndjson:2: n2 runs \{prevote\}"):
        read_trace(path)
    voters = {**START, "node": "n2", "voters": ["n1", "n2"]}
    path.write_text(json.dumps(START) + "\n" + json.dumps(voters) + "\n")
    with pytest.raises(TraceFormatError, match=r"run.ndjson:2: n2's voters n1, n2 differ"):
        read_trace(path)


def test_the_fixture_traces_match_the_schema() -> None:
    for f in TRACES.glob("*.ndjson"):
        for line in f.read_text().splitlines():
            assert schema_ok(json.loads(line)), (f, line)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**65),
    st.floats(allow_nan=False),
    st.sampled_from(["n1", "n2", "", "x" * 70, "leader", "append_entries", "request_vote"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["type", "src", "term"]), st.integers(), max_size=2),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_path_accepts_only_what_the_thorough_check_accepts(data: st.DataObject) -> None:
    """Events are checked on an inline fast path; what it accepts must be exactly what the
    thorough check (the one naming problems) accepts, with the same result."""
    base = data.draw(st.sampled_from(SAMPLE))
    event = json.loads(json.dumps(base))
    target = event
    if "msg" in event and data.draw(st.booleans()):
        target = event["msg"]
    how = data.draw(st.sampled_from(["none", "drop", "set", "add"]))
    keys = sorted(target)
    if how == "drop":
        target.pop(data.draw(st.sampled_from(keys)))
    elif how == "set":
        target[data.draw(st.sampled_from(keys))] = data.draw(VALUES)
    elif how == "add":
        target[data.draw(st.sampled_from(["extra", "round", "granted", "t", "leader"]))] = (
            data.draw(VALUES)
        )
    fast = events._fast_event(event)
    try:
        thorough: events.Event | None = events._checked_event(event, "x:1")
    except TraceFormatError:
        thorough = None
    if fast is not None:
        assert thorough == fast
    if how == "none" and event["kind"] not in ("start", "restart"):
        assert fast is not None


def _sample() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for f in sorted(TRACES.glob("*.ndjson")):
        lines += [json.loads(x) for x in f.read_text().splitlines()]
    lines.append(
        {
            "node": "n1",
            "seq": 9,
            "kind": "send",
            "t": 1.5,
            "msg": {
                "type": "append_entries",
                "src": "n1",
                "dst": "n2",
                "term": 2,
                "round": 3,
                "leader_commit": 0,
            },
        }
    )
    lines.append({"node": "n1", "seq": 9, "kind": "role", "role": "leader", "leader": "n1"})
    lines.append({"node": "n1", "seq": 9, "kind": "lease_start", "term": 2})
    lines.append(
        {"node": "n1", "seq": 9, "kind": "vote", "candidate": "n2", "term": 2, "granted": False}
    )
    return lines


SAMPLE = _sample()
