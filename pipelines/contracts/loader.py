"""Load one extract: read it as text, validate it against its contract in DuckDB SQL, write the
good rows to the typed raw.<extract> table and the rest to raw.quarantine, and reconcile.

Everything is set-based SQL (no Python loop over rows); only the force-area test leaves DuckDB,
as two numpy arrays into shapely's vectorised point-in-polygon.

Re-running replaces: raw.<extract> is created or replaced, and the extract's rows in
raw.quarantine and raw.load_log are deleted and re-inserted, all in one transaction that is
rolled back if the counts do not reconcile.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.contracts import geo
from pipelines.contracts.compile import Compiled, compile_suite, included_codes_regex, q
from pipelines.contracts.schema import DUCKDB_TYPES, EXTRACTS, MAPPING_NOTES_FILE_NAME
from pipelines.contracts.structure import (
    ExtractFile,
    StructuralError,
    explain_read_error,
    find_extract_file,
    inspect_extract,
    reader_sql,
)
from pipelines.contracts.suites import load_suite
from pipelines.paths import DBT_PROJECT_DIR
from pipelines.settings import IngestSettings

__all__ = [
    "LoadResult",
    "ReconciliationError",
    "StructuralError",
    "find_extract_file",
    "load_extract",
    "offence_codes",
]

OFFENCE_CODES_SEED = DBT_PROJECT_DIR / "seeds" / "offence_codes.csv"
# The settings' default, for callers without a settings file (tests, the benchmark).
EARLIEST_PLAUSIBLE_DATE: dt.date = IngestSettings().earliest_plausible_date


class ReconciliationError(Exception):
    """Rows read != rows loaded + rows quarantined: something was lost or doubled."""


@dataclass
class LoadResult:
    extract: str
    read: int
    loaded: int
    quarantined: int
    by_rule: dict[str, int] = field(default_factory=dict)
    unlinked: dict[str, int] = field(default_factory=dict)
    file: str = ""
    format: str = ""
    extra_columns: list[str] = field(default_factory=list)
    force_area: str = ""
    seconds: float = 0.0
    # Quarantine limits this extract broke and the run accepted (--accept-quarantine).
    over_limit_accepted: list[str] = field(default_factory=list)
    # What applying a mapping file noticed and did not stop for (mapping._check_date_formats).
    notes: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.loaded + self.quarantined

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "by_rule": dict(self.by_rule),
            "reconciles": self.reconciles,
            "unlinked_soft_links": dict(self.unlinked),
            # The file's name, not its path: data_quality.json is published.
            "file": Path(self.file).name if self.file else "",
            "format": self.format,
            "extra_columns_ignored": list(self.extra_columns),
            "force_area": self.force_area,
            "seconds": round(self.seconds, 3),
            "over_limit_accepted": list(self.over_limit_accepted),
            "notes": list(self.notes),
        }


def offence_codes(path: Path = OFFENCE_CODES_SEED) -> list[str]:
    """Known offence codes: the project's reference table (the dbt seed), the one home."""
    with path.open(newline="", encoding="utf-8") as handle:
        return sorted({row["offence_code"].strip() for row in csv.DictReader(handle)})


def mapping_notes(extracts_dir: Path, extract: str) -> list[str]:
    """The notes a mapping file's application left for this extract (none without one)."""
    path = Path(extracts_dir) / MAPPING_NOTES_FILE_NAME
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get(extract, []))


def runtime_parameters(
    today: dt.date, codes: list[str], earliest: dt.date = EARLIEST_PLAUSIBLE_DATE
) -> dict[str, Any]:
    """The suites' `$PARAMETER` values that do not depend on the warehouse."""
    return {
        "offence_codes": codes,
        "included_offence_codes_regex": included_codes_regex(codes),
        "today": today.isoformat(),
        # a date-time is after the run date from the midnight that ends it
        "day_after_run": (today + dt.timedelta(days=1)).isoformat(),
        "earliest_plausible_date": earliest.isoformat(),
    }


