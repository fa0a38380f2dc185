"""The Prometheus alerting rules shipped with the node (``alerts.yml``, package data).

The rules read the series of ``impl.metrics`` and compare them with each node's exported
configuration (election timeout, lease), so one file fits every cluster:

- ``ElectorateLeaderFlapping``: more than 3 leader changes in 15 minutes;
- ``ElectorateNoLeader``: no leader known for a minute;
- ``ElectorateZombieRisk``: a tick of the event loop ran more than half a lease late;
- ``ElectorateLeaderStalled``: a leader's loop stalled for longer than its lease (counted
  however the leader was deposed afterwards);
- ``ElectorateDiskTooSlow``: p99 state write above a tenth of the election timeout.

``electorate alerts`` prints the file; save it where Prometheus' ``rule_files`` points.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from importlib.abc import Traversable

ALERT_NAMES = (
    "ElectorateLeaderFlapping",
    "ElectorateNoLeader",
    "ElectorateZombieRisk",
    "ElectorateLeaderStalled",
    "ElectorateDiskTooSlow",
)


def rules_file() -> Traversable:
    """The shipped rule file (inside the installed package)."""
    return resources.files("electorate.impl").joinpath("alerts.yml")


def rules_text() -> str:
    return rules_file().read_text(encoding="utf-8")


def main(argv: list[str]) -> int:
    """``electorate alerts``: print the rule file (save it where ``rule_files`` points)."""
    p = argparse.ArgumentParser(prog="electorate alerts", description=main.__doc__)
    try:
        p.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    sys.stdout.write(rules_text())
    return 0
