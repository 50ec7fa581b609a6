"""The catalogue of malformed inputs: each case a small delivery with one defect and the exact
outcome (the run stops with message X, or row N of extract E is quarantined with rule R and
nothing else is)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.contracts.loader import StructuralError
from tests.contracts.delivery import Delivery, base_rows, to_csv

Mutation = Callable[[Delivery], object]


# --------------------------------------------------------------------------- structural
def _drop_file(d: Delivery) -> None:
    d.after_write.append(lambda folder: (folder / "orders.csv").unlink())


def _drop_column(extract: str, column: str) -> Mutation:
    def mutate(d: Delivery) -> None:
        columns = [c for c in base_rows()[extract][0] if c != column]
        d.raw[extract] = to_csv(d.rows[extract], columns).encode()

    return mutate


def _raw(extract: str, data: bytes) -> Mutation:
    def mutate(d: Delivery) -> None:
        d.raw[extract] = data

    return mutate


def _good_csv(extract: str) -> bytes:
    return to_csv(base_rows()[extract]).encode()


def _replace_line(extract: str, line: int, text: bytes) -> Mutation:
    """Replace physical line `line` (0 = header) of the file."""

    def mutate(d: Delivery) -> None:
        lines = _good_csv(extract).split(b"\n")
        lines[line] = text
        d.raw[extract] = b"\n".join(lines)

    return mutate


def _latin1_surname(d: Delivery) -> None:
    d.set("crime_persons", 3, surname="Müller")
    d.raw["crime_persons"] = to_csv(d.rows["crime_persons"]).encode("latin-1")


def _damaged_parquet(d: Delivery) -> None:
    def hook(folder: Path) -> None:
        (folder / "breaches.csv").unlink()
        (folder / "breaches.parquet").write_bytes(b"PAR1 this is not a parquet file")

    d.after_write.append(hook)


def _both_formats(d: Delivery) -> None:
    def hook(folder: Path) -> None:
        rows = d.rows["orders"]
        pq.write_table(
            pa.table({c: [r[c] for r in rows] for c in rows[0]}), folder / "orders.parquet"
        )

    d.after_write.append(hook)


def _gzipped(d: Delivery) -> None:
    import gzip

    def hook(folder: Path) -> None:
        raw = (folder / "orders.csv").read_bytes()
        (folder / "orders.csv.gz").write_bytes(gzip.compress(raw))
        (folder / "orders.csv").unlink()

    d.after_write.append(hook)


STRUCTURAL = {
    "missing_file": (_drop_file, r"orders\.csv: missing file for extract 'orders'"),
    "missing_required_column": (
        _drop_column("crimes", "reported_date"),
        r"crimes\.csv: missing required column 'reported_date'",
    ),
    "missing_key_column": (
        _drop_column("breaches", "breach_id"),
        r"breaches\.csv: missing required column 'breach_id'",
    ),
    "latin1_bytes_in_body": (_latin1_surname, r"crime_persons\.csv: not UTF-8 encoded"),
    "latin1_bytes_in_header": (
        _replace_line(
            "intelligence", 0, "intel_id,submitted_dät,is_stalking_related".encode("latin-1")
        ),
        r"intelligence\.csv: header is not UTF-8",
    ),
    "empty_file": (_raw("breaches", b""), r"breaches\.csv: empty file, no header row"),
    # a header and no rows: valid for intelligence, orders and breaches (a force may have
    # none), never for the people of crimes delivered (they profiled with no victim at all)
    "header_only_crime_persons": (
        _raw("crime_persons", _good_csv("crime_persons").split(b"\n")[0] + b"\r\n\r\n"),
        r"crime_persons\.csv: no rows \(header only\) while crimes\.csv holds crimes",
    ),
    # two exports joined: CRLF records, then LF from data row 3 (DuckDB said only "not
    # readable as CSV (InvalidInputException)")
    "line_ends_changing_mid_file": (
        lambda d: d.raw.__setitem__("crimes", _good_csv("crimes").replace(b"\n", b"\r\n", 3)),
        r"crimes\.csv: line ends change from CRLF to LF at data row 3 \(save the file",
    ),
    # an export that ends every line with a comma (the header too)
    "trailing_delimiter_on_every_line": (
        lambda d: d.raw.__setitem__(
            "breaches", b"".join(line + b",\n" for line in _good_csv("breaches").splitlines())
        ),
        r"breaches\.csv: column 6 of the header has no name \(the header ends with a comma",
    ),
    "header_only_crimes": (
        _raw("crimes", b"\xef\xbb\xbf" + _good_csv("crimes").split(b"\n")[0]),
        r"crimes\.csv: no crimes in the file \(header only\)",
    ),
    "empty_header_line": (
        lambda d: d.raw.__setitem__("orders", b"\n" + _good_csv("orders")),
        r"orders\.csv: empty header row",
    ),
    "duplicate_column": (
        _replace_line("breaches", 0, b"breach_id,order_id,breach_date,crime_id,breach_id"),
        r"breaches\.csv: duplicate column 'breach_id'",
    ),
    "columns_differing_only_in_case": (
        _replace_line(
            "breaches", 0, b"breach_id,order_id,breach_date,crime_id,action_taken,Crime_ID"
        ),
        r"breaches\.csv: columns 'crime_id' and 'Crime_ID' differ only in case",
    ),
    # a header written with ", " between quoted names: it used to say only "missing"
    "space_after_each_comma_of_the_header": (
        _replace_line(
            "breaches", 0, b'"breach_id", "order_id", "breach_date", "crime_id", "action_taken"'
        ),
        r"breaches\.csv: missing required column 'order_id' \(found '\"order_id\"': a space "
        r"after a comma keeps the quotes",
    ),
    "unnamed_column": (
        _replace_line("breaches", 0, b"breach_id,,breach_date,crime_id,action_taken"),
        r"breaches\.csv: column 2 of the header has no name",
    ),
    "too_few_fields": (
        _replace_line("breaches", 2, b"B2,O2"),
        r"breaches\.csv: wrong number of fields \(expected 5, found 2\) at data row 2",
    ),
    "too_many_fields": (
        _replace_line("breaches", 1, b"B1,O1,2024-03-01,,arrest,surplus"),
        r"breaches\.csv: wrong number of fields",
    ),
    "unclosed_quote": (
        _replace_line("breaches", 3, b'B3,O3,2024-03-01,"C1,arrest'),
        r"breaches\.csv: ",
    ),
    "damaged_parquet": (_damaged_parquet, r"breaches\.parquet: unreadable Parquet file"),
    # these three used to say "missing required column" or "missing file" with no cause
    "utf16_without_a_byte_order_mark": (
        lambda d: d.raw.__setitem__("orders", _good_csv("orders").decode().encode("utf-16-le")),
        r"orders\.csv: header holds NUL bytes \(the file looks UTF-16: re-export as UTF-8\)",
    ),
    "a_spreadsheets_delimiter_line_first": (
        lambda d: d.raw.__setitem__("orders", b"sep=,\r\n" + _good_csv("orders")),
        r"orders\.csv: the first line is 'sep=,', not the header",
    ),
    "a_compressed_extract": (
        _gzipped,
        r"orders\.csv: missing file for extract 'orders' \(expected orders\.csv or "
        r"orders\.parquet; found orders\.csv\.gz: unpack compressed files first\)",
    ),
    "csv_and_parquet_of_one_extract": (
        _both_formats,
        r"orders\.csv: both orders\.csv and orders\.parquet are in the folder",
    ),
}


@pytest.mark.parametrize("case", sorted(STRUCTURAL))
def test_structural_problem_stops_before_anything_is_written(tmp_path: Path, case: str) -> None:
    mutate, message = STRUCTURAL[case]
    delivery = Delivery(tmp_path / "in")
    mutate(delivery)
    con = duckdb.connect()
    with pytest.raises(StructuralError, match=message) as raised:
        delivery.load(con)
    # One line, naming the file.
    assert "\n" not in str(raised.value)
    assert str(delivery.folder) in str(raised.value)
    tables = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw'"
    ).fetchone()[0]
    assert tables == 0, "nothing may be written when the delivery is structurally broken"


# --------------------------------------------------------------------------- accepted variants
def test_bom_is_accepted(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.raw["crimes"] = b"\xef\xbb\xbf" + _good_csv("crimes")
    results = d.load()
    assert results["crimes"].loaded == 4 and d.quarantine() == set()
    assert d.con.execute("select min(crime_id) from raw.crimes").fetchone()[0] == "C1"


def test_crlf_line_endings(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.raw["crimes"] = to_csv(d.rows["crimes"], eol="\r\n").encode()
    results = d.load()
    assert results["crimes"].loaded == 4 and d.quarantine() == set()
    assert d.con.execute("select max(risk_level) from raw.crimes").fetchone()[0] == "standard"


def test_lone_cr_line_endings(tmp_path: Path) -> None:
    """An old Mac export ends each line with a CR alone: the header used to be parsed to the
    end of the first 1 MB and crashed `spp check` and `spp profile` with a csv traceback."""
    d = Delivery(tmp_path / "in")
    d.set("crimes", 2, spo_not_pursued_reason="declined\rfor now")
    d.raw["crimes"] = to_csv(d.rows["crimes"], eol="\r").encode()
    results = d.load()
    assert results["crimes"].loaded == 4 and d.quarantine() == set()
    rows = d.con.execute(
        "select crime_id, risk_level, spo_not_pursued_reason from raw.crimes order by _source_row"
    ).fetchall()
    assert [r[0] for r in rows] == ["C1", "C2", "C3", "C4"]
    assert {r[1] for r in rows} == {"standard"}
    assert rows[1][2] == "declined\rfor now"


def test_quoted_commas_and_newlines_in_text(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.set("crimes", 2, spo_not_pursued_reason='Victim declined, "for now"\nreview in June')
    results = d.load()
    assert results["crimes"].loaded == 4 and d.quarantine() == set()
    value = d.con.execute(
        "select spo_not_pursued_reason from raw.crimes where _source_row = 2"
    ).fetchone()[0]
    assert value == 'Victim declined, "for now"\nreview in June'
    # Row numbers count records, not physical lines.
    assert (
        d.con.execute("select crime_id from raw.crimes where _source_row = 3").fetchone()[0] == "C3"
    )


def test_header_only_file_loads_zero_rows(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.raw["intelligence"] = to_csv([], list(base_rows()["intelligence"][0])).encode()
    results = d.load()
    assert (results["intelligence"].read, results["intelligence"].loaded) == (0, 0)
    assert d.con.execute("select count(*) from raw.intelligence").fetchone()[0] == 0


def test_extra_unknown_column_is_ignored(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    rows = [{**r, "force_internal_ref": "X"} for r in d.rows["breaches"]]
    d.raw["breaches"] = to_csv(rows).encode()
    results = d.load()
    assert results["breaches"].loaded == 3
    assert results["breaches"].extra_columns == ["force_internal_ref"]
    columns = {r[0] for r in d.con.execute("describe raw.breaches").fetchall()}
    assert "force_internal_ref" not in columns


def test_optional_column_absent_loads_as_null(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    _drop_column("crimes", "risk_level")(d)
    results = d.load()
    assert results["crimes"].loaded == 4
    assert d.con.execute("select count(risk_level) from raw.crimes").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("TRUE", True), ("False", False), ("Y", True), ("n", False), ("1", True), ("0", False)],
)
def test_boolean_spellings(tmp_path: Path, text: str, expected: bool) -> None:
    d = Delivery(tmp_path / "in")
    d.set("crimes", 1, is_domestic_abuse=text)
    d.load()
    assert d.quarantine() == set()
    value = d.con.execute("select is_domestic_abuse from raw.crimes where crime_id = 'C1'")
    assert value.fetchone()[0] is expected


@pytest.mark.parametrize("postcode", ["YO1 7HH", "yo17hh", "YO1  7HH", "YO10  5DD"])
def test_postcode_spellings_load(tmp_path: Path, postcode: str) -> None:
    """Any case, with or without the space, or padded to a fixed width (the ONS 7-character
    form writes "S1  2AB"): a padded postcode used to quarantine its person's whole row."""
    d = Delivery(tmp_path / "in")
    d.set("crime_persons", 1, postcode=postcode)
    d.load()
    assert d.quarantine() == set()


