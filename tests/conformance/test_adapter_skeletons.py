"""The adapter skeletons (JavaScript, Go): each speaks the protocol envelope, and the suite runs
the unplugged skeleton to a verdict (it fails by refinement: its stub node never campaigns)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from electorate.conformance.adapters import skeletons
from electorate.conformance.adapters.transport import SubprocessAdapter
from electorate.conformance.cli import main
from electorate.conformance.protocol import AdapterError, Client

INIT = {
    "nodes": ["n1", "n2"],
    "seed": 3,
    "features": [],
    "initial": {
        "n1": {"term": 2, "voted_for": "n2", "last_log_index": 1, "last_log_term": 2},
        "n2": {"term": 2, "voted_for": "n2", "last_log_index": 0, "last_log_term": 0},
    },
}


def _needs(tool: str) -> None:
    """Skip where the toolchain is missing, except in CI, which installs it (.ci/run)."""
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed; .ci/run installs it")
        pytest.skip(f"needs {tool}")


@pytest.fixture(scope="module")
def go_adapter(tmp_path_factory: pytest.TempPathFactory) -> str:
    _needs("go")
    out = tmp_path_factory.mktemp("skeleton-go")
    env = {**os.environ, "GO111MODULE": "off", "GOCACHE": str(out / "gocache")}
    source = skeletons.path("go/main.go")
    subprocess.run(
        ["go", "build", "-o", str(out / "adapter"), str(source)],
        check=True,
        env=env,
        cwd=out,
        timeout=300,
    )
    return shlex.join([str(out / "adapter")])


@pytest.fixture(scope="module")
def js_adapter() -> str:
    _needs("node")
    return shlex.join(["node", str(skeletons.path("adapter.mjs"))])


@pytest.fixture(params=["js", "go"])
def command(request: pytest.FixtureRequest) -> str:
    name = "js_adapter" if request.param == "js" else "go_adapter"
    return str(request.getfixturevalue(name))


@pytest.fixture
def client(command: str) -> Iterator[Client]:
    adapter = SubprocessAdapter(shlex.split(command), command)
    try:
        yield Client(adapter, strict=True)  # every reply checked against the JSON Schemas
    finally:
        adapter.close()


def test_envelope_hello_init_and_every_command(client: Client) -> None:
    hello = client.hello()
    assert hello.capabilities == {"step"}
    with pytest.raises(AdapterError) as e:
        client.request("observe")
    assert e.value.code == "not_initialized"
    nodes = client.request("init", **INIT)["nodes"]
    assert nodes["n1"] == {
        "up": True,
        "role": "follower",
        "term": 2,
        "voted_for": "n2",
        "votes_granted": [],
        "leader": None,
    }
    assert client.request("fire_timer", node="n1", timer="election")["emitted"] == []
    assert client.request("fire_timer", node="n2", timer="heartbeat")["emitted"] == []
    message = {"type": "request_vote", "src": "n1", "dest": "n2", "term": 3}
    message |= {"candidate_id": "n1", "last_log_index": 1, "last_log_term": 2}
    assert client.request("deliver", message=message)["emitted"] == []
    assert client.request("crash", node="n2")["nodes"]["n2"] == {"up": False}
    assert client.request("restart", node="n2")["nodes"]["n2"]["term"] == 2
    assert client.request("observe")["nodes"].keys() == {"n1", "n2"}
    cases: list[tuple[str, dict[str, object], str]] = [
        ("fire_timer", {"node": "n7", "timer": "election"}, "unknown_node"),
        ("fire_timer", {"node": "n1", "timer": "period"}, "unsupported"),
        ("restart", {"node": "n1"}, "bad_request"),
        ("transfer", {"from": "n1", "to": "n2"}, "unsupported"),
        ("init", {**INIT, "mutations": ["vote-twice"]}, "unsupported"),
    ]
    for kind, body, code in cases:
        with pytest.raises(AdapterError) as e:
            client.request(kind, **body)
        assert e.value.code == code, kind


def test_the_suite_reports_the_unplugged_skeleton_as_failing(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["conform", "--adapter", command, "--json", "--bundle-dir", str(tmp_path)])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert (code, out["result"]) == (1, "fail")
    assert "refinement" in json.dumps(out["failure"])  # a timeout must make a candidate
    assert "Traceback" not in captured.err
