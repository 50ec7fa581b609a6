"""The hot-cell section's back-test sentence (reporting.rpt_hotspot_sentences) on the tiny
run's warehouse: it states the chosen method's figures and the plain count's beside them, says
so when nothing beat the plain count, and says there was no back-test when there were no folds.
The model is rebuilt by dbt on a copy whose back-test table is changed."""

from __future__ import annotations

import html
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.disclosure.suppression import percent_text
from tests.analytics.force_fixture import run_dbt
from tests.report.conftest import QUARTER

SENTENCE_SQL = (
    "select sentence from reporting.rpt_hotspot_sentences where sentence_kind = 'backtest'"
)


def _backtest(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from marts.hotspot_method_backtest").df()


def _rebuilt_sentence(warehouse: Path, backtest: pd.DataFrame) -> str:
    from pipelines.warehouse_tables import replace_table

    with duckdb.connect(str(warehouse)) as con:
        replace_table(con, "marts.hotspot_method_backtest", backtest)
    result = run_dbt(warehouse, QUARTER, ["build", "--select", "rpt_hotspot_sentences"])
    assert result.returncode == 0, result.stdout[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(SENTENCE_SQL).fetchall()
    assert len(rows) == 1
    return rows[0][0]


def test_profile_prints_the_chosen_methods_backtest(tiny_profile) -> None:
    backtest = _backtest(tiny_profile.warehouse)
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        (sentence,) = con.execute(SENTENCE_SQL).fetchone()
    profile = html.unescape((tiny_profile.quarter_dir / "profile.html").read_text())
    assert sentence in profile
    chosen = backtest[backtest["is_chosen"]].iloc[0]
    naive = backtest[backtest["method"] == "naive"].iloc[0]
    assert f"last {int(chosen['folds'])} quarters" in sentence
    assert (
        f"caught {percent_text(chosen['mean_hit_rate'])} of the next quarter's crimes" in sentence
    )
    assert f"on {chosen['area_share']:.1%} of the area analysed" in sentence
    assert f"(PAI {naive['mean_pai']:.1f})." in sentence


def test_sentence_says_when_nothing_beat_the_plain_count(fixture_db_copy: Path) -> None:
    backtest = _backtest(fixture_db_copy)
    backtest["folds"] = 4
    backtest["is_chosen"] = backtest["method"] == "naive"
    backtest.loc[backtest["method"] == "naive", ["mean_hit_rate", "mean_pai"]] = [0.125, 2.25]
    sentence = _rebuilt_sentence(fixture_db_copy, backtest)
    assert "no other method beat a plain count of last quarter" in sentence
    # Whole percent and one decimal, ties to even, as the profile has always printed them.
    assert "caught 12% of the next quarter's crimes" in sentence and "(PAI 2.2)." in sentence

    other = backtest.index[backtest["method"] != "naive"][0]
    backtest.loc[other, "method"] = "kde_250"
    backtest["is_chosen"] = backtest.index == other
    sentence = _rebuilt_sentence(fixture_db_copy, backtest)
    assert "last 4 quarters, the cells chosen by" in sentence
    assert "the cells chosen by kernel density (bandwidth 250 m) caught" in sentence
    assert sentence.endswith("a plain count of last quarter caught 12% (PAI 2.2).")

    backtest["folds"] = 0
    assert _rebuilt_sentence(fixture_db_copy, backtest) == (
        "Too few quarters of history for a back-test: the cells shown are last quarter's "
        "busiest (a plain count)."
    )
