"""A force's own export through the worked-example mapping file: `spp check` gives exactly the
result the contract-shaped delivery gives."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from pipelines.cli import EXIT_BAD_DELIVERY, main
from pipelines.paths import DATA_CONTRACTS_DIR
from tests.contracts.delivery import Delivery

EXAMPLE = DATA_CONTRACTS_DIR / "mappings" / "niche_style_example.yaml"
RUN_DATE = "2025-01-01"


def _to_force_export(d: Delivery, folder: Path) -> None:
    """Write crimes and crime_persons as the example's force would export them."""
    mapping = yaml.safe_load(EXAMPLE.read_text())["extracts"]
    for extract, spec in mapping.items():
        inverse_codes = {c: {v: k for k, v in m.items()} for c, m in spec.get("values", {}).items()}
        rows = []
        for row in d.rows[extract]:
            out = {}
            for column, value in row.items():
                if column in spec.get("date_formats", {}) and value:
                    parsed = dt.datetime.fromisoformat(value)
                    value = parsed.strftime(spec["date_formats"][column])
                value = inverse_codes.get(column, {}).get(value, value)
                out[spec["columns"].get(column, column)] = value
            rows.append(out)
        with (folder / spec["file"]).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=spec["delimiter"])
            writer.writeheader()
            writer.writerows(rows)
        (folder / f"{extract}.csv").unlink()


def _check(folder: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / f"{folder.name}.json"
    code = main(
        ["check", "--extracts", str(folder), "--json", str(report), "--run-date", RUN_DATE, *extra]
    )
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_example_mapping_gives_the_contract_result(tmp_path: Path) -> None:
    conforming = Delivery(tmp_path / "conforming")
    conforming.set("crimes", 2, offence_code="195/94", is_online="true", risk_level="high")
    conforming.set("crimes", 3, offence_code="bogus")  # quarantined either way
    conforming.write()
    force = Delivery(tmp_path / "force")
    force.rows = conforming.rows
    force.write()
    _to_force_export(force, force.folder)
    assert not (force.folder / "crimes.csv").exists()

    code, expected = _check(conforming.folder, tmp_path)
    assert code == 0
    code, mapped = _check(force.folder, tmp_path, "--mapping", str(EXAMPLE))
    assert code == 0
    for extract, counts in expected["extracts"].items():
        got = mapped["extracts"][extract]
        assert (got["read"], got["loaded"], got["quarantined"], got["by_rule"]) == (
            counts["read"],
            counts["loaded"],
            counts["quarantined"],
            counts["by_rule"],
        ), extract
    assert mapped["quarter"] == expected["quarter"]


def test_force_export_without_its_mapping_is_refused_with_a_hint(tmp_path: Path, capsys) -> None:
    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    code, _ = _check(force.folder, tmp_path)
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_DELIVERY
    assert "crimes.csv: missing file for extract 'crimes'" in err and "\n" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "extracts: {crimes: {columns: {victim_name: Name}}}",
            "'victim_name' is not a contract column",
        ),
        ("extracts: {offences: {}}", "unknown extract 'offences'"),
        ("extracts: [", "not a valid mapping file"),
        ("extracts: {crimes: {encoding: ebcdic}}", "encoding must be one of"),
    ],
)
def test_a_bad_mapping_file_is_named(tmp_path: Path, capsys, text: str, message: str) -> None:
    d = Delivery(tmp_path / "in")
    d.write()
    mapping = tmp_path / "mine.yaml"
    mapping.write_text(text)
    code, _ = _check(d.folder, tmp_path, "--mapping", str(mapping))
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_DELIVERY and "mine.yaml" in err and message in err and "\n" not in err


def test_mapped_copy_keeps_the_boundary_files(tmp_path: Path) -> None:
    """The force area and the districts travel with the mapped delivery: without them a mapped
    run would silently lose the location rule's area and the places section's districts."""
    from pipelines.contracts.mapping import mapped_copy
    from pipelines.contracts.schema import BOUNDARY_FILE_NAMES

    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    for name in BOUNDARY_FILE_NAMES:
        (force.folder / name).write_text(f'{{"type": "FeatureCollection", "name": "{name}"}}')
    with mapped_copy(force.folder, EXAMPLE) as folder:
        assert folder != force.folder
        for name in BOUNDARY_FILE_NAMES:
            assert (folder / name).read_text() == (force.folder / name).read_text()


def _edited_example(tmp_path: Path, crimes: dict) -> Path:
    mapping = yaml.safe_load(EXAMPLE.read_text())
    mapping["extracts"]["crimes"].update(crimes)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(mapping))
    return path


@pytest.mark.parametrize(
    ("column", "named", "hint"),
    [
        # optional: the crimes used to load with no outcome at all, without a word
        ("outcome_code", "HO_Outcome", "the header has 'HOOutcome'"),
        # required: reported as missing from the private mapped copy, not the force's file
        ("crime_id", "OccurenceNumber", "the header has 'OccurrenceNumber'"),
    ],
)
def test_a_mapped_column_not_in_the_export_is_named(
    tmp_path: Path, capsys, column: str, named: str, hint: str
) -> None:
    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    columns = yaml.safe_load(EXAMPLE.read_text())["extracts"]["crimes"]["columns"]
    mapping = _edited_example(tmp_path, {"columns": {**columns, column: named}})
    code, _ = _check(force.folder, tmp_path, "--mapping", str(mapping))
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_DELIVERY and "\n" not in err
    assert (
        f"{force.folder / 'Occurrences.csv'}: column {named!r}, which the mapping reads as "
        f"{column!r}, is not in the header ({hint})"
    ) in err