def apply_memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> None:
    """Cap DuckDB's memory while loading: bigger inputs spill to disk instead of growing."""
    if limit:
        con.execute(f"set memory_limit = {q(limit)}")


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        "create table if not exists raw.quarantine (extract varchar, source_row bigint, "
        "record_key varchar, original_row json, rule varchar, detail varchar, run_id varchar, "
        "quarantined_at timestamp)"
    )
    con.execute(
        "create table if not exists raw.load_log (extract varchar, file varchar, "
        "format varchar, rows_read bigint, rows_loaded bigint, rows_quarantined bigint, "
        "by_rule json, unlinked_soft_links bigint, unlinked_detail json, force_area varchar, "
        "extra_columns_ignored varchar, run_id varchar, partition_key varchar, "
        "loaded_at timestamp, seconds double)"
    )
    # Added after the first release: warehouses created before it gain the column.
    con.execute(
        "alter table raw.load_log add column if not exists over_limit_accepted varchar[] default []"
    )
    con.execute("alter table raw.load_log add column if not exists notes varchar[] default []")


def _stage(con: duckdb.DuckDBPyConnection, source: ExtractFile) -> None:
    """_spp_land: the file as text, in file order (rowid + 1 is the source row)."""
    try:
        con.execute(f"create or replace temp table _spp_land as select * from {reader_sql(source)}")
    except duckdb.Error as error:
        raise explain_read_error(source, error) from None


def _typed_sql(compiled: Compiled, columns: list[str] | None = None) -> str:
    """The landed rows as `_source_row`, text (`t_<column>`) and typed (`v_<column>`) values,
    computed in one pass (nested projections: each text is trimmed once, however often its
    typed expression reads it) rather than materialised table by table. `columns`: only
    these (the force-area test reads two)."""
    names = list(compiled.text_columns) if columns is None else columns
    texts = ", ".join(f"{compiled.text_columns[name]} as t_{name}" for name in names)
    typed = ", ".join(f"{compiled.typed_columns[name]} as v_{name}" for name in names)
    return f"select *, {typed} from (select rowid + 1 as _source_row, {texts} from _spp_land)"


def _repeats_sql(compiled: Compiled) -> str:
    """The typed rows plus `_repeats_key`: the row repeats the key of an earlier row of the
    file."""
    spec = EXTRACTS[compiled.extract]
    if not spec.key:
        return f"select t.*, false as _repeats_key from ({_typed_sql(compiled)}) t"
    # The first row of each repeated key, by a grouping rather than a window numbering every
    # key's rows in file order (the same rows, half the time at large scale).
    return (
        "select t.*, d.first_row is not null and t._source_row > d.first_row as _repeats_key "
        f"from ({_typed_sql(compiled)}) t left join (select v_{spec.key} as k, "
        f"min(_source_row) as first_row from ({_typed_sql(compiled, [spec.key])}) "
        f"where v_{spec.key} is not null group by v_{spec.key} having count(*) > 1) d "
        f"on d.k = t.v_{spec.key}"
    )


def _outside_rows(con: duckdb.DuckDBPyConnection, compiled: Compiled, area: geo.ForceArea) -> None:
    """_spp_outside(outside_row): source rows whose point is outside the force area."""
    rows = pa.table({"outside_row": pa.array([], pa.int64())})
    if compiled.needs_area and area.geometry is not None:
        lat, lon = compiled.needs_area
        # Only rows with both coordinates leave DuckDB, as Arrow columns (no pandas).
        points = con.sql(
            f"select _source_row, v_{lat} as lat, v_{lon} as lon "
            f"from ({_typed_sql(compiled, [lat, lon])}) "
            f"where v_{lat} is not null and v_{lon} is not null"
        ).to_arrow_table()
        mask = geo.outside(
            area.geometry,
            points.column("lat").to_numpy(),
            points.column("lon").to_numpy(),
        )
        rows = pa.table({"outside_row": points.column("_source_row").filter(pa.array(mask))})
    con.register("_spp_outside_arrow", rows)
    con.execute("create or replace temp table _spp_outside as select * from _spp_outside_arrow")
    con.unregister("_spp_outside_arrow")


