"""``python -m electorate.conformance.adapters.liferaft --install``: npm-install the pinned
liferaft into electorate's cache folder."""

from __future__ import annotations

import sys

from electorate.conformance.adapters.liferaft import install

if sys.argv[1:] != ["--install"]:
    print("usage: python -m electorate.conformance.adapters.liferaft --install", file=sys.stderr)
    raise SystemExit(2)
raise SystemExit(install())
