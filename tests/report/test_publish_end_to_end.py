"""Publishing on the tiny synthetic force, through the whole Dagster job (`spp profile`):
the profile is complete, offline and agrees with the marts; the guard passes on it and makes
the asset fail on a planted leak; the tasking pack stays restricted."""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from plotly.offline import get_plotlyjs

from pipelines.disclosure import load_sensitive_values, scan_text
from pipelines.disclosure.guard import guard_vocabulary
from pipelines.report.profile import plotly_library
from tests.report.html_tables import number, parse, table_rows
from tests.report.test_profile_render import SECTIONS


@pytest.fixture(scope="module")
def profile_html(tiny_profile) -> str:
    path = tiny_profile.quarter_dir / "profile.html"
    assert path.exists(), "spp profile did not write profile.html"
    return path.read_text(encoding="utf-8")


def test_profile_has_every_section_and_is_self_contained(profile_html: str) -> None:
    doc = parse(profile_html)
    assert doc.section_ids == SECTIONS
    assert profile_html.count(get_plotlyjs()) == 1
    assert doc.script_srcs == []
    assert not re.search(r"https?://", profile_html.replace(get_plotlyjs(), ""))
    assert "Not available in this edition" not in profile_html, "a section lacked its mart"


def test_profile_figures_match_the_marts(tiny_profile, profile_html: str) -> None:
    rows = table_rows(parse(profile_html), "Stalking crimes by domestic-abuse flag")
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        total = con.execute(
            "select count(*) from marts.stalking_crimes where quarter = ?", [tiny_profile.quarter]
        ).fetchone()[0]
    shown = number(rows["Total"][2])
    assert shown == total or (shown is None and 0 < total < 5)


def test_guard_passes_on_the_published_profile(tiny_profile, profile_html: str) -> None:
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        sensitive = load_sensitive_values(con)
        allowed = guard_vocabulary(con)
    assert len(sensitive) > 100
    assert scan_text(profile_html, sensitive, allowed_words=allowed, library=plotly_library()).ok


def test_data_quality_json_reconciles_with_the_load_log(tiny_profile) -> None:
    """Published beside the profile by the publish stage: the load log's counts, file names
    and not paths, readable like the profile."""
    import json

    path = tiny_profile.quarter_dir / "data_quality.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    report = json.loads(path.read_text())
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        log = con.execute(
            "select extract, rows_read, rows_loaded, rows_quarantined from raw.load_log"
        ).fetchall()
    published = {
        e: (r["read"], r["loaded"], r["quarantined"]) for e, r in report["extracts"].items()
    }
    assert published == {extract: tuple(counts) for extract, *counts in log}
    assert len(published) == 5
    assert report["reconciles"] is True
    assert report["totals"]["read"] == sum(row[1] for row in log)
    assert report["totals"]["loaded"] == sum(row[2] for row in log)
    assert report["totals"]["quarantined"] == sum(row[3] for row in log)
    # every unlinked count of an extract, keyed <extract>.<link>, and nothing else
    assert report["unlinked_soft_links"] == {
        f"{name}.{link}": count
        for name, extract in report["extracts"].items()
        for link, count in extract["unlinked_soft_links"].items()
    }
    assert all("/" not in e["file"] and e["file"] for e in report["extracts"].values())


def test_tasking_pack_is_restricted(tiny_profile, profile_html: str) -> None:
    folder = tiny_profile.quarter_dir / "restricted"
    for name in ("high_harm_perpetrators.csv", "high_harm_perpetrators.html"):
        path = folder / name
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "OFFICIAL-SENSITIVE" in path.read_text()
    lines = (folder / "high_harm_perpetrators.csv").read_text().splitlines()
    column = lines[1].split(",").index("person_key")
    keys = [line.split(",")[column] for line in lines[2:]]
    assert not any(k and k in profile_html for k in keys)


