"""Installing signal handlers for the length of a block, and putting the earlier ones back."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

Handler = Callable[[int, FrameType | None], object]

# What a user sends to stop a run: Ctrl-C at a terminal, and `kill` or a supervisor.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def handling(
    handler: Handler, signals: tuple[signal.Signals, ...] = STOP_SIGNALS
) -> Iterator[None]:
    """`handler` handles `signals` inside the block; the handlers before it are restored after
    it, also when the block raises."""
    before = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
