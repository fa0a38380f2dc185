"""Ctrl-C and SIGTERM during `electorate conform`: the run stops with exit 130 and one line,
even when the handler's exception is lost or comes back as an adapter error."""

from __future__ import annotations

import signal
import sys
from typing import Any, ClassVar

import pytest

from electorate.conformance import interrupt
from electorate.conformance.adapters.transport import InProcessAdapter
from electorate.conformance.canonical import JSON
from electorate.conformance.cli import main

RUN = ["conform", "--adapter", "spec", "--no-corpus", "--seed", "3", "--examples", "5"]


class _SignalledInFinalizer:
    """An object whose finalizer receives the signal, as a garbage-collector callback may:
    Python reports the handler's exception as "Exception ignored" and goes on."""

    raised: ClassVar[list[type[BaseException]]] = []

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def __del__(self) -> None:
        handler = signal.getsignal(self.signum)
        assert callable(handler)
        try:
            handler(self.signum, None)
        except BaseException as err:
            self.raised.append(type(err))
            raise  # out of a finalizer: Python drops it


def _signal_on_call(monkeypatch: pytest.MonkeyPatch, n: int, deliver: Any) -> None:
    """Deliver a signal (through `deliver`) inside the adapter's n-th call."""
    calls = [0]
    call = InProcessAdapter.call

    def signalled(self: InProcessAdapter, request: JSON) -> JSON:
        calls[0] += 1
        if calls[0] == n:
            return deliver(lambda: call(self, request))  # type: ignore[no-any-return]
        return call(self, request)

    monkeypatch.setattr(InProcessAdapter, "call", signalled)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_dropped_in_a_finalizer_still_stops_the_run(
    signum: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handler's raise is lost (as in a real run at load, inside Hypothesis's gc
    callback): the next request stops the run, never a verdict."""

    def in_finalizer(go: Any) -> Any:
        _SignalledInFinalizer(signum)  # dropped at once: its __del__ runs the handler
        return go()

    _SignalledInFinalizer.raised.clear()
    _signal_on_call(monkeypatch, 40, in_finalizer)
    hook = sys.unraisablehook
    assert main(RUN) == 130
    assert _SignalledInFinalizer.raised == [KeyboardInterrupt]  # raised, then lost
    err = capsys.readouterr().err
    assert err.splitlines() == ["electorate conform: interrupted"]
    assert sys.unraisablehook is hook  # restored


def test_an_adapter_error_while_a_signal_is_pending_is_the_signal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A subprocess adapter killed by the same Ctrl-C (one process group) breaks the pipe: that
    is the interrupt, not a protocol violation (exit 2)."""

    def broken_pipe(go: Any) -> Any:
        try:
            interrupt._on_signal(signal.SIGINT, None)
        except KeyboardInterrupt:
            raise BrokenPipeError("the adapter exited") from None
        return go()

    _signal_on_call(monkeypatch, 25, broken_pipe)
    assert main(RUN) == 130
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "electorate conform: interrupted"
    assert "protocol" not in err and "Traceback" not in err


def test_handlers_are_restored_after_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    assert main(["conform"]) == 2
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
