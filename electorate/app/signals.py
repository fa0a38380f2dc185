"""Ctrl-C and SIGTERM during a search: the first asks it to stop and report, a second stops it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from electorate._signals import handling
from electorate.model_check.engine import StopFlag


@contextmanager
def stop_on_signals(stop: StopFlag) -> Iterator[None]:
    """SIGINT and SIGTERM ask the search to stop (it ends its round and reports what it has);
    a second one stops at once."""

    def handler(signum: int, _frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True
        stop.signal_name = signal.Signals(signum).name

    with handling(handler):
        yield
