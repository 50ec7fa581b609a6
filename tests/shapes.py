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
    _add_stalking_crimes_reported_on(folder, STRAY_DATES, "OLD", offence_times=True)


def _add_stalking_crimes_reported_on(
    folder: Path, dates: tuple[str, ...], id_prefix: str, *, offence_times: bool
) -> None:
    """Copies of the first stalking crimes, one per date, reported on those dates under new
    ids (`id_prefix` and a number), with the people of the crime each copies and no outcome or
    Victims' Code date; the offence starts and ends at 10:00 that day, or is left empty."""
    crimes = _read(folder, "crimes")
    stalking = crimes[crimes["offence_code"].isin(STALKING_CODES)].head(len(dates)).copy()
    ids = {old: f"{id_prefix}{i:09d}" for i, old in enumerate(stalking["crime_id"])}
    stalking["crime_id"] = stalking["crime_id"].map(ids)
    stalking["reported_date"] = list(dates)
    emptied = ["outcome_code", "outcome_date", "needs_assessment_date", "support_referral_date"]
    if offence_times:
        stalking["offence_start"] = [f"{d}T10:00:00" for d in dates]
        stalking["offence_end"] = stalking["offence_start"]
    else:
        emptied = ["offence_start", "offence_end", *emptied]
    for column in emptied:
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


def _id_map(ids: pd.Series, rewrite: Callable[[int, str], str]) -> dict[str, str]:
    """Each distinct non-empty id of `ids` rewritten by `rewrite(index, id)` (sorted order)."""
    distinct = sorted(set(ids) - {""})
    return {old: rewrite(i, old) for i, old in enumerate(distinct)}


def _rewrite_ids(folder: Path, crime: dict[str, str], person: dict[str, str]) -> None:
    """Every crime and person id of the delivery rewritten through the two maps (an id of
    neither map, e.g. a soft link to no crime, is kept)."""
    columns = {
        "crimes": {"crime_id": crime},
        "crime_persons": {"crime_id": crime, "person_id": person},
        "intelligence": {
            "crime_id": crime,
            "subject_person_id": person,
            "victim_person_id": person,
        },
        "orders": {"crime_id": crime, "subject_person_id": person, "protected_person_id": person},
        "breaches": {"crime_id": crime},
    }
    for name, maps in columns.items():
        frame = _read(folder, name)
        for column, mapping in maps.items():
            frame[column] = frame[column].map(lambda v, m=mapping: m.get(v, v))
        _write(folder, name, frame)


# Ids of `ids_like_numbers` with no digits in common with any other.
LONG_ID = "N" * 250
ODD_PERSON_IDS = ("P 0001", "Pé-ü 2", "人 3", LONG_ID)


def ids_like_numbers(folder: Path) -> None:
    """Crime and person ids that look like numbers: "00124" and "124" are different crimes
    (and different people), as a fixed-width export and a trimmed one write them; a few person
    ids hold spaces, accents, CJK or 250 characters; one person stands as victim on one crime
    and as suspect on another."""

    def numeric(i: int, _old: str) -> str:
        # pairs: the even one zero-padded, the odd one the same digits without the zeros
        return f"{100 + i - i % 2:05d}" if i % 2 == 0 else str(100 + i - i % 2)

    crimes = _read(folder, "crimes")
    persons = _read(folder, "crime_persons")
    person = _id_map(persons["person_id"], numeric)
    for odd, old in zip(ODD_PERSON_IDS, sorted(person)[-len(ODD_PERSON_IDS) :], strict=True):
        person[old] = odd
    _rewrite_ids(folder, _id_map(crimes["crime_id"], numeric), person)
    # the first victim of the first crime is also the suspect of the last crime
    persons = _read(folder, "crime_persons")
    victim = persons.loc[persons["role"] == "victim"].iloc[0]
    last = persons.index[(persons["role"] == "suspect")][-1]
    persons.loc[last, ["person_id", "forename", "surname", "date_of_birth"]] = victim[
        ["person_id", "forename", "surname", "date_of_birth"]
    ]
    _write(folder, "crime_persons", persons)


def online_crimes_located_intelligence(folder: Path) -> None:
    """Every crime online with no location; the intelligence keeps its locations (the only
    points of the delivery)."""
    crimes = _read(folder, "crimes")
    crimes["is_online"] = "true"
    crimes[["latitude", "longitude"]] = ""
    crimes["location_type"] = "online"
    _write(folder, "crimes", crimes)


def _boundary_vertices(folder: Path) -> list[tuple[float, float]]:
    """(latitude, longitude) of the force area's outer ring, as written in its GeoJSON."""
    import json

    area = json.loads((folder / "force_area.geojson").read_text())
    geometry = area["features"][0]["geometry"]
    ring = geometry["coordinates"][0] if geometry["type"] == "Polygon" else None
    if ring is None:  # a MultiPolygon: its first polygon's outer ring
        ring = geometry["coordinates"][0][0]
    return [(lat, lon) for lon, lat in ring[:-1]]


