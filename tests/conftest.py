"""Suite-wide test settings.

Every test has a time limit (pytest-timeout): ``timeout`` in pyproject.toml for ordinary tests,
and ``LONG_TIMEOUT_S`` for tests marked ``slow`` or ``tlc`` (model checking and TLC runs, which
take minutes on a loaded machine), unless a test sets its own with ``@pytest.mark.timeout``.
"""

from __future__ import annotations

import pytest

LONG_TIMEOUT_S = 1200


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        long = item.get_closest_marker("slow") or item.get_closest_marker("tlc")
        if long and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(LONG_TIMEOUT_S))
