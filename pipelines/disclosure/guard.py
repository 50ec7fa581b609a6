"""The publish guard: no personal identifier from the input extracts may reach a published file.

Every value that identifies a person or a crime in the raw extracts (names, dates of birth,
person ids, crime ids, postcodes; also the ids of intelligence reports, orders and breaches)
is sensitive, in the warehouse's raw tables, including rows held in quarantine. The rendered
file is cut into tokens once; each distinct token, and each run of neighbouring tokens, is
looked up among those values: one pass over the text whatever the number of values, never one
regular expression per value.

Two sources answer the lookup. `SensitiveValues` holds every value in Python sets (built by
`load_sensitive_values`; tests build small ones by hand). `WarehouseValues`, which the publish
stage uses, leaves the values in DuckDB and asks it only which of the text's probes are among
them (a semi-join): at national scale that is ~15 M values never fetched into Python. Both
answer every probe the same (tests/disclosure/test_guard.py compares them).

The embedded plotly.js library is removed before scanning only if it is byte-identical to the
library shipped with plotly, so nothing can hide in it.

Messages say which kind of value was found and how often, never the value itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import html
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from pipelines.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from pipelines.places.outlines import boundary_caveats
from pipelines.settings import Settings, settings_rows

# Tokens: runs of letters/digits, joined through - / _ . when inside one word (ids, dates).
_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+(?:[-/_.][0-9A-Za-z\u00c0-\u024f]+)*")
_PART = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")
# Name parts shorter than this are initials or particles ("o" of O'Brien): too common to test.
MIN_NAME_PART = 3
# An id of digits alone reads as a figure when it is shorter than this and has no leading zero:
# the published files print counts and years unseparated (data_quality.json prints rows read,
# 8,750,000 person rows nationally: 7 digits), so a force whose nominal ids are sequential
# numbers ("114") would find its own counts "leaked" and never publish. Such a token is not
# taken for an id, as a name part shorter than MIN_NAME_PART is not taken for a name; longer
# numeric ids, zero-padded ones ("00114") and any id with a letter are still caught.
MIN_NUMERIC_ID_DIGITS = 8
ID_KINDS = frozenset({"crime_id", "person_id", "record_id"})
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


class DisclosureError(RuntimeError):
    """Raised when a file about to be published contains personal identifiers."""


@dataclass
class SensitiveValues:
    """Normalised (lower-case) values that must not appear in a published file."""

    tokens: dict[str, set[str]] = field(default_factory=dict)  # kind -> single tokens
    # kind -> runs of 2-3 neighbouring tokens, joined by a space ("jane smith", "4 march 1985")
    # or with nothing (a postcode printed with its space: "yo1 7hh" -> "yo17hh")
    pairs: dict[str, set[str]] = field(default_factory=dict)
    # lookup()'s dictionaries, built once for the several files one guard pass scans (~0.1 s
    # each on a force's values); adding values drops them.
    _lookup: tuple[dict[str, str], dict[str, str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def add_tokens(self, kind: str, values: Iterable[str]) -> None:
        self._lookup = None
        _add_nonempty(self.tokens.setdefault(kind, set()), values)

    def add_pairs(self, kind: str, values: Iterable[str]) -> None:
        self._lookup = None
        _add_nonempty(self.pairs.setdefault(kind, set()), values)

    def __len__(self) -> int:
        return sum(map(len, self.tokens.values())) + sum(map(len, self.pairs.values()))

    def lookup(self) -> tuple[dict[str, str], dict[str, str]]:
        """token -> kind and run -> kind, for a few hash probes per token."""
        if self._lookup is None:
            self._lookup = _by_value(self.tokens), _by_value(self.pairs)
        return self._lookup

    def lookup_for(
        self, singles: Collection[str], runs: Collection[str]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The whole lookup: every probe is one hash probe into it."""
        return self.lookup()


