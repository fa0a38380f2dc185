"""Adapters that misbehave: one line naming the adapter and the step, exit 2, never a traceback;
in a kill matrix, rows that did not run, and exit 1."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from electorate.conformance.cli import main

# A wrapper around the impl adapter that misbehaves on the first command of type BREAK;
# FAULT chooses how.
WRAPPER = """
import json, sys, time
from electorate.conformance.adapters.impl_host import ImplHost

FAULT, BREAK = {fault!r}, {at!r}
host = ImplHost()
for line in sys.stdin:
    req = json.loads(line)
    resp = host.call(req)
    if req.get("type") == BREAK:
        if FAULT == "crash":
            sys.exit(3)
        if FAULT == "hang":
            time.sleep(60)
        if FAULT == "garbage":
            print("this is not json", flush=True)
            continue
        if FAULT == "out_of_order":
            resp["in_reply_to"] = req["msg_id"] - 1
    print(json.dumps(resp), flush=True)
"""


def _adapter(tmp_path: Path, fault: str, at: str) -> str:
    script = tmp_path / f"adapter_{fault}.py"
    script.write_text(textwrap.dedent(WRAPPER.format(fault=fault, at=at)))
    return f"{sys.executable} {script}"


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("crash", "exited (status 3) without replying"),
        ("hang", "no reply within 1 s"),
        ("garbage", 'the reply is not JSON: "this is not json"'),
        ("out_of_order", "in_reply_to"),
    ],
)
def test_a_misbehaving_adapter_gets_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fault: str, says: str
) -> None:
    cmd = _adapter(tmp_path, fault, at="deliver")
    code = main(["conform", "--adapter", cmd, "--no-corpus", "--reply-timeout", "1"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert cmd in lines[0] and " (deliver(" in lines[0] and says in lines[0], lines[0]


def test_an_adapter_that_crashes_at_start_gets_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cmd = _adapter(tmp_path, "crash", at="hello")
    assert main(["conform", "--adapter", cmd]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "failed hello" in err, err


UNSUPPORTED = """
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    if req["type"] == "hello":
        resp = {"type": "hello_ok", "protocol": req["protocol"], "implementation": "nothing",
                "capabilities": ["step"], "observables": ["role", "term", "voted_for"],
                "mutants": ["vote-twice", "quorum-half"]}
    elif req["type"] == "shutdown":
        resp = {"type": "shutdown_ok"}
    else:
        resp = {"type": "error", "code": "unsupported", "text": "no " + req["type"]}
    print(json.dumps({**resp, "msg_id": 0, "in_reply_to": req["msg_id"]}), flush=True)
"""


def test_unsupported_everything_is_not_run_and_fails_the_matrix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "unsupported.py"
    script.write_text(textwrap.dedent(UNSUPPORTED))
    cmd = f"{sys.executable} {script}"
    code = main(["conform", "--adapter", cmd, "--all-mutants", "--json", "--no-corpus"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["result"] == "fail"
    rows = out["mutants"]
    assert {"vote-twice", "quorum-half"} <= set(rows)
    assert all(r["result"] == "not run" and not r["killed"] for r in rows.values()), rows
    assert out["killed"] == 0 and out["not_run"] == len(rows)
    assert "unsupported" in rows["vote-twice"]["reason"]
    # a plain run of the same adapter is a protocol failure: exit 2, one line
    assert main(["conform", "--adapter", cmd, "--no-corpus"]) == 2
    assert "at init" in capsys.readouterr().err
