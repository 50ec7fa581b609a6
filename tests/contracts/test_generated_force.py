"""On the generator's output with injected bad rows (truth/bad_rows.csv): every injected bad row
is quarantined with its rule, and no other row is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.contracts.loader import load_delivery


def _compare(folder: Path) -> tuple[set, set, dict]:
    con = duckdb.connect()
    results = load_delivery(con, folder, today=dt.date.today())
    truth = {
        (f, int(r), rule)
        for f, r, rule in con.execute(
            "select file, source_row, rule from read_csv(?, all_varchar=true)",
            [str(folder / "truth" / "bad_rows.csv")],
        ).fetchall()
    }
    quarantined = {
        (e, int(r), rule)
        for e, r, rule in con.execute(
            "select extract, source_row, rule from raw.quarantine"
        ).fetchall()
    }
    return truth, quarantined, results


def test_tiny_force_bad_rows_exactly(tiny_force: Path) -> None:
    truth, quarantined, results = _compare(tiny_force)
    assert truth, "the generator injected no bad rows"
    assert quarantined == truth
    for result in results.values():
        assert result.reconciles


def test_small_force_bad_rows_exactly(tmp_path: Path) -> None:
    from pipelines.synthetic import generate_force

    generate_force(scale="small", seed=11, out_dir=tmp_path, end_quarter="2025-Q2", years=3)
    truth, quarantined, results = _compare(tmp_path)
    # Every rule the generator knows how to inject was injected and found.
    assert {rule for _, _, rule in truth} >= {
        "unparseable_date", "unparseable_number", "null_required", "unknown_code",
        "duplicate_key", "missing_reference", "references_quarantined_row", "lat_without_lon",
        "outside_force_area", "end_before_start", "breach_before_grant", "dob_in_future",
        "not_allowed_value",
    }  # fmt: skip
    assert quarantined - truth == set(), "good rows were quarantined"
    assert truth - quarantined == set(), "injected bad rows were loaded or mislabelled"
    assert sum(r.read for r in results.values()) == sum(
        r.loaded + r.quarantined for r in results.values()
    )


@pytest.mark.slow
def test_force_preset_bad_rows_exactly(tmp_path: Path) -> None:
    from pipelines.synthetic import generate_force

    generate_force(scale="force", seed=42, out_dir=tmp_path, end_quarter="2025-Q2")
    truth, quarantined, _ = _compare(tmp_path)
    assert quarantined == truth
