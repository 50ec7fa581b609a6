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
from typing import Any

import duckdb

from pipelines.contracts.schema import EXTRACTS

# The largest single field we accept (a free-text field can be long; 10 M characters and more).
MAX_LINE_BYTES = 256 * 1024 * 1024


class StructuralError(Exception):
    """The delivery cannot be loaded at all (missing file, missing column, unreadable).

    The message is one line naming the file and, where known, the column and the data row,
    with a hint where the cause can be guessed. It never carries a value from the file: the
    readers' own errors echo the offending line (names, dates of birth), so they are never
    kept as the cause (`raise ... from None`) and only their kind is reported.
    """

    def __init__(
        self,
        file: Path | str,
        problem: str,
        *,
        column: str | None = None,
        row: int | None = None,
        hint: str = "",
    ) -> None:
        self.file = str(file)
        self.problem = problem
        self.column = column
        self.row = row
        self.hint = hint
        named = f"column {column!r}: " if column and repr(column) not in problem else ""
        at = f" at data row {row}" if row is not None else ""
        super().__init__(f"{self.file}: {named}{problem}{at}" + (f" ({hint})" if hint else ""))


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
    found = [
        Path(extracts_dir) / f"{extract}{suffix}"
        for suffix in (".csv", ".parquet")
        if (Path(extracts_dir) / f"{extract}{suffix}").exists()
    ]
    if len(found) > 1:
        # one of them is stale (an old export left beside a new one): loading either silently
        # could profile the wrong data
        raise StructuralError(
            found[0],
            f"both {found[0].name} and {found[1].name} are in the folder",
            hint="deliver one file per extract",
        )
    if found:
        return found[0]
    raise StructuralError(
        Path(extracts_dir) / f"{extract}.csv",
        f"missing file for extract {extract!r}",
        hint=f"expected {extract}.csv or {extract}.parquet"
        + _name_case_hint(extracts_dir, extract),
    )


def _name_case_hint(extracts_dir: Path, extract: str) -> str:
    folder = Path(extracts_dir)
    if not folder.is_dir():
        return "; the extracts folder does not exist"
    near = sorted(p.name for p in folder.iterdir() if p.stem.lower() == extract)
    if near:
        return f"; found {', '.join(near)}: file names are lower case"
    # an export tool's archive (crimes.csv.gz, extracts.zip) is not read: it must be unpacked
    packed = sorted(
        p.name
        for p in folder.iterdir()
        if p.suffix.lower() in ARCHIVE_SUFFIXES
        and (p.name.lower().startswith(f"{extract}.") or p.suffix.lower() == ".zip")
    )
    return f"; found {', '.join(packed)}: unpack compressed files first" if packed else ""


ARCHIVE_SUFFIXES = (".gz", ".zip", ".bz2", ".xz", ".7z", ".zst")


