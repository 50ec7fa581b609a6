"""The independent force: deterministic, its truth joins its extracts row for row, and the
project's own ingest loads it with only the rows the truth marks as deliberately bad."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.contracts.check import check_delivery_folder
from pipelines.evaluation.independent_force import generate_independent_force, noise
from pipelines.evaluation.independent_force.summary import summarise

ROOT = Path(__file__).resolve().parents[2]
RUN_DATE = dt.date(2026, 10, 15)
FILES = (
    "crimes.csv",
    "crime_persons.csv",
    "intelligence.csv",
    "orders.csv",
    "breaches.csv",
    "force_area.geojson",
    "truth/person_mentions.csv",
    "truth/crimes.csv",
    "truth/intelligence.csv",
    "truth/courses.csv",
    "truth/persons.csv",
)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_independent_force(tmp_path_factory.mktemp("indie") / "tiny", scale="tiny")


def test_same_seed_same_files_other_seed_other_force(tiny: Path, tmp_path: Path) -> None:
    again = generate_independent_force(tmp_path / "again", scale="tiny")
    for name in FILES:
        assert (again / name).read_bytes() == (tiny / name).read_bytes(), name
    other = generate_independent_force(tmp_path / "other", seed=2, scale="tiny")
    assert (other / "crimes.csv").read_bytes() != (tiny / "crimes.csv").read_bytes()


def test_scale_sets_the_volume(tiny: Path) -> None:
    crimes = len(_read(tiny / "crimes.csv"))
    assert 550 <= crimes <= 700


def test_every_truth_row_joins_its_extract_row(tiny: Path) -> None:
    crimes = _read(tiny / "crimes.csv")
    persons = _read(tiny / "crime_persons.csv")
    intel = _read(tiny / "intelligence.csv")
    orders = _read(tiny / "orders.csv")
    mentions = _read(tiny / "truth" / "person_mentions.csv")
    t_crimes = _read(tiny / "truth" / "crimes.csv")
    t_intel = _read(tiny / "truth" / "intelligence.csv")
    courses = _read(tiny / "truth" / "courses.csv")
    people = _read(tiny / "truth" / "persons.csv")

    assert list(t_crimes["crime_id"]) == list(crimes["crime_id"])
    assert list(t_intel["intel_id"]) == list(intel["intel_id"])

    def by_source(source: str) -> pd.DataFrame:
        return mentions[mentions["source"] == source].set_index("record_key")

    cp = by_source("crime_persons")
    keys = persons["crime_id"] + "|" + persons["person_id"]
    assert keys.is_unique and cp.index.is_unique
    assert set(cp.index) == set(keys)
    assert (cp.loc[keys, "person_id"].to_numpy() == persons["person_id"].to_numpy()).all()

    subject = by_source("intelligence_subject")
    assert set(subject.index) == set(intel["intel_id"])
    ids = intel.set_index("intel_id")
    assert (subject["person_id"] == ids.loc[subject.index, "subject_person_id"]).all()
    victim = by_source("intelligence_victim")
    assert set(victim.index) == set(intel.loc[intel["victim_person_id"] != "", "intel_id"])
    assert (victim["person_id"] == ids.loc[victim.index, "victim_person_id"]).all()

    o = orders.set_index("order_id")
    subject = by_source("order_subject")
    assert set(subject.index) == set(orders["order_id"])
    assert (subject["person_id"] == o.loc[subject.index, "subject_person_id"]).all()
    protected = by_source("order_protected")
    assert set(protected.index) == set(orders.loc[orders["protected_person_id"] != "", "order_id"])
    assert (protected["person_id"] == o.loc[protected.index, "protected_person_id"]).all()

    assert set(mentions["source"]) == {
        "crime_persons",
        "intelligence_subject",
        "intelligence_victim",
        "order_subject",
        "order_protected",
    }
    # the truth's own tables agree with one another
    assert set(t_crimes["course_id"]) <= set(courses["course_id"])
    assert set(t_intel.loc[t_intel["course_id"] != "", "course_id"]) <= set(courses["course_id"])
    known = set(people["true_person_id"])
    assert set(mentions["true_person_id"]) <= known
    for column in ("victim_true_person_id", "perpetrator_true_person_id"):
        assert set(t_crimes[column]) <= known
    # a crime's truth names the victim behind its victim row
    victims = persons[persons["role"] == "victim"]
    true_victim = cp.loc[victims["crime_id"] + "|" + victims["person_id"], "true_person_id"]
    expected = t_crimes.set_index("crime_id").loc[victims["crime_id"], "victim_true_person_id"]
    assert (true_victim.to_numpy() == expected.to_numpy()).all()


def test_identified_route_and_hidden_follow_the_record(tiny: Path) -> None:
    with (ROOT / "dbt_project" / "seeds" / "offence_codes.csv").open() as f:
        category = {r["offence_code"]: r["category"] for r in csv.DictReader(f)}
    crimes = _read(tiny / "crimes.csv").set_index("crime_id")
    truth = _read(tiny / "truth" / "crimes.csv").set_index("crime_id")
    for crime_id, t in truth.iterrows():
        row = crimes.loc[crime_id]
        included = [c for c in row["included_offence_codes"].split("|") if c]
        if category[row["offence_code"]] == "stalking":
            route = "principal"
        elif any(category[c] == "stalking" for c in included):
            route = "included"
        elif row["offence_code"] == "008/73":
            route = "breach_spo"
        else:
            route = "none"
        assert t["identified_route"] == route, crime_id
        hidden = t["is_true_stalking"] == "true" and route == "none"
        assert t["is_hidden_stalking"] == ("true" if hidden else "false"), crime_id
    # every kind the evaluation needs is present, and stalking is partly hidden
    assert {"principal", "included", "none"} <= set(truth["identified_route"])
    facts = summarise(tiny)
    assert 0.2 < facts["hidden_share_of_true_stalking"] < 0.7
    assert facts["serial_stalkers"] > 0
    assert facts["duplicate_nominal_share_of_people"] > 0.05


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_independent_force(tmp_path_factory.mktemp("indie") / "small", scale="small")


@pytest.mark.parametrize("scale", ["tiny", "small"])
def test_project_ingest_quarantines_only_the_rows_truth_marks(
    scale: str, request: pytest.FixtureRequest
) -> None:
    folder = request.getfixturevalue(scale)
    report = check_delivery_folder(folder, today=RUN_DATE)
    assert report.would_run, report.over_limit
    truth_crimes = _read(folder / "truth" / "crimes.csv")
    mentions = _read(folder / "truth" / "person_mentions.csv")
    cp_bad = mentions[(mentions["source"] == "crime_persons") & (mentions["quarantined"] == "true")]
    assert report.results["crimes"].quarantined == (truth_crimes["quarantined"] == "true").sum()
    assert report.results["crime_persons"].quarantined == len(cp_bad)
    for extract in ("intelligence", "orders", "breaches"):
        assert report.results[extract].quarantined == 0, extract
    assert report.results["crimes"].quarantined / report.results["crimes"].read < 0.01


@pytest.mark.slow
def test_spp_profile_runs_on_the_tiny_independent_force(tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "dh").mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dh"), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "profile",
            "--extracts",
            str(tiny),
            "--out",
            str(tmp_path / "out"),
            "--warehouse",
            str(tmp_path / "wh.duckdb"),
            "--run-date",
            RUN_DATE.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, run.stderr[-3000:]


def test_the_generator_stays_independent_of_the_projects_own() -> None:
    """Imports only the standard library, numpy, pandas and itself, and reads no file of the
    shared data folder: the force is only worth holding out while nothing ties it to what the
    pipeline was tuned on (the project's generator, its name lists, its reference data)."""
    package = ROOT / "pipelines" / "evaluation" / "independent_force"
    sources = {p.name: p.read_text(encoding="utf-8") for p in package.glob("*.py")}
    assert {"generator.py", "noise.py", "names.py", "geography.py"} <= set(sources)
    own = "pipelines.evaluation.independent_force"
    for name, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert (
                    module.startswith(own)
                    or top in {"numpy", "pandas"}
                    or top in sys.stdlib_module_names
                ), (name, module)
        assert "shared/" not in text, name
    assert not [p for p in package.rglob("*") if p.suffix in {".csv", ".json", ".parquet"}]


def test_typing_slips_stay_plausible() -> None:
    rng = np.random.default_rng(3)
    born = dt.date(1990, 4, 7)
    latest = dt.date(2026, 9, 30)
    rates = noise.NoiseRates(dob_missing=0.0, dob_day_month_swap=0.0, dob_digit_slip=1.0)
    typed = {noise.record_dob(rng, born, rates, latest) for _ in range(300)}
    assert len(typed) > 3 and all(d is not None and d <= latest for d in typed)
    # a slip changes one digit of the date, never the whole of it
    for d in typed:
        assert sum(a != b for a, b in zip(d.isoformat(), born.isoformat(), strict=True)) == 1
    swapped = noise.NoiseRates(dob_missing=0.0, dob_day_month_swap=1.0)
    assert noise.record_dob(rng, born, swapped, latest) == dt.date(1990, 7, 4)
    estimated = noise.NoiseRates(
        dob_missing=0.0, dob_day_month_swap=0.0, dob_digit_slip=0.0, dob_age_estimate=1.0
    )
    guess = noise.record_dob(rng, born, estimated, latest)
    assert guess is not None and (guess.month, guess.day) == (1, 1)
    assert abs(guess.year - born.year) <= 1
    for _ in range(200):
        word = noise.typo(rng, "Pritchard")
        assert word != "Pritchard" or len(set("Pritchard")) < 9
        assert abs(len(word) - len("Pritchard")) <= 1
