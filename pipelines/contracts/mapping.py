"""A force's own export, mapped onto the extract contract by a YAML file.

Records systems (Niche, Athena, Connect) name columns and code offences their own way. A
mapping file says, per extract, which file to read, its delimiter and encoding, which of the
force's columns is each contract column, how dates are written, how codes translate and which
constant fills a column the export lacks. `mapped_copy` writes the delivery as the contract
names it into a private temporary folder that the run (or `spp check`) then reads exactly as it
would read a conforming delivery. Rows keep their order, so data-row numbers in every message
are the rows of the force's own file. A value the mapping cannot convert is passed through
unchanged, so the contract quarantines it with its reason instead of the mapping hiding it.

    extracts:
      crimes:
        file: Occurrences.csv         # default: crimes.csv (or .parquet) in the folder
        delimiter: ";"                # default ","
        encoding: latin-1             # utf-8 (default), utf-16 or latin-1
        columns: {crime_id: OccurrenceRef, reported_date: DateReported}
        date_formats: {reported_date: "%d/%m/%Y", offence_start: "%d/%m/%Y %H:%M"}
        values: {offence_code: {STK1: "195/12"}, is_domestic_abuse: {Yes: "true", No: "false"}}
        constants: {is_online: "false"}

Worked example: docs/onboarding.md.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.contracts.schema import BOUNDARY_FILE_NAMES, EXTRACTS, MAPPING_NOTES_FILE_NAME
from pipelines.contracts.structure import StructuralError, delimiter_hint, explain_read_error
from pipelines.yaml_files import load_yaml

ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}


class ExtractMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = ""
    delimiter: str = ","
    encoding: str = "utf-8"
    columns: dict[str, str] = Field(default_factory=dict)
    date_formats: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)


class DeliveryMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extracts: dict[str, ExtractMapping] = Field(default_factory=dict)


def load_mapping(path: Path) -> DeliveryMapping:
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
        mapping = DeliveryMapping.model_validate(data)
    except FileNotFoundError:
        raise StructuralError(path, "mapping file not found") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise StructuralError(path, f"not a valid mapping file (YAML syntax{line})") from None
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        # YAML 1.1 reads bare yes/no/on/off as booleans: a common trap in code tables.
        hint = "quote codes such as Yes, No, On, Off" if "string" in first["msg"] else ""
        raise StructuralError(
            path, f"not a valid mapping file ({place}: {first['msg']})", hint=hint
        ) from None
    for name, spec in mapping.extracts.items():
        if name not in EXTRACTS:
            raise StructuralError(path, f"unknown extract {name!r} (one of {', '.join(EXTRACTS)})")
        known = set(EXTRACTS[name].column_names)
        for part in (spec.columns, spec.date_formats, spec.values, spec.constants):
            for column in part:
                if column not in known:
                    raise StructuralError(
                        path, f"{name}: {column!r} is not a contract column of {name}"
                    )
        if spec.encoding.lower() not in ENCODINGS:
            raise StructuralError(path, f"{name}: encoding must be one of {', '.join(ENCODINGS)}")
    return mapping


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _header(path: Path, delimiter: str, encoding: str) -> list[str]:
    if path.suffix.lower() == ".parquet":
        raise StructuralError(
            path,
            "a mapping reads CSV files only",
            hint="export this extract as CSV, or as Parquet named and typed as the contract says",
        )
    try:
        with path.open(encoding=ENCODINGS[encoding.lower()], newline="") as handle:
            first = handle.readline()
    except (OSError, UnicodeError):
        raise StructuralError(path, f"header cannot be read as {encoding}") from None
    return [
        c.strip().lstrip("\ufeff")
        for c in next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
    ]


def _check_named_columns(source: Path, header: list[str], spec: ExtractMapping) -> None:
    """Every export column the mapping names must be in the export's header. One that is not
    (a typo, a renamed column) used to leave its contract column out without a word: an
    optional column (outcomes, locations) silently empty, a required one reported as missing
    from the private mapped copy instead of the force's own file."""
    for column, named in spec.columns.items():
        if named in header or column in spec.constants:
            continue
        near = difflib.get_close_matches(named, header, n=1)
        hint = (
            delimiter_hint(header, spec.delimiter, "set the mapping's delimiter")
            or (f"the header has {near[0]!r}" if near else "")
            or "check the mapping's columns against the export's header"
        )
        raise StructuralError(
            source,
            f"column {named!r}, which the mapping reads as {column!r}, is not in the header",
            column=named,
            hint=hint,
        )


