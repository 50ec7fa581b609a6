"""Unusual deliveries never crash: each shape of tests/shapes.py, made from the tiny force,
goes through `spp profile` (its own process and state) and must exit 0 with a profile that
says what it cannot show. The shapes run one after another in session fixtures; the CI shape
runs in the background (tests/conftest.py starts it once the first run is done), the others
with -m slow."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import (
    LATER_RUN_NICENESS,
    LATER_RUN_TIMEOUT,
    TINY_END_QUARTER,
    BackgroundRuns,
    ProfileRunOutputs,
    fork_profile,
)
from tests.shapes import SHAPES, make_shape


@dataclass(frozen=True)
class ShapeRun:
    code: int
    console: str  # the end of its stdout and stderr
    profile_text: str
    data_quality: dict  # the published data_quality.json ({} when none was written)
    demand_csv: str  # the published fms/demand.csv ("" when none was written)
    warehouse: Path  # the run's DuckDB file (read-only, after the run)
    quarter_dir: Path  # the run's outputs for its quarter
    extracts: Path  # the shape's delivery


def _text(path: Path) -> str:
    if not path.exists():
        return ""
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", " ", path.read_text(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


# The quarter a shape is profiled at, when not the tiny force's last complete one.
QUARTERS = {
    "quarter_without_crimes": "2025-Q3",
    "delivery_gap_quarter": "2025-Q1",  # the gap itself (tests/shapes.py GAP_QUARTER)
    "delivery_gap_previous_quarter": "2025-Q2",  # the quarter after it
    "first_quarter": "2021-Q1",  # the tiny force's first (its crimes start 2021-01-02)
}


def _run(shape: str, source: Path, root: Path, running: list | None = None) -> ShapeRun:
    """`spp profile` on the shape made from `source` (forked from the run server); the process
    is put in `running` so that a session stopping early can kill it."""
    extracts = make_shape(source, root / shape / "extracts", shape)
    run = ProfileRunOutputs(
        extracts,
        out=root / shape / "out",
        warehouse=root / shape / "warehouse.duckdb",
        quarter=QUARTERS.get(shape, TINY_END_QUARTER),
        state=root / shape / "state",
    )
    process = fork_profile(run, root / shape / "console.txt", LATER_RUN_NICENESS)
    if running is not None:
        running.append(process)
    code = process.wait(timeout=LATER_RUN_TIMEOUT)
    quality = run.quarter_dir / "data_quality.json"
    demand = run.quarter_dir / "fms" / "demand.csv"
    return ShapeRun(
        code,
        process.console_text()[-2000:],
        _text(run.quarter_dir / "profile.html"),
        json.loads(quality.read_text()) if quality.exists() else {},
        demand.read_text(encoding="utf-8") if demand.exists() else "",
        run.warehouse,
        run.quarter_dir,
        extracts,
    )


# The shapes run in every CI run: the crash of record, and the valid quirks of a force's export
# in one delivery (three crashes and a whole extract quarantined before they were fixed); the
# others are opt-in with -m slow (each shape is a whole `spp profile`, about 20 s of CPU on the
# tiny force, and the suite must stay short).
CI_SHAPES = ("empty_universe_no_location", "force_export_quirks")


def _run_all(
    shapes: list[str], source: Path, root: Path, running: list | None = None
) -> dict[str, ShapeRun]:
    # One at a time: a whole run keeps both cores of the CI machine busy (DuckDB, 2 dbt threads).
    return {s: _run(s, source, root, running) for s in shapes}


class ShapeRuns(BackgroundRuns[dict[str, ShapeRun]]):
    """The shapes' runs, one after another: tests/conftest.py starts them once the session's
    first run is done (the CI shape's run used to keep the suite waiting)."""

    def __init__(self, shapes: list[str], source: Path, root: Path) -> None:
        super().__init__()
        self.shapes, self.source, self.root = shapes, source, root

    def work(self) -> dict[str, ShapeRun]:
        return _run_all(self.shapes, self.source, self.root, self.running)


@pytest.fixture(scope="session")
def shape_runs(tiny_force: Path) -> dict[str, ShapeRun]:
    from tests.conftest import start_shape_runs

    return start_shape_runs(tiny_force).outputs()


@pytest.fixture(scope="session")
def slow_shape(
    tiny_force: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], ShapeRun]:
    """A slow shape's run, made the first time a test asks for it (one at a time): a session
    that selects a few shapes' tests runs only those shapes."""
    root = tmp_path_factory.mktemp("slow_shapes")
    runs: dict[str, ShapeRun] = {}

    def run(shape: str) -> ShapeRun:
        if shape not in runs:
            runs[shape] = _run(shape, tiny_force, root)
        return runs[shape]

    return run


