"""Assemble one tile: simulate, then write the behaviour down as the five extracts + truth.

All extract columns are strings (None = empty) so the writer controls formatting exactly and
bad-row injection can put unparseable text into any column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from pipelines.synthetic import simulate as sim
from pipelines.synthetic.geography import Area
from pipelines.synthetic.presets import COURSE_TYPES, PRINCIPAL_RULE_CHANGE, SPO_START, Rates

CRIME_COLUMNS = [
    "crime_id",
    "reported_date",
    "offence_start",
    "offence_end",
    "offence_code",
    "offence_description",
    "included_offence_codes",
    "is_domestic_abuse",
    "is_online",
    "latitude",
    "longitude",
    "location_type",
    "outcome_code",
    "outcome_date",
    "needs_assessment_date",
    "support_referral_date",
    "right_to_review_informed",
    "spo_considered",
    "spo_not_pursued_reason",
    "risk_level",
]
PERSON_COLUMNS = [
    "crime_id",
    "person_id",
    "role",
    "forename",
    "surname",
    "date_of_birth",
    "sex",
    "postcode",
    "relationship_to_victim",
]
INTEL_COLUMNS = [
    "intel_id",
    "submitted_date",
    "grading",
    "subject_person_id",
    "subject_forename",
    "subject_surname",
    "subject_date_of_birth",
    "victim_person_id",
    "crime_id",
    "is_stalking_related",
    "is_online",
    "latitude",
    "longitude",
]
ORDER_COLUMNS = [
    "order_id",
    "order_type",
    "status",
    "subject_person_id",
    "subject_forename",
    "subject_surname",
    "subject_date_of_birth",
    "protected_person_id",
    "applied_date",
    "granted_date",
    "expiry_date",
    "crime_id",
]
BREACH_COLUMNS = ["breach_id", "order_id", "breach_date", "crime_id", "action_taken"]
EXTRACT_COLUMNS = {
    "crimes": CRIME_COLUMNS,
    "crime_persons": PERSON_COLUMNS,
    "intelligence": INTEL_COLUMNS,
    "orders": ORDER_COLUMNS,
    "breaches": BREACH_COLUMNS,
}


@dataclass
class Tile:
    extracts: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]  # persons, person_mentions, crimes, courses, orders, ...
    boundary: shapely.Geometry


def _none_where(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[missing] = None
    return out


def _coords(v: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return _none_where(np.char.mod("%.6f", v), ~keep)


def _outcomes(
    reported: np.ndarray, known: np.ndarray, window_end: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = len(reported)
    oc_known = sim._choice(rng, sim.OUTCOMES, sim.OUTCOME_P_KNOWN, n)
    oc_unknown = sim._choice(rng, sim.OUTCOMES, sim.OUTCOME_P_UNKNOWN, n)
    outcome = np.where(known, oc_known, oc_unknown).astype(object)
    delay = rng.gamma(1.6, np.where(outcome == "1", 80, 35)).astype(int) + 1
    day = reported + delay
    outcome[day > window_end] = None  # still under investigation at extract time
    return outcome, day


def build_tile(
    area: Area,
    window: sim.Window,
    volume: float,
    rates: Rates,
    tile: int,
    rng: np.random.Generator,
) -> Tile:
    base = tile * sim.ID_BLOCK
    boundary = area.boundary
    shapely.prepare(boundary)
    courses, people, perp_type, breacher = sim.simulate_courses(window, volume, area, rates, rng)
    crimes = sim.record_crimes(courses, rates, rng)
    outcome, outcome_day = _outcomes(crimes.reported, crimes.known, window.end, rng)
    orders = sim.simulate_orders(courses, crimes, outcome, outcome_day, rng)
    b_order, b_day, b_is_crime, b_action = sim.simulate_breaches(
        orders, courses, breacher, window, rng
    )

    # Breach crimes join the course they belong to.
    bc = np.nonzero(b_is_crime)[0]
    oc = orders.course[b_order[bc]]
    otype = orders.order_type[b_order[bc]]
    nb = len(bc)
    b_rep = np.minimum(b_day[bc] + rng.integers(0, 3, nb), window.end)
    incl = (
        courses.stalking[oc] & (b_rep >= sim._day(PRINCIPAL_RULE_CHANGE)) & (rng.random(nb) < 0.3)
    )
    breach_crimes = sim.Recorded(
        oc,
        b_rep,
        np.full(nb, "breach", dtype=object),
        np.array([sim.BREACH_CODE[t] for t in otype], dtype=object),
        np.where(incl, "195/12", None).astype(object),
        rng.random(nb) < 0.35,
        courses.domestic[oc],
        np.ones(nb, bool),
        courses.victim[oc],
        courses.perp[oc],
        courses.stalking[oc],
        otype.astype(object),
    )
    b_out, b_out_day = _outcomes(b_rep, np.ones(nb, bool), window.end, rng)
    crimes = sim.concat_recorded(crimes, breach_crimes)
    outcome = np.concatenate([outcome, b_out])
    outcome_day = np.concatenate([outcome_day, b_out_day])
    breach_crime_idx = np.full(len(b_order), -1)
    breach_crime_idx[bc] = len(crimes.course) - nb + np.arange(nb)

    # Crime ids in reporting order (ties broken randomly); crimes before the window are
    # numbered too (orders may link to them) but not written.
    n = len(crimes.course)
    order = np.lexsort((rng.random(n), crimes.reported))
    number = np.empty(n, dtype=np.int64)
    number[order] = base + np.arange(n)
    crime_id = sim._ids("CR", number)
    in_window = (crimes.reported >= window.start) & (crimes.reported <= window.end)
    sel = order[in_window[order]]

    nominals = sim.make_nominals(people, area, rates, base, rng)
    tid = sim._ids("T", base + np.arange(people.n))  # true person ids, rendered once
    crimes_df, persons_df, person_truth = _crime_tables(
        crimes,
        sel,
        crime_id,
        outcome,
        outcome_day,
        courses,
        orders,
        nominals,
        people,
        area,
        hotspots := sim.hotspot_places(area, tile, window, rng),
        window,
        rates,
        base,
        rng,
        boundary,
    )
    intel_df, intel_truth, intel_mentions = _intelligence(
        courses,
        crimes,
        crime_id,
        in_window,
        people,
        nominals,
        area,
        hotspots,
        window,
        base,
        rng,
        boundary,
        tid,
    )
    orders_df, breaches_df, order_truth, order_mentions = _orders(
        orders,
        courses,
        crime_id,
        nominals,
        window,
        base,
        b_order,
        b_day,
        b_action,
        breach_crime_idx,
        in_window,
        rng,
        tid,
    )

    course_ids = sim._ids("CC", base + np.arange(courses.n))
    crime_cat = crimes.cat[sel]
    codes = crimes.code[sel]
    inc = crimes.included[sel]
    stalking_code = np.isin(codes, [*sim.STALKING_CODES, sim.RRA_STALKING])
    inc_str = np.array([s if s is not None else "" for s in inc])
    inc_stalk = np.zeros(len(sel), bool)
    for c in [*sim.STALKING_CODES, sim.RRA_STALKING]:
        inc_stalk |= np.char.find(inc_str.astype(str), c) >= 0
    route = np.select(
        [stalking_code, inc_stalk, codes == "008/73"],
        ["principal", "included", "breach_spo"],
        "none",
    )
    truth_crimes = pd.DataFrame(
        {
            "crime_id": crime_id[sel],
            "course_id": course_ids[crimes.course[sel]],
            "is_true_stalking": crimes.stalking[sel],
            "is_hidden_stalking": crimes.stalking[sel] & (route == "none"),
            "identified_route": route,
            "recorded_as": crime_cat,
            "victim_true_person_id": tid[crimes.victim[sel]],
            "perpetrator_true_person_id": tid[crimes.perp[sel]],
            "suspect_recorded": person_truth,
            "reported_date": sim._dates(crimes.reported[sel]),
            # integer copies for the per-quarter truth (not written)
            "_day": crimes.reported[sel],
            "_victim": crimes.victim[sel],
            "_perp": crimes.perp[sel],
        }
    )
    truth_courses = _course_truth(courses, crimes, in_window, orders, course_ids, base, tid)
    truth_people = _people_truth(people, perp_type, breacher, nominals, courses, area, base, tid)
    # crime_persons mentions are added after bad-row injection (which may change their keys)
    mentions = pd.concat([intel_mentions, order_mentions], ignore_index=True)
    hot = hotspots.drop(columns="_from")
    return Tile(
        {
            "crimes": crimes_df,
            "crime_persons": persons_df,
            "intelligence": intel_df,
            "orders": orders_df,
            "breaches": breaches_df,
        },
        {
            "persons": truth_people,
            "person_mentions": mentions,
            "crimes": truth_crimes,
            "courses": truth_courses,
            "orders": order_truth,
            "intelligence": intel_truth,
            "hotspots": hot,
        },
        boundary,
    )


# ----------------------------------------------------------------------------- crimes
def _crime_tables(
    crimes: sim.Recorded,
    sel: np.ndarray,
    crime_id: np.ndarray,
    outcome: np.ndarray,
    outcome_day: np.ndarray,
    courses: sim.Courses,
    orders: sim.Orders,
    nominals: sim.Nominals,
    people: sim.People,
    area: Area,
    hotspots: pd.DataFrame,
    window: sim.Window,
    rates: Rates,
    base: int,
    rng: np.random.Generator,
    boundary: shapely.Geometry,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    n = len(sel)
    reported = crimes.reported[sel]
    t = courses.type_idx[crimes.course[sel]]
    online = crimes.online[sel]
    # offence span: from an earlier incident of the course (or the same day) to the report
    c_start = courses.start[crimes.course[sel]]
    back = np.minimum(rng.gamma(1.2, 10, n).astype(int), reported - c_start)
    back = np.where(crimes.cat[sel] == "breach", rng.integers(0, 3, n), np.maximum(back, 0))
    start_day = reported - back
    hour = rng.choice(24, n, p=sim.HOUR_P)
    start_s = (start_day * 86400 + hour * 3600 + rng.integers(0, 60, n) * 60).astype(np.int64)
    span = ((reported - start_day) * 86400 + rng.integers(0, 4 * 3600, n)) * (rng.random(n) < 0.7)
    end_s = np.minimum(start_s + span, (reported + 1) * 86400 - 60)
    end_s = np.maximum(end_s, start_s)
    has_start = rng.random(n) < 0.97
    has_end = has_start & (rng.random(n) < 0.85)

    victim = crimes.victim[sel]
    away = sim._type_attr(t, "away_from_home")
    lat, lon, has_loc, loc_type = sim.place_incidents(
        people.x[victim], people.y[victim], reported, online, away, hotspots, area, rng, boundary
    )
    out = outcome[sel]
    out_day = outcome_day[sel]
    has_out = out != None  # noqa: E711
    nfa = np.isin(out.astype(str), sim.NFA_OUTCOMES)
    u = rng.random((8, n))
    na_day = reported + rng.integers(0, 15, n)
    has_na = (u[0] < rates.needs_assessment) & (na_day <= window.end)
    st_univ = np.isin(crimes.code[sel], [*sim.STALKING_CODES, sim.RRA_STALKING, "008/73"])
    sr_p = np.where(st_univ, rates.support_referral_stalking, rates.support_referral_other)
    sr_day = reported + rng.integers(0, 22, n)
    has_sr = (u[1] < sr_p) & (sr_day <= window.end)
    rtr = np.where(u[2] < rates.right_to_review_informed, "true", "false").astype(object)
    rtr[(~nfa) | (u[3] < 0.1)] = None
    # SPO considered: stalking-coded crimes after the Act; rising with the super-complaint.
    spo_p = sim._ramp(reported, rates.spo_considered_2021, rates.spo_considered_2026)
    course_spo = np.zeros(courses.n, bool)
    course_spo[orders.course[np.isin(orders.order_type, ["SPO", "ISPO"])]] = True
    has_spo = course_spo[crimes.course[sel]]
    eligible = st_univ & (reported >= sim._day(SPO_START))
    considered = eligible & ((u[4] < spo_p) | has_spo)
    spo_considered = np.where(considered, "true", "false").astype(object)
    spo_considered[~eligible & (u[5] < 0.9)] = None
    reason = sim.SPO_REASONS[rng.integers(0, len(sim.SPO_REASONS), n)].astype(object)
    reason[~(considered & ~has_spo & (u[6] < rates.spo_reason_recorded))] = None
    stalk = crimes.stalking[sel]
    risk_p = np.where(
        (stalk & crimes.domestic[sel])[:, None],
        [0.32, 0.45, 0.23],
        np.where(stalk[:, None], [0.18, 0.47, 0.35], [0.05, 0.25, 0.70]),
    )
    r = (np.cumsum(risk_p, axis=1) < u[7][:, None]).sum(axis=1)
    risk = np.array(["high", "medium", "standard"], dtype=object)[np.minimum(r, 2)]
    risk[rng.random(n) < 0.05] = None
    da_recorded = crimes.domestic[sel] ^ (rng.random(n) < 0.03)  # flag errors both ways

    ids = crime_id[sel]
    crimes_df = pd.DataFrame(
        {
            "crime_id": ids,
            "reported_date": sim._dates(reported),
            "offence_start": sim._timestamps(start_s, has_start),
            "offence_end": sim._timestamps(end_s, has_end),
            "offence_code": crimes.code[sel],
            "offence_description": np.array(
                [sim.DESCRIPTION[c] for c in crimes.code[sel]], dtype=object
            ),
            "included_offence_codes": crimes.included[sel],
            "is_domestic_abuse": sim._bools(da_recorded),
            "is_online": sim._bools(online),
            "latitude": _coords(lat, has_loc),
            "longitude": _coords(lon, has_loc),
            "location_type": loc_type,
            "outcome_code": out,
            "outcome_date": sim._dates(out_day, has_out),
            "needs_assessment_date": sim._dates(na_day, has_na),
            "support_referral_date": sim._dates(sr_day, has_sr),
            "right_to_review_informed": rtr,
            "spo_considered": spo_considered,
            "spo_not_pursued_reason": reason,
            "risk_level": risk,
        }
    )

    # crime_persons: the victim, and the suspect where one is recorded.
    known = crimes.known[sel]
    v_nom = sim.pick_nominal(nominals, victim, rng)
    perp = crimes.perp[sel]
    s_nom = sim.pick_nominal(nominals, perp, rng)
    unknown_row = ~known & (rng.random(n) < 0.5)  # "unknown online suspect" with no name
    has_suspect = known | unknown_row
    if rates.unnamed_suspect_share > 0:  # drawn only when set: the default force is unchanged
        has_suspect &= unknown_row | (rng.random(n) >= rates.unnamed_suspect_share)
    offender = np.isin(out.astype(str), ["1", "3", "8"])
    rel = courses.relationship[crimes.course[sel]].astype(object)
    rel[rng.random(n) < 0.06] = "unknown"
    m_v = _nominal_rows(nominals, v_nom, 0.06, 0.1, rng)
    m_s = _nominal_rows(nominals, s_nom, 0.12, 0.25, rng)
    n_unknown = int(unknown_row.sum())
    unknown_ids = sim._ids("P", base + sim.ID_BLOCK // 2 + np.arange(n_unknown))
    s_id = nominals.ids[s_nom].copy()
    s_id[unknown_row] = unknown_ids
    for col in ("forename", "surname", "date_of_birth", "postcode"):
        m_s[col][unknown_row] = None
    m_s["sex"][unknown_row] = "U"
    victims = pd.DataFrame(
        {
            "crime_id": ids,
            "person_id": nominals.ids[v_nom],
            "role": "victim",
            **m_v,
            "relationship_to_victim": None,
            "_true": victim,
            "_row": np.arange(n),
        }
    )
    suspects = pd.DataFrame(
        {
            "crime_id": ids,
            "person_id": s_id,
            "role": np.where(offender, "offender", "suspect"),
            **m_s,
            "relationship_to_victim": rel,
            "_true": perp,
            "_row": np.arange(n),
        }
    )[has_suspect]
    persons = pd.concat([victims, suspects], ignore_index=True)
    persons = persons.sort_values(["_row", "role"], kind="stable").reset_index(drop=True)
    persons = persons.drop(columns="_row")
    return crimes_df, persons, has_suspect


def _nominal_rows(
    nom: sim.Nominals,
    idx: np.ndarray,
    p_dob_missing: float,
    p_post_missing: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Attributes of a mention as the nominal record holds them, with per-mention gaps."""
    n = len(idx)
    dob = nom.dob[idx]
    sex = nom.sex[idx].astype(object)
    sex[rng.random(n) < 0.02] = "U"
    return {
        "forename": _none_where(nom.forename[idx], rng.random(n) < 0.01),
        "surname": nom.surname[idx].astype(object),
        "date_of_birth": sim._dates(
            np.maximum(dob, 0), (dob >= 0) & (rng.random(n) >= p_dob_missing)
        ),
        "sex": sex,
        "postcode": _none_where(nom.postcode[idx], rng.random(n) < p_post_missing),
    }


