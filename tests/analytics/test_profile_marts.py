"""The profile's dbt analytics on a hand-made force (tests/analytics/force_fixture.py).

One `dbt build` (models, data tests, singular tests and dbt unit tests) into a scratch DuckDB
file; the marts are then checked against answers recomputed here in pandas from the extracts
and the person keys, never against figures copied from the SQL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.paths import DBT_PROJECT_DIR
from pipelines.quarters import quarter_end, quarter_of
from pipelines.settings import DEFAULT_SETTINGS_FILE, dbt_defaults_macro, load_settings
from tests.analytics.force_fixture import (
    MARTS_QUARTER,
    PERSON_KEYS,
    TEST_SCREENING,
    build_marts_fixture,
    read_marts_fixture,
)

PROFILE_QUARTER = MARTS_QUARTER


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Built in a process of its own started with the session (tests/conftest.py), else here."""
    from tests.conftest import started_marts_fixture

    started = started_marts_fixture()
    if started is not None:
        warehouse, extracts, result = read_marts_fixture(started.outputs())
    else:
        warehouse, extracts, result = build_marts_fixture(tmp_path_factory.mktemp("analytics"))
    return {"warehouse": warehouse, "extracts": extracts, "result": result}


def mart(built: dict[str, object], query: str) -> pd.DataFrame:
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        return con.execute(query).df()


def extracts(built: dict[str, object], name: str) -> pd.DataFrame:
    return pd.read_csv(Path(built["extracts"]) / f"{name}.csv", dtype=str, keep_default_na=False)


def stalking_codes() -> set[str]:
    seed = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "offence_codes.csv", dtype=str)
    return set(seed.loc[seed["is_stalking_offence"] == "true", "offence_code"])


def test_dbt_build_passes_models_data_tests_and_unit_tests(built) -> None:
    result = built["result"]
    assert result.returncode == 0, result.stdout[-4000:]
    assert "ERROR=0" in result.stdout
    # the unit tests of the threshold rules ran as part of the build
    assert "repeat_victim_window_is_12_months_up_to_quarter_end" in result.stdout
    assert "serial_needs_two_distinct_victims_in_three_years" in result.stdout
    assert "a_rank_resting_on_a_rule_join_says_which" in result.stdout
    assert "serial_counts_any_screened_course_when_so_configured" in result.stdout
    assert "a_nominal_twice_on_a_crime_has_a_key_per_row" in result.stdout
    assert "outcome_codes_match_the_seed_in_any_recorded_form" in result.stdout
    assert "recording_starts_after_the_last_long_empty_run_and_a_short_one_is_a_gap" in (
        result.stdout
    )


def test_universe_routes_match_the_offence_codes(built) -> None:
    crimes = extracts(built, "crimes")
    codes = stalking_codes()
    principal = set(crimes.loc[crimes["offence_code"].isin(codes), "crime_id"])
    included = {
        row.crime_id
        for row in crimes.itertuples()
        if row.crime_id not in principal
        and set(filter(None, row.included_offence_codes.split("|"))) & codes
    }
    universe = mart(built, "select crime_id, identified_by from marts.stalking_crimes")
    routes = universe.groupby("identified_by")["crime_id"].apply(set).to_dict()
    assert routes["principal"] == principal
    assert routes["included"] == included == {"C-INC"}
    # S5's course and S7's contacts under a restraining order are screened in; S6's lone
    # harassment is not
    assert routes["screened"] == {"C-S5-1", "C-S5-2", "C-S5-3", "C-S7-1", "C-S7-2"}
    candidates = mart(built, "select crime_id, score, reasons from marts.screening_candidates")
    assert set(candidates["crime_id"]) == routes["screened"]
    assert (candidates["score"] >= TEST_SCREENING["threshold"]).all()
    assert candidates.set_index("crime_id").loc["C-S7-1", "reasons"].count("Unwanted") == 1


def _windowed(events: pd.DataFrame, quarter: str, months: int) -> pd.DataFrame:
    end = pd.Timestamp(quarter_end(quarter))
    start = end - pd.DateOffset(months=months)
    return events[(events["reported_date"] > start) & (events["reported_date"] <= end)]


def _universe_people(built) -> pd.DataFrame:
    universe = mart(
        built,
        "select s.crime_id, s.reported_date, s.identified_by, "
        "coalesce(c.has_stalking_course_on_this_victim, false) as is_screened_course, "
        "coalesce(c.has_pair_intelligence, false) as has_stalking_intelligence "
        "from marts.stalking_crimes as s "
        "left join intermediate.int_screening_scored as c using (crime_id)",
    )
    persons = extracts(built, "crime_persons")
    persons["person_key"] = persons["person_id"].map(PERSON_KEYS)
    people = persons.merge(universe, on="crime_id")
    people["reported_date"] = pd.to_datetime(people["reported_date"])
    return people