def _csv_header(path: Path) -> list[str]:
    """The header record, parsed with RFC 4180 rules (quoted names allowed); BOM dropped."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024 * 1024)
    except OSError as error:
        raise StructuralError(path, f"unreadable file ({error.strerror})") from None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip():
        raise StructuralError(path, "empty file, no header row")
    # Decode only the header record: a non-UTF-8 byte further down is found by the full read.
    # A record ends at a CR as well as at an LF: DuckDB's reader takes a lone CR (an old Mac
    # export's line end) as one, and the header record must be cut where it cuts it.
    end = re.search(rb"[\r\n]", head)
    first = head if end is None else head[: end.start()]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StructuralError(
            path,
            f"header is not UTF-8 (byte {error.start + 1} of the header line)",
            hint=_encoding_hint(first),
        ) from None
    if "\x00" in text:
        # UTF-16 without a byte-order mark: every other byte of an English header is zero
        raise StructuralError(
            path, "header holds NUL bytes", hint="the file looks UTF-16: re-export as UTF-8"
        )
    if re.fullmatch(r"sep=.?", text.strip()):
        raise StructuralError(
            path,
            f"the first line is {text.strip()!r}, not the header",
            hint="a spreadsheet's delimiter line: delete it so the header comes first",
        )
    record = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in record]


def _encoding_hint(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "the file is UTF-16: re-export as UTF-8"
    return "re-export as UTF-8 (the file looks like Windows-1252 or Latin-1)"


def _parquet_header(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception:  # pyarrow raises several types for a damaged file; none is kept
        raise StructuralError(path, "unreadable Parquet file (not Parquet, or damaged)") from None


def delimiter_hint(
    columns: list[str], expected: str = ",", remedy: str = "the contract requires commas"
) -> str:
    """A hint when a header read with `expected` came out as one name holding another
    delimiter (the file is delimited otherwise)."""
    if len(columns) == 1:
        for delimiter, name in ((",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delimiter != expected and delimiter in columns[0]:
                return f"the header looks {name}-delimited: {remedy}"
    return ""


def _column_hint(columns: list[str], wanted: str) -> str:
    by_lower = {c.strip().lower().replace(" ", "_"): c for c in columns}
    found = by_lower.get(wanted)
    if found is not None and found != wanted:
        return f"found {found!r}: column names are lower case with underscores"
    # ', "name"': under RFC 4180 a quote after a space opens no quoted field, so the quotes
    # stay in the name (a header written with ", " between its names)
    quoted = f'"{wanted}"'
    if quoted in columns:
        return (
            f"found {quoted!r}: a space after a comma keeps the quotes in the name: the "
            "contract wants commas with no space after them"
        )
    return delimiter_hint(columns) or "a mapping file can rename a force's own columns"


# Parquet types a contract column may arrive as (anything else is a structural problem:
# every value of the column would be quarantined).
_PARQUET_OK = {
    "date": ("date", "timestamp", "string", "large_string"),
    "timestamp": ("timestamp", "date", "string", "large_string"),
    "bool": ("bool", "int", "uint", "string", "large_string"),
    "float": ("double", "float", "int", "uint", "decimal", "string", "large_string", "halffloat"),
}
# Floating-point types cannot hold a text column (codes, ids): a code written as a number reads
# back as "16.0" (pandas writes an integer column with gaps as double).
_PARQUET_NOT_TEXT = ("double", "float", "halffloat")


def _value_type(arrow_type: Any) -> str:
    """The type a column's values read as: a dictionary-encoded column (pandas writes its
    category columns so) holds values of its dictionary's type, and is read as them."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return str(arrow_type.value_type)
    return str(arrow_type)


def _parquet_types(path: Path, extract: str) -> None:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    for column in EXTRACTS[extract].columns:
        if column.name not in schema.names:
            continue
        arrow_type = _value_type(schema.field(column.name).type)
        if column.type == "string" and arrow_type.startswith(_PARQUET_NOT_TEXT):
            raise StructuralError(
                path,
                f"Parquet type {arrow_type} writes text as numbers (16 reads back as 16.0)",
                column=column.name,
                hint=f"write {column.name} as text",
            )
        # "null": every value empty (pandas writes a column with no value so), valid anywhere
        if column.type not in _PARQUET_OK or arrow_type == "null":
            continue
        if not arrow_type.startswith(_PARQUET_OK[column.type]):
            raise StructuralError(
                path,
                f"Parquet type {arrow_type} cannot hold a {column.type}",
                column=column.name,
                hint=f"write {column.name} as {column.type} or text",
            )


def inspect_extract(extracts_dir: Path, extract: str) -> ExtractFile:
    """Header-level checks of one extract (cheap: reads the first record only)."""
    path = find_extract_file(extracts_dir, extract)
    fmt = "parquet" if path.suffix == ".parquet" else "csv"
    columns = _parquet_header(path) if fmt == "parquet" else _csv_header(path)
    if not columns or all(not c for c in columns):
        raise StructuralError(path, "empty header row")
    for position, name in enumerate(columns, start=1):
        if not name:
            trailing = position == len(columns) and position > 1
            raise StructuralError(
                path,
                f"column {position} of the header has no name",
                # an export that ends every line with the delimiter
                hint="the header ends with a comma: remove the trailing delimiter from every line"
                if trailing
                else "",
            )
    seen: set[str] = set()
    by_lower: dict[str, str] = {}
    for name in columns:
        if name in seen:
            raise StructuralError(path, f"duplicate column {name!r} in the header", column=name)
        if name.lower() in by_lower:
            # SQL names ignore case: the reader cannot hold both columns apart
            raise StructuralError(
                path,
                f"columns {by_lower[name.lower()]!r} and {name!r} differ only in case",
                column=name,
                hint="rename or drop one of them",
            )
        seen.add(name)
        by_lower[name.lower()] = name
    for name in EXTRACTS[extract].required_columns:
        if name not in seen:
            raise StructuralError(
                path,
                f"missing required column {name!r}",
                column=name,
                hint=_column_hint(columns, name),
            )
    if fmt == "parquet":
        _parquet_types(path, extract)
    return ExtractFile(extract, path, fmt, tuple(columns))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# The zone of the contract's timestamps (local UK time): a Parquet timestamp that carries a
# zone is an instant, written as the UK wall-clock time it was.
LOCAL_ZONE = "Europe/London"


