"""The shipped alert rules: they load, and each fires when a real cluster is driven into its
condition, read from the nodes' own /metrics.

Each test scrapes one node a number of times, first while the cluster is healthy, then while
it is in trouble, and hands the samples to ``promtool test rules`` as one series per metric,
scrape i at minute i: the rules' windows (10 and 15 minutes) then span the whole run. The
verdict promtool gives on the healthy prefix and on the whole run must equal the condition
computed here in Python from the same samples, and the whole run must meet the condition.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from electorate.app.main import main as electorate_main
from electorate.impl.alerts import ALERT_NAMES, rules_file, rules_text
from electorate.impl.core import Role
from electorate.impl.runtime import NodeRuntime

from .conftest import Cluster, configs, http_get, wait_for

pytestmark = pytest.mark.timeout(90)

Scrape = dict[str, float]  # series ('name{a="b"}') -> value


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return path


def test_the_rule_file_loads_and_names_every_alert(tmp_path: Path) -> None:
    doc = yaml.safe_load(rules_text())
    names = [r["alert"] for g in doc["groups"] for r in g["rules"]]
    assert names == list(ALERT_NAMES)
    path = tmp_path / "alerts.yml"
    path.write_text(rules_text())
    out = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(ALERT_NAMES)} rules found" in out.stdout
    assert rules_file().is_file()


def test_electorate_alerts_prints_the_rule_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert electorate_main(["alerts"]) == 0
    assert capsys.readouterr().out == rules_text()
    assert electorate_main(["alerts", "--bogus"]) == 2


# -- scraping -----------------------------------------------------------------------------------


def _series(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def scrape(node: NodeRuntime) -> Scrape:
    assert node.config.status is not None
    code, _, body = http_get(node.config.status, "/metrics")
    assert code == 200
    out: Scrape = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            if not s.name.endswith("_created"):
                out[_series(s.name, dict(s.labels))] = s.value
    return out


def scrape_n(node: NodeRuntime, n: int, pause: float = 0.05) -> list[Scrape]:
    samples = []
    for _ in range(n):
        samples.append(scrape(node))
        time.sleep(pause)
    return samples


def value(s: Scrape, name: str, **labels: str) -> float:
    return s[_series(name, labels)]


# -- promtool -----------------------------------------------------------------------------------


def _rule(alert: str) -> dict[str, Any]:
    doc = yaml.safe_load(rules_text())
    rule: dict[str, Any] = next(r for g in doc["groups"] for r in g["rules"] if r["alert"] == alert)
    return rule


def _with_target(series: str) -> str:
    """The series as Prometheus stores it: with the scrape target's labels."""
    name, _, inner = series[:-1].partition("{")
    return (
        _series(name, {"instance": "n", "job": "electorate"})
        if not inner
        else (f'{name}{{{inner},instance="n",job="electorate"}}')
    )


