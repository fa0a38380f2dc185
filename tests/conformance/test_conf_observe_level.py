"""The observe-only PreVote walk, for adapters declaring prevote without check_quorum: the
invariants on observations and PreVote's own rule judge it."""

from __future__ import annotations

from electorate.conformance import observe_level
from electorate.conformance.adapters.impl_host import ImplHost
from electorate.conformance.adapters.transport import InProcessAdapter
from electorate.conformance.protocol import Client

SEED = 20260


def _client() -> Client:
    client = Client(InProcessAdapter(ImplHost()), strict=False)
    client.hello()
    return client


def test_impl_with_prevote_keeps_the_invariants() -> None:
    out = observe_level.run(_client(), ("prevote",), (), SEED, examples=20, steps=30)
    assert out.passed, f"seed {SEED}: {out.check} {out.text} after {out.trace}"
    assert out.examples == 20 and out.steps > 0


def test_a_pre_candidate_that_bumps_its_term_is_caught() -> None:
    out = observe_level.run(_client(), ("prevote",), ("prevote-bumps-term",), SEED)
    assert not out.passed and out.check == "invariant:PreVoteKeepsTermAndVote", out