def _value(column: str, spec: ExtractMapping) -> str:
    """SQL for a mapped column's trimmed value, its codes translated (before any date format)."""
    value = f"trim({_ident(spec.columns.get(column, column))})"
    if column in spec.values:
        cases = " ".join(f"when {_q(k)} then {_q(v)}" for k, v in spec.values[column].items())
        value = f"case {value} {cases} else {value} end"
    return value


def _expression(extract: str, column: str, spec: ExtractMapping, header: set[str]) -> str | None:
    """SQL for one contract column, or None when neither the export nor the mapping has it."""
    if column in spec.constants:
        return _q(spec.constants[column])
    if spec.columns.get(column, column) not in header:
        return None
    value = _value(column, spec)
    if column in spec.date_formats:
        kind = next(c.type for c in EXTRACTS[extract].columns if c.name == column)
        out = "%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S"
        parsed = f"strftime(try_strptime({value}, {_q(spec.date_formats[column])}), {_q(out)})"
        value = f"coalesce({parsed}, {value})"
    return value


def swapped_format(date_format: str) -> str | None:
    """The format with day and month exchanged (`%d/%m/%Y` -> `%m/%d/%Y`); None without both."""
    if "%d" not in date_format or "%m" not in date_format:
        return None
    return date_format.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _check_date_formats(
    con: duckdb.DuckDBPyConnection,
    reader: str,
    source: Path,
    spec: ExtractMapping,
    header: set[str],
) -> list[str]:
    """A mapped date format that the column's values contradict stops the delivery: a
    month-first format on day-first dates swaps day and month silently wherever the day is 12
    or less, and leaves the rest unparsed. One value that reads only with day and month the
    other way round is evidence enough (the message names its data row, never the value).
    When no value tells the two readings apart (every day and month 12 or less), the mapping
    is kept and the returned note says so (published in data_quality.json)."""
    checked = {
        column: (fmt, other)
        for column, fmt in spec.date_formats.items()
        if column not in spec.constants
        and spec.columns.get(column, column) in header
        and (other := swapped_format(fmt)) is not None
    }
    if not checked:
        return []
    counts = []
    for column, (fmt, other) in checked.items():
        value = _value(column, spec)
        as_mapped = f"try_strptime({value}, {_q(fmt)})"
        as_other = f"try_strptime({value}, {_q(other)})"
        counts += [
            # only the other way round / only as mapped / both ways, as two different dates
            f"count(*) filter (where {as_mapped} is null and {as_other} is not null)",
            f"count(*) filter (where {as_mapped} is not null and {as_other} is null)",
            f"count(*) filter (where {as_mapped} != {as_other})",
        ]
    found = con.execute(f"select {', '.join(counts)} from {reader}").fetchone()
    confirmed: dict[str, int] = {}
    ambiguous: dict[str, list[str]] = {}
    for index, (column, (fmt, other)) in enumerate(checked.items()):
        contradicting, confirming, both_ways = found[3 * index : 3 * index + 3]
        named = spec.columns.get(column, column)
        if contradicting:
            # the first such data row: the file landed in a table (rowid is the file's order)
            value = _value(column, spec)
            con.execute(f"create or replace temp table _export as select * from {reader}")
            row = con.execute(
                f"select min(rowid) + 1 from _export where try_strptime({value}, {_q(fmt)}) "
                f"is null and try_strptime({value}, {_q(other)}) is not null"
            ).fetchone()[0]
            mixed = confirming > 0
            raise StructuralError(
                source,
                f"{_dates(contradicting)} only as {other!r}, not as the mapping's {fmt!r}"
                + (f" ({_dates(confirming)} only as {fmt!r})" if mixed else ""),
                column=named,
                row=row,
                hint=(
                    "the column mixes day-first and month-first dates: fix the export"
                    if mixed
                    else f"day and month are the other way round: set the mapping's "
                    f"date_formats {column}: {other!r}"
                ),
            )
        # one export writes its dates one way: a day-first date-time confirms a day-first date
        order = _order(fmt)
        confirmed[order] = confirmed.get(order, 0) + confirming
        if both_ways:
            ambiguous.setdefault(order, []).append(named)
    return [
        f"{source.name}: every date of {', '.join(map(repr, columns))} reads day-first and "
        f"month-first alike (day and month both 12 or less); loaded {order} as the mapping "
        "says, which no value confirms"
        for order, columns in ambiguous.items()
        if not confirmed.get(order)
    ]


