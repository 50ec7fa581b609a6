"""The FMS files, the monthly performance table and the dip sample, read from the real outputs
of the session's pipeline run on the tiny force: the workbook's figures are the profile's
figures, the parts add up, the workload and hidden-demand sheets are live formulas on the
assumption cells, and the published files keep small counts hidden."""

from __future__ import annotations

import csv
import hashlib
import html
import re
import stat
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipelines.dip_sample_returns import read_returned_samples
from pipelines.disclosure import SUPPRESSED
from pipelines.disclosure.suppression import percent_text
from pipelines.publish.fms import csv_table
from pipelines.publish.sheets import written_columns
from pipelines.settings import load_settings
from tests.report.html_tables import parse

SETTINGS = load_settings()
# fms/demand.csv's columns as they have always been (spec/outputs.md: columns only grow)
CSV_COLUMNS = [
    "series", "financial_year", "status", "months_recorded", "months_covered",
    "actual_to_date", "value", "lo80", "hi80", "lo95", "hi95", "model", "break_applied",
    "cv_mase",
]  # fmt: skip
K = SETTINGS.disclosure.min_count
FY_TABLE = "Stalking demand by financial year (April to March), with the 80% range"
NAIVE_HEADING = "Naive forecast a year (the last 12 months repeated)"
NAIVE_COLUMN = "Naive forecast (the last 12 months repeated)"


@pytest.fixture(scope="module")
def quarter_dir(tiny_profile) -> Path:
    return tiny_profile.quarter_dir


