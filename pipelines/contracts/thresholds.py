"""Quarantine limits: a delivery that quarantines too much stops the run before publishing.

A run that quarantined 97 % of crimes (every timestamp carried a timezone suffix) used to
succeed and publish "0 repeat victims". Each extract's quarantine is compared, rule by rule and
in total, with configured shares; above them the run stops with one line naming the extract,
the column, the rule, the share and two example data rows, plus a hint where the cause can be
guessed from the shape of the values. A rule's own breach leads (the total only adds rules up)
and the line names the column(s) the quarantined rows broke. The values themselves are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contracts.loader import LoadResult
from pipelines.contracts.schema import EXTRACTS


class QuarantineThresholdExceeded(Exception):
    """Too large a share of an extract was quarantined (one line, no values)."""


@dataclass(frozen=True)
class QuarantineLimits:
    max_share_per_rule: float = 0.05
    max_share_per_extract: float = 0.10
    min_rows_to_stop: int = 10

    @classmethod
    def from_settings(cls, ingest: object) -> QuarantineLimits:
        """From the `ingest` section of the settings (pipelines.settings.IngestSettings)."""
        return cls(
            ingest.quarantine_max_share_per_rule,  # type: ignore[attr-defined]
            ingest.quarantine_max_share_per_extract,  # type: ignore[attr-defined]
            ingest.quarantine_min_rows_to_stop,  # type: ignore[attr-defined]
        )


@dataclass(frozen=True)
class Breach:
    extract: str
    rule: str  # a contract rule, or "all rules"
    rows: int
    read: int
    limit: float

    @property
    def share(self) -> float:
        return self.rows / self.read if self.read else 0.0


def over_limits(result: LoadResult, limits: QuarantineLimits) -> list[Breach]:
    """Every rule (and the total) whose quarantined share is above its limit, largest first."""
    if result.read == 0 or result.quarantined < limits.min_rows_to_stop:
        return []
    found = [
        Breach(result.extract, rule, rows, result.read, limits.max_share_per_rule)
        for rule, rows in result.by_rule.items()
        if rows >= limits.min_rows_to_stop and rows / result.read > limits.max_share_per_rule
    ]
    if result.quarantined / result.read > limits.max_share_per_extract:
        found.append(
            Breach(
                result.extract,
                "all rules",
                result.quarantined,
                result.read,
                limits.max_share_per_extract,
            )
        )
    # a rule's own breach first: it names the cause, the total only adds the rules up
    return sorted(found, key=lambda b: (b.rule == "all rules", -b.share))


# Shapes of a value that explain a whole column failing (regular expressions, DuckDB syntax).
_SHAPES = (
    (
        r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})$",
        "carries a timezone suffix (Z or +hh:mm): the contract wants local UK time without it",
    ),
    # (a 'T' between date and time is ISO 8601 and loads: it explains nothing)
    (r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}", "looks DD/MM/YYYY: the contract wants YYYY-MM-DD"),
    (r"^[0-9]+,[0-9]+$", "uses a decimal comma: the contract wants a decimal point"),
    # a database export's text for no value (SQL Server's "Save results as", pandas' NaN)
    (
        r"^(?i)(null|none|nan|n/a|#n/a)$",
        "holds the word NULL for no value: the contract writes no value as an empty field",
    ),
    (
        r"^[0-9]{4}-([0-9]-[0-9]{1,2}|[0-9]{2}-[0-9])([ T]|$)",
        "writes dates without leading zeros (2024-1-5): the contract wants YYYY-MM-DD",
    ),
)
# Dates as a spreadsheet or a database writes them when nobody chose a format; on date and
# date-time columns only (a 5-digit number is a valid value elsewhere).
_DAY_SHAPES = (
    (
        r"^[1-9][0-9]{4}(\.[0-9]+)?$",
        "holds spreadsheet serial day numbers (45296 for 2024-01-05): the contract wants "
        "YYYY-MM-DD (format the column as a date before saving)",
    ),
    (
        r"^(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$",
        "writes dates without separators (YYYYMMDD): the contract wants YYYY-MM-DD",
    ),
)
# A date column exported as a date-time (a database's default); on date columns only (a
# timestamp column's time of day is valid).
_DATE_SHAPES = (
    (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}",
        "carries a time of day: the contract wants a date alone (YYYY-MM-DD)",
    ),
)
# Flags written as words: the contract's booleans are true/false, Y/N or 1/0.
_BOOL_SHAPES = (
    (
        r"^(?i)(yes|no)$",
        "writes Yes/No: the contract wants true/false, Y/N or 1/0 (a mapping file translates)",
    ),
)


def _shapes_of(spec_type: str) -> tuple[tuple[str, str], ...]:
    """The tell-tale shapes looked for in a column of this contract type."""
    return (
        _SHAPES
        + (_DAY_SHAPES if spec_type in ("date", "timestamp") else ())
        + (_DATE_SHAPES if spec_type == "date" else ())
        + (_BOOL_SHAPES if spec_type == "bool" else ())
    )


def _example_rows(con: duckdb.DuckDBPyConnection, extract: str, rule: str) -> list[int]:
    where = "" if rule == "all rules" else "and rule = ?"
    params = [extract] if rule == "all rules" else [extract, rule]
    return [
        int(r[0])
        for r in con.execute(
            f"select source_row from raw.quarantine where extract = ? {where} "
            "order by source_row limit 2",
            params,
        ).fetchall()
    ]


def _columns(con: duckdb.DuckDBPyConnection, extract: str, rule: str) -> list[str]:
    """The columns the quarantined rows broke first, most rows first (at most two): every
    detail opens with the column it names (`column = value (expected: ...)`)."""
    where = "" if rule == "all rules" else "and rule = ?"
    params = [extract] if rule == "all rules" else [extract, rule]
    named = con.execute(
        "select regexp_extract(detail, '^([A-Za-z0-9_/]+)', 1) as column_name, count(*) as n "
        f"from raw.quarantine where extract = ? {where} group by column_name "
        "having column_name != '' order by n desc, column_name limit 2",
        params,
    ).fetchall()
    return [str(r[0]) for r in named]


def _shape_hint(
    con: duckdb.DuckDBPyConnection,
    extract: str,
    rule: str,
    broken: tuple[str, ...] | list[str] = (),
) -> str:
    """The first column whose quarantined values mostly share a tell-tale shape, the columns
    the rows broke (`broken`) first: a shape all over the export (the word NULL for no value)
    is named on the column the message is about."""
    where = "" if rule == "all rules" else "and rule = ?"
    params = [extract] if rule == "all rules" else [extract, rule]
    total = con.execute(
        f"select count(*) from raw.quarantine where extract = ? {where}", params
    ).fetchone()[0]
    if not total:
        return ""
    ordered = sorted(EXTRACTS[extract].columns, key=lambda spec: spec.name not in broken)
    for spec in ordered:
        column = spec.name
        value = f"json_extract_string(original_row, '$.{column}')"
        for pattern, words in _shapes_of(spec.type):
            matching = con.execute(
                f"select count(*) from raw.quarantine where extract = ? {where} "
                f"and regexp_matches(trim({value}), '{pattern}')",
                params,
            ).fetchone()[0]
            if matching * 2 > total:
                return f"column {column!r} {words}"
    return ""


def describe(con: duckdb.DuckDBPyConnection, breach: Breach, file_name: str) -> str:
    rows = _example_rows(con, breach.extract, breach.rule)
    examples = " and ".join(str(r) for r in rows)
    columns = _columns(con, breach.extract, breach.rule)
    hint = _shape_hint(con, breach.extract, breach.rule, columns)
    rule = "all rules together" if breach.rule == "all rules" else f"rule {breach.rule!r}"
    named = ""
    if columns:
        noun = "column" if len(columns) == 1 else "columns"
        named = f"{noun} {' and '.join(map(repr, columns))}: "
    return (
        f"{file_name}: {named}{breach.share:.1%} of {breach.read:,} rows quarantined by {rule} "
        f"(limit {breach.limit:.0%}), e.g. data rows {examples}"
        + (f"; {hint}" if hint else "")
        + "; fix the export, or re-run with --accept-quarantine if this is understood"
    )


def enforce_limits(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    limits: QuarantineLimits,
    accept: bool = False,
) -> list[str]:
    """Raise QuarantineThresholdExceeded for the worst breach unless `accept`; returns the
    one-line descriptions of every breach (for the data-quality summary and the log)."""
    breaches = over_limits(result, limits)
    lines = [describe(con, b, Path(result.file).name) for b in breaches]
    if lines and not accept:
        raise QuarantineThresholdExceeded(lines[0])
    return lines