def _parquet_text(name: str, spec_type: str, arrow_type: str) -> str | None:
    """The text of a Parquet timestamp column the way the contract writes it, or None when
    DuckDB's own cast to text already does (dates, strings, numbers, zone-less timestamps of a
    timestamp column)."""
    if not arrow_type.startswith("timestamp") or spec_type not in ("date", "timestamp"):
        return None
    column = _ident(name)
    zoned = "tz=" in arrow_type
    if spec_type == "timestamp":
        local = f"timezone({_sql_str(LOCAL_ZONE)}, {column})" if zoned else column
        # microseconds at most: the contract's timestamps have no nanoseconds
        return f"cast(cast({local} as timestamp) as varchar)"
    # A date written as a timestamp (pandas' and most warehouses' default) is midnight of its
    # day: zone-less, or as a zoned instant midnight in UTC or midnight UK time (a date made an
    # instant in Europe/London is 23:00 UTC the day before in summer: it used to be quarantined
    # as a time of day). No instant is midnight in both zones on different days. Any other
    # time of day is not a date and stays visible as text.
    if not zoned:
        wall = f"cast({column} as timestamp)"
        return (
            f"case when cast({wall} as time) = time '00:00:00' "
            f"then cast(cast({wall} as date) as varchar) else cast({wall} as varchar) end"
        )
    utc, local = f"timezone('UTC', {column})", f"timezone({_sql_str(LOCAL_ZONE)}, {column})"
    return (
        f"case when cast({utc} as time) = time '00:00:00' "
        f"then cast(cast({utc} as date) as varchar) "
        f"when cast({local} as time) = time '00:00:00' "
        f"then cast(cast({local} as date) as varchar) else cast({utc} as varchar) end"
    )


def _parquet_reader(path: Path, extract: str) -> str:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    types = {c.name: c.type for c in EXTRACTS[extract].columns}
    replaced = [
        f"{expr} as {_ident(name)}"
        for name in schema.names
        if name in types
        and (expr := _parquet_text(name, types[name], _value_type(schema.field(name).type)))
    ]
    scan = f"read_parquet({_sql_str(str(path))})"
    if not replaced:
        return scan
    return f"(select * replace ({', '.join(replaced)}) from {scan})"


def reader_sql(source: ExtractFile) -> str:
    """A DuckDB table function reading the file as text, one column per header name.

    CSV: no sniffing (the spec fixes the dialect), every field VARCHAR, RFC 4180 quotes,
    strict field counts, long fields allowed. Parquet: every column cast to text, so both
    formats meet the same typed validation (timestamps written the contract's way first).
    """
    if source.format == "parquet":
        return _parquet_reader(source.path, source.extract)
    columns = ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in source.columns)
    return (
        f"read_csv({_sql_str(str(source.path))}, header=true, auto_detect=false, "
        f"columns={{{columns}}}, delim=',', quote='\"', escape='\"', strict_mode=true, "
        f"max_line_size={MAX_LINE_BYTES}, buffer_size={MAX_LINE_BYTES * 2}, "
        "encoding='utf-8')"
    )


def explain_read_error(source: ExtractFile, error: Exception) -> StructuralError:
    """A one-line message for a DuckDB read failure: file, data row and the kind of problem.

    DuckDB's message quotes the offending line ("Original Line: ..."), so only the line
    number and a few fixed phrases are taken from it; nothing else of it is kept."""
    message = str(error)
    found = re.search(r"CSV Error on Line: (\d+)", message)
    # DuckDB counts records from the header (record 1), so data row = record - 1.
    row = int(found.group(1)) - 1 if found else None
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return StructuralError(source.path, "not UTF-8 encoded", row=row, hint=_encoding_hint(b""))
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if counts:
        return StructuralError(
            source.path,
            f"wrong number of fields (expected {counts.group(1)}, found {counts.group(2)})",
            row=row,
            hint="a field holding a comma must be quoted",
        )
    if "unterminated quote" in message.lower():
        return StructuralError(
            source.path,
            "a quoted field is never closed",
            row=row,
            hint='a quote inside a field is written twice ("")',
        )
    if "maximum line size" in message.lower():
        return StructuralError(source.path, "a line is longer than the reader allows", row=row)
    if "invalid state" in message.lower() and (change := line_end_change(source.path)):
        changed_row, before, after = change
        return StructuralError(
            source.path,
            f"line ends change from {before} to {after}",
            row=changed_row,
            hint="save the file with one kind of line end throughout (two exports joined?)",
        )
    return StructuralError(source.path, f"not readable as CSV ({type(error).__name__})", row=row)


