"""The runnable examples in docs/examples run, and the embedding snippets of the README and
docs/impl.md name the library's real API."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from electorate.impl.config import NodeConfig

REPO = Path(__file__).resolve().parents[2]


def run_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "docs/examples" / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


def test_fenced_worker_demo_fails_over_and_fences_the_old_leader() -> None:
    proc = run_example("fenced_worker.py", "--demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zombie = [line for line in proc.stdout.splitlines() if line.startswith("zombie write")]
    assert len(zombie) == 1 and zombie[0].endswith(": refused")
    assert proc.stdout.count("leading with token") >= 2  # the successor took over


def test_embedded_elector_example_hands_over_to_a_successor_with_a_larger_token() -> None:
    proc = run_example("embedded_elector.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    summary = [
        m for line in lines if (m := re.match(r"ok: (n\d) -> (n\d), tokens (\d+) -> (\d+)", line))
    ]
    assert len(summary) == 1, proc.stdout
    first, second, token1, token2 = summary[0].groups()
    assert second != first and int(token2) > int(token1)
    began = lines.index(f"{second}: leading, term {token2}, token {token2}")
    # The old leader ran its jobs and reported the end of its tenure before the successor began.
    assert lines.index(f"{first}: job 1 done with token {token1}") < began
    assert lines.index(f"{first}: stopped leading") < began
    assert f"{second}: job 1 done with token {token2}" in lines[began:]
    assert not any(line.endswith("refused") for line in lines)


def test_embedded_elector_example_refuses_a_bad_flag_in_one_line() -> None:
    proc = run_example("embedded_elector.py", "--interval", "0")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].endswith("--interval must be in (0, 10] seconds")
    assert "Traceback" not in proc.stderr


def _embedding_snippets(doc: Path) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    return [b for b in blocks if "electorate.impl.threaded import" in b]


def _call_keywords(tree: ast.AST, callee: str) -> list[set[str]]:
    return [
        {k.arg for k in node.keywords if k.arg is not None}
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == callee
    ]


@pytest.mark.parametrize("doc", ["README.md", "docs/impl.md"])
def test_the_embedding_snippet_names_the_real_api(doc: str) -> None:
    """Imports resolve, NodeConfig gets every required field and no unknown one, and the
    Elector's keywords are its parameters."""
    snippets = _embedding_snippets(REPO / doc)
    assert snippets, f"{doc} shows no embedding snippet"
    fields = {f.name: f for f in dataclasses.fields(NodeConfig)}
    required = {
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    for snippet in snippets:
        tree = ast.parse(snippet)
        names = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    names[alias.name] = getattr(module, alias.name)  # AttributeError: renamed
        for keywords in _call_keywords(tree, "NodeConfig"):
            assert keywords <= set(fields), keywords - set(fields)
            assert required <= keywords, required - keywords
        elector = inspect.signature(names["Elector"]).parameters
        for keywords in _call_keywords(tree, "Elector"):
            assert keywords <= set(elector), keywords - set(elector)
