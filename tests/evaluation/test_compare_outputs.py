"""compare_outputs: workbooks are compared cell by cell, and a warehouse column only in the
new run is a note while a changed figure is a difference."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from openpyxl import Workbook

from pipelines.evaluation.compare_outputs import compare_folders, compare_warehouses


def _workbook(path: Path, figure: int) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Projection"
    sheet.append(["Series", "Expected"])
    sheet.append(["All stalking", figure])
    sheet["C2"] = "=B2*2"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def test_workbooks_differ_by_content_not_by_save_time(tmp_path: Path) -> None:
    before, same, changed = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _workbook(before / "2026-Q3" / "fms" / "demand.xlsx", 881)
    time.sleep(1.1)  # a later save time: different bytes, same content
    _workbook(same / "2026-Q3" / "fms" / "demand.xlsx", 881)
    _workbook(changed / "2026-Q3" / "fms" / "demand.xlsx", 882)
    assert compare_folders(before, same) == []
    differences = compare_folders(before, changed)
    assert differences and any("B2 = 882" in line for line in differences)


def _warehouse(path: Path, sql: str) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema reporting")
        con.execute(sql)
    return path


def test_new_columns_are_notes_and_changed_figures_differences(tmp_path: Path) -> None:
    before = _warehouse(
        tmp_path / "a.duckdb", "create table reporting.rpt_x as select 1 as id, 10 as crimes"
    )
    grown = _warehouse(
        tmp_path / "b.duckdb",
        "create table reporting.rpt_x as select 1 as id, 10 as crimes, 'ten' as words",
    )
    changed = _warehouse(
        tmp_path / "c.duckdb", "create table reporting.rpt_x as select 1 as id, 11 as crimes"
    )
    differences, notes = compare_warehouses(before, grown)
    assert differences == [] and any("new column(s) words" in n for n in notes)
    differences, _ = compare_warehouses(before, changed)
    assert any("+1,11" in line for line in differences)
    differences, _ = compare_warehouses(grown, before)
    assert any("only in before" in line for line in differences)


def _profile(path: Path, y: list, dash: str, numpy_arrays: bool = False) -> None:
    import numpy as np
    import plotly.graph_objects as go

    from pipelines.report.charts import to_div

    figure = go.Figure(layout={"title": {"text": "Crimes rose"}})
    values = np.array(y, dtype=float) if numpy_arrays else y
    figure.add_scatter(x=["2026-Q2", "2026-Q3"], y=values, name="Crimes", line={"dash": dash})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{to_div(figure, 'chart-demand')}</body></html>")


def test_charts_differ_by_what_they_plot_not_by_how_they_are_drawn(tmp_path: Path) -> None:
    before, restyled, changed = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    page = Path("2026-Q3") / "profile.html"
    _profile(before / page, [10, 12], "solid")
    # another dash and the figures as plotly's binary arrays: the same plotted data
    _profile(restyled / page, [10, 12], "dash", numpy_arrays=True)
    _profile(changed / page, [10, 13], "solid")
    assert compare_folders(before, restyled) == []
    differences = compare_folders(before, changed)
    assert any("chart chart-demand" in line for line in differences)
    assert any(line.strip().startswith("+") and "13.0" in line for line in differences)
