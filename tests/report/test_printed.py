"""Tables printed from their model's YAML (pipelines.report.printed; workbook sheets:
pipelines.publish.sheets), on the warehouse of the session's real run: every described view
resolves, and published cells follow their rule."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.disclosure import SUPPRESSED, Count
from pipelines.publish.sheets import written_columns
from pipelines.report.printed import (
    Periods,
    PrintedColumn,
    _models,
    cell_text,
    comparison_table,
    merged_hidden_rows,
    model_meta,
    printed_columns,
    printed_table,
    published_cell,
)
from tests.report.conftest import QUARTER

K = 3


def _described(key: str) -> list[tuple[str, str]]:
    """(model, view or sheet) for every entry under a models' `config.meta.<key>`."""
    return [
        (model, name)
        for model, spec in _models().items()
        for name in ((spec.get("config") or {}).get("meta") or {}).get(key, {})
    ]


def _views() -> list[tuple[str, str]]:
    return _described("printed_as")


def _written_sheets() -> list[tuple[str, str]]:
    return _described("written_as")


def _built_columns(fixture_db: Path, model: str) -> set[str]:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        return {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'reporting' and table_name = ?",
                [model],
            ).fetchall()
        }


def test_some_models_describe_their_printed_tables() -> None:
    views = dict(_views())
    assert {"rpt_tasking_list", "rpt_data_quality", "rpt_orders_applications"} <= set(views)


@pytest.mark.parametrize(("model", "view"), _views())
def test_every_printed_view_names_built_columns_with_labels(
    fixture_db: Path, model: str, view: str
) -> None:
    columns = printed_columns(model, view)
    assert columns and all(c.label and c.kind for c in columns)
    built = _built_columns(fixture_db, model)
    assert {c.name for c in columns} | {c.of for c in columns if c.of} <= built


def test_workbook_formula_sheets_are_declared() -> None:
    assert ("rpt_fms_workload_years", "Workload") in _written_sheets()
    assert ("rpt_fms_workload_years", "Hidden demand") in _written_sheets()


@pytest.mark.parametrize(("model", "sheet"), _written_sheets())
def test_every_written_sheet_reads_built_columns(fixture_db: Path, model: str, sheet: str) -> None:
    """Each declared column (a value, a live formula, a number format) is a built column of its
    model. A formula naming an assumption that rpt_fms_assumptions lacks is null, which the
    model's not-null contract refuses (so a renamed assumption fails the build, not the book)."""
    built = _built_columns(fixture_db, model)
    for column in written_columns(model, sheet):
        named = [column.value, column.formula, column.number_format_from]
        assert {name for name in named if name is not None} <= built, column.label


def test_published_cells_follow_their_disclosure_rule() -> None:
    count = PrintedColumn("n", "N", "count", disclosure="count")
    exact = PrintedColumn("n", "N", "count", disclosure="none")
    rate = PrintedColumn("part", "Share", "rate", disclosure="rate", of="n")
    median = PrintedColumn("days", "Days", "number", digits=0, disclosure="median", of="n")
    small = {"n": 2, "part": 1, "days": 40.4}
    large = {"n": 1200, "part": 600, "days": 40.4}
    assert published_cell(small, count, K) == SUPPRESSED
    assert published_cell(small, exact, K) == "2"
    assert published_cell(large, count, K) == "1,200"
    assert published_cell(small, rate, K) == SUPPRESSED
    assert published_cell(large, rate, K) != SUPPRESSED
    assert published_cell(small, median, K) == "–"
    assert published_cell(large, median, K) == "40"


def test_applications_table_hides_medians_of_few_applications(fixture_db: Path) -> None:
    clause = "where quarter = ? and da_group = 'all' order by order_type_order"
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        table = printed_table(con, "rpt_orders_applications", "applications", K, clause, [QUARTER])
        counts = con.execute(
            "select applications, median_days_report_to_application "
            f"from reporting.rpt_orders_applications {clause}",
            [QUARTER],
        ).fetchall()
    assert [c.label for c in table["columns"]][0] == "Order type"
    assert len(table["rows"]) == len(counts) > 0
    for row, (applications, median) in zip(table["rows"], counts, strict=True):
        if applications < K:
            assert row[-1] == "–"
        elif median is not None:
            assert row[-1] == f"{median:,.0f}"
        if 0 < applications < K:
            assert row[1] == SUPPRESSED


