"""The series file of `spp forecast` (spec/outputs.md): columns series, period_start, value, one
row per series and period. A file that breaks the layout stops the command with one line naming
the file, the column and the data rows (the first data row is row 1, as `spp check` counts);
nothing in it is dropped, summed or changed in silence."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = ("series", "period_start", "value")
# How many data rows a message names before "...".
EXAMPLE_ROWS = 3


def _rows(mask: pd.Series) -> str:
    """The data rows (1-based) where `mask` holds, the first few of them."""
    rows = [str(i + 1) for i in mask.to_numpy().nonzero()[0]]
    more = ", ..." if len(rows) > EXAMPLE_ROWS else ""
    return f"data row{'s' if len(rows) > 1 else ''} {', '.join(rows[:EXAMPLE_ROWS])}{more}"


def series_file_problem(frame: pd.DataFrame) -> str:
    """What makes a series file (read as text, empty cells as '') unusable, '' when nothing
    does: a missing column, no rows, an empty series name, a period_start that is not a date, a
    value that is not a number or is negative or infinite (counts), the same series and period
    twice. An empty value is a period with no figure (a gap): kept missing, as the profile's
    delivery gaps are. A period dated by another day of its month is accepted as before:
    tables such as the Home Office's "12 months ending 31-03-2003" date a period by its end,
    and the frequency is inferred from the dates' spacing whichever day they fall on."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        by_lower = {str(c).strip().lower(): str(c) for c in frame.columns}
        near = [by_lower[c] for c in missing if c in by_lower]
        hint = f" (found {near}: column names are lower case)" if near else ""
        return f"missing columns {missing}{hint}"
    if frame.empty:
        return "no rows: a header only"
    series = frame["series"].str.strip()
    if (series == "").any():
        return f"column 'series' is empty on {_rows(series == '')}"
    text = frame["period_start"].str.strip()
    dates = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if dates.isna().any():
        return (
            f"column 'period_start' is not a date (YYYY-MM-DD) on {_rows(dates.isna())}: "
            f"{text[dates.isna()].iloc[0]!r}"
        )
    given = frame["value"].str.strip() != ""
    values = pd.to_numeric(frame["value"].str.strip().where(given), errors="coerce")
    for bad, words in (
        (given & values.isna(), "is not a number"),
        (values < 0, "is negative (a count cannot be)"),
        (values.abs() == float("inf"), "is infinite"),
    ):
        if bad.any():
            return f"column 'value' {words} on {_rows(bad)}: {frame['value'][bad].iloc[0]!r}"
    repeated = pd.DataFrame({"series": series, "period": dates}).duplicated(keep=False)
    if repeated.any():
        return (
            f"the same series and period_start on more than one row ({_rows(repeated)}): "
            "one row per series and period"
        )
    return ""


def read_series_file(path: Path) -> pd.DataFrame:
    """The file's series, period_start (datetime) and value (float, missing where empty);
    a ValueError naming the file and what is wrong when `series_file_problem` finds a fault."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except UnicodeDecodeError as error:
        # the codec's own message names neither the file nor the remedy
        raise ValueError(
            f"{path}: not UTF-8 (byte {error.start + 1} of the file): re-export as UTF-8"
        ) from None
    problem = series_file_problem(frame)
    if problem:
        raise ValueError(f"{path}: {problem}")
    given = frame["value"].str.strip()
    return pd.DataFrame(
        {
            "series": frame["series"].str.strip(),
            "period_start": pd.to_datetime(frame["period_start"].str.strip(), format="ISO8601"),
            "value": pd.to_numeric(given.where(given != ""), errors="raise"),
        }
    )