def crime_person_mentions(persons: pd.DataFrame, base: int) -> pd.DataFrame:
    """Mentions keyed as outputs.md person_records: crime_id|person_id."""
    return pd.DataFrame(
        {
            "source": "crime_persons",
            "record_key": persons["crime_id"].fillna("") + "|" + persons["person_id"].fillna(""),
            "person_id": persons["person_id"],
            "true_person_id": sim._ids("T", base + persons["_true"].to_numpy()),
        }
    )


# ----------------------------------------------------------------------------- intelligence
def _intelligence(
    courses: sim.Courses,
    crimes: sim.Recorded,
    crime_id: np.ndarray,
    in_window: np.ndarray,
    people: sim.People,
    nominals: sim.Nominals,
    area: Area,
    hotspots: pd.DataFrame,
    window: sim.Window,
    base: int,
    rng: np.random.Generator,
    boundary: shapely.Geometry,
    tid: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    lam = sim._type_attr(courses.type_idx, "intel")
    k = rng.poisson(lam)
    c = np.repeat(np.arange(courses.n), k)
    m = len(c)
    day = courses.start[c] + (rng.random(m) * (courses.duration[c] + 30)).astype(int)
    keep = (day >= window.start) & (day <= window.end)
    c, day = c[keep], day[keep]
    order = np.lexsort((rng.random(len(c)), day))
    c, day = c[order], day[order]
    m = len(c)
    ids = sim._ids("IN", base + np.arange(m))
    stalk = courses.stalking[c]
    u = rng.random((10, m))
    related = np.where(stalk, u[0] < 0.85, u[0] < 0.12)
    perp = courses.perp[c]
    victim = courses.victim[c]
    s_nom = sim.pick_nominal(nominals, perp, rng)
    resolved = courses.known[c] & (u[1] < 0.3)
    # names as written by the submitting officer, from the true person
    fore = people.forename[perp].copy()
    nick = u[2] < 0.15
    fore[nick] = sim.names.nickname(fore[nick], rng)
    mis = u[3] < 0.07
    fore[mis] = sim.names.misspell(fore[mis], rng)
    sur = people.surname[perp].copy()
    mis = u[4] < 0.09
    sur[mis] = sim.names.misspell(sur[mis], rng)
    anonymous = ~courses.known[c] & (u[5] < 0.8)
    fore = _none_where(fore, anonymous | (u[6] < 0.05))
    sur = _none_where(sur, anonymous | (u[7] < 0.1))
    dob = people.dob[perp].copy()
    has_dob = ~anonymous & (u[8] < 0.35)
    swap = has_dob & (rng.random(m) < 0.08)
    if swap.any():
        dt = (sim.EPOCH + dob[swap].astype("timedelta64[D]")).astype("datetime64[D]")
        dob[swap] = (sim.names.swap_day_month(dt) - sim.EPOCH).astype(int)
    v_nom = sim.pick_nominal(nominals, victim, rng)
    has_victim = u[9] < 0.6
    # link to the course's latest crime reported on or before the report, when there is one
    link = np.full(m, None, dtype=object)
    cr_course = crimes.course
    cr_order = np.lexsort((crimes.reported, cr_course))
    key_c = cr_course[cr_order]
    key_d = crimes.reported[cr_order]
    pos = np.searchsorted(key_c * 100_000 + key_d, c * 100_000 + day, side="right") - 1
    ok = (pos >= 0) & (key_c[np.maximum(pos, 0)] == c) & (rng.random(m) < 0.5)
    link[ok] = crime_id[cr_order[pos[ok]]]
    online = rng.random(m) < np.clip(sim._type_attr(courses.type_idx[c], "online") + 0.1, 0, 1)
    online_s = sim._bools(online, rng.random(m) < 0.9)
    lat, lon, has_loc, _ = sim.place_incidents(
        people.x[victim],
        people.y[victim],
        day,
        online,
        sim._type_attr(courses.type_idx[c], "away_from_home"),
        hotspots,
        area,
        rng,
        boundary,
    )
    has_loc &= rng.random(m) < 0.5
    grading = np.char.add(
        np.char.add(
            sim._choice(rng, np.array(["1-", "2-", "3-"]), np.array([0.2, 0.5, 0.3]), m),
            sim._choice(rng, np.array(list("ABCDE")), np.array([0.15, 0.35, 0.3, 0.15, 0.05]), m),
        ),
        sim._choice(rng, np.array(["-P", "-C"]), np.array([0.9, 0.1]), m),
    ).astype(object)
    subj_id = _none_where(nominals.ids[s_nom], ~resolved)
    vict_id = _none_where(nominals.ids[v_nom], ~has_victim)
    df = pd.DataFrame(
        {
            "intel_id": ids,
            "submitted_date": sim._dates(day),
            "grading": grading,
            "subject_person_id": subj_id,
            "subject_forename": fore,
            "subject_surname": sur,
            "subject_date_of_birth": sim._dates(np.maximum(dob, 0), has_dob),
            "victim_person_id": vict_id,
            "crime_id": link,
            "is_stalking_related": sim._bools(related),
            "is_online": online_s,
            "latitude": _coords(lat, has_loc),
            "longitude": _coords(lon, has_loc),
        }
    )
    course_ids = sim._ids("CC", base + c)
    truth = pd.DataFrame(
        {
            "intel_id": ids,
            "course_id": course_ids,
            "subject_true_person_id": tid[perp],
            "victim_true_person_id": tid[victim],
            "is_true_stalking": stalk,
        }
    )
    subj = pd.DataFrame(
        {
            "source": "intelligence_subject",
            "record_key": ids,
            "person_id": subj_id,
            "true_person_id": truth["subject_true_person_id"],
        }
    )
    vic = pd.DataFrame(
        {
            "source": "intelligence_victim",
            "record_key": ids,
            "person_id": vict_id,
            "true_person_id": truth["victim_true_person_id"],
        }
    )[has_victim]
    # a subject with neither id nor any name is not a person mention
    subj = subj[resolved | (fore != None) | (sur != None)]  # noqa: E711
    return df, truth, pd.concat([subj, vic], ignore_index=True)


# ----------------------------------------------------------------------------- orders
def _orders(
    orders: sim.Orders,
    courses: sim.Courses,
    crime_id: np.ndarray,
    nominals: sim.Nominals,
    window: sim.Window,
    base: int,
    b_order: np.ndarray,
    b_day: np.ndarray,
    b_action: np.ndarray,
    breach_crime_idx: np.ndarray,
    in_window: np.ndarray,
    rng: np.random.Generator,
    tid: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    applied = orders.applied
    first_day = np.where(applied >= 0, applied, orders.granted)
    granted_ok = (orders.granted >= 0) & (orders.granted <= window.end)
    # An order is in the extract if it was applied for in the window or still in force in it.
    keep = (first_day <= window.end) & (
        (first_day >= window.start)
        | (granted_ok & ((orders.expiry < 0) | (orders.expiry >= window.start)))
    )
    idx = np.nonzero(keep)[0]
    idx = idx[np.lexsort((idx, first_day[idx]))]
    n = len(idx)
    order_ids_all = np.full(len(applied), None, dtype=object)
    order_ids_all[idx] = sim._ids("OR", base + np.arange(n))
    ids = order_ids_all[idx]
    g = orders.granted[idx]
    e = orders.expiry[idx]
    pending = (g > window.end) | ((g < 0) & ~orders.refused[idx])
    granted = (g >= 0) & ~pending
    expired = granted & (e >= 0) & (e < window.end)
    discharged = granted & ~expired & (rng.random(n) < 0.04)
    status = np.select(
        [orders.refused[idx], pending, expired, discharged],
        ["refused", "applied", "expired", "discharged"],
        "granted",
    ).astype(object)
    c = orders.course[idx]
    perp, victim = courses.perp[c], courses.victim[c]
    s_nom = sim.pick_nominal(nominals, perp, rng)
    v_nom = sim.pick_nominal(nominals, victim, rng)
    u = rng.random((5, n))
    subj_id = _none_where(nominals.ids[s_nom], u[0] < 0.05)
    prot = _none_where(nominals.ids[v_nom], orders.public[idx])
    ci = orders.crime_idx[idx]
    crime = _none_where(crime_id[np.maximum(ci, 0)], ci < 0)
    dob = nominals.dob[s_nom]
    df = pd.DataFrame(
        {
            "order_id": ids,
            "order_type": orders.order_type[idx],
            "status": status,
            "subject_person_id": subj_id,
            "subject_forename": _none_where(nominals.forename[s_nom], u[1] < 0.08),
            "subject_surname": _none_where(nominals.surname[s_nom], u[2] < 0.05),
            "subject_date_of_birth": sim._dates(np.maximum(dob, 0), (dob >= 0) & (u[3] >= 0.15)),
            "protected_person_id": prot,
            "applied_date": sim._dates(applied[idx], applied[idx] >= 0),
            "granted_date": sim._dates(g, granted),
            "expiry_date": sim._dates(e, granted & (e >= 0)),
            "crime_id": crime,
        }
    )
    truth = pd.DataFrame(
        {
            "order_id": ids,
            "course_id": sim._ids("CC", base + c),
            "subject_true_person_id": tid[perp],
            "protected_true_person_id": _none_where(tid[victim], orders.public[idx]),
        }
    )
    mentions = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": "order_subject",
                    "record_key": ids,
                    "person_id": subj_id,
                    "true_person_id": truth["subject_true_person_id"],
                }
            ),
            pd.DataFrame(
                {
                    "source": "order_protected",
                    "record_key": ids,
                    "person_id": prot,
                    "true_person_id": truth["protected_true_person_id"],
                }
            )[~orders.public[idx]],
        ],
        ignore_index=True,
    )
    # Breaches: only of orders in the extract and granted (by construction breach >= grant).
    b_ok = keep[b_order] & (b_day >= window.start)
    row_of = np.full(len(applied), -1)
    row_of[idx] = np.arange(n)
    b_ok &= granted[np.maximum(row_of[b_order], 0)]
    bo, bd, ba, bci = b_order[b_ok], b_day[b_ok], b_action[b_ok], breach_crime_idx[b_ok]
    bcrime = _none_where(crime_id[np.maximum(bci, 0)], (bci < 0))
    nb = len(bo)
    breaches = pd.DataFrame(
        {
            "breach_id": sim._ids("BR", base + np.arange(nb)),
            "order_id": order_ids_all[bo],
            "breach_date": sim._dates(bd),
            "crime_id": bcrime,
            "action_taken": ba.astype(object),
        }
    )
    return df, breaches, truth, mentions