class SensitiveLookup(Protocol):
    """Where a scan looks its probes up: SensitiveValues or WarehouseValues."""

    def lookup_for(
        self, singles: Collection[str], runs: Collection[str]
    ) -> tuple[Mapping[str, str], Mapping[str, str]]:
        """probe -> kind, for at least the probes that are sensitive values."""
        ...

    def __len__(self) -> int: ...


def _by_value(sets: dict[str, set[str]]) -> dict[str, str]:
    """value -> kind; a value of several kinds takes the last kind added. Built a kind at a time
    by dict.fromkeys (in C): at national scale the values number ~10 M."""
    by_value: dict[str, str] = {}
    for kind, values in sets.items():
        by_value.update(dict.fromkeys(values, kind))
    return by_value


def _add_nonempty(into: set[str], values: Iterable[str]) -> None:
    """Add the values but the empty string (never a value, and never in `into`: so added in C,
    then taken out, rather than tested one by one in Python over millions of ids)."""
    into.update(values)
    into.discard("")


@dataclass(frozen=True)
class GuardReport:
    tokens_scanned: int
    # len() of the lookup: SensitiveValues' distinct normalised values; WarehouseValues' cells
    values_checked: int
    hits: dict[str, int]  # kind -> number of occurrences (never the values)

    @property
    def ok(self) -> bool:
        return not self.hits

    def message(self, label: str) -> str:
        found = ", ".join(f"{n} {kind}" for kind, n in sorted(self.hits.items()))
        return (
            f"publish guard refused {label}: found {found} from the input extracts "
            "(values not shown; inspect the file in a secure environment)"
        )


# --------------------------------------------------------------------------- normalising
def normalise_id(value: str) -> str:
    return value.strip().lower()


_SPACES = re.compile(r"\s+")


def normalise_postcode(value: str) -> str:
    return _SPACES.sub("", value).lower()


def name_parts(value: str) -> list[str]:
    return [p for p in _PART.findall(value.lower()) if len(p) >= MIN_NAME_PART]


def date_forms(day: dt.date) -> list[str]:
    """The ways a date of birth could be printed, each as one token or a token pair."""
    return [
        day.isoformat(),
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
    ]


# --------------------------------------------------------------------------- collecting
# The columns of each raw table, by table name: one catalogue query per pass of the guard (it
# asks after ~70 tables' columns, and each query of DuckDB's information_schema costs ~5 ms).
RawColumns = Mapping[str, set[str]]


def raw_columns(con: duckdb.DuckDBPyConnection) -> RawColumns:
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    return columns


# kind -> {raw table: [columns]}. Dates of birth and names are handled separately.
ID_COLUMNS = {
    "crime_id": {
        "crimes": ["crime_id"],
        "crime_persons": ["crime_id"],
        "intelligence": ["crime_id"],
        "orders": ["crime_id"],
        "breaches": ["crime_id"],
    },
    "person_id": {
        "crime_persons": ["person_id"],
        "intelligence": ["subject_person_id", "victim_person_id"],
        "orders": ["subject_person_id", "protected_person_id"],
    },
    "record_id": {
        "intelligence": ["intel_id"],
        "orders": ["order_id"],
        "breaches": ["breach_id", "order_id"],
    },
}
POSTCODE_COLUMNS = {"crime_persons": ["postcode"]}
DOB_COLUMNS = {
    "crime_persons": ["date_of_birth"],
    "intelligence": ["subject_date_of_birth"],
    "orders": ["subject_date_of_birth"],
}
NAME_COLUMNS = {
    "crime_persons": [("forename", "surname")],
    "intelligence": [("subject_forename", "subject_surname")],
    "orders": [("subject_forename", "subject_surname")],
}


def _sources(raw: RawColumns, table: str, columns: Iterable[str]) -> list[str]:
    """SQL expressions yielding the column's values from raw.<table> and from its quarantined
    rows (stored as JSON), for the columns that exist."""
    present = raw.get(table, set())
    quarantine = raw.get("quarantine", set())
    selects = []
    for column in columns:
        if column in present:
            selects.append(f"select cast({column} as varchar) as v from raw.{table}")
        if {"extract", "original_row"} <= quarantine:
            selects.append(
                f"select json_extract_string(cast(original_row as json), '$.{column}') as v "
                f"from raw.quarantine where extract = '{table}'"
            )
    return selects