def locations_on_the_boundary(folder: Path) -> None:
    """Every located crime stands exactly on a vertex of the force area's boundary."""
    crimes = _read(folder, "crimes")
    located = crimes.index[crimes["latitude"] != ""]
    vertices = _boundary_vertices(folder)
    for n, row in enumerate(located):
        lat, lon = vertices[n % len(vertices)]
        crimes.loc[row, ["latitude", "longitude"]] = [repr(lat), repr(lon)]
    _write(folder, "crimes", crimes)


def same_timestamps(folder: Path, group: int = 5) -> None:
    """Crimes in groups of `group` (in reporting order) share one reported date and one
    offence start and end to the second, those of the group's first crime."""
    crimes = _read(folder, "crimes").sort_values(["reported_date", "crime_id"], ignore_index=True)
    first = crimes.groupby(crimes.index // group).transform("first")
    for column in ("reported_date", "offence_start", "offence_end"):
        crimes[column] = first[column]
    # an outcome dated before the shared reported date would be a broken rule, not this shape
    early = (crimes["outcome_date"] != "") & (crimes["outcome_date"] < crimes["reported_date"])
    crimes.loc[early, "outcome_date"] = crimes.loc[early, "reported_date"]
    _write(folder, "crimes", crimes)


def ids_only(folder: Path) -> None:
    """No person anywhere has a name or a date of birth: nominal ids only."""
    persons = _read(folder, "crime_persons")
    persons[["forename", "surname", "date_of_birth"]] = ""
    _write(folder, "crime_persons", persons)
    for name, prefix in (("intelligence", "subject_"), ("orders", "subject_")):
        frame = _read(folder, name)
        frame[[f"{prefix}forename", f"{prefix}surname", f"{prefix}date_of_birth"]] = ""
        _write(folder, name, frame)


def every_suspect_unknown(folder: Path) -> None:
    """Every suspect and offender is unknown: each under a nominal id of their own on each
    crime, with no name, date of birth, sex, postcode or known relationship."""
    persons = _read(folder, "crime_persons")
    suspects = persons["role"].isin(["suspect", "offender"])
    persons.loc[suspects, "person_id"] = [f"UNK{i:08d}" for i in range(int(suspects.sum()))]
    persons.loc[suspects, ["forename", "surname", "date_of_birth", "postcode"]] = ""
    persons.loc[suspects, "sex"] = "U"
    persons.loc[suspects, "relationship_to_victim"] = "unknown"
    _write(folder, "crime_persons", persons)
    for name, column in (("intelligence", "subject_person_id"), ("orders", "subject_person_id")):
        frame = _read(folder, name)
        frame[column] = ""
        _write(folder, name, frame)


def orders_only(folder: Path) -> None:
    """No crime is in the stalking universe, but the force holds Stalking Protection Orders
    and their breaches (orders are delivered apart from crimes)."""
    no_stalking_or_harassment(folder)
    orders = _read(folder, "orders")
    orders["order_type"] = "SPO"
    _write(folder, "orders", orders)


def odd_order_dates(folder: Path) -> None:
    """Breaches dated on their order's granted date; orders that expired before the quarter
    still marked granted; an order granted and expiring on one day."""
    orders = _read(folder, "orders")
    granted = orders["granted_date"] != ""
    breaches = _read(folder, "breaches")
    # (the generator repeats a few order keys: the first is the one loaded)
    first_granted = orders.drop_duplicates("order_id").set_index("order_id")["granted_date"]
    on = breaches["order_id"].map(first_granted).fillna("")
    breaches.loc[on != "", "breach_date"] = on[on != ""]
    _write(folder, "breaches", breaches)
    expired = orders.index[granted & (orders["expiry_date"] != "")][:10]
    orders.loc[expired, "status"] = "granted"
    one_day_order = orders.index[granted & ~orders["order_id"].isin(breaches["order_id"])][-1]
    orders.loc[one_day_order, "expiry_date"] = orders.loc[one_day_order, "granted_date"]
    _write(folder, "orders", orders)


# The end of the last delivered week of `last_quarter_one_week` (the quarter after the tiny
# force's last complete one starts 2026-01-01).
ONE_WEEK_END = "2026-01-07"


def last_quarter_one_week(folder: Path) -> None:
    """The delivery runs one week into a new quarter: the crimes of a week a year before
    (reported 2025-01-08 to 14), moved on 358 days to 2026-01-01 to 07, with their people."""
    crimes = _read(folder, "crimes")
    week = crimes[crimes["reported_date"].between("2025-01-08", "2025-01-14")].copy()
    ids = {old: f"{old}W" for old in week["crime_id"]}
    week["crime_id"] = week["crime_id"].map(ids)
    later = pd.Timedelta(days=358)
    week["reported_date"] = (pd.to_datetime(week["reported_date"]) + later).dt.strftime("%Y-%m-%d")
    for column in ("offence_start", "offence_end"):
        moved = pd.to_datetime(week[column], format="ISO8601") + later
        week[column] = moved.dt.strftime("%Y-%m-%dT%H:%M:%S").where(week[column] != "", "")
    for column in ("outcome_code", "outcome_date", "needs_assessment_date"):
        week[column] = ""
    week["support_referral_date"] = ""
    assert "2026-01-01" <= week["reported_date"].max() <= ONE_WEEK_END
    _write(folder, "crimes", pd.concat([crimes, week], ignore_index=True))
    persons = _read(folder, "crime_persons")
    theirs = persons[persons["crime_id"].isin(ids)].copy()
    theirs["crime_id"] = theirs["crime_id"].map(ids)
    _write(folder, "crime_persons", pd.concat([persons, theirs], ignore_index=True))


def first_quarter(folder: Path) -> None:
    """The delivery unchanged, profiled at its first quarter (tests/test_shapes.py QUARTERS):
    the quarters it is compared with end before the first crime."""


# Dates of birth of `odd_dates_of_birth`: 29 February of leap years, over 110 years before the
# run, and the far past a mistyped year makes.
LEAP_DAY_BIRTHS = ("1992-02-29", "2000-02-29", "1984-02-29")
VERY_OLD_BIRTHS = ("1900-01-01", "1899-12-31", "1066-10-14", "0001-01-01")


def odd_dates_of_birth(folder: Path) -> None:
    """Dates of birth a records system holds: 29 February, more than 110 years ago (to year 1),
    and after the crime the person is on (a victim's child recorded with the parent's crime, or
    a mistyped year); and offences timed in the hour the clocks skip (spring) or repeat
    (autumn), the end after the start on the clock."""
    persons = _read(folder, "crime_persons")
    crimes = _read(folder, "crimes")
    reported = crimes.drop_duplicates("crime_id").set_index("crime_id")["reported_date"]
    # the very old on the latest crimes (the quarters the demographic tables show), the rest
    # on the earliest; no one is 65 or over (the leap-day births are of 1984 and after)
    born = persons.index[persons["date_of_birth"] != ""]
    born = persons.loc[born, "crime_id"].map(reported).fillna("").sort_values().index
    leap, old, late = born[:30], born[-20:], born[30:50]
    persons.loc[leap, "date_of_birth"] = [LEAP_DAY_BIRTHS[i % 3] for i in range(len(leap))]
    persons.loc[old, "date_of_birth"] = [VERY_OLD_BIRTHS[i % 4] for i in range(len(old))]
    after = pd.to_datetime(persons.loc[late, "crime_id"].map(reported), errors="coerce")
    persons.loc[late, "date_of_birth"] = (
        (after + pd.Timedelta(days=30)).dt.strftime("%Y-%m-%d").fillna("").values
    )
    _write(folder, "crime_persons", persons)
    # crimes reported on or after the day of the change (an offence before its report)
    timed = crimes["offence_start"] != ""
    spring = crimes.index[timed & (crimes["reported_date"] >= "2025-03-30")][:20]
    autumn = crimes.index[timed & (crimes["reported_date"].between("2024-10-27", "2025-03-01"))][
        :20
    ]
    crimes.loc[spring, ["offence_start", "offence_end"]] = [
        "2025-03-30T01:30:00",
        "2025-03-30T02:45:00",
    ]
    crimes.loc[autumn, ["offence_start", "offence_end"]] = [
        "2024-10-27T01:10:00",
        "2024-10-27T01:50:00",
    ]
    _write(folder, "crimes", crimes)


# Reported dates of `ancient_crime_dates`: the far past a records system's default or a
# migration's placeholder writes.
ANCIENT_DATES = ("0001-01-01", "1753-01-01", "1900-01-01")


def ancient_crime_dates(folder: Path) -> None:
    """Three stalking crimes reported on dates centuries before the delivery (year 1, SQL
    Server's 1753 minimum, 1900), with their people and no other date."""
    _add_stalking_crimes_reported_on(folder, ANCIENT_DATES, "ANC", offence_times=False)


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
    "ids_like_numbers": ids_like_numbers,
    "online_crimes_located_intelligence": online_crimes_located_intelligence,
    "locations_on_the_boundary": locations_on_the_boundary,
    "same_timestamps": same_timestamps,
    "ids_only": ids_only,
    "every_suspect_unknown": every_suspect_unknown,
    "orders_only": orders_only,
    "odd_order_dates": odd_order_dates,
    "last_quarter_one_week": last_quarter_one_week,
    "first_quarter": first_quarter,
    "odd_dates_of_birth": odd_dates_of_birth,
    "ancient_crime_dates": ancient_crime_dates,
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
