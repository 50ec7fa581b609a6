"""A small hand-made force whose answers are known, and helpers to build a warehouse from
extracts: load the raw tables, write marts.person_records (as resolution would) and run
`dbt build` into a scratch DuckDB file.

The scenarios (all dates 2023-2024; 2024-Q2 has no crimes at all):
- victim V1 holds two nominal ids (v1a, v1b) resolved to one person: two stalking crimes
  2024-01-10 and 2024-11-20 -> one repeat victim at 2024-Q4, counted once;
- victim V2: stalking crimes 2023-12-31 and 2024-12-31 (366 days apart) -> never a repeat victim;
- suspect S3 stalks V3 and V4 -> serial; S3 also names himself victim on one crime;
- suspect S5 harasses V5 three times in 60 days (risk medium) -> screened as hidden stalking;
- suspect S6 harasses V6 once -> not screened;
- crime C-INC: principal common assault with included stalking code -> identified 'included';
- suspect S7 under a restraining order protecting V7 sends malicious communications twice;
- suspect S9 stalks V9a and V9b, two people to resolution (no link) at one home postcode ->
  two victims in all, counted once toward serial: not serial;
- no intelligence rows at all (the edge case of a force without an intelligence extract's rows).
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.contracts.schema import DUCKDB_TYPES, EXTRACTS
from pipelines.dbt_project import DbtRunFailed
from pipelines.dbt_project import run_dbt as invoke_dbt
from pipelines.resolution.resolve import EVIDENCE_FIELDS
from pipelines.settings import dbt_vars, load_settings

CRIME_COLUMNS = EXTRACTS["crimes"].column_names


def _crime(crime_id: str, reported: str, code: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(CRIME_COLUMNS, "")
    row.update(
        crime_id=crime_id,
        reported_date=reported,
        offence_start=f"{reported}T10:00:00",
        offence_code=code,
        is_domestic_abuse="false",
        is_online="false",
        latitude="53.96",
        longitude="-1.08",
        risk_level="standard",
    )
    row.update({k: v for k, v in extra.items()})
    return row


CRIMES = [
    _crime("C-V1-1", "2024-01-10", "195/12", is_domestic_abuse="true",
           needs_assessment_date="2024-01-12", support_referral_date="2024-01-11"),
    _crime("C-V1-2", "2024-11-20", "008/65", is_domestic_abuse="true",
           needs_assessment_date="2024-12-20", outcome_code="16", outcome_date="2024-12-01",
           right_to_review_informed="true"),
    _crime("C-V2-1", "2023-12-31", "195/12", spo_considered="true",
           spo_not_pursued_reason="victim declined"),
    _crime("C-V2-2", "2024-12-31", "195/12", spo_considered="true"),
    _crime("C-S3-1", "2024-07-05", "195/12", is_online="true", latitude="", longitude=""),
    _crime("C-S3-2", "2024-08-15", "008/66"),
    _crime("C-S5-1", "2024-09-01", "195/94", risk_level="medium"),
    _crime("C-S5-2", "2024-09-20", "195/94", is_online="true", risk_level="medium"),
    _crime("C-S5-3", "2024-10-25", "195/94", is_online="true", risk_level="medium"),
    _crime("C-S6-1", "2024-10-01", "195/94"),
    _crime("C-INC", "2024-03-03", "105/01", included_offence_codes="058/01|195/12"),
    _crime("C-S7-1", "2024-03-10", "008/72", is_domestic_abuse="true", is_online="true"),
    _crime("C-S7-2", "2024-07-10", "008/72", is_domestic_abuse="true", is_online="true"),
    _crime("C-S9-1", "2024-07-03", "195/12"),
    _crime("C-S9-2", "2024-08-20", "195/12"),
]  # fmt: skip

# (crime_id, person_id, role, date_of_birth) ; person_key in PERSON_KEYS
CRIME_PERSONS = [
    ("C-V1-1", "v1a", "victim", "1990-01-01"),
    ("C-V1-1", "s1", "suspect", "1985-05-05"),
    ("C-V1-2", "v1b", "victim", ""),  # same person as v1a, no date of birth
    ("C-V1-2", "s1", "offender", "1985-05-05"),
    ("C-V2-1", "v2", "victim", "1970-02-02"),
    ("C-V2-1", "s2", "suspect", ""),
    ("C-V2-2", "v2", "victim", "1970-02-02"),
    ("C-V2-2", "s2", "suspect", ""),
    ("C-S3-1", "v3", "victim", ""),
    ("C-S3-1", "s3", "suspect", ""),
    ("C-S3-1", "s3v", "victim", ""),  # counter-allegation under a 2nd id: never his own victim
    ("C-S3-2", "v4", "victim", ""),
    ("C-S3-2", "s3", "suspect", ""),
    ("C-S5-1", "v5", "victim", ""),
    ("C-S5-1", "s5", "suspect", ""),
    ("C-S5-2", "v5", "victim", ""),
    ("C-S5-2", "s5", "suspect", ""),
    ("C-S5-3", "v5", "victim", ""),
    ("C-S5-3", "s5", "suspect", ""),
    ("C-S6-1", "v6", "victim", ""),
    ("C-S6-1", "s6", "suspect", ""),
    ("C-INC", "v8", "victim", ""),
    ("C-INC", "s8", "suspect", ""),
    ("C-S7-1", "v7", "victim", ""),
    ("C-S7-1", "s7", "suspect", ""),
    ("C-S7-2", "v7", "victim", ""),
    ("C-S7-2", "s7", "suspect", ""),
    ("C-S9-1", "v9a", "victim", ""),
    ("C-S9-1", "s9", "suspect", ""),
    ("C-S9-2", "v9b", "victim", ""),
    ("C-S9-2", "s9", "suspect", ""),
]

# nominal id -> home postcode recorded on its crimes (none where not listed): V9a and V9b share
# one, V3 and V4 (S3's two victims) have different ones
POSTCODES = {"v9a": "YO1 7HH", "v9b": "YO1 7HH", "v3": "YO10 5DD", "v4": "YO24 1AB"}

# nominal id -> resolved person (v1a and v1b are one person)
PERSON_KEYS = {pid: f"P-{pid}" for _, pid, _, _ in CRIME_PERSONS} | {"v1b": "P-v1a", "s3v": "P-s3"}

ORDERS = [
    {"order_id": "O-1", "order_type": "RO", "status": "granted", "subject_person_id": "s7",
     "protected_person_id": "v7", "applied_date": "2024-01-20", "granted_date": "2024-02-01",
     "expiry_date": "2026-02-01", "crime_id": ""},
    {"order_id": "O-2", "order_type": "SPO", "status": "refused", "subject_person_id": "s3",
     "protected_person_id": "v4", "applied_date": "2024-09-01", "granted_date": "",
     "expiry_date": "", "crime_id": "C-S3-2"},
]  # fmt: skip

BREACHES = [
    {
        "breach_id": "B-1",
        "order_id": "O-1",
        "breach_date": "2024-03-10",
        "crime_id": "C-S7-1",
        "action_taken": "arrest",
    },
]


def _write(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def write_fixture(folder: Path, with_intelligence: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "crimes.csv", CRIME_COLUMNS, CRIMES)
    _write(
        folder / "crime_persons.csv",
        EXTRACTS["crime_persons"].column_names,
        [
            {
                "crime_id": c,
                "person_id": p,
                "role": r,
                "date_of_birth": d,
                "forename": p,
                "postcode": POSTCODES.get(p, ""),
                "relationship_to_victim": (
                    ("ex_partner" if p == "s7" else "acquaintance") if r != "victim" else ""
                ),
            }
            for c, p, r, d in CRIME_PERSONS
        ],
    )
    intel = [
        {"intel_id": "I-1", "submitted_date": "2024-09-25", "is_stalking_related": "true",
         "crime_id": "C-S5-2", "subject_person_id": "s5", "victim_person_id": "v5"},
    ] if with_intelligence else []  # fmt: skip
    _write(folder / "intelligence.csv", EXTRACTS["intelligence"].column_names, intel)
    _write(folder / "orders.csv", EXTRACTS["orders"].column_names, ORDERS)
    _write(folder / "breaches.csv", EXTRACTS["breaches"].column_names, BREACHES)
    return folder


def load_raw(warehouse: Path, extracts: Path) -> None:
    """Typed raw tables straight from the CSVs (types of pipelines/contracts/schema.py). The
    contract loader is exercised by its own tests; these fixtures are clean, and
    loading them directly keeps the analytics tests independent of its validation rules."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw")
        for name, spec in EXTRACTS.items():
            casts = ", ".join(
                f"try_cast(nullif({c.name}, '') as {DUCKDB_TYPES[c.type]}) as {c.name}"
                for c in spec.columns
            )
            con.execute(
                f"create or replace table raw.{name} as select {casts}, "
                f"row_number() over () as _source_row "
                f"from read_csv(?, header=true, all_varchar=true)",
                [str(extracts / f"{name}.csv")],
            )


