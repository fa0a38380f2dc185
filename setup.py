"""Build hook: compile the spec's hot modules with mypyc (the checker's inner loop runs them).

Measured by benchmarks/checker_opts.py and benchmarks/vs_tlc.py. Set ELECTORATE_PURE=1 to
install without compiling (the behaviour is identical: the tests pin TLC's counts either way).
"""

from __future__ import annotations

import os

from setuptools import setup

HOT_MODULES = [
    "spec/messages.py",
    "spec/state.py",
    "spec/actions.py",
    "spec/next.py",
    "spec/invariants.py",
    "spec/symmetry.py",
    "spec/ext_state.py",
    "spec/ext_actions.py",
    "spec/ext_time.py",
    "spec/ext_reduce.py",
    "spec/extensions.py",
    "spec/ext_props.py",
]

ext_modules = []
if os.environ.get("ELECTORATE_PURE") != "1":
    from mypyc.build import mypycify

    try:
        ext_modules = mypycify(HOT_MODULES, opt_level="3")
    except (SystemExit, Exception) as e:  # mypyc refuses code that does not type-check
        print(f"electorate: not compiling the spec with mypyc ({e}); installing pure Python")

setup(ext_modules=ext_modules)
