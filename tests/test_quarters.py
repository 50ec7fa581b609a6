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


def _sql_quarter_of(expression: str) -> str:
    """The dbt macro quarter_of rendered for `expression` (plain Jinja: it uses nothing of
    dbt's own)."""
    import jinja2

    from pipelines.paths import DBT_PROJECT_DIR

    template = (DBT_PROJECT_DIR / "macros" / "quarter_of.sql").read_text(encoding="utf-8")
    return str(jinja2.Environment().from_string(template).module.quarter_of(expression))


DAYS = [
    dt.date(1, 1, 1),
    dt.date(9, 2, 3),
    dt.date(99, 4, 1),
    dt.date(999, 12, 31),
    dt.date(1000, 1, 1),
    dt.date(1753, 1, 1),
    dt.date(2025, 3, 31),
    dt.date(2025, 4, 1),
    dt.date(9999, 12, 31),
]


def test_quarter_of_pads_the_year_to_four_digits() -> None:
    assert quarter_of(dt.date(999, 12, 31)) == "0999-Q4"
    assert quarter_of(dt.date(1, 1, 1)) == "0001-Q1"
    assert parse_quarter(quarter_of(dt.date(9, 5, 1))) == (9, 2)
    assert shift_quarter("1000-Q1", -1) == "0999-Q4"
    # as text, quarters sort as time does
    assert sorted(quarter_of(day) for day in DAYS) == [quarter_of(day) for day in DAYS]


def test_the_dbt_macro_quarter_of_agrees_with_python() -> None:
    import duckdb

    con = duckdb.connect()
    expression = _sql_quarter_of("day")
    got = con.execute(
        f"select {expression} from unnest(?::date[]) as t(day) order by day", [DAYS]
    ).fetchall()
    assert [row[0] for row in got] == [quarter_of(day) for day in DAYS]