def write_identity_person_records(warehouse: Path, keys: dict[str, str] | None = None) -> None:
    """marts.person_records as resolution writes it: every mention keyed by its nominal id
    (through `keys` when given, so tests can merge ids into one person)."""
    keys = keys or {}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        mentions = con.execute(
            """
            select 'crime_persons' as source, crime_id || '|' || person_id as record_key, person_id,
                case when role = 'victim' then 'victim' else 'perpetrator' end as role_side
            from raw.crime_persons
            union all
            select 'intelligence_subject', intel_id, subject_person_id, 'perpetrator'
            from raw.intelligence where subject_person_id is not null
            union all
            select 'intelligence_victim', intel_id, victim_person_id, 'victim' from raw.intelligence
            where victim_person_id is not null
            union all
            select 'order_subject', order_id, subject_person_id, 'perpetrator' from raw.orders
            where subject_person_id is not null
            union all
            select 'order_protected', order_id, protected_person_id, 'victim' from raw.orders
            where protected_person_id is not null
            """
        ).df()
        mentions["person_key"] = mentions["person_id"].map(lambda p: keys.get(p, f"P-{p}"))
        con.register("mentions", mentions)
        con.execute(
            "create or replace table marts.person_records as "
            "select *, 1.0::double as cluster_min_probability, "
            "null::varchar as cluster_rule_joins from mentions"
        )
        # no two different people scored as possibly one: every victim is confidently distinct
        con.execute(
            "create or replace table marts.person_links (person_key_l varchar, "
            "person_key_r varchar, match_probability double)"
        )
        # every person is one nominal id: no pair of records joined inside a person
        con.execute(
            "create or replace table marts.person_match_evidence (person_key varchar, "
            "mention_id_l varchar, mention_id_r varchar, joined_by varchar, "
            "match_probability double, match_weight double, holds_person boolean, "
            + ", ".join(f"mw_{field} double" for field in EVIDENCE_FIELDS)
            + ")"
        )
        # one row per person with its recorded home postcode (the serial judgment reads it);
        # each nominal id here holds one postcode, the smallest taken should one hold two
        con.execute(
            "create or replace table marts.dim_persons as "
            "select records.person_key, "
            "min(nullif(upper(trim(persons.postcode)), '')) as postcode "
            "from marts.person_records as records "
            "left join raw.crime_persons as persons "
            "on records.source = 'crime_persons' "
            "and records.record_key = persons.crime_id || '|' || persons.person_id "
            "group by records.person_key"
        )


