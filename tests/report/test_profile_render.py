"""The profile rendered from the tiny run's warehouse: NIM section order, offline and
self-contained, figures equal to the marts (computed here independently), disclosure rules
visible in the output."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import duckdb
import pytest
from plotly.offline import get_plotlyjs

from pipelines.disclosure.suppression import percent_text
from pipelines.quarters import shift_quarter
from pipelines.settings import load_settings
from tests.report.conftest import QUARTER
from tests.report.html_tables import number, parse, table_rows

SECTIONS = [
    "assessment",
    "key-findings",
    "scope",
    "demand",
    "victims",
    "perpetrators",
    "splits",
    "locations",
    "orders",
    "compliance",
    "intelligence",
    "forecast",
    "gaps",
    "methodology",
    "settings",
]
K = load_settings().disclosure.min_count
# the perpetrator list's look-back, as the profile names it on each row
WINDOW = f"{load_settings().rfgv.lookback_months} months to quarter end"
PERIODS = [shift_quarter(QUARTER, -4), shift_quarter(QUARTER, -1), QUARTER]


@pytest.fixture(scope="module")
def html(rendered) -> str:
    return rendered.path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(html):
    return parse(html)


@pytest.fixture(scope="module")
def con(fixture_db: Path):
    with duckdb.connect(str(fixture_db), read_only=True) as connection:
        yield connection


def test_sections_in_nim_order(doc) -> None:
    assert doc.section_ids == SECTIONS


def test_plotly_embedded_exactly_once_and_nothing_external(html, doc) -> None:
    library = get_plotlyjs()
    assert html.count(library) == 1
    assert html.count(library[:300]) == 1
    assert doc.script_srcs == [], "scripts must be inline"
    assert not [h for h in doc.link_hrefs if "//" in h], "no external stylesheets or fonts"
    rest = html.replace(library, "")
    assert not re.search(r"https?://", rest), "no URL outside the plotly library itself"
    assert "@import" not in rest and "url(" not in rest


def test_every_chart_has_a_caption_and_a_finding_title(html, doc) -> None:
    divs = re.findall(r'Plotly\.newPlot\(\s*"([^"]+)"', html)
    assert len(divs) >= 6
    assert len(doc.figure_labels) == len(divs)
    assert all(len(label) > 20 for label in doc.figure_labels)
    titles = re.findall(r'"title":\{"text":"([^"]+)"', html)
    assert any(re.search(r"(rose|fell|stable|expected to)", t) for t in titles)


def _count(con, sql: str, params: list) -> int:
    return int(con.execute(sql, params).fetchone()[0])


def test_demand_figures_match_the_mart(doc, con) -> None:
    rows = table_rows(doc, "Stalking crimes by domestic-abuse flag")
    for i, quarter in enumerate(PERIODS):
        total = _count(
            con, "select count(*) from marts.stalking_crimes where quarter = ?", [quarter]
        )
        da = _count(
            con,
            "select count(*) from marts.stalking_crimes where quarter = ? and is_domestic_abuse",
            [quarter],
        )
        assert number(rows["Total"][i]) == total
        shown = number(rows["Domestic abuse"][i])
        assert shown == da or (shown is None and (0 < da < K or 0 < total - da < K))
    routes = table_rows(doc, "Stalking crimes by identification route")
    screened = _count(
        con,
        "select count(*) from marts.stalking_crimes where quarter = ? and identified_by = ?",
        [QUARTER, "screened"],
    )
    shown = number(routes["Flagged by screening (possible hidden stalking)"][2])
    assert shown in (screened, None)
    if shown is None:
        body = list(routes.values())[1:]  # after the header row
        # secondary suppression: a second cell of the column hides it from the total
        assert sum(number(v[2]) is None for v in body) >= 2


def test_comparison_tables_never_show_a_small_count(doc) -> None:
    checked = 0
    for caption, rows in doc.tables.items():
        if not rows or "vs same quarter last year" not in rows[0]:
            continue
        for row in rows[1:]:
            n_counts = 3 if len(rows[0]) == 6 else 2
            for cell in row[1 : 1 + n_counts]:
                value = number(cell)
                assert value is None or value == 0 or value >= K, (caption, row)
                checked += 1
    assert checked > 50


def test_victim_and_perpetrator_figures_match_the_marts(doc, con) -> None:
    rv = table_rows(doc, "Victims in the quarter and repeat victims")
    expected = _count(con, "select count(*) from marts.repeat_victims where quarter = ?", [QUARTER])
    shown = number(rv["Repeat victims (people, 12 months to quarter end)"][2])
    # hidden only as a small count: a figure the rule need not hide must print as the mart's
    assert shown == expected or (shown is None and 0 < expected < K), (shown, expected)
    perps = table_rows(doc, "Perpetrators (aggregate")
    everyone = _count(con, "select count(*) from marts.perpetrators where quarter = ?", [QUARTER])
    for label, where in (
        (f"Suspects and offenders (people, crime in the {WINDOW})", "true"),
        (f"Serial perpetrators (2+ victims, {WINDOW})", "is_serial"),
        ("High-harm perpetrators (at or above the tasking cut-off, quarter end)", "is_high_harm"),
    ):
        n = _count(
            con, f"select count(*) from marts.perpetrators where quarter = ? and {where}", [QUARTER]
        )
        shown = number(perps[label][2])
        if shown is None:  # suppressed: itself or its complement is a small count
            assert 0 < n < K or 0 < everyone - n < K
        else:
            assert shown == n


def test_compliance_rates_match_the_mart(doc, con) -> None:
    rows = table_rows(doc, "Compliance measures")
    frame = con.execute(
        "select measure, numerator, denominator from marts.compliance where quarter = ?",
        [QUARTER],
    ).fetchall()
    assert frame
    now = rows["Measure"].index(QUARTER)
    for measure, num, den in frame:
        shown = rows[measure.replace("_", " ").capitalize().replace("Spo ", "SPO ")][now]
        small = 0 < num < K or 0 < den - num < K or den < K
        assert shown == ("[c]" if small else percent_text(num / den))


def test_protective_order_outcomes_never_print_none_or_all(doc, con) -> None:
    """What happened to the subjects of orders and applications is a personal attribute: a
    share of 0 % or 100 % would tell it for everyone in the group (disclosure rule 4), so those
    cells are hidden; other shares print as the marts hold them."""
    applications = table_rows(doc, "Applications in")
    rows = con.execute(
        "select order_type_label, applications, granted, refused "
        "from reporting.rpt_orders_applications where quarter = ? and da_group = 'all'",
        [QUARTER],
    ).fetchall()
    assert rows
    hidden_by_this_rule_only = 0
    for label, applied, granted, refused in rows:
        printed = applications[label]
        for part, shown in ((granted, printed[1]), (refused, printed[2])):
            if applied and part in (0, applied):
                hidden_by_this_rule_only += applied >= K
                assert shown == "[c]", (label, part, applied)
            elif applied >= K and part >= K and applied - part >= K:
                assert shown == percent_text(part / applied), (label, part, applied)
    effectiveness = next(
        rows for caption, rows in doc.tables.items() if caption.startswith("Orders granted and")
    )
    rates = [cell for row in effectiveness[1:] for cell in row[2:] if cell.endswith("%")]
    assert not {"0%", "100%"} & set(rates)
    # the tiny force has groups of K or more with a 0 % or 100 % share (which the small-count
    # rules alone would print), so the rule is exercised on real output, not only in unit tests
    assert hidden_by_this_rule_only > 0


def _table_items(items: list[dict]) -> list[dict]:
    """Every table item of a section's items, those inside groups too."""
    return [
        table
        for item in items
        for table in ([item] if item["kind"] == "table" else _table_items(item.get("parts", [])))
    ]