def _distinct(con: duckdb.DuckDBPyConnection, selects: list[str]) -> list[str]:
    if not selects:
        return []
    # `union all`: the outer distinct de-duplicates once (a `union` would do it twice, over
    # millions of ids at national scale).
    query = " union all ".join(selects)
    rows = con.execute(
        f"select distinct trim(v) from ({query}) where v is not null and trim(v) <> ''"
    ).fetchall()
    return [r[0] for r in rows]


def load_sensitive_values(con: duckdb.DuckDBPyConnection) -> SensitiveValues:
    """Every identifying value in the raw extracts (loaded and quarantined rows)."""
    values = SensitiveValues()
    raw = raw_columns(con)
    for kind, tables in ID_COLUMNS.items():
        selects = [s for t, cols in tables.items() for s in _sources(raw, t, cols)]
        values.add_tokens(kind, map(normalise_id, _distinct(con, selects)))
    selects = [s for t, cols in POSTCODE_COLUMNS.items() for s in _sources(raw, t, cols)]
    postcodes = [normalise_postcode(v) for v in _distinct(con, selects)]
    values.add_tokens("postcode", postcodes)  # written without a space: one token
    values.add_pairs("postcode", postcodes)  # "YO1 7HH": two tokens, joined without a space
    days = _birth_days(con, raw)
    values.add_tokens("date_of_birth", (f for d in days for f in date_forms(d)))
    values.add_pairs("date_of_birth", map(long_date, days))
    _add_names(con, raw, values)
    return values


