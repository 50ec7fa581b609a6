"""The analyst's exploration notebook runs top to bottom on the session's tiny warehouse (so it
cannot rot as the marts change), and is kept in git without outputs (they could hold
personal data)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipelines.paths import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "explore_profile.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_runs_read_only_on_the_tiny_warehouse(
    tiny_profile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy: the kernel is another process, and DuckDB locks a file per process.
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(tiny_profile.warehouse, warehouse)
    before = warehouse.stat().st_mtime_ns
    monkeypatch.setenv("SPP_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SPP_QUARTER", tiny_profile.quarter)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(PROJECT_ROOT)}},
    )
    client.execute()  # the kernel inherits the env; raises CellExecutionError on any failing cell
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs
        if o.output_type == "error"
    ]  # fmt: skip
    assert not errors
    assert nb.cells[3].outputs, "the quarter cell printed nothing"
    assert tiny_profile.quarter in str(nb.cells[3].outputs[0]["data"]["text/plain"])
    assert warehouse.stat().st_mtime_ns == before, "the notebook wrote to the warehouse"
