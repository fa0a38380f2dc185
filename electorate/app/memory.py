"""A memory budget for searches that grow until they end: stop before the kernel kills us.

A search for "holds" keeps its whole graph; on a model too big for the machine it would grow
until the out-of-memory killer ends the process and every verdict found so far is lost. The
budget turns that into a stop: the search judges the graph it has and reports what it did not
decide as undecided.
"""

from __future__ import annotations

import os
import resource

GIB = 1 << 30
DEFAULT_SHARE = 0.6  # of physical memory: the final judgement of the partial graph needs room


def physical() -> int:
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def default_budget() -> float:
    """The default budget in GiB: a share of physical memory."""
    return round(physical() * DEFAULT_SHARE / GIB, 1)


def rss() -> int:
    """This process's resident set size now, in bytes. Not the lifetime peak (getrusage): a
    process that ran a big search earlier (a test session, an embedding program) would stop
    every later search at once."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # no procfs: the peak is all there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Budget:
    """`over()` is true once the process has held more than `gib` GiB (0: no budget)."""

    def __init__(self, gib: float) -> None:
        self.gib = gib
        self.limit = int(gib * GIB)
        self.reached = False

    def over(self) -> bool:
        if self.limit and not self.reached and rss() > self.limit:
            self.reached = True
        return self.reached