def test_no_break_spaces_and_quoted_empty_fields_load_as_the_plain_delivery(
    tmp_path: Path,
) -> None:
    """A spreadsheet's no-break space after a child's crime id or an offence code, and `""`
    for an empty optional field: the child still finds its crime, the code is known, the empty
    field is null (no row quarantined)."""
    d = Delivery(tmp_path / "in")
    d.set("crime_persons", 1, crime_id="C1\u00a0")
    d.set("crimes", 3, offence_code="\u00a0195/12\u00a0")
    d.write()
    crimes = (d.folder / "crimes.csv").read_text(encoding="utf-8").replace(",,", ',"",')
    d.raw["crimes"] = crimes.encode("utf-8")
    d.load()
    assert d.quarantine() == set()
    assert d.con.execute(
        "select count(*) from raw.crime_persons where crime_id = 'C1'"
    ).fetchone() == (2,)
    assert d.con.execute(
        "select count(*) from raw.crimes where offence_description = '' or outcome_code = ''"
    ).fetchone() == (0,)


@pytest.mark.parametrize("codes", ["008/65|", "|008/65", "195/94||008/65", " 195/94 | 008/65 |"])
def test_included_codes_with_an_empty_element_load(tmp_path: Path, codes: str) -> None:
    """A trailing or doubled bar (an export joining codes) names no code: the crime loads (it
    used to be quarantined as an unknown code, with its people) and keeps its real codes."""
    d = Delivery(tmp_path / "in")
    d.set("crimes", 2, included_offence_codes=codes)
    d.load()
    assert d.quarantine() == set()