def test_protective_order_shares_between_none_and_all_print_as_the_mart_holds_them(
    fixture_db_copy: Path,
) -> None:
    """The other half of the rule above: a share that is neither 0 % nor 100 % of K or more
    applications, with K or more on each side, prints as the mart's share. The tiny force's
    applications are all granted, so that half is never met on its own rows: one order type's
    outcomes are set to a split (granted and refused both K or more) in a copy of the real
    warehouse, and the section is rendered from it."""
    from pipelines.quarters import Periods
    from pipelines.report import sections

    applied, granted = 3 * K, 2 * K
    with duckdb.connect(str(fixture_db_copy)) as connection:
        (label,) = connection.execute(
            "select order_type_label from reporting.rpt_orders_applications "
            "where quarter = ? and da_group = 'all' order by order_type_order limit 1",
            [QUARTER],
        ).fetchone()
        connection.execute(
            "update reporting.rpt_orders_applications set applications = ?, granted = ?, "
            "refused = ? where quarter = ? and da_group = 'all' and order_type_label = ?",
            [applied, granted, applied - granted, QUARTER, label],
        )
    with duckdb.connect(str(fixture_db_copy), read_only=True) as connection:
        ctx = sections.Context(connection, Periods(QUARTER), load_settings())
        (table,) = [
            item["table"]
            for item in _table_items(sections.section_items(ctx, "orders"))
            if item["caption"].startswith("Applications in")
        ]
    printed = {row[0]: row for row in table["rows"]}[label]
    assert list(printed[1:4]) == [
        f"{applied:,}",
        percent_text(granted / applied),
        percent_text((applied - granted) / applied),
    ], printed