def long_date(day: dt.date) -> str:
    """A date as a run of three tokens: "4 March 1985" (lower-case, as probed)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _birth_days(con: duckdb.DuckDBPyConnection, raw: RawColumns) -> list[dt.date]:
    """Every date of birth (distinct: a few tens of thousands of days even at national scale)."""
    selects = [s for t, cols in DOB_COLUMNS.items() for s in _sources(raw, t, cols)]
    days = []
    for v in _distinct(con, selects):
        try:
            days.append(dt.date.fromisoformat(v[:10]))
        except ValueError:
            continue
    return days


def _name_unions(raw: RawColumns) -> list[str]:
    """Per name column pair, one SQL union of its (forename f, surname s) rows, raw and
    quarantined."""
    quarantine = {"extract", "original_row"} <= raw.get("quarantine", set())
    unions = []
    for table, pairs in NAME_COLUMNS.items():
        present = raw.get(table, set())
        for fore, sur in pairs:
            selects = []
            if {fore, sur} <= present:
                selects.append(f"select {fore} as f, {sur} as s from raw.{table}")
            if quarantine:
                selects.append(
                    f"select json_extract_string(cast(original_row as json), '$.{fore}') as f, "
                    f"json_extract_string(cast(original_row as json), '$.{sur}') as s "
                    f"from raw.quarantine where extract = '{table}'"
                )
            if selects:
                unions.append(" union all ".join(selects))
    return unions


def _add_names(con: duckdb.DuckDBPyConnection, raw: RawColumns, values: SensitiveValues) -> None:
    """Full names as token runs in both orders; single name parts as tokens."""
    for union in _name_unions(raw):  # the distinct below de-duplicates each union once
        rows = con.execute(
            f"select distinct lower(trim(f)), lower(trim(s)) from ({union}) "
            "where f is not null or s is not null"
        ).fetchall()
        # The rows are distinct pairs, but a forename or surname recurs in many of them
        # (millions of pairs at national scale, far fewer names): each name is cut into
        # parts once, and the sets are filled once.
        parts: dict[str | None, list[str]] = {}
        tokens: set[str] = set()
        runs: list[str] = []
        for forename, surname in rows:
            fparts = parts.get(forename)
            if fparts is None:
                fparts = parts[forename] = name_parts(forename or "")
                tokens.update(fparts)
            sparts = parts.get(surname)
            if sparts is None:
                sparts = parts[surname] = name_parts(surname or "")
                tokens.update(sparts)
            if fparts and sparts:
                runs.append(f"{fparts[-1]} {sparts[0]}")
                runs.append(f"{sparts[-1]} {fparts[0]}")
        if rows:  # as many kinds as before: none for a table without names
            values.add_tokens("name", tokens)
        if runs:
            values.add_pairs("name", runs)


# Values that DuckDB normalises exactly as the guard's Python functions do, so they are
# matched in SQL; any other value is fetched and normalised in Python, as
# load_sensitive_values normalises every value. An id: ASCII, no control character at either
# end (Python's strip also takes tabs and other controls there; non-ASCII letters lower-case
# by Python's own Unicode tables). A postcode: printable ASCII throughout (\s takes a tab or
# a control character anywhere).
_PLAIN_ID = "strlen(v) = length(v) and ascii(v) >= 32 and ascii(right(v, 1)) >= 32"
_PLAIN_POSTCODE = "regexp_full_match(v, '[ -~]*')"
_ID_KEY = "lower(v)"
_POSTCODE_KEY = "lower(replace(v, ' ', ''))"


class WarehouseValues:
    """The sensitive values, left in the warehouse's raw tables: a lookup asks DuckDB which of
    a text's probes are among them, rather than fetching every value into Python. For the
    probes asked it answers exactly as `load_sensitive_values(con).lookup()` would."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._count: int | None = None

    def lookup_for(
        self, singles: Collection[str], runs: Collection[str]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """probe -> kind for the probes that are sensitive values: single tokens and runs."""
        con = self._con
        singles, runs = set(singles), set(runs)
        raw = raw_columns(con)
        tokens: dict[str, set[str]] = {}  # kinds in load_sensitive_values' order (_by_value)
        pairs: dict[str, set[str]] = {}
        with (
            _registered(con, _TOKENS, {"v": list(singles)}),
            _registered(con, _RUNS, {"v": list(runs)}),
        ):
            for kind, tables in ID_COLUMNS.items():
                selects = [s for t, cols in tables.items() for s in _sources(raw, t, cols)]
                found = _matching(con, selects, _ID_KEY, _PLAIN_ID, [_TOKENS])
                tokens[kind] = singles.intersection(map(normalise_id, found))
            selects = [s for t, cols in POSTCODE_COLUMNS.items() for s in _sources(raw, t, cols)]
            found = _matching(con, selects, _POSTCODE_KEY, _PLAIN_POSTCODE, [_TOKENS, _RUNS])
            postcodes = set(map(normalise_postcode, found))
            tokens["postcode"] = postcodes & singles
            pairs["postcode"] = postcodes & runs
            days = _birth_days(con, raw)
            tokens["date_of_birth"] = singles.intersection(f for d in days for f in date_forms(d))
            pairs["date_of_birth"] = runs.intersection(map(long_date, days))
            names = _NameRuns(con, raw)
            tokens["name"] = singles & names.parts
            pairs["name"] = names.matching_runs()
        return _by_value(tokens), _by_value(pairs)

    def __len__(self) -> int:
        """The personal values the probes are checked against, as cells: the non-null values
        of the guarded columns, raw and quarantined (counted once; counting them distinct and
        normalised, as len(SensitiveValues), would cost as much as fetching them)."""
        if self._count is None:
            self._count = _count_cells(self._con)
        return self._count


# The probes of one lookup, relations of one column v: single tokens, and runs.
_TOKENS = "_guard_tokens"
_RUNS = "_guard_runs"
_NAMES = "_guard_names"  # name as stored -> the first and last of its parts


@contextlib.contextmanager
def _registered(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list[str]]
) -> Iterator[None]:
    """A Python table visible to the connection's queries as `name` while in the block (an
    Arrow view: nothing is written to the warehouse, which may be open read-only)."""
    con.register(name, pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()}))
    try:
        yield
    finally:
        con.unregister(name)


