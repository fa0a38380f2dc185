"""`electorate._signals.handling`: handlers hold inside the block and the earlier ones return."""

from __future__ import annotations

import os
import signal
from types import FrameType

import pytest

from electorate._signals import STOP_SIGNALS, handling

pytestmark = pytest.mark.timeout(30)


def test_the_handler_holds_inside_and_the_earlier_one_returns_after() -> None:
    seen: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        seen.append(signum)

    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    with handling(handler):
        assert all(signal.getsignal(sig) is handler for sig in STOP_SIGNALS)
        os.kill(os.getpid(), signal.SIGTERM)
    assert seen == [signal.SIGTERM]
    assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == before


def test_the_earlier_handler_returns_when_the_block_raises() -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), handling(handler, (signal.SIGTERM,)):
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
