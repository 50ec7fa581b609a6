"""Identity lineage and movement across two consecutive quarterly runs of the real pipeline.

Run 1 profiles the tiny force's extracts cut at the end of the earlier quarter; run 2 profiles
the whole extract for the later quarter into the same warehouse, with one new crime whose
suspect record carries the nominal id of the top-ranked subject of run 1 and the exact name,
date of birth and postcode of another suspect: new records that join two existing people. The
tests check that the merge is recorded in marts.person_key_lineage, that movement follows the
merged person instead of showing a new subject, that keys are otherwise stable, and that
re-running a quarter replaces its kept rows instead of duplicating them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.quarters import quarter_end, shift_quarter
from tests.conftest import (
    LATER_RUN_NICENESS,
    LATER_RUN_TIMEOUT,
    TINY_END_QUARTER,
    BackgroundRuns,
    fork_run,
)

LATER = TINY_END_QUARTER
EARLIER = shift_quarter(LATER, -1)
MOVEMENTS = {"new", "returning", "up", "down", "same"}


@dataclass(frozen=True)
class TwoRuns:
    warehouse: Path
    out: Path
    subject_key: str  # rank 1 of the earlier run
    other_key: str  # the suspect whose details the bridging record carries


def _profile(
    extracts: Path, quarter: str, out: Path, warehouse: Path, state: Path, running: list
) -> None:
    """`spp profile` in its own process (forked from the session's run server) with its own
    state, as an analyst runs a quarter; the process is put in `running` so that a session
    stopping early can kill it."""
    run_date = (quarter_end(quarter) + dt.timedelta(days=15)).isoformat()
    env = {**os.environ, "SPP_STATE_DIR": str(state), "DAGSTER_HOME": str(state / "dagster")}
    argv = [
        "profile",
        "--extracts", str(extracts),
        "--quarter", quarter,
        "--out", str(out),
        "--warehouse", str(warehouse),
        "--run-date", run_date,
    ]  # fmt: skip
    console = state.parent / f"console-{quarter}.txt"
    process = fork_run("pipelines.cli:entry", argv, env, console, LATER_RUN_NICENESS)
    running.append(process)
    code = process.wait(timeout=LATER_RUN_TIMEOUT)
    assert code == 0, f"spp profile {quarter} failed: {process.console_text()[-2000:]}"


def _pick_pair(warehouse: Path, extracts: Path) -> tuple[str, str, dict, str]:
    """The earlier run's top subject, another suspect with a close date of birth, that
    suspect's recorded details, and one nominal id of the top subject."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        top = con.execute(
            "select person_key from reporting.rpt_tasking_list "
            "where quarter = ? and is_on_tasking_list order by rank limit 1",
            [EARLIER],
        ).fetchone()
        assert top, "the tiny force should have someone on the earlier list"
        subject = top[0]
        subject_ids = {
            r[0]
            for r in con.execute(
                "select person_id from marts.person_records where person_key = ? "
                "and source = 'crime_persons' and person_id is not null",
                [subject],
            ).fetchall()
        }
        subject_dob = con.execute(
            "select date_of_birth from marts.dim_persons where person_key = ?", [subject]
        ).fetchone()[0]
        candidates = con.execute(
            "select r.person_key, r.record_key from marts.person_records r "
            "join marts.dim_persons d using (person_key) "
            "where r.source = 'crime_persons' and r.role_side = 'perpetrator' "
            "and r.person_key <> ? and d.date_of_birth is not null "
            "and abs(date_diff('year', d.date_of_birth, ?::date)) <= 5 "
            "order by r.person_key, r.record_key",
            [subject, subject_dob or dt.date(1985, 1, 1)],
        ).fetchall()
    rows = {
        f"{r['crime_id']}|{r['person_id']}": r
        for r in csv.DictReader((extracts / "crime_persons.csv").open(encoding="utf-8"))
    }
    for other, record_key in candidates:
        row = rows.get(record_key)
        complete = row and all(row[c] for c in ("forename", "surname", "date_of_birth", "postcode"))
        if complete and row["person_id"] not in subject_ids:
            return subject, other, row, sorted(subject_ids)[0]
    pytest.fail("no second suspect with full details on the tiny force")