def line_end_change(path: Path) -> tuple[int, str, str] | None:
    """(data row, line end before, line end from it) where the records' line ends change
    (CRLF to LF or back), or None. DuckDB's reader takes the first record's line end for the
    whole file and, strict, stops at the first other one with no line number. Read only when
    a file has failed; a line end inside a quoted field (odd count of quotes so far) is data."""
    kinds = {True: "CRLF", False: "LF"}
    first: bool | None = None
    quotes = 0
    record = 0  # records ended so far (the header is record 0)
    with path.open("rb") as handle:
        for line in handle:
            quotes += line.count(b'"')
            if quotes % 2 or not line.endswith(b"\n"):
                continue
            crlf = line.endswith(b"\r\n")
            if first is None:
                first = crlf
            elif crlf != first and line.strip():
                return record, kinds[first], kinds[crlf]
            record += 1
    return None


def check_readable(
    con: duckdb.DuckDBPyConnection,
    source: ExtractFile,
    also: tuple[str, ...] = (),
    parameters: list[object] | None = None,
) -> tuple[object, ...]:
    """Parse the whole file once (encoding, quoting, field counts); returns its row count, then
    the values of `also` (aggregates computed in the same pass: the gate's crimes date range,
    so that the largest file is not parsed a second time for it).

    Every column is counted: DuckDB only decodes (and so only checks the UTF-8 of) the
    columns a query uses."""
    counts = ", ".join(f"count({_ident(c)})" for c in source.columns)
    select = ", ".join(["count(*)", *also, counts])
    try:
        row = con.execute(f"select {select} from {reader_sql(source)}", parameters or []).fetchall()
    except duckdb.Error as error:
        raise explain_read_error(source, error) from None
    return tuple(row[0][: 1 + len(also)])


# Files this process has read whole without a structural error, by path, inode, size and
# change times: `spp profile` checks the delivery at its gate, then the ingest checks it
# again before its first write (a run started from the Dagster UI has no gate); a file
# unchanged since is not parsed a second time.
_READABLE: set[tuple[str, int, int, int, int]] = set()


def _file_version(path: Path) -> tuple[str, int, int, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def mark_readable(source: ExtractFile) -> None:
    """Record that the file, as it is now, was read whole without a structural error."""
    _READABLE.add(_file_version(source.path))


def ensure_readable(con: duckdb.DuckDBPyConnection, source: ExtractFile) -> None:
    """`check_readable`, unless this process has read the file unchanged already."""
    if _file_version(source.path) not in _READABLE:
        check_readable(con, source)
        mark_readable(source)


def holds_rows(source: ExtractFile) -> bool:
    """Whether the file holds anything after its header (cheap: the first megabyte of a CSV,
    the footer of a Parquet file). Blank lines after the header are no rows (the reader skips
    them); a line of commas alone is a row, as the reader counts it."""
    if source.format == "parquet":
        import pyarrow.parquet as pq

        return pq.read_metadata(source.path).num_rows > 0
    with source.path.open("rb") as handle:
        head = handle.read(1024 * 1024)
    end = re.search(rb"[\r\n]", head)
    return end is not None and bool(head[end.start() :].strip())


# Extracts a delivery cannot hold without rows while it holds crimes: every crime recorded
# has at least its victim. A header-only crime_persons (an export cut after its header, a
# failed query) profiled every crime with no victim and no suspect, and said nothing.
NEVER_EMPTY_BESIDE_CRIMES = ("crime_persons",)


def _check_not_empty(files: dict[str, ExtractFile]) -> None:
    crimes = files["crimes"]
    if not holds_rows(crimes):
        raise StructuralError(crimes.path, "no crimes in the file (header only)")
    for extract in NEVER_EMPTY_BESIDE_CRIMES:
        if not holds_rows(files[extract]):
            raise StructuralError(
                files[extract].path,
                f"no rows (header only) while {crimes.path.name} holds crimes: every crime "
                "has at least its victim",
                hint=f"the {extract} export failed or was cut after its header: export it again",
            )


def check_delivery(
    con: duckdb.DuckDBPyConnection, extracts_dir: Path, full_read: bool = True
) -> dict[str, ExtractFile]:
    """Every extract's structure, checked before any of them is loaded: every header first,
    then whether the extracts that cannot be empty hold rows, then (`full_read`) every file
    read whole, in the extracts' order."""
    files = {extract: inspect_extract(Path(extracts_dir), extract) for extract in EXTRACTS}
    _check_not_empty(files)
    if full_read:
        for source in files.values():
            ensure_readable(con, source)
    return files
