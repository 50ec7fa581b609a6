"""The screening review sample end to end on the tiny run's warehouse: drawn and written for the
auditors, returned with verdicts, read back with the design of its draw, and the threshold the
verdicts choose reaching the screened crimes and the profile's assurance paragraph."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandas as pd

from tests.report.conftest import QUARTER

BANDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_the_pipeline_ran_at_the_configured_threshold_with_its_reason(fixture_db: Path) -> None:
    """No review returned in the tiny run: the configured threshold, said so, and every
    screened crime flagged exactly at or above it."""
    from pipelines.settings import load_settings

    configured = load_settings().screening.threshold
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        source, threshold, reason = con.execute(
            "select threshold_source, threshold, reason from reporting.rpt_screening_threshold"
        ).fetchone()
        scores = con.execute("select * from marts.screening_scores").df()
    assert (source, threshold) == ("configured", configured)
    assert "no reviewed screening sample has been returned" in reason
    assert not scores.empty
    assert (scores["is_flagged"] == (scores["flag_level"] >= configured)).all()
    assert (scores["screening_threshold"] == configured).all()


def test_review_sample_round_trip_sets_the_threshold(fixture_db_copy: Path, tmp_path: Path) -> None:
    from pipelines.dip_sample_returns import read_returned_samples, read_review_returns
    from pipelines.publish.restricted import write_screening_review
    from pipelines.quarters import shift_quarter
    from pipelines.screening_calibration import decide_threshold
    from pipelines.warehouse_tables import replace_table
    from tests.analytics.force_fixture import run_dbt

    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        population = con.execute("select * from reporting.rpt_screening_review_population").df()
        files = write_screening_review(
            con, QUARTER, tmp_path / "out", "Test force", bands=BANDS, per_band=3, seed=5
        )
    assert population["quarter"].eq(QUARTER).all()
    csv, xlsx = files
    assert csv.name == "screening_review.csv" and xlsx.exists()
    written = pd.read_csv(csv, skiprows=1, dtype=str, keep_default_na=False)
    assert set(written["crime_id"]) <= set(population["crime_id"])
    assert written.groupby("band_floor").size().max() <= 3
    assert (written["verdict_is_stalking"] == "").all()
    assert csv.read_text().startswith("# OFFICIAL-SENSITIVE")
    assert "Screening ran at the configured threshold" in csv.read_text().splitlines()[0]

    # the auditors judge every drawn crime at a flag level of 3 or more stalking
    returned = tmp_path / "returned"
    returned.mkdir()
    judged = written.assign(
        verdict_is_stalking=["yes" if int(level) >= 3 else "no" for level in written["flag_level"]]
    )
    (returned / "review.csv").write_text(
        csv.read_text().splitlines()[0] + "\n" + judged.to_csv(index=False)
    )
    returns = read_review_returns(returned)
    assert len(returns) == len(written)
    assert set(returns["verdict_is_stalking"]) <= {"yes", "no"}
    # the review's verdicts count among the dip samples' too
    assert set(read_returned_samples(returned)["crime_id"]) == set(written["crime_id"])

    # reviewed during the next quarter: they calibrate that quarter's run
    next_quarter = shift_quarter(QUARTER, 1)
    decision, estimates = decide_threshold(
        returns,
        next_quarter,
        configured=8,
        override=None,
        target_precision=0.85,
        confidence=0.5,
        quarters=1,
        min_reviewed=1,
    )
    assert decision.source == "calibrated" and decision.reviewed == len(returns)
    assert decision.threshold in BANDS
    row = dataclasses.asdict(decision)
    row["threshold_source"] = row.pop("source")
    with duckdb.connect(str(fixture_db_copy)) as con:
        replace_table(con, "marts.screening_threshold", pd.DataFrame([row]))
    select = [
        "build",
        "--select",
        "int_screening_threshold int_screening_scored screening_scores rpt_screening_threshold "
        "rpt_profile_sentences",
    ]
    result = run_dbt(fixture_db_copy, QUARTER, select)
    assert result.returncode == 0, result.stdout[-2000:]
    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        scores = con.execute("select * from marts.screening_scores").df()
        (template,) = con.execute(
            "select template from reporting.rpt_profile_sentences "
            "where sentence_kind = 'dip_sample'"
        ).fetchone()
    assert (scores["screening_threshold"] == decision.threshold).all()
    assert (scores["is_flagged"] == (scores["flag_level"] >= decision.threshold)).all()
    assert template.endswith(" " + decision.reason)
