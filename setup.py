"""Build hook: compile the spec's hot modules with mypyc (the checker's inner loop runs them),
and the checker's C extensions: the fingerprint set (model_check/_fpset.c), the packed
election model (spec/fast/_election.c) and the packed liveness quotient (spec/fast/_liveness.c).

Measured by benchmarks/checker_opts.py, benchmarks/vs_tlc.py and benchmarks/engine.py. Set
ELECTORATE_PURE=1 to install without mypyc (the behaviour is identical: the tests pin TLC's
counts either way). The C extensions are always attempted, and optional: without a C compiler
the checker uses its numpy table and the readable spec, and says so (`electorate check --json`:
"successors"). An editable install puts the compiled modules under build/compiled/, never
beside the sources (electorate/_native.py puts that folder first on the package's import path).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
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
        "topology",
        "liveness/timing",
        "liveness/network",
        "liveness/quotient",
        "liveness/steps",
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


C_FLAGS = ["-O3", "-Wall"]
C_EXTENSIONS = [
    Extension(name, [source], extra_compile_args=C_FLAGS, optional=True)
    for name, source in (
        ("electorate.model_check._fpset", "electorate/model_check/_fpset.c"),
        ("electorate.spec.fast._election", "electorate/spec/fast/_election.c"),
        ("electorate.spec.fast._liveness", "electorate/spec/fast/_liveness.c"),
    )
]

ext_modules: list[Any] = []
if os.environ.get("ELECTORATE_PURE") != "1":
    from mypyc.build import mypycify

    try:
        ext_modules = mypycify(HOT_MODULES, opt_level="3", group_name="electorate.spec._native")
    except (SystemExit, Exception) as e:  # mypyc refuses code that does not type-check
        print(f"electorate: not compiling the spec with mypyc ({e}); installing pure Python")

setup(ext_modules=[*ext_modules, *C_EXTENSIONS], cmdclass={"build_ext": BuildExtOutOfTree})