@pytest.fixture(scope="module")
def book(quarter_dir: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(quarter_dir / "fms" / "demand.xlsx")


@pytest.fixture(scope="module")
def con(tiny_profile):
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as connection:
        yield connection


def _records(sheet) -> list[dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if any(row)]


def _figure(text: str) -> int | str:
    return text if text == SUPPRESSED else int(text.replace(",", ""))


def test_every_workbook_figure_is_the_profiles_figure(quarter_dir: Path, book) -> None:
    doc = parse((quarter_dir / "profile.html").read_text(encoding="utf-8"))
    header, *body = doc.tables[FY_TABLE]
    projection = _records(book["Projection"])
    assert body and projection
    compared = 0
    for cells in body:
        series = cells[0]
        for heading, cell in zip(header[2:-1], cells[2:-1], strict=True):
            year = heading.split()[0]
            rows = [r for r in projection if r["Series"] == series and r["Financial year"] == year]
            assert len(rows) == 1, (series, year)
            row = rows[0]
            match = re.fullmatch(r"(\S+)(?: \((\S+)–(\S+)\))?", cell)
            assert match, cell
            assert _figure(match.group(1)) == row["Expected (central figure)"], (series, year)
            if match.group(2):
                assert _figure(match.group(2)) == row["80% range: low"], (series, year)
                assert _figure(match.group(3)) == row["80% range: high"], (series, year)
            else:
                assert "baseline" in str(row["Status"])
            compared += 1
    # every series, the baseline, the current year and four years ahead
    assert compared >= 5 * 6
    history = _records(book["History"])
    base_col = next(h for h in history[0] if h and "baseline" in str(h))
    for cells in body:
        row = next(r for r in history if r["Series"] == cells[0])
        assert _figure(cells[2]) == row[base_col]


def test_the_year_headings_name_the_workbooks_baseline_and_expected_years(
    quarter_dir: Path, book
) -> None:
    """The table's year headings: the workbook's baseline year as recorded, each projection
    year the workbook lists as expected with its range, in year order."""
    doc = parse((quarter_dir / "profile.html").read_text(encoding="utf-8"))
    header = doc.tables[FY_TABLE][0]
    projection = _records(book["Projection"])
    baseline = {r["Financial year"] for r in projection if "baseline" in str(r["Status"])}
    ahead = {r["Financial year"] for r in projection if "baseline" not in str(r["Status"])}
    assert len(baseline) == 1 and ahead
    expected = [f"{year} recorded (baseline)" for year in baseline]
    expected += [f"{year} expected (80% range)" for year in sorted(ahead)]
    assert header[:2] == ["Series", "Model"] and header[2:-1] == expected
    assert header[-1] == NAIVE_HEADING


def test_the_naive_forecast_is_the_last_recorded_year_repeated(quarter_dir: Path, book, con):
    """Beside the forecast, the naive one its tests score it against: every projection year
    of a series is its last 12 complete recorded months (counted here from marts.demand_series), the
    current year its recorded months plus the same calendar months a year before; the profile
    prints the workbook's figure, and a split's parts add up to the total."""
    last_year = dict(
        con.execute(
            "select series, sum(value) from ("
            " select series, value, row_number() over ("
            "   partition by series order by period_start desc) as back"
            " from marts.demand_series where period = 'month' and is_complete)"
            " where back <= 12 group by series"
        ).fetchall()
    )
    labels = dict(
        con.execute(
            "select distinct series_label, series from reporting.rpt_fms_financial_years"
        ).fetchall()
    )
    projection = _records(book["Projection"])
    checked = 0
    for row in projection:
        naive = row[NAIVE_COLUMN]
        if "baseline" in str(row["Status"]):
            assert naive is None, row
            continue
        expected = last_year[labels[row["Series"]]]
        if 0 < expected < K:
            assert naive == SUPPRESSED, row
        elif naive == SUPPRESSED:  # only as the partner of a hidden part of a split
            assert row["Series"] not in (
                "All stalking-universe crimes",
                "Breaches of protective orders",
            )
        else:
            assert naive == round(expected), row
        checked += 1
    assert checked >= 5 * 6
    doc = parse((quarter_dir / "profile.html").read_text(encoding="utf-8"))
    header, *body = doc.tables[FY_TABLE]
    printed = {cells[0]: _figure(cells[-1]) for cells in body}
    first_year = {r["Series"]: r[NAIVE_COLUMN] for r in projection if r["Years ahead"] == 1}
    assert printed == first_year
    for parts in (("Domestic abuse", "Not domestic abuse"), ("Online", "Not online")):
        values = [printed[p] for p in parts]
        if SUPPRESSED not in values:
            assert sum(values) == printed["All stalking-universe crimes"], parts
    # the key findings' forecast headline names the same naive figure (when it publishes)
    total = printed["All stalking-universe crimes"]
    text = html.unescape(re.sub(r"<[^>]+>", " ", (quarter_dir / "profile.html").read_text()))
    headline = re.search(r"Demand \(all stalking-universe crimes\) is forecast[^.]*\.[^.]*\.", text)
    assert headline, "no forecast headline in the key findings"
    said = re.search(r"the naive forecast\) would give ([\d,]+)", headline.group(0))
    assert (said is None) if total == SUPPRESSED else (_figure(said.group(1)) == total), headline


def test_parts_add_up_to_all_crimes(book, con) -> None:
    """Exactly in the reporting rows (every month, recorded or forecast) and to within the
    rounding of whole crimes in the workbook."""
    worst = con.execute(
        "select max(abs(parts - total)) from ("
        " select m.period_start, m.series_family, sum(m.value) as parts,"
        " any_value(t.value) as total"
        " from reporting.rpt_fms_monthly m join reporting.rpt_fms_monthly t"
        "   on t.series = 'all_stalking' and t.period_start = m.period_start"
        " where m.series_family in ('domestic_abuse', 'online')"
        " group by m.period_start, m.series_family having count(*) = 2)"
    ).fetchone()[0]
    assert worst is not None and worst < 1e-6
    projection = _records(book["Projection"])
    value = "Expected (central figure)"
    by = {(r["Series"], r["Financial year"]): r[value] for r in projection}
    for (series, year), total in by.items():
        if series != "All stalking-universe crimes" or total == SUPPRESSED:
            continue
        for parts in (("Domestic abuse", "Not domestic abuse"), ("Online", "Not online")):
            values = [by.get((p, year)) for p in parts]
            assert None not in values, (parts, year)
            if SUPPRESSED in values:
                continue
            assert abs(sum(values) - total) <= 1, (parts, year, values, total)


def test_one_model_per_series_everywhere(book, con) -> None:
    """The workbook and the profile print the monthly model of each series (the one the
    figures come from), whatever the quarterly models chose."""
    projection = _records(book["Projection"])
    chosen = dict(
        con.execute(
            "select series_label, any_value(model_label) from reporting.rpt_fms_financial_years "
            "group by series_label having count(distinct model_label) = 1"
        ).fetchall()
    )
    monthly = dict(
        con.execute(
            "select series, any_value(model) from marts.demand_forecast "
            "where period = 'month' and kind = 'forecast' group by series"
        ).fetchall()
    )
    assert set(monthly) >= {"all_stalking", "domestic_abuse", "non_domestic_abuse"}
    labels = dict(
        con.execute("select model, model_label from reporting.rpt_fms_model_labels").fetchall()
    )
    assert {labels[model] for model in monthly.values()} <= set(chosen.values())
    for row in projection:
        assert row["Forecast model"] == chosen[row["Series"]]


def test_the_ensemble_label_names_the_configured_members(con, fixture_db_copy: Path) -> None:
    from tests.analytics.force_fixture import run_dbt
    from tests.report.conftest import QUARTER

    def labels(connection) -> dict[str, str]:
        sql = "select model, model_label from reporting.rpt_fms_model_labels"
        return dict(connection.execute(sql).fetchall())

    assert SETTINGS.forecasting.ensemble_members == ["arima", "pooled_drift"]
    assert labels(con)["ensemble"] == (
        "average of ARIMA and the growth shared by the force's series"
    )
    assert labels(con)["theta"] == "Theta"
    members = {"forecasting": {"ensemble_members": ["theta", "arima", "ets"]}}
    select = ["run", "--select", "rpt_fms_model_labels"]
    result = run_dbt(fixture_db_copy, QUARTER, select, overrides=members)
    assert result.returncode == 0, result.stdout[-2000:]
    with duckdb.connect(str(fixture_db_copy), read_only=True) as connection:
        assert labels(connection)["ensemble"] == (
            "average of Theta, ARIMA and exponential smoothing (ETS)"
        )


def test_financial_year_ranges_come_from_the_error_pool_at_their_horizon(con) -> None:
    """Each forecast year's range is its total x the pooled bounds of a total that many
    months ahead (never below what is recorded), not the compounding sum of monthly ranges."""
    years = con.execute(
        "select y.series, y.years_ahead, y.months_ahead, y.recorded, y.value, y.lo80, y.hi80,"
        " y.lo95, y.hi95, p80.lower_log_ratio as l80, p80.upper_log_ratio as u80,"
        " p95.upper_log_ratio as u95"
        " from reporting.rpt_fms_financial_years y"
        " join marts.forecast_error_pool p80 on p80.months_ahead = y.months_ahead"
        "  and p80.level = 80 and p80.kind = 'rolling_year'"
        " join marts.forecast_error_pool p95 on p95.months_ahead = y.months_ahead"
        "  and p95.level = 95 and p95.kind = 'rolling_year'"
        " where y.years_ahead is not null order by y.series, y.years_ahead"
    ).df()
    assert len(years) and years["years_ahead"].max() == 4
    expected_hi = np.maximum(years["value"], (years["value"] + 1) * np.exp(years["u80"]) - 1)
    expected_lo = np.maximum(years["recorded"], (years["value"] + 1) * np.exp(years["l80"]) - 1)
    assert np.allclose(years["hi80"], expected_hi) and np.allclose(years["lo80"], expected_lo)
    assert (years["lo95"] <= years["lo80"]).all() and (years["hi95"] >= years["hi80"]).all()
    assert (years["lo80"] >= years["recorded"]).all()
    # The relative range widens with the years ahead, and by the pool's ratio, not by a sum
    # over 12-48 months of monthly ranges.
    for _, part in years.groupby("series"):
        ratio = (part["hi80"] + 1) / (part["value"] + 1)
        assert (np.diff(ratio.to_numpy()) >= -1e-9).all()
        assert np.allclose(ratio, np.exp(part["u80"]))


def _evaluate(book, sheet: str, ref: str) -> float:
    """A small evaluator for the workbook's own formulas: cell references (on any sheet),
    N(), + - * / and parentheses; enough to recompute the workload and scenario sheets."""
    value = book[sheet][ref].value
    if not (isinstance(value, str) and value.startswith("=")):
        return value if isinstance(value, int | float) else 0.0
    expression = value[1:]

    def cell(match: re.Match) -> str:
        target_sheet = match.group(1) or sheet
        return repr(float(_evaluate(book, target_sheet, match.group(2).replace("$", ""))))

    expression = re.sub(r"(?:(\w+)!)?(\$?[A-Z]{1,2}\$?\d+)", cell, expression)
    expression = expression.replace("N(", "(")
    assert re.fullmatch(r"[-+*/(). 0-9e]+", expression), expression
    return float(eval(expression))  # noqa: S307 - digits and operators only, checked above


def test_workload_and_hidden_demand_are_live_formulas_on_the_assumptions(book) -> None:
    assumptions = {r["Assumption"]: i + 2 for i, r in enumerate(_records(book["Assumptions"]))}
    hours = assumptions["Hours per stalking investigation"]
    fte = assumptions["Productive hours per full-time post per year"]
    workload = book["Workload"]
    projection = _records(book["Projection"])
    rows = list(range(2, workload.max_row + 1))
    assert len(rows) >= 6  # baseline, current year, four years ahead
    for row in rows:
        year = workload[f"A{row}"].value
        crimes_ref = workload[f"C{row}"].value
        assert re.fullmatch(r"=Projection!G\d+", crimes_ref)
        target = int(crimes_ref.split("G")[1]) - 2
        assert projection[target]["Series"] == "All stalking-universe crimes"
        assert projection[target]["Financial year"] == year
        assert f"Assumptions!$B${hours}" in workload[f"E{row}"].value
        assert f"Assumptions!$B${fte}" in workload[f"L{row}"].value
        crimes = projection[target]["Expected (central figure)"]
        crimes = 0 if crimes == SUPPRESSED else crimes
        expected_hours = crimes * book["Assumptions"][f"B{hours}"].value
        assert _evaluate(book, "Workload", f"E{row}") == pytest.approx(expected_hours)
        total = sum(_evaluate(book, "Workload", f"{c}{row}") for c in "EGIJ")
        assert _evaluate(book, "Workload", f"K{row}") == pytest.approx(total)
    # Changing an assumption changes the result (the formulas read the cell, not a copy).
    book["Assumptions"][f"B{hours}"].value = 1000
    assert _evaluate(book, "Workload", "E2") == pytest.approx(
        _evaluate(book, "Workload", "C2") * 1000
    )
    hidden = book["Hidden demand"]
    share = assumptions["Share of screened-in crimes that are stalking"]
    screened = assumptions["Screened-in crimes as a share of all stalking crimes"]
    for row in range(2, hidden.max_row + 1):
        assert f"Assumptions!$B${share}" in hidden[f"E{row}"].value
        assert f"Assumptions!$B${screened}" in hidden[f"D{row}"].value
        universe = _evaluate(book, "Hidden demand", f"C{row}")
        recorded = _evaluate(book, "Hidden demand", f"D{row}")
        scenario = _evaluate(book, "Hidden demand", f"E{row}")
        assert recorded <= scenario + 1e-9 <= universe + 2e-9


def test_workbook_is_readable_for_an_fms_author(book, con) -> None:
    assert book.sheetnames[0] == "README"
    readme = "\n".join(str(c.value) for c in book["README"]["A"] if c.value)
    for pointer in ("docs/", ".md", ".json", "marts.", "reporting.", "rpt_", "_"):
        assert pointer not in readme, pointer
    # judged on the tests of the ranges the workbook prints; other tests' shortfalls are said
    poor, other_poor = con.execute(
        "select bool_or(is_poor) filter (where tests_fms_figures), "
        "bool_or(is_poor) filter (where not tests_fms_figures) "
        "from reporting.rpt_fms_backtest where is_held_out"
    ).fetchone()
    assert ("Warning: the forecast did poorly" in readme) == bool(poor)
    assert any(line.startswith("Other tests on forces") for line in readme.splitlines()) == bool(
        other_poor
    )
    baseline = con.execute(
        "select financial_year from reporting.rpt_fms_financial_years "
        "where is_baseline and series = 'all_stalking'"
    ).fetchone()[0]
    assert f"({baseline})" in readme
    for name in book.sheetnames[1:]:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), name
        assert all("_" not in str(c.value) for c in sheet[1] if c.value), name
    coverage = [r["Tested: how often the 80% range held"] for r in _records(book["Projection"])]
    assert any(isinstance(v, float) and 0 <= v <= 1 for v in coverage)


