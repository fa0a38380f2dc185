"""The PreVote/CheckQuorum level: impl/ refined against the featured spec.

Every randomized run uses SEED and names it in its failure message.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from electorate.conformance import coverage, suite
from electorate.conformance.adapters.impl_host import ImplHost
from electorate.conformance.adapters.spec_host import SpecHost
from electorate.conformance.adapters.transport import InProcessAdapter
from electorate.conformance.cli import main
from electorate.conformance.harness import FEATURES, Session
from electorate.conformance.machine import Budget, search
from electorate.conformance.minimize import replay
from electorate.conformance.protocol import Client, Hello
from electorate.conformance.script import RunConfig, Script, Step
from electorate.spec.messages import Message, MType
from electorate.spec.state import Role

SEED = 20260


def _connect(host: ImplHost | SpecHost | None = None) -> tuple[Client, Hello]:
    client = Client(InProcessAdapter(host or ImplHost()), strict=False)
    return client, client.hello()


def _targets(hello: Hello) -> tuple[str, ...]:
    return coverage.required(True, hello.capabilities, hello.options)


def _cfg(n: int = 3) -> RunConfig:
    return RunConfig(n, ((0, 0),) * n, SEED, (), None, FEATURES)


def test_impl_refines_the_featured_spec_and_reaches_every_feature_target() -> None:
    client, hello = _connect()
    targets = _targets(hello)
    res = search(client, hello, Budget(100, 40, SEED), (), None, FEATURES, targets)
    assert res.failure is None, f"seed {SEED}: {res.failure}"
    missing = [t for t in targets if not res.coverage[t]]
    assert missing == [], f"seed {SEED}: never reached {missing} in {dict(res.coverage)}"


def test_the_featured_spec_as_implementation_passes_the_level() -> None:
    """Positive control: the spec running the level's own compositions must conform."""
    client, hello = _connect(SpecHost())
    res = search(client, hello, Budget(60, 40, SEED), (), None, FEATURES, _targets(hello))
    assert res.failure is None, f"seed {SEED}: {res.failure}"
    assert res.coverage["prevote won"] and res.coverage["check quorum step down"], res.coverage


def test_a_mutated_featured_spec_as_implementation_is_caught() -> None:
    client, hello = _connect(SpecHost("prevote-bumps-term"))
    res = search(client, hello, Budget(60, 40, SEED), (), None, FEATURES)
    assert res.failure is not None, f"seed {SEED}: the mutated spec adapter passed"
    assert res.failure.check == "refinement"


def test_prevote_bumps_term_is_killed_by_refinement_on_the_feature_level() -> None:
    client, hello = _connect()
    out = suite.run(client, hello, Budget(30, 50, SEED), "prevote-bumps-term", corpus=False)
    assert not out.passed, f"seed {SEED}: prevote-bumps-term survived"
    assert out.failure is not None and out.failure.check == "refinement", out.failure
    assert out.found_by == suite.FEATURE_LEVEL


@pytest.mark.parametrize("bug", suite.feature_spec_bugs())
def test_featured_spec_bugs_are_killed_as_negative_controls(bug: str) -> None:
    client, hello = _connect()
    out = suite.run(client, hello, Budget(60, 50, SEED), suite.SPEC_PREFIX + bug, corpus=False)
    assert not out.passed, f"seed {SEED}: spec bug {bug} survived the feature level"
    assert out.found_by == suite.FEATURE_LEVEL


def _prevote(src: int, dst: int, term: int, granted: bool | None = None) -> Message:
    if granted is None:
        return Message(MType.RequestVoteRequest, term, src, dst, mpre_vote=True)
    return Message(MType.RequestVoteResponse, term, src, dst, mvote_granted=granted, mpre_vote=True)


# The first finding (docs/conformance.md, now fixed in impl): n3 counted n1's pre-vote grant
# for term 2 while a pre-candidate of term 2 (asking for term 3). Minimized by ddmin (9 steps).
STALE_GRANT = (
    Step("period", 0),
    Step("period", 2),
    Step("timeout", 2),
    Step("deliver", msg=_prevote(2, 0, 2)),
    Step("timeout", 2),
    Step("deliver", msg=_prevote(0, 2, 2, True)),
    Step("deliver", msg=_prevote(2, 0, 2)),
    Step("timeout", 2),
    Step("deliver", msg=_prevote(0, 2, 2, True)),
)


