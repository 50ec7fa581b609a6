"""Assurance assets: the dip samples auditors returned -> marts.dip_sample_returns; the
screening review samples they returned -> the threshold screening runs with
(marts.screening_threshold, with marts.screening_calibration and
marts.screening_review_returns behind it).

Wiring only: the reading is pipelines.dip_sample_returns, the choice
pipelines.screening_calibration.decide_with_settings. The tables are replaced on every run (empty
returns when no folder is configured or nothing was returned: the configured threshold, said
so), so the models can always read them.
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.warehouse_tables import replace_table

DIP_SAMPLE_RETURNS = dg.AssetKey(["marts", "dip_sample_returns"])
SCREENING_THRESHOLD = dg.AssetKey(["marts", "screening_threshold"])


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


@dg.asset(
    key=SCREENING_THRESHOLD,
    group_name="assurance",
    partitions_def=quarterly_partitions,
    description="The threshold screening runs with: calibrated on the screening review samples "
    "returned to dip_sample.returned_folder (screening.calibration), an override, or the "
    "configured one; with its reason in words.",
    kinds={"duckdb", "python"},
)
def screening_threshold(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> dg.MaterializeResult:
    import dataclasses

    import pandas as pd

    from pipelines.dip_sample_returns import read_review_returns
    from pipelines.screening_calibration import REVIEW_COLUMNS, decide_with_settings

    settings = profile_run.settings()
    folder = settings.dip_sample.returned_folder
    returns = (
        read_review_returns(Path(folder))
        if folder and Path(folder).is_dir()
        else pd.DataFrame(columns=[*REVIEW_COLUMNS, "verdict_is_stalking"])
    )
    calibration = settings.screening.calibration
    decision, estimates = decide_with_settings(
        returns,
        context.partition_key,
        calibration,
        configured=settings.screening.threshold,
        override=calibration.override_threshold,
        enabled=calibration.enabled,
    )
    row = dataclasses.asdict(decision)
    row["threshold_source"] = row.pop("source")
    with duckdb.get_connection() as con:
        replace_table(con, "marts.screening_review_returns", returns.astype(object))
        replace_table(con, "marts.screening_threshold", pd.DataFrame([row]))
        replace_table(con, "marts.screening_calibration", estimates)
    # Counts and the decision only: no crime reference in the run's metadata.
    return dg.MaterializeResult(
        metadata={
            "threshold": decision.threshold,
            "source": decision.source,
            "reviewed": decision.reviewed,
            "reason": decision.reason,
        }
    )
