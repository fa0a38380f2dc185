"""Where the compiled modules live (mypyc's and the C extensions), and a guard against stale ones.

A regular install puts each compiled module beside its source in site-packages. An editable
install (``pip install -e .``) builds them into ``build/compiled/`` instead, so that compiled
artefacts stay out of the source folders; `prefer_compiled` puts that folder first on a
package's ``__path__`` so the compiled module shadows its source, as it would in site-packages.

A compiled module shadows its source, so an edited source with a stale compiled module would run
old code silently: the guard refuses that with a message saying how to rebuild.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent
COMPILED_ROOT = _PACKAGE_ROOT.parent / "build" / "compiled" / _PACKAGE_ROOT.name


def prefer_compiled(package_path: list[str], init_file: str) -> None:
    """Put the package's compiled folder (editable installs) first on its ``__path__``."""
    here = Path(init_file).resolve().parent
    compiled = COMPILED_ROOT / here.relative_to(_PACKAGE_ROOT)
    for folder in (here, compiled):
        _refuse_stale(here, folder)
    if compiled.is_dir() and str(compiled) not in package_path:
        package_path.insert(0, str(compiled))


def _refuse_stale(sources: Path, folder: Path) -> None:
    for binary in folder.glob("*.so"):
        stem = binary.name.split(".")[0]
        for source in (sources / f"{stem}.py", sources / f"{stem}.c"):  # mypyc, or a C module
            if source.exists() and source.stat().st_mtime > binary.stat().st_mtime:
                raise ImportError(
                    f"{source} was edited after it was compiled to {binary}; rebuild with "
                    "`pip install -e .` (or ELECTORATE_PURE=1 pip install -e . to skip mypyc), "
                    f"or delete {folder}/*.so to run the pure-Python code"
                )