def _dates(count: int) -> str:
    return f"{count:,} date reads" if count == 1 else f"{count:,} dates read"


def _order(date_format: str) -> str:
    return "day-first" if date_format.index("%d") < date_format.index("%m") else "month-first"


def _write_mapped(source: Path, target: Path, extract: str, spec: ExtractMapping) -> list[str]:
    """Write the contract-shaped copy of one extract; returns the notes on its date formats."""
    header = _header(source, spec.delimiter, spec.encoding)
    _check_named_columns(source, header, spec)
    columns = ", ".join(f"{_q(c)}: 'VARCHAR'" for c in header)
    reader = (
        f"read_csv({_q(str(source))}, header=true, auto_detect=false, columns={{{columns}}}, "
        f"delim={_q(spec.delimiter)}, quote='\"', escape='\"', strict_mode=true, "
        f"encoding={_q(ENCODINGS[spec.encoding.lower()])})"
    )
    selects = []
    for column in EXTRACTS[extract].column_names:
        expression = _expression(extract, column, spec, set(header))
        if expression is not None:
            selects.append(f"{expression} as {_ident(column)}")
    with duckdb.connect() as con:
        try:
            notes = _check_date_formats(con, reader, source, spec, set(header))
            con.execute(
                f"copy (select {', '.join(selects)} from {reader}) to {_q(str(target))} "
                "(header true, delimiter ',', quote '\"')"
            )
        except duckdb.Error as error:
            from pipelines.contracts.structure import ExtractFile

            raise explain_read_error(
                ExtractFile(extract, source, "csv", tuple(header)), error
            ) from None
    return notes


def apply_mapping(extracts: Path, mapping: DeliveryMapping, target: Path) -> Path:
    """Write the contract-shaped delivery into `target`; unmapped extracts are copied."""
    target.mkdir(parents=True, exist_ok=True)
    notes: dict[str, list[str]] = {}
    for extract in EXTRACTS:
        spec = mapping.extracts.get(extract)
        if spec is None:
            for suffix in (".csv", ".parquet"):
                if (extracts / f"{extract}{suffix}").exists():
                    shutil.copyfile(extracts / f"{extract}{suffix}", target / f"{extract}{suffix}")
            continue
        source = extracts / (spec.file or f"{extract}.csv")
        if not source.exists():
            raise StructuralError(
                source, f"missing file for extract {extract!r} (named in the mapping)"
            )
        if found := _write_mapped(source, target / f"{extract}.csv", extract, spec):
            notes[extract] = found
    for name in BOUNDARY_FILE_NAMES:
        if (extracts / name).exists():
            shutil.copyfile(extracts / name, target / name)
    if notes:
        # beside the mapped files, for the loader (raw.load_log, data_quality.json)
        (target / MAPPING_NOTES_FILE_NAME).write_text(json.dumps(notes), encoding="utf-8")
    return target


@contextmanager
def mapped_copy(extracts: Path, mapping_file: Path | None) -> Iterator[Path]:
    """The delivery folder itself (no mapping), or a private mapped copy for the duration."""
    if mapping_file is None:
        yield Path(extracts)
        return
    mapping = load_mapping(mapping_file)
    if not Path(extracts).is_dir():
        raise StructuralError(extracts, "extracts folder not found")
    folder = Path(tempfile.mkdtemp(prefix="spp-mapped-"))  # 0700: it holds personal data
    try:
        yield apply_mapping(Path(extracts), mapping, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
