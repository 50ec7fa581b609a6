"""Unusual deliveries, generated from a small synthetic force: each function rewrites a copy
of the five extracts into one shape a force may send (no stalking crimes, no locations,
header-only files, ...). Used by tests/test_shapes.py."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contracts.schema import EXTRACTS as EXTRACTS_SPEC

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


def gap_year(folder: Path, year: str = "2024") -> None:
    """No crime was reported for a whole year in the middle of the history (a records-system
    migration), with the people, intelligence, orders and breaches of that year."""
    crimes = _read(folder, "crimes")
    kept = crimes[~crimes["reported_date"].str.startswith(year)]
    _write(folder, "crimes", kept)
    persons = _read(folder, "crime_persons")
    _write(folder, "crime_persons", persons[persons["crime_id"].isin(kept["crime_id"])])
    intel = _read(folder, "intelligence")
    _write(folder, "intelligence", intel[~intel["submitted_date"].str.startswith(year)])
    orders = _read(folder, "orders")
    orders = orders[~orders["applied_date"].str.startswith(year)]
    _write(folder, "orders", orders)
    breaches = _read(folder, "breaches")
    breaches = breaches[
        ~breaches["breach_date"].str.startswith(year)
        & breaches["order_id"].isin(orders["order_id"])
    ]
    _write(folder, "breaches", breaches)


# The quarters the two shapes below empty (each profiled at its quarter: QUARTERS in
# tests/test_shapes.py). The delivery gap is the last quarter of a financial year, so that the
# year holding it is a recorded year of the FMS History when the quarter is profiled.
FALL_QUARTER = ("2025-07-01", "2025-09-30")
GAP_QUARTER = ("2025-01-01", "2025-03-31")


def quarter_without_crimes(
    folder: Path, first: str = FALL_QUARTER[0], last: str = FALL_QUARTER[1]
) -> None:
    """No stalking-universe crime in one quarter, with crimes in the quarters before and after
    it, and crimes of other kinds in it: the quarter's crimes are recorded as criminal damage
    graded standard risk, without their people (a victim of repeated crimes with no suspect
    named would be screened in). Every stalking count falls 100%, on numbers the assessment
    cannot separate from chance; the force did record crimes, so this is a fall, not a gap in
    the delivery."""
    crimes = _read(folder, "crimes")
    inside = crimes["reported_date"].between(first, last)
    crimes.loc[inside, "offence_code"] = "058/01"
    crimes.loc[inside, "offence_description"] = "Criminal damage to a dwelling"
    crimes.loc[inside, "included_offence_codes"] = ""
    crimes.loc[inside, "offence_end"] = crimes.loc[inside, "offence_start"]
    crimes.loc[inside, "risk_level"] = "standard"
    _write(folder, "crimes", crimes)
    persons = _read(folder, "crime_persons")
    _write(
        folder, "crime_persons", persons[~persons["crime_id"].isin(crimes.loc[inside, "crime_id"])]
    )


def delivery_gap_quarter(
    folder: Path, first: str = GAP_QUARTER[0], last: str = GAP_QUARTER[1]
) -> None:
    """Nothing at all recorded in one quarter inside a continuous history (an export that
    skipped it): no crime of any kind reported in it, with their people. Not a fall: the
    assessment must say it cannot judge the quarter, the demand history must hold it as
    missing, not zero."""
    crimes = _read(folder, "crimes")
    kept = crimes[~crimes["reported_date"].between(first, last)]
    _write(folder, "crimes", kept)
    persons = _read(folder, "crime_persons")
    _write(folder, "crime_persons", persons[persons["crime_id"].isin(kept["crime_id"])])


# Reported dates of the stray crimes of `stray_old_crimes` (years before the delivery starts).
STRAY_DATES = ("1995-03-14", "1996-06-02", "1997-01-20", "1997-11-05", "1998-08-30")


def stray_old_crimes(folder: Path) -> None:
    """Five stalking crimes reported in 1995-98 before a delivery that starts in 2021 (dates
    typed decades early, or an old archive's leftovers), each with the people of the crime it
    copies: the years between hold no crime of any kind, which is no recording, not no demand."""
    crimes = _read(folder, "crimes")
    stalking = crimes[crimes["offence_code"].isin(STALKING_CODES)].head(len(STRAY_DATES)).copy()
    ids = {old: f"OLD{i:09d}" for i, old in enumerate(stalking["crime_id"])}
    stalking["crime_id"] = stalking["crime_id"].map(ids)
    stalking["reported_date"] = list(STRAY_DATES)
    stalking["offence_start"] = [f"{d}T10:00:00" for d in STRAY_DATES]
    stalking["offence_end"] = stalking["offence_start"]
    for column in (
        "outcome_code",
        "outcome_date",
        "needs_assessment_date",
        "support_referral_date",
    ):
        stalking[column] = ""
    _write(folder, "crimes", pd.concat([stalking, crimes], ignore_index=True))
    persons = _read(folder, "crime_persons")
    theirs = persons[persons["crime_id"].isin(ids)].copy()
    theirs["crime_id"] = theirs["crime_id"].map(ids)
    _write(folder, "crime_persons", pd.concat([theirs, persons], ignore_index=True))


def nominal_victim_and_suspect(folder: Path, count: int = 50) -> None:
    """The same nominal stands on a crime as victim and as suspect (a counter-allegation),
    and one crime_persons row is repeated whole (an export's join fan-out)."""
    persons = _read(folder, "crime_persons")
    victims = persons[persons["role"] == "victim"].head(count).copy()
    victims["role"] = "suspect"
    victims["relationship_to_victim"] = "unknown"
    _write(folder, "crime_persons", pd.concat([persons, victims, persons.head(1)]))


def no_postcode_or_sex(folder: Path) -> None:
    """No person has a postcode or a sex recorded (so resolution cannot compare them)."""
    persons = _read(folder, "crime_persons")
    persons["postcode"] = ""
    persons["sex"] = ""
    _write(folder, "crime_persons", persons)


def required_columns_only(folder: Path) -> None:
    """Every optional column left out (the spec allows it): no names, dates of birth,
    locations or outcomes anywhere; breaches header-only (with no granted date on any order,
    every breach would be one of an order never granted)."""
    for name in EXTRACTS:
        frame = _read(folder, name)
        frame = frame.iloc[0:0] if name == "breaches" else frame
        _write(folder, name, frame[EXTRACTS_SPEC[name].required_columns])


def values_in_other_spellings(folder: Path) -> None:
    """Listed values as a force's system spells them: risk grades in capitals, roles in title
    case, sex in lower case, relationships in capitals with a space ("EX PARTNER"), order
    types and statuses and breach actions in other cases."""
    crimes = _read(folder, "crimes")
    crimes["risk_level"] = crimes["risk_level"].str.upper()
    _write(folder, "crimes", crimes)
    persons = _read(folder, "crime_persons")
    persons["role"] = persons["role"].str.title()
    persons["sex"] = persons["sex"].str.lower()
    relationship = persons["relationship_to_victim"].str.upper().str.replace("_", " ")
    persons["relationship_to_victim"] = relationship
    _write(folder, "crime_persons", persons)
    orders = _read(folder, "orders")
    orders["order_type"] = orders["order_type"].str.lower()
    orders["status"] = orders["status"].str.title()
    _write(folder, "orders", orders)
    breaches = _read(folder, "breaches")
    breaches["action_taken"] = breaches["action_taken"].str.upper()
    _write(folder, "breaches", breaches)


def _typed(frame: pd.DataFrame, name: str) -> pa.Table:
    """An extract as a warehouse's Parquet export types it: dates as midnight timestamps
    (pandas' default), date-times as UTC instants, flags as booleans; text stays text.
    A value that cannot be typed (the generator's deliberate errors) is written empty."""
    columns = {}
    for column in EXTRACTS_SPEC[name].columns:
        if column.name not in frame.columns:
            continue
        text = frame[column.name].replace("", None)
        if column.type == "date":
            values = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            columns[column.name] = pa.array(values, pa.timestamp("ns"))
        elif column.type == "timestamp":
            local = pd.to_datetime(text, format="ISO8601", errors="coerce")
            zoned = local.dt.tz_localize("Europe/London", ambiguous="NaT", nonexistent="NaT")
            columns[column.name] = pa.array(zoned.dt.tz_convert("UTC"), pa.timestamp("us", "UTC"))
        elif column.type == "bool":
            flags = text.str.lower().map({"true": True, "false": False})
            columns[column.name] = pa.array(flags, pa.bool_())
        else:
            columns[column.name] = pa.array(text, pa.string())
    return pa.table(columns)


def typed_parquet(folder: Path) -> None:
    """Crimes and their people as typed Parquet (see `_typed`), the rest as CSV."""
    for name in ("crimes", "crime_persons"):
        pq.write_table(_typed(_read(folder, name), name), folder / f"{name}.parquet")
        (folder / f"{name}.csv").unlink()


def csv_quirks(folder: Path) -> None:
    """Valid CSV a force's export tool writes, in every extract still delivered as CSV: CRLF
    line ends and a byte-order mark, flags as Y/N and 1/0 in mixed case, date-times without
    seconds or with a space, extra columns (one a quoted name holding a comma), quoted commas,
    quotes and line breaks in free text, names in Welsh, Polish, Arabic script and emoji."""
    frames = {n: _read(folder, n) for n in EXTRACTS if (folder / f"{n}.csv").exists()}
    names = [("Siân", "Llŷr"), ("Małgorzata", "Wójcik-Żółć"), ("محمد", "العلي"), ("Zoë", "😀")]
    if "crimes" in frames:
        crimes = frames["crimes"]
        crimes["is_domestic_abuse"] = crimes["is_domestic_abuse"].replace(
            {"true": "Y", "false": "n"}
        )
        crimes["is_online"] = crimes["is_online"].replace({"true": "1", "false": "0"})
        crimes["spo_considered"] = crimes["spo_considered"].replace(
            {"true": "TRUE", "false": "False"}
        )
        crimes["offence_start"] = crimes["offence_start"].str.slice(0, 16)
        crimes["offence_end"] = crimes["offence_end"].str.replace("T", " ")
        described = crimes["offence_description"] != ""
        crimes.loc[described, "offence_description"] += ', "as recorded"\r\nsecond line'
    if "crime_persons" in frames:
        persons = frames["crime_persons"]
        for i, (forename, surname) in enumerate(names):
            persons.loc[i :: len(names) * 3, ["forename", "surname"]] = [forename, surname]
    if "intelligence" in frames:
        intel = frames["intelligence"]
        intel["is_stalking_related"] = intel["is_stalking_related"].replace(
            {"true": "y", "false": "N"}
        )
        for i, (forename, surname) in enumerate(names):
            intel.loc[i :: len(names) * 2, ["subject_forename", "subject_surname"]] = [
                forename,
                surname,
            ]
    for name, frame in frames.items():
        frame.insert(0, "force_reference", "REF")
        frame["notes, free text"] = 'She said: "stop", twice'
        text = frame.to_csv(index=False, lineterminator="\r\n")
        (folder / f"{name}.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


MANY_VICTIMS_ID_PREFIX = "PMV"


def many_victims_one_crime(folder: Path, count: int = 60) -> None:
    """One crime with `count` victims (a workplace, a family), each under a nominal id of
    their own with a distinct name and no date of birth or postcode: the names recombine the
    delivery's own forenames and surnames, so many victims share a surname or a forename."""
    persons = _read(folder, "crime_persons")
    crime = sorted(persons["crime_id"])[0]
    named = persons[(persons["forename"] != "") & (persons["surname"] != "")]
    forenames = sorted(set(named["forename"]))[:12]
    surnames = sorted(set(named["surname"]))[:8]
    pairs = [(f, s) for s in surnames for f in forenames][:count]
    victims = pd.DataFrame(
        {
            "crime_id": crime,
            "person_id": [f"{MANY_VICTIMS_ID_PREFIX}{i:07d}" for i in range(len(pairs))],
            "role": "victim",
            "forename": [f for f, _ in pairs],
            "surname": [s for _, s in pairs],
            "date_of_birth": "",
            "sex": "",
            "postcode": "",
            "relationship_to_victim": "",
        }
    )
    _write(folder, "crime_persons", pd.concat([persons, victims[persons.columns]]))


def force_export_quirks(folder: Path) -> None:
    """The valid quirks above in one delivery: a year with no crimes, a nominal as victim and
    suspect of one crime, no postcode or sex anywhere, crimes and people as typed Parquet, the
    other extracts as quirky CSV."""
    gap_year(folder)
    nominal_victim_and_suspect(folder)
    no_postcode_or_sex(folder)
    typed_parquet(folder)
    csv_quirks(folder)


SHAPES: dict[str, Callable[[Path], None]] = {
    "empty_universe_no_location": empty_universe_no_location,
    "no_stalking": no_stalking,
    "no_location": no_location,
    "header_only_side_files": header_only_side_files,
    "every_person_a_victim": every_person_a_victim,
    "one_offence_code": one_offence_code,
    "one_day": one_day,
    "force_of_20_crimes": force_of_20_crimes,
    "gap_year": gap_year,
    "quarter_without_crimes": quarter_without_crimes,
    "delivery_gap_quarter": delivery_gap_quarter,
    # the same delivery, profiled at the quarter after the gap (tests/test_shapes.py QUARTERS)
    "delivery_gap_previous_quarter": delivery_gap_quarter,
    "stray_old_crimes": stray_old_crimes,
    "nominal_victim_and_suspect": nominal_victim_and_suspect,
    "no_postcode_or_sex": no_postcode_or_sex,
    "typed_parquet": typed_parquet,
    "csv_quirks": csv_quirks,
    "force_export_quirks": force_export_quirks,
    "required_columns_only": required_columns_only,
    "values_in_other_spellings": values_in_other_spellings,
    "many_victims_one_crime": many_victims_one_crime,
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
