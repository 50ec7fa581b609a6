"""Sections declared in rpt_profile_sections' YAML (`meta.items`) and rendered by the one loop
of pipelines.report.sections, on the warehouse of the session's real run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.disclosure.sentences import model_rows
from pipelines.quarters import Periods
from pipelines.report.printed import _models, model_meta, printed_columns
from pipelines.report.sections import ITEMS, SECTIONS, Context, compared_quarter_heading
from pipelines.report.sections import section_items as rendered_items
from pipelines.settings import Settings
from tests.report.conftest import QUARTER

DECLARED = dict(_models()[SECTIONS]["config"]["meta"]["items"])


def _specs(items: list[dict]) -> list[dict]:
    """Every declared item, those inside groups too."""
    return [
        inner
        for spec in items
        for inner in [spec, *(_specs(spec["group"]) if "group" in spec else [])]
    ]


@pytest.mark.parametrize("section", sorted(DECLARED))
def test_every_declared_item_is_a_known_kind_of_a_described_model(section: str) -> None:
    models = _models()
    for spec in _specs(model_meta(SECTIONS)["items"][section]):
        kind = next(iter(spec))
        assert kind in ITEMS, (section, kind)
        if kind == "table":
            assert spec["view"] in models[spec["table"]]["config"]["meta"]["printed_as"]
        if kind == "compared":
            assert "compared_by_quarter" in models[spec["compared"]]["config"]["meta"]


def test_declared_sections_are_rows_of_the_model(fixture_db: Path) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        rows = con.execute(
            f"select section from reporting.{SECTIONS} order by section_order"
        ).fetchall()
    # every section of the page is declared, in the page's order
    assert [section for (section,) in rows] == list(DECLARED)


def test_each_declared_section_renders_its_items_in_order(fixture_db: Path) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        ctx = Context(con, Periods(QUARTER), Settings())
        for section in DECLARED:
            items = rendered_items(ctx, section)
            assert items, section
            captions = [item["caption"] for item in items if "caption" in item]
            # every caption's placeholders were filled from the quarter and the section values
            assert not [c for c in captions if "{" in c], (section, captions)
        victims = rendered_items(ctx, "victims")
    figures = next(item["table"] for item in victims if item["kind"] == "table")
    labels = [c.label for c in printed_columns("rpt_victims_by_quarter", "profile")]
    assert [row[0] for row in figures["rows"]] == labels
    # a figure table prints no total row: its rows are the model's columns only
    assert not figures["total"]


def test_section_values_follow_the_quarter_and_the_data(fixture_db: Path) -> None:
    """rpt_profile_section_values: the span in words, the demand charts' window (twelve
    quarters, none before the first with a crime) and the orders' twelve months."""
    from pipelines.quarters import quarter_end, quarter_start, shift_quarter

    with duckdb.connect(str(fixture_db), read_only=True) as con:
        values = model_rows(con, "rpt_profile_section_values", "quarter = ?", [QUARTER])[0]
        (first,) = con.execute(
            "select min(quarter) from reporting.rpt_profile_demand_by_quarter"
        ).fetchone()
        (crimes,) = con.execute(
            "select sum(crimes) from reporting.rpt_profile_demand_by_quarter"
        ).fetchone()
    start, end = quarter_start(QUARTER), quarter_end(QUARTER)
    assert values["span"] == f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"
    assert values["trend_first_quarter"] == max(first, shift_quarter(QUARTER, -11))
    window = [q for q in Periods(QUARTER).trend(12) if q >= values["trend_first_quarter"]]
    assert values["trend_quarters"] == len(window) > 0
    assert values["has_crimes"] == (crimes > 0)
    assert values["orders_window"].endswith(f" to {QUARTER}")


def _location_rule_holds(warehouse: Path) -> int:
    """The map's title, the hotspot cells it leaves out and the busiest-cells table of the
    warehouse follow pipelines.disclosure.locations; the number of cells it lets be drawn."""
    from pipelines.disclosure.locations import publishable

    k = Settings().disclosure.min_count
    with duckdb.connect(str(warehouse), read_only=True) as con:
        values = model_rows(con, "rpt_profile_section_values", "quarter = ?", [QUARTER])[0]
        cells = con.execute(
            "select * from reporting.rpt_hotspot_cells where quarter = ? order by crimes_rank",
            [QUARTER],
        ).df()
        busiest = model_rows(
            con, "rpt_profile_busiest_cells", "quarter = ? order by busiest_rank", [QUARTER]
        )
    shown = publishable(cells, k)
    assert values["hidden_hotspot_cells"] == int((cells["is_hotspot"] & ~shown).sum())
    published = cells[shown]
    if published.empty:
        assert values["map_title"].startswith("No grid cell had")
    else:
        assert values["map_title"].startswith(f"{len(published)} cells had {k} or more")
    top = published.head(10)
    assert [row["busiest_rank"] for row in busiest] == list(range(1, len(top) + 1))
    assert [(row["district"], row["crimes"]) for row in busiest] == list(
        zip(top["district"], top["crimes"], strict=True)
    )
    return len(published)


def test_map_title_hidden_hotspots_and_busiest_cells_follow_the_location_rule(
    fixture_db: Path,
) -> None:
    """The map's title, the hotspot cells it leaves out and the busiest-cells table
    (rpt_profile_section_values, rpt_profile_busiest_cells) count the cells that
    pipelines.disclosure.locations lets the profile draw."""
    _location_rule_holds(fixture_db)


def test_busiest_cells_list_only_cells_the_location_rule_lets_be_drawn(
    fixture_db_copy: Path,
) -> None:
    """The tiny run has no cell with K different victims (the test above meets only the empty
    map): here the quarter's three busiest cells are given K, K - 1 and K victims and the two
    models rebuilt. The first and third are drawn and listed, ranked among themselves; the
    second is left out and counted among the hidden hotspot cells."""
    from tests.analytics.force_fixture import run_dbt

    k = Settings().disclosure.min_count
    with duckdb.connect(str(fixture_db_copy)) as con:
        for rank, crimes, victims in ((1, k + 2, k), (2, k + 1, k - 1), (3, k, k)):
            con.execute(
                "update reporting.rpt_hotspot_cells set crimes = ?, victims = ? "
                "where quarter = ? and crimes_rank = ?",
                [crimes, victims, QUARTER, rank],
            )
    select = ["run", "--select", "rpt_profile_section_values rpt_profile_busiest_cells"]
    result = run_dbt(fixture_db_copy, QUARTER, select)
    assert result.returncode == 0, result.stdout[-2000:]
    assert _location_rule_holds(fixture_db_copy) == 2


def test_a_compared_quarter_without_data_says_so_in_its_heading() -> None:
    """A compared quarter whose counts read 0 for want of data is marked: a gap in the
    delivery, or a quarter ended before the delivery's first crime (a profile of the first
    quarter printed 0 for the year before as if no crime had been recorded)."""
    gaps = {"2025-Q1"}
    assert (
        compared_quarter_heading("2025-Q1", gaps, "2021-01-02") == "2025-Q1 (no crimes delivered)"
    )
    assert (
        compared_quarter_heading("2020-Q4", gaps, "2021-01-02") == "2020-Q4 (before the delivery)"
    )
    assert compared_quarter_heading("2021-Q1", gaps, "2021-01-02") == "2021-Q1"
    assert compared_quarter_heading("2020-Q4", gaps, "2020-12-31") == "2020-Q4"
    assert compared_quarter_heading("2020-Q4", gaps, "") == "2020-Q4"