def fires(
    tmp: Path, alert: str, samples: list[Scrape], minute: int, labels: dict[str, str]
) -> bool:
    """Whether Prometheus' rule engine (promtool) has ``alert`` firing at ``minute``."""
    rules = tmp / "alerts.yml"
    rules.write_text(rules_text())
    names = sorted(set().union(*samples))
    series = [
        {
            "series": _with_target(name),
            "values": " ".join(repr(s[name]) if name in s else "_" for s in samples),
        }
        for name in names
    ]
    rule = _rule(alert)
    expected = {
        "exp_labels": {**rule["labels"], **labels, "instance": "n", "job": "electorate"},
        "exp_annotations": rule["annotations"],
    }
    verdicts = []
    for exp in ([expected], []):
        test = {
            "rule_files": [str(rules)],
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": series,
                    "alert_rule_test": [
                        {"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": exp}
                    ],
                }
            ],
        }
        path = tmp / "test.yml"
        path.write_text(yaml.safe_dump(test))
        out = subprocess.run(
            [promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=60
        )
        verdicts.append(out.returncode == 0)
        if out.returncode not in (0, 1):
            raise AssertionError(out.stdout + out.stderr)
    assert verdicts in ([True, False], [False, True]), f"promtool matched neither: {verdicts}"
    return verdicts[0]


def check(
    tmp: Path,
    alert: str,
    healthy: list[Scrape],
    trouble: list[Scrape],
    condition: Callable[[list[Scrape]], bool],
    labels: dict[str, str] | None = None,
) -> None:
    """promtool agrees with ``condition`` on the healthy prefix and on the whole run, and the
    whole run meets it. ``labels``: those the alert's expression keeps from its series."""
    labels = labels or {}
    prom_healthy = fires(tmp, alert, healthy, len(healthy) - 1, labels)
    assert prom_healthy == condition(healthy), f"{alert} on the healthy samples"
    run = healthy + trouble
    assert condition(run), f"the cluster was not driven into {alert}'s condition"
    assert fires(tmp, alert, run, len(run) - 1, labels), f"{alert} did not fire"


def window(samples: list[Scrape], minutes: int) -> tuple[Scrape, Scrape]:
    """The first and last sample of the last ``minutes`` minutes (one sample a minute)."""
    return samples[max(0, len(samples) - 1 - minutes)], samples[-1]


# -- the conditions, driven ---------------------------------------------------------------------


def follow(watcher: NodeRuntime, leader: NodeRuntime) -> None:
    """Wait until ``watcher`` knows ``leader`` as the leader of its current term."""
    want = (leader.config.node_id, leader.snapshot.term)
    wait_for(lambda: (watcher.snapshot.leader, watcher.snapshot.term) == want, 5.0, "follow")


def test_flapping_leader(cluster: Cluster, tmp_path: Path) -> None:
    watcher = cluster.nodes["n1"]
    leader = cluster.leader()
    healthy = scrape_n(watcher, 6)
    trouble = []
    for _ in range(5):
        leader.resign()
        leader = cluster.leader(other_than=leader.snapshot.term)
        follow(watcher, leader)
        trouble.append(scrape(watcher))

    def flapping(samples: list[Scrape]) -> bool:
        first, last = window(samples, 15)
        name = "electorate_leader_changes_seen_total"
        return value(last, name) - value(first, name) > 3

    check(tmp_path, "ElectorateLeaderFlapping", healthy, trouble, flapping)


def test_no_leader(cluster: Cluster, tmp_path: Path) -> None:
    cluster.leader()
    survivor = cluster.nodes["n1"]
    healthy = scrape_n(survivor, 6)
    cluster.stop("n2")
    cluster.stop("n3")
    wait_for(lambda: survivor.snapshot.leader is None, 5.0, "n1 to lose its leader")
    trouble = scrape_n(survivor, 4)

    def no_leader(samples: list[Scrape]) -> bool:  # `for: 1m`: now and a minute ago
        return all(value(s, "electorate_has_leader") == 0 for s in samples[-2:])

    check(tmp_path, "ElectorateNoLeader", healthy, trouble, no_leader)


def test_zombie_risk(cluster: Cluster, tmp_path: Path) -> None:
    leader = cluster.leader()
    healthy = scrape_n(leader, 6)
    stepdowns = "electorate_leader_stepdowns_total"
    before = sum(v for k, v in healthy[-1].items() if k.startswith(stepdowns))
    lease = leader.config.lease_ticks * leader.config.heartbeat_ms / 1000
    leader.call(lambda: time.sleep(3 * lease))  # the leader's loop freezes for three leases
    time.sleep(3 * lease)
    wait_for(lambda: leader.snapshot.role.value != "leader", 5.0, "the stalled leader to resign")
    trouble = scrape_n(leader, 3)
    assert sum(v for k, v in trouble[-1].items() if k.startswith(stepdowns)) == before + 1

    def stalled(samples: list[Scrape]) -> bool:
        first, last = window(samples, 10)
        count = "electorate_loop_lag_lease_fraction_count"
        half = "electorate_loop_lag_lease_fraction_bucket"

        def late(s: Scrape) -> float:
            return value(s, count) - value(s, half, le="0.5")

        return late(last) - late(first) > 0

    check(tmp_path, "ElectorateZombieRisk", healthy, trouble, stalled)


def test_leader_stalled(tmp_path: Path) -> None:
    # One node: no rival can depose it while frozen, so it is the loop-lag watchdog that steps
    # it down when it resumes past its lease.
    lone = Cluster(configs(tmp_path, 1), {})
    node = lone.start("n1")
    try:
        lone.leader()
        healthy = scrape_n(node, 6)
        lease = node.config.lease_ticks * node.config.heartbeat_ms / 1000
        node.call(lambda: time.sleep(3 * lease))
        name = "electorate_leader_stepdowns_total"
        wait_for(lambda: value(scrape(node), name, reason="loop_stall") >= 1, 10, "the watchdog")
        trouble = scrape_n(node, 2)
    finally:
        lone.stop("n1")

    def stalled(samples: list[Scrape]) -> bool:
        first, last = window(samples, 15)
        return value(last, name, reason="loop_stall") - value(first, name, reason="loop_stall") > 0

    check(tmp_path, "ElectorateLeaderStalled", healthy, trouble, stalled, {"reason": "loop_stall"})


def test_leader_stalled_while_a_newer_leader_took_over(cluster: Cluster, tmp_path: Path) -> None:
    # Three nodes: while the leader's loop is frozen the others elect a new leader, whose vote
    # requests and heartbeats wait in the old leader's sockets and are the first thing its loop
    # handles when it resumes. They depose it, but the stall must still be counted.
    leader = cluster.leader()
    term = leader.snapshot.term
    others = [n for n in cluster.nodes.values() if n is not leader]
    healthy = scrape_n(leader, 6)
    lease = leader.config.lease_ticks * leader.config.heartbeat_ms / 1000

    def successor() -> bool:
        return any(n.snapshot.role is Role.LEADER and n.snapshot.term > term for n in others)

    seen: list[bool] = []

    def frozen() -> None:  # runs on the leader's own loop: nothing else runs there meanwhile
        start = time.monotonic()
        while not successor() and time.monotonic() < start + 10:
            time.sleep(0.005)
        seen.append(successor())
        time.sleep(max(0.0, start + 3 * lease - time.monotonic()) + 0.05)

    leader.call(frozen)
    wait_for(lambda: leader.snapshot.term > term, 15, "the old leader to learn the new term")
    # A successor led while the old leader was frozen (it may have lost its own lease since, on a
    # loaded machine: only the freeze matters here).
    assert seen == [True], "no successor was elected while the leader was frozen"
    trouble = scrape_n(leader, 2)
    name = "electorate_leader_stepdowns_total"
    counted = {k: v for k, v in trouble[-1].items() if k.startswith(name) and v}
    assert counted == {f'{name}{{reason="loop_stall"}}': 1.0}

    def stalled(samples: list[Scrape]) -> bool:
        first, last = window(samples, 15)
        return value(last, name, reason="loop_stall") - value(first, name, reason="loop_stall") > 0

    check(tmp_path, "ElectorateLeaderStalled", healthy, trouble, stalled, {"reason": "loop_stall"})


def _p99(first: Scrape, last: Scrape, name: str) -> float | None:
    """histogram_quantile(0.99, rate(...)) as Prometheus computes it (rates scale out)."""
    prefix = name + "_bucket{"
    buckets = sorted(
        (float(k.split('le="')[1].split('"')[0]), last[k] - first.get(k, 0.0))
        for k in last
        if k.startswith(prefix)
    )
    total = buckets[-1][1]
    if total <= 0:
        return None  # NaN: no observations in the window
    rank, lower, below = 0.99 * total, 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower  # the upper bound of the highest finite bucket
            return lower + (upper - lower) * (rank - below) / (cumulative - below)
        lower, below = upper, cumulative
    return None


def test_disk_too_slow_for_the_election_timeout(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = cluster.nodes["n1"]
    leader = cluster.leader()
    healthy = scrape_n(watcher, 6)
    delay = 2 * 0.1 * watcher.config.election_timeout_ms / 1000  # twice the alert's bound
    for node in cluster.nodes.values():
        save = node.storage.save

        def slow_save(state: Any, save: Callable[[Any], None] = save) -> None:
            time.sleep(delay)
            save(state)

        monkeypatch.setattr(node.storage, "save", slow_save)
    trouble = []
    for _ in range(3):
        leader.resign()
        leader = cluster.leader(other_than=leader.snapshot.term)
        follow(watcher, leader)
        trouble.append(scrape(watcher))

    def too_slow(samples: list[Scrape]) -> bool:
        first, last = window(samples, 10)
        p99 = _p99(first, last, "electorate_fsync_duration_seconds")
        timeout = value(last, "electorate_election_timeout_seconds")
        return p99 is not None and p99 > 0.1 * timeout

    check(tmp_path, "ElectorateDiskTooSlow", healthy, trouble, too_slow)