def test_a_total_row_suppresses_its_group_together() -> None:
    """One small band hides a second (else the total would give it away); the total prints."""
    with duckdb.connect() as con:
        con.execute("create schema reporting")
        con.execute(
            "create table reporting.rpt_profile_repeat_bands as select * from (values "
            "('2026-Q1', '2', 1, 10), ('2026-Q1', '3–4', 2, 2), ('2026-Q1', '5 or more', 3, 7)"
            ") as t (quarter, band_label, band_order, repeat_victims)"
        )
        table = printed_table(con, "rpt_profile_repeat_bands", "profile", K, "order by band_order")
        empty = printed_table(con, "rpt_profile_repeat_bands", "profile", K, "where band_order > 3")
    assert table["total"] and not empty["total"] and empty["rows"] == []
    assert table["rows"] == [
        ["2", "10"], ["3–4", SUPPRESSED], ["5 or more", SUPPRESSED], ["Total", "19"],
    ]  # fmt: skip


def test_printed_headings_name_the_compared_quarters(fixture_db: Path) -> None:
    periods = Periods(QUARTER)
    headings = {"quarter": QUARTER, "previous": periods.previous, "year_ago": periods.year_ago}
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        clause = "where quarter = ? order by measure"
        table = printed_table(
            con, "rpt_profile_compliance", "profile", K, clause, [QUARTER], headings
        )
        (measures,) = con.execute(
            "select count(distinct measure) from reporting.rpt_compliance "
            "where quarter in (select unnest(?))",
            [periods.columns],
        ).fetchone()
    labels = [c.label for c in table["columns"]]
    assert labels[4:] == [*periods.columns, f"{QUARTER} DA", f"{QUARTER} non-DA"]
    assert len(table["rows"]) == measures > 0


def test_sentences_a_section_lists_are_sentences_of_the_model(fixture_db: Path) -> None:
    listed = _described("sentences_in")
    assert ("rpt_profile_sentences", "key_findings") in listed
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        for model, section in listed:
            rows = con.execute(f"select sentence_kind from reporting.{model}").fetchall()
            kinds = {kind for (kind,) in rows}
            assert set(model_meta(model)["sentences_in"][section]) <= kinds, (model, section)


def test_a_row_total_is_suppressed_with_its_table() -> None:
    """A small cell hides a partner in its row and in its column; the margins still print.
    The orders with no linked crime are a third group of the same table."""
    with duckdb.connect() as con:
        con.execute("create schema reporting")
        con.execute(
            "create table reporting.rpt_profile_breach_actions as select * from (values "
            "('Q', 'Arrest', 1, 10, 2, 0, 12), ('Q', 'Charge', 2, 6, 8, 0, 14)) as t (quarter, "
            "action_label, action_order, breaches_domestic_abuse, breaches_not_domestic_abuse, "
            "breaches_no_crime, breaches_all)"
        )
        table = printed_table(
            con, "rpt_profile_breach_actions", "profile", K, "order by action_label"
        )
    assert table["rows"] == [
        ["Arrest", SUPPRESSED, SUPPRESSED, "0", "12"],
        ["Charge", SUPPRESSED, SUPPRESSED, "0", "14"],
        ["Total", "16", "10", "0", "26"],
    ]