# what each profile must say it cannot show (None: exit 0 and a profile are enough)
CANNOT_SHOW = {
    "empty_universe_no_location": "No crime in this delivery is in the stalking universe",
    "no_location": "hotspots cannot be shown",
    "no_stalking": None,
    "header_only_side_files": None,
    "every_person_a_victim": None,
    "one_offence_code": None,
    "one_day": "not enough history",
    "force_of_20_crimes": None,
    "gap_year": None,
    "quarter_without_crimes": None,
    "delivery_gap_quarter": "The assessment cannot judge 2025-Q1",
    "delivery_gap_previous_quarter": "Comparisons with 2025-Q1 (the previous quarter) are not made",
    "stray_old_crimes": None,
    "nominal_victim_and_suspect": None,
    "no_postcode_or_sex": None,
    "typed_parquet": None,
    "csv_quirks": None,
    "force_export_quirks": None,
    "required_columns_only": "hotspots cannot be shown",
    "values_in_other_spellings": None,
    "many_victims_one_crime": None,
    "ids_like_numbers": None,
    "online_crimes_located_intelligence": "none of its stalking crimes has a usable location",
    "locations_on_the_boundary": None,
    "same_timestamps": None,
    "ids_only": None,
    "every_suspect_unknown": None,
    "orders_only": "No crime in this delivery is in the stalking universe",
    "odd_order_dates": None,
    "last_quarter_one_week": None,
    "first_quarter": "2020-Q4 (before the delivery)",
    "odd_dates_of_birth": None,
    "ancient_crime_dates": None,
}


# Known failures outside this change's area, each strict: the test turns red when fixed.
KNOWN_FAILURES: dict[str, str] = {}


def _marks(shape: str) -> list[pytest.MarkDecorator]:
    marks = [] if shape in CI_SHAPES else [pytest.mark.slow]
    if shape in KNOWN_FAILURES:
        marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[shape], strict=True))
    return marks


@pytest.mark.parametrize("shape", [pytest.param(s, marks=_marks(s)) for s in sorted(SHAPES)])
def test_unusual_delivery_gives_a_profile(shape: str, request: pytest.FixtureRequest) -> None:
    if shape in CI_SHAPES:
        run = request.getfixturevalue("shape_runs")[shape]
    else:
        run = request.getfixturevalue("slow_shape")(shape)
    assert run.code == 0, f"{shape}: spp profile exited {run.code}: {run.console}"
    assert "Stalking" in run.profile_text, f"{shape}: no profile written"
    # every row read is loaded or quarantined, file by file
    extracts = run.data_quality["extracts"]
    assert run.data_quality["reconciles"] and len(extracts) == 5, shape
    for name, counts in extracts.items():
        assert counts["read"] == counts["loaded"] + counts["quarantined"] > 0 or (
            counts["read"] == 0 and name in ("intelligence", "orders", "breaches")
        ), (shape, name, counts)
    expected = CANNOT_SHOW[shape]
    if expected:
        assert expected in run.profile_text, f"{shape}: the profile does not say '{expected}'"
    # with no change judged real, the assessment must not call the problem stable beside
    # key findings that print a rise or fall (a quarter without crimes "fell 100%")
    if "No measure changed this quarter" in run.profile_text and re.search(
        r"\b(rose|fell) \d+%", run.profile_text
    ):
        assert "not judgments" in run.profile_text and "judged stable" not in run.profile_text
    # no located crime is no reason to call the locations dispersed (the key findings said so
    # beside "hotspots cannot be shown")
    if "hotspots cannot be shown" in run.profile_text:
        assert "dispersed across the force area" not in run.profile_text, shape
    # a delivery too short to forecast says why in the FMS file too (it was header-only)
    if expected == "not enough history":
        assert "not forecast: not enough history" in run.demand_csv, shape


def test_every_shape_has_an_expectation() -> None:
    assert set(CANNOT_SHOW) == set(SHAPES)


# ---------------------------------------------------------------- the demand history's coverage
def _rows(run: ShapeRun, sql: str, params: list | None = None) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _workbook_sheet(run: ShapeRun, sheet: str) -> list[tuple]:
    import openpyxl

    book = openpyxl.load_workbook(run.quarter_dir / "fms" / "demand.xlsx", read_only=True)
    return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]


