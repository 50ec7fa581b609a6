import datetime as dt

import pytest

from pipelines.quarters import (
    last_complete_quarter,
    parse_quarter,
    quarter_end,
    quarter_of,
    quarter_range,
    shift_quarter,
)


def test_quarter_arithmetic() -> None:
    assert quarter_of(dt.date(2025, 3, 31)) == "2025-Q1"
    assert quarter_of(dt.date(2025, 4, 1)) == "2025-Q2"
    assert quarter_end("2024-Q1") == dt.date(2024, 3, 31)
    assert shift_quarter("2025-Q1", -1) == "2024-Q4"
    assert shift_quarter("2025-Q4", 4) == "2026-Q4"
    assert quarter_range("2024-Q3", "2025-Q2") == ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]


def test_last_complete_quarter() -> None:
    assert last_complete_quarter(dt.date(2026, 11, 28)) == "2026-Q3"
    assert last_complete_quarter(dt.date(2026, 9, 30)) == "2026-Q3"
    assert last_complete_quarter(dt.date(2026, 1, 1)) == "2025-Q4"


@pytest.mark.parametrize("bad", ["2025Q1", "2025-Q5", "25-Q1", ""])
def test_bad_quarters_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_quarter(bad)