def test_counts_of_one_row_that_add_up_are_suppressed_together() -> None:
    """A small side hides the other side of its quarter (else the whole would reveal it),
    unless the other side is zero; the two quarters are separate."""
    with duckdb.connect() as con:
        con.execute("create schema reporting")
        con.execute(
            "create table reporting.rpt_profile_split_tables as select * from (values "
            "('Q', 'online', 'Crimes', 1, 2, 10, 7, 0), ('Q', 'online', 'Victims', 2, 1, 9, 0, 4)"
            ") as t (quarter, split, measure_label, measure_order, first_side_year_ago, "
            "first_side_now, second_side_year_ago, second_side_now)"
        )
        table = printed_table(
            con, "rpt_profile_split_tables", "online", K, "order by measure_label"
        )
    assert [c.label for c in table["columns"]][1] == "Online {year_ago}"
    assert table["rows"] == [
        ["Crimes", SUPPRESSED, "10", SUPPRESSED, "0"],
        ["Victims", SUPPRESSED, "9", "0", "4"],
    ]


def test_a_figure_hidden_in_one_side_is_hidden_in_the_other() -> None:
    """The two sides add up to All: the other side's publishable share would reveal it."""
    with duckdb.connect() as con:
        con.execute("create schema reporting")
        con.execute(
            "create table reporting.rpt_orders_spo_funnel as select * from (values "
            "('Q', 'all', 'All', 1, 20, 10, 6, 3), "
            "('Q', 'domestic_abuse', 'Domestic abuse', 2, 10, 5, 1, 0), "
            "('Q', 'not_domestic_abuse', 'Not domestic abuse', 3, 10, 5, 5, 3)"
            ") as t (quarter, da_group, da_label, da_order, stalking_crimes, spo_considered, "
            "spo_applied, spo_granted)"
        )
        table = printed_table(con, "rpt_orders_spo_funnel", "profile", K, "order by da_order")
    assert table["rows"] == [
        ["All", "20", "50%", "30%", "50%"],
        ["Domestic abuse", "10", "50%", SUPPRESSED, SUPPRESSED],
        ["Not domestic abuse", "10", "50%", SUPPRESSED, SUPPRESSED],
    ]


def test_sides_are_suppressed_together_within_their_order_type() -> None:
    """Domestic abuse, not domestic abuse and no crime linked add up to All: a figure hidden
    in one of them is hidden in the other two (two shown would give it away), within its type."""
    figures = [f"{name}_{m}m" for m in (3, 6, 12) for name in ("granted", "breached", "reoffended")]
    data = [
        ("A", 1, "all", 1, 12),
        ("A", 1, "domestic_abuse", 2, 2),
        ("A", 1, "not_domestic_abuse", 3, 6),
        ("A", 1, "no_crime", 4, 4),
        ("B", 2, "all", 1, 12),
        ("B", 2, "domestic_abuse", 2, 6),
        ("B", 2, "not_domestic_abuse", 3, 6),
        ("B", 2, "no_crime", 4, 0),
    ]
    values = ", ".join(
        f"('Q', '{t}', '{t}', {o}, '{g}', '{g}', {d}, {n})" for t, o, g, d, n in data
    )
    with duckdb.connect() as con:
        con.execute("create schema reporting")
        con.execute(
            "create table reporting.rpt_profile_order_effectiveness as select t.*, "
            + ", ".join(f"{'t.n' if 'granted' in f else 't.n // 2'} as {f}" for f in figures)
            + f" from (values {values}) as t (quarter, order_type, order_type_label, "
            "order_type_order, da_group, da_label, da_order, n)"
        )
        table = printed_table(
            con, "rpt_profile_order_effectiveness", "profile", K, "order by order_type, da_order"
        )
    assert [row[2] for row in table["rows"]] == [
        *["12", SUPPRESSED, SUPPRESSED, SUPPRESSED],
        *["12", "6", "6", "0"],
    ]


