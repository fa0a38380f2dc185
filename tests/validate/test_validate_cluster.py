"""Clusters of real node processes on loopback, traced (``electorate cluster``'s LocalCluster
with a trace directory): an isolated follower, a paused follower while the leader is killed
(kill -9) and later restarted, an isolated leader. The correct nodes' traces validate. The same
faults with a planted bug in every node (tests/validate/mutant_node.py) fail validation exactly
at the step where the bug first shows, which a correct twin of each core finds."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from electorate.impl.cluster import LocalCluster, Member
from electorate.testing.mutants import Mutant
from electorate.validate import report
from electorate.validate.mapping import model_for, split_steps
from electorate.validate.search import Verdict, validate
from electorate.validate.tracefile import Trace, read_trace

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
HERE = Path(__file__).resolve().parent


class MutantCluster(LocalCluster):
    """Every node runs ``mutant`` (through mutant_node.py) instead of the production core."""

    def __init__(self, mutant: Mutant, n: int, root: Path, **kw: object) -> None:
        self.mutant = mutant
        super().__init__(n, root, **kw)  # type: ignore[arg-type]

    def command(self, m: Member) -> list[str]:
        cmd = super().command(m)
        assert cmd[1:3] == ["-m", "electorate"]
        return [sys.executable, str(HERE / "mutant_node.py"), self.mutant.value, *cmd[3:]]


def leader(cluster: LocalCluster, other_than: str = "", limit_s: float = 5.0) -> Member | None:
    """The one node whose status says leader (and is not ``other_than``), polled up to
    ``limit_s``; None if there is none."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        cluster.poll()
        found = [
            m for m in cluster.members if m.last.get("role") == "leader" and m.node_id != other_than
        ]
        if len(found) == 1:
            return found[0]
        time.sleep(0.05)
    return None


def faults(cluster: LocalCluster) -> list[str]:
    """The scenario; what was done, for failure messages."""
    done: list[str] = []
    cluster.start_all()
    lead = leader(cluster)
    if lead is None:  # some planted bugs never elect anyone: the trace is still judged
        time.sleep(1.0)
        return ["no leader elected"]
    follower = next(m for m in cluster.members if m is not lead)
    done.append(cluster.toggle_isolation(follower))
    time.sleep(0.6)
    done.append(cluster.toggle_isolation(follower))
    time.sleep(0.4)
    lead = leader(cluster) or lead
    follower = next(m for m in cluster.members if m is not lead)
    done.append(cluster.toggle_pause(follower))
    done.append(cluster.kill(lead))
    time.sleep(0.35)
    done.append(cluster.toggle_pause(follower))
    time.sleep(0.8)
    done.append(cluster.restart(lead))
    second = leader(cluster)
    if second is not None:
        done.append(cluster.toggle_isolation(second))
        time.sleep(0.8)
        done.append(cluster.toggle_isolation(second))
    time.sleep(0.6)
    return done


def run(tmp_path: Path, mutant: Mutant | None, features: bool) -> tuple[Trace, Verdict, list[str]]:
    traces = tmp_path / "traces"
    traces.mkdir(parents=True)
    extra = () if features else ("--no-prevote", "--no-check-quorum")
    if mutant is None:
        cluster = LocalCluster(3, tmp_path, extra=extra, trace_dir=traces, seed=11)
    else:
        cluster = MutantCluster(mutant, 3, tmp_path, extra=extra, trace_dir=traces, seed=11)
    try:
        done = faults(cluster)
    finally:
        cluster.stop_all()
    for log in tmp_path.glob("n*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    trace = read_trace(traces)
    return trace, validate(trace), done


@pytest.mark.parametrize("features", [True, False], ids=["prevote+check_quorum", "no-features"])
def test_a_traced_cluster_with_kill_pause_and_isolation_validates(
    features: bool, tmp_path: Path
) -> None:
    trace, v, done = run(tmp_path, None, features)
    assert v.status == "valid", report.text(v) + "\n" + "\n".join(done)
    kinds = [e.kind for log in trace.logs.values() for e in log.events]
    assert "restart" in kinds, done
    terms = {e.data["term"] for log in trace.logs.values() for e in log.events if e.kind == "term"}
    assert len(terms) >= 2, (terms, done)  # failovers happened
    assert v.events > 300


# Each planted bug that changes what a node does, with the features under which these faults
# make it show. Not here: no-stepdown-response (ignoring a newer term in a response is what a
# lost response looks like: every trace it leaves is a spec behaviour, see test_validate.py),
# uptodate-index-first (logs are empty: it changes nothing), count-duplicate-votes (TCP does
# not duplicate), count-stale-votes (needs a stale grant to complete a quorum: not these
# faults), prevote-bumps-term without PreVote (its code never runs).
SHOWN = [
    (Mutant.VOTE_TWICE, False),
    (Mutant.KEEP_VOTE_ON_NEW_TERM, True),
    (Mutant.NO_STEPDOWN_REQUEST, True),
    (Mutant.NO_STEPDOWN_HEARTBEAT, False),
    (Mutant.UPTODATE_GT, True),
    (Mutant.QUORUM_HALF, True),
    (Mutant.NO_TERM_INCREMENT, True),
    (Mutant.NO_SELF_VOTE, True),
    (Mutant.STALE_TERM_IN_RESPONSE, False),
    (Mutant.FORGET_STATE_ON_RESTART, True),
    (Mutant.BUMP_TERM_ON_STEPDOWN, True),
    (Mutant.PREVOTE_BUMPS_TERM, True),
    (Mutant.CLEAR_VOTE_ON_SAME_TERM_STEPDOWN, True),
]


@pytest.mark.parametrize(("mutant", "features"), SHOWN, ids=[m.value for m, _ in SHOWN])
def test_a_planted_bug_in_a_real_cluster_fails_at_the_step_where_it_shows(
    mutant: Mutant, features: bool, tmp_path: Path
) -> None:
    for attempt in range(3):  # the bug needs its moment (a race, at times): up to 3 runs
        folder = tmp_path / str(attempt)
        trace, v, done = run(folder, mutant, features)
        shown = {
            d["node"]: d["seq"]
            for d in (json.loads(p.read_text()) for p in folder.glob("traces/*.divergence.json"))
        }
        if not shown:
            assert v.status == "valid", report.text(v)  # no bug shown: a correct run
            continue
        assert v.status == "invalid" and v.failure is not None, (shown, done, report.text(v))
        ev = v.failure.event
        assert ev.node in shown, (shown, report.text(v))
        first, last = step_span(trace, ev.node, shown[ev.node])
        assert first <= ev.seq <= last, (shown, (first, last), report.text(v))
        return
    pytest.fail(f"{mutant} did not show in 3 runs of the scenario")


def step_span(trace: Trace, node: str, seq: int) -> tuple[int, int]:
    """The first and last sequence numbers of the node's step that holds event ``seq``."""
    mdl = model_for(trace)
    events = trace.logs[node].events
    steps, _ = split_steps(mdl, mdl.index[node], events, final=True)
    for step in steps:
        seqs = [e.seq for e in step.events]
        if seqs[0] <= seq <= seqs[-1]:
            return seqs[0], seqs[-1]
    raise AssertionError(f"{node} has no step holding seq {seq}")
