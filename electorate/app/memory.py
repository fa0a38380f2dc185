"""A memory budget for searches that grow until they end: a bound on the process's peak.

A search for "holds" keeps its whole graph; on a model too big for the machine it would grow
until the out-of-memory killer ends the process and every verdict found so far is lost. The
budget turns that into a stop, early enough that judging the graph it has still fits: each
search asks, as its graph grows, whether the memory the process holds now plus what judging
that graph would take (model_check/liveness.py, `judging_bytes`) is within the budget, and
stops when it is not; a judging or a lasso that would not fit is not run. What it did not
decide is reported undecided.
"""

from __future__ import annotations

import os
import resource

GIB = 1 << 30
DEFAULT_SHARE = 0.6  # of physical memory: other processes need room too


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
    """At most `gib` GiB for the process (0: no budget). `fits(need)`: whether the process
    can take `need` more bytes and stay within it; once it cannot, the budget is `reached`
    (model_check.liveness.MemoryBound)."""

    def __init__(self, gib: float) -> None:
        self.gib = gib
        self.limit = int(gib * GIB)
        self.reached = False

    def fits(self, need: int) -> bool:
        if self.limit and rss() + need > self.limit:
            self.reached = True
        return not self.reached

    def over(self) -> bool:
        """Whether the process holds more than the budget now (and `reached` from then on)."""
        return not self.fits(0)
