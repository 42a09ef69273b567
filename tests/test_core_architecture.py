"""The arrows that must never exist (shared/notes/architecture.md), checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER_TO_PKG = {"nemogym": "nemogym", "envs": "nemogym.envs", "verifiers": "nemogym.verifiers",
                 "sandboxes": "nemogym.sandboxes", "trainers": "nemogym.trainers"}


def imports_of(folder: str) -> dict[str, set[str]]:
    out = {}
    for path in (ROOT / folder).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names |= {f"{node.module}.{a.name}" for a in node.names}
        out[str(path.relative_to(ROOT))] = names
    return out


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{f} imports {n}" for f, names in imports_of(folder).items() for n in names
            if any(n == x or n.startswith(x + ".") for x in forbidden)]


def test_verifiers_never_import_envs_or_trainers():
    assert offenders("verifiers", ("nemogym.envs", "nemogym.trainers")) == []


def test_sandboxes_know_nothing_of_rewards():
    assert offenders("sandboxes", ("nemogym.envs", "nemogym.verifiers", "nemogym.trainers")) == []


def test_nothing_but_trainers_imports_trainers():
    for folder in ("nemogym", "envs", "verifiers", "sandboxes"):
        assert offenders(folder, ("nemogym.trainers",)) == []


def test_no_bare_top_level_imports_of_the_mapped_folders():
    for folder in FOLDER_TO_PKG:
        assert offenders(folder, ("envs", "verifiers", "sandboxes", "trainers")) == []


def test_importing_nemogym_loads_no_heavy_dependency():
    code = ("import sys, nemogym; nemogym.list_envs(); "
            "heavy = [m for m in ('torch', 'transformers', 'trl', 'ray', 'docker', 'sympy', 'datasets', 'aiohttp') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
