"""Structural checks: can the delivery be read at all?

A structural problem stops the run before anything is written, with one message naming the
file (and the column or line): missing file, unreadable file, file that is not UTF-8, empty
header, empty or duplicate column names, missing required column, a line with the wrong
number of fields. Row-level problems are not structural: they are quarantined (validate.py).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contracts.schema import EXTRACTS

# The largest single field we accept (a free-text field can be long; 10 M characters and more).
MAX_LINE_BYTES = 256 * 1024 * 1024


class StructuralError(Exception):
    """The delivery cannot be loaded at all (missing file, missing column, unreadable)."""


@dataclass(frozen=True)
class ExtractFile:
    extract: str
    path: Path
    format: str  # csv | parquet
    columns: tuple[str, ...]  # as in the file's header, in order

    @property
    def extra_columns(self) -> list[str]:
        known = set(EXTRACTS[self.extract].column_names)
        return [c for c in self.columns if c not in known]


def find_extract_file(extracts_dir: Path, extract: str) -> Path:
    for suffix in (".csv", ".parquet"):
        candidate = Path(extracts_dir) / f"{extract}{suffix}"
        if candidate.exists():
            return candidate
    raise StructuralError(
        f"{Path(extracts_dir) / (extract + '.csv')}: missing file for extract {extract!r} "
        f"(expected {extract}.csv or {extract}.parquet)"
    )


def _csv_header(path: Path) -> list[str]:
    """The header record, parsed with RFC 4180 rules (quoted names allowed); BOM dropped."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024 * 1024)
    except OSError as error:
        raise StructuralError(f"{path}: unreadable file ({error.strerror})") from error
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip():
        raise StructuralError(f"{path}: empty file, no header row")
    # Decode only the header record: a non-UTF-8 byte further down is found by the full read.
    end = head.find(b"\n")
    first = head if end < 0 else head[:end]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StructuralError(
            f"{path}: header is not UTF-8 (byte {error.start + 1} of the header line)"
        ) from error
    record = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in record]


def _parquet_header(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise StructuralError(f"{path}: unreadable Parquet file ({error})") from error


def inspect_extract(extracts_dir: Path, extract: str) -> ExtractFile:
    """Header-level checks of one extract (cheap: reads the first record only)."""
    path = find_extract_file(extracts_dir, extract)
    fmt = "parquet" if path.suffix == ".parquet" else "csv"
    columns = _parquet_header(path) if fmt == "parquet" else _csv_header(path)
    if not columns or all(not c for c in columns):
        raise StructuralError(f"{path}: empty header row")
    for position, name in enumerate(columns, start=1):
        if not name:
            raise StructuralError(f"{path}: column {position} of the header has no name")
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise StructuralError(f"{path}: duplicate column {name!r} in the header")
        seen.add(name)
    for name in EXTRACTS[extract].required_columns:
        if name not in seen:
            raise StructuralError(f"{path}: missing required column {name!r}")
    return ExtractFile(extract, path, fmt, tuple(columns))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def reader_sql(source: ExtractFile) -> str:
    """A DuckDB table function reading the file as text, one column per header name.

    CSV: no sniffing (the spec fixes the dialect), every field VARCHAR, RFC 4180 quotes,
    strict field counts, long fields allowed. Parquet: every column cast to text, so both
    formats meet the same typed validation.
    """
    if source.format == "parquet":
        return f"read_parquet({_sql_str(str(source.path))})"
    columns = ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in source.columns)
    return (
        f"read_csv({_sql_str(str(source.path))}, header=true, auto_detect=false, "
        f"columns={{{columns}}}, delim=',', quote='\"', escape='\"', strict_mode=true, "
        f"max_line_size={MAX_LINE_BYTES}, buffer_size={MAX_LINE_BYTES * 2}, "
        "encoding='utf-8')"
    )


def explain_read_error(source: ExtractFile, error: Exception) -> StructuralError:
    """A one-line message for a DuckDB read failure (the file is named, the line given)."""
    message = str(error)
    found = re.search(r"CSV Error on Line: (\d+)", message)
    # DuckDB counts records from the header (record 1), so data row = record - 1.
    where = f" at record {found.group(1)} (data row {int(found.group(1)) - 1})" if found else ""
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return StructuralError(f"{source.path}: not UTF-8 encoded{where} (re-export as UTF-8)")
    if "Expected Number of Columns" in message:
        detail = next(
            (p.strip() for p in message.splitlines() if "Expected Number of Columns" in p), ""
        )
        return StructuralError(f"{source.path}: wrong number of fields{where} ({detail})")
    first = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    return StructuralError(f"{source.path}: unreadable file{where}: {first}")


def check_readable(con: duckdb.DuckDBPyConnection, source: ExtractFile) -> int:
    """Parse the whole file once (encoding, quoting, field counts); returns its row count.

    Every column is counted: DuckDB only decodes (and so only checks the UTF-8 of) the
    columns a query uses."""
    counts = ", ".join(f"count({_ident(c)})" for c in source.columns)
    try:
        return con.execute(f"select count(*), {counts} from {reader_sql(source)}").fetchone()[0]
    except duckdb.Error as error:
        raise explain_read_error(source, error) from error


def check_delivery(
    con: duckdb.DuckDBPyConnection, extracts_dir: Path, full_read: bool = True
) -> dict[str, ExtractFile]:
    """Every extract's structure, checked before any of them is loaded."""
    files = {extract: inspect_extract(Path(extracts_dir), extract) for extract in EXTRACTS}
    if full_read:
        for source in files.values():
            check_readable(con, source)
    return files