def _month_words(first: dt.date, last: dt.date) -> str:
    return f"{first:%B %Y}" + (f" to {last:%B %Y}" if last != first else "")


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["stray_old_crimes", "ancient_crime_dates"])
def test_stray_old_crimes_stay_out_of_the_demand_history(slow_shape, tiny_profile, shape) -> None:
    """Five crimes of 1995-98 before the delivery: the demand series start with the delivery's
    first month, and everything the demand history makes is what the delivery alone gives
    (the 2026/27 forecast went 26 -> 32 when 26 years of zeros entered the history); the
    crimes stay in the universe; the data-quality section and the FMS README say how many
    were left out before which month. The same for three crimes dated 0001-01-01, 1753-01-01
    and 1900-01-01 (a system's default dates): the run used to never end, the profile's chart
    points joining each of the 8,100 quarters since year 1 with every other. Since the floor
    (`ingest.earliest_plausible_date`, 1900-01-01) the first two are quarantined
    `date_too_early` and the 1900 one stays."""
    from pipelines.settings import IngestSettings
    from tests.shapes import ANCIENT_DATES, STRAY_DATES

    delivered_stray = {"stray_old_crimes": STRAY_DATES, "ancient_crime_dates": ANCIENT_DATES}[shape]
    floor = IngestSettings().earliest_plausible_date.isoformat()
    stray = [day for day in delivered_stray if day >= floor]
    run = slow_shape(shape)
    too_early = run.data_quality["extracts"]["crimes"]["by_rule"].get("date_too_early", 0)
    assert too_early == len(delivered_stray) - len(stray)
    crimes = pd.read_csv(run.extracts / "crimes.csv", dtype=str, keep_default_na=False)
    delivered = crimes[~crimes["reported_date"].isin(delivered_stray)]["reported_date"]
    first = dt.date.fromisoformat(delivered.min()).replace(day=1)
    starts = dict(
        _rows(run, "select period, min(period_start) from marts.demand_series group by period")
    )
    quarter_start = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    assert starts == {"month": first, "quarter": quarter_start}
    # the stray crimes stay in the universe and its quarterly counts
    old = _rows(
        run,
        "select count(*) from marts.stalking_crimes where reported_date < ?",
        [first],
    )[0][0]
    assert old == len(stray)
    said = f"{len(stray)} crime{'s' if len(stray) != 1 else ''} reported before {first:%B %Y}"
    assert said in run.profile_text
    readme = [row[0] for row in _workbook_sheet(run, "README") if row and row[0]]
    assert any(said in line for line in readme), readme
    # the same demand history and forecast as the delivery without them
    demand = "select series, period, period_start, value from marts.demand_series order by all"
    forecast = (
        "select series, financial_year, round(value, 6), round(lo80, 6), round(hi80, 6) "
        "from reporting.rpt_fms_financial_years order by all"
    )
    plain = ShapeRun(0, "", "", {}, "", tiny_profile.warehouse, tiny_profile.quarter_dir, Path())
    assert _rows(run, demand) == _rows(plain, demand)
    assert _rows(run, forecast) == _rows(plain, forecast)


def _gap_months() -> tuple[dt.date, dt.date, int]:
    from tests.shapes import GAP_QUARTER

    first = dt.date.fromisoformat(GAP_QUARTER[0])
    last = dt.date.fromisoformat(GAP_QUARTER[1]).replace(day=1)
    return first, last, (last.year - first.year) * 12 + last.month - first.month + 1


@pytest.mark.slow
def test_a_delivery_gap_is_not_judged_as_a_fall(slow_shape) -> None:
    """A quarter with nothing at all recorded, profiled at that quarter: the assessment says
    it cannot judge it and why, and tests nothing in it (it used to be "almost certain that
    crimes really fell"); the data-quality section names the gap; the demand series hold no
    value for its months (not zero), and the forecast, whose data end in the gap, covers them
    instead of learning zeros."""
    run = slow_shape("delivery_gap_quarter")
    first, last, months = _gap_months()
    quarter = QUARTERS["delivery_gap_quarter"]
    assert (
        f"The assessment cannot judge {quarter}: the delivery holds no crime of any kind "
        f"reported in {_month_words(first, last)}, which is a gap in the delivery, not a fall"
    ) in run.profile_text
    assert "No measure changed this quarter" not in run.profile_text
    assert (
        _rows(run, "select count(*) from marts.assessment_tests where quarter = ?", [quarter])[0][0]
        == 0
    )
    assert (
        f"The delivery holds no crime of any kind reported in {_month_words(first, last)} "
        f"({months} months inside an otherwise continuous history)"
    ) in run.profile_text
    gap = _rows(
        run,
        "select period, period_start, value, is_delivery_gap from marts.demand_series "
        "where series = 'all_stalking' and period_start between ? and ? order by all",
        [first, last],
    )
    assert gap and all(value is None and is_gap for _, _, value, is_gap in gap), gap
    kinds = _rows(
        run,
        "select distinct kind from marts.demand_forecast where series = 'all_stalking' "
        "and period = 'month' and period_start between ? and ? and kind <> 'member'",
        [first, last],
    )
    assert kinds == [("forecast",)]


