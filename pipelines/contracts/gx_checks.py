"""Run the contract suites with Great Expectations on the loaded raw tables.

The quarantine (compiled SQL) decides what is loaded; this runs the very same suite files with
GX itself, so the loaded tables are checked against the contract by an independent engine (and
the Dagster asset checks show the result). Derived columns the suites name are added to the
batch here: `_outside_force_area` (same shapely test as the quarantine) and
`_order_granted_date` (the breached order's grant date).

Reference rules (`crime_id` exists in `crimes.crime_id`, ...) are written in the suites as
`expect_column_values_to_be_in_set` against the parent's ids. Handing GX the parent's ids as a
value set costs time in proportion to set size x expectations (GX copies its parameters through
pydantic several times per expectation: 20 s for 22k orders against 176k crime ids), so here the
membership is computed against the LOADED parent table by a DuckDB join into a derived column
`_ref__<column>__<parent>` (null where the child value is null, as GX ignores nulls) and the
expectation is checked on it with the value set {true}. The outcome is reported against the
suite's own expectation and column.

GX works on a pandas copy of the table (the columns the suite reads: checked_columns), so above
`ingest.contract_check_max_rows` rows (settings) it checks a reproducible reservoir sample of
that many rows: memory and time stay bounded on national-scale tables, and every row has
already been checked by the compiled SQL quarantine. The outcome records both the rows checked
and the rows in the table.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.contracts import geo
from pipelines.contracts.compile import ident
from pipelines.contracts.loader import EARLIEST_PLAUSIBLE_DATE, offence_codes, runtime_parameters
from pipelines.contracts.suites import (
    FORCE_AREA,
    GRANTED_DATE_COLUMN,
    OUTSIDE_AREA_COLUMN,
    REFERENCES,
    SOFT_REFERENCES,
    load_suite,
    reference_parameter,
)

if TYPE_CHECKING:
    # pandas comes with GX, imported beside the extract loads (start_warm_up), not at start-up.
    import pandas as pd


@dataclass
class ExpectationOutcome:
    number: int
    rule: str
    expectation: str
    column: str
    severity: str
    success: bool
    unexpected_count: int


@dataclass
class SuiteOutcome:
    extract: str
    rows: int  # rows GX checked (a sample when the table is larger than the configured cap)
    rows_in_table: int = 0
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]

    @property
    def success(self) -> bool:
        return not self.critical_failures


@functools.cache
def _context() -> Any:
    """One ephemeral GX context per process. Each data source, asset or suite added to a GX
    context re-serialises its whole configuration to YAML (~0.1 s each on the 2-core machine),
    so they are added once per extract (`_validation_for`), not on every check."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    # GX fingerprints every dataframe batch (a hash of all its values, ~20 % of a check at
    # large scale) only to label the batch in its results, which nothing here reads.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


_REGISTRATIONS = itertools.count(1)


@functools.cache
def _validation_for(extract: str, suite_text: str) -> tuple[Any, Any]:
    """The extract's suite (as GX runs it, see gx_expectations) and a batch definition over
    whatever dataframe it is given, registered once per process and suite version in the shared
    context. The run's own values (today, offence codes) are expectation parameters given at
    validation."""
    import great_expectations as gx

    context = _context()
    suite_json = json.loads(suite_text)
    # GX names are unique within a context: a changed suite file registers anew.
    registration = next(_REGISTRATIONS)
    gx_suite = {
        **suite_json,
        "name": f"{suite_json['name']}_{registration}",
        "expectations": gx_expectations(extract, suite_json["expectations"]),
    }
    suite = context.suites.add(gx.ExpectationSuite(**gx_suite))
    batch_definition = (
        context.data_sources.add_pandas(f"raw_{extract}_{registration}")
        .add_dataframe_asset(extract)
        .add_batch_definition_whole_dataframe("loaded")
    )
    return suite, batch_definition


def _suite_text(suite_json: dict[str, Any]) -> str:
    """The suite as the registrations' cache key (a changed suite file registers anew)."""
    return json.dumps(suite_json, sort_keys=True)


# Importing GX (and SciPy with it) is ~2.5 s of CPU, pure Python, paid once per process. The
# ingest starts it beside the loading of the extracts, which is mostly DuckDB work outside the
# GIL; the first contract check then finds GX imported and the suites registered.
_warm_up: threading.Thread | None = None
_WARM_UP_STARTED = threading.Lock()


