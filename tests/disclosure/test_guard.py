"""The publish guard: a clean profile passes; any planted identifier from the extracts is
caught, the file is withdrawn, and the message never repeats the value."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.disclosure import (
    DisclosureError,
    SensitiveValues,
    WarehouseValues,
    check_published_file,
    load_sensitive_values,
    scan_text,
)
from pipelines.disclosure.guard import SensitiveLookup, guard_vocabulary
from pipelines.report.profile import plotly_library


@pytest.fixture(scope="module")
def extract_values(fixture_db: Path) -> dict[str, str]:
    """Real values from the fixture's raw tables (what a leak would look like)."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        crime_id, person_id, fore, sur, dob, postcode = con.execute(
            "select crime_id, person_id, forename, surname, date_of_birth, postcode "
            "from raw.crime_persons where forename is not null and surname is not null "
            "and date_of_birth is not null and postcode is not null order by crime_id limit 1"
        ).fetchone()
        order_id = con.execute("select order_id from raw.orders limit 1").fetchone()[0]
        # A person held only in quarantine (the row broke a rule): still personal data.
        q_fore, q_sur, q_postcode = con.execute(
            """
            with quarantined as (
                select
                    json_extract_string(original_row, '$.forename') as forename,
                    json_extract_string(original_row, '$.surname') as surname,
                    json_extract_string(original_row, '$.postcode') as postcode
                from raw.quarantine where extract = 'crime_persons'
            )
            -- Preferably a person whose surname and postcode appear only in quarantine (so
            -- only the quarantine can have taught the guard them); the generated force does
            -- not always hold one, so the most quarantine-only candidate is taken.
            select forename, surname, postcode from quarantined as q
            where forename is not null and surname is not null and postcode is not null
            order by
                exists (select 1 from raw.crime_persons as c where c.surname = q.surname),
                exists (select 1 from raw.crime_persons as c where c.postcode = q.postcode),
                surname, forename
            limit 1
            """
        ).fetchone()
    return {
        "crime_id": crime_id,
        "person_id": person_id,
        "full_name": f"{fore} {sur}",
        "surname_first": f"{sur.upper()}, {fore}",
        "dob_iso": dob.isoformat(),
        "dob_uk": f"{dob:%d/%m/%Y}",
        "dob_long": f"{dob.day} {dob:%B %Y}",
        "postcode": postcode,
        "postcode_nospace": postcode.replace(" ", ""),
        "order_id": order_id,
        "quarantined_name": f"{q_fore} {q_sur}",
        "quarantined_postcode": q_postcode,
    }


