"""Assurance asset: the dip samples auditors returned -> marts.dip_sample_returns.

Wiring only: the reading is pipelines.dip_sample_returns.read_returned_samples. The table is
replaced on every run (empty when no folder is configured or nothing was returned), so the
reporting layer can always read it.
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.warehouse_tables import replace_table

DIP_SAMPLE_RETURNS = dg.AssetKey(["marts", "dip_sample_returns"])


@dg.asset(
    key=DIP_SAMPLE_RETURNS,
    group_name="assurance",
    partitions_def=quarterly_partitions,
    description="Verdicts of the assurance dip samples returned to the configured folder "
    "(dip_sample.returned_folder), one row per audited crime.",
    kinds={"duckdb", "python"},
)
def dip_sample_returns(duckdb: DuckDBResource, profile_run: ProfileRun) -> dg.MaterializeResult:
    # Imported here (openpyxl, pandas): loading the code location does not pay for them.
    import pandas as pd

    from pipelines.dip_sample_returns import RETURN_COLUMNS, read_returned_samples

    folder = profile_run.settings().dip_sample.returned_folder
    returns = (
        read_returned_samples(Path(folder))
        if folder and Path(folder).is_dir()
        else pd.DataFrame(columns=RETURN_COLUMNS)
    )
    with duckdb.get_connection() as con:
        replace_table(con, "marts.dip_sample_returns", returns.astype(object))
    # Counts only: no crime reference in the run's metadata.
    return dg.MaterializeResult(metadata={"audited_crimes": len(returns)})