def test_whitespace_around_values_is_trimmed(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.set("crimes", 3, crime_id="  C3 ", reported_date=" 2024-01-03\t", latitude=" 54.0 ")
    d.set("crime_persons", 4, crime_id=" C3")
    d.load()
    assert d.quarantine() == set()
    row = d.con.execute(
        "select crime_id, reported_date, latitude from raw.crimes where _source_row = 3"
    ).fetchone()
    assert row[0] == "C3" and str(row[1]) == "2024-01-03" and row[2] == 54.0


def test_ten_million_character_field(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.set("crimes", 4, offence_description="x" * 10_000_000)
    d.load()
    assert d.quarantine() == set()
    length = d.con.execute(
        "select length(offence_description) from raw.crimes where crime_id = 'C4'"
    )
    assert length.fetchone()[0] == 10_000_000


def test_allowed_values_any_case_load_in_contract_spelling(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.set("crimes", 1, risk_level="HIGH")
    d.set("orders", 2, order_type="spo", status="Granted")
    d.load()
    assert d.quarantine() == set()
    assert (
        d.con.execute("select risk_level from raw.crimes where crime_id='C1'").fetchone()[0]
        == "high"
    )
    assert d.con.execute(
        "select order_type, status from raw.orders where order_id='O2'"
    ).fetchone() == ("SPO", "granted")


def test_zero_padded_outcome_codes_load_as_the_outcome_type(tmp_path: Path) -> None:
    """`016` (a fixed-width export) is outcome type 16; `0`, `00` and `023` are still no type."""
    d = Delivery(tmp_path / "in")
    d.set("crimes", 1, outcome_code="016")
    d.set("crimes", 2, outcome_code="01")
    d.set("crimes", 3, outcome_code="023")
    d.set("crimes", 4, outcome_code="00")
    d.load()
    crimes = {row for row in d.quarantine() if row[0] == "crimes"}
    assert crimes == {("crimes", 3, "unknown_code"), ("crimes", 4, "unknown_code")}
    loaded = dict(
        d.con.execute(
            "select crime_id, outcome_code from raw.crimes where crime_id in ('C1', 'C2')"
        ).fetchall()
    )
    assert loaded == {"C1": "16", "C2": "1"}


def test_parquet_delivery_with_typed_columns(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.write()
    (d.folder / "breaches.csv").unlink()
    table = pa.table(
        {
            "breach_id": ["B1", "B2", "B1"],
            "order_id": ["O1", "O2", "O3"],
            "breach_date": pa.array(
                [_date("2024-03-01"), _date("2024-03-02"), _date("2024-03-03")]
            ),
            "action_taken": ["arrest", "caution", "other"],
        }
    )
    pq.write_table(table, d.folder / "breaches.parquet")
    con = duckdb.connect()
    from pipelines.contracts.loader import load_delivery

    results = load_delivery(con, d.folder, today=d_today())
    assert (results["breaches"].read, results["breaches"].loaded) == (3, 2)
    rows = con.execute("select extract, source_row, rule from raw.quarantine").fetchall()
    assert rows == [("breaches", 3, "duplicate_key")]


def _date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def d_today():
    from tests.contracts.delivery import TODAY

    return TODAY


# --------------------------------------------------------------------------- quarantine
# (mutation, expected quarantine as {(extract, source_row, rule)})
def _dup_crime(d: Delivery) -> set:
    row = d.append("crimes", crime_id="C2")
    return {("crimes", row, "duplicate_key")}


def _child_of_quarantined(d: Delivery) -> set:
    d.set("crimes", 3, reported_date="2024-02-30")
    return {("crimes", 3, "unparseable_date"), ("crime_persons", 4, "references_quarantined_row")}


def _breach_of_quarantined_order(d: Delivery) -> set:
    d.set("orders", 2, expiry_date="2024-01-01")
    return {("orders", 2, "end_before_start"), ("breaches", 2, "references_quarantined_row")}


def _child_of_duplicate(d: Delivery) -> set:
    # The first C2 is bad and the later copy a duplicate: no C2 is loaded, so its people go too.
    d.set("crimes", 2, reported_date="")
    row = d.append("crimes", crime_id="C2")
    return {
        ("crimes", 2, "null_required"),
        ("crimes", row, "duplicate_key"),
        ("crime_persons", 3, "references_quarantined_row"),
    }


def _never_granted(d: Delivery) -> set:
    d.set("orders", 3, status="applied", granted_date="", expiry_date="")
    return {("breaches", 3, "breach_before_grant")}


CHILDREN = {"crimes": ("crime_persons", "crime_id"), "orders": ("breaches", "order_id")}


def _row(extract: str, row: int, rule: str, **values: str) -> Callable[[Delivery], set]:
    """Break one row; its children (rows referencing it) follow it into quarantine."""

    def mutate(d: Delivery) -> set:
        key = d.rows[extract][row - 1].get(CHILDREN.get(extract, ("", "-"))[1])
        d.set(extract, row, **values)
        expected = {(extract, row, rule)}
        if extract in CHILDREN:
            child, column = CHILDREN[extract]
            # A key that is gone leaves its children pointing at nothing at all.
            child_rule = "missing_reference" if column in values else "references_quarantined_row"
            expected |= {
                (child, n, child_rule)
                for n, r in enumerate(d.rows[child], start=1)
                if r[column] == key
            }
        return expected

    return mutate


QUARANTINE: dict[str, Callable[[Delivery], set]] = {
    "impossible_date": _row("crimes", 2, "unparseable_date", reported_date="2024-02-30"),
    "non_iso_date": _row("crimes", 2, "unparseable_date", reported_date="05/01/2024"),
    "unparseable_timestamp": _row("crimes", 1, "unparseable_date", offence_start="yesterday"),
    "timestamp_with_utc_offset": _row(
        "crimes", 1, "unparseable_date", offence_start="2024-01-01T09:00:00+01:00"
    ),
    "unparseable_number": _row("crimes", 4, "unparseable_number", latitude="54.O"),
    "nan_number": _row("crimes", 4, "unparseable_number", longitude="NaN"),
    "null_required": _row("crimes", 1, "null_required", offence_code=""),
    "whitespace_only_required": _row("crime_persons", 2, "null_required", person_id="   "),
    "null_key": _row("orders", 1, "null_required", order_id=""),
    "unknown_offence_code": _row("crimes", 3, "unknown_code", offence_code="999/99"),
    "unknown_included_code": _row(
        "crimes", 2, "unknown_code", included_offence_codes="008/67|999/99"
    ),
    "unknown_outcome_code": _row("crimes", 2, "unknown_code", outcome_code="23"),
    "duplicate_key": _dup_crime,
    "missing_crime": _row("crime_persons", 3, "missing_reference", crime_id="C99"),
    "missing_order": _row("breaches", 1, "missing_reference", order_id="O99"),
    "references_quarantined_crime": _child_of_quarantined,
    "references_quarantined_order": _breach_of_quarantined_order,
    "references_quarantined_duplicates": _child_of_duplicate,
    "lat_without_lon": _row("crimes", 1, "lat_without_lon", longitude=""),
    "lon_without_lat": _row("intelligence", 2, "lat_without_lon", longitude="-1.1"),
    "outside_force_area": _row(
        "crimes", 2, "outside_force_area", latitude="51.5", longitude="-0.1"
    ),
    "intel_outside_force_area": _row(
        "intelligence", 1, "outside_force_area", latitude="51.5", longitude="-0.1"
    ),
    "offence_end_before_start": _row(
        "crimes", 3, "end_before_start", offence_end="2024-01-02 10:00:00"
    ),
    "outcome_before_reported": _row("crimes", 2, "end_before_start", outcome_date="2023-12-31"),
    "expiry_before_grant": _row("orders", 1, "end_before_start", expiry_date="2024-01-19"),
    "breach_before_grant": _row("breaches", 2, "breach_before_grant", breach_date="2024-01-19"),
    "breach_of_never_granted_order": _never_granted,
    "dob_in_future": _row("crime_persons", 1, "dob_in_future", date_of_birth="2025-01-02"),
    # dated after the run date (TODAY, 2025-01-01) or before the earliest plausible date
    # (1900-01-01): a mistyped year stretched the quarter spine to 9999
    "crime_reported_in_future": _row("crimes", 2, "date_in_future", reported_date="9999-12-31"),
    "crime_reported_the_day_after_the_run": _row(
        "crimes", 4, "date_in_future", reported_date="2025-01-02"
    ),
    "crime_reported_in_year_one": _row("crimes", 3, "date_too_early", reported_date="0001-01-01"),
    "outcome_in_future": _row("crimes", 2, "date_in_future", outcome_date="2052-03-01"),
    "intel_submitted_in_future": _row(
        "intelligence", 2, "date_in_future", submitted_date="2205-02-01"
    ),
    "intel_submitted_before_the_floor": _row(
        "intelligence", 1, "date_too_early", submitted_date="1899-12-31"
    ),
    "order_granted_in_future": _row("orders", 2, "date_in_future", granted_date="2025-06-01"),
    "order_applied_before_the_floor": _row(
        "orders", 3, "date_too_early", applied_date="1753-01-01"
    ),
    "breach_in_future": _row("breaches", 1, "date_in_future", breach_date="2042-03-01"),
    "offence_starting_after_the_run_date": _row(
        "crimes", 1, "date_in_future", offence_start="2025-01-02 00:00:00", offence_end=""
    ),
    "offence_ending_in_future": _row(
        "crimes", 4, "date_in_future", offence_end="9999-01-04 10:30:00"
    ),
    "intel_subject_born_in_future": _row(
        "intelligence", 1, "dob_in_future", subject_date_of_birth="2030-01-01"
    ),
    "order_subject_born_in_future": _row(
        "orders", 2, "dob_in_future", subject_date_of_birth="2025-01-02"
    ),
    "role_not_allowed": _row("crime_persons", 2, "not_allowed_value", role="witness"),
    "sex_not_allowed": _row("crime_persons", 3, "not_allowed_value", sex="female"),
    "bad_postcode": _row("crime_persons", 1, "not_allowed_value", postcode="not a postcode"),
    "bool_not_allowed": _row("intelligence", 1, "not_allowed_value", is_stalking_related="maybe"),
    "order_type_not_allowed": _row("orders", 3, "not_allowed_value", order_type="ASBO"),
    "action_not_allowed": _row("breaches", 3, "not_allowed_value", action_taken="warning"),
    "risk_not_allowed": _row("crimes", 4, "not_allowed_value", risk_level="very high"),
    # British National Grid metres where WGS84 degrees belong
    "bng_metres_as_coordinates": _row(
        "crimes", 1, "not_allowed_value", latitude="452113", longitude="460321"
    ),
    "intel_easting_as_longitude": _row(
        "intelligence", 2, "not_allowed_value", latitude="54.0", longitude="460321"
    ),
}


@pytest.mark.parametrize("case", sorted(QUARANTINE))
def test_row_problem_is_quarantined_and_run_goes_on(tmp_path: Path, case: str) -> None:
    delivery = Delivery(tmp_path / "in")
    expected = QUARANTINE[case](delivery)
    results = delivery.load()
    assert delivery.quarantine() == expected
    for extract, result in results.items():
        assert result.read == len(delivery.rows[extract])
        assert result.read == result.loaded + result.quarantined
        bad = {row for e, row, _ in expected if e == extract}
        loaded_rows = {
            r[0] for r in delivery.con.execute(f"select _source_row from raw.{extract}").fetchall()
        }
        assert loaded_rows == set(range(1, result.read + 1)) - bad


def test_dates_on_the_run_date_and_on_the_floor_load(tmp_path: Path) -> None:
    """The bounds are inclusive: a crime reported on the run date itself, or on the earliest
    plausible date, is loaded; an order's expiry after the run date is no event (it loads)."""
    d = Delivery(tmp_path / "in")
    d.set("crimes", 1, reported_date=d_today().isoformat(), outcome_date="")
    d.set("crimes", 1, offence_start="2024-12-31 23:00:00", offence_end="2025-01-01 23:59:59")
    d.set("crimes", 3, reported_date="1900-01-01", outcome_date="")
    d.set("orders", 1, expiry_date="9999-12-31")
    results = d.load()
    assert d.quarantine() == set()
    assert all(r.quarantined == 0 for r in results.values())
    # Great Expectations, on the loaded tables, agrees (a time later on the run date included)
    from pipelines.contracts import geo
    from pipelines.contracts.gx_checks import run_suite

    area = geo.resolve_force_area(d.folder, "")
    for extract in ("crimes", "orders"):
        assert run_suite(d.con, extract, d_today(), area).critical_failures == [], extract


def test_the_earliest_plausible_date_is_a_setting(tmp_path: Path) -> None:
    """A force that sets `ingest.earliest_plausible_date` moves the floor."""
    import duckdb

    from pipelines.contracts.loader import load_delivery

    d = Delivery(tmp_path / "in")
    d.set("crimes", 3, reported_date="2001-05-05")
    d.write()
    con = duckdb.connect()
    load_delivery(con, d.folder, today=d_today(), earliest=_date("2010-01-01"))
    rows = con.execute("select extract, source_row, rule from raw.quarantine").fetchall()
    assert sorted(rows) == [
        ("crime_persons", 4, "references_quarantined_row"),
        ("crimes", 3, "date_too_early"),
    ]


def test_quarantine_keeps_the_whole_original_row(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    rows = [{**r, "extra_note": "kept"} for r in d.rows["crimes"]]
    rows[1]["reported_date"] = "2024-02-30"
    d.raw["crimes"] = to_csv(rows).encode()
    d.load()
    original, detail, run_id = d.con.execute(
        "select original_row, detail, run_id from raw.quarantine where extract = 'crimes'"
    ).fetchone()
    original = json.loads(original)
    assert original["crime_id"] == "C2" and original["extra_note"] == "kept"
    assert original["reported_date"] == "2024-02-30" and set(rows[1]) == set(original)
    assert detail.startswith("reported_date = 2024-02-30") and run_id == "test"


def test_row_breaking_two_rules_takes_the_first_and_details_both(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.set("crimes", 2, offence_code="999/99", longitude="")
    d.load()
    assert d.quarantine() == {
        ("crimes", 2, "unknown_code"),
        ("crime_persons", 3, "references_quarantined_row"),
    }
    detail = d.con.execute("select detail from raw.quarantine where extract = 'crimes'")
    detail = detail.fetchone()[0]
    assert "offence_code" in detail and "longitude" in detail


def test_coordinates_that_are_not_degrees_are_quarantined_without_a_force_area(
    tmp_path: Path,
) -> None:
    """Without a force area no point is outside it, but metres are still no degrees: they
    loaded, and the maps left them off without a word. Swapped degrees (latitude -1.1,
    longitude 54.0) are degrees: with no area to hold them to, they load."""
    d = Delivery(tmp_path / "in", area=False)
    d.set("crimes", 2, latitude="452113", longitude="460321")
    d.set("crimes", 3, latitude="-1.1", longitude="54.0")
    d.load()
    assert d.quarantine() == {
        ("crimes", 2, "not_allowed_value"),
        ("crime_persons", 3, "references_quarantined_row"),
    }


def test_no_force_area_means_no_location_rule_and_says_so(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in", area=False)
    d.set("crimes", 2, latitude="51.5", longitude="-0.1")
    results = d.load()
    assert d.quarantine() == set()
    assert re.search(r"no force area", results["crimes"].force_area)


def test_configured_force_area_applies_without_geojson(tmp_path: Path) -> None:
    from pipelines.contracts.loader import load_delivery
    from tests.contracts.delivery import AREA, TODAY

    d = Delivery(tmp_path / "in", area=False)
    d.set("crimes", 2, latitude="51.5", longitude="-0.1")
    d.write()
    configured = tmp_path / "configured_area.geojson"
    configured.write_text(json.dumps(AREA))
    con = duckdb.connect()
    results = load_delivery(con, d.folder, today=TODAY, configured_area=str(configured))
    assert results["crimes"].by_rule == {"outside_force_area": 1}
    assert "configured" in results["crimes"].force_area


def test_point_a_rounding_error_outside_the_boundary_is_inside(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    # The area's western edge is longitude -2: 3 cm and 100 m beyond it.
    d.set("crimes", 1, longitude="-2.0000005")
    d.set("crimes", 2, longitude="-2.0015")
    d.load()
    assert d.quarantine() == {
        ("crimes", 2, "outside_force_area"),
        ("crime_persons", 3, "references_quarantined_row"),
    }


def test_soft_link_is_loaded_and_counted(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.set("intelligence", 2, crime_id="C99")
    d.set("orders", 1, crime_id="C77")
    results = d.load()
    assert d.quarantine() == set()
    assert sum(results["intelligence"].unlinked.values()) == 1
    assert sum(results["orders"].unlinked.values()) == 1
    logged = d.con.execute(
        "select extract, unlinked_soft_links from raw.load_log order by extract"
    ).fetchall()
    assert dict(logged) == {
        "breaches": 0,
        "crime_persons": 0,
        "crimes": 0,
        "intelligence": 1,
        "orders": 1,
    }


def test_duplicate_key_keeps_the_first_occurrence(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    row = d.append("crimes", crime_id="C2", offence_description="second copy")
    d.load()
    kept = d.con.execute(
        "select _source_row, offence_description from raw.crimes where crime_id='C2'"
    )
    assert kept.fetchall() == [(2, "Stalking")]
    assert d.quarantine() == {("crimes", row, "duplicate_key")}


def test_rerun_replaces_never_appends(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.set("crimes", 2, reported_date="2024-02-30")
    con = duckdb.connect()
    first = d.load(con)
    second = d.load(con)
    assert {e: r.as_dict()["read"] for e, r in first.items()} == {
        e: r.as_dict()["read"] for e, r in second.items()
    }
    counts = con.execute(
        "select (select count(*) from raw.quarantine), (select count(*) from raw.crimes), "
        "(select count(*) from raw.load_log)"
    ).fetchone()
    assert counts == (2, 3, 5)  # C2 and its crime_persons row; 3 crimes; one log row each
