"""The profile's tasking back-test sentence ends with which ranking picked out re-offenders best:
the RFGV score lost to ranking by most recent offending on the demo force (AUC 0.73 against
0.80) and on an independently generated force (0.76 against 0.89), and the sentence gave the
figures without saying so. A method that loses to its baseline is not left to read as if it
won."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.analytics.force_fixture import run_dbt
from tests.report.conftest import QUARTER

RECENCY_BETTER = "Ranking by most recent offending alone picked out re-offenders better than"
RFGV_BETTER = "The RFGV score picked out re-offenders better than either plain ranking."


def _sentence(warehouse: Path, rfgv_auc: float, recency_auc: float) -> str:
    with duckdb.connect(str(warehouse)) as con:
        rows = con.execute(
            "select count(*) from reporting.rpt_tasking_backtest_summary "
            "where quarter = ? and is_mean and method in ('rfgv', 'most_recent')",
            [QUARTER],
        ).fetchone()[0]
        assert rows > 0, "the fixture's quarter has no back-test: the sentence is not made"
        for method, auc in (("rfgv", rfgv_auc), ("most_recent", recency_auc)):
            con.execute(
                "update reporting.rpt_tasking_backtest_summary set auc = ? "
                "where quarter = ? and is_mean and method = ?",
                [auc, QUARTER, method],
            )
        con.execute(
            "update reporting.rpt_tasking_backtest_summary set auc = 0.5 "
            "where quarter = ? and is_mean and method = 'crime_count_12m'",
            [QUARTER],
        )
    result = run_dbt(warehouse, QUARTER, ["run", "--select", "rpt_profile_sentences"])
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select template from reporting.rpt_profile_sentences "
            "where quarter = ? and sentence_kind = 'tasking_backtest'",
            [QUARTER],
        ).fetchone()[0]


@pytest.mark.parametrize(
    ("rfgv_auc", "recency_auc", "says", "does_not_say"),
    [
        (0.73, 0.80, RECENCY_BETTER, RFGV_BETTER),
        (0.81, 0.80, RFGV_BETTER, RECENCY_BETTER),
    ],
)
def test_the_back_test_sentence_says_which_ranking_did_better(
    fixture_db_copy: Path, rfgv_auc: float, recency_auc: float, says: str, does_not_say: str
) -> None:
    sentence = _sentence(fixture_db_copy, rfgv_auc, recency_auc)
    assert says in sentence
    assert does_not_say not in sentence
