"""The report renders the profile document; the publish stage writes the files and calls it.
Neither the report nor the disclosure rules import the publish stage, so the writers can be
read, moved or replaced without the profile changing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipelines.paths import PROJECT_ROOT

PIPELINES = PROJECT_ROOT / "pipelines"


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at any depth (a function's own imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["report", "disclosure"])
def test_the_publish_stage_is_imported_by_no_code_it_calls(package: str) -> None:
    files = sorted((PIPELINES / package).glob("*.py"))
    assert files
    found = {
        path.name: sorted(name for name in _imported(path) if name.startswith("pipelines.publish"))
        for path in files
    }
    assert not {name: modules for name, modules in found.items() if modules}
