"""Parquet extracts written with real column types, the way a force's warehouse or pandas
writes them: dates as timestamps, timestamps with a time zone, flags as integers, and codes
written as floating-point numbers (a structural problem, named with file and column)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.contracts.loader import StructuralError
from tests.contracts.delivery import Delivery, base_rows


def _as_parquet(d: Delivery, extract: str, types: dict[str, pa.Array]) -> None:
    """Replace the extract's CSV by a Parquet file: the base rows as text, except `types`."""

    def hook(folder: Path) -> None:
        rows = d.rows[extract]
        columns = {c: pa.array([r[c] or None for r in rows], pa.string()) for c in rows[0]}
        columns.update(types)
        (folder / f"{extract}.csv").unlink()
        pq.write_table(pa.table(columns), folder / f"{extract}.parquet")

    d.after_write.append(hook)


def _midnights(extract: str, column: str) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(r[column]) for r in base_rows()[extract]]


def test_dates_written_as_timestamps_load_as_their_day(tmp_path: Path) -> None:
    """pandas writes a date column as timestamp[ns] at midnight: every row loads, as its day;
    a date with a time of day is not a date and is quarantined like any unparseable date."""
    d = Delivery(tmp_path / "in")
    reported = _midnights("crimes", "reported_date")
    reported[2] = reported[2].replace(hour=9)  # crime C3
    _as_parquet(d, "crimes", {"reported_date": pa.array(reported, pa.timestamp("ns"))})
    results = d.load()
    assert d.quarantine() == {
        ("crimes", 3, "unparseable_date"),
        ("crime_persons", 4, "references_quarantined_row"),
    }
    assert results["crimes"].loaded == len(base_rows()["crimes"]) - 1
    loaded = dict(d.con.execute("select crime_id, reported_date from raw.crimes").fetchall())
    assert loaded == {
        r["crime_id"]: dt.date.fromisoformat(r["reported_date"])
        for r in base_rows()["crimes"]
        if r["crime_id"] != "C3"
    }


def test_zoned_timestamps_load_as_uk_local_time(tmp_path: Path) -> None:
    """A timestamp stored as an instant (UTC) is the UK wall-clock time it was: in summer one
    hour later, in winter the same; a zoned date at UTC midnight is that day."""
    d = Delivery(tmp_path / "in")
    starts = [
        dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 2, 8, 0, tzinfo=dt.UTC),
        None,
        None,
    ]
    days = [
        dt.datetime.fromisoformat(r["reported_date"]).replace(tzinfo=dt.UTC)
        for r in base_rows()["crimes"]
    ]
    ends = [None] * 4
    _as_parquet(
        d,
        "crimes",
        {
            "offence_start": pa.array(starts, pa.timestamp("us", tz="UTC")),
            "offence_end": pa.array(ends, pa.timestamp("us", tz="UTC")),
            "reported_date": pa.array(days, pa.timestamp("ms", tz="UTC")),
        },
    )
    d.load()
    assert d.quarantine() == set()
    loaded = d.con.execute(
        "select crime_id, reported_date, offence_start from raw.crimes order by crime_id"
    ).fetchall()
    assert loaded[0][2] == dt.datetime(2024, 7, 1, 9, 0)
    assert loaded[1][2] == dt.datetime(2024, 1, 2, 8, 0)
    assert [r[1] for r in loaded] == [
        dt.date.fromisoformat(r["reported_date"]) for r in base_rows()["crimes"]
    ]