def _build_checked(con: duckdb.DuckDBPyConnection, compiled: Compiled) -> None:
    """_spp_checked: text and typed values + _rule, the first broken expectation (suite
    order), in one statement over the landed text (the only materialisation after it)."""
    critical = [c for c in compiled.checks if c.severity == "critical"]
    rule = ", ".join(f"case when {c.broken} then {c.rule_sql} end" for c in critical)
    # Its row order is never read (the raw table and the quarantine are written ordered by
    # `_source_row`, which is the landed table's rowid, not the scan order): without keeping
    # insertion order DuckDB runs the joins of this one statement on every core (with it, the
    # national crimes' statement ran on one).
    kept = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("set preserve_insertion_order = false")
    try:
        con.execute(
            "create or replace temp table _spp_checked as "
            f"select c.*, coalesce({rule}, cast(null as varchar)) as _rule "
            f"from ({_repeats_sql(compiled)}) c {_joins(compiled)}"
        )
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if kept else 'false'}")


def _joins(compiled: Compiled) -> str:
    return (
        " ".join(compiled.joins)
        + " left join _spp_outside area on area.outside_row = c._source_row"
    )


def _detail_sql(compiled: Compiled) -> str:
    """Every broken expectation of a row, in words (computed for quarantined rows only)."""
    critical = [c for c in compiled.checks if c.severity == "critical"]
    parts = ", ".join(f"case when {c.broken} then {c.detail} end" for c in critical)
    return f"concat_ws('; ', {parts})"


def _soft_link_counts(con: duckdb.DuckDBPyConnection, compiled: Compiled) -> dict[str, int]:
    """Loaded rows whose soft link (e.g. intelligence.crime_id) finds no loaded parent."""
    counts = {}
    for ref in compiled.soft_references:
        child, parent, parent_column = ref["child_column"], ref["extract"], ref["parent_column"]
        counts[f"{child}->{parent}.{parent_column}"] = con.execute(
            f"select count(*) from _spp_checked c where c._rule is null "
            f"and c.v_{child} is not null and not exists (select 1 from raw.{parent} p "
            f"where p.{parent_column} = c.v_{child})"
        ).fetchone()[0]
    return counts


def _require_parents(con: duckdb.DuckDBPyConnection, compiled: Compiled) -> None:
    parents = {r["extract"] for r in compiled.references + compiled.soft_references}
    if compiled.joins and any("lk_orders" in j for j in compiled.joins):
        parents.add("orders")
    existing = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    missing = sorted(parents - existing)
    if missing:
        raise RuntimeError(
            f"{compiled.extract} is validated against {', '.join(missing)}: load "
            f"{' and '.join(missing)} first (the ingest assets run in dependency order)"
        )