def test_stale_prevote_grant_is_refined_now_that_impl_drops_it() -> None:
    """The first finding, fixed in impl/core.py: a grant of an earlier pre-vote round no
    longer counts, so the level delivers it and impl stays a pre-candidate like the spec."""
    client, hello = _connect()
    r = replay(client, hello, Script(_cfg(), STALE_GRANT))
    assert r.failure is None
    assert r.feasible


def _known_leader_script() -> tuple[Step, ...]:
    """The second finding: n4 heard leader n1 of term 2 (no vote of its own), its election
    period ended; n5, still in term 1, asks it for a pre-vote of term 2."""
    vote = [Message(MType.RequestVoteRequest, 2, 0, d) for d in (1, 2)]
    grant = [Message(MType.RequestVoteResponse, 2, d, 0, mvote_granted=True) for d in (1, 2)]
    return (
        *(Step("period", i) for i in range(5)),
        Step("timeout", 0),
        *(Step("deliver", msg=_prevote(0, d, 2)) for d in (1, 2)),
        *(Step("deliver", msg=_prevote(d, 0, 2, True)) for d in (1, 2)),
        *(Step("deliver", msg=m) for m in (*vote, *grant)),
        Step("deliver", msg=Message(MType.AppendEntriesRequest, 2, 0, 3)),
        Step("period", 3),
        Step("timeout", 4),
        Step("deliver", msg=_prevote(4, 3, 2)),
    )


def test_prevote_to_a_follower_that_knows_a_leader_is_refused_by_the_option() -> None:
    """With option prevote_refused_with_known_leader the spec refuses the request as impl does
    (the option's handler); an adapter that refuses it without declaring the option fails by
    messages."""
    client, hello = _connect()
    script = Script(_cfg(5), _known_leader_script())
    r = replay(client, hello, script)
    assert r.failure is None and r.feasible
    assert "RefusePreVoteKnowingLeader" in str(r.session.raw[-1].comp.actions)
    options = hello.options - {"prevote_refused_with_known_leader"}
    r = replay(client, dataclasses.replace(hello, options=options), script)
    assert r.failure is not None and r.failure.check == "messages", r.failure
    assert r.failure.step_index == len(script.steps)
    assert (
        "message",
        "not sendable here",
        "request_vote_res n4->n5 term 2 pre_vote refused x1",
    ) in (r.failure.rows)


def test_a_leader_that_heard_a_quorum_has_no_period_step() -> None:
    client, hello = _connect()
    session = Session(client, hello, _cfg(1))
    session.start()
    session.apply(Step("period", 0))
    session.apply(Step("timeout", 0))  # a single node: its own pre-vote and vote suffice
    assert session.s.role[0] == Role.Leader
    assert [str(a).split("(")[0] for a in session.raw[-1].comp.actions][:2] == [
        "Timeout",
        "RequestPreVote",
    ]
    assert session.choices("period") == [], "acked = {self} is a quorum of 1: not drawn"


def test_period_maps_to_the_election_timer_and_lifts_the_restart_guard() -> None:
    client, hello = _connect()
    session = Session(client, hello, _cfg(3))
    session.start()
    assert session.choices("timeout") == [], "inside the restart guard nobody times out"
    session.apply(Step("period", 1))
    assert session.raw[-1].comp.actions[0].name == "ElectionTimer"
    assert session.choices("timeout") == [Step("timeout", 1)]


def test_run_config_keeps_its_features_through_json() -> None:
    cfg = _cfg()
    assert RunConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg
    assert cfg.init_body()["features"] == list(FEATURES)
    assert cfg.with_faults(("vote-twice",), None).features == FEATURES


def test_cli_reports_the_feature_level(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["conform", "--adapter", "impl", "--examples", "30", "--no-corpus", "--json"]
    argv += ["--seed", str(SEED)]
    code = main(argv)
    d = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and "feature_coverage" in d, f"seed {SEED}: {d}"
    assert d["levels"][suite.FEATURE_LEVEL].startswith("pass (refined"), f"seed {SEED}: {d}"
