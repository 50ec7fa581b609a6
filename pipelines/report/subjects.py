"""Restricted one-page subject profiles for the top of the tasking list (OFFICIAL-SENSITIVE).

One HTML file per subject under OUT/YYYY-Qn/restricted/subject_profiles/ (plus an index),
written owner-only like the rest of the pack and never linked from the published profile.
Victims are pseudonymised within each page (Victim A, B, ... in order of first contact):
the meeting discusses the subject, and a victim's identity stays on the records system.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.quarters import quarter_end
from pipelines.report.profile import environment
from pipelines.report.warehouse import Warehouse

# Rows shown per subject, so that a page prints on about one A4 sheet.
MAX_EVIDENCE_ROWS = 6
MAX_TIMELINE_ROWS = 20
WEIGHT_LABELS = {
    "mw_forename": "forename",
    "mw_surname": "surname",
    "mw_dob": "date of birth",
    "mw_postcode": "postcode",
    "mw_sex": "sex",
    "mw_counterpart": "same other party",
    "mw_crime_role": "role",
    "mw_active": "active in same period",
}
SOURCE_LABELS = {
    "crime_persons": "crime record",
    "intelligence_subject": "intelligence (subject)",
    "intelligence_victim": "intelligence (victim)",
    "order_subject": "order (subject)",
    "order_protected": "order (protected person)",
}


@dataclass
class Subject:
    """Everything one page shows; built by subject_profile(), rendered by the template."""

    header: dict
    timeline: list[dict] = field(default_factory=list)
    timeline_hidden: int = 0
    victims: list[dict] = field(default_factory=list)
    names_used: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)  # per source
    n_records: int = 0
    evidence: list[dict] = field(default_factory=list)
    evidence_hidden: int = 0


def victim_label(index: int) -> str:
    """A, B, ... Z, AA, AB, ... (spreadsheet-style) for the index-th victim."""
    letters = string.ascii_uppercase
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = letters[rest] + label
    return f"Victim {label}"


def _date(value) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _events(wh: Warehouse, key: str, as_of: dt.date) -> pd.DataFrame:
    """Crimes, intelligence, orders and breaches of one subject up to the quarter's end:
    one row per event with its date, kind, reference, detail and the victim's person_key."""
    parts = []
    if wh.has("intermediate.int_crime_persons_resolved", "staging.stg_crimes"):
        universe = (
            "left join intermediate.int_stalking_crimes as u on c.crime_id = u.crime_id"
            if wh.has("intermediate.int_stalking_crimes")
            else "left join (select null::varchar as crime_id, null::varchar as identified_by) "
            "as u on false"
        )
        outcomes = (
            "left join reference.outcome_codes as oc on c.outcome_code = oc.outcome_code"
            if wh.has("reference.outcome_codes")
            else "left join (select null::varchar as outcome_code, null::varchar as outcome_name)"
            " as oc on false"
        )
        parts.append(
            wh.df(
                f"""
                select c.reported_date as event_date, 'crime' as kind, c.crime_id as reference,
                    concat_ws(' · ', c.offence_description, s.role || coalesce(
                        ' (' || replace(s.relationship_to_victim, '_', '-') || ')', ''),
                        case when c.is_domestic_abuse then 'DA' end,
                        case when c.is_online then 'online' end,
                        case when c.risk_level is not null then 'risk ' || c.risk_level end,
                        case when u.crime_id is not null
                            then 'stalking universe (' || u.identified_by || ')' end,
                        coalesce('outcome: ' || coalesce(oc.outcome_name, c.outcome_code),
                            'no outcome yet')) as detail,
                    v.person_key as victim_key
                from intermediate.int_crime_persons_resolved as s
                join staging.stg_crimes as c on s.crime_id = c.crime_id
                {universe}
                {outcomes}
                left join intermediate.int_crime_persons_resolved as v
                    on v.crime_id = c.crime_id and v.role_side = 'victim'
                where s.person_key = ? and s.role_side = 'perpetrator' and c.reported_date <= ?
                """,
                [key, as_of],
            )
        )
    if wh.has("intermediate.int_intelligence_resolved"):
        parts.append(
            wh.df(
                """
                select submitted_date as event_date, 'intelligence' as kind,
                    intel_id as reference,
                    concat_ws(' · ', case when is_stalking_related then 'stalking-related'
                        else 'not stalking-related' end, case when is_online then 'online' end,
                        'crime ' || crime_id) as detail,
                    victim_person_key as victim_key
                from intermediate.int_intelligence_resolved
                where subject_person_key = ? and submitted_date <= ?
                """,
                [key, as_of],
            )
        )
    if wh.has("intermediate.int_orders_resolved"):
        parts.append(
            wh.df(
                """
                select coalesce(granted_date, applied_date) as event_date, 'order' as kind,
                    order_id as reference,
                    concat_ws(' · ', order_type || ' ' || status,
                        'applied ' || strftime(applied_date, '%d %b %Y'),
                        'granted ' || strftime(granted_date, '%d %b %Y'),
                        'expires ' || strftime(expiry_date, '%d %b %Y')) as detail,
                    protected_person_key as victim_key
                from intermediate.int_orders_resolved
                where subject_person_key = ? and coalesce(granted_date, applied_date) <= ?
                """,
                [key, as_of],
            )
        )
        if wh.has("staging.stg_breaches"):
            parts.append(
                wh.df(
                    """
                    select b.breach_date as event_date, 'breach' as kind,
                        b.breach_id as reference,
                        concat_ws(' · ', 'of ' || o.order_type || ' ' || o.order_id,
                            'action ' || replace(b.action_taken, '_', ' '),
                            'crime ' || b.crime_id) as detail,
                        o.protected_person_key as victim_key
                    from staging.stg_breaches as b
                    join intermediate.int_orders_resolved as o on b.order_id = o.order_id
                    where o.subject_person_key = ? and b.breach_date <= ?
                    """,
                    [key, as_of],
                )
            )
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=["event_date", "kind", "reference", "detail", "victim_key"])
    events = pd.concat(parts, ignore_index=True)
    events["event_date"] = [_date(v) for v in events["event_date"]]
    return events.sort_values(["event_date", "kind", "reference"], na_position="first")


