"""Simulate one tile ("sub-force") of people and behaviour, and record it as the five extracts.

Order of events: courses of conduct arrive (trend x season); each has a true perpetrator and a
true victim (serial stalkers and repeat victims reuse people); incidents become recorded crimes
(classified with realistic misrecording), intelligence reports, protective orders and breaches;
finally every mention of a person is written through the records system's noise (several
nominal ids per person, nicknames, misspellings, swapped dates of birth, missing fields).

Everything is vectorised over courses/crimes; the few Python loops run over small subsets
(names that get a nickname or a misspelling).
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from pipelines.synthetic import names, noise
from pipelines.synthetic.geography import Area, postcodes
from pipelines.synthetic.presets import (
    COUNTING_CHANGE,
    COURSE_TYPES,
    INCLUDED_CAPABILITY,
    PRE_CHANGE_FACTOR,
    PRINCIPAL_RULE_CHANGE,
    SEASON,
    SPO_START,
    TREND_PER_YEAR,
    Rates,
)

EPOCH = np.datetime64("1970-01-01", "D")
ID_BLOCK = 10_000_000  # ids of tile k start at k * ID_BLOCK, so tiles never collide
BURN_IN_DAYS = 365  # courses start this long before the window so it opens mid-stream

STALKING_CODES = np.array(["195/12", "008/65", "008/66"])
STALKING_CODE_P = np.array([0.72, 0.15, 0.13])
RRA_STALKING = "008/56"
HARASSMENT = "195/94"
RRA_HARASSMENT = "008/55"
MALCOMMS = "008/72"
BREACH_CODE = {"SPO": "008/73", "ISPO": "008/73", "RO": "008/31", "NMO": "066/39", "IAH": "008/29"}
OTHER_DA = (np.array(["008/67", "105/01", "058/01", "003/01"]), np.array([0.4, 0.3, 0.2, 0.1]))
OTHER_NON_DA = (
    np.array(["058/01", "105/01", "003/01", "008/71"]),
    np.array([0.45, 0.35, 0.1, 0.1]),
)
DESCRIPTION = {
    "195/12": "Pursue a course of conduct amounting to stalking",
    "008/65": "Stalking involving fear of violence",
    "008/66": "Stalking involving serious alarm or distress",
    "008/56": "Racially or religiously aggravated stalking",
    "195/94": "Harassment",
    "008/55": "Racially or religiously aggravated harassment",
    "008/72": "Sending letters etc with intent to cause distress or anxiety",
    "008/67": "Controlling or coercive behaviour in an intimate or family relationship",
    "008/71": "Disclose private sexual photographs and films with intent to cause distress",
    "008/31": "Breach of a restraining order",
    "066/39": "Breach of a non-molestation order",
    "008/29": "Breach of conditions of injunction against harassment",
    "008/73": "Breach of a stalking protection order or interim stalking protection order",
    "105/01": "Common assault and battery",
    "058/01": "Criminal damage to a dwelling",
    "003/01": "Threats to kill",
}
# Home Office outcome types; NFA-type outcomes are where the right to review applies.
OUTCOMES = np.array(["1", "3", "8", "14", "15", "16", "18", "21", "22"])
OUTCOME_P_KNOWN = np.array([0.12, 0.03, 0.03, 0.02, 0.27, 0.43, 0.03, 0.05, 0.02])
OUTCOME_P_UNKNOWN = np.array([0.0, 0.0, 0.0, 0.55, 0.05, 0.10, 0.30, 0.0, 0.0])
NFA_OUTCOMES = np.array(["14", "15", "16", "18", "21"])
SPO_REASONS = np.array(
    [
        "victim did not support",
        "insufficient evidence of ongoing risk",
        "suspect remanded in custody",
        "other order already in place",
        "suspect not identified",
    ]
)
HOUR_P = np.array(
    [2, 1.5, 1, 0.7, 0.5, 0.5, 1, 2, 3, 3.5, 4, 4, 4, 4, 4, 4.5, 5, 5.5, 6, 6.5, 6.5, 6, 5, 3.5]
)
HOUR_P = HOUR_P / HOUR_P.sum()


@dataclass(frozen=True)
class Window:
    start: int  # first day (days since epoch)
    end: int  # last day, inclusive

    @staticmethod
    def of(start: str, end: str) -> Window:
        return Window(_day(start), _day(end))


def _day(iso: str) -> int:
    return int((np.datetime64(iso, "D") - EPOCH).astype(int))


_TABLE_START = "1900-01-01"


@functools.lru_cache(maxsize=1)
def _lookup_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pre-rendered strings so formatting is array indexing, not per-row work:
    ISO dates 1900-2139, times of day to the minute, zero-padded 4-digit blocks for ids."""
    days = np.arange(_day(_TABLE_START), _day("2140-01-01"))
    dates = np.datetime_as_string(EPOCH + days.astype("timedelta64[D]"), unit="D").astype(object)
    minutes = np.arange(1440)
    hh = np.char.zfill((minutes // 60).astype(str), 2)
    mm = np.char.zfill((minutes % 60).astype(str), 2)
    times = np.char.add(np.char.add(np.char.add("T", hh), ":"), np.char.add(mm, ":00"))
    four = np.char.zfill(np.arange(10_000).astype(str), 4).astype(object)
    two = np.char.zfill(np.arange(100).astype(str), 2).astype(object)
    return dates, times.astype(object), four, two


def _dates(days: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """ISO dates as an object array, None where not kept."""
    table = _lookup_tables()[0]
    idx = np.clip(np.asarray(days, dtype=np.int64) - _day(_TABLE_START), 0, len(table) - 1)
    s = table[idx]
    if keep is not None:
        s[~keep] = None
    return s


def _timestamps(seconds: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """ISO date-times to the minute (how records systems hold offence times)."""
    times = _lookup_tables()[1]
    day, sec = np.divmod(seconds.astype(np.int64), 86400)
    s = _dates(day) + times[sec // 60]
    s[~keep] = None
    return s


_BOOL = np.array(["false", "true"], dtype=object)


def _bools(values: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    s = _BOOL[np.asarray(values).astype(np.int64)]
    if keep is not None:
        s[~keep] = None
    return s


def _ids(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """prefix + 10-digit zero-padded number, from pre-rendered 4-digit blocks (2+4+4)."""
    _, _, four, two = _lookup_tables()
    n = np.asarray(numbers, dtype=np.int64)
    return prefix + two[n // 100_000_000] + four[(n // 10_000) % 10_000] + four[n % 10_000]


def _year_frac(days: np.ndarray) -> np.ndarray:
    return 1970 + days / 365.25


def _ramp(days: np.ndarray, at_2021: float, at_2026: float) -> np.ndarray:
    """Linear change between the start of 2021 and the end of 2026, flat outside."""
    f = np.clip((_year_frac(days) - 2021) / 6, 0, 1)
    return at_2021 + (at_2026 - at_2021) * f


def _choice(rng: np.random.Generator, options: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    return options[rng.choice(len(options), n, p=p)]


# ----------------------------------------------------------------------------- courses
def demand_factor(days: np.ndarray) -> np.ndarray:
    """Trend x season x counting-rule regime, for course arrival rates."""
    d = EPOCH + days.astype("timedelta64[D]")
    month = d.astype("datetime64[M]").astype(int) % 12
    trend = (1 + TREND_PER_YEAR) ** (_year_frac(days) - 2022)
    regime = np.where(days < _day(COUNTING_CHANGE), PRE_CHANGE_FACTOR, 1.0)
    return np.asarray(SEASON)[month] * trend * regime


def _arrivals(window: Window, volume: float, rng: np.random.Generator) -> tuple:
    """Course start days and type indices: Poisson per month per type."""
    first = window.start - BURN_IN_DAYS
    months = np.arange(
        np.datetime64(EPOCH + first, "M"), np.datetime64(EPOCH + window.end, "M") + 1
    )
    m_start = (months.astype("datetime64[D]") - EPOCH).astype(int)
    m_len = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(int)
    factor = demand_factor(m_start + 14)
    per_year = np.array([t.per_year for t in COURSE_TYPES])
    lam = np.outer(factor * m_len / 365.25, per_year) * volume
    counts = rng.poisson(lam)  # (months, types)
    month_idx, type_idx = np.nonzero(counts >= 0)
    reps = counts[month_idx, type_idx]
    month_idx = np.repeat(month_idx, reps)
    type_idx = np.repeat(type_idx, reps)
    start = m_start[month_idx] + (rng.random(len(month_idx)) * m_len[month_idx]).astype(int)
    keep = (start >= first) & (start <= window.end)
    order = np.lexsort((type_idx[keep], start[keep]))
    return start[keep][order], type_idx[keep][order]


def _type_attr(type_idx: np.ndarray, attr: str) -> np.ndarray:
    return np.array([getattr(t, attr) for t in COURSE_TYPES])[type_idx]


@dataclass
class People:
    sex: np.ndarray
    dob: np.ndarray  # days
    forename: np.ndarray
    surname: np.ndarray
    previous_surname: np.ndarray
    lsoa: np.ndarray
    postcode: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return len(self.sex)


def _make_people(
    sex: np.ndarray, age_at: np.ndarray, age: np.ndarray, area: Area, rng: np.random.Generator
) -> People:
    n = len(sex)
    dob = age_at - (age * 365.25).astype(int) - rng.integers(0, 365, n)
    fore = names.draw_forenames(sex, rng)
    sur = names.draw_surnames(n, rng)
    prev = np.full(n, None, dtype=object)
    changed = (sex == "F") & (rng.random(n) < 0.12)  # e.g. married or reverted surname
    prev[changed] = names.draw_surnames(int(changed.sum()), rng)
    p = area.population / area.population.sum()
    lsoa = rng.choice(area.n, n, p=p)
    k = rng.integers(0, area.pool_x.shape[1], n)
    return People(
        sex,
        dob,
        fore,
        sur,
        prev,
        lsoa,
        postcodes(area, lsoa, rng),
        area.pool_x[lsoa, k],
        area.pool_y[lsoa, k],
    )


def _concat_people(parts: list[People]) -> People:
    return People(
        *[np.concatenate([getattr(p, f) for p in parts]) for f in People.__dataclass_fields__]
    )


def _ages(n: int, minimum: int, rng: np.random.Generator) -> np.ndarray:
    return np.minimum(minimum + rng.gamma(2.2, 9.0, n), 88)


@dataclass
class Courses:
    start: np.ndarray
    type_idx: np.ndarray
    duration: np.ndarray
    perp: np.ndarray
    victim: np.ndarray
    stalking: np.ndarray
    domestic: np.ndarray
    known: np.ndarray
    relationship: np.ndarray

    @property
    def n(self) -> int:
        return len(self.start)


def simulate_courses(
    window: Window, volume: float, area: Area, rates: Rates, rng: np.random.Generator
) -> tuple[Courses, People, np.ndarray, np.ndarray]:
    """Courses with true perpetrators and victims. Returns courses, people, perp type per
    person ('' for victims only) and a breacher flag per person."""
    start, type_idx = _arrivals(window, volume, rng)
    n = len(start)
    stalking = _type_attr(type_idx, "stalking").astype(bool)
    domestic = _type_attr(type_idx, "domestic").astype(bool)
    # unrelated offences: a share are domestic (partner assaults, damage)
    unrelated = type_idx == len(COURSE_TYPES) - 1
    domestic = domestic | (unrelated & (rng.random(n) < 0.4))
    med = _type_attr(type_idx, "duration_days")
    duration = np.maximum(1, (med * rng.lognormal(0, 0.6, n)).astype(int))
    known = rng.random(n) < _type_attr(type_idx, "suspect_known")
    relationship = _type_attr(type_idx, "relationship").astype(object)
    online_type = np.array([t.name for t in COURSE_TYPES])[type_idx] == "online_stalker"
    relationship[online_type] = np.where(
        rng.random(int(online_type.sum())) < 0.5, "acquaintance", "stranger"
    )
    relationship[unrelated & domestic] = "partner"
    # Stalking inside a current relationship (monitoring, tracking, controlling contact) is
    # recorded as "partner": a share of the intimate-partner stalking courses. Its own random
    # stream, so adding it moves nothing else the generator draws.
    intimate = np.array([t.name for t in COURSE_TYPES])[type_idx] == "ex_partner_stalker"
    current = np.random.default_rng([n, 2019]).random(n) < rates.current_partner_stalking
    relationship[intimate & current] = "partner"
    relationship[~known] = "unknown"

    # Perpetrators: pools of serial stalkers / repeat harassers, the rest one course each.
    n_stalk = int(stalking.sum())
    n_pool_s = max(2, int(round(n_stalk * rates.serial_pool_share)))
    n_pool_h = max(2, int(round((n - n_stalk) * 0.02)))
    from_pool_s = stalking & known & (rng.random(n) < rates.serial_course_share)
    from_pool_h = ~stalking & ~unrelated & known & (rng.random(n) < 0.05)
    new_perp = ~(from_pool_s | from_pool_h)
    perp = np.empty(n, dtype=np.int64)
    perp[from_pool_s] = rng.integers(0, n_pool_s, int(from_pool_s.sum()))
    perp[from_pool_h] = n_pool_s + rng.integers(0, n_pool_h, int(from_pool_h.sum()))
    n_new_perp = int(new_perp.sum())
    perp[new_perp] = n_pool_s + n_pool_h + np.arange(n_new_perp)
    n_perps = n_pool_s + n_pool_h + n_new_perp

    male_p = np.concatenate(
        [
            np.full(n_pool_s, 0.88),
            np.full(n_pool_h, 0.7),
            _type_attr(type_idx[new_perp], "perp_male"),
        ]
    )
    perp_sex = np.where(rng.random(n_perps) < male_p, "M", "F")
    mid = (window.start + window.end) // 2
    perp_age_at = np.full(n_perps, mid)
    perp_age_at[n_pool_s + n_pool_h :] = start[new_perp]
    perps = _make_people(perp_sex, perp_age_at, _ages(n_perps, 18, rng), area, rng)

    # Victims: new people, except a share re-victimised by another perpetrator.
    reuse = rng.random(n) < rates.repeat_victim_share
    reuse[0] = False
    fresh = np.nonzero(~reuse)[0]
    n_vict = len(fresh)
    victim = np.empty(n, dtype=np.int64)
    victim[fresh] = n_perps + np.arange(n_vict)
    victim[reuse] = victim[fresh[rng.integers(0, n_vict, int(reuse.sum()))]]
    c_sex_perp = perp_sex[perp[fresh]]
    partner = np.isin(relationship[fresh], ["ex_partner", "partner"])
    opposite = np.where(c_sex_perp == "M", "F", "M")
    same = rng.random(n_vict) >= _type_attr(type_idx[fresh], "victim_female")
    vict_sex = np.where(
        partner,
        np.where(same, c_sex_perp, opposite),
        np.where(rng.random(n_vict) < _type_attr(type_idx[fresh], "victim_female"), "F", "M"),
    )
    victims = _make_people(vict_sex, start[fresh], _ages(n_vict, 16, rng), area, rng)
    # Family members often share the home.
    fam = (relationship[fresh] == "family") & (rng.random(n_vict) < 0.5)
    pidx = perp[fresh][fam]
    for f in ("lsoa", "postcode", "x", "y"):
        getattr(perps, f)[pidx] = getattr(victims, f)[fam]
    people = _concat_people([perps, victims])

    perp_type = np.full(people.n, "", dtype=object)
    perp_type[perp] = np.array([t.name for t in COURSE_TYPES])[type_idx]
    perp_type[:n_pool_s] = np.where(
        np.bincount(perp[from_pool_s], minlength=n_pool_s) > 0, "serial_stalker", ""
    )
    breacher = rng.random(people.n) < rates.breacher_share
    breacher[:n_pool_s] = rng.random(n_pool_s) < min(1.0, rates.breacher_share * 1.6)
    courses = Courses(
        start, type_idx, duration, perp, victim, stalking, domestic, known, relationship
    )
    return courses, people, perp_type, breacher


# ----------------------------------------------------------------------------- crimes
def _crime_times(courses: Courses, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Course index and reported day of every recorded crime of every course."""
    extra = _type_attr(courses.type_idx, "extra_crimes")
    no_crime = rng.random(courses.n) < _type_attr(courses.type_idx, "no_crime")
    n_crimes = np.where(no_crime, 0, 1 + rng.poisson(extra))
    # serial stalkers are more persistent
    course = np.repeat(np.arange(courses.n), n_crimes)
    u = rng.random(len(course))
    order = np.lexsort((u, course))
    course, u = course[order], u[order]
    first = np.r_[True, course[1:] != course[:-1]]
    u[first] *= 0.15  # the first report comes early in the course
    reported = courses.start[course] + (u * courses.duration[course]).astype(int)
    return course, reported


def _categories(
    stalking: np.ndarray,
    type_idx: np.ndarray,
    reported: np.ndarray,
    rates: Rates,
    rng: np.random.Generator,
) -> np.ndarray:
    """How each crime is recorded: stalking / other_incl / other_hidden / harassment /
    malcomms / other. True stalking is often recorded as something else (hidden stalking)."""
    n = len(stalking)
    u = rng.random(n)
    p_st = _ramp(reported, rates.stalking_recorded_2021, rates.stalking_recorded_2026)
    incl_cap = np.select(
        [reported >= _day(INCLUDED_CAPABILITY), reported >= _day(PRINCIPAL_RULE_CHANGE)],
        [0.85, 0.6],
        0.3,
    )
    p_other = rates.other_principal
    har_share = _type_attr(type_idx, "harassment_share")
    rest = (u - p_st - p_other) / np.maximum(1e-9, 1 - p_st - p_other)
    cat = np.where(
        u < p_st,
        "stalking",
        np.where(
            u < p_st + p_other,
            np.where(rng.random(n) < incl_cap, "other_incl", "other_hidden"),
            np.where(rest < har_share, "harassment", "malcomms"),
        ),
    )
    u2 = rng.random(n)
    non = np.where(
        u2 < rates.over_recording,
        "stalking",
        np.where(rng.random(n) < har_share, "harassment", "malcomms"),
    )
    cat = np.where(stalking, cat, non)
    unrelated = type_idx == len(COURSE_TYPES) - 1
    return np.where(unrelated, "other", cat).astype(object)


def _principal_codes(
    cat: np.ndarray, domestic: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Principal offence code and included codes ('|'-joined, None if none)."""
    n = len(cat)
    code = np.empty(n, dtype=object)
    rra = (~domestic) & (rng.random(n) < 0.012)
    st = cat == "stalking"
    code[st] = _choice(rng, STALKING_CODES, STALKING_CODE_P, int(st.sum()))
    code[st & rra] = RRA_STALKING
    har = cat == "harassment"
    code[har] = np.where(rra[har], RRA_HARASSMENT, HARASSMENT)
    code[cat == "malcomms"] = MALCOMMS
    other = np.isin(cat, ["other_incl", "other_hidden", "other"])
    da_o = other & domestic
    code[da_o] = _choice(rng, *OTHER_DA, int(da_o.sum()))
    nda_o = other & ~domestic
    code[nda_o] = _choice(rng, *OTHER_NON_DA, int(nda_o.sum()))
    included = np.full(n, None, dtype=object)
    inc_st = cat == "other_incl"
    included[inc_st] = _choice(rng, STALKING_CODES, STALKING_CODE_P, int(inc_st.sum()))
    u = rng.random(n)
    add_mc = st & (u < 0.15)
    included[add_mc] = MALCOMMS
    add_cd = st & (u >= 0.15) & (u < 0.2)
    included[add_cd] = "058/01"
    add_ccb = st & domestic & (u >= 0.2) & (u < 0.32)
    included[add_ccb] = "008/67"
    both = inc_st & (u < 0.25)
    included[both] = np.char.add(included[both].astype(str), "|008/72").astype(object)
    return code, included


@dataclass
class Recorded:
    """Crimes (before formatting) with their people and truth."""

    course: np.ndarray
    reported: np.ndarray
    cat: np.ndarray
    code: np.ndarray
    included: np.ndarray
    online: np.ndarray
    domestic: np.ndarray
    known: np.ndarray
    victim: np.ndarray  # true person index
    perp: np.ndarray
    stalking: np.ndarray
    order_type: np.ndarray  # breach crimes: order type; else None


def record_crimes(courses: Courses, rates: Rates, rng: np.random.Generator) -> Recorded:
    course, reported = _crime_times(courses, rng)
    n = len(course)
    t = courses.type_idx[course]
    stalking = courses.stalking[course]
    cat = _categories(stalking, t, reported, rates, rng)
    domestic = courses.domestic[course]
    code, included = _principal_codes(cat, domestic, rng)
    online_p = np.clip(
        _type_attr(t, "online")
        + 0.035 * (_year_frac(reported) - 2021) * (_type_attr(t, "online") < 1),
        0,
        1,
    )
    online = rng.random(n) < online_p
    online |= (cat == "malcomms") & (rng.random(n) < 0.3)
    return Recorded(
        course,
        reported,
        cat,
        code,
        included,
        online,
        domestic,
        courses.known[course],
        courses.victim[course],
        courses.perp[course],
        stalking,
        np.full(n, None, dtype=object),
    )


def concat_recorded(a: Recorded, b: Recorded) -> Recorded:
    return Recorded(
        *[np.concatenate([getattr(a, f), getattr(b, f)]) for f in Recorded.__dataclass_fields__]
    )


# ----------------------------------------------------------------------------- orders
@dataclass
class Orders:
    course: np.ndarray
    order_type: np.ndarray
    applied: np.ndarray  # day or -1
    granted: np.ndarray  # day or -1
    expiry: np.ndarray  # day or -1
    refused: np.ndarray
    crime_idx: np.ndarray  # index into crimes or -1
    public: np.ndarray  # protects the public at large (no protected person)


def simulate_orders(
    courses: Courses,
    crimes: Recorded,
    outcome: np.ndarray,
    outcome_day: np.ndarray,
    rng: np.random.Generator,
) -> Orders:
    """Protective orders arising from courses, with plausible delays and durations."""
    n = courses.n
    first_idx = np.full(n, -1)
    # crimes are in course order within each course block; take the first per course
    order = np.lexsort((crimes.reported, crimes.course))
    c_sorted = crimes.course[order]
    firsts = order[np.r_[True, c_sorted[1:] != c_sorted[:-1]]] if len(order) else order
    first_idx[crimes.course[firsts]] = firsts
    has = first_idx >= 0
    first_day = np.where(has, crimes.reported[np.maximum(first_idx, 0)], 0)
    parts: list[tuple] = []

    def add(
        mask: np.ndarray,
        kind: str,
        applied: np.ndarray,
        granted: np.ndarray,
        expiry: np.ndarray,
        refused: np.ndarray,
        crime_idx: np.ndarray,
        public: np.ndarray | None = None,
    ) -> None:
        idx = np.nonzero(mask)[0]
        m = len(idx)
        parts.append(
            (
                idx,
                np.full(m, kind, dtype=object),
                applied[idx],
                granted[idx],
                expiry[idx],
                refused[idx],
                crime_idx[idx],
                np.zeros(m, bool) if public is None else public[idx],
            )
        )

    u = rng.random((8, n))
    spo_p = _ramp(first_day, 0.07, 0.16)
    spo = has & courses.stalking & courses.known & (first_day >= _day(SPO_START)) & (u[0] < spo_p)
    spo_applied = first_day + rng.integers(14, 120, n)
    spo_refused = u[1] < 0.1
    spo_granted = np.where(spo_refused, -1, spo_applied + rng.integers(21, 100, n))
    years = _choice(rng, np.array([2, 3, 5]), np.array([0.7, 0.1, 0.2]), n)
    spo_expiry = np.where(spo_refused, -1, spo_granted + years * 365)
    public = u[2] < 0.05
    add(spo, "SPO", spo_applied, spo_granted, spo_expiry, spo_refused, first_idx, public)
    ispo = spo & (u[3] < 0.45)
    ispo_applied = spo_applied + rng.integers(0, 5, n)
    ispo_granted = ispo_applied + rng.integers(1, 7, n)
    ispo_expiry = np.where(spo_refused, ispo_granted + 56, np.maximum(spo_granted, ispo_granted))
    add(ispo, "ISPO", ispo_applied, ispo_granted, ispo_expiry, np.zeros(n, bool), first_idx, public)

    # Restraining order on conviction: the charged crime's outcome date.
    charged = (outcome == "1") & (crimes.order_type == None)  # noqa: E711
    charge_idx = np.full(n, -1)
    charge_idx[crimes.course[charged]] = np.nonzero(charged)[0]
    ro = (charge_idx >= 0) & (u[4] < 0.65) & ~courses.stalking | (
        (charge_idx >= 0) & courses.stalking & (u[4] < 0.75)
    )
    ro_granted = np.where(charge_idx >= 0, outcome_day[np.maximum(charge_idx, 0)], 0)
    ro_granted = ro_granted + rng.integers(0, 30, n)
    ro_applied = np.where(u[5] < 0.7, ro_granted, -1)
    ro_expiry = np.where(u[6] < 0.8, ro_granted + rng.integers(1, 6, n) * 365, -1)
    add(ro, "RO", ro_applied, ro_granted, ro_expiry, np.zeros(n, bool), charge_idx)

    da = has & courses.domestic & courses.known & (courses.type_idx != len(COURSE_TYPES) - 1)
    nmo = da & (u[7] < 0.12)
    nmo_applied = first_day + rng.integers(3, 60, n)
    nmo_refused = rng.random(n) < 0.05
    nmo_granted = np.where(nmo_refused, -1, nmo_applied + rng.integers(0, 21, n))
    nmo_expiry = np.where(nmo_refused, -1, nmo_granted + rng.integers(180, 366, n))
    nmo_crime = np.where(rng.random(n) < 0.3, first_idx, -1)
    add(nmo, "NMO", nmo_applied, nmo_granted, nmo_expiry, nmo_refused, nmo_crime)
    v = rng.random((3, n))
    dvpo = da & (v[0] < 0.04)
    dvpo_applied = first_day + rng.integers(0, 3, n)
    dvpo_granted = dvpo_applied + rng.integers(1, 3, n)
    add(dvpo, "DVPO", dvpo_applied, dvpo_granted, dvpo_granted + 28, np.zeros(n, bool), first_idx)
    iah = has & ~courses.domestic & courses.known & (v[1] < 0.02)
    iah_applied = first_day + rng.integers(30, 120, n)
    iah_granted = iah_applied + rng.integers(14, 60, n)
    add(iah, "IAH", iah_applied, iah_granted, iah_granted + 365, np.zeros(n, bool), np.full(n, -1))

    cols = list(zip(*parts, strict=True))
    return Orders(*[np.concatenate(c) for c in cols])


def simulate_breaches(
    orders: Orders,
    courses: Courses,
    breacher: np.ndarray,
    window: Window,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Breaches by perpetrators inclined to breach: (order index, day, is_crime, action)."""
    granted = (orders.granted >= 0) & ~orders.refused
    perp = courses.perp[orders.course]
    lam = np.where(breacher[perp], 1.3, 0.08) * granted
    lam = np.where(orders.order_type == "DVPO", lam * 0.5, lam)
    n_b = rng.poisson(lam)
    o = np.repeat(np.arange(len(n_b)), n_b)
    end = np.where(orders.expiry[o] >= 0, orders.expiry[o], orders.granted[o] + 3 * 365)
    span = end - orders.granted[o]
    keep = (span >= 1) & (orders.granted[o] < window.end)
    o, span = o[keep], span[keep]
    # A breach count belongs to the order's whole life: spread over all of it, then keep those
    # that have happened by the extract's end. Squeezing the count into the part of the life
    # before the end (as this once did) tripled breaches in the last quarter of every delivery.
    day = orders.granted[o] + 1 + (rng.random(len(o)) ** 1.5 * span).astype(int)  # early-heavy
    keep = day <= window.end
    o, day = o[keep], day[keep]
    is_crime = (rng.random(len(o)) < 0.75) & (orders.order_type[o] != "DVPO")
    action = _choice(
        rng,
        np.array(["arrest", "charge", "caution", "no_further_action", "other"]),
        np.array([0.45, 0.2, 0.05, 0.2, 0.1]),
        len(o),
    )
    order = np.lexsort((o, day))
    return o[order], day[order], is_crime[order], action[order]


# ----------------------------------------------------------------------------- places
def hotspot_places(area: Area, tile: int, window: Window, rng: np.random.Generator) -> pd.DataFrame:
    """Planted hotspots: town centres, workplaces and one emerging in the last year."""
    big = np.argsort(-area.population)
    pick = big[rng.choice(min(40, area.n), 6, replace=False)]
    k = rng.integers(0, area.pool_x.shape[1], 6)
    kinds = np.array(["town_centre"] * 3 + ["workplace"] * 2 + ["emerging"])
    active_from = np.where(kinds == "emerging", window.end - 365, window.start - BURN_IN_DAYS)
    return pd.DataFrame(
        {
            "hotspot_id": [f"H{tile:03d}-{i}" for i in range(6)],
            "kind": kinds,
            "lsoa_code": area.lsoa_code[pick],
            "latitude": area.pool_y[pick, k],
            "longitude": area.pool_x[pick, k],
            "radius_m": 250,
            "weight": np.array([3, 2, 2, 1.5, 1.5, 3.0]),
            "active_from": _dates(active_from),
            "active_to": _dates(np.full(6, window.end)),
            "_from": active_from,
        }
    )


def place_incidents(
    victim_x: np.ndarray,
    victim_y: np.ndarray,
    days: np.ndarray,
    online: np.ndarray,
    away_p: np.ndarray,
    hotspots: pd.DataFrame,
    area: Area,
    rng: np.random.Generator,
    prepared_boundary: shapely.Geometry,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, has_location, location_type). Near the victim's home, or near a hotspot."""
    n = len(days)
    away = (~online) & (rng.random(n) < away_p)
    # pick an active hotspot by weight
    active = days[:, None] >= hotspots["_from"].to_numpy()[None, :]
    w = active * hotspots["weight"].to_numpy()[None, :]
    cw = np.cumsum(w, axis=1)
    r = rng.random(n) * cw[:, -1]
    h = np.minimum((cw < r[:, None]).sum(axis=1), len(hotspots) - 1)
    hx = hotspots["longitude"].to_numpy()[h]
    hy = hotspots["latitude"].to_numpy()[h]
    # ~120 m jitter around the hotspot centre; ~30 m around the home (address-level geocode)
    sd_deg = np.where(away, 120, 30) / 111_000
    y = np.where(away, hy, victim_y) + rng.normal(0, 1, n) * sd_deg
    x = np.where(away, hx, victim_x) + rng.normal(0, 1, n) * sd_deg / np.cos(np.radians(54))
    inside = shapely.contains_xy(prepared_boundary, x, y)
    x = np.where(inside, x, np.where(away, hx, victim_x))
    y = np.where(inside, y, np.where(away, hy, victim_y))
    kind = hotspots["kind"].to_numpy()[h]
    loc_type = np.where(
        online,
        "online",
        np.where(away, np.where(kind == "workplace", "workplace", "street"), "dwelling"),
    ).astype(object)
    has = np.where(online, rng.random(n) < 0.15, rng.random(n) < 0.93)
    loc_type[online & has] = "dwelling"  # online crimes located at the victim's home
    loc_type[~has & ~online] = None
    return np.round(y, 6), np.round(x, 6), has, loc_type


# ----------------------------------------------------------------------------- nominals
@dataclass
class Nominals:
    """Records-system nominal records: one or more per true person, each with its own
    recorded attributes (the source of recording noise)."""

    start: np.ndarray  # first nominal index of each person
    count: np.ndarray
    person: np.ndarray  # true person of each nominal
    ids: np.ndarray
    forename: np.ndarray
    surname: np.ndarray
    dob: np.ndarray  # day, -1 missing
    sex: np.ndarray
    postcode: np.ndarray


def make_nominals(
    people: People, area: Area, rates: Rates, id_base: int, rng: np.random.Generator
) -> Nominals:
    n = people.n
    count = 1 + (rng.random(n) < rates.duplicate_nominal) + (rng.random(n) < 0.03)
    start = np.r_[0, np.cumsum(count)[:-1]]
    person = np.repeat(np.arange(n), count)
    k = np.arange(len(person)) - start[person]
    m = len(person)
    fore = people.forename[person].copy()
    sur = people.surname[person].copy()
    dob = people.dob[person].copy()
    sex = people.sex[person].copy()
    post = people.postcode[person].copy()
    dup = k > 0
    u = rng.random((8, m))
    # Duplicates are where the noise lives; the primary record is mostly right.
    nick = dup & (u[0] < 0.35) | (~dup & (u[0] < 0.02))
    fore[nick] = names.nickname(fore[nick], rng)
    mis_f = dup & (u[1] < 0.15) | (~dup & (u[1] < 0.01))
    fore[mis_f] = names.misspell(fore[mis_f], rng)
    mis_s = dup & (u[2] < 0.2) | (~dup & (u[2] < 0.015))
    sur[mis_s] = names.misspell(sur[mis_s], rng)
    prev = people.previous_surname[person]
    use_prev = dup & (prev != None) & (u[3] < 0.7)  # noqa: E711
    sur[use_prev] = prev[use_prev]
    swap = dup & (u[4] < 0.15) | (~dup & (u[4] < 0.01))
    if swap.any():
        dob_dt = (EPOCH + dob[swap].astype("timedelta64[D]")).astype("datetime64[D]")
        dob[swap] = (names.swap_day_month(dob_dt) - EPOCH).astype(int)
    dob[(dup & (u[5] < 0.15)) | (~dup & (u[5] < 0.03))] = -1
    moved = dup & (u[6] < 0.3)
    lsoa = rng.choice(area.n, int(moved.sum()))
    post[moved] = postcodes(area, lsoa, rng)
    noise.apply_noise(
        noise.profile(rates.noise),
        dup,
        fore,
        sur,
        dob,
        post,
        lambda r, k: postcodes(area, r.choice(area.n, k), r),
        # the tile's seed, read without drawing from its stream
        zlib.crc32(f"{rng.bit_generator.seed_seq.entropy}|{id_base}".encode()),
    )
    # ids are handed out in creation order: primaries first, duplicates later
    creation = np.lexsort((person, k))
    numbers = np.empty(m, dtype=np.int64)
    numbers[creation] = id_base + np.arange(m)
    return Nominals(start, count, person, _ids("P", numbers), fore, sur, dob, sex, post)


def pick_nominal(nom: Nominals, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which nominal record a mention uses: mostly the primary, sometimes a duplicate."""
    cnt = nom.count[person]
    u = rng.random(len(person))
    k = np.where((cnt > 1) & (u < 0.25), 1 + (rng.random(len(person)) * (cnt - 1)).astype(int), 0)
    return nom.start[person] + k
