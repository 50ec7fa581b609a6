"""Unusual deliveries, generated from a small synthetic force: each function rewrites a copy
of the five extracts into one shape a force may send (no stalking crimes, no locations,
header-only files, ...). Used by tests/test_shapes.py."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

EXTRACTS = ("crimes", "crime_persons", "intelligence", "orders", "breaches")
STALKING_CODES = ("195/12", "008/65", "008/66")
HARASSMENT = ("195/94", "Harassment")


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def _write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / f"{name}.csv", index=False)


def no_stalking(folder: Path) -> None:
    """No crime is a stalking offence (recorded as harassment instead)."""
    crimes = _read(folder, "crimes")
    stalking = crimes["offence_code"].isin(STALKING_CODES)
    crimes.loc[stalking, "offence_code"] = HARASSMENT[0]
    crimes.loc[stalking, "offence_description"] = HARASSMENT[1]
    crimes["included_offence_codes"] = crimes["included_offence_codes"].str.replace(
        "|".join(c.replace("/", r"\/") for c in STALKING_CODES), HARASSMENT[0], regex=True
    )
    _write(folder, "crimes", crimes)


def no_stalking_or_harassment(folder: Path) -> None:
    """Nothing in the stalking universe: every crime is criminal damage graded standard risk,
    and no report or intelligence mentions stalking. (A victim's repeated crimes with no named
    suspect are a screening signal; graded high risk as well, they would be screened in.)"""
    crimes = _read(folder, "crimes")
    crimes["offence_code"] = "058/01"
    crimes["offence_description"] = "Criminal damage to a dwelling"
    crimes["included_offence_codes"] = ""
    crimes["offence_end"] = crimes["offence_start"]
    crimes["risk_level"] = "standard"
    _write(folder, "crimes", crimes)
    # and no suspect is named, so no course of conduct can be screened in
    every_person_a_victim(folder)
    intel = _read(folder, "intelligence")
    intel["is_stalking_related"] = "false"
    _write(folder, "intelligence", intel)


def no_location(folder: Path) -> None:
    """No crime or intelligence report has a location."""
    for name in ("crimes", "intelligence"):
        frame = _read(folder, name)
        frame["latitude"] = ""
        frame["longitude"] = ""
        if "location_type" in frame.columns:
            frame["location_type"] = ""
        _write(folder, name, frame)


def empty_universe_no_location(folder: Path) -> None:
    """The delivery that crashed profile_report: no stalking crime and no location."""
    no_stalking_or_harassment(folder)
    no_location(folder)


def header_only_side_files(folder: Path) -> None:
    """Intelligence, orders and breaches hold a header and no rows."""
    for name in ("intelligence", "orders", "breaches"):
        _write(folder, name, _read(folder, name).iloc[0:0])


def every_person_a_victim(folder: Path) -> None:
    """Every person on every crime is recorded as a victim (no suspect is named)."""
    persons = _read(folder, "crime_persons")
    persons["role"] = "victim"
    persons["relationship_to_victim"] = ""
    _write(folder, "crime_persons", persons)


def one_offence_code(folder: Path) -> None:
    """Every crime carries the same offence code (stalking)."""
    crimes = _read(folder, "crimes")
    crimes["offence_code"] = "195/12"
    crimes["offence_description"] = "Pursue a course of conduct amounting to stalking"
    crimes["included_offence_codes"] = ""
    _write(folder, "crimes", crimes)


def one_day(folder: Path, day: str = "2025-11-14") -> None:
    """Every crime was reported (and committed) on one day; nothing else is dated."""
    crimes = _read(folder, "crimes")
    crimes["reported_date"] = day
    crimes["offence_start"] = f"{day}T10:00:00"
    crimes["offence_end"] = f"{day}T10:00:00"
    for column in ("outcome_date", "needs_assessment_date", "support_referral_date"):
        crimes[column] = ""
    crimes["outcome_code"] = ""
    _write(folder, "crimes", crimes)
    header_only_side_files(folder)


def force_of_20_crimes(folder: Path) -> None:
    """Twenty crimes in all, with their people; nothing else."""
    crimes = _read(folder, "crimes")
    kept = crimes.sort_values("reported_date").tail(20)
    _write(folder, "crimes", kept)
    persons = _read(folder, "crime_persons")
    _write(folder, "crime_persons", persons[persons["crime_id"].isin(kept["crime_id"])])
    header_only_side_files(folder)


SHAPES: dict[str, Callable[[Path], None]] = {
    "empty_universe_no_location": empty_universe_no_location,
    "no_stalking": no_stalking,
    "no_location": no_location,
    "header_only_side_files": header_only_side_files,
    "every_person_a_victim": every_person_a_victim,
    "one_offence_code": one_offence_code,
    "one_day": one_day,
    "force_of_20_crimes": force_of_20_crimes,
}


def make_shape(source: Path, target: Path, shape: str) -> Path:
    """Copy the extracts (no truth) of `source` into `target` and apply `shape`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in EXTRACTS:
        shutil.copy(source / f"{name}.csv", target / f"{name}.csv")
    if (source / "force_area.geojson").exists():
        shutil.copy(source / "force_area.geojson", target / "force_area.geojson")
    SHAPES[shape](target)
    return target