def _pseudonymise(events: pd.DataFrame, subject_key: str) -> tuple[pd.DataFrame, list[dict]]:
    """Replace victim keys with Victim A, B, ... (first contact first) and summarise each."""
    known = events[events["victim_key"].notna() & (events["victim_key"] != subject_key)]
    order = list(dict.fromkeys(known["victim_key"]))
    labels = {k: victim_label(i) for i, k in enumerate(order)}
    events = events.assign(victim=events["victim_key"].map(labels).fillna(""))
    victims = []
    for victim_key in order:
        mine = known[known["victim_key"] == victim_key]
        crimes = mine[mine["kind"] == "crime"]
        dates = [d for d in mine["event_date"] if d is not None]
        victims.append(
            {
                "label": labels[victim_key],
                "crimes": crimes["reference"].nunique(),
                "intelligence": int((mine["kind"] == "intelligence").sum()),
                "orders": int((mine["kind"] == "order").sum()),
                "breaches": int((mine["kind"] == "breach").sum()),
                "first": min(dates) if dates else None,
                "last": max(dates) if dates else None,
            }
        )
    return events.drop(columns=["victim_key"]), victims


def _timeline(events: pd.DataFrame) -> tuple[list[dict], int]:
    """Newest first (what the meeting needs first); a crime with two victims is one row."""
    grouped = (
        events.groupby(["event_date", "kind", "reference", "detail"], dropna=False, sort=False)
        .agg(victim=("victim", lambda v: ", ".join(sorted({x for x in v if x}))))
        .reset_index()
    )
    grouped = grouped.iloc[::-1]
    rows = grouped.to_dict("records")
    return rows[:MAX_TIMELINE_ROWS], max(0, len(rows) - MAX_TIMELINE_ROWS)


def _linked_records(wh: Warehouse, key: str) -> tuple[list[dict], list[str]]:
    """The subject's own records joined by resolution, and the names they were recorded under."""
    if not wh.has("marts.person_records"):
        return [], []
    names_sql = (
        "left join intermediate.int_person_mentions as m "
        "on r.source = m.source and r.record_key = m.record_key"
        if wh.has("intermediate.int_person_mentions")
        else "left join (select null as source, null as record_key, null as forename, "
        "null as surname, null::date as date_of_birth) as m on false"
    )
    records = wh.df(
        f"""
        select r.source, r.record_key, r.person_id, r.role, r.event_date,
            nullif(trim(concat_ws(' ', m.forename, upper(m.surname))), '') as recorded_name,
            m.date_of_birth as recorded_dob
        from marts.person_records as r
        {names_sql}
        where r.person_key = ?
        order by r.event_date desc nulls last, r.source, r.record_key
        """,
        [key],
    )
    names = sorted({n for n in records["recorded_name"] if isinstance(n, str)})
    # One row per source (a prolific subject has dozens of records; the page must stay short):
    # how many, under which nominal ids, names and dates of birth, over which dates.
    rows = []
    for source, group in records.groupby("source", sort=False):
        dates = [d for d in map(_date, group["event_date"]) if d is not None]
        dobs = sorted({d for d in map(_date, group["recorded_dob"]) if d is not None})
        rows.append(
            {
                "source": SOURCE_LABELS.get(source, source),
                "records": len(group),
                "roles": ", ".join(sorted({str(r) for r in group["role"].dropna()})),
                "person_ids": ", ".join(sorted({str(i) for i in group["person_id"].dropna()})),
                "names": "; ".join(sorted({n for n in group["recorded_name"].dropna()})),
                "dobs": ", ".join(f"{d:%d %b %Y}" for d in dobs),
                "first": min(dates) if dates else None,
                "last": max(dates) if dates else None,
            }
        )
    return rows, names


