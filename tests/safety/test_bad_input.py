"""The bad-input suite: a force's first delivery attacked with what real exports contain.

Every case runs the real command line (`spp profile` or `spp check`) on a small delivery with
one defect, and asserts the exit code (3 = bad delivery, 2 = usage, 0 = proceeds), a one-line
message naming the file (and the column or data row where there is one), and that no planted
personal value reaches stdout or stderr. Cases that load assert read = loaded + quarantined for
every extract. Structural cases stop at the gate, before Dagster or any warehouse exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import EXIT_BAD_DELIVERY, EXIT_USAGE, main
from tests.contracts.delivery import Delivery, base_rows, to_csv
from tests.contracts.test_catalogue import STRUCTURAL

RUN_DATE = "2025-01-01"
# Planted in the row a case breaks: none of these may appear in any message.
PLANTED_NAME = ("Zebedee", "Quillfeather")
PLANTED_DOB = "1977-07-17"
PLANTED_POSTCODE = "ZZ1 9QQ"
PLANTED = (*PLANTED_NAME, PLANTED_DOB, PLANTED_POSTCODE)


def _plant(d: Delivery, row: int = 2) -> None:
    d.set(
        "crime_persons",
        row,
        forename=PLANTED_NAME[0],
        surname=PLANTED_NAME[1],
        date_of_birth=PLANTED_DOB,
        postcode=PLANTED_POSTCODE,
    )


def _lines(extract: str, d: Delivery) -> list[bytes]:
    return to_csv(d.rows[extract], list(base_rows()[extract][0])).encode().split(b"\n")


def _set_line(extract: str, line: int, text: bytes) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        lines = _lines(extract, d)
        lines[line] = text
        d.raw[extract] = b"\n".join(lines)

    return mutate


def _whole_file(extract: str, transform: Callable[[bytes], bytes]) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        d.raw[extract] = transform(b"\n".join(_lines(extract, d)))

    return mutate


def _planted_malformed_row(d: Delivery) -> None:
    """A crime_persons row with one field too many, holding a full identity."""
    _plant(d)
    lines = _lines("crime_persons", d)
    lines[2] = lines[2] + b",surplus"
    d.raw["crime_persons"] = b"\n".join(lines)


def _header_rename(extract: str, old: str, new: str) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        lines = _lines(extract, d)
        lines[0] = lines[0].replace(old.encode(), new.encode())
        d.raw[extract] = b"\n".join(lines)

    return mutate


def _parquet_wrong_type(d: Delivery) -> None:
    def hook(folder: Path) -> None:
        (folder / "crimes.csv").unlink()
        rows = d.rows["crimes"]
        table = {c: [r[c] for r in rows] for c in rows[0]}
        table["reported_date"] = [20240101 + i for i in range(len(rows))]
        pq.write_table(pa.table(table), folder / "crimes.parquet")

    d.after_write.append(hook)


def _area_file(text: str) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        d.after_write.append(lambda folder: (folder / "force_area.geojson").write_text(text))

    return mutate


def _rename_file(old: str, new: str) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        d.after_write.append(lambda folder: (folder / old).rename(folder / new))

    return mutate


def _junk_line(d: Delivery) -> None:
    lines = _lines("intelligence", d)
    lines.insert(2, b"x" * (5 * 1024 * 1024))
    d.raw["intelligence"] = b"\n".join(lines)


def _all_crimes(**values: str) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        for row in d.rows["crimes"]:
            row.update(values)

    return mutate


def _grow(d: Delivery, crimes: int = 40) -> None:
    """A delivery big enough for the quarantine limits to apply (they ignore a handful)."""
    for i in range(5, crimes + 1):
        d.append(
            "crimes",
            crime_id=f"C{i}",
            reported_date=f"2024-0{1 + i % 6}-{1 + i % 27:02d}",
            offence_start=f"2024-0{1 + i % 6}-{1 + i % 27:02d} 09:00:00",
            offence_end=f"2024-0{1 + i % 6}-{1 + i % 27:02d} 10:00:00",
            outcome_code="",
            outcome_date="",
        )


def _grown(*mutations: Callable[[Delivery], None]) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        _grow(d)
        for m in mutations:
            m(d)

    return mutate


def _some_crimes(share_every: int, **values: str) -> Callable[[Delivery], None]:
    def mutate(d: Delivery) -> None:
        for i, row in enumerate(d.rows["crimes"]):
            if i % share_every == 0:
                row.update(values)

    return mutate


def _many_small_problems(d: Delivery) -> None:
    """100 crimes, three rules with 4 rows each: every rule under 5 %, together 12 %."""
    _grow(d, 100)
    for row in (10, 20, 30, 40):
        d.set("crimes", row, offence_code="NOPE")
        d.set("crimes", row + 1, is_online="maybe")
        d.set("crimes", row + 2, latitude="north", longitude="west")


@dataclass(frozen=True)
class Case:
    mutate: Callable[[Delivery], None]
    command: str  # profile | check
    code: int
    message: str = ""  # regex the one-line message must match (failures only)
    quarter: str | None = None


CASES: dict[str, Case] = {
    # The structural catalogue, now through the command line.
    **{
        f"structural_{name}": Case(mutate, "profile", EXIT_BAD_DELIVERY, pattern)
        for name, (mutate, pattern) in STRUCTURAL.items()
    },
    "planted_pii_in_malformed_row": Case(
        _planted_malformed_row,
        "profile",
        EXIT_BAD_DELIVERY,
        r"crime_persons\.csv: wrong number of fields \(expected 9, found 10\) at data row 2",
    ),
    "semicolon_delimited": Case(
        _whole_file("crimes", lambda b: b.replace(b",", b";")),
        "profile",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: missing required column 'crime_id'.*semicolon-delimited",
    ),
    "tab_delimited": Case(
        _whole_file("orders", lambda b: b.replace(b",", b"\t")),
        "profile",
        EXIT_BAD_DELIVERY,
        r"orders\.csv: missing required column 'order_id'.*tab-delimited",
    ),
    "header_case_differs": Case(
        _header_rename("crimes", "crime_id", "Crime_ID"),
        "profile",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: missing required column 'crime_id'.*found 'Crime_ID'",
    ),
    "header_with_spaces": Case(
        _header_rename("breaches", "breach_date", "Breach Date"),
        "profile",
        EXIT_BAD_DELIVERY,
        r"breaches\.csv: missing required column 'breach_date'.*found 'Breach Date'",
    ),
    "utf16_file": Case(
        _whole_file("intelligence", lambda b: b.decode().encode("utf-16")),
        "profile",
        EXIT_BAD_DELIVERY,
        r"intelligence\.csv: header is not UTF-8.*UTF-16",
    ),
    "parquet_date_as_integer": Case(
        _parquet_wrong_type,
        "profile",
        EXIT_BAD_DELIVERY,
        r"crimes\.parquet: column 'reported_date': Parquet type int64 cannot hold a date",
    ),
    "junk_line_5mb": Case(
        _junk_line,
        "profile",
        EXIT_BAD_DELIVERY,
        r"intelligence\.csv: wrong number of fields .* at data row 2",
    ),
    "malformed_force_area": Case(
        _area_file("{not json"),
        "profile",
        EXIT_BAD_DELIVERY,
        r"force_area\.geojson: not a GeoJSON polygon layer",
    ),
    "empty_force_area": Case(
        _area_file('{"type": "FeatureCollection", "features": []}'),
        "profile",
        EXIT_BAD_DELIVERY,
        r"force_area\.geojson: the force area holds no polygon",
    ),
    "file_name_upper_case": Case(
        _rename_file("crimes.csv", "CRIMES.csv"),
        "profile",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: missing file for extract 'crimes'.*found CRIMES\.csv",
    ),
    "header_only_crimes": Case(
        lambda d: d.raw.__setitem__("crimes", _lines("crimes", d)[0] + b"\n"),
        "profile",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: no crimes in the file \(header only\)",
    ),
    "every_reported_date_unparseable": Case(
        _all_crimes(reported_date="sometime"),
        "profile",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: column 'reported_date': no parseable reported_date.*YYYY-MM-DD",
    ),
    "every_reported_date_day_first": Case(
        _all_crimes(reported_date="04/01/2024"),
        "profile",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: column 'reported_date': no parseable reported_date.*look DD/MM/YYYY",
    ),
    "quarter_not_a_quarter": Case(
        lambda d: None, "profile", EXIT_USAGE, r"quarter must look like", "2025-Q9"
    ),
    "quarter_before_the_data": Case(
        lambda d: None,
        "profile",
        EXIT_USAGE,
        r"quarter 1999-Q1 is outside the data: crimes were reported from 2024-01-01 to 2024-01-04",
        "1999-Q1",
    ),
    "quarter_after_the_data": Case(
        lambda d: None, "check", EXIT_USAGE, r"quarter 2030-Q1 is outside the data", "2030-Q1"
    ),
    # Quarantine limits (a delivery of 40 crimes): the run would stop before publishing.
    "timezone_suffix_on_every_timestamp": Case(
        _grown(
            lambda d: [
                r.update(offence_start=r["offence_start"] + "+01:00") for r in d.rows["crimes"]
            ]
        ),
        "check",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: column 'offence_start': 100\.0% of 40 rows quarantined by rule "
        r"'unparseable_date' \(limit 5%\), "
        r"e\.g\. data rows 1 and 2; column 'offence_start' carries a timezone suffix",
    ),
    "day_first_dates_on_half": Case(
        _grown(
            lambda d: [
                r.update(reported_date="/".join(reversed(r["reported_date"].split("-"))))
                for r in d.rows["crimes"][::2]
            ]
        ),
        "check",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: .* rule 'unparseable_date'.*column 'reported_date' looks DD/MM/YYYY",
    ),
    "decimal_comma_coordinates": Case(
        _grown(_all_crimes(latitude="54,0", longitude="-1,1")),
        "check",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: .*quarantined by rule 'unparseable_number'.*decimal comma",
    ),
    # a database export writing NULL for no value (the hint used to be none at all)
    "the_word_null_for_no_value": Case(
        _grown(_all_crimes(needs_assessment_date="NULL")),
        "check",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: column 'needs_assessment_date': .*rule 'unparseable_date'.*; "
        r"column 'needs_assessment_date' holds the word NULL for no value",
    ),
    "dates_without_leading_zeros": Case(
        _grown(
            lambda d: [
                r.update(reported_date=r["reported_date"].replace("-0", "-"))
                for r in d.rows["crimes"]
            ]
        ),
        "check",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: column 'reported_date': .*; column 'reported_date' writes dates without "
        r"leading zeros",
    ),
    "unknown_codes_on_a_third": Case(
        _grown(_some_crimes(3, offence_code="STALK-01")),
        "check",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: column 'offence_code': 3\d\.\d% of 40 rows quarantined by rule "
        r"'unknown_code'",
    ),
    "many_rules_together_over_the_extract_limit": Case(
        _many_small_problems,
        "check",
        EXIT_BAD_DELIVERY,
        r"crimes\.csv: columns 'is_online' and 'latitude': 12\.0% of 100 rows quarantined by all "
        r"rules together \(limit 10%\)",
    ),
    "few_bad_rows_in_a_small_extract_proceed": Case(_all_crimes(is_online="maybe"), "check", 0),
    # Row-level problems: quarantined with a reason, the run proceeds, every row accounted for.
    "duplicate_key": Case(lambda d: d.set("crimes", 2, crime_id="C1"), "check", 0),
    "null_required": Case(lambda d: d.set("crimes", 3, offence_code=""), "check", 0),
    "future_date_of_birth": Case(
        lambda d: d.set("crime_persons", 1, date_of_birth="2099-01-01"), "check", 0
    ),
    "missing_reference": Case(lambda d: d.set("crime_persons", 2, crime_id="C99"), "check", 0),
    "outside_force_area": Case(
        lambda d: d.set("crimes", 2, latitude="51.5", longitude="-0.1"), "check", 0
    ),
    "latitude_without_longitude": Case(lambda d: d.set("crimes", 2, longitude=""), "check", 0),
    "end_before_start": Case(
        lambda d: d.set("crimes", 1, offence_end="2023-12-31 10:00:00"), "check", 0
    ),
    "planted_pii_in_quarantined_row": Case(
        lambda d: (_plant(d, 3), d.set("crime_persons", 3, date_of_birth="17/07/1977")),
        "check",
        0,
    ),
    # Unusual but valid: loaded, never a crash.
    "formula_looking_names": Case(
        lambda d: d.set("crime_persons", 1, forename="=HYPERLINK(1)", surname="+Smith"),
        "check",
        0,
    ),
    "one_megabyte_description": Case(
        lambda d: d.set("crimes", 1, offence_description="x" * 1_000_000), "check", 0
    ),
    "unicode_names": Case(
        lambda d: d.set("crime_persons", 1, forename="Zoë 🌟", surname="عبد الله"), "check", 0
    ),
    "embedded_newline_and_quotes": Case(
        lambda d: d.set("crimes", 2, spo_not_pursued_reason='said "no",\nthen yes'), "check", 0
    ),
    "bom_and_crlf": Case(
        _whole_file("crimes", lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n")), "check", 0
    ),
    "header_only_intelligence_orders_breaches": Case(
        lambda d: [
            d.raw.__setitem__(e, _lines(e, d)[0] + b"\n")
            for e in ("intelligence", "orders", "breaches")
        ],
        "check",
        0,
    ),
    "extra_unknown_column": Case(
        lambda d: d.raw.__setitem__(
            "breaches", to_csv([{**r, "niche_ref": "N1"} for r in d.rows["breaches"]]).encode()
        ),
        "check",
        0,
    ),
    "no_force_area_file": Case(lambda d: setattr(d, "area", False), "check", 0),
}


def _run(case: Case, folder: Path, tmp_path: Path) -> list[str]:
    if case.command == "profile":
        return [
            "profile",
            "--extracts",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--warehouse",
            str(tmp_path / "wh" / "warehouse.duckdb"),
            "--run-date",
            RUN_DATE,
            *(["--quarter", case.quarter] if case.quarter else []),
        ]
    return [
        "check",
        "--extracts",
        str(folder),
        "--json",
        str(tmp_path / "check.json"),
        "--run-date",
        RUN_DATE,
        *(["--quarter", case.quarter] if case.quarter else []),
    ]


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 45


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    delivery = Delivery(tmp_path / "in")
    case.mutate(delivery)
    delivery.write()
    code = main(_run(case, delivery.folder, tmp_path))
    captured = capsys.readouterr()
    for value in PLANTED:
        assert value.lower() not in (captured.out + captured.err).lower(), "personal value leaked"
    assert code == case.code, captured.err
    if case.code != 0:
        message = captured.err.strip()
        assert "\n" not in message, "the reason is one line"
        assert re.search(case.message, message), message
        assert not (tmp_path / "wh").exists(), "a refused delivery creates no warehouse"
        assert not (tmp_path / "out").exists(), "a refused delivery publishes nothing"
    if case.command == "check" and (tmp_path / "check.json").exists():
        report = json.loads((tmp_path / "check.json").read_text())
        for extract, counts in report["extracts"].items():
            assert counts["read"] == counts["loaded"] + counts["quarantined"], extract
        assert report["would_run"] is (case.code == 0)