def test_repeat_victims_recomputed_in_pandas(built) -> None:
    settings = load_settings().repeat_victim
    victims = _universe_people(built).query("role == 'victim'")
    quarters = mart(built, "select quarter from intermediate.int_quarters")["quarter"]
    expected = set()
    for quarter in quarters:
        counts = (
            _windowed(victims, quarter, settings.window_months)
            .groupby("person_key")["crime_id"]
            .nunique()
        )
        expected |= {(quarter, key) for key in counts[counts >= settings.min_crimes].index}
    got = mart(built, "select quarter, person_key from marts.repeat_victims")
    assert set(zip(got["quarter"], got["person_key"], strict=True)) == expected
    # V1 holds two nominal ids: one person, two crimes, at 2024-Q4 only
    assert ("2024-Q4", "P-v1a") in expected
    assert not any(key == "P-v1b" for _, key in expected)
    # V2's crimes are 366 days apart: never a repeat victim
    assert not any(key == "P-v2" for _, key in expected)


def test_serial_and_repeat_perpetrators_recomputed_in_pandas(built) -> None:
    settings = load_settings().perpetrators
    people = _universe_people(built)
    suspects = people[people["role"] != "victim"][["crime_id", "person_key", "reported_date"]]
    victims = people[people["role"] == "victim"][["crime_id", "person_key"]]
    routes = people[
        ["crime_id", "identified_by", "is_screened_course", "has_stalking_intelligence"]
    ].drop_duplicates()
    pairs = suspects.merge(victims, on="crime_id", suffixes=("", "_victim")).merge(
        routes, on="crime_id"
    )
    pairs = pairs[pairs["person_key"] != pairs["person_key_victim"]]
    got = mart(built, "select * from marts.perpetrators").set_index(["quarter", "person_key"])
    quarters = mart(built, "select quarter from intermediate.int_quarters")["quarter"]
    checked = 0
    for quarter in quarters:
        window = _windowed(suspects, quarter, settings.serial_lookback_years * 12)
        crimes = window.groupby("person_key")["crime_id"].nunique()
        in_window = _windowed(pairs, quarter, settings.serial_lookback_years * 12)
        victim_counts = in_window.groupby("person_key")["person_key_victim"].nunique()
        # outputs.md: a victim counts toward serial where stalking against them is
        # established (recorded, or a screened crime whose course against that victim the
        # pair's own records mark as stalking, or stalking-related intelligence naming the pair)
        per_victim = in_window.assign(
            recorded=in_window["identified_by"].isin(["principal", "included"])
        ).groupby(["person_key", "person_key_victim"])
        established = (
            per_victim["recorded"].any()
            | per_victim["is_screened_course"].any()
            | per_victim["has_stalking_intelligence"].any()
        )
        # victims at one home postcode count once (no two fixture victims are linked)
        homes = (
            established[established]
            .reset_index()
            .assign(home=lambda f: f["person_key_victim"].map(_home_postcodes(built)))
        )
        homes["counted_as"] = homes["home"].fillna(homes["person_key_victim"])
        serial_counts = homes.groupby("person_key")["counted_as"].nunique()
        shared = homes[homes.duplicated(["person_key", "home"], keep=False) & homes["home"].notna()]
        shared_counts = shared.groupby("person_key").size()
        for key, count in crimes.items():
            row = got.loc[(quarter, key)]
            assert row["crimes_total"] == count
            assert row["victims_total"] == victim_counts.get(key, 0)
            assert row["is_repeat"] == (count >= settings.repeat_min_crimes)
            assert row["is_serial"] == (serial_counts.get(key, 0) >= settings.serial_min_victims)
            assert row["distinct_victims_confident"] == serial_counts.get(key, 0)
            assert row["victims_at_a_shared_home"] == shared_counts.get(key, 0)
            checked += 1
        assert len(got.loc[quarter]) == len(crimes) if quarter in got.index else crimes.empty
    assert checked > 0
    # S3 stalks V3 and V4 and names himself victim under a second id: 2 victims, not 3
    assert got.loc[(PROFILE_QUARTER, "P-s3"), "victims_total"] == 2
    assert got.loc[(PROFILE_QUARTER, "P-s3"), "is_serial"]
    # S9's two victims share a home postcode: two in all, one toward serial
    assert got.loc[(PROFILE_QUARTER, "P-s9"), "victims_total"] == 2
    assert got.loc[(PROFILE_QUARTER, "P-s9"), "victims_at_a_shared_home"] == 2
    assert not got.loc[(PROFILE_QUARTER, "P-s9"), "is_serial"]