def start_warm_up(extracts: Sequence[str]) -> None:
    """Import GX and register the extracts' suites in a background thread (once per process),
    unless the run validates in its own process (gx_process), which has done it already."""
    global _warm_up
    from pipelines.contracts import gx_process

    if gx_process.is_running():
        return
    with _WARM_UP_STARTED:
        if _warm_up is None:
            _warm_up = threading.Thread(
                target=register_suites, args=(tuple(extracts),), name="gx-warm-up", daemon=True
            )
            _warm_up.start()


def register_suites(extracts: Sequence[str]) -> None:
    try:
        for extract in extracts:
            _validation_for(extract, _suite_text(load_suite(extract)))
    except Exception:
        # The contract check registers its suite itself and reports the error where it belongs.
        return


def _wait_for_warm_up() -> None:
    """The registrations are per-process caches: one thread fills them at a time."""
    if _warm_up is not None:
        _warm_up.join()


SAMPLE_SEED = 20240901
# A name in a pandas row condition ("latitude.notnull()").
_CONDITION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def checked_columns(
    extract: str, suite_json: dict[str, Any], table_columns: Sequence[str]
) -> list[str]:
    """The table's columns some expectation of the suite reads (its column, its pair of
    columns, the names in its row condition) or a derived column is computed from, in table
    order.

    GX filters the whole batch for each expectation, so a column no expectation reads costs
    time in every one of them and checks nothing; it is left out of the batch (and the names
    and free text it would carry stay in the warehouse)."""
    named: set[str] = set(FORCE_AREA.get(extract, ()))
    if extract == "breaches":
        named.add("order_id")  # the key of the breached order's grant date
    for exp in suite_json["expectations"]:
        kwargs = exp["kwargs"]
        named.update(str(kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs)
        named.update(_CONDITION_NAME.findall(str(kwargs.get("row_condition") or "")))
    return [column for column in table_columns if column in named]


def _nanosecond_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Date columns as datetime64[ns] wherever every value fits that unit's range (years
    1678-2261): GX compares a column of that unit with its bounds in one vectorised step, and
    any other unit one value at a time in Python (the same comparison, 20x the time). A column
    holding a date outside the range keeps its unit and is checked value by value."""
    import pandas as pd

    for column in frame.columns:
        dtype = frame[column].dtype
        if not pd.api.types.is_datetime64_dtype(dtype) or dtype == "datetime64[ns]":
            continue
        values = frame[column].dropna()
        if values.empty or (values.min() >= pd.Timestamp.min and values.max() <= pd.Timestamp.max):
            frame[column] = frame[column].astype("datetime64[ns]")
    return frame


def batch_frame(
    con: duckdb.DuckDBPyConnection,
    extract: str,
    area: geo.ForceArea,
    max_rows: int | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, int]:
    """The loaded table as GX sees it (with derived columns), and its row count.

    `columns`: the table's columns to include (default all; run_suite passes those the suite
    reads, see checked_columns). Above `max_rows` rows, a reproducible reservoir sample of
    `max_rows` rows (see settings: ingest.contract_check_max_rows)."""
    import pandas as pd

    total = con.execute(f"select count(*) from raw.{extract}").fetchone()[0]
    sample = (
        f"using sample reservoir({int(max_rows)} rows) repeatable ({SAMPLE_SEED})"
        if max_rows is not None and total > max_rows
        else ""
    )
    # A child value is found if it is among the LOADED parent's ids (an IN subquery is a
    # semi-join in DuckDB); null stays null because GX ignores nulls in set expectations.
    flags = "".join(
        f", case when t.{column} is null then null "
        f"else t.{column} in (select {parent_column} from raw.{parent}) end "
        f"as {reference_column(column, parent)}"
        for column, parent, parent_column in _references(extract)
    )
    selected = (
        ", ".join(f"t.{ident(column)}" for column in columns) if columns is not None else "t.*"
    )
    frame = con.execute(
        f"select {selected}{flags} from (select * from raw.{extract} {sample}) as t"
    ).df()
    if extract in FORCE_AREA:
        lat, lon = FORCE_AREA[extract]
        outside = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        if area.geometry is not None:
            has = frame[lat].notna() & frame[lon].notna()
            mask = geo.outside(
                area.geometry, frame.loc[has, lat].to_numpy(), frame.loc[has, lon].to_numpy()
            )
            outside.loc[has] = mask
        frame[OUTSIDE_AREA_COLUMN] = outside.astype(object).where(outside.notna(), None)
    if extract == "breaches":
        granted = con.execute("select order_id, granted_date from raw.orders").df()
        frame = frame.merge(
            granted.rename(columns={"granted_date": GRANTED_DATE_COLUMN}),
            on="order_id",
            how="left",
        )
    for column, parent, _ in _references(extract):
        name = reference_column(column, parent)
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return _nanosecond_dates(frame), total


def _references(extract: str) -> list[tuple[str, str, str]]:
    return REFERENCES.get(extract, []) + SOFT_REFERENCES.get(extract, [])


def reference_column(column: str, parent: str) -> str:
    return f"_ref__{column}__{parent}"


def gx_expectations(extract: str, expectations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The suite's expectations as GX runs them: reference rules moved onto the derived
    membership column (see module docstring); everything else unchanged."""
    rewritten = []
    by_parameter = {
        reference_parameter(parent, parent_column): (column, parent)
        for column, parent, parent_column in _references(extract)
    }
    for exp in expectations:
        value_set = exp["kwargs"].get("value_set")
        parameter = value_set.get("$PARAMETER") if isinstance(value_set, dict) else None
        if exp["type"] == "expect_column_values_to_be_in_set" and parameter in by_parameter:
            column, parent = by_parameter[parameter]
            kwargs = {**exp["kwargs"], "column": reference_column(column, parent)}
            kwargs["value_set"] = [True]
            exp = {**exp, "kwargs": kwargs}
        rewritten.append(exp)
    return rewritten


