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


def peak_rss() -> int:
    """This process's peak resident set size in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Budget:
    """`over()` is true once the process has used more than `gib` GiB (0: no budget)."""

    def __init__(self, gib: float) -> None:
        self.gib = gib
        self.limit = int(gib * GIB)
        self.reached = False

    def over(self) -> bool:
        if self.limit and not self.reached and peak_rss() > self.limit:
            self.reached = True
        return self.reached
