"""What is typed where a name is not known ("UNKNOWN", "N/K", "Persons Unknown") is no name: as
a name, every unknown suspect would share a surname with every other and be compared, and
linked, on it. Real short surnames stay names."""

from __future__ import annotations

import duckdb

from pipelines.resolution.resolve import _standardise_sql


def _standardise(con: duckdb.DuckDBPyConnection, has: set[str], placeholder_dates: tuple) -> None:
    con.execute(
        "create or replace table mentions_std as " + _standardise_sql(has, placeholder_dates)
    )


def test_placeholder_names_standardise_to_missing() -> None:
    con = duckdb.connect()
    con.execute(
        "create table mentions_in as select * from (values "
        "('1', 'P1', 'UNKNOWN', 'Unknown', null), "
        "('2', 'P2', 'John', 'N/K', null), "
        "('3', 'P3', 'persons', 'Persons Unknown', null), "
        "('4', 'P4', 'Min', 'Na', null), "
        "('5', 'P5', 'xxx', ' o''Neill ', null)"
        ") as t(mention_id, person_id, forename, surname, date_of_birth)"
    )
    _standardise(con, {"mention_id", "person_id", "forename", "surname"}, ())
    got = con.execute(
        "select mention_id, forename_std, surname_std from mentions_std order by mention_id"
    ).fetchall()
    assert got == [
        ("1", None, None),
        ("2", "john", None),
        ("3", "persons", None),
        ("4", "min", "na"),
        ("5", None, "oneill"),
    ]


def test_placeholder_dates_of_birth_standardise_to_missing_as_configured() -> None:
    """The settings' placeholder birth dates (persons.placeholder_dates_of_birth) are no date of
    birth to resolution; a force that lists none keeps every date."""
    import datetime as dt

    from pipelines.settings import Settings

    con = duckdb.connect()
    con.execute(
        "create table mentions_in as select * from (values "
        "('1', 'P1', 'Ann', 'Lee', '1970-01-01'), "
        "('2', 'P2', 'Ann', 'Lee', '1900-01-01'), "
        "('3', 'P3', 'Ann', 'Lee', '1970-01-02')"
        ") as t(mention_id, person_id, forename, surname, date_of_birth)"
    )
    has = {"mention_id", "person_id", "forename", "surname", "date_of_birth"}
    shipped = Settings().persons.placeholder_dates_of_birth
    assert dt.date(1970, 1, 1) in shipped and dt.date(1900, 1, 1) in shipped
    _standardise(con, has, shipped)
    got = con.execute("select mention_id, dob from mentions_std order by mention_id").fetchall()
    assert got == [("1", None), ("2", None), ("3", dt.date(1970, 1, 2))]
    _standardise(con, has, ())
    got = con.execute("select mention_id, dob from mentions_std order by mention_id").fetchall()
    assert [dob for _, dob in got] == [
        dt.date(1970, 1, 1),
        dt.date(1900, 1, 1),
        dt.date(1970, 1, 2),
    ]