@dataclass(frozen=True)
class DbtOutput:
    """What a `dbt` command line would have shown: its exit code and its console lines."""

    returncode: int
    stdout: str


def run_dbt(
    warehouse: Path,
    profile_quarter: str,
    args: list[str] | None = None,
    overrides: dict[str, dict[str, object]] | None = None,
) -> DbtOutput:
    variables = dbt_vars(load_settings(), profile_quarter=profile_quarter)
    for section, values in (overrides or {}).items():
        variables[section] = {**variables[section], **values}
    lines: list[str] = []

    def console(event: Any) -> None:
        if event.info.level != "debug":
            lines.append(event.info.msg)

    command, *rest = args or ["build", "--exclude", "reporting"]
    # The reporting layer reads the Python-written marts (hotspots, forecasts), which this
    # fixture does not produce; the marts are what these tests check.
    try:
        invoke_dbt(
            command,
            *rest,
            warehouse=warehouse,
            variables=variables,
            # The run's own target (the profile's `ci` is the same connection): its manifest is
            # the one `prepare` parsed, where `ci` would cost a whole parse per session.
            target_path=warehouse.parent / "dbt_target",
            log_path=warehouse.parent / "dbt_logs",
            callbacks=[console],
        )
    except DbtRunFailed as failure:
        return DbtOutput(1, "\n".join([*lines, str(failure)]))
    return DbtOutput(0, "\n".join(lines))


