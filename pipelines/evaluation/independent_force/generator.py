"""The independent force: people, courses of conduct, how each is recorded, and the truth.

Written without reading the project's own generator, so that an evaluation on its output tests
the pipeline against habits nobody here tuned to. The design is in the package docstring.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.evaluation.independent_force import geography, noise
from pipelines.evaluation.independent_force.names import FEMALE, MALE, SURNAMES

SCALE_CRIMES = {"tiny": 600, "small": 4_500, "force": 17_000}
YEARS = 5

STALKING_CODES = ("195/12", "008/66", "008/65", "008/56")
STALKING_CODE_P = (0.68, 0.19, 0.11, 0.02)
BREACH_CODE = {"SPO": "008/73", "ISPO": "008/73", "RO": "008/31", "NMO": "066/39", "IAH": "008/29"}
DESCRIPTIONS = {
    "195/12": "Pursue a course of conduct amounting to stalking",
    "008/65": "Stalking involving fear of violence",
    "008/66": "Stalking involving serious alarm or distress",
    "008/56": "Racially or religiously aggravated stalking",
    "195/94": "Harassment",
    "008/55": "Racially or religiously aggravated harassment",
    "008/72": "Malicious communications",
    "008/67": "Controlling or coercive behaviour",
    "008/71": "Disclose private sexual photographs",
    "008/31": "Breach of restraining order",
    "066/39": "Breach of non-molestation order",
    "008/29": "Breach of injunction against harassment",
    "008/73": "Breach of stalking protection order",
    "105/01": "Common assault",
    "058/01": "Criminal damage to a dwelling",
    "003/01": "Threats to kill",
}
RECORDED_AS = {
    "195/12": "stalking",
    "008/65": "stalking",
    "008/66": "stalking",
    "008/56": "stalking",
    "195/94": "harassment",
    "008/55": "harassment",
    "008/72": "malcomms",
    "008/67": "coercive_control",
    "008/71": "image_abuse",
    "008/31": "breach",
    "066/39": "breach",
    "008/29": "breach",
    "008/73": "breach",
    "105/01": "assault",
    "058/01": "criminal_damage",
    "003/01": "threats",
}

# Course types: (weight, is_stalking, relationship, domestic, mean extra occasions, online share)
COURSE_TYPES: dict[str, tuple[float, bool, str, bool, float, float]] = {
    "ex_partner_stalking": (0.20, True, "ex_partner", True, 2.2, 0.35),
    "acquaintance_stalking": (0.09, True, "acquaintance", False, 1.6, 0.35),
    "stranger_stalking": (0.03, True, "stranger", False, 1.2, 0.25),
    "online_stalking": (0.05, True, "unknown", False, 1.3, 0.9),
    "family_stalking": (0.02, True, "family", True, 1.5, 0.3),
    "neighbour_harassment": (0.19, False, "acquaintance", False, 0.7, 0.15),
    "one_off_malcomms": (0.21, False, "acquaintance", False, 0.0, 0.75),
    "partner_coercive_control": (0.09, False, "partner", True, 0.8, 0.1),
    "domestic_incident": (0.12, False, "ex_partner", True, 0.2, 0.05),
    "image_abuse": (0.03, False, "ex_partner", True, 0.0, 1.0),
    "stranger_one_off": (0.11, False, "stranger", False, 0.0, 0.2),
}
# Courses only ever spawned from another one (weight 0: never drawn on their own).
SPAWNED_TYPES: dict[str, tuple[float, bool, str, bool, float, float]] = {
    "new_partner_harassment": (0.0, False, "stranger", False, 0.5, 0.5),
    "stalker_unrelated": (0.0, False, "stranger", False, 0.0, 0.1),
    "counter_allegation": (0.0, False, "ex_partner", True, 0.0, 0.3),
}

# How a crime that is part of no recognised stalking is classified.
HIDDEN_CODES = ("195/94", "008/72", "058/01", "105/01", "008/67", "008/71", "003/01", "008/55")
HIDDEN_P_DOMESTIC = (0.36, 0.26, 0.10, 0.07, 0.14, 0.03, 0.02, 0.02)
HIDDEN_P_OTHER = (0.45, 0.33, 0.10, 0.06, 0.0, 0.02, 0.02, 0.02)
# A recognised occasion hidden behind a more serious principal crime (principal crime rule).
INCLUDING_PRINCIPALS = ("105/01", "003/01", "058/01", "008/67")

OUTCOMES = ("1", "2", "3", "8", "14", "15", "16", "18", "21")
OUTCOME_P = (0.14, 0.02, 0.03, 0.04, 0.24, 0.24, 0.22, 0.04, 0.03)
OFFENDER_OUTCOMES = {"1", "2", "3", "8"}
NOT_PURSUED_REASONS = (
    "Victim does not support an application",
    "Restraining order sought at court instead",
    "Behaviour ceased after arrest",
    "Insufficient evidence of a stalking risk",
)


@dataclass
class Nominal:
    person_id: str
    forename: str
    surname: str
    dob: dt.date | None
    sex: str
    postcode: str


@dataclass(eq=False)  # people are compared by identity: two may share every detail
class Person:
    tpid: str
    sex: str
    forename: str
    nicknames: tuple[str, ...]
    surname: str
    other_surname: str
    dob: dt.date
    postcode: str
    previous_postcode: str
    moved_on: dt.date | None
    nominals: list[Nominal] = field(default_factory=list)
    duplicate_propensity: float = 0.1
    is_victim: bool = False  # already in the repeat-victim pool
    is_stalker: bool = False
    alias: tuple[str, str] | None = None  # (forename, surname) given falsely on some occasions

    def postcode_on(self, day: dt.date) -> tuple[str, str]:
        """(address at the time, the address before it if the person had moved by then)."""
        if self.moved_on is not None and day < self.moved_on:
            return self.previous_postcode, ""
        return self.postcode, self.previous_postcode


@dataclass(eq=False)
class Course:
    course_id: str
    course_type: str
    is_stalking: bool
    perpetrator: Person
    victim: Person
    relationship: str
    domestic: bool
    start: dt.date
    dates: list[dt.date]
    online_share: float
    recognition: float
    unknown_suspect: float
    crimes: list[str] = field(default_factory=list)
    associate: Person | None = None  # a second suspect on some occasions (proxy stalking)


class _Force:
    """All the state of one generation (one seed, one scale)."""

    def __init__(self, seed: int, scale: str, end_quarter: str) -> None:
        if scale not in SCALE_CRIMES:
            raise ValueError(f"scale must be one of {sorted(SCALE_CRIMES)}")
        self.rng = np.random.default_rng(seed)
        self.target = SCALE_CRIMES[scale]
        year, q = end_quarter.split("-Q")
        end_month = 3 * int(q)
        self.end = dt.date(int(year) + (end_month == 12), end_month % 12 + 1, 1) - dt.timedelta(
            days=1
        )
        self.start = dt.date(self.end.year - YEARS, self.end.month, self.end.day) + dt.timedelta(
            days=1
        )
        units = {"tiny": 25, "small": 60, "force": 140}[scale]
        self.geo = geography.build_geography(self.rng, units)
        self.people: list[Person] = []
        self.victims: list[Person] = []
        self.stalkers: list[Person] = []
        self.courses: list[Course] = []
        self.crime_rows: list[dict] = []
        self.crime_truth: list[dict] = []
        self.cp_rows: list[dict] = []
        self.mentions: list[dict] = []
        self.intel_rows: list[dict] = []
        self.intel_truth: list[dict] = []
        self.order_rows: list[dict] = []
        self.breach_rows: list[dict] = []
        self.used_ids: set[str] = set()
        self.crime_seq = 0
        self._fem_w = _zipf(len(FEMALE), 0.9)
        self._male_w = _zipf(len(MALE), 0.9)
        self._sur_w = _zipf(len(SURNAMES), 0.8)

    # ------------------------------------------------------------------ people
    def _date_between(self, a: dt.date, b: dt.date) -> dt.date:
        span = max(0, (b - a).days)
        return a + dt.timedelta(days=int(self.rng.integers(0, span + 1)))

    def _postcode(self, town: int | None = None) -> str:
        if town is None:
            town = int(self.rng.choice(len(self.geo.town_weights), p=self.geo.town_weights))
        codes = self.geo.postcodes_by_town[town]
        return codes[int(self.rng.integers(len(codes)))]

    def new_person(
        self, sex: str, age_range: tuple[int, int] = (17, 80), near: Person | None = None
    ) -> Person:
        rng = self.rng
        if sex == "F":
            forename, nicks = FEMALE[int(rng.choice(len(FEMALE), p=self._fem_w))]
        else:
            forename, nicks = MALE[int(rng.choice(len(MALE), p=self._male_w))]
        surname = SURNAMES[int(rng.choice(len(SURNAMES), p=self._sur_w))]
        if surname == "Kowalski" and sex == "F":
            surname = "Kowalska"
        age = rng.integers(age_range[0], age_range[1] + 1)
        dob = dt.date(int(self.end.year - age), 1, 1) + dt.timedelta(days=int(rng.integers(365)))
        other = ""
        if sex == "F" and age > 22 and rng.random() < 0.3:
            other = SURNAMES[int(rng.choice(len(SURNAMES), p=self._sur_w))]
            if other == surname:
                other = ""
            elif rng.random() < 0.15:
                other = f"{other}-{surname}"
        town = None
        if near is not None:
            town = self.geo.postcodes[near.postcode][2] if rng.random() < 0.7 else None
        postcode = self._postcode(town)
        previous, moved = "", None
        if rng.random() < 0.3:
            previous = self._postcode(town if rng.random() < 0.6 else None)
            moved = self._date_between(self.start, self.end)
        person = Person(
            tpid=f"TP{len(self.people) + 1:06d}",
            sex=sex,
            forename=forename,
            nicknames=nicks,
            surname=surname,
            other_surname=other,
            dob=dob,
            postcode=postcode,
            previous_postcode=previous,
            moved_on=moved,
            duplicate_propensity=float(rng.choice([0.04, 0.12, 0.3], p=[0.55, 0.33, 0.12])),
        )
        self.people.append(person)
        return person

    def household_member(self, of: Person, sex: str) -> Person:
        """A relative at the same address with the same surname (a son named after his
        father, a sister): different people that a careless match would merge."""
        p = self.new_person(sex)
        p.surname = of.surname
        p.postcode, p.previous_postcode, p.moved_on = of.postcode, of.previous_postcode, of.moved_on
        if sex == of.sex and sex == "M" and self.rng.random() < 0.3:
            p.forename, p.nicknames = of.forename, of.nicknames
        gap = int(self.rng.choice([-1, 1]) * self.rng.integers(2, 30))
        p.dob = of.dob + dt.timedelta(days=365 * gap + int(self.rng.integers(-100, 100)))
        if p.dob > self.end - dt.timedelta(days=365 * 14):
            p.dob = of.dob - dt.timedelta(days=365 * 24)
        return p

    def _new_id(self, prefix: str, digits: int) -> str:
        while True:
            ident = f"{prefix}{int(self.rng.integers(10 ** (digits - 1), 10**digits))}"
            if ident not in self.used_ids:
                self.used_ids.add(ident)
                return ident

    def _type_nominal(self, person: Person, day: dt.date, rates: noise.NoiseRates) -> Nominal:
        rng = self.rng
        given, family, nicks, other = (
            person.forename,
            person.surname,
            person.nicknames,
            person.other_surname,
        )
        if person.alias and person.nominals and rng.random() < 0.5:
            # a later nominal created under the alias the person gave (PNC "AKA" names)
            given, family, nicks, other = person.alias[0], person.alias[1], (), ""
        forename, surname = noise.record_name(rng, given, family, nicks, other, rates, person.sex)
        current, previous = person.postcode_on(day)
        postcode = noise.record_postcode(
            rng, current, previous, self.geo.retired.get(current, ""), rates
        )
        sex = person.sex if rng.random() > 0.02 else str(rng.choice(["U", ""]))
        return Nominal(
            self._new_id("N", 8),
            forename,
            surname,
            noise.record_dob(rng, person.dob, rates, self.end),
            sex,
            postcode,
        )

    def nominal_for(self, person: Person, day: dt.date) -> Nominal:
        """The nominal an officer links: usually an existing one, sometimes a fresh duplicate."""
        if not person.nominals:
            nominal = self._type_nominal(person, day, noise.FIRST_TYPING)
        elif self.rng.random() < person.duplicate_propensity:
            nominal = self._type_nominal(person, day, noise.DUPLICATE_TYPING)
        else:
            k = len(person.nominals)
            weights = np.array([3.0] + [1.0] * (k - 1))
            return person.nominals[int(self.rng.choice(k, p=weights / weights.sum()))]
        person.nominals.append(nominal)
        return nominal

    # ------------------------------------------------------------------ courses
    def _pick_perpetrator(self, stalking: bool, relationship: str) -> Person:
        rng = self.rng
        if stalking and self.stalkers and rng.random() < 0.13:
            return self.stalkers[int(rng.integers(len(self.stalkers)))]
        if self.people and rng.random() < 0.08:
            return self.people[int(rng.integers(len(self.people)))]
        male = 0.8 if stalking or relationship in ("partner", "ex_partner") else 0.6
        person = self.new_person("M" if rng.random() < male else "F", (20, 70))
        if rng.random() < 0.04:
            names = FEMALE if person.sex == "F" else MALE
            alias_forename = names[int(rng.integers(len(names)))][0]
            if rng.random() < 0.5:  # often only one of the two names is false
                alias_forename = person.forename
            person.alias = (alias_forename, SURNAMES[int(rng.integers(len(SURNAMES)))])
        return person

    def _pick_victim(self, perpetrator: Person, relationship: str) -> Person:
        rng = self.rng
        if self.victims and rng.random() < 0.11:
            v = self.victims[int(rng.integers(len(self.victims)))]
            if v is not perpetrator:
                return v
        if relationship == "family":
            return self.household_member(perpetrator, "F" if rng.random() < 0.7 else "M")
        sex = "F" if (perpetrator.sex == "M") == (rng.random() < 0.85) else "M"
        if relationship in ("partner", "ex_partner"):
            age = (self.end - perpetrator.dob).days // 365
            lo = int(max(18, age - 8))
            v = self.new_person(sex, (lo, max(lo, int(age + 4))), near=perpetrator)
            if relationship == "ex_partner" and rng.random() < 0.4:
                # they lived together: the perpetrator's previous address is hers
                perpetrator.previous_postcode = v.postcode
                perpetrator.moved_on = perpetrator.moved_on or self._date_between(
                    self.start, self.end
                )
            return v
        return self.new_person(sex, near=perpetrator if relationship == "acquaintance" else None)

    def _course_dates(self, start: dt.date, extra_mean: float, stalking: bool) -> list[dt.date]:
        n = 1 + int(self.rng.poisson(extra_mean)) if extra_mean > 0 else 1
        dates, day = [], start
        for _ in range(min(n, 14)):
            if day > self.end:
                break
            if day >= self.start:  # occasions before the extract's window are not in it
                dates.append(day)
            gap = self.rng.exponential(28 if stalking else 45)
            day = day + dt.timedelta(days=int(3 + gap))
        return dates

    def _course_start(self) -> dt.date:
        # recording of these offences has grown: later quarters carry more courses. Courses
        # start up to a year before the window, so its first months hold courses under way.
        first = self.start - dt.timedelta(days=365)
        u = self.rng.random() ** 0.9
        return first + dt.timedelta(days=int(u * (self.end - first).days))

    def add_course(
        self,
        course_type: str,
        perpetrator: Person | None = None,
        victim: Person | None = None,
        start: dt.date | None = None,
        stalking: bool | None = None,
    ) -> Course | None:
        rng = self.rng
        _, is_stalking, relationship, domestic, extra, online = (COURSE_TYPES | SPAWNED_TYPES)[
            course_type
        ]
        if stalking is not None:
            is_stalking = stalking
            extra = max(extra, 1.5) if stalking else extra
        perp = perpetrator or self._pick_perpetrator(is_stalking, relationship)
        vict = victim or self._pick_victim(perp, relationship)
        if vict is perp:
            return None
        start = start or self._course_start()
        if start > self.end:
            return None
        dates = self._course_dates(start, extra, is_stalking)
        recognition = float(rng.choice([0.08, 0.45, 0.85], p=[0.33, 0.37, 0.30]))
        unknown = 0.0
        if course_type == "online_stalking":
            unknown = 0.8
        elif online > 0.5:
            unknown = 0.3
        elif is_stalking and relationship != "stranger":
            unknown = 0.05
        elif relationship == "stranger":
            unknown = 0.35
        course = Course(
            course_id=f"C{len(self.courses) + 1:06d}",
            course_type=course_type,
            is_stalking=is_stalking,
            perpetrator=perp,
            victim=vict,
            relationship=relationship,
            domestic=domestic,
            start=start,
            dates=dates,
            online_share=online,
            recognition=recognition,
            unknown_suspect=unknown,
        )
        self.courses.append(course)
        # lists keep the draw order deterministic; flags make membership O(1)
        if not vict.is_victim:
            self.victims.append(vict)
        if is_stalking and not perp.is_stalker:
            perp.is_stalker = True
            self.stalkers.append(perp)
        vict.is_victim = True
        self._record_course(course)
        return course

    def spawn_related(self, course: Course) -> None:
        """What else a stalker does: the victim's new partner is harassed, unrelated crimes
        against others, and sometimes a counter-allegation against the victim."""
        rng = self.rng
        if not course.dates:
            return
        last = course.dates[-1]
        if course.course_type == "ex_partner_stalking" and rng.random() < 0.18:
            partner = self.new_person("M" if course.victim.sex == "F" else "F", near=course.victim)
            self.add_course(
                "new_partner_harassment",
                perpetrator=course.perpetrator,
                victim=partner,
                start=last + dt.timedelta(days=int(rng.integers(-20, 60))),
                stalking=bool(rng.random() < 0.25),
            )
        if course.is_stalking and rng.random() < 0.15:
            self.add_course(
                "stalker_unrelated",
                perpetrator=course.perpetrator,
                victim=self.new_person("M" if rng.random() < 0.6 else "F"),
                start=self._date_between(course.start, self.end),
            )
        if course.relationship == "ex_partner" and rng.random() < 0.05:
            self.add_course(
                "counter_allegation",
                perpetrator=course.victim,
                victim=course.perpetrator,
                start=course.dates[0] + dt.timedelta(days=int(rng.integers(1, 30))),
            )

    # ------------------------------------------------------------------ recording
    def _classify(self, course: Course, k: int) -> tuple[str, list[str]]:
        rng = self.rng
        domestic = course.domestic
        if course.is_stalking:
            recognised = rng.random() < min(0.95, course.recognition + 0.08 * k)
            if recognised:
                if rng.random() < 0.8:
                    code = str(rng.choice(STALKING_CODES, p=STALKING_CODE_P))
                    included = ["058/01"] if rng.random() < 0.05 else []
                    return code, included
                principal = str(rng.choice(INCLUDING_PRINCIPALS))
                if principal == "008/67" and not domestic:
                    principal = "105/01"
                return principal, ["195/12"]
            probs = np.array(HIDDEN_P_DOMESTIC if domestic else HIDDEN_P_OTHER)
            return str(rng.choice(HIDDEN_CODES, p=probs / probs.sum())), []
        # not stalking: what such conduct is recorded as (and, now and then, over-recorded)
        if rng.random() < 0.03:
            return "195/12", []
        ctype = course.course_type
        if ctype == "partner_coercive_control":
            code = str(rng.choice(["008/67", "105/01", "003/01"], p=[0.6, 0.3, 0.1]))
            return code, (["105/01"] if code == "008/67" and rng.random() < 0.2 else [])
        if ctype == "domestic_incident":
            return str(rng.choice(["105/01", "058/01", "195/94"], p=[0.55, 0.3, 0.15])), []
        if ctype == "image_abuse":
            return "008/71", []
        if ctype == "one_off_malcomms":
            return "008/72", []
        if ctype in ("stranger_one_off", "stalker_unrelated"):
            return str(rng.choice(["105/01", "058/01", "003/01"], p=[0.6, 0.3, 0.1])), []
        code = str(rng.choice(["195/94", "008/72", "058/01", "008/55"], p=[0.55, 0.3, 0.1, 0.05]))
        return code, []

    def _crime_id(self, day: dt.date) -> str:
        del day  # the final reference is given in recording order (_renumber_crimes)
        self.crime_seq += 1
        return f"T{self.crime_seq:07d}"

    def _location(self, course: Course, online: bool, day: dt.date):
        rng = self.rng
        if online and rng.random() < 0.65:
            return None, None, "online"
        home, _ = course.victim.postcode_on(day)
        k = rng.random()
        if k < 0.55:
            east, north = self.geo.point_near(rng, home)
            kind = "dwelling"
        elif k < 0.85:
            east, north = self.geo.street_point(rng, self.geo.postcodes[home][2])
            kind = "street"
        else:
            town = int(rng.choice(len(self.geo.town_weights), p=self.geo.town_weights))
            east, north = self.geo.street_point(rng, town)
            kind = "workplace" if rng.random() < 0.6 else "licensed_premises"
        lat, lon = geography.to_latlon(np.array(east), np.array(north))
        return round(float(lat), 5), round(float(lon), 5), kind

    def _record_course(self, course: Course) -> None:
        rng = self.rng
        order = None
        order_after = int(rng.integers(1, 4))
        for k, day in enumerate(course.dates):
            code, included = self._classify(course, k)
            breach_order = None
            if order is not None and order["granted"] is not None:
                granted, expiry = order["granted"], order["expiry"]
                if granted <= day <= expiry and rng.random() < 0.55:
                    breach_order = order
                    if order["type"] in BREACH_CODE:
                        code, included = (
                            BREACH_CODE[order["type"]],
                            (
                                ["195/12"]
                                if course.is_stalking
                                and rng.random() < 0.15
                                and order["type"] != "SPO"
                                else []
                            ),
                        )
            crime_id = self._write_crime(course, day, code, included, k)
            course.crimes.append(crime_id)
            if breach_order is not None:
                self._write_breach(
                    breach_order, day, crime_id if order["type"] in BREACH_CODE else ""
                )
            if order is None and k + 1 >= order_after:
                order = self._maybe_order(course, day, crime_id)
        self._write_intelligence(course)

    def _write_crime(
        self, course: Course, day: dt.date, code: str, included: list[str], k: int
    ) -> str:
        rng = self.rng
        reported = day
        crime_id = self._crime_id(reported)
        online = bool(rng.random() < course.online_share)
        lat, lon, location_type = self._location(course, online, reported)
        start = dt.datetime.combine(
            reported - dt.timedelta(days=int(rng.integers(0, 10))), dt.time()
        ) + dt.timedelta(minutes=int(rng.integers(0, 24 * 60)))
        end = start + dt.timedelta(hours=float(rng.exponential(30 if course.is_stalking else 2)))
        if end.date() > reported:
            end = dt.datetime.combine(reported, dt.time(hour=int(rng.integers(0, 12))))
            end = max(end, start)
        unknown = bool(rng.random() < course.unknown_suspect)
        outcome, outcome_date = "", None
        age = (self.end - reported).days
        if age > 30 or rng.random() < 0.3:
            outcome = str(rng.choice(OUTCOMES, p=OUTCOME_P))
            if unknown and rng.random() < 0.8:
                outcome = "18"
            outcome_date = reported + dt.timedelta(days=int(3 + rng.exponential(55)))
            if outcome_date > self.end:
                outcome, outcome_date = "", None
        recorded_stalking = code in STALKING_CODES or "195/12" in included
        spo_considered = None
        if rng.random() < 0.8:
            spo_considered = bool(rng.random() < (0.45 if recorded_stalking else 0.04))
        risk = str(
            rng.choice(
                ["standard", "medium", "high", ""],
                p=[0.28, 0.42, 0.22, 0.08] if course.is_stalking else [0.58, 0.27, 0.07, 0.08],
            )
        )
        self.crime_rows.append(
            {
                "crime_id": crime_id,
                "reported_date": reported.isoformat(),
                "offence_start": start.strftime("%Y-%m-%d %H:%M"),
                "offence_end": end.strftime("%Y-%m-%d %H:%M") if rng.random() < 0.8 else "",
                "offence_code": code,
                "offence_description": DESCRIPTIONS[code] if rng.random() < 0.97 else "",
                "included_offence_codes": "|".join(included),
                "is_domestic_abuse": _b(course.domestic and not unknown),
                "is_online": _b(online),
                "latitude": lat,
                "longitude": lon,
                "location_type": location_type,
                "outcome_code": outcome,
                "outcome_date": outcome_date.isoformat() if outcome_date else "",
                "needs_assessment_date": _maybe_date(rng, reported, 0.6, 14, self.end),
                "support_referral_date": _maybe_date(
                    rng, reported, 0.4 + 0.2 * recorded_stalking, 21, self.end
                ),
                "right_to_review_informed": (
                    _b(rng.random() < 0.7) if outcome in ("14", "15", "16", "18") else ""
                ),
                "spo_considered": "" if spo_considered is None else _b(spo_considered),
                "spo_not_pursued_reason": (
                    str(rng.choice(NOT_PURSUED_REASONS))
                    if spo_considered and rng.random() < 0.6
                    else ""
                ),
                "risk_level": risk,
            }
        )
        if code in STALKING_CODES:
            route = "principal"
        elif any(c in STALKING_CODES for c in included):
            route = "included"
        elif code == "008/73":
            route = "breach_spo"
        else:
            route = "none"
        # the victim row, then the suspect (unknown online suspects: an empty nominal or none)
        self._crime_person(crime_id, course.victim, "victim", reported, "")
        suspect_recorded = True
        role = "offender" if outcome in OFFENDER_OUTCOMES else "suspect"
        if unknown:
            if rng.random() < 0.45:
                suspect_recorded = False
            else:
                pid = self._new_id("N", 8)
                surname = "UNKNOWN" if rng.random() < 0.3 else ""
                self.cp_rows.append(_cp(crime_id, pid, role, "", surname, None, "U", "", "unknown"))
                self._mention("crime_persons", f"{crime_id}|{pid}", pid, course.perpetrator)
        else:
            self._crime_person(crime_id, course.perpetrator, role, reported, course.relationship)
            if course.is_stalking and rng.random() < 0.04:
                # stalking by proxy: a relative or friend of the stalker joins in on an occasion
                if course.associate is None:
                    course.associate = (
                        self.household_member(
                            course.perpetrator, "M" if rng.random() < 0.6 else "F"
                        )
                        if rng.random() < 0.5
                        else self.new_person(
                            "M" if rng.random() < 0.7 else "F", near=course.perpetrator
                        )
                    )
                self._crime_person(crime_id, course.associate, "suspect", reported, "acquaintance")
        self.crime_truth.append(
            {
                "crime_id": crime_id,
                "course_id": course.course_id,
                "is_true_stalking": _b(course.is_stalking),
                "is_hidden_stalking": _b(course.is_stalking and route == "none"),
                "identified_route": route,
                "recorded_as": RECORDED_AS[code],
                "victim_true_person_id": course.victim.tpid,
                "perpetrator_true_person_id": course.perpetrator.tpid,
                "suspect_recorded": _b(suspect_recorded),
                "reported_date": reported.isoformat(),
                "quarantined": "false",
            }
        )
        return crime_id

    def _crime_person(
        self, crime_id: str, person: Person, role: str, day: dt.date, relationship: str
    ) -> None:
        rng = self.rng
        nominal = self.nominal_for(person, day)
        postcode = nominal.postcode
        if rng.random() < 0.15:  # address updated on this occasion
            current, previous = person.postcode_on(day)
            postcode = noise.record_postcode(
                rng, current, previous, self.geo.retired.get(current, ""), noise.FIRST_TYPING
            )
        if relationship and rng.random() < 0.1:
            relationship = "unknown" if rng.random() < 0.5 else ""
        self.cp_rows.append(
            _cp(
                crime_id,
                nominal.person_id,
                role,
                nominal.forename,
                nominal.surname,
                nominal.dob,
                nominal.sex,
                postcode,
                relationship,
            )
        )
        self._mention("crime_persons", f"{crime_id}|{nominal.person_id}", nominal.person_id, person)

    def _mention(self, source: str, key: str, person_id: str, person: Person) -> None:
        self.mentions.append(
            {
                "source": source,
                "record_key": key,
                "person_id": person_id,
                "true_person_id": person.tpid,
                "quarantined": "false",
            }
        )

    # ------------------------------------------------------------------ orders
    def _maybe_order(self, course: Course, day: dt.date, crime_id: str) -> dict | None:
        rng = self.rng
        options: list[tuple[str, float]] = []
        if course.is_stalking and course.unknown_suspect < 0.5:
            options += [("SPO", 0.12), ("RO", 0.10)]
            if course.domestic:
                options += [("NMO", 0.08), ("DVPO", 0.04)]
        elif course.domestic:
            options += [("NMO", 0.06), ("DVPO", 0.04), ("RO", 0.04)]
        elif course.course_type == "neighbour_harassment":
            options += [("IAH", 0.05), ("RO", 0.02)]
        for order_type, p in options:
            if rng.random() < p:
                return self._write_order(course, order_type, day, crime_id)
        return None

    def _write_order(self, course: Course, order_type: str, day: dt.date, crime_id: str) -> dict:
        rng = self.rng
        applied = day + dt.timedelta(days=int(rng.integers(1, 45)))
        interim = order_type == "SPO" and rng.random() < 0.3
        status = str(rng.choice(["granted", "refused", "applied"], p=[0.78, 0.12, 0.10]))
        granted = expiry = None
        if status == "granted":
            granted = applied + dt.timedelta(days=int(rng.integers(0, 50)))
            years = {"SPO": 2, "RO": 2, "NMO": 1, "IAH": 1}.get(order_type, 0)
            length = 28 if order_type == "DVPO" else 365 * (years + int(rng.integers(0, 3)))
            expiry = granted + dt.timedelta(days=length)
            if expiry < self.end and rng.random() < 0.8:
                status = "expired"
            elif rng.random() < 0.05:
                status = "discharged"
        if applied > self.end or (granted is not None and granted > self.end):
            return {"type": order_type, "granted": None, "expiry": None}
        if status == "applied" and applied < self.end - dt.timedelta(days=120):
            status = "refused"
        if interim:  # an interim order made on the day of application, until the full hearing
            interim_end = applied + dt.timedelta(days=int(rng.integers(20, 60)))
            interim_status = "expired" if interim_end < self.end else "granted"
            self._order_row(course, "ISPO", interim_status, applied, applied, interim_end, crime_id)
        order_id = self._order_row(
            course,
            order_type,
            status,
            applied,
            granted,
            expiry,
            crime_id if rng.random() < 0.8 else "",
        )
        return {"type": order_type, "granted": granted, "expiry": expiry, "order_id": order_id}

    def _order_row(self, course, order_type, status, applied, granted, expiry, crime_id) -> str:
        rng = self.rng
        order_id = f"ORD{len(self.order_rows) + 1:05d}"
        perp, vict = course.perpetrator, course.victim
        if rng.random() < 0.88:
            nominal = self.nominal_for(perp, applied)
            pid, f, s, dob = nominal.person_id, nominal.forename, nominal.surname, nominal.dob
        else:  # typed on the court papers without a nominal link
            pid = ""
            f, s = noise.record_name(
                rng,
                perp.forename,
                perp.surname,
                perp.nicknames,
                "",
                noise.DUPLICATE_TYPING,
                perp.sex,
            )
            dob = noise.record_dob(rng, perp.dob, noise.DUPLICATE_TYPING, self.end)
        protected = self.nominal_for(vict, applied).person_id if rng.random() < 0.92 else ""
        self.order_rows.append(
            {
                "order_id": order_id,
                "order_type": order_type,
                "status": status,
                "subject_person_id": pid,
                "subject_forename": f,
                "subject_surname": s,
                "subject_date_of_birth": dob.isoformat() if dob else "",
                "protected_person_id": protected,
                "applied_date": applied.isoformat(),
                "granted_date": granted.isoformat() if granted else "",
                "expiry_date": expiry.isoformat() if expiry else "",
                "crime_id": crime_id,
            }
        )
        self._mention("order_subject", order_id, pid, perp)
        if protected:
            self._mention("order_protected", order_id, protected, vict)
        return order_id

    def _write_breach(self, order: dict, day: dt.date, crime_id: str) -> None:
        if "order_id" not in order:
            return
        rng = self.rng
        action = "arrest" if crime_id else str(rng.choice(["other", "no_further_action"]))
        if crime_id and rng.random() < 0.4:
            action = str(rng.choice(["charge", "caution"]))
        self.breach_rows.append(
            {
                "breach_id": f"BR{len(self.breach_rows) + 1:05d}",
                "order_id": order["order_id"],
                "breach_date": day.isoformat(),
                "crime_id": crime_id,
                "action_taken": action,
            }
        )

    # ------------------------------------------------------------------ intelligence
    def _write_intelligence(self, course: Course) -> None:
        rng = self.rng
        if not course.dates:
            return
        rate = 0.7 if course.is_stalking else 0.08
        for _ in range(int(rng.poisson(rate))):
            day = self._date_between(
                course.dates[0], min(self.end, course.dates[-1] + dt.timedelta(days=90))
            )
            linked = (
                course.crimes[int(rng.integers(len(course.crimes)))] if rng.random() < 0.4 else ""
            )
            related = rng.random() < (0.85 if course.is_stalking else 0.12)
            self._intel_row(course.perpetrator, course.victim, day, linked, related, course)

    def background_intelligence(self, n: int) -> None:
        rng = self.rng
        for _ in range(n):
            if self.people and rng.random() < 0.5:
                subject = self.people[int(rng.integers(len(self.people)))]
            else:
                subject = self.new_person("M" if rng.random() < 0.75 else "F", (16, 70))
            day = self._date_between(self.start, self.end)
            self._intel_row(subject, None, day, "", bool(rng.random() < 0.04), None)

    def _intel_row(self, subject: Person, victim: Person | None, day, crime_id, related, course):
        rng = self.rng
        intel_id = f"IR{len(self.intel_rows) + 1:06d}"
        unknown = course is not None and course.unknown_suspect > 0.5 and rng.random() < 0.7
        pid, f, s, dob = "", "", "", None
        if not unknown:
            if subject.nominals and rng.random() < 0.35:
                nominal = subject.nominals[int(rng.integers(len(subject.nominals)))]
                pid, f, s, dob = nominal.person_id, nominal.forename, nominal.surname, nominal.dob
            else:
                f, s = noise.record_name(
                    rng,
                    subject.forename,
                    subject.surname,
                    subject.nicknames,
                    subject.other_surname,
                    noise.INTEL_TYPING,
                    subject.sex,
                )
                k = rng.random()
                if k < 0.15:
                    f = ""
                elif k < 0.2:
                    s = ""
                dob = (
                    noise.record_dob(rng, subject.dob, noise.INTEL_TYPING, self.end)
                    if rng.random() < 0.45
                    else None
                )
        vid = ""
        if victim is not None and rng.random() < 0.55:
            vid = self.nominal_for(victim, day).person_id
        lat = lon = None
        if rng.random() < 0.4:
            home = subject.postcode_on(day)[0]
            east, north = self.geo.point_near(rng, home, 0.3)
            la, lo = geography.to_latlon(np.array(east), np.array(north))
            lat, lon = round(float(la), 5), round(float(lo), 5)
        self.intel_rows.append(
            {
                "intel_id": intel_id,
                "submitted_date": day.isoformat(),
                "grading": _grading(rng),
                "subject_person_id": pid,
                "subject_forename": f,
                "subject_surname": s,
                "subject_date_of_birth": dob.isoformat() if dob else "",
                "victim_person_id": vid,
                "crime_id": crime_id,
                "is_stalking_related": _b(related),
                "is_online": _b(course is not None and rng.random() < course.online_share),
                "latitude": lat,
                "longitude": lon,
            }
        )
        self.intel_truth.append(
            {
                "intel_id": intel_id,
                "course_id": course.course_id if course else "",
                "subject_true_person_id": subject.tpid,
                "victim_true_person_id": victim.tpid if victim and vid else "",
                "is_true_stalking": _b(bool(course and course.is_stalking)),
                "quarantined": "false",
            }
        )
        self._mention("intelligence_subject", intel_id, pid, subject)
        if vid and victim is not None:
            self._mention("intelligence_victim", intel_id, vid, victim)

    # ------------------------------------------------------------------ the whole force
    def generate(self) -> None:
        types = list(COURSE_TYPES)
        weights = np.array([COURSE_TYPES[t][0] for t in types])
        weights /= weights.sum()
        while len(self.crime_rows) < self.target:
            ctype = str(self.rng.choice(types, p=weights))
            course = self.add_course(ctype)
            if course is not None:
                self.spawn_related(course)
        self.background_intelligence(int(0.08 * len(self.crime_rows)))
        self._deliberately_bad_rows()

    def _deliberately_bad_rows(self) -> None:
        """A few rows a real delivery would carry, each breaking one contract rule; marked
        quarantined in truth (with every row that references them)."""
        rng = self.rng
        n = max(1, len(self.crime_rows) // 400)
        bad_crimes = rng.choice(len(self.crime_rows), size=n, replace=False)
        for i in bad_crimes:
            row = self.crime_rows[int(i)]
            # end keyed before start: a classic transposition in the time fields
            row["offence_end"] = (
                dt.datetime.strptime(row["offence_start"], "%Y-%m-%d %H:%M") - dt.timedelta(days=2)
            ).strftime("%Y-%m-%d %H:%M")
            self.crime_truth[int(i)]["quarantined"] = "true"
            cid = row["crime_id"]
            for m in self.mentions:
                if m["source"] == "crime_persons" and m["record_key"].startswith(cid + "|"):
                    m["quarantined"] = "true"
        cp_index = {f"{r['crime_id']}|{r['person_id']}": r for r in self.cp_rows}
        candidates = [
            m
            for m in self.mentions
            if m["source"] == "crime_persons"
            and m["quarantined"] == "false"
            and cp_index[m["record_key"]]["date_of_birth"]
        ]
        for j in rng.choice(len(candidates), size=min(n, len(candidates)), replace=False):
            m = candidates[int(j)]
            row = cp_index[m["record_key"]]
            # a century slip: 19xx typed as 20xx lands in the future
            year = int(row["date_of_birth"][:4])
            row["date_of_birth"] = f"{year + 100}{row['date_of_birth'][4:]}"
            m["quarantined"] = "true"

    # ------------------------------------------------------------------ output
    def _renumber_crimes(self) -> None:
        """Crime references run in recording order within each year, as a records system
        issues them (generation goes course by course, so ids are assigned at the end)."""
        order = sorted(
            range(len(self.crime_rows)),
            key=lambda i: (self.crime_rows[i]["reported_date"], self.crime_rows[i]["crime_id"]),
        )
        new_ids: dict[str, str] = {}
        per_year: dict[str, int] = {}
        for i in order:
            row = self.crime_rows[i]
            year = row["reported_date"][2:4]
            per_year[year] = per_year.get(year, 0) + int(self.rng.integers(1, 40))
            new_ids[row["crime_id"]] = f"KM/{year}/{per_year[year]:06d}"
        self.crime_rows = [self.crime_rows[i] for i in order]
        self.crime_truth = [self.crime_truth[i] for i in order]
        for row in self.crime_rows + self.crime_truth:
            row["crime_id"] = new_ids[row["crime_id"]]
        for row in self.cp_rows:
            row["crime_id"] = new_ids[row["crime_id"]]
        self.cp_rows.sort(key=lambda r: r["crime_id"])
        for row in self.intel_rows + self.order_rows + self.breach_rows:
            row["crime_id"] = new_ids.get(row["crime_id"], row["crime_id"])
        for m in self.mentions:
            if m["source"] == "crime_persons":
                crime, person = m["record_key"].rsplit("|", 1)
                m["record_key"] = f"{new_ids[crime]}|{person}"
        self.intel_rows.sort(key=lambda r: (r["submitted_date"], r["intel_id"]))
        intel_ids = {
            r["intel_id"]: f"IR{r['submitted_date'][2:4]}-{k + 1:06d}"
            for k, r in enumerate(self.intel_rows)
        }
        order_of = {r["intel_id"]: k for k, r in enumerate(self.intel_rows)}
        self.intel_truth.sort(key=lambda r: order_of[r["intel_id"]])
        for row in self.intel_rows + self.intel_truth:
            row["intel_id"] = intel_ids[row["intel_id"]]
        for m in self.mentions:
            if m["source"].startswith("intelligence_"):
                m["record_key"] = intel_ids[m["record_key"]]

    def write(self, out_dir: Path) -> None:
        self._renumber_crimes()
        out_dir.mkdir(parents=True, exist_ok=True)
        truth = out_dir / "truth"
        truth.mkdir(exist_ok=True)
        _csv(self.crime_rows, CRIME_COLUMNS, out_dir / "crimes.csv")
        _csv(self.cp_rows, CP_COLUMNS, out_dir / "crime_persons.csv")
        _csv(self.intel_rows, INTEL_COLUMNS, out_dir / "intelligence.csv")
        _csv(self.order_rows, ORDER_COLUMNS, out_dir / "orders.csv")
        _csv(self.breach_rows, BREACH_COLUMNS, out_dir / "breaches.csv")
        geography.write_force_area(out_dir / "force_area.geojson")
        _csv(self.mentions, MENTION_COLUMNS, truth / "person_mentions.csv")
        _csv(self.crime_truth, CRIME_TRUTH_COLUMNS, truth / "crimes.csv")
        _csv(self.intel_truth, INTEL_TRUTH_COLUMNS, truth / "intelligence.csv")
        _csv(
            [
                {
                    "course_id": c.course_id,
                    "course_type": c.course_type,
                    "is_stalking": _b(c.is_stalking),
                    "perpetrator_true_person_id": c.perpetrator.tpid,
                    "victim_true_person_id": c.victim.tpid,
                    "start_date": c.dates[0].isoformat(),
                    "end_date": c.dates[-1].isoformat(),
                }
                for c in self.courses
                if c.crimes
            ],
            COURSE_COLUMNS,
            truth / "courses.csv",
        )
        # everyone behind a mention or a recorded course (an unrecorded suspect is still real)
        recorded = [c for c in self.courses if c.crimes]
        victims = {c.victim.tpid for c in recorded}
        perpetrators = {c.perpetrator.tpid for c in recorded}
        mentioned = {m["true_person_id"] for m in self.mentions} | victims | perpetrators
        _csv(
            [
                {
                    "true_person_id": p.tpid,
                    "forename": p.forename,
                    "surname": p.surname,
                    "sex": p.sex,
                    "date_of_birth": p.dob.isoformat(),
                    "postcode": p.postcode,
                    "is_victim": _b(p.tpid in victims),
                    "is_perpetrator": _b(p.tpid in perpetrators),
                }
                for p in self.people
                if p.tpid in mentioned
            ],
            PERSON_COLUMNS,
            truth / "persons.csv",
        )


CRIME_COLUMNS = [
    "crime_id", "reported_date", "offence_start", "offence_end", "offence_code",
    "offence_description", "included_offence_codes", "is_domestic_abuse", "is_online",
    "latitude", "longitude", "location_type", "outcome_code", "outcome_date",
    "needs_assessment_date", "support_referral_date", "right_to_review_informed",
    "spo_considered", "spo_not_pursued_reason", "risk_level",
]  # fmt: skip
CP_COLUMNS = [
    "crime_id", "person_id", "role", "forename", "surname", "date_of_birth", "sex", "postcode",
    "relationship_to_victim",
]  # fmt: skip
INTEL_COLUMNS = [
    "intel_id", "submitted_date", "grading", "subject_person_id", "subject_forename",
    "subject_surname", "subject_date_of_birth", "victim_person_id", "crime_id",
    "is_stalking_related", "is_online", "latitude", "longitude",
]  # fmt: skip
ORDER_COLUMNS = [
    "order_id", "order_type", "status", "subject_person_id", "subject_forename",
    "subject_surname", "subject_date_of_birth", "protected_person_id", "applied_date",
    "granted_date", "expiry_date", "crime_id",
]  # fmt: skip
BREACH_COLUMNS = ["breach_id", "order_id", "breach_date", "crime_id", "action_taken"]
MENTION_COLUMNS = ["source", "record_key", "person_id", "true_person_id", "quarantined"]
CRIME_TRUTH_COLUMNS = [
    "crime_id", "course_id", "is_true_stalking", "is_hidden_stalking", "identified_route",
    "recorded_as", "victim_true_person_id", "perpetrator_true_person_id", "suspect_recorded",
    "reported_date", "quarantined",
]  # fmt: skip
INTEL_TRUTH_COLUMNS = [
    "intel_id", "course_id", "subject_true_person_id", "victim_true_person_id",
    "is_true_stalking", "quarantined",
]  # fmt: skip
COURSE_COLUMNS = [
    "course_id", "course_type", "is_stalking", "perpetrator_true_person_id",
    "victim_true_person_id", "start_date", "end_date",
]  # fmt: skip
PERSON_COLUMNS = [
    "true_person_id", "forename", "surname", "sex", "date_of_birth", "postcode", "is_victim",
    "is_perpetrator",
]  # fmt: skip


def _zipf(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _grading(rng: np.random.Generator) -> str:
    """3x5x2: source 1-3, intelligence A-E, handling P (or C: conditions apply)."""
    source = int(rng.integers(1, 4))
    grade = "ABCDE"[int(rng.integers(0, 5))]
    return f"{source}-{grade}-{'C' if rng.random() < 0.1 else 'P'}"


def _b(value: bool) -> str:
    return "true" if value else "false"


def _maybe_date(
    rng: np.random.Generator, base: dt.date, p: float, mean_days: float, last: dt.date
) -> str:
    if rng.random() >= p:
        return ""
    day = base + dt.timedelta(days=int(rng.exponential(mean_days)))
    return day.isoformat() if day <= last else ""


def _cp(crime_id, pid, role, forename, surname, dob, sex, postcode, relationship) -> dict:
    return {
        "crime_id": crime_id,
        "person_id": pid,
        "role": role,
        "forename": forename,
        "surname": surname,
        "date_of_birth": dob.isoformat() if dob else "",
        "sex": sex,
        "postcode": postcode,
        "relationship_to_victim": relationship if role != "victim" else "",
    }


def _csv(rows: list[dict], columns: list[str], path: Path) -> None:
    frame = pd.DataFrame(rows, columns=columns)
    frame.to_csv(path, index=False, lineterminator="\n")


def generate_independent_force(
    out_dir: Path, *, seed: int = 1, scale: str = "small", end_quarter: str = "2026-Q3"
) -> Path:
    """Write the five extracts, force_area.geojson and truth/ into out_dir; returns out_dir."""
    force = _Force(seed, scale, end_quarter)
    force.generate()
    out = Path(out_dir)
    force.write(out)
    return out