@pytest.fixture(scope="module", params=["in_python", "in_the_warehouse"])
def sensitive(request, fixture_db: Path) -> Iterator[SensitiveLookup]:
    """Both sources of the guard's lookup: every value loaded into Python sets, and the
    values left in DuckDB (what the publish stage uses); every guard test runs with each."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        if request.param == "in_python":
            yield load_sensitive_values(con)
        else:
            yield WarehouseValues(con)


@pytest.fixture(scope="module")
def allowed(fixture_db: Path) -> set[str]:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        return guard_vocabulary(con)


def test_clean_profile_passes(rendered, sensitive, allowed) -> None:
    report = scan_text(
        rendered.path.read_text(), sensitive, allowed_words=allowed, library=plotly_library()
    )
    assert report.ok, report.hits
    assert report.tokens_scanned > 1000 and report.values_checked > 1000


@pytest.mark.parametrize(
    ("leak", "kind"),
    [
        ("crime_id", "crime_id"),
        ("person_id", "person_id"),
        ("full_name", "name"),
        ("surname_first", "name"),
        ("dob_iso", "date_of_birth"),
        ("dob_uk", "date_of_birth"),
        ("dob_long", "date_of_birth"),
        ("postcode", "postcode"),
        ("postcode_nospace", "postcode"),
        ("order_id", "record_id"),
        ("quarantined_name", "name"),
        ("quarantined_postcode", "postcode"),
    ],
)
def test_planted_leak_is_caught_and_withdrawn(
    rendered, sensitive, allowed, extract_values, tmp_path: Path, leak: str, kind: str
) -> None:
    value = extract_values[leak]
    html = rendered.path.read_text()
    # Plant it where a careless change could put it: inside a table cell.
    planted = html.replace("</tbody>", f"<tr><td>{value}</td></tr></tbody>", 1)
    target = tmp_path / "profile.html"
    target.write_text(planted)
    with pytest.raises(DisclosureError) as caught:
        check_published_file(target, sensitive, allowed_words=allowed, library=plotly_library())
    message = str(caught.value)
    assert kind in message
    assert value.lower() not in message.lower(), "the guard echoed the personal value"
    for part in value.replace(",", " ").split():
        if len(part) >= 3:
            assert part.lower() not in message.lower(), "the guard echoed part of the value"
    assert not target.exists(), "a file that failed the guard was left in place"


def test_leak_inside_chart_data_is_caught(rendered, sensitive, allowed, extract_values) -> None:
    html = rendered.path.read_text()
    planted = html.replace('"name":"Domestic abuse"', f'"name":"{extract_values["full_name"]}"')
    assert planted != html
    report = scan_text(planted, sensitive, allowed_words=allowed, library=plotly_library())
    assert report.hits.get("name")


def test_leak_hidden_in_the_plotly_library_is_caught(
    rendered, sensitive, allowed, extract_values
) -> None:
    library = plotly_library()
    html = rendered.path.read_text()
    tampered = html.replace(library, library + f"/* {extract_values['crime_id']} */")
    report = scan_text(tampered, sensitive, allowed_words=allowed, library=library)
    assert report.hits.get("crime_id")


def test_surname_that_is_a_template_word_does_not_block(sensitive) -> None:
    values = SensitiveValues()
    values.add_tokens("name", ["online", "harrow"])
    values.add_pairs("name", ["jane online"])
    text = "<p>27% carried the online flag.</p>"
    assert scan_text(text, values, allowed_words={"online", "carried"}).ok
    assert not scan_text("<p>Jane Online</p>", values, allowed_words={"online"}).ok
    assert not scan_text("<p>Harrow</p>", values, allowed_words={"online"}).ok


def test_scan_is_one_pass_over_tokens_not_one_regex_per_value() -> None:
    values = SensitiveValues()
    values.add_tokens("crime_id", (f"cr{i:010d}" for i in range(200_000)))
    values.add_tokens("name", (f"name{i}" for i in range(100_000)))
    text = " ".join(f"word{i} 12 345 fig" for i in range(100_000)) + " CR0000123456"
    # CPU time, not wall: the bound is about the algorithm (one pass, not one regex per value,
    # which would take hours here), so it must not fail because the machine is busy.
    started = time.process_time()
    report = scan_text(text, values)
    cpu_seconds = time.process_time() - started
    assert report.hits == {"crime_id": 1}
    assert cpu_seconds < 20, f"scan took {cpu_seconds:.1f} s CPU for 300k values over 400k tokens"


def test_dates_that_are_not_births_do_not_trip_the_guard(sensitive, allowed) -> None:
    # The profile prints quarter spans and the run date in words; none is a date of birth
    # in the fixture (all births are before 2002).
    text = f"<p>Produced {dt.date(2026, 1, 15):%d %B %Y}; 1 October 2025 to 31 December 2025</p>"
    assert scan_text(text, sensitive, allowed_words=allowed).ok


@pytest.mark.parametrize(
    ("published", "leak"),
    [("fms/demand.csv", "person_id"), ("gis/hotspots.geojson", "full_name")],
)
def test_data_files_published_beside_the_profile_are_guarded_too(
    fixture_db: Path, extract_values, tmp_path: Path, published: str, leak: str
) -> None:
    """The FMS CSV and the GIS layer go out with the profile: a clean one passes (and is
    listed), a planted identifier withdraws that file and the profile, naming the file."""
    from pipelines.publish import publish_profile

    clean_dir, leaky_dir = tmp_path / "clean" / "2025-Q4", tmp_path / "leaky" / "2025-Q4"
    for quarter_dir, extra in ((clean_dir, ""), (leaky_dir, extract_values[leak])):
        target = quarter_dir / published
        target.parent.mkdir(parents=True)
        target.write_text(f"series,quarter,value\nall_stalking,2025-Q4,42 {extra}\n")
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        result = publish_profile(con, "2025-Q4", clean_dir)
        assert result.data_files_checked == (published,)
        assert result.path.exists()
        with pytest.raises(DisclosureError) as caught:
            publish_profile(con, "2025-Q4", leaky_dir)
    assert published in str(caught.value)
    assert extract_values[leak].lower() not in str(caught.value).lower()
    assert not (leaky_dir / published).exists()
    assert not list(leaky_dir.glob("profile.html*")), "the profile went out beside a leak"


@pytest.mark.parametrize("leak", ["full_name", "dob_as_date_cell"])
def test_workbook_cells_are_guarded(
    fixture_db: Path, extract_values, tmp_path: Path, leak: str
) -> None:
    """The FMS workbook is zipped XML: the guard reads its cells (text and dates) rather than
    its bytes, so a name or a date of birth typed into any sheet is caught."""
    from openpyxl import Workbook

    from pipelines.publish import publish_profile

    quarter_dir = tmp_path / "2025-Q4"
    target = quarter_dir / "fms" / "demand.xlsx"
    target.parent.mkdir(parents=True)
    book = Workbook()
    book.active.title = "projection"
    book.active.append(["series", "year", "value"])
    book.active.append(["all_stalking", "2026/27", 42])
    notes = book.create_sheet("assumptions")
    if leak == "full_name":
        notes.append(["Source", f"as advised by {extract_values['full_name']}"])
    else:
        notes.append(["Valid from", dt.date.fromisoformat(extract_values["dob_iso"])])
    book.save(target)
    with (
        duckdb.connect(str(fixture_db), read_only=True) as con,
        pytest.raises(DisclosureError) as caught,
    ):
        publish_profile(con, "2025-Q4", quarter_dir)
    assert "fms/demand.xlsx" in str(caught.value)
    assert not target.exists()
    assert not list(quarter_dir.glob("profile.html*")), "the profile went out beside a leak"


def test_clean_workbook_passes(fixture_db: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    from pipelines.publish import publish_profile

    quarter_dir = tmp_path / "2025-Q4"
    target = quarter_dir / "fms" / "demand.xlsx"
    target.parent.mkdir(parents=True)
    book = Workbook()
    book.active.append(["series", "year", "value"])
    book.active.append(["all_stalking", "2026/27", 42])
    book.save(target)
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        result = publish_profile(con, "2025-Q4", quarter_dir)
    assert "fms/demand.xlsx" in result.data_files_checked


def test_the_reports_own_words_include_its_models_templates_and_labels() -> None:
    """Words the report prints from its models' templates and YAML labels (not from person
    data) are the report's own: "Fisher's exact test" is no person called Fisher."""
    from pipelines.disclosure.guard import report_vocabulary

    assert {"fisher", "doubled", "perpetrators", "serial", "offenders"} <= report_vocabulary()