# ----------------------------------------------------------------------------- truth
def _course_truth(
    courses: sim.Courses,
    crimes: sim.Recorded,
    in_window: np.ndarray,
    orders: sim.Orders,
    course_ids: np.ndarray,
    base: int,
    tid: np.ndarray,
) -> pd.DataFrame:
    n_crimes = np.bincount(crimes.course[in_window], minlength=courses.n)
    has_order = np.zeros(courses.n, bool)
    has_order[orders.course] = True
    return pd.DataFrame(
        {
            "course_id": course_ids,
            "course_type": np.array([t.name for t in COURSE_TYPES])[courses.type_idx],
            "is_stalking": courses.stalking,
            "is_domestic_abuse": courses.domestic,
            "relationship": courses.relationship,
            "perpetrator_true_person_id": tid[courses.perp],
            "victim_true_person_id": tid[courses.victim],
            "start_date": sim._dates(courses.start),
            "end_date": sim._dates(courses.start + courses.duration),
            "suspect_identified": courses.known,
            "n_crimes_in_window": n_crimes,
            "has_order": has_order,
        }
    )


def _people_truth(
    people: sim.People,
    perp_type: np.ndarray,
    breacher: np.ndarray,
    nominals: sim.Nominals,
    courses: sim.Courses,
    area: Area,
    base: int,
    tid: np.ndarray,
) -> pd.DataFrame:
    is_victim = np.zeros(people.n, bool)
    is_victim[courses.victim] = True
    is_perp = np.zeros(people.n, bool)
    is_perp[courses.perp] = True
    used = is_victim | is_perp
    df = pd.DataFrame(
        {
            "true_person_id": tid,
            "forename": people.forename,
            "surname": people.surname,
            "previous_surname": people.previous_surname,
            "sex": people.sex,
            "date_of_birth": sim._dates(people.dob),
            "postcode": people.postcode,
            "lsoa_code": area.lsoa_code[people.lsoa],
            "home_latitude": np.round(people.y, 6),
            "home_longitude": np.round(people.x, 6),
            "is_victim": is_victim,
            "is_perpetrator": is_perp,
            "perpetrator_type": np.where(is_perp, perp_type, ""),
            "breaches_orders": breacher & is_perp,
            "n_nominal_ids": nominals.count,
            "nominal_ids": _joined_ids(nominals),
        }
    )
    return df[used].reset_index(drop=True)


def _joined_ids(nom: sim.Nominals) -> np.ndarray:
    """'|'-joined nominal ids per person, built column-wise (at most 3 per person)."""
    out = nom.ids[nom.start].copy()
    last = len(nom.ids) - 1
    for k in range(1, int(nom.count.max(initial=1))):
        has = nom.count > k
        extra = nom.ids[np.minimum(nom.start + k, last)]
        out[has] = out[has] + "|" + extra[has]
    return out
