"""Every registered environment passes `nemogym check` (references, garbage, fixtures, seeds)."""

from __future__ import annotations

import pytest

import nemogym
from nemogym.checker import check

BUILTIN = sorted(e.id for e in nemogym.list_envs() if e.plugin is None and "/Test" not in e.id)


def test_the_catalogue_is_not_empty():
    assert "nemogym/Arithmetic-v0" in BUILTIN


@pytest.mark.parametrize("env_id", BUILTIN)
def test_env_passes_the_checker(env_id):
    report = check(env_id, tasks=3)
    failed = [f"{r.name}: {r.detail}" for r in report.results if not r.ok]
    assert report.ok, failed
    names = {r.name for r in report.results}
    assert "gymnasium check_env" in names and "fixtures cover full, zero, malformed" in names
