"""A small, valid delivery of the five extracts, built in a test's tmp_path, for the catalogue
of malformed inputs: each case changes one thing and states the exact outcome."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from pathlib import Path

import duckdb

from pipelines.contracts import geo
from pipelines.contracts.loader import LoadResult, load_delivery, load_extract, offence_codes
from pipelines.contracts.schema import EXTRACTS
from pipelines.contracts.structure import check_delivery

TODAY = dt.date(2025, 1, 1)

# A square around York, as the force area (lon -2..-0.5, lat 53.5..54.5).
AREA = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-2, 53.5], [-0.5, 53.5], [-0.5, 54.5], [-2, 54.5], [-2, 53.5]]],
            },
        }
    ],
}


def _crime(i: int, **over: str) -> dict[str, str]:
    row = {
        "crime_id": f"C{i}",
        "reported_date": f"2024-01-{i:02d}",
        "offence_start": f"2024-01-{i:02d} 09:00:00",
        "offence_end": f"2024-01-{i:02d} 10:30:00",
        "offence_code": "195/12",
        "offence_description": "Stalking",
        "included_offence_codes": "008/67" if i == 1 else "",
        "is_domestic_abuse": "true",
        "is_online": "false",
        "latitude": "54.0",
        "longitude": "-1.1",
        "location_type": "dwelling",
        "outcome_code": "1" if i == 2 else "",
        "outcome_date": "2024-03-01" if i == 2 else "",
        "needs_assessment_date": "",
        "support_referral_date": "",
        "right_to_review_informed": "",
        "spo_considered": "false",
        "spo_not_pursued_reason": "",
        "risk_level": "standard",
    }
    row.update(over)
    return row


def base_rows() -> dict[str, list[dict[str, str]]]:
    """Every extract with a few good rows (row n of a list is source row n + 1)."""
    return {
        "crimes": [_crime(i) for i in (1, 2, 3, 4)],
        "crime_persons": [
            {
                "crime_id": f"C{i}",
                "person_id": f"P{i}",
                "role": role,
                "forename": "Alex",
                "surname": "Smith",
                "date_of_birth": "1990-05-01",
                "sex": "F",
                "postcode": "YO1 7HH",
                "relationship_to_victim": "",
            }
            for i, role in ((1, "victim"), (1, "suspect"), (2, "victim"), (3, "offender"))
        ],
        "intelligence": [
            {
                "intel_id": f"I{i}",
                "submitted_date": "2024-02-01",
                "grading": "1-A-P",
                "subject_person_id": "",
                "subject_forename": "Sam",
                "subject_surname": "Jones",
                "subject_date_of_birth": "",
                "victim_person_id": "P1",
                "crime_id": "C1" if i == 1 else "",
                "is_stalking_related": "Y",
                "is_online": "N",
                "latitude": "",
                "longitude": "",
            }
            for i in (1, 2)
        ],
        "orders": [
            {
                "order_id": f"O{i}",
                "order_type": "SPO",
                "status": "granted",
                "subject_person_id": "P2",
                "subject_forename": "",
                "subject_surname": "",
                "subject_date_of_birth": "",
                "protected_person_id": "P1",
                "applied_date": "2024-01-10",
                "granted_date": "2024-01-20",
                "expiry_date": "2026-01-20",
                "crime_id": "C1",
            }
            for i in (1, 2, 3)
        ],
        "breaches": [
            {
                "breach_id": f"B{i}",
                "order_id": f"O{i}",
                "breach_date": "2024-03-01",
                "crime_id": "",
                "action_taken": "arrest",
            }
            for i in (1, 2, 3)
        ],
    }


def to_csv(rows: list[dict[str, str]], columns: list[str] | None = None, eol: str = "\n") -> str:
    columns = columns or (list(rows[0]) if rows else [])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator=eol, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


class Delivery:
    """Rows per extract (editable), written as CSV files on demand."""

    def __init__(self, folder: Path, area: bool = True) -> None:
        self.folder = folder
        self.rows = copy.deepcopy(base_rows())
        self.raw: dict[str, bytes] = {}  # extract -> exact file bytes (overrides rows)
        self.area = area
        self.after_write: list = []  # callables(folder) run after the files are written

    def set(self, extract: str, row: int, **values: str) -> Delivery:
        """Change source row `row` (1-based) of an extract."""
        self.rows[extract][row - 1].update(values)
        return self

    def append(self, extract: str, **values: str) -> int:
        """Add a row (copy of the last one with `values`); returns its source row number."""
        self.rows[extract].append({**self.rows[extract][-1], **values})
        return len(self.rows[extract])

    def write(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        for extract in EXTRACTS:
            path = self.folder / f"{extract}.csv"
            if extract in self.raw:
                path.write_bytes(self.raw[extract])
            else:
                path.write_text(to_csv(self.rows[extract], list(base_rows()[extract][0])))
        if self.area:
            (self.folder / "force_area.geojson").write_text(json.dumps(AREA))
        for hook in self.after_write:
            hook(self.folder)
        return self.folder

    def load(
        self, con: duckdb.DuckDBPyConnection | None = None, only: str | None = None
    ) -> dict[str, LoadResult]:
        """Load the delivery as load_delivery does; with `only`, the whole delivery's
        structure is checked the same way but that extract alone is loaded (for a test of
        the first extract in the load order: the extracts after it cannot change its result,
        and the loader refuses one whose parents are not loaded)."""
        self.write()
        con = con or duckdb.connect()
        self.con = con
        if only is None:
            return load_delivery(con, self.folder, today=TODAY, run_id="test")
        sources = check_delivery(con, self.folder)
        area = geo.resolve_force_area(self.folder, "")
        result = load_extract(
            con,
            self.folder,
            only,
            today=TODAY,
            run_id="test",
            area=area,
            codes=offence_codes(),
            source=sources[only],
        )
        return {only: result}

    def quarantine(self) -> set[tuple[str, int, str]]:
        return {
            (e, int(r), rule)
            for e, r, rule in self.con.execute(
                "select extract, source_row, rule from raw.quarantine"
            ).fetchall()
        }
