"""The restricted pages' wording and tables, the FMS files' series not forecast and baseline
rates, the profile's chart points, on fixed rows: the dbt unit tests of
dbt_project/models/reporting/_outputs__unit_tests.yml (a quarterly run skips unit tests, so they
run here, on a copy of the session's warehouse for the input tables' types)."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.paths import DBT_PROJECT_DIR
from tests.analytics.force_fixture import run_dbt
from tests.report.conftest import QUARTER

UNIT_TESTED = (
    "rpt_subject_timeline",
    "rpt_subject_match_evidence",
    "rpt_tasking_summary",
    "rpt_fms_not_forecast",
    "rpt_fms_baseline_rates",
    "rpt_resolution_run",
    "rpt_profile_chart_points",
    "rpt_tasking_backtest_subjects",
    "rpt_tasking_list",
    "rpt_victim_demographics",
    "rpt_profile_perpetrator_demographics",
    "rpt_data_quality_caveats",
    "rpt_assessment_gaps",
    "rpt_data_quality",
    "rpt_fms_sentences",
    "rpt_orders_effectiveness",
    "int_tasking_rank_links",
    "rpt_fms_backtest",
    "rpt_tasking_movement",
)


def test_subject_page_models_pass_their_unit_tests(fixture_db_copy: Path) -> None:
    selection = [f"test_type:unit,{model}" for model in UNIT_TESTED]
    result = run_dbt(fixture_db_copy, QUARTER, ["test", "--select", *selection])
    assert result.returncode == 0, result.stdout[-3000:]
    declared = yaml.safe_load(
        (DBT_PROJECT_DIR / "models" / "reporting" / "_outputs__unit_tests.yml").read_text()
    )["unit_tests"]
    assert f"PASS={sum(test['model'] in UNIT_TESTED for test in declared)}" in result.stdout
