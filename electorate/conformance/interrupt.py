"""Ctrl-C and SIGTERM during a conformance run: never lost, never read as a verdict.

The handler raises KeyboardInterrupt at once and also remembers the signal. Python drops an
exception raised inside a finalizer or a garbage-collector callback (Hypothesis installs one),
and the collector runs them anywhere, so the raise alone can be lost and the run would go on
to print a verdict. Every request to the adapter checks what was received (`check`), and so
does the end of the run; an adapter error while a signal is pending is the signal, not a
protocol violation.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from electorate._signals import handling

_received: list[int] = []  # the signals that asked this run to stop


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def pending() -> bool:
    """A signal asked the run to stop (its exception may have been lost)."""
    return bool(_received)


def check() -> None:
    """Stop now if a signal asked the run to stop."""
    if _received:
        raise KeyboardInterrupt


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM stop the run; the handlers before are restored after it."""
    _received.clear()
    hook = sys.unraisablehook
    sys.unraisablehook = _quiet_when_lost(hook)
    try:
        with handling(_on_signal):
            yield
    finally:
        sys.unraisablehook = hook


def _quiet_when_lost(hook: Callable[[sys.UnraisableHookArgs], object]) -> Callable[..., None]:
    """Python would print the lost raise as "Exception ignored ... Traceback": the run stops
    at its next request all the same, with one line."""

    def quiet(unraisable: sys.UnraisableHookArgs) -> None:
        if not (_received and unraisable.exc_type is KeyboardInterrupt):
            hook(unraisable)

    return quiet