def test_the_reports_own_words_include_the_publish_writers_fixed_text() -> None:
    """The fixed text of the writers in pipelines/publish/ is the report's own too, as when they
    lived in pipelines/report/: "auditor" (the dip sample's note) and "adjusted" (a heading of
    the diagnostics page) are written by those modules only."""
    from pipelines.disclosure.guard import report_vocabulary

    assert {"auditor", "adjusted"} <= report_vocabulary()


def test_values_added_after_a_scan_are_caught_by_the_next() -> None:
    """The lookup a scan builds is kept for the next file; a value added since is not missed."""
    values = SensitiveValues()
    values.add_tokens("person_id", ["p-000123"])
    assert scan_text("seen p-000123 here", values).hits == {"person_id": 1}
    assert scan_text("then zz9 8qq", values).ok
    values.add_pairs("postcode", ["zz98qq"])
    assert scan_text("then zz9 8qq", values).hits == {"postcode": 1}
    values.add_tokens("name", ["okonkwo"])
    assert scan_text("Mr Okonkwo", values).hits == {"name": 1}


def test_numeric_ids_that_read_as_figures_do_not_block_but_others_are_caught() -> None:
    """A force whose nominal and crime ids are plain numbers ("114") would find its counts and
    years "leaked" (tests/shapes.py `ids_like_numbers` was refused for 90 of them): such a token
    reads as a figure; an id with a leading zero, eight digits or more, or a letter is caught."""
    values = SensitiveValues()
    values.add_tokens("person_id", ["114", "2025", "00114", "12345678", "p114"])
    values.add_tokens("crime_id", ["7", "0"])
    figures = "<p>114 crimes in 2025; 7 victims; 0 repeat; 1,234 read</p>"
    assert scan_text(figures, values).ok
    leaked = "<td>00114</td><td>12345678</td><td>P114</td>"
    assert scan_text(leaked, values).hits == {"person_id": 3}