def test_flags_written_as_integers_load(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    _as_parquet(d, "crimes", {"is_online": pa.array([1, 0, 0, 2], pa.int8())})
    d.load()
    # 2 is no flag: quarantined as any other value outside true/false, Y/N, 1/0
    assert d.quarantine() == {("crimes", 4, "not_allowed_value")}
    online = d.con.execute("select list(is_online order by crime_id) from raw.crimes").fetchone()
    assert online[0] == [True, False, False]


def test_codes_written_as_floating_point_stop_the_run(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    _as_parquet(d, "crimes", {"outcome_code": pa.array([None, 1.0, None, None], pa.float64())})
    with pytest.raises(StructuralError, match=r"crimes\.parquet: column 'outcome_code': Parquet"):
        d.load()


def test_a_column_with_no_value_at_all_loads(tmp_path: Path) -> None:
    """pandas writes a column holding no value (a flag the force never fills, or a file with
    no rows) with the Parquet type null: it holds any contract type."""
    d = Delivery(tmp_path / "in")
    _as_parquet(d, "crimes", {"spo_considered": pa.nulls(4)})

    def no_rows(folder: Path) -> None:
        (folder / "breaches.csv").unlink()
        columns = {c: pa.nulls(0) for c in base_rows()["breaches"][0]}
        pq.write_table(pa.table(columns), folder / "breaches.parquet")

    d.after_write.append(no_rows)
    results = d.load()
    assert d.quarantine() == set()
    assert results["crimes"].loaded == len(base_rows()["crimes"])
    assert (results["breaches"].read, results["breaches"].loaded) == (0, 0)
    assert d.con.execute("select count(spo_considered) from raw.crimes").fetchone()[0] == 0


def test_dictionary_encoded_text_loads_in_every_column(tmp_path: Path) -> None:
    """pandas writes a category column as a dictionary of strings: text in a date, flag or
    number column like any other text (it used to stop the run as a type that "cannot hold a
    date"); a dictionary of doubles is still numbers in a code column."""
    d = Delivery(tmp_path / "in")
    rows = base_rows()["crimes"]
    text = {
        c: pa.array([r[c] or None for r in rows], pa.string()).dictionary_encode()
        for c in ("reported_date", "offence_start", "is_online", "latitude", "longitude")
    }
    _as_parquet(d, "crimes", text)
    results = d.load()
    assert d.quarantine() == set()
    assert results["crimes"].loaded == len(rows)
    loaded = d.con.execute(
        "select list(reported_date order by crime_id), list(is_online order by crime_id) "
        "from raw.crimes"
    ).fetchone()
    assert loaded[0] == [dt.date.fromisoformat(r["reported_date"]) for r in rows]
    assert loaded[1] == [r["is_online"].lower() in ("true", "y", "1") for r in rows]
    codes = Delivery(tmp_path / "codes")
    outcome = pa.array([None, 1.0, None, None], pa.float64()).dictionary_encode()
    _as_parquet(codes, "crimes", {"outcome_code": outcome})
    with pytest.raises(StructuralError, match=r"crimes\.parquet: column 'outcome_code': Parquet"):
        codes.load()


@pytest.mark.parametrize("zone", ["Europe/London", "UTC"])
def test_dates_made_instants_at_uk_midnight_load_as_their_day(tmp_path: Path, zone: str) -> None:
    """A date column localised to Europe/London before writing (pandas' tz_localize) is an
    instant: in summer 23:00 UTC of the day before. Every such order used to be quarantined
    as "carries a time of day" (two thirds of the tiny force's orders: the run stopped)."""
    from zoneinfo import ZoneInfo

    d = Delivery(tmp_path / "in")
    days = [dt.date(2024, 7, 1), dt.date(2024, 1, 2), dt.date(2024, 3, 31), dt.date(2024, 10, 27)]
    london = [dt.datetime.combine(day, dt.time(), ZoneInfo("Europe/London")) for day in days]
    instants = [t.astimezone(ZoneInfo(zone)) for t in london]
    for row in d.rows["crimes"]:  # no time or outcome to fall before a moved report
        row.update(offence_start="", offence_end="", outcome_date="")
    _as_parquet(d, "crimes", {"reported_date": pa.array(instants, pa.timestamp("us", tz=zone))})
    d.load()
    assert d.quarantine() == set()
    loaded = d.con.execute("select reported_date from raw.crimes order by crime_id").fetchall()
    assert [r[0] for r in loaded] == days