@pytest.mark.slow
def test_a_delivery_gap_inside_the_history_is_missing_not_zero(slow_shape) -> None:
    """The same delivery profiled a quarter after the gap: the assessment compares nothing
    with the gap quarter and says so, while still testing the year-ago comparison; the
    forecast's recorded months keep the gap as missing; the FMS History marks the year
    holding it."""
    run = slow_shape("delivery_gap_previous_quarter")
    first, last, months = _gap_months()
    quarter = QUARTERS["delivery_gap_previous_quarter"]
    gap_quarter = QUARTERS["delivery_gap_quarter"]
    assert (
        f"Comparisons with {gap_quarter} (the previous quarter) are not made: the delivery "
        f"holds no crime of any kind reported in {_month_words(first, last)}"
    ) in run.profile_text
    compared = dict(
        _rows(
            run,
            "select comparison, count(*) from marts.assessment_tests where quarter = ? "
            "group by comparison",
            [quarter],
        )
    )
    assert "previous quarter" not in compared and compared["same quarter last year"] > 0
    # the comparison tables' column for the gap quarter says so: its crime counts read 0
    assert f"{gap_quarter} (no crimes delivered)" in run.profile_text
    # the naive forecast repeats each calendar month's latest delivered count: a gap month
    # takes the year before's, not nothing
    latest = dict(
        _rows(
            run,
            "select month(period_start), arg_max(value, period_start) from "
            "reporting.rpt_fms_monthly where series = 'all_stalking' and kind = 'actual' "
            "and value is not null group by all",
        )
    )
    (naive,) = _rows(
        run,
        "select naive_value from reporting.rpt_fms_financial_years where series = "
        "'all_stalking' and years_ahead = 2",
    )[0]
    assert len(latest) == 12 and naive == pytest.approx(sum(latest.values()))
    # the gap quarter's own words, in the same warehouse
    (note,) = _rows(
        run, "select gap_note from reporting.rpt_assessment_scope where quarter = ?", [gap_quarter]
    )[0]
    assert note.startswith(f"The assessment cannot judge {gap_quarter}")
    recorded = _rows(
        run,
        "select period_start, value from marts.demand_forecast where series = 'all_stalking' "
        "and period = 'month' and kind = 'actual' and period_start between ? and ?",
        [first, last],
    )
    assert len(recorded) == months and all(value is None for _, value in recorded), recorded
    fy = first.year if first.month >= 4 else first.year - 1
    headings = _workbook_sheet(run, "History")[0]
    marked = [h for h in headings if h and h.startswith(f"{fy}/{str(fy + 1)[-2:]}")]
    assert marked and marked[0].endswith(f"({months} months not delivered)"), headings
    # the baseline year holds the gap: its orders were delivered, its crimes not, so the
    # applications per crime are measured over the quarters delivered in full
    (delivered, rate, universe) = _rows(
        run,
        "select quarters_delivered, stalking_order_applications_per_crime, universe_crimes "
        "from reporting.rpt_fms_baseline_rates where is_baseline",
    )[0]
    assert delivered == 4 - months // 3 and universe > 0
    year = [dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31), first, last]
    (applications,) = _rows(
        run,
        "select sum(o.applications) from marts.protective_orders as o inner join "
        "intermediate.int_quarters as q on o.quarter = q.quarter where o.is_stalking_order "
        "and q.q_start between ? and ? and not q.q_start between ? and ?",
        year,
    )[0]
    (crimes,) = _rows(
        run,
        "select sum(value) from reporting.rpt_fms_monthly where series = 'all_stalking' "
        "and kind = 'actual' and period_start between ? and ? "
        "and not period_start between ? and ?",
        year,
    )[0]
    assert rate == pytest.approx(applications / crimes)
    sheet = _workbook_sheet(run, "Assumptions")
    note = [row for row in sheet if "applications per crime" in str(row)]
    assert note and f"over the {delivered} quarters delivered in full" in str(note[0]), note