def _home_postcodes(built: dict[str, object]) -> pd.Series:
    """person key -> the home postcode recorded on its rows of the extracts (one each here)."""
    rows = extracts(built, "crime_persons")
    rows = rows[rows["postcode"] != ""]
    return (
        rows.assign(person_key=rows["person_id"].map(PERSON_KEYS))
        .groupby("person_key")["postcode"]
        .min()
        .str.upper()
    )


def test_perpetrator_orders_and_breaches(built) -> None:
    got = mart(built, "select * from marts.perpetrators").set_index(["quarter", "person_key"])
    # the restraining order protecting V7 from S7 runs 2024-02-01..2026-02-01, breached 2024-03-10
    assert got.loc[(PROFILE_QUARTER, "P-s7"), "has_active_order"]
    assert got.loc[(PROFILE_QUARTER, "P-s7"), "breaches_12m"] == 1
    assert not got.loc[(PROFILE_QUARTER, "P-s1"), "has_active_order"]
    ranks = got.loc[PROFILE_QUARTER].sort_values("rank")
    assert list(ranks["rank"]) == list(range(1, len(ranks) + 1))
    assert ranks["rfgv_score"].is_monotonic_decreasing


def test_quarter_without_crimes_still_has_rows(built) -> None:
    crimes = extracts(built, "crimes")
    reported = {quarter_of(pd.Timestamp(d).date()) for d in crimes["reported_date"]}
    assert "2024-Q2" not in reported
    compliance = mart(built, "select * from marts.compliance where quarter = '2024-Q2'")
    assert len(compliance) == 8
    assert (compliance["denominator"] == 0).all() and compliance["rate"].isna().all()
    # the fixture recorded no crime of any kind in the quarter: a gap in the delivery, whose
    # demand row is there with no value (missing, not a zero the forecast would learn)
    demand = mart(
        built,
        "select value, is_delivery_gap from marts.demand_series where series = 'all_stalking' "
        "and period = 'quarter' and period_start = date '2024-04-01'",
    )
    assert len(demand) == 1 and demand["value"].isna().all() and demand["is_delivery_gap"].all()


def test_compliance_recomputed_in_pandas(built) -> None:
    target = load_settings().compliance.needs_assessment_target_days
    universe = mart(built, "select crime_id, quarter from marts.stalking_crimes")
    crimes = extracts(built, "crimes").merge(universe, on="crime_id")
    crimes = crimes[crimes["quarter"] == PROFILE_QUARTER]
    reported = pd.to_datetime(crimes["reported_date"])
    assessed = pd.to_datetime(crimes["needs_assessment_date"].replace("", None))
    got = mart(
        built, f"select * from marts.compliance where quarter = '{PROFILE_QUARTER}'"
    ).set_index("measure")
    assert got.loc["needs_assessment_completed", "denominator"] == len(crimes)
    assert got.loc["needs_assessment_completed", "numerator"] == assessed.notna().sum()
    within = ((assessed - reported).dt.days <= target).sum()
    assert got.loc["needs_assessment_within_target", "numerator"] == within
    da = crimes["is_domestic_abuse"] == "true"
    assert got.loc["needs_assessment_completed", "denominator_da"] == da.sum()


def test_demand_series_recomputed_in_pandas(built) -> None:
    universe = mart(built, "select reported_date, is_domestic_abuse from marts.stalking_crimes")
    months = pd.to_datetime(universe["reported_date"]).dt.to_period("M").value_counts()
    got = mart(
        built,
        "select period_start, value from marts.demand_series "
        "where series = 'all_stalking' and period = 'month'",
    )
    got["month"] = pd.to_datetime(got["period_start"]).dt.to_period("M")
    got = got.set_index("month")["value"]
    assert got.sum() == len(universe)
    for month, count in months.items():
        assert got[month] == count
    # zero-filled and gapless from the first month to the profiled quarter's end
    assert len(got) == len(pd.period_range(got.index.min(), "2024-12", freq="M"))
    breaches = mart(
        built,
        "select sum(value) as n from marts.demand_series "
        "where series = 'breaches' and period = 'month'",
    )
    assert breaches["n"].iloc[0] == len(extracts(built, "breaches"))


def test_settings_defaults_macro_is_current() -> None:
    """dbt_project/macros/settings_defaults.sql is generated from settings.yaml."""
    macro = (DBT_PROJECT_DIR / "macros" / "settings_defaults.sql").read_text()
    assert macro == dbt_defaults_macro(load_settings(DEFAULT_SETTINGS_FILE)), (
        "regenerate: python -m pipelines.settings --dbt-defaults-macro "
        "> dbt_project/macros/settings_defaults.sql"
    )