def load_extract(
    con: duckdb.DuckDBPyConnection,
    extracts_dir: Path,
    extract: str,
    *,
    today: dt.date | None = None,
    run_id: str = "",
    partition_key: str = "",
    area: geo.ForceArea | None = None,
    codes: list[str] | None = None,
    source: ExtractFile | None = None,
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> LoadResult:
    """Validate and load one extract; the contract is data_contracts/<extract>.json.
    `today` is the run date and `earliest` the earliest plausible date of an event (settings
    `ingest.earliest_plausible_date`): a record dated outside them is quarantined."""
    started = time.perf_counter()
    extracts_dir = Path(extracts_dir)
    source = source or inspect_extract(extracts_dir, extract)
    if area is None:
        area = geo.resolve_force_area(extracts_dir, "")
    parameters = runtime_parameters(today or dt.date.today(), codes or offence_codes(), earliest)
    compiled = compile_suite(load_suite(extract), set(source.columns), parameters)
    ensure_tables(con)
    _require_parents(con, compiled)

    _stage(con, source)
    _outside_rows(con, compiled, area)
    _build_checked(con, compiled)

    spec = EXTRACTS[extract]
    typed_select = ", ".join(
        f"cast(v_{c.name} as {DUCKDB_TYPES[c.type]}) as {c.name}" for c in spec.columns
    )
    original = "json_object(" + ", ".join(f"{q(c)}, {_quote(c)}" for c in source.columns) + ")"
    key = f"c.t_{spec.key}" if spec.key else "cast(null as varchar)"
    con.execute("begin transaction")
    try:
        con.execute(
            f"create or replace table raw.{extract} as select {typed_select}, _source_row "
            "from _spp_checked where _rule is null order by _source_row"
        )
        con.execute("delete from raw.quarantine where extract = ?", [extract])
        con.execute(
            "insert into raw.quarantine select ?, c._source_row, "
            f"{key}, {original}, c._rule, {_detail_sql(compiled)}, ?, current_timestamp "
            f"from (select * from _spp_checked where _rule is not null) c {_joins(compiled)} "
            "join (select rowid + 1 as _source_row, * from _spp_land) l "
            "on l._source_row = c._source_row order by c._source_row",
            [extract, run_id],
        )
        read = con.execute("select count(*) from _spp_land").fetchone()[0]
        loaded = con.execute(f"select count(*) from raw.{extract}").fetchone()[0]
        by_rule = dict(
            con.execute(
                "select rule, count(*) from raw.quarantine where extract = ? "
                "group by rule order by rule",
                [extract],
            ).fetchall()
        )
        quarantined = sum(by_rule.values())
        result = LoadResult(
            extract=extract,
            read=read,
            loaded=loaded,
            quarantined=quarantined,
            by_rule=by_rule,
            unlinked=_soft_link_counts(con, compiled),
            file=str(source.path),
            format=source.format,
            extra_columns=source.extra_columns,
            force_area=area.description if compiled.needs_area else "",
            notes=mapping_notes(extracts_dir, extract),
        )
        if not result.reconciles:
            raise ReconciliationError(
                f"{source.path}: read {read} rows but loaded {loaded} + quarantined "
                f"{quarantined} = {loaded + quarantined}"
            )
        result.seconds = time.perf_counter() - started
        _log(con, result, run_id, partition_key)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for table in ("_spp_land", "_spp_outside", "_spp_checked"):
            con.execute(f"drop table if exists {table}")
    return result


def _quote(column: str) -> str:
    return 'l."' + column.replace('"', '""') + '"'


def _log(con: duckdb.DuckDBPyConnection, result: LoadResult, run_id: str, partition: str) -> None:
    con.execute("delete from raw.load_log where extract = ?", [result.extract])
    con.execute(
        "insert into raw.load_log (extract, file, format, rows_read, rows_loaded, "
        "rows_quarantined, by_rule, unlinked_soft_links, unlinked_detail, force_area, "
        "extra_columns_ignored, run_id, partition_key, loaded_at, seconds, notes) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?, ?)",
        [
            result.extract,
            result.file,
            result.format,
            result.read,
            result.loaded,
            result.quarantined,
            json.dumps(result.by_rule),
            sum(result.unlinked.values()),
            json.dumps(result.unlinked),
            result.force_area,
            ", ".join(result.extra_columns),
            run_id,
            partition,
            result.seconds,
            list(result.notes),
        ],
    )


def record_accepted_overrides(
    con: duckdb.DuckDBPyConnection, extract: str, over_limit_accepted: list[str]
) -> None:
    """Note in raw.load_log the quarantine limits `--accept-quarantine` let through (published
    in data_quality.json, so a reader sees the run went ahead over a limit)."""
    con.execute(
        "update raw.load_log set over_limit_accepted = ? where extract = ?",
        [list(over_limit_accepted), extract],
    )


LOAD_ORDER = tuple(EXTRACTS)  # parents before children


def load_delivery(
    con: duckdb.DuckDBPyConnection,
    extracts_dir: Path,
    *,
    today: dt.date | None = None,
    run_id: str = "",
    partition_key: str = "",
    configured_area: str = "",
    memory_limit: str = "",
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> dict[str, LoadResult]:
    """Check the whole delivery's structure, then load every extract in dependency order
    (what the ingest assets do, in one call: used by the tests and the benchmark)."""
    from pipelines.contracts.structure import check_delivery

    apply_memory_limit(con, memory_limit)
    sources = check_delivery(con, Path(extracts_dir))
    area = geo.resolve_force_area(Path(extracts_dir), configured_area)
    codes = offence_codes()
    return {
        extract: load_extract(
            con,
            extracts_dir,
            extract,
            today=today,
            run_id=run_id,
            partition_key=partition_key,
            area=area,
            codes=codes,
            source=sources[extract],
            earliest=earliest,
        )
        for extract in LOAD_ORDER
    }