def test_asset_fails_without_echoing_a_planted_leak(
    tiny_profile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines import publish
    from pipelines.assets.publish import profile_report
    from pipelines.resources import build_resources

    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(tiny_profile.warehouse, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        fore, sur = con.execute(
            "select forename, surname from raw.crime_persons "
            "where length(forename) > 3 and length(surname) > 3 limit 1"
        ).fetchone()
    original = publish.render_html
    monkeypatch.setattr(
        publish,
        "render_html",
        lambda context: original(context).replace("</main>", f"<p>{fore} {sur}</p></main>"),
    )
    out = tmp_path / "out"
    result = dg.materialize(
        [profile_report],
        partition_key=tiny_profile.quarter,
        resources=build_resources(tiny_profile.extracts, out, warehouse, "2026-01-15"),
        raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failures[0].step_failure_data.error.message
    assert "publish guard refused profile.html" in message
    assert fore not in message and sur not in message
    assert not (out / tiny_profile.quarter / "profile.html").exists()


def test_tasking_pack_names_orders_and_subject_profiles(tiny_profile) -> None:
    """The restricted pack carries the resolved name and date of birth, and one owner-only,
    marked page per subject at the top of the list, with victims pseudonymised."""
    from pipelines.publish.tasking import subject_file_name
    from pipelines.settings import load_settings

    folder = tiny_profile.quarter_dir / "restricted"
    lines = (folder / "high_harm_perpetrators.csv").read_text().splitlines()
    header = lines[1].split(",")
    wanted = ["best_name", "date_of_birth", "active_orders", "last_offence_date", "score_band"]
    wanted += ["flags", "crimes_12m", "victims_total", "why_on_list", "suggested_action"]
    wanted += ["subject_reference", "area", "movement", "owner", "review_date"]
    wanted += ["weakest_link_probability", "distinct_victims_confident"]
    assert set(wanted) <= set(header)
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        listed = con.execute(
            "select p.rank, p.person_key, d.forename, d.surname, d.date_of_birth "
            "from marts.perpetrators p join marts.dim_persons d using (person_key) "
            "where p.quarter = ? and p.is_on_tasking_list order by p.rank",
            [tiny_profile.quarter],
        ).fetchall()
        assert listed, "the tiny force should have someone on the tasking list"
        rank, key, forename, surname, dob = listed[0]
        victims = con.execute(
            "select distinct m.forename, m.surname from intermediate.int_crime_persons_resolved s "
            "join intermediate.int_crime_persons_resolved v on v.crime_id = s.crime_id "
            "and v.role_side = 'victim' join intermediate.int_person_mentions m "
            "on m.source = 'crime_persons' and m.record_key = v.crime_person_key "
            "where s.person_key = ? and s.role_side = 'perpetrator' and v.person_key <> ?",
            [key, key],
        ).fetchall()
    pack = (folder / "high_harm_perpetrators.html").read_text()
    assert surname.upper() in pack and f"{dob:%d %b %Y}" in pack
    subjects = folder / "subject_profiles"
    assert stat.S_IMODE(subjects.stat().st_mode) == 0o700
    pages = sorted(subjects.glob("[0-9]*.html"))
    top_n = load_settings().tasking.subject_profiles_top_n
    assert len(pages) == min(top_n, len(listed))
    page_path = subjects / subject_file_name(rank, key)
    assert stat.S_IMODE(page_path.stat().st_mode) == 0o600
    page = page_path.read_text()
    assert page.count("OFFICIAL-SENSITIVE") >= 3 and "@top-center" in page
    assert surname.upper() in page and "Timeline" in page and "Linked records" in page
    assert "Victim A" in page
    # victims appear as letters only (names shared with the subject do not count)
    leaked = [
        f"{f} {s.upper()}" for f, s in victims
        if f and s and f"{f} {s.upper()}" in page and s.upper() != surname.upper()
    ]  # fmt: skip
    assert not leaked


def test_subject_timeline_holds_every_crime_order_and_intelligence(tiny_profile) -> None:
    from pipelines.publish.tasking import subject_file_name
    from pipelines.quarters import quarter_end

    end = quarter_end(tiny_profile.quarter)
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        rank, key = con.execute(
            "select rank, person_key from marts.perpetrators where quarter = ? and is_high_harm "
            "order by rank limit 1",
            [tiny_profile.quarter],
        ).fetchone()
        expected = {
            ref
            for (ref,) in con.execute(
                "select s.crime_id from intermediate.int_crime_persons_resolved s "
                "join staging.stg_crimes c using (crime_id) where s.person_key = ? "
                "and s.role_side = 'perpetrator' and c.reported_date <= ? "
                "union select intel_id from intermediate.int_intelligence_resolved "
                "where subject_person_key = ? and submitted_date <= ? "
                "union select order_id from intermediate.int_orders_resolved "
                "where subject_person_key = ? and coalesce(granted_date, applied_date) <= ?",
                [key, end, key, end, key, end],
            ).fetchall()
        }
        events_left_out = con.execute(
            "select max(rows_not_shown) from reporting.rpt_subject_timeline "
            "where quarter = ? and person_key = ?",
            [tiny_profile.quarter, key],
        ).fetchone()[0]
    page = (
        tiny_profile.quarter_dir / "restricted" / "subject_profiles" / subject_file_name(rank, key)
    ).read_text()
    timeline = page.split("<h2>Timeline", 1)[1].split("</table>", 1)[0]
    shown = set(re.findall(r"<td>([A-Z]{2}\d+)</td>", timeline))
    assert expected
    if not events_left_out:
        assert expected <= shown
    else:
        assert f"{events_left_out} earlier event" in page


def test_victim_labels_run_from_a_to_z_then_aa() -> None:
    """The subject pages' victim labels (macro spreadsheet_letters, used by
    rpt_subject_victims), as spreadsheet columns are named."""
    import jinja2

    from pipelines.paths import DBT_PROJECT_DIR

    macro = (DBT_PROJECT_DIR / "macros" / "spreadsheet_letters.sql").read_text(encoding="utf-8")
    letters = jinja2.Environment().from_string(macro + "{{ spreadsheet_letters('n') }}").render()
    rows = duckdb.sql(
        f"select n, {letters} from (values (1), (26), (27), (52), (53), (702), (703), (18278)) "
        "as t(n) order by n"
    ).fetchall()
    assert [label for _, label in rows] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "ZZZ"]