def _with_bridging_record(extracts: Path, target: Path, other: dict, subject_id: str) -> Path:
    """The later delivery plus one crime whose suspect joins the two people."""
    shutil.copytree(extracts, target, ignore=shutil.ignore_patterns("truth"))
    crimes = pd.read_csv(target / "crimes.csv", dtype=str, keep_default_na=False)
    template = crimes.iloc[0].copy()
    template[:] = ""
    day = quarter_end(LATER) - dt.timedelta(days=20)
    template.update(
        {
            "crime_id": "CRBRIDGE0001",
            "reported_date": day.isoformat(),
            "offence_code": "195/12",
            "is_domestic_abuse": "false",
            "is_online": "false",
        }
    )
    pd.concat([crimes, template.to_frame().T]).to_csv(target / "crimes.csv", index=False)
    people = pd.read_csv(target / "crime_persons.csv", dtype=str, keep_default_na=False)
    suspect = {c: "" for c in people.columns} | {
        "crime_id": "CRBRIDGE0001",
        "person_id": subject_id,
        "role": "suspect",
        "forename": other["forename"],
        "surname": other["surname"],
        "date_of_birth": other["date_of_birth"],
        "sex": other["sex"],
        "postcode": other["postcode"],
        "relationship_to_victim": "unknown",
    }
    victim = {c: "" for c in people.columns} | {
        "crime_id": "CRBRIDGE0001",
        "person_id": "PBRIDGEVICTIM",
        "role": "victim",
        "forename": "Ottoline",
        "surname": "Quennell",
        "date_of_birth": "1990-02-03",
        "sex": "F",
    }
    pd.concat([people, pd.DataFrame([suspect, victim])]).to_csv(
        target / "crime_persons.csv", index=False
    )
    return target


def profile_two_runs(tiny_force: Path, root: Path, running: list) -> TwoRuns:
    """Run 1 on the extracts cut at the earlier quarter, then run 2 on the whole extract with
    the bridging record, into one warehouse and output folder."""
    from pipelines.synthetic.delivery import cut_delivery

    warehouse, out, state = root / "warehouse.duckdb", root / "out", root / "state"
    earlier = cut_delivery(tiny_force, quarter_end(EARLIER), root / "earlier")
    _profile(earlier, EARLIER, out, warehouse, state, running)
    subject, other_key, other, subject_id = _pick_pair(warehouse, tiny_force)
    later = _with_bridging_record(tiny_force, root / "later", other, subject_id)
    _profile(later, LATER, out, warehouse, state, running)
    return TwoRuns(warehouse, out, subject, other_key)


class LineageRuns(BackgroundRuns[TwoRuns]):
    """The two runs: tests/conftest.py starts them when the session starts (they need the tiny
    force only; they used to run one after the other in the suite's own process)."""

    def __init__(self, tiny_force: Path, root: Path) -> None:
        super().__init__()
        self.tiny_force, self.root = tiny_force, root

    def work(self) -> TwoRuns:
        return profile_two_runs(self.tiny_force, self.root, self.running)


@pytest.fixture(scope="module")
def two_runs(tiny_force: Path) -> TwoRuns:
    from tests.conftest import start_lineage_runs

    return start_lineage_runs(tiny_force).outputs()


def _rows(warehouse: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).df()


def test_new_records_joining_two_people_are_recorded_as_a_merge(two_runs: TwoRuns) -> None:
    lineage = _rows(
        two_runs.warehouse,
        "select * from marts.person_key_lineage where run_quarter = ?",
        [LATER],
    )
    assert set(lineage["previous_run_quarter"]) == {EARLIER}
    now = _rows(
        two_runs.warehouse,
        "select distinct b.person_key as previous_key, r.person_key as current_key "
        "from marts.person_keys_by_run b join marts.person_records r using (source, record_key) "
        "where b.run_quarter = ? and b.person_key in (?, ?)",
        [EARLIER, two_runs.subject_key, two_runs.other_key],
    )
    assert now["current_key"].nunique() == 1, "the bridging record should join the two people"
    merged_into = now["current_key"].iloc[0]
    merged = lineage[(lineage["change"] == "merged") & (lineage["current_key"] == merged_into)]
    assert set(merged["previous_key"]) == {two_runs.subject_key, two_runs.other_key} - {merged_into}
    assert (merged["shared_mentions"] > 0).all()


