"""The tasking list's words are built in dbt (reporting.rpt_tasking_list: flags, why_on_list;
rpt_tasking_summary: the opening sentences): on the real run they say what the row's figures
say."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

FLAG_WORDS = {
    "flag_order_not_working": "order not working",
    "flag_escalation": "escalating",
    "flag_new_victim": "new victim",
    "flag_no_spo_considered": "no SPO considered",
    "flag_online_only": "online only",
    "is_serial": "serial",
    "has_domestic_abuse": "DA",
}


def _list(fixture_db: Path) -> pd.DataFrame:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        return con.execute("select * from reporting.rpt_tasking_list").df()


def test_flags_name_exactly_the_flags_raised(fixture_db: Path) -> None:
    frame = _list(fixture_db)
    assert len(frame) > 0
    for row in frame.to_dict("records"):
        shown = [word for word in row["flags"].split(", ") if word]
        assert shown == [word for column, word in FLAG_WORDS.items() if row[column]]


def test_why_on_list_states_the_rows_figures(fixture_db: Path) -> None:
    frame = _list(fixture_db)
    for row in frame.to_dict("records"):
        why = row["why_on_list"]
        assert why[:1].isupper()
        if pd.notna(row["crimes_12m"]):
            crimes = int(row["crimes_12m"])
            plural = "s" if crimes != 1 else ""
            look_back = int(row["crimes_total"])
            assert f"{crimes} stalking crime{plural} in 12 months ({look_back} in the" in why
        assert ("no active protective order" in why) == (not row["has_active_order"])
        assert why.lower().startswith("serial: ") == bool(row["is_serial"])
        scores = {
            "recent offending": row["recency_score"],
            "frequent offending": row["frequency_score"],
            "grave offending": row["gravity_score"],
            "several victims": row["victims_score"],
        }
        best = max(scores.values())
        strongest = [name for name, score in scores.items() if score == best]
        assert f"score driven most by {strongest[0]}" in why
        assert all(name in why.split("score driven most by ")[1] for name in strongest)


def test_pack_opening_sentences_carry_the_summary_counts(fixture_db: Path) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        summary = con.execute("select * from reporting.rpt_tasking_summary").df()
    assert len(summary) > 0
    for row in summary.to_dict("records"):
        assert row["headline_counts"].startswith(
            f"{row['subjects_above_cutoff']} subject(s) at or above the high-harm cut-off"
        )
        assert f"of {row['subjects_scored']} scored" in row["headline_counts"]
        assert f"{row['subjects_dropped_off']} dropped off" in row["headline_movement"]