def test_effectiveness_caption_names_each_cohort(doc, con) -> None:
    cohorts = con.execute(
        "select distinct followup_months, cohort_first_quarter, cohort_last_quarter, "
        "cohort_label from reporting.rpt_orders_effectiveness where quarter = ? order by 1",
        [QUARTER],
    ).fetchall()
    assert cohorts
    caption = next(c for c in doc.tables if c.startswith("Orders granted and"))
    for _, first, last, label in cohorts:
        assert label == f"{first} to {last}"
    named = "; ".join(f"{months} months {label}" for months, _, _, label in cohorts)
    assert caption.endswith(f"(cohorts: {named})")


def _drawn_cells(html: str) -> list[int]:
    """Crime counts of the cells drawn on the profile's hotspot map (one marker per cell)."""
    match = re.search(r'Plotly\.newPlot\(\s*"chart-hotspot-map",\s*(\[.*?\]),\s*\{"template"', html)
    assert match
    traces = json.loads(match.group(1))
    texts = [x for t in traces if t.get("mode") == "markers" for x in t["text"] if x]
    return [int(x.split()[0]) for x in texts]


def test_map_draws_only_cells_with_enough_distinct_victims(
    html, con, fixture_db_copy: Path, tmp_path: Path
) -> None:
    from pipelines.publish import publish_profile

    drawn = _drawn_cells(html)
    assert all(c >= K for c in drawn)
    expected = _count(
        con, "select count(*) from marts.hotspots where quarter = ? and victims >= ?", [QUARTER, K]
    )
    assert len(drawn) == expected
    # One household with many crimes: a cell with K or more crimes from fewer than K different
    # victims is not drawn, while one with K victims is. Two cells of the quarter are made so.
    with duckdb.connect(str(fixture_db_copy)) as db:
        cells = db.execute(
            "select cell_id from reporting.rpt_hotspot_cells where quarter = ? "
            "order by crimes desc, cell_id limit 2",
            [QUARTER],
        ).fetchall()
        assert len(cells) == 2
        for (cell_id,), victims in zip(cells, (K - 1, K), strict=True):
            # The mart too: the publish guard checks the page against it.
            for table in ("reporting.rpt_hotspot_cells", "marts.hotspots"):
                db.execute(
                    f"update {table} set crimes = ?, victims = ? where quarter = ? and cell_id = ?",
                    [K + 2, victims, QUARTER, cell_id],
                )
        crowded = _count(
            db,
            "select count(*) from reporting.rpt_hotspot_cells "
            "where quarter = ? and crimes >= ? and victims < ?",
            [QUARTER, K, K],
        )
        publishable = _count(
            db,
            "select count(*) from reporting.rpt_hotspot_cells where quarter = ? and victims >= ?",
            [QUARTER, K],
        )
        result = publish_profile(db, QUARTER, tmp_path / QUARTER)
    assert crowded >= 1
    assert len(_drawn_cells(result.path.read_text(encoding="utf-8"))) == publishable