def _trimmed(selects: list[str]) -> str:
    """The values of the sources as load_sensitive_values reads them: trimmed, not empty."""
    query = " union all ".join(selects)
    return f"select trim(v) as v from ({query}) where v is not null and trim(v) <> ''"


def _matching(
    con: duckdb.DuckDBPyConnection, selects: list[str], key: str, plain: str, probes: list[str]
) -> list[str]:
    """The distinct trimmed values whose key (SQL over the trimmed value v) is a probe, and
    every value that is not plain, for the caller to normalise in Python."""
    if not selects:
        return []
    among = " union all ".join(f"select v from {relation}" for relation in probes)
    rows = con.execute(
        f"select distinct v from ({_trimmed(selects)}) where {key} in ({among}) or not ({plain})"
    ).fetchall()
    return [r[0] for r in rows]


class _NameRuns:
    """The name columns' parts, and the runs of full names among the probes. Each distinct
    name as stored is lower-cased and trimmed in DuckDB and cut into parts in Python
    (name_parts), as load_sensitive_values reads it; the pairs are joined to their names' parts
    in DuckDB, by the names as stored (no string work per row)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, raw: RawColumns) -> None:
        self._con = con
        self.unions = _name_unions(raw)
        split: dict[str, list[str]] = {}
        if self.unions:
            names = " union all ".join(
                f"select unnest([f, s]) as n from ({u})" for u in self.unions
            )
            rows = con.execute(
                f"select n, lower(trim(n)) from (select distinct n from ({names})) "
                "where n is not null"
            ).fetchall()
            split = {n: name_parts(lowered) for n, lowered in rows}
        self.parts = {p for ps in split.values() for p in ps}
        self._ends = {
            "n": [n for n, ps in split.items() if ps],
            "first": [ps[0] for ps in split.values() if ps],
            "last": [ps[-1] for ps in split.values() if ps],
        }

    def matching_runs(self) -> set[str]:
        """The full-name runs, in both orders, of every name column pair that are probes."""
        selects = [
            f"select unnest([fm.last || ' ' || sm.first, sm.last || ' ' || fm.first]) as run "
            f"from ({union}) as p "
            f"join {_NAMES} as fm on p.f = fm.n join {_NAMES} as sm on p.s = sm.n"
            for union in self.unions
        ]
        if not selects:
            return set()
        with _registered(self._con, _NAMES, self._ends):
            rows = self._con.execute(
                f"select distinct run from ({' union all '.join(selects)}) "
                f"where run in (select v from {_RUNS})"
            ).fetchall()
        return {r[0] for r in rows}


def _count_cells(con: duckdb.DuckDBPyConnection) -> int:
    """The non-null values of the guarded columns, raw and quarantined."""
    raw = raw_columns(con)
    selects = [
        s
        for tables in [*ID_COLUMNS.values(), POSTCODE_COLUMNS, DOB_COLUMNS]
        for t, cols in tables.items()
        for s in _sources(raw, t, cols)
    ]
    selects += [f"select unnest([f, s]) as v from ({u})" for u in _name_unions(raw)]
    counts = " union all ".join(f"select count(v) as n from ({s})" for s in selects)
    return int(con.execute(f"select sum(n) from ({counts})").fetchall()[0][0] or 0)


# --------------------------------------------------------------------------- scanning
def _cell_text(value: object) -> str:
    """A cell as printed: a date as its ISO day (its time, if any, apart) so it is one token."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    return value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)


def published_text(path: Path) -> str:
    """The text a reader of a published file sees. A workbook is read cell by cell (every
    sheet, its name, every value, dates in ISO form): its XML is zipped, so reading the file
    as text would show the guard nothing."""
    if path.suffix.lower() != ".xlsx":
        return path.read_text(encoding="utf-8", errors="replace")
    from openpyxl import load_workbook  # only publishing reads workbooks

    book = load_workbook(path, read_only=True, data_only=False)
    try:
        lines: list[str] = []
        for sheet in book.worksheets:
            lines.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                lines.append("\t".join(_cell_text(v) for v in row))
        return "\n".join(lines)
    finally:
        book.close()


