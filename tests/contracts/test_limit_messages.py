"""What a run stopped by a quarantine limit says: the shape hint names a cause only when the
quarantined values show one; a valid value (ISO 8601 with 'T') explains nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.contracts.thresholds import QuarantineLimits, describe, over_limits
from tests.contracts.delivery import Delivery


def test_a_valid_t_separator_is_not_named_as_the_cause(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    for row in d.rows["crimes"]:
        day = row["reported_date"]
        row["offence_start"], row["offence_end"] = f"{day}T10:30:00", f"{day}T09:00:00"
    results = d.load(only="crimes")
    breaches = over_limits(results["crimes"], QuarantineLimits(min_rows_to_stop=1))
    assert breaches
    messages = [describe(d.con, b, "crimes.csv") for b in breaches]
    assert any("rule 'end_before_start'" in m for m in messages), messages
    assert not any("separator" in m for m in messages), messages


def test_the_rule_and_column_that_broke_lead_the_stop_line(tmp_path: Path) -> None:
    """An outcome code that is no outcome type on most crimes and one other bad flag: the line
    that stops the run names the rule and the column (it used to lead with "all rules together", the
    total share, and name neither)."""
    d = Delivery(tmp_path / "in")
    for i in range(5, 41):
        d.append("crimes", crime_id=f"C{i}", outcome_code="99")
    d.set("crimes", 1, is_online="maybe")
    results = d.load(only="crimes")
    breaches = over_limits(results["crimes"], QuarantineLimits(min_rows_to_stop=1))
    assert [b.rule for b in breaches] == ["unknown_code", "all rules"]
    assert breaches[1].share > breaches[0].share  # the total is larger, yet comes second
    first = describe(d.con, breaches[0], "crimes.csv")
    assert first.startswith("crimes.csv: column 'outcome_code': "), first
    assert "rule 'unknown_code'" in first and "99" not in first


def test_a_date_written_as_a_date_time_is_named_as_the_cause(tmp_path: Path) -> None:
    """Dates exported as date-times ('2024-01-03 00:00:00', a database's default) stop the
    run: the line says so, on the date column and not on the date-time columns beside it."""
    d = Delivery(tmp_path / "in")
    for row in d.rows["crimes"]:
        row["reported_date"] += " 00:00:00"
    results = d.load(only="crimes")
    breaches = over_limits(results["crimes"], QuarantineLimits(min_rows_to_stop=1))
    first = describe(d.con, breaches[0], "crimes.csv")
    assert "column 'reported_date' carries a time of day" in first, first
    assert "offence_start" not in first, first


@pytest.mark.parametrize(
    ("column", "values", "said"),
    [
        # a spreadsheet's serial day numbers (45296 is 2024-01-05)
        ("reported_date", "45296", "column 'reported_date' holds spreadsheet serial day numbers"),
        ("reported_date", "20240105", "column 'reported_date' writes dates without separators"),
        ("is_online", "No", "column 'is_online' writes Yes/No"),
    ],
)
def test_a_whole_column_in_a_spreadsheets_shape_is_named_as_the_cause(
    tmp_path: Path, column: str, values: str, said: str
) -> None:
    """Each used to stop the run naming the column and the rule but no cause."""
    d = Delivery(tmp_path / "in")
    for row in d.rows["crimes"]:
        row[column] = values
    results = d.load(only="crimes")
    breaches = over_limits(results["crimes"], QuarantineLimits(min_rows_to_stop=1))
    first = describe(d.con, breaches[0], "crimes.csv")
    assert said in first and values not in first.split(said)[0], first
