"""Build hook: compile the spec's hot modules with mypyc (the checker's inner loop runs them).

Measured by benchmarks/checker_opts.py and benchmarks/vs_tlc.py. Set ELECTORATE_PURE=1 to
install without compiling (the behaviour is identical: the tests pin TLC's counts either way).
An editable install puts the compiled modules under build/compiled/, never beside the sources
(electorate/_native.py puts that folder first on the package's import path).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
SPEC = "electorate/spec"
HOT_MODULES = [
    f"{SPEC}/{name}.py"
    for name in (
        "messages",
        "state",
        "actions",
        "next",
        "properties",
        "symmetry",
        "features/variables",
        "features/relative_time",
        "features/reduce",
        "features/prevote",
        "features/check_quorum",
        "features/lease",
        "features/restated",
    )
]


class BuildExtOutOfTree(build_ext):
    """In an editable install, write compiled modules to build/compiled/ instead of the sources."""

    def _get_inplace_equivalent(self, build_py: Any, ext: Any) -> tuple[str, str]:
        inplace_file, regular_file = super()._get_inplace_equivalent(build_py, ext)
        relative = Path(inplace_file).resolve().relative_to(ROOT)
        out = ROOT / "build" / "compiled" / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        return str(out), regular_file


ext_modules = []
if os.environ.get("ELECTORATE_PURE") != "1":
    from mypyc.build import mypycify

    try:
        ext_modules = mypycify(HOT_MODULES, opt_level="3", group_name="electorate.spec._native")
    except (SystemExit, Exception) as e:  # mypyc refuses code that does not type-check
        print(f"electorate: not compiling the spec with mypyc ({e}); installing pure Python")

setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExtOutOfTree})