def test_a_group_with_nothing_granted_shows_no_share_not_a_hidden_one() -> None:
    """An order type whose domestic-abuse side had no orders (a share of none, '–'): when the
    other side's small re-offending count is hidden, the side with none stays '–' ('[c]'
    there would claim a small count that does not exist); the partner figures still hide."""
    with duckdb.connect() as con:
        con.execute("create schema reporting")
        con.execute(
            "create table reporting.rpt_profile_order_effectiveness as select * from (values "
            "('Q', 'IAH', 'IAH', 1, 'all', 'All', 1, 40, 10, 2, 40, 10, 2, 40, 10, 2), "
            "('Q', 'IAH', 'IAH', 1, 'domestic_abuse', 'DA', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0), "
            "('Q', 'IAH', 'IAH', 1, 'not_domestic_abuse', 'Not DA', 3, "
            "40, 10, 2, 40, 10, 2, 40, 10, 2)"
            ") as t (quarter, order_type, order_type_label, order_type_order, da_group, "
            "da_label, da_order, granted_3m, breached_3m, reoffended_3m, granted_6m, "
            "breached_6m, reoffended_6m, granted_12m, breached_12m, reoffended_12m)"
        )
        table = printed_table(
            con, "rpt_profile_order_effectiveness", "profile", K, "order by da_order"
        )
    reoffended_3m = [row[4] for row in table["rows"]]
    breached_3m = [row[3] for row in table["rows"]]
    assert reoffended_3m == [SUPPRESSED, "–", SUPPRESSED]
    assert breached_3m == ["25%", "–", "25%"]


def test_one_cell_formatter_by_kind_or_by_type() -> None:
    """printed.cell_text: a figure by its column's kind and digits; a restricted page's value
    (no column) by its type; a missing one '–' unless the page words it."""
    import datetime as dt

    import numpy as np

    rate = PrintedColumn("share", "Share", "rate", digits=0)
    signed = PrintedColumn("change", "Change", "rate", signed=True)
    assert cell_text(0.256, rate) == "26%"
    assert cell_text(-0.0312, signed) == "−3.1%"
    assert cell_text(1234, PrintedColumn("n", "N", "count")) == "1,234"
    assert cell_text(2.5, PrintedColumn("x", "X", "number")) == "2.50"
    assert cell_text(SUPPRESSED, PrintedColumn("n", "N", "count")) == SUPPRESSED
    typed = [np.True_, dt.date(2026, 3, 3), 7.0, np.float64(0.66), np.int64(3), "Craven"]
    assert [cell_text(v) for v in typed] == ["yes", "03 Mar 2026", "7", "0.7", "3", "Craven"]
    assert [cell_text(v) for v in (None, float("nan"), np.datetime64("NaT"))] == ["–"] * 3
    assert cell_text(None, missing="not recorded") == "not recorded"