def strip_library(text: str, library: str | None) -> str:
    """Remove the embedded plotly.js bundle, only where it is byte-identical to the library."""
    if library and library in text:
        return text.replace(library, " ")
    return text


@dataclass(frozen=True)
class TextProbes:
    """What a scan looks up in one text, each probe with how often the text holds it."""

    tokens_scanned: int
    singles: Counter[str]  # every token, looked up as any kind
    compound_parts: Counter[str]  # parts of compound tokens ("smith-jones"), as names only
    runs: Counter[str]  # 2-3 neighbouring word parts, spaced or (two) joined


def text_probes(text: str, library: str | None = None) -> TextProbes:
    """Cut the text (its embedded library removed) into its probes, in one pass."""
    body = html.unescape(strip_library(text, library))
    tokens = [t.lower() for t in _TOKEN.findall(body)]
    compound: list[str] = []
    runs: list[str] = []
    window: list[str] = []  # the last two word parts before this token
    for token in tokens:
        parts = [token] if token.isalnum() else _PART.findall(token)
        if len(parts) > 1:  # compound tokens ("Smith-Jones", "jane.smith") count by part too
            compound += parts
        if not parts:  # a token whose letters all lower-case outside the part alphabet
            continue
        first = parts[0]
        if window:
            runs += (f"{window[-1]} {first}", f"{window[-1]}{first}")
        if len(window) == 2:
            runs.append(f"{window[0]} {window[1]} {first}")
        window = (window + parts)[-2:]
    return TextProbes(len(tokens), Counter(tokens), Counter(compound), Counter(runs))


def reads_as_a_figure(token: str) -> bool:
    """A token a published file may print as a count or a year: ASCII digits alone, fewer
    than MIN_NUMERIC_ID_DIGITS of them, without a leading zero (no figure but 0 has one)."""
    return (
        token.isascii()
        and token.isdigit()
        and len(token) < MIN_NUMERIC_ID_DIGITS
        and (token == "0" or not token.startswith("0"))
    )


def scan_probes(
    probes: Sequence[TextProbes],
    sensitive: SensitiveLookup,
    *,
    allowed_words: Iterable[str] = (),
) -> list[GuardReport]:
    """Count the sensitive values in each text, after one lookup of all their probes.

    `allowed_words` are words of the report's own fixed vocabulary (template text, reference
    labels): a person whose surname is also an English word the template uses ("Young",
    "Online") must not block every publication. Dates and postcodes are never allowed; ids are,
    only where they read as a figure (`reads_as_a_figure`).
    """
    single, runs = sensitive.lookup_for(
        {p for text in probes for p in (*text.singles, *text.compound_parts)},
        {run for text in probes for run in text.runs},
    )
    allowed = {w.lower() for w in allowed_words}
    values_checked = len(sensitive)
    reports = []
    for text in probes:
        hits: Counter[str] = Counter()
        for token, n in text.singles.items():
            kind = single.get(token)
            if not kind or (kind == "name" and token in allowed):
                continue
            if kind in ID_KINDS and reads_as_a_figure(token):
                continue
            hits[kind] += n
        for part, n in text.compound_parts.items():
            if single.get(part) == "name" and part not in allowed:
                hits["name"] += n
        for run, n in text.runs.items():
            if run_kind := runs.get(run):
                hits[run_kind] += n
        reports.append(GuardReport(text.tokens_scanned, values_checked, dict(hits)))
    return reports


def scan_text(
    text: str,
    sensitive: SensitiveLookup,
    *,
    allowed_words: Iterable[str] = (),
    library: str | None = None,
) -> GuardReport:
    """Count occurrences of sensitive values in `text` (see scan_probes)."""
    return scan_probes([text_probes(text, library)], sensitive, allowed_words=allowed_words)[0]


