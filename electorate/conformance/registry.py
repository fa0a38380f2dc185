"""Built-in adapters: ``electorate conform --adapter NAME`` and ``--list-adapters``.

One :class:`Entry` per adapter. An entry names the implementation it drives, says how to install
what it needs, checks whether that is present on this machine (``unavailable`` returns the reason,
or None), and opens the adapter: in process (``host``: "module:Class", a Python ``Host``) or as a
subprocess (``argv``: "module:function" returning the command line). Both are imported only when
the entry is used, so listing the registry imports no adapter.

To add an adapter, append one ``Entry`` to ``ENTRIES``.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One built-in adapter."""

    name: str
    implementation: str
    install: str  # what to install for it, by package name ("nothing": ships with electorate)
    host: str = ""  # "module:Class" of an in-process Host
    argv: str = ""  # "module:function" returning the adapter's command line (a list)
    needs: tuple[str, ...] = field(default=())  # programs that must be on PATH
    check: str = ""  # optional "module:function" returning None or why it is unavailable
    arg: str = ""  # what NAME:ARG passes to the host (empty: the entry takes no argument)

    def unavailable(self) -> str | None:
        """None when the adapter can run here, else one line saying what is missing."""
        for program in self.needs:
            if shutil.which(program) is None:
                return f"`{program}` not found on PATH (install: {self.install})"
        if self.check:
            reason: str | None = _load(self.check)()
            return reason
        return None

    def command(self) -> list[str]:
        """The subprocess command line (``argv`` entries only)."""
        argv: list[str] = _load(self.argv)()
        return argv

    def make_host(self, arg: str | None) -> Any:
        """A fresh in-process host (``host`` entries only); ``arg`` is the part after ':'."""
        if arg is not None and not self.arg:
            raise ValueError(f"built-in adapter {self.name!r} takes no ':' argument")
        cls = _load(self.host)
        return cls(arg) if arg is not None else cls()


def _load(ref: str) -> Callable[..., Any]:
    module, _, attr = ref.partition(":")
    obj: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return obj


ENTRIES: tuple[Entry, ...] = (
    Entry(
        "impl",
        "electorate's production role machine (electorate.impl.core), in process",
        "nothing (ships with electorate)",
        host="electorate.conformance.adapters.impl_host:ImplHost",
    ),
    Entry(
        "spec",
        "the spec itself acting as an implementation (positive control; spec:BUG = a mutated "
        "spec, a negative control)",
        "nothing (ships with electorate)",
        host="electorate.conformance.adapters.spec_host:SpecHost",
        arg="BUG",
    ),
    Entry(
        "etcd-raft",
        "etcd's raft 3.4 (go.etcd.io/etcd/raft RawNode), Go; built on first use",
        "apt-get install golang-go golang-etcd-server-dev",
        argv="electorate.conformance.adapters.etcd_raft:command",
        check="electorate.conformance.adapters.etcd_raft:unavailable",
    ),
    Entry(
        "figure2-js",
        "the Raft paper's Figure 2 in JavaScript, written for this suite from its docs "
        "(electorate/conformance/adapters/js)",
        "Node.js 18+ (Debian: apt-get install nodejs); no npm package",
        argv="electorate.conformance.adapters.js:argv",
        needs=("node",),
    ),
    Entry(
        "pysyncobj",
        "PySyncObj 0.3.17 (PyPI pysyncobj), driven in process; pysyncobj:memory restarts "
        "without a journal (its default configuration)",
        "pip install 'electorate[thirdparty]'",
        host="electorate.conformance.adapters.pysyncobj_host:PySyncObjHost",
        check="electorate.conformance.adapters.pysyncobj_host:available",
        arg="memory",
    ),
    Entry(
        "liferaft",
        "liferaft 1.4.0 (npm @markwylde/liferaft), JavaScript, driven step by step",
        "Node.js with npm, then: python -m electorate.conformance.adapters.liferaft --install",
        argv="electorate.conformance.adapters.liferaft:argv",
        check="electorate.conformance.adapters.liferaft:available",
    ),
)


def names() -> list[str]:
    return [e.name for e in ENTRIES]


def lookup(name: str) -> Entry | None:
    """The entry for ``name`` (``spec:BUG`` finds ``spec``), or None: a command line."""
    base = name.partition(":")[0]
    return next((e for e in ENTRIES if e.name == base), None)
