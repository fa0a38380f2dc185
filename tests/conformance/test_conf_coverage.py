"""Coverage: the default budget reaches every target at seeds 0-9, for electorate's impl and for
the JavaScript Figure-2 adapter (an implementation written from the paper).

The ten seeds take about 10 minutes per adapter on the shared CI machine, so CI runs one seed
of each (the seed 0 of figure2-js also runs in test_adapter_figure2_js.py); set
ELECTORATE_LONG=1 for all ten. The figures are in docs/conformance.md ("Coverage").
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from electorate.conformance import coverage, registry, suite
from electorate.conformance.adapters.transport import open_adapter
from electorate.conformance.machine import Budget
from electorate.conformance.protocol import Client

LONG = bool(os.environ.get("ELECTORATE_LONG"))
CASES = [
    (adapter, seed)
    for adapter, ci_seed in (("impl", 0), ("figure2-js", 1))
    for seed in (range(10) if LONG else (ci_seed,))
]


@pytest.mark.slow
@pytest.mark.parametrize(("adapter", "seed"), CASES)
def test_the_default_budget_reaches_every_target(adapter: str, seed: int) -> None:
    entry = registry.lookup(adapter)
    assert entry is not None
    reason = entry.unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{adapter}: {reason} (.ci/run installs it)")
        pytest.skip(reason)
    handle = open_adapter(adapter)
    try:
        client = Client(handle, strict=False)
        hello = client.hello()
        out = suite.run(client, hello, Budget(seed=seed), corpus=True)
    finally:
        handle.close()
    assert out.passed, f"{adapter} seed {seed}: {out.failure}"
    assert out.missing == [], f"{adapter} seed {seed}: never reached {out.missing}"
    assert set(out.required) == set(coverage.required(False, hello.capabilities, hello.options))


def test_stale_answer_targets_are_excused_only_when_no_stale_request_was_answered() -> None:
    """An implementation that answers no request of an older term (a lost reply, as raft.tla
    admits) cannot reach the targets only such an answer leads to: they are excused, with
    the reason; one answer, or no stale request at all, excuses nothing."""
    silent = Counter({coverage.STALE_UNANSWERED: 3})
    why = coverage.excused(silent)
    assert set(why) == set(coverage.STALE_ANSWER_TARGETS)
    assert all("answered none of 3" in w for w in why.values())
    assert coverage.excused(silent + Counter({coverage.STALE_ANSWERED: 1})) == {}
    assert coverage.excused(Counter()) == {}
    assert set(coverage.STALE_ANSWER_TARGETS) <= set(coverage.required(False, frozenset(), ()))
