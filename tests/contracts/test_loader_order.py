"""The loader builds its checked rows without keeping insertion order (so DuckDB can use every
core); the tables it writes are still in file order, and the connection's setting is put back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.contracts.schema import EXTRACTS
from tests.contracts.delivery import Delivery


@pytest.mark.parametrize("kept", [True, False])
def test_tables_in_file_order_and_insertion_order_setting_restored(
    tmp_path: Path, kept: bool
) -> None:
    delivery = Delivery(tmp_path / "in")
    delivery.set("crimes", 2, reported_date="not a date")  # one quarantined row among loaded
    con = duckdb.connect()
    con.execute(f"set preserve_insertion_order = {str(kept).lower()}")
    results = delivery.load(con)
    assert con.execute("select current_setting('preserve_insertion_order')").fetchone()[0] is kept
    for extract in EXTRACTS:
        rows = [r[0] for r in con.execute(f"select _source_row from raw.{extract}").fetchall()]
        assert rows == sorted(rows) and len(rows) == results[extract].loaded
    quarantined = con.execute(
        "select extract, source_row from raw.quarantine where extract = 'crimes'"
    ).fetchall()
    assert ("crimes", 2) in quarantined