def refuse_leak(
    path: Path, report: GuardReport, *, label: str | None = None, remove: bool = True
) -> None:
    """On any hit delete the file (so nothing half-checked stays published) and raise
    DisclosureError with a message that names kinds and counts only."""
    if not report.ok:
        if remove:
            path.unlink(missing_ok=True)
        raise DisclosureError(report.message(label or path.name))


def scan_published_files(
    files: Sequence[tuple[Path, str | None]],
    sensitive: SensitiveLookup,
    *,
    allowed_words: Iterable[str] = (),
) -> list[GuardReport]:
    """Each (file, its embedded library or None) scanned, after one lookup for them all (one
    pass of the warehouse, not one per file); refuse_leak acts on the reports."""
    probes = [text_probes(published_text(path), library) for path, library in files]
    return scan_probes(probes, sensitive, allowed_words=allowed_words)


def check_published_file(
    path: Path,
    sensitive: SensitiveLookup,
    *,
    allowed_words: Iterable[str] = (),
    library: str | None = None,
    remove_on_failure: bool = True,
    label: str | None = None,
) -> GuardReport:
    """Scan a rendered file; on any hit delete it and raise DisclosureError (refuse_leak)."""
    [report] = scan_published_files([(path, library)], sensitive, allowed_words=allowed_words)
    refuse_leak(path, report, label=label, remove=remove_on_failure)
    return report


# Words of the report's own fixed text: a surname that is also one of these words (e.g. a
# person called "Young" or "Online") does not block publication on its own.
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


@functools.cache
def report_vocabulary() -> frozenset[str]:
    """Every word of the report's code, templates and reporting models (their SQL holds the
    sentence templates, their YAML the labels), of the publish stage's writers (the modules of
    pipelines/publish/ but the stage itself, its __init__), and the month names."""
    report = PROJECT_ROOT / "pipelines" / "report"
    writers = (PROJECT_ROOT / "pipelines" / "publish").glob("[!_]*.py")
    models = DBT_PROJECT_DIR / "models" / "reporting"
    phrases = DBT_PROJECT_DIR / "macros" / "sentence_phrases.sql"
    words = {*MONTHS, *(month[:3] for month in MONTHS)}  # as a date prints them: %B and %b
    code = [*report.glob("*.py"), *writers, *report.glob("templates/*")]
    for path in [*code, *models.glob("*.sql"), *models.glob("*.yml"), phrases]:
        words |= {w.lower() for w in _WORD.findall(path.read_text(encoding="utf-8"))}
    return frozenset(words)


def reference_vocabulary(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Labels the report prints from reference and summary tables, and the district and
    partnership names the places section prints (from the boundary file): not from person
    data, so a surname that is also a town is no leak."""
    words: set[str] = set()
    # Each (kind, label) once: the places tables repeat a district on every row (641,000
    # grid cells nationally, ~2,000 districts), and each row's words were cut in Python.
    for kind, label in con.execute(
        "select kind, label from reporting.rpt_report_vocabulary union "
        "select 'place', district from reporting.rpt_places_by_district "
        "union select 'place', csp from reporting.rpt_places_by_district "
        "union select 'place', district from reporting.rpt_places_cells"
    ).fetchall():
        if kind == "column":
            words.add(label)
        elif label:
            words |= {w.lower() for w in _WORD.findall(label)}
    return {w.replace("_", " ") for w in words} | words


def guard_vocabulary(
    con: duckdb.DuckDBPyConnection,
    settings: Settings | None = None,
    boundary: Path | None = None,
) -> set[str]:
    """Words the guard does not count as a name on their own: the report's fixed text,
    reference labels, setting names/values (printed in the methodology section) and the
    caveats of the force's boundary file (printed under data gaps). A full name is still
    caught: name runs are checked whatever the single words are."""
    texts = [cell for row in settings_rows(settings or Settings()) for cell in row]
    texts += boundary_caveats(boundary)
    own = {w.lower() for text in texts for w in _WORD.findall(text)}
    return set(report_vocabulary()) | reference_vocabulary(con) | own