def test_movement_follows_the_merged_person(two_runs: TwoRuns) -> None:
    merged_into = _rows(
        two_runs.warehouse,
        "select distinct r.person_key from marts.person_keys_by_run b "
        "join marts.person_records r using (source, record_key) "
        "where b.run_quarter = ? and b.person_key = ?",
        [EARLIER, two_runs.subject_key],
    )["person_key"].iloc[0]
    listed = _rows(
        two_runs.warehouse,
        "select * from reporting.rpt_tasking_list where quarter = ? and is_on_tasking_list",
        [LATER],
    )
    assert set(listed["movement"]) <= MOVEMENTS and listed["movement"].notna().all()
    subject = listed[listed["person_key"] == merged_into]
    assert len(subject) == 1, "the top subject, now merged, is still on the list"
    assert subject["movement"].iloc[0] in {"up", "down", "same"}
    assert subject["previous_rank"].notna().all()
    # one of the two earlier keys changed: the row names it rather than showing someone new
    assert "merged" in str(subject["identity_note"].iloc[0])
    dropped = _rows(
        two_runs.warehouse,
        "select person_key from reporting.rpt_tasking_dropped_off where quarter = ?",
        [LATER],
    )
    assert two_runs.subject_key not in set(dropped["person_key"]) - {merged_into}
    # the pack says so too
    pack = (two_runs.out / LATER / "restricted" / "high_harm_perpetrators.csv").read_text()
    assert merged_into in pack


def test_keys_are_stable_between_the_runs(two_runs: TwoRuns) -> None:
    identity = _rows(
        two_runs.warehouse,
        "select * from reporting.rpt_tasking_identity_changes where run_quarter = ?",
        [LATER],
    )
    assert len(identity) == 1
    row = identity.iloc[0]
    assert row["previous_run_quarter"] == EARLIER
    assert row["persons_in_both"] > 100
    assert row["keys_merged"] >= 1
    assert row["share_keeping_key"] >= 0.99, row.to_dict()


def test_rerunning_a_quarter_replaces_its_kept_rows(two_runs: TwoRuns, tmp_path: Path) -> None:
    """dbt builds the kept models again for the later quarter (as a re-run would): the rows
    of that quarter are replaced, the earlier quarter's kept, nothing duplicated."""
    from pipelines.dbt_project import run_dbt
    from pipelines.settings import dbt_vars, load_settings

    copy = tmp_path / "rerun.duckdb"
    shutil.copyfile(two_runs.warehouse, copy)
    count_sql = (
        "select (select count(*) from marts.person_keys_by_run where run_quarter = ?), "
        "(select count(*) from marts.person_keys_by_run where run_quarter = ?), "
        "(select count(*) from marts.person_key_lineage where run_quarter = ?)"
    )
    before = _rows(copy, count_sql, [EARLIER, LATER, LATER]).iloc[0].tolist()
    run_dbt(
        "run",
        "--select",
        "person_keys_by_run person_key_lineage",
        warehouse=copy,
        variables=dbt_vars(load_settings(), profile_quarter=LATER),
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    after = _rows(copy, count_sql, [EARLIER, LATER, LATER]).iloc[0].tolist()
    assert after == before and before[0] > 0 and before[1] > 0


def test_pack_shows_identity_changes_and_movement(two_runs: TwoRuns) -> None:
    html = (two_runs.out / LATER / "restricted" / "high_harm_perpetrators.html").read_text()
    assert f"Identity since the {EARLIER} run" in html
    assert "Dropped off since the previous quarter" in html
    summary = json.dumps(
        _rows(
            two_runs.warehouse,
            "select * from reporting.rpt_tasking_summary where quarter = ?",
            [LATER],
        ).to_dict("records"),
        default=str,
    )
    assert '"subjects_listed"' in summary
