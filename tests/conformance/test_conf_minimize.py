"""Delta debugging of step lists (conformance.minimize.ddmin)."""

from __future__ import annotations

from electorate.conformance.minimize import ddmin


def test_ddmin_finds_the_two_needed_items() -> None:
    calls: list[list[int]] = []

    def fails(xs: list[int]) -> bool:
        calls.append(xs)
        return 3 in xs and 17 in xs

    assert ddmin(list(range(40)), fails, seconds=10) == [3, 17]
    assert len(calls) < 200  # ddmin is O(n log n) here, far from trying every subset


def test_ddmin_removes_a_pair_that_only_goes_together() -> None:
    """Removing 5 alone or 30 alone makes the script infeasible (not failing): like a crash
    whose restart stays in the script. Only the pair pass can remove both."""

    def fails(xs: list[int]) -> bool:
        feasible = (5 in xs) == (30 in xs)
        return feasible and 12 in xs

    assert ddmin([5, 12, 30], fails, seconds=10) == [12]


def test_a_coverage_seed_replays_by_message_header_where_an_option_reshapes_a_message() -> None:
    """A seed written against one implementation names a heartbeat with its log position; where
    the message in flight differs in other fields only (e.g. etcd's heartbeat without one), the
    seed's replay takes that message, and a strict replay (a failure's script) does not."""
    from dataclasses import replace

    from electorate.conformance import suite
    from electorate.conformance.adapters.impl_host import ImplHost
    from electorate.conformance.adapters.transport import InProcessAdapter
    from electorate.conformance.minimize import replay
    from electorate.conformance.protocol import Client
    from electorate.conformance.script import Script

    seed = next(
        s
        for s in suite.load_coverage_scenarios()
        if s.name.endswith("newer-at-leader") and "append" in s.name
    )
    last = seed.steps[-1]
    assert last.msg is not None
    reshaped = replace(last, msg=last.msg._replace(mprev_log_index=7))
    script = Script(seed.config, (*seed.steps[:-1], reshaped), seed.name, seed.expect)
    client = Client(InProcessAdapter(ImplHost()), strict=False)
    hello = client.hello()
    assert not replay(client, hello, script).feasible
    loose = replay(client, hello, script, by_header=True)
    assert loose.feasible and loose.failure is None
    assert loose.session.coverage[seed.expect["target"]]
