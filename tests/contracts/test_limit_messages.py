"""What a run stopped by a quarantine limit says: the shape hint names a cause only when the
quarantined values show one; a valid value (ISO 8601 with 'T') explains nothing."""

from __future__ import annotations

from pathlib import Path

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