def _assert_same_lookup(con: duckdb.DuckDBPyConnection, extra: set[str]) -> None:
    """WarehouseValues answers every probe as the values loaded into Python do: asked every
    loaded value (and some that are none), it finds each with its kind and nothing else."""
    single, runs = load_sensitive_values(con).lookup()
    found_single, found_runs = WarehouseValues(con).lookup_for(
        set(single) | extra, set(runs) | extra
    )
    assert found_single == single
    assert found_runs == runs


NOT_VALUES = {"the", "2025", "zz99zz", "jane nobody", "4 march 1985", "cr-none"}


def test_warehouse_lookup_answers_as_the_loaded_values(fixture_db: Path) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        _assert_same_lookup(con, NOT_VALUES)


def test_warehouse_lookup_normalises_unusual_values_as_python_does() -> None:
    """Values that are not plain ASCII (tabs and no-break spaces at the edges or inside, a
    dotted capital I whose lower case is two characters, accented and full-width letters),
    loaded and quarantined, are normalised by the guard's own Python functions either way."""
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw.crime_persons (crime_id varchar, person_id varchar, "
        "forename varchar, surname varchar, date_of_birth date, postcode varchar)"
    )
    rows = [
        ("\tCR-001 ", "P-\u0130001", "Zo\u00eb", "O'Brien", dt.date(1985, 3, 4), "YO1\t7HH"),
        ("CR-002\u00a0", "p-002", "  Anne-Marie ", "\u0130NCE", dt.date(1990, 1, 2), "yo1 7hh"),
        ("cr-003", " P-003", "\u00c9MILE", "Smith\tJones", None, "\uff39\uff2f1 7HH"),
        ("CR-004", "P-004", None, "Ng", dt.date(2001, 12, 31), " ls2  9jt "),
        ("CR-005", "P-005", "Al", None, None, None),
    ]
    con.executemany("insert into raw.crime_persons values (?, ?, ?, ?, ?, ?)", rows)
    con.execute("create table raw.quarantine (extract varchar, original_row json)")
    held = {
        "crime_id": "CR-Q1\u3000",
        "person_id": "P-Q1",
        "forename": "\u00c5sa",
        "surname": "Lindstr\u00f6m",
        "date_of_birth": "1979-02-30",
        "postcode": "HG1\u00a01AA",
    }
    con.execute("insert into raw.quarantine values ('crime_persons', ?)", [json.dumps(held)])
    _assert_same_lookup(con, NOT_VALUES | {"cr-001 ", "p-i001"})
    # It counts the cells it checks against: 30 in the table but 5 empty, 6 quarantined.
    assert len(WarehouseValues(con)) == 31
    # And it catches them in a text, as the loaded values do.
    text = "<p>Zo\u00eb O'Brien, cr-001, YO1 7HH, \u00c5sa Lindstr\u00f6m, 04/03/1985</p>"
    expected = scan_text(text, load_sensitive_values(con))
    assert expected.hits.keys() == {"name", "crime_id", "postcode", "date_of_birth"}
    assert scan_text(text, WarehouseValues(con)).hits == expected.hits


def test_a_token_of_letters_outside_the_part_alphabet_is_scanned() -> None:
    """Some letters of the token alphabet lower-case outside it (U+023A to U+2C65): a token of
    only those has no word parts, and is looked up as a token without breaking the scan."""
    values = SensitiveValues()
    values.add_tokens("crime_id", ["cr-1"])
    report = scan_text("\u023a-\u023a then CR-1", values)
    assert report.hits == {"crime_id": 1}
    assert report.tokens_scanned == 3