def _evidence(wh: Warehouse, key: str) -> tuple[list[dict], int]:
    """How the records were joined, weakest links first (the joins worth checking), with the
    three fields that weighed most for each and any field that weighed against."""
    if not wh.has("marts.person_match_evidence"):
        return [], 0
    frame = wh.df(
        "select * from marts.person_match_evidence where person_key = ? "
        "order by match_weight asc nulls last, mention_id_l, mention_id_r",
        [key],
    )
    weight_columns = [c for c in frame.columns if c.startswith("mw_")]
    rows = []
    for r in frame.head(MAX_EVIDENCE_ROWS).to_dict("records"):
        weights = {c: r[c] for c in weight_columns if r[c] is not None and pd.notna(r[c])}
        top = sorted(weights.items(), key=lambda kv: -kv[1])[:3]
        against = [WEIGHT_LABELS.get(c, c[3:]) for c, w in weights.items() if w < -1]
        rows.append(
            {
                "left": str(r["mention_id_l"]).split(":", 1)[-1],
                "right": str(r["mention_id_r"]).split(":", 1)[-1],
                "joined_by": "same nominal id" if r["joined_by"] == "nominal_id" else "Splink",
                "probability": r.get("match_probability"),
                "weight": r.get("match_weight"),
                "for": ", ".join(f"{WEIGHT_LABELS.get(c, c[3:])} {w:+.1f}" for c, w in top),
                "against": ", ".join(against),
            }
        )
    return rows, max(0, len(frame) - MAX_EVIDENCE_ROWS)


def subject_profile(con: duckdb.DuckDBPyConnection, quarter: str, header: dict) -> Subject:
    """One subject's page; `header` is the subject's row of the tasking list."""
    wh = Warehouse(con)
    key = str(header["person_key"])
    events, victims = _pseudonymise(_events(wh, key, quarter_end(quarter)), key)
    timeline, hidden = _timeline(events)
    records, names = _linked_records(wh, key)
    evidence, evidence_hidden = _evidence(wh, key)
    return Subject(
        header=header,
        timeline=timeline,
        timeline_hidden=hidden,
        victims=victims,
        names_used=names,
        records=records,
        n_records=sum(r["records"] for r in records),
        evidence=evidence,
        evidence_hidden=evidence_hidden,
    )


def subject_file_name(rank: int, person_key: str) -> str:
    return f"{int(rank):02d}_{person_key}.html"


def write_subject_profiles(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    top: pd.DataFrame,
    restricted_dir: Path,
    force: str,
    generated: dt.date,
) -> tuple[Path, ...]:
    """One owner-only page per subject of `top` (the head of the tasking list) and an index."""
    from pipelines.report.tasking import (
        MARKING,
        SUBJECTS_DIR,
        fmt,
        owner_only_dir,
        write_private,
    )

    folder = restricted_dir / SUBJECTS_DIR
    owner_only_dir(folder)
    for stale in folder.glob("*.html"):  # a re-run replaces the quarter's pages
        stale.unlink()
    env = environment()
    env.filters["cell"] = fmt
    page = env.get_template("subject_profile.html.j2")
    written = []
    subjects = []
    for header in top.to_dict("records"):
        subject = subject_profile(con, quarter, header)
        path = folder / subject_file_name(header["rank"], str(header["person_key"]))
        write_private(
            path,
            page.render(
                marking=MARKING,
                quarter=quarter,
                force=force,
                generated=f"{generated:%d %B %Y}",
                s=subject,
                h=header,
            ),
        )
        written.append(path)
        subjects.append((path.name, header))
    if written:
        index = env.get_template("subject_index.html.j2")
        write_private(
            folder / "index.html",
            index.render(
                marking=MARKING,
                quarter=quarter,
                force=force,
                generated=f"{generated:%d %B %Y}",
                subjects=subjects,
            ),
        )
    return tuple(written)
