"""The assessment's exact tests: reporting.rpt_assessment_signals -> marts.assessment_tests.

The run's quarter only (replaced by each run): the profile prints no other, and the tests of
every quarter would cost the run about a second of CPU more.

Wiring only: the statistics are pipelines.assessment (SciPy), computed in a worker of the fork
server (pipelines/fork_server.py), which imported SciPy's stats for the forecasts on the other
core: importing them here cost the step ~0.3 s of its ~0.5 s. The table's columns are declared
once, as a dbt source (pipelines/warehouse_tables.py). It reads rpt_assessment_signals, which the
analytics dbt step builds; the rpt_assessment_* models that rank and word the judgments read it
and are built by the reporting step after it (pipelines/dbt_project.STEP_NODES).
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import fork_server
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.warehouse_tables import replace_table

ASSESSMENT_SIGNALS = dg.AssetKey(["reporting", "rpt_assessment_signals"])
ASSESSMENT_TESTS = dg.AssetKey(["marts", "assessment_tests"])
TESTED_COMPARISONS = "pipelines.assessment:tested_comparisons"


@dg.asset(
    key=ASSESSMENT_TESTS,
    deps=[ASSESSMENT_SIGNALS],
    group_name="assessment",
    partitions_def=quarterly_partitions,
    description="Every comparison the assessment tests in the run's quarter: exact test p-value, "
    "posterior probability that the change is real, and whether the settings' rule makes it "
    "a judgment.",
    kinds={"duckdb", "python"},
)
def assessment_tests(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> dg.MaterializeResult:
    import pandas as pd  # imported in the step: not at start-up

    from pipelines.assessment import TESTED_COLUMNS

    with duckdb.get_connection() as con:
        signals = con.execute("select * from reporting.rpt_assessment_signals").df()
        quarters = con.execute(
            "select quarter, previous_quarter, year_ago_quarter from intermediate.int_quarters "
            "where quarter = ?",
            [context.partition_key],
        ).fetchall()
        rows = fork_server.call(
            TESTED_COMPARISONS,
            signals.to_dict("records"),
            quarters,
            profile_run.settings().assessment,
        )
        tests = pd.DataFrame(rows, columns=list(TESTED_COLUMNS))
        replace_table(con, "marts.assessment_tests", tests)
    return dg.MaterializeResult(
        metadata={"tests": len(tests), "judgments": int(tests["is_judgment"].sum())}
    )