def test_demand_csv_keeps_its_columns_and_figures(quarter_dir: Path, book) -> None:
    with (quarter_dir / "fms" / "demand.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    assert header[: len(CSV_COLUMNS)] == CSV_COLUMNS
    assert any(h.startswith("backtest_") for h in header)
    projection = {(r["Series"], r["Financial year"]): r for r in _records(book["Projection"])}
    statuses = {r["status"] for r in rows}
    assert {"current year (recorded to date + forecast)", "forecast", "recorded"} <= statuses
    for row in rows:
        key = (row["series_label"], row["financial_year"])
        if key in projection:
            assert str(projection[key]["Expected (central figure)"]) == row["value"]
        if row["value"] != SUPPRESSED:
            assert not 0 < int(row["value"]) < K


def test_demand_csv_says_why_a_series_has_no_forecast() -> None:
    """A delivery too short to forecast any series (one quarter of history) used to give a
    header-only demand.csv: each series not forecast is a row whose status says why."""
    year_columns = [
        c.value
        for sheet in ("demand.csv", "demand.csv added")
        for c in written_columns("rpt_fms_financial_years", sheet)
    ]
    years = pd.DataFrame(columns=year_columns)
    accuracy = pd.DataFrame({"column_name": ["backtest_x_mase_1y"], "value": [0.9]})
    not_forecast = pd.DataFrame(
        {
            "series": ["all_stalking", "online"],
            "series_label": ["All stalking-universe crimes", "Online"],
            "reason": "not enough history",
            "status": "not forecast: not enough history",
        }
    )
    table = csv_table(years, accuracy, not_forecast)
    assert list(table.columns[: len(CSV_COLUMNS)]) == CSV_COLUMNS
    assert list(table["series"]) == ["all_stalking", "online"]
    assert set(table["status"]) == {"not forecast: not enough history"}
    assert table["value"].isna().all() and table["backtest_x_mase_1y"].isna().all()
    # a delivery with every series forecast prints only its years
    assert csv_table(years, accuracy, not_forecast.iloc[0:0]).empty


def test_demand_csv_carries_the_one_year_ahead_backtest_of_each_dataset(
    quarter_dir: Path, con
) -> None:
    with (quarter_dir / "fms" / "demand.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    backtest = con.execute(
        "select dataset, mase, coverage80 from reporting.rpt_fms_backtest where horizon_years = 1"
    ).fetchall()
    assert backtest
    expected = {}
    for dataset, mase, coverage80 in backtest:
        name = dataset.replace(":", "_")
        expected[f"backtest_{name}_mase_1y"] = round(mase, 3)
        expected[f"backtest_{name}_coverage80"] = round(coverage80, 3)
    printed = [
        h for h in rows[0] if h.startswith("backtest_") and h.endswith(("_mase_1y", "_coverage80"))
    ]
    assert sorted(printed) == sorted(expected)
    for row in rows:
        assert {h: float(row[h]) for h in printed} == expected


def test_performance_monthly_is_one_disclosure_controlled_page(quarter_dir: Path, con) -> None:
    with (quarter_dir / "performance_monthly.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    months = sorted({r["month"] for r in rows})
    assert len(months) == SETTINGS.performance.months
    measures = {r["measure"] for r in rows}
    assert {"stalking_crimes", "support_referral_made", "spo_considered", "repeat_incident"} <= (
        measures
    )
    for row in rows:
        for side in ("all", "da", "non_da"):
            value = row[side]
            if row["kind"] == "count" and value not in (SUPPRESSED, ""):
                assert not 0 < int(value) < K
            if row["kind"] == "rate" and value not in (SUPPRESSED, ""):
                assert 0 <= float(value) <= 1
        if row["kind"] == "count" and SUPPRESSED not in (row["da"], row["non_da"], row["all"]):
            assert int(row["da"]) + int(row["non_da"]) == int(row["all"])
        # one side hidden, the other shown: the total would give it away, so it is hidden
        if row["kind"] == "count" and (row["da"] == SUPPRESSED) != (row["non_da"] == SUPPRESSED):
            assert row["all"] == SUPPRESSED
    crimes = dict(
        con.execute(
            "select month, numerator from reporting.rpt_performance_monthly "
            "where measure = 'stalking_crimes'"
        ).fetchall()
    )
    for row in rows:
        if row["measure"] == "stalking_crimes" and row["all"] != SUPPRESSED:
            assert int(row["all"]) == crimes[row["month"]]
    page = (quarter_dir / "performance_monthly.html").read_text(encoding="utf-8")
    assert page.count("<table") == 3 and "OFFICIAL" in page


def test_dip_sample_is_restricted_seeded_and_stratified(quarter_dir: Path, con) -> None:
    folder = quarter_dir / "restricted"
    paths = [folder / "dip_sample.csv", folder / "dip_sample.xlsx"]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    lines = paths[0].read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# OFFICIAL-SENSITIVE")
    rows = list(csv.DictReader(lines[1:]))
    assert rows and all(r["verdict_is_stalking"] == "" for r in rows)
    # The draw, recomputed independently: per stratum the first n crimes in md5(seed:id) order.
    crimes = con.execute(
        "select crime_id, identified_by, is_domestic_abuse from marts.stalking_crimes "
        "where quarter = ?",
        [quarter_dir.name],
    ).fetchall()
    seed = SETTINGS.dip_sample.seed
    strata: dict[tuple, list[str]] = {}
    for crime, route, da in crimes:
        strata.setdefault((route, da), []).append(crime)
    sampled: dict[tuple, list[str]] = {}
    for r in rows:
        key = (r["identified_by"], r["is_domestic_abuse"] == "yes")
        sampled.setdefault(key, []).append(r["crime_id"])
        assert int(r["stratum_crimes"]) == len(strata[key])
    for key, members in strata.items():
        n = len(sampled.get(key, []))
        assert n >= min(len(members), SETTINGS.dip_sample.min_per_stratum), key
        order = sorted(members, key=lambda c: hashlib.md5(f"{seed}:{c}".encode()).hexdigest())
        assert sorted(sampled.get(key, [])) == sorted(order[:n]), key

    # Screened strata are over-sampled: a sampling fraction at least that of the others.
    def fraction(screened: bool) -> float:
        keys = [k for k in strata if (k[0] == "screened") == screened]
        total = sum(len(strata[k]) for k in keys)
        return sum(len(sampled.get(k, [])) for k in keys) / total if total else 1.0

    assert fraction(True) >= fraction(False) or fraction(True) == 1.0
    workbook = openpyxl.load_workbook(paths[1])
    assert "OFFICIAL-SENSITIVE" in str(workbook.active["A1"].value)


def test_returned_verdicts_are_read_back(quarter_dir: Path, tmp_path: Path) -> None:
    lines = (quarter_dir / "restricted" / "dip_sample.csv").read_text().splitlines()
    header = lines[1].split(",")
    column = header.index("verdict_is_stalking")
    filled = [lines[0], lines[1]]
    typed = ["Yes", " n ", "maybe", ""]
    for i, line in enumerate(lines[2:]):
        cells = next(csv.reader([line]))
        cells[column] = typed[i % len(typed)]
        filled.append(",".join(f'"{c}"' for c in cells))
    (tmp_path / "returned.csv").write_text("\n".join(filled) + "\n", encoding="utf-8")
    (tmp_path / "unrelated.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    returns = read_returned_samples(tmp_path)
    expected = [v for v in (typed * len(lines))[: len(lines) - 2] if v.strip()]
    assert len(returns) == len(expected)
    assert set(returns["verdict_is_stalking"]) <= {"yes", "no", "unsure"}
    assert (returns["verdict_is_stalking"] == "yes").sum() == sum(v == "Yes" for v in expected)


def _sample(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute("select crime_id from reporting.rpt_dip_sample").fetchall()
        return [r[0] for r in rows]


def test_returned_verdicts_reach_the_profile_and_the_seed_draws_the_sample(
    fixture_db_copy: Path,
) -> None:
    """Verdicts stored the way the assurance asset stores them come out of
    rpt_dip_sample_verdicts and the demand section per route; the same seed draws the same
    crimes, other seeds other crimes."""
    import pandas as pd

    from pipelines.disclosure import protect_rate
    from pipelines.quarters import Periods
    from pipelines.report import printed, sections
    from pipelines.settings import Settings
    from pipelines.warehouse_tables import replace_table
    from tests.analytics.force_fixture import run_dbt
    from tests.report.conftest import QUARTER

    with duckdb.connect(str(fixture_db_copy)) as connection:
        sample = connection.execute(
            "select sample_id, crime_id, identified_by from reporting.rpt_dip_sample"
        ).df()
        verdicts = ["yes" if i % 3 else "no" for i in range(len(sample))]
        returns = pd.DataFrame(
            {
                "sample_id": sample["sample_id"],
                "crime_id": sample["crime_id"],
                "verdict_is_stalking": verdicts,
                "verdict_correctly_recorded": "yes",
                "verdict_victims_code_met": None,
            }
        )
        replace_table(connection, "marts.dip_sample_returns", returns.astype(object))
    select = ["build", "--select", "rpt_dip_sample rpt_dip_sample_verdicts"]
    small = {"sample_size": 2, "min_per_stratum": 0}
    drawn = {}
    for seed in (11, 11, 12, 13):
        result = run_dbt(
            fixture_db_copy, QUARTER, select, overrides={"dip_sample": {**small, "seed": seed}}
        )
        assert result.returncode == 0, result.stdout[-2000:]
        draw = sorted(_sample(fixture_db_copy))
        assert drawn.setdefault(seed, draw) == draw, "the same seed drew other crimes"
    assert len({tuple(d) for d in drawn.values()}) > 1, "the seed does not move the draw"

    settings = Settings.model_validate({"disclosure": {"min_count": 1}})
    with duckdb.connect(str(fixture_db_copy), read_only=True) as connection:
        ctx = sections.Context(connection, Periods(QUARTER), settings)
        spec = next(
            spec
            for spec in printed.model_meta(sections.SECTIONS)["items"]["demand"]
            if spec.get("table") == "rpt_dip_sample_verdicts"
        )
        (item,) = sections._items(ctx, spec)
        routes = connection.execute(
            "select identified_by, route_label from reporting.rpt_dip_sample_verdicts "
            "order by route_order"
        ).fetchall()
    rows = item["table"]["rows"]
    assert [row[0] for row in rows] == [label for _, label in routes]
    for (_, audited, stalking, _, code), (route, _) in zip(rows, routes, strict=True):
        mine = returns[sample["identified_by"] == route]
        assert audited == f"{len(mine):,}"
        judged = int((mine["verdict_is_stalking"] == "yes").sum())
        assert stalking == str(protect_rate(judged, len(mine), 1))
        assert code == "–"  # nothing audited: no rate
    with duckdb.connect(str(fixture_db_copy)) as connection:
        connection.execute("delete from marts.dip_sample_returns")
    result = run_dbt(fixture_db_copy, QUARTER, select, overrides={"dip_sample": small})
    assert result.returncode == 0, result.stdout[-2000:]
    with duckdb.connect(str(fixture_db_copy), read_only=True) as connection:
        ctx = sections.Context(connection, Periods(QUARTER), settings)
        assert sections._items(ctx, spec) == [], "no verdict returned: the table is not printed"


def test_early_warning_and_backtest_sentences_follow_the_figures(book, con) -> None:
    """The README's sentences (reporting.rpt_fms_sentences) say what the tracking and back-test
    rows hold: each series outside its range is named, or every series is said to be inside;
    the warning appears exactly when the held-out back-test calls the forecast poor."""
    readme = [str(c.value) for c in book["README"]["A"] if c.value]
    warnings = [line for line in readme if line.startswith("Early warning:")]
    tracking = con.execute(
        "select series_label, quarter, direction, outside_interval from reporting.rpt_fms_tracking"
    ).fetchall()
    outside = [row for row in tracking if row[3]]
    if not tracking:
        assert warnings == ["Early warning: no series had a complete quarter to check this time."]
    elif outside:
        assert len(warnings) == len(outside)
        for label, quarter, direction, _ in outside:
            assert any(
                f"{label.lower()} in {quarter} came in {direction} the 80% range" in line
                for line in warnings
            )
    else:
        assert warnings == [
            f"Early warning: every series' total for {tracking[0][1]} fell inside the 80% "
            "range forecast a quarter earlier."
        ]
    coverage = con.execute(
        "select min_coverage80, any_poor from reporting.rpt_fms_backtest_horizons "
        "where horizon_years = 1"
    ).fetchone()
    assert coverage is not None, "the run has no one-year held-out back-test to state"
    tested = [line for line in readme if line.startswith("Tested on police forces")]
    assert tested and f"held the actual number {percent_text(coverage[0])}" in tested[0]
    # The warning is printed exactly when some horizon's held-out test fell short.
    (poor,) = con.execute(
        "select coalesce(bool_or(any_poor), false) from reporting.rpt_fms_backtest_horizons"
    ).fetchone()
    warned = [line for line in readme if line.startswith("Warning: the forecast did poorly")]
    assert len(warned) == int(poor), (poor, warned)


def test_early_warning_names_each_series_outside_its_range_and_no_other(
    fixture_db_copy: Path,
) -> None:
    """The tiny run has no quarter to track (its tracking table is empty, so the test above
    meets only the "nothing to check" sentence): here two of the run's series are given a
    tracked quarter, one above its 80% range and one inside it, and the sentences are rebuilt
    by the real models. Only the one outside is named, with its quarter and direction; with
    both inside, one sentence says every series fell inside."""
    import pandas as pd

    from pipelines.warehouse_tables import replace_table
    from tests.analytics.force_fixture import run_dbt
    from tests.report.conftest import QUARTER

    with duckdb.connect(str(fixture_db_copy)) as connection:
        (above, above_label), (inside, _) = connection.execute(
            "select distinct series, series_label from reporting.rpt_fms_monthly "
            "order by series limit 2"
        ).fetchall()
        tracked = pd.DataFrame(
            {
                "series": [above, inside],
                "quarter": [QUARTER, QUARTER],
                "actual": [90.0, 50.0],
                "expected": [50.0, 50.0],
                "lo80": [40.0, 40.0],
                "hi80": [60.0, 60.0],
                "outside_interval": [True, False],
                "direction": ["above", "within"],
                "model": ["ensemble", "ensemble"],
            }
        )

    def warnings_of(tracked: pd.DataFrame) -> list[str]:
        with duckdb.connect(str(fixture_db_copy)) as connection:
            replace_table(connection, "marts.forecast_tracking", tracked)
        select = ["run", "--select", "rpt_fms_tracking rpt_fms_sentences"]
        result = run_dbt(fixture_db_copy, QUARTER, select)
        assert result.returncode == 0, result.stdout[-2000:]
        with duckdb.connect(str(fixture_db_copy), read_only=True) as connection:
            return [
                sentence
                for (sentence,) in connection.execute(
                    "select sentence from reporting.rpt_fms_sentences "
                    "where sentence_kind = 'early_warning' order by sentence_order"
                ).fetchall()
            ]

    assert warnings_of(tracked) == [
        f"Early warning: {above_label.lower()} in {QUARTER} came in above the 80% range "
        "forecast a quarter earlier; check for a change in demand or in recording before "
        "relying on the forecast."
    ]
    inside_only = tracked.assign(actual=50.0, outside_interval=False, direction="within")
    assert warnings_of(inside_only) == [
        f"Early warning: every series' total for {QUARTER} fell inside the 80% range forecast "
        "a quarter earlier."
    ]


def _departure_facts(connection) -> tuple[str, float, dict[str, float]] | None:
    """From the published tables, not the sentence model: all stalking crimes' furthest full
    forecast financial year, its departure from the naive forecast and each ensemble member's
    (None when the run has no such year)."""
    row = connection.execute(
        "select financial_year, financial_year_start, value / naive_value - 1, model "
        "from reporting.rpt_fms_financial_years where series = 'all_stalking' "
        "and years_ahead is not null and months_forecast = 12 and naive_value > 0 "
        "order by financial_year_start desc limit 1"
    ).fetchone()
    if row is None:
        return None
    year, start, departure, model = row
    naive = connection.execute(
        "select naive_value from reporting.rpt_fms_financial_years "
        "where series = 'all_stalking' and financial_year_start = ?",
        [start],
    ).fetchone()[0]
    members = dict(
        connection.execute(
            "select model, sum(greatest(value, 0)) / ? - 1 from marts.demand_forecast "
            "where series = 'all_stalking' and period = 'month' and kind = 'member' "
            "and period_start >= make_date(?, 4, 1) and period_start < make_date(? + 1, 4, 1) "
            "group by model",
            [naive, start, start],
        ).fetchall()
    )
    return year, departure, members if model == "ensemble" else {}


def _expected_departure_sentence(year: str, departure: float, members: dict[str, float]) -> str:
    names = {"arima": "ARIMA", "pooled_drift": "the growth shared by the force's series"}

    def words(x: float) -> str:
        return f"{round(100 * abs(x))}% {'below' if x < 0 else 'above'}"

    if abs(departure) <= 0.05:
        return (
            f"Through {year} the forecast of all stalking-universe crimes stays within 5% of the "
            "last 12 months repeated (the naive forecast): it does not depart from recent demand."
        )
    order = SETTINGS.forecasting.ensemble_members
    said = " and ".join(
        f"{names[m]}{' is' if i == 0 else ''} {words(members[m])}" for i, m in enumerate(order)
    )
    leading = max(order, key=lambda m: members[m] * np.sign(departure))
    towards = sorted((members[m] * np.sign(departure) for m in order), reverse=True)
    led = len(towards) < 2 or towards[0] >= 2 * max(towards[1], 0)
    carried = f"comes mostly from {names[leading]}." if led else "comes from the models alike."
    return (
        f"By {year} the forecast of all stalking-universe crimes is {words(departure)} the last "
        f"12 months repeated (the naive forecast); of the {len(order)} models it averages, "
        f"{said}, so the {'fall' if departure < 0 else 'rise'} {carried}"
    )


def test_the_forecast_says_when_it_departs_from_recent_demand_and_why(
    quarter_dir: Path, book, con, fixture_db_copy: Path
) -> None:
    """One sentence, in the profile's forecast section and the README alike, says whether the
    furthest forecast year departs from the last 12 months repeated and, when it does, which of
    the ensemble's members carries it, with the figures the published tables hold. The tiny run
    is then given a falling ARIMA member (and the forecast its mean makes), and the real models
    say so."""
    from pipelines.warehouse_tables import replace_table
    from tests.analytics.force_fixture import run_dbt
    from tests.report.conftest import QUARTER

    facts = _departure_facts(con)
    assert facts is not None, "the tiny run has no full forecast year to compare"
    expected = _expected_departure_sentence(*facts)
    readme = [str(c.value) for c in book["README"]["A"] if c.value]
    assert readme.count(expected) == 1, (expected, readme)
    profile = html.unescape((quarter_dir / "profile.html").read_text(encoding="utf-8"))
    assert profile.count(expected) == 1

    with duckdb.connect(str(fixture_db_copy)) as connection:
        table = connection.execute("select * from marts.demand_forecast").df()
    total = (table["series"] == "all_stalking") & (table["period"] == "month")
    arima = total & (table["kind"] == "member") & (table["model"] == "arima")
    forecast = total & (table["kind"] == "forecast")
    assert arima.sum() == forecast.sum() > 0
    # ARIMA at half its forecast: the ensemble (their mean) falls by a quarter of ARIMA's figure.
    arima_by_month = table[arima].set_index("period_start")["value"]
    months = table.loc[forecast, "period_start"]
    table.loc[forecast, "value"] -= 0.25 * arima_by_month.reindex(months).to_numpy()
    table.loc[arima, "value"] *= 0.5
    with duckdb.connect(str(fixture_db_copy)) as connection:
        replace_table(connection, "marts.demand_forecast", table)
    result = run_dbt(fixture_db_copy, QUARTER, ["run", "--select", "rpt_fms_monthly+"])
    assert result.returncode == 0, result.stdout[-2000:]
    with duckdb.connect(str(fixture_db_copy), read_only=True) as connection:
        facts = _departure_facts(connection)
        (sentence,) = connection.execute(
            "select sentence from reporting.rpt_fms_method_sentences where sentence_order = 6"
        ).fetchone()
    assert facts is not None and facts[1] < -0.05 and facts[2]["arima"] < facts[1]
    assert sentence == _expected_departure_sentence(*facts)
    assert "the fall comes mostly from ARIMA" in sentence