def test_settings_appendix_lists_only_changed_values(doc) -> None:
    from pipelines.settings import changed_settings_rows

    settings = load_settings()
    # The shipped defaults: nothing to list (the cron schedule and memory limit stay out).
    assert changed_settings_rows(settings) == []
    assert "Settings of this edition that differ" not in " ".join(doc.tables)
    changed = settings.model_copy(
        update={"disclosure": settings.disclosure.model_copy(update={"min_count": 10})}
    )
    assert changed_settings_rows(changed) == [
        ("disclosure", "min count", "10", str(settings.disclosure.min_count))
    ]


def test_key_findings_are_sentences_with_direction(html) -> None:
    findings = re.search(r'<ul class="findings">(.*?)</ul>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", findings, re.S)
    assert len(items) >= 5
    assert any(
        re.search(r"(rose|fell|was stable) \d*%? ?on the same quarter last year", i) for i in items
    )


def _write_pack(con: duckdb.DuckDBPyConnection, tmp_path: Path):
    """The pack of the fixture's quarter, as the settings file sets it."""
    from pipelines.publish.tasking import write_tasking_pack

    settings = load_settings()
    return write_tasking_pack(
        con,
        QUARTER,
        tmp_path / QUARTER,
        "Test force",
        subject_profiles_top_n=settings.tasking.subject_profiles_top_n,
        lookback_years=settings.perpetrators.serial_lookback_years,
    )


def test_tasking_pack_is_restricted_and_complete(
    fixture_db_copy: Path, tmp_path: Path, html
) -> None:
    from pipelines.publish.tasking import MARKING

    with duckdb.connect(str(fixture_db_copy)) as con:
        pack = _write_pack(con, tmp_path)
        expected = con.execute(
            "select person_key from marts.perpetrators where quarter = ? "
            "and is_on_tasking_list order by rank",
            [QUARTER],
        ).fetchall()
        above_cutoff = con.execute(
            "select count(*) from marts.perpetrators where quarter = ? and is_high_harm",
            [QUARTER],
        ).fetchone()[0]
    assert pack.above_cutoff == above_cutoff
    assert pack.csv.parent.name == "restricted"
    for path in (pack.csv, pack.html, pack.xlsx):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(pack.csv.parent.stat().st_mode) == 0o700
    lines = pack.csv.read_text().splitlines()
    assert lines[0].startswith(f"# {MARKING}")
    header = lines[1].split(",")
    for column in ("rank", "person_key", "best_name", "date_of_birth", "rfgv_score",
                   "recency_score", "breaches_12m", "has_active_order", "why_on_list"):  # fmt: skip
        assert column in header
    keys = [line.split(",")[header.index("person_key")] for line in lines[2:]]
    assert keys == [k for (k,) in expected]
    pack_html = pack.html.read_text()
    assert pack_html.count(MARKING) >= 3
    assert "Score band" in pack_html and ">Risk<" not in pack_html
    # The workbook: one row per listed subject, frozen header, filters, marked header/footer.
    import openpyxl

    sheet = openpyxl.load_workbook(pack.xlsx)["Tasking list"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == sheet.dimensions
    assert sheet.oddHeader.center.text == MARKING and sheet.oddFooter.center.text == MARKING
    titles = [c.value for c in sheet[1]]
    assert {"Owner", "Review date", "Suggested action", "Rank movement", "Area"} <= set(titles)
    key_column = titles.index("Person key")
    assert [r[key_column] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        k for (k,) in expected
    ]
    # Nothing of the restricted list reaches the published profile.
    assert not any(f">{k}<" in html or f'"{k}"' in html for k in keys)


def test_tasking_pack_for_a_quarter_with_nobody_over_the_cut_off(
    fixture_db_copy: Path, tmp_path: Path
) -> None:
    from pipelines.publish.tasking import MARKING

    with duckdb.connect(str(fixture_db_copy)) as con:
        # The pack renders the reporting layer's rows: none for this quarter.
        con.execute("delete from reporting.rpt_tasking_list where quarter = ?", [QUARTER])
        pack = _write_pack(con, tmp_path)
    lines = pack.csv.read_text().splitlines()
    assert lines[0].startswith(f"# {MARKING}")
    assert len(lines) == 2, "header only: nobody is on the list"
    assert MARKING in pack.html.read_text()


def test_forecast_accuracy_shows_the_measured_backtest(doc, con) -> None:
    """Every back-test of the published method (the chosen model per dataset and horizon),
    in the table's order, with its MASE and interval coverage."""
    caption = next(c for c in doc.tables if c.startswith("Forecast back-test, the published"))
    header, *body = doc.tables[caption]
    chosen = con.execute(
        "select mase, coverage80 from marts.forecast_accuracy where is_chosen "
        "and source like 'backtest:%' order by source, horizon"
    ).fetchall()
    assert chosen and len(body) == len(chosen)
    mase, cover = header.index("MASE"), header.index("80% range held the actual")
    assert [cells[mase] for cells in body] == [f"{m:.2f}" for m, _ in chosen]
    assert [cells[cover] for cells in body] == [percent_text(c) for _, c in chosen]


def test_hotspot_share_is_of_the_cells_predicted_a_quarter_earlier(html, con) -> None:
    """The located crimes of the quarter in the cells flagged at the end of the quarter before
    it (the prediction made for this quarter), recomputed from marts.hotspots: never the cells
    flagged at this quarter's end, which are chosen from these same crimes."""
    from pipelines.disclosure.suppression import protect_rate

    def in_cells_flagged_at(flagged_at: str) -> int:
        return _count(
            con,
            "select coalesce(sum(now.crimes), 0) from marts.hotspots as now"
            " join marts.hotspots as flagged on flagged.cell_id = now.cell_id"
            " where now.quarter = ? and flagged.quarter = ? and flagged.is_hotspot",
            [QUARTER, flagged_at],
        )

    located = _count(
        con, "select coalesce(sum(crimes), 0) from marts.hotspots where quarter = ?", [QUARTER]
    )
    share = protect_rate(in_cells_flagged_at(shift_quarter(QUARTER, -1)), located, K)
    kpi = re.search(
        r'<div class="value">([^<]*)</div><div class="label">'
        r"Located crimes in the cells predicted a quarter earlier</div>",
        html,
    )
    assert kpi is not None and kpi.group(1) == str(share)
    finding = re.search(r"the cells predicted a quarter earlier held ([^ ]+) of this", html)
    if share.value is None:
        assert finding is None  # the sentence falls back to its variant without the share
    else:
        assert finding is not None and finding.group(1) == str(share)


def test_the_map_colours_prediction_and_significance_apart(con) -> None:
    """A cell's map layer follows the mart's two flags, the predicted hotspot first: a predicted
    cell that is no significant cluster is still drawn as predicted (it was once drawn among
    "other cells"), and a cluster's change class never calls it a hotspot."""
    rows = con.execute(
        "select cells.map_layer, cells.change_label, mart.is_hotspot, mart.is_significant"
        " from reporting.rpt_hotspot_cells as cells join marts.hotspots as mart"
        " using (quarter, cell_id)"
    ).fetchall()
    assert rows
    layers = {
        (True, True): "Predicted hotspot and significant cluster",
        (True, False): "Predicted hotspot",
        (False, True): "Significant cluster, not predicted",
        (False, False): "Other cells",
    }
    for layer, change_label, hot, significant in rows:
        assert layer == layers[(bool(hot), bool(significant))]
        assert "hotspot" not in change_label.lower()
    assert any(hot and not significant for _, _, hot, significant in rows)


def test_no_headline_figure_is_fixed_by_design(html: str, con) -> None:
    """The predicted hotspot cells' count printed '+0% on the previous quarter, +0% a year ago'
    every quarter: every method flags the same share of the cells analysed, so its change says
    nothing. The locations headline is how much crime the predicted cells caught."""
    shares = con.execute(
        "select distinct hot_cells from reporting.rpt_hotspots_by_quarter where hot_cells > 0"
    ).fetchall()
    assert len(shares) == 1  # every quarter flags the same number of cells: fixed by design
    labels = re.findall(r'<div class="label">([^<]*)</div>', html)
    assert "Predicted hotspot cells" not in labels
    assert "Located crimes in the cells predicted a quarter earlier" in labels