@pytest.mark.slow
def test_a_quarter_without_stalking_crimes_is_a_fall_not_a_gap(slow_shape) -> None:
    """Stalking crimes fall to none in a quarter in which the force recorded other crimes: a
    fall, tested on both comparisons and judged on its counts as any other, never a gap in the
    delivery (nothing says the quarter cannot be judged)."""
    run = slow_shape("quarter_without_crimes")
    assert "cannot judge" not in run.profile_text
    assert "no crime of any kind" not in run.profile_text
    assert "no crimes delivered" not in run.profile_text
    quarter = QUARTERS["quarter_without_crimes"]
    universe = _rows(
        run, "select count(*) from marts.stalking_crimes where quarter = ?", [quarter]
    )[0][0]
    delivered = _rows(
        run, "select count(*) from staging.stg_crimes where reported_quarter = ?", [quarter]
    )
    assert universe == 0 and delivered[0][0] > 0
    tested = _rows(
        run,
        "select comparison, direction from marts.assessment_tests "
        "where quarter = ? and signal = 'stalking_crimes' order by all",
        [quarter],
    )
    assert tested == [("previous quarter", "down"), ("same quarter last year", "down")]


@pytest.mark.slow
def test_many_victims_of_one_crime_are_as_many_people(slow_shape) -> None:
    # each victim has a nominal id and a name of their own; many share a surname or a
    # forename, none has a date of birth, and all share the crime, its suspect and its date
    import duckdb

    from tests.shapes import MANY_VICTIMS_ID_PREFIX

    run = slow_shape("many_victims_one_crime")
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        ids, people = con.execute(
            "select count(distinct person_id), count(distinct person_key) "
            "from marts.person_records where person_id like ?",
            [f"{MANY_VICTIMS_ID_PREFIX}%"],
        ).fetchall()[0]
    assert ids > 1 and people == ids


@pytest.mark.slow
def test_ids_that_look_like_numbers_stay_apart(slow_shape) -> None:
    """Crime and person ids that look like numbers are text: "00100" and "100" are two crimes,
    loaded as written (never as 100 twice); ids with spaces, accents, CJK or 250 characters
    load unchanged; and the profile is published (the guard took the force's figures for its
    plain-number ids and refused it)."""
    from tests.shapes import ODD_PERSON_IDS

    run = slow_shape("ids_like_numbers")
    delivered = pd.read_csv(run.extracts / "crimes.csv", dtype=str, keep_default_na=False)
    loaded = [r[0] for r in _rows(run, "select crime_id from staging.stg_crimes")]
    quarantined = run.data_quality["extracts"]["crimes"]["quarantined"]
    assert len(set(loaded)) == len(loaded) == len(delivered) - quarantined
    assert set(loaded) <= set(delivered["crime_id"]) and {"00100", "100"} <= set(loaded)
    people = {r[0] for r in _rows(run, "select distinct person_id from staging.stg_crime_persons")}
    assert set(ODD_PERSON_IDS) <= people
    assert (run.quarter_dir / "profile.html").exists()


@pytest.mark.slow
def test_a_default_birth_date_is_not_counted_among_the_oldest(slow_shape) -> None:
    """Victims and suspects born 1900-01-01 (a system's default), 1899, 1066 or in year 1 on the
    latest crimes: their age band is "Not recorded", never "65 and over" (a 1900 birth used to
    count there); nobody else in the shape is 65 or over."""
    from tests.shapes import VERY_OLD_BIRTHS

    run = slow_shape("odd_dates_of_birth")
    shown = _rows(
        run,
        "select count(*) from staging.stg_crime_persons as p "
        "inner join marts.stalking_crimes as s using (crime_id) "
        "where cast(p.date_of_birth as varchar) in (select unnest(?)) "
        "and s.quarter in (select quarter from reporting.rpt_victim_demographics)",
        [list(VERY_OLD_BIRTHS)],
    )[0][0]
    assert shown > 0, "the shape puts no very old birth date in a quarter the tables show"
    oldest = _rows(
        run,
        "select (select sum(victims) from reporting.rpt_victim_demographics "
        "where category_label = '65 and over'), "
        "(select sum(perpetrators) from reporting.rpt_profile_perpetrator_demographics "
        "where category_label = '65 and over')",
    )[0]
    assert oldest == (0, 0)