def test_perpetrator_finding_without_the_serial_count_names_its_subject(
    fixture_db: Path,
) -> None:
    """When the serial count is suppressed the sentence still has a subject (it printed "The
    force dealt with 0 met the high-harm threshold" on a quarter with few serial offenders)."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        templates = {
            t
            for (t,) in con.execute(
                "select template from reporting.rpt_profile_sentences "
                "where sentence_kind = 'finding_perpetrators' "
                "and not contains(template, '{serial_perpetrators}')"
            ).fetchall()
        }
    assert templates
    for template in templates:
        assert template.startswith("{high_harm_perpetrators} perpetrators met the high-harm"), (
            template
        )


def _victims_by(counts: dict[str, tuple[int, int, int]]) -> list:
    """A comparison table of victims per category at a year ago, the previous quarter and the
    quarter, suppressed with each quarter's total at the profile's threshold (5)."""
    periods = Periods(QUARTER)
    frame = pd.DataFrame(
        [
            {"quarter": q, "cat": cat, "n": n}
            for cat, figures in counts.items()
            for q, n in zip(periods.columns, figures, strict=True)
        ]
    )
    return comparison_table(frame, list(counts), periods, 5)


def test_categories_hidden_in_every_quarter_print_as_their_sum() -> None:
    """Victims by sex on the demo force: Other / not known is 1-4 in each quarter, so Male (the
    smallest cell that can protect it; the total is also the headline victims figure) is hidden
    too, and the table read Male [c] though it is 41-52. The two hidden rows' sum is the total
    less Female, which anyone can work out: it prints as one row, and nothing smaller shows."""
    rows = _victims_by(
        {"Female": (113, 117, 103), "Male": (41, 47, 52), "Other / not known": (4, 2, 1)}
    )
    assert [str(f.now) for f in rows] == ["103", SUPPRESSED, SUPPRESSED, "156"]
    merged = merged_hidden_rows(rows, 5)
    assert [(f.label, str(f.year_ago), str(f.now)) for f in merged] == [
        ("Female", "113", "103"),
        ("Male or other / not known", "45", "53"),
        ("Total", "158", "156"),
    ]
    total, shown = merged[-1], merged[0]
    assert merged[1].now.value == total.now.value - shown.now.value  # derivable already


def test_hidden_rows_that_change_between_quarters_stay_hidden() -> None:
    """Victims by age: Under 18 and 50-64 are hidden a year ago and last quarter but not now,
    so no one row holds their sum in every quarter: the table is left as suppressed."""
    rows = _victims_by({"Under 18": (2, 1, 0), "18-24": (27, 23, 26), "50-64": (6, 7, 7)})
    assert merged_hidden_rows(rows, 5) == rows
    small = _victims_by({"A": (40, 40, 40), "B": (1, 2, 1), "C": (2, 1, 2)})  # sum 3: small
    assert merged_hidden_rows(small, 5) == small
    split = _victims_by({"Domestic abuse": (30, 3, 30), "Not domestic abuse": (2, 40, 1)})
    assert merged_hidden_rows(split, 5) == split  # every row hidden: their sum is the total


def test_hidden_rows_merge_on_the_quarters_the_table_prints() -> None:
    """Victims by sex prints the quarter and a year ago only: the previous quarter (not printed,
    read as none) does not stop the merge, and its figure stays hidden."""
    rows = _victims_by(
        {"Female": (113, 0, 103), "Male": (41, 0, 52), "Other / not known": (4, 0, 1)}
    )
    assert merged_hidden_rows(rows, 5) == rows  # the previous quarter's zeros print
    merged = merged_hidden_rows(rows, 5, ("year_ago", "now"))
    assert [(f.label, str(f.year_ago), str(f.now), str(f.previous)) for f in merged][1] == (
        "Male or other / not known",
        "45",
        "53",
        SUPPRESSED,
    )


def test_percentages_round_half_up_in_python_and_in_sql() -> None:
    """84 of 160 is 52.5%: a reader and a spreadsheet print 53%, Python's format and DuckDB's
    round_even printed 52%. Every printed percentage goes through one rule in Python
    (suppression.rounded_half_up: rates, table cells, changes) and one in SQL (the macro
    whole_percent), and the two agree, float noise included (0.145 is 14.5%, so 15%)."""
    import jinja2

    from pipelines.disclosure.suppression import Rate, percent_text
    from pipelines.paths import DBT_PROJECT_DIR
    from pipelines.report.printed import change_text

    assert str(Rate(84 / 160)) == "53%"
    assert cell_text(84 / 160, PrintedColumn("share", "Share", "rate", digits=0)) == "53%"
    assert cell_text(0.1245, PrintedColumn("share", "Share", "rate", digits=1)) == "12.5%"
    assert change_text(Count(105), Count(200)) == "−48%"  # -47.5%
    assert change_text(Rate(0.5), Rate(0.475)) == "+3 pts"  # 2.5 points
    macros = (DBT_PROJECT_DIR / "macros" / "percent_text.sql").read_text()
    sql = jinja2.Environment().from_string(macros).module
    shares = [84 / 160, 0.145, 0.125, 0.135, 1 / 3, 0.995, 0.0]
    with duckdb.connect() as con:
        printed = [con.execute(f"select {sql.percent_text(str(s))}").fetchone()[0] for s in shares]
    assert printed == [percent_text(s) for s in shares]
    assert printed == ["53%", "15%", "13%", "14%", "33%", "100%", "0%"]
    # a figure read from a pandas frame is a numpy float, whose repr names its type
    assert percent_text(np.float64(84 / 160)) == "53%"
