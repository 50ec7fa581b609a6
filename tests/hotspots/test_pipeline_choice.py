"""The profile's hot cells on a real run: the method published is the back-test's winner,
never one that lost to naive, and the profile's sentence states that back-test."""

from __future__ import annotations

import html

import duckdb

from pipelines.hotspots.predict import NAIVE


def test_published_cells_come_from_the_back_tests_winner_never_a_loser(tiny_profile) -> None:
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        summary = con.execute("select * from marts.hotspot_method_backtest").df()
        (sentence,) = con.execute(
            "select sentence from reporting.rpt_hotspot_sentences where sentence_kind = 'backtest'"
        ).fetchone()
        methods = con.execute(
            "select distinct prediction_method from marts.hotspots where quarter = ?",
            [tiny_profile.quarter],
        ).fetchall()
    chosen = summary[summary["is_chosen"]]
    assert len(chosen) == 1
    winner = chosen.iloc[0]
    assert methods == [(winner["method"],)]
    naive_pai = float(summary.loc[summary["method"] == NAIVE, "mean_pai"].iloc[0])
    if winner["method"] == NAIVE:
        # Naive is published only when no candidate beat it on the force's own folds.
        assert (summary["mean_pai"].fillna(0) <= naive_pai).all()
    else:
        assert winner["mean_pai"] > naive_pai
        assert winner["mean_pai"] == summary["mean_pai"].max()
    profile = html.unescape((tiny_profile.quarter_dir / "profile.html").read_text())
    assert sentence in profile