@dataclass
class _Batch:
    suite_json: dict[str, Any]
    frame: pd.DataFrame
    parameters: dict[str, Any]
    rows_in_table: int


def _batch(
    con: duckdb.DuckDBPyConnection,
    extract: str,
    today: dt.date,
    area: geo.ForceArea,
    codes: list[str] | None,
    max_rows: int | None,
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> _Batch:
    """What GX checks for one extract: its suite, the batch and the run's parameters."""
    import pandas as pd

    suite_json = load_suite(extract)
    table_columns = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = ? order by ordinal_position",
            [extract],
        ).fetchall()
    ]
    frame, rows_in_table = batch_frame(
        con, extract, area, max_rows, checked_columns(extract, suite_json, table_columns)
    )
    parameters = runtime_parameters(today, codes or offence_codes(), earliest)
    parameters["today"] = pd.Timestamp(today)
    parameters["day_after_run"] = pd.Timestamp(today + dt.timedelta(days=1))
    parameters["earliest_plausible_date"] = pd.Timestamp(earliest)
    return _Batch(suite_json, frame, parameters, rows_in_table)


def run_suite(
    con: duckdb.DuckDBPyConnection,
    extract: str,
    today: dt.date,
    area: geo.ForceArea,
    codes: list[str] | None = None,
    max_rows: int | None = None,
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> SuiteOutcome:
    """The extract's suite run by GX on the loaded table: in the validation process when one
    was started for this run (pipelines/contracts/gx_process.py), else in this process."""
    from pipelines.contracts import gx_process

    batch = _batch(con, extract, today, area, codes, max_rows, earliest)
    outcome = gx_process.validate_elsewhere(
        extract, batch.suite_json, batch.frame, batch.parameters
    )
    if outcome is None:
        outcome = validate_frame(extract, batch.suite_json, batch.frame, batch.parameters)
    outcome.rows_in_table = batch.rows_in_table
    return outcome


def submit_suite(
    con: duckdb.DuckDBPyConnection,
    extract: str,
    today: dt.date,
    area: geo.ForceArea,
    codes: list[str] | None = None,
    max_rows: int | None = None,
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> bool:
    """Hand the extract's batch to the validation process as soon as the extract is loaded,
    when a run has one (pipelines/contracts/gx_process.py): GX checks it on the other core
    while the next extracts load, and `run_suites` collects the outcome. The batch is the one
    `run_suites` would build: it reads the extract's table and those of the parents it refers
    to, which load before it and are not written again. False (nothing done) without one."""
    from pipelines.contracts import gx_process

    if not gx_process.is_running():
        return False
    batch = _batch(con, extract, today, area, codes, max_rows, earliest)
    return gx_process.submit(
        (extract, batch.suite_json, batch.frame, batch.parameters), batch.rows_in_table
    )


def run_suites(
    con: duckdb.DuckDBPyConnection,
    extracts: Sequence[str],
    today: dt.date,
    area: geo.ForceArea,
    codes: list[str] | None = None,
    max_rows: int | None = None,
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> dict[str, SuiteOutcome]:
    """run_suite for several extracts, in order. With a validation process, each batch is sent
    as soon as it is built, so the process checks one extract while this process reads the
    next from DuckDB, and the outcomes of batches it was given as their extracts loaded
    (submit_suite) are collected with them; the outcomes are those run_suite gives one by
    one."""
    from pipelines.contracts import gx_process

    rows_in_table: dict[str, int] = {}
    # Batches the loads handed over already (submit_suite): their outcomes come back too.
    submitted = gx_process.submitted()

    def batches() -> Iterator[tuple[str, dict[str, Any], pd.DataFrame, dict[str, Any]]]:
        for extract in extracts:
            if extract in submitted:
                continue
            batch = _batch(con, extract, today, area, codes, max_rows, earliest)
            rows_in_table[extract] = batch.rows_in_table
            yield extract, batch.suite_json, batch.frame, batch.parameters

    outcomes = gx_process.validate_elsewhere_many(batches())
    for extract, outcome in outcomes.items():
        outcome.rows_in_table = rows_in_table.get(extract, outcome.rows_in_table)
    # Without a validation process (or for an extract it did not answer), here.
    return {
        extract: outcomes.get(extract)
        or run_suite(con, extract, today, area, codes, max_rows, earliest)
        for extract in extracts
    }


def validate_frame(
    extract: str, suite_json: dict[str, Any], frame: pd.DataFrame, parameters: dict[str, Any]
) -> SuiteOutcome:
    """GX's verdict on one batch: each of the suite's expectations, in suite order."""
    _wait_for_warm_up()
    suite, batch_definition = _validation_for(extract, _suite_text(suite_json))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, expectation_parameters=parameters, result_format="BASIC")
    outcome = SuiteOutcome(extract=extract, rows=len(frame), rows_in_table=len(frame))
    # Match results to the suite's expectations by the ids GX gave them (suite order kept).
    by_id = {res.expectation_config.id: res for res in result.results}
    ordered = [by_id[exp.id] for exp in suite.expectations]
    for number, (exp, res) in enumerate(
        zip(suite_json["expectations"], ordered, strict=True), start=1
    ):
        kwargs = exp["kwargs"]
        column = kwargs.get("column") or f"{kwargs.get('column_A')}/{kwargs.get('column_B')}"
        raised = bool(res.exception_info and res.exception_info.get("raised_exception"))
        outcome.outcomes.append(
            ExpectationOutcome(
                number=number,
                rule=exp["meta"]["rule"],
                expectation=exp["type"],
                column=column,
                severity=exp["severity"],
                success=bool(res.success) and not raised,
                unexpected_count=int((res.result or {}).get("unexpected_count") or 0),
            )
        )
    return outcome


def record_outcome(con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, run_id: str) -> None:
    """Keep the contract check's results in the warehouse (raw.contract_results), one row per
    expectation, replaced per extract: the profile's data-quality section reads them there."""
    con.execute(
        "create table if not exists raw.contract_results (extract varchar, number integer, "
        "rule varchar, expectation varchar, column_name varchar, severity varchar, "
        "success boolean, unexpected_count bigint, rows_checked bigint, run_id varchar, "
        "checked_at timestamp)"
    )
    con.execute("delete from raw.contract_results where extract = ?", [outcome.extract])
    if not outcome.outcomes:
        return
    # One statement for the suite's rows (a statement per row cost ~5 ms each).
    rows = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)"
    con.execute(
        "insert into raw.contract_results values " + ", ".join(rows for _ in outcome.outcomes),
        [
            value
            for item in outcome.outcomes
            for value in (
                outcome.extract,
                item.number,
                item.rule,
                item.expectation,
                item.column,
                item.severity,
                item.success,
                item.unexpected_count,
                outcome.rows,
                run_id,
            )
        ],
    )
