"""`electorate check --liveness`: exit codes, one-line errors, the JSON lasso."""

from __future__ import annotations

import json

import pytest

from electorate.app.check import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--liveness", "--topology", "mesh"], "unknown topology 'mesh'"),
        (["--liveness", "Sometime"], "unknown liveness property 'Sometime'"),
        (["--liveness", "--topology", "1-2,2-4"], "names server 4, but there are 3 servers"),
        (["--liveness", "--servers", "5", "--topology", "1-2,3-4"], "no server of edges"),
        (["--liveness", "--topology", "howard", "--servers", "3"], "howard needs 5 servers"),
        (["--liveness", "--simulate"], "--simulate does not apply to --liveness"),
        (["--liveness", "--features", "lease"], "the lease feature has no liveness model"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(args)
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_a_violation_exits_1_with_a_lasso_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--liveness", "EventuallyLeader", "--servers", "2", "--no-randomized-timeouts", "--json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["result"] == "violated"
    assert doc["lasso"]["stem"][0]["action"] == "Init"
    assert doc["lasso"]["cycle"]
    assert doc["properties"]["EventuallyLeader"]["confirmed"]["replayed"] is True
    assert any("no randomized-timeout" in a for a in doc["assumptions"])