def build_warehouse(
    folder: Path,
    extracts: Path,
    profile_quarter: str,
    keys: dict[str, str] | None = None,
    overrides: dict[str, dict[str, object]] | None = None,
) -> tuple[Path, DbtOutput]:
    warehouse = folder / "warehouse.duckdb"
    load_raw(warehouse, extracts)
    write_identity_person_records(warehouse, keys)
    write_no_screening_threshold(warehouse)
    return warehouse, run_dbt(warehouse, profile_quarter, overrides=overrides)


def write_no_screening_threshold(warehouse: Path) -> None:
    """marts.screening_threshold as the assurance asset leaves it when nothing is written: empty
    (screening runs at the configured threshold)."""
    import pandas as pd

    from pipelines.warehouse_tables import replace_table

    with duckdb.connect(str(warehouse)) as con:
        replace_table(con, "marts.screening_threshold", pd.DataFrame())


# Screening settings the scenarios are written for (so retuning the defaults never breaks
# them): S5 = repeated + obsessive + medium risk = 3; S7 = repeated + unwanted + ex-partner = 3;
# S6 (one crime, standard risk, acquaintance) = 0.
TEST_SCREENING = {
    "threshold": 3,
    "long_course_days": 7,
    "weights": {
        "repeated": 1,
        "obsessive": 1,
        "fixated": 0,
        "unwanted": 1,
        "escalation": 0,
        "online_repeated": 0,
        "persistent": 0,
        "recorded_stalking": 3,
        "long_course": 1,
        "linked_intelligence": 3,
        "pair_intelligence": 1,
        "high_risk": 2,
        "medium_risk": 1,
        "ex_partner": 1,
        "other_victims": 1,
        "suspect_stalking": 0,
        "victim_intelligence": 0,
        "repeat_victim": 0,
        "sustained": 0,
        "unnamed_suspect_course": 0,
        "stalking_order": 0,
        "victim_recorded_stalking": 0,
        "repeated_concern": 0,
        "varied_intense_course": 0,
        "harassment_intelligence": 0,
        "high_risk_periods": 0,
    },
}


# The quarter the marts tests (tests/analytics/test_profile_marts.py) profile.
MARTS_QUARTER = "2024-Q4"


def build_marts_fixture(folder: Path) -> tuple[Path, Path, DbtOutput]:
    """The marts tests' warehouse: the scenarios' extracts, their person keys and the screening
    settings they are written for, through `dbt build` (warehouse, extracts, dbt's output)."""
    extracts = write_fixture(folder / "extracts")
    warehouse, result = build_warehouse(
        folder, extracts, MARTS_QUARTER, PERSON_KEYS, overrides={"screening": TEST_SCREENING}
    )
    return warehouse, extracts, result


def read_marts_fixture(folder: Path) -> tuple[Path, Path, DbtOutput]:
    """What `python -m tests.analytics.force_fixture FOLDER` built in a process of its own."""
    output = DbtOutput(**json.loads((folder / "dbt_output.json").read_text()))
    return folder / "warehouse.duckdb", folder / "extracts", output


if __name__ == "__main__":
    # tests/conftest.py builds the marts tests' warehouse in a process of its own, started with
    # the session: its `dbt build` (~10 s of CPU) goes on the second core, not the suite's.
    marts_folder = Path(sys.argv[1])
    _, _, marts_output = build_marts_fixture(marts_folder)
    (marts_folder / "dbt_output.json").write_text(json.dumps(asdict(marts_output)))
