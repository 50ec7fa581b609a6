"""Assurance asset: the dip samples auditors returned -> marts.dip_sample_returns.

Wiring only: the reading is pipelines.report.dip_sample.read_returned_samples. The table is
replaced on every run (empty when no folder is configured or nothing was returned), so the
reporting layer can always read it.
"""

from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.report.dip_sample import RETURN_COLUMNS, read_returned_samples
from pipelines.settings import load_settings

DIP_SAMPLE_RETURNS = dg.AssetKey(["marts", "dip_sample_returns"])

RETURNS_SQL = """
create or replace table marts.dip_sample_returns as
select
    sample_id::varchar as sample_id,
    crime_id::varchar as crime_id,
    verdict_is_stalking::varchar as verdict_is_stalking,
    verdict_correctly_recorded::varchar as verdict_correctly_recorded,
    verdict_victims_code_met::varchar as verdict_victims_code_met
from _dip_returns
"""


@dg.asset(
    key=DIP_SAMPLE_RETURNS,
    group_name="assurance",
    partitions_def=quarterly_partitions,
    description="Verdicts of the assurance dip samples returned to the configured folder "
    "(dip_sample.returned_folder), one row per audited crime.",
    kinds={"duckdb", "python"},
)
def dip_sample_returns(duckdb: DuckDBResource) -> dg.MaterializeResult:
    folder = load_settings().dip_sample.returned_folder
    returns = (
        read_returned_samples(Path(folder))
        if folder and Path(folder).is_dir()
        else pd.DataFrame(columns=RETURN_COLUMNS)
    )
    with duckdb.get_connection() as con:
        con.execute("create schema if not exists marts")
        con.register("_dip_returns", returns.astype(object))
        con.execute(RETURNS_SQL)
        con.unregister("_dip_returns")
    # Counts only: no crime reference in the run's metadata.
    return dg.MaterializeResult(metadata={"audited_crimes": len(returns)})