def test_a_mapping_with_the_wrong_delimiter_says_so(tmp_path: Path, capsys) -> None:
    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    mapping = _edited_example(tmp_path, {"delimiter": ","})
    code, _ = _check(force.folder, tmp_path, "--mapping", str(mapping))
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_DELIVERY
    assert "the header looks semicolon-delimited: set the mapping's delimiter" in err


def test_a_mapping_names_parquet_as_unsupported(tmp_path: Path, capsys) -> None:
    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    (force.folder / "Occurrences.parquet").write_bytes(b"PAR1")
    mapping = _edited_example(tmp_path, {"file": "Occurrences.parquet"})
    code, _ = _check(force.folder, tmp_path, "--mapping", str(mapping))
    err = capsys.readouterr().err.strip()
    assert (
        code == EXIT_BAD_DELIVERY and "Occurrences.parquet: a mapping reads CSV files only" in err
    )


def _month_first(tmp_path: Path) -> Path:
    """The example mapping with every crimes date format month-first (the force's dates are
    day-first, as the example writes them)."""
    formats = yaml.safe_load(EXAMPLE.read_text())["extracts"]["crimes"]["date_formats"]
    swapped = {c: f.replace("%d/%m", "%m/%d") for c, f in formats.items()}
    return _edited_example(tmp_path, {"date_formats": swapped})


def test_a_date_format_the_dates_contradict_stops_naming_file_column_and_row(
    tmp_path: Path, capsys
) -> None:
    """Day-first dates read month-first swapped day and month silently where the day is 12 or
    less (the rest were left unparsed). One date that reads only the other way (25/01/2024)
    now stops the delivery, naming the force's file, column and data row, never the value."""
    force = Delivery(tmp_path / "force")
    force.set("crimes", 3, reported_date="2024-01-25", offence_start="", offence_end="")
    force.write()
    _to_force_export(force, force.folder)
    code, _ = _check(force.folder, tmp_path, "--mapping", str(_month_first(tmp_path)))
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_DELIVERY and "\n" not in err
    assert (
        f"{force.folder / 'Occurrences.csv'}: column 'ReportedDate': 1 date reads only as "
        "'%d/%m/%Y', not as the mapping's '%m/%d/%Y' at data row 3"
    ) in err
    assert "set the mapping's date_formats reported_date: '%d/%m/%Y'" in err
    assert "25" not in err.replace(str(force.folder), "")


def test_a_column_of_dates_in_both_orders_stops(tmp_path: Path, capsys) -> None:
    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    export = force.folder / "Occurrences.csv"
    text = export.read_text().splitlines()
    # data row 2 month-first (01/30/2024), row 4 day-first (30/01/2024): both cannot be right
    text[2] = text[2].replace("02/01/2024;", "01/30/2024;", 1)
    text[4] = text[4].replace("04/01/2024;", "30/01/2024;", 1)
    export.write_text("\n".join(text) + "\n")
    code, _ = _check(force.folder, tmp_path, "--mapping", str(EXAMPLE))
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_DELIVERY
    assert "column 'ReportedDate': 1 date reads only as '%m/%d/%Y'" in err
    assert "at data row 2" in err and "mixes day-first and month-first dates" in err


def test_dates_that_read_both_ways_load_as_mapped_and_say_so(tmp_path: Path) -> None:
    """Every date with day and month 12 or less cannot tell the formats apart: the mapping is
    kept (the delivery loads) and the check, raw.load_log and data_quality.json say so."""
    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    code, report = _check(force.folder, tmp_path, "--mapping", str(EXAMPLE))
    assert code == 0
    notes = report["extracts"]["crimes"]["notes"]
    assert notes == [
        "Occurrences.csv: every date of 'ReportedDate', 'CommittedFrom', 'CommittedTo', "
        "'OutcomeDate' reads day-first and month-first alike (day and month both 12 or less); "
        "loaded day-first as the mapping says, which no value confirms"
    ]
    # every date of birth is 01/05/1990: the 1st of May or the 5th of January
    assert report["extracts"]["crime_persons"]["notes"] == [
        "OccurrenceNominals.csv: every date of 'DOB' reads day-first and month-first alike (day "
        "and month both 12 or less); loaded day-first as the mapping says, which no value confirms"
    ]


def test_a_date_that_confirms_the_format_leaves_no_note(tmp_path: Path) -> None:
    force = Delivery(tmp_path / "force")
    force.set("crimes", 4, reported_date="2024-01-28", offence_start="", offence_end="")
    force.write()
    _to_force_export(force, force.folder)
    code, report = _check(force.folder, tmp_path, "--mapping", str(EXAMPLE))
    assert code == 0 and report["extracts"]["crimes"]["notes"] == []


def test_a_mapping_note_reaches_the_load_log(tmp_path: Path) -> None:
    """The note travels with the mapped copy into raw.load_log (data_quality.json reads it)."""
    import duckdb

    from pipelines.contracts.loader import load_delivery
    from pipelines.contracts.mapping import mapped_copy

    force = Delivery(tmp_path / "force")
    force.write()
    _to_force_export(force, force.folder)
    con = duckdb.connect()
    with mapped_copy(force.folder, EXAMPLE) as folder:
        load_delivery(con, folder, today=dt.date.fromisoformat(RUN_DATE))
    notes = dict(con.execute("select extract, notes from raw.load_log").fetchall())
    assert [len(notes[e]) for e in ("crimes", "crime_persons", "orders")] == [1, 1, 0]
    assert "which no value confirms" in notes["crimes"][0]
