"""Scale presets and the behavioural parameters of the simulation (one place for every number).

Calibration (see README): the `force` preset targets ~3,000 stalking-and-harassment crimes a
year (stalking + harassment + R/R aggravated harassment + malicious communications, the Home
Office offence group), the order of North Yorkshire's 2,741 in the year to December 2018, with a
~3 %/year trend. Within the group the mix follows the Home Office 2017/18 code-level table
(malicious communications ~54 %, harassment ~42 %, stalking ~3.5 %, R/R harassment ~0.6 %),
with the stalking share raised (to ~10-15 % over the window) for post-2018 recording practice.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    name: str
    tiles: int  # independent copies of the force geography ("sub-forces"), written in chunks
    volume: float  # course rate per tile relative to the force preset
    lads: tuple[str, ...] | None = None  # restrict the geography (tiny = York only)
    # Bounding box (minx, miny, maxx, maxy) the tiles are stretched over; None = the LSOAs' own.
    target_bbox: tuple[float, float, float, float] | None = None


PRESETS: dict[str, Preset] = {
    "tiny": Preset("tiny", 1, 0.035, lads=("York UA",)),
    "small": Preset("small", 1, 0.25),
    "force": Preset("force", 1, 1.0),
    # ~10x force: ten tiles squeezed into the same box, i.e. a denser metropolitan area.
    "large": Preset("large", 10, 1.0),
    # ~250x force: a 16x16 grid of tiles stretched over England and Wales.
    "national": Preset("national", 250, 1.0, target_bbox=(-5.6, 50.1, 1.7, 55.7)),
}


@dataclass(frozen=True)
class CourseType:
    """A kind of perpetrator behaviour. Rates are courses per year at force scale."""

    name: str
    per_year: float
    stalking: bool  # truly stalking (FOUR: fixated, obsessive, unwanted, repeated)
    domestic: bool  # DA-related (intimate partner / family)
    relationship: str
    extra_crimes: float  # mean recorded crimes beyond the first (Poisson)
    no_crime: float  # share of courses known only from intelligence
    duration_days: float  # median course length (lognormal)
    online: float  # share of incidents online at the start of 2021 (trend added on top)
    suspect_known: float  # suspect identified and recorded
    victim_female: float  # for ex-partner types: share of victims of the opposite sex
    perp_male: float
    intel: float  # mean intelligence reports per course
    harassment_share: float  # non-stalking: harassment vs malicious communications
    away_from_home: float  # in-person incidents at a street/workplace/town-centre place


# One row per behaviour; columns are the CourseType fields in order (rate = per_year,
# s = stalking, d = domestic, rel = relationship, extra = extra_crimes, noc = no_crime,
# days = duration_days, onl = online, known = suspect_known, vf = victim_female,
# pm = perp_male, intel, har = harassment_share, away = away_from_home).
# The S&H volume these rates produce is ~3,000 crimes/year at force scale (module docstring).
_COURSE_TABLE = """
name                  rate s d rel          extra noc  days onl  known vf   pm   intel har  away
ex_partner_stalker    190  1 1 ex_partner   1.1   0.15 150  0.35 1.0   0.96 0.85 1.6   0.6  0.35
family_stalker        20   1 1 family       0.6   0.15 120  0.20 1.0   0.65 0.70 1.0   0.6  0.25
acquaintance_stalker  105  1 0 acquaintance 0.8   0.15 120  0.35 0.95  0.75 0.80 1.2   0.6  0.55
stranger_stalker      40   1 0 stranger     0.5   0.20 90   0.20 0.6   0.80 0.85 1.0   0.6  0.70
online_stalker        50   1 0 unknown      0.6   0.20 120  1.0  0.55  0.75 0.75 0.8   0.4  0.0
ex_partner_harasser   330  0 1 ex_partner   0.25  0.10 30   0.45 1.0   0.80 0.60 0.2   0.6  0.25
family_harasser       150  0 1 family       0.2   0.10 20   0.30 1.0   0.55 0.55 0.15  0.6  0.2
acquaintance_harasser 600  0 0 acquaintance 0.2   0.08 30   0.30 0.97  0.55 0.60 0.1   0.7  0.4
one_off_online        1000 0 0 stranger     0.1   0.05 5    0.70 0.75  0.60 0.60 0.05  0.15 0.3
unrelated_offence     350  0 0 acquaintance 0.0   0.0  1    0.05 0.9   0.55 0.75 0.03  0.5  0.5
"""


def _parse_course_table(text: str) -> tuple[CourseType, ...]:
    rows = [line.split() for line in text.strip().splitlines()[1:]]
    return tuple(
        CourseType(
            r[0],
            float(r[1]),
            r[2] == "1",
            r[3] == "1",
            r[4],
            *(float(x) for x in r[5:]),
        )
        for r in rows
    )


COURSE_TYPES: tuple[CourseType, ...] = _parse_course_table(_COURSE_TABLE)


@dataclass(frozen=True)
class Rates:
    """Recording and compliance rates. Configurable: pass `rates=Rates(...)` to generate_force."""

    needs_assessment: float = 0.72  # Victims' Code needs assessment recorded
    support_referral_stalking: float = 0.55
    support_referral_other: float = 0.30
    right_to_review_informed: float = 0.60  # of crimes finalised with no further action
    spo_considered_2021: float = 0.25  # share of stalking crimes with SPO considered, rising...
    spo_considered_2026: float = 0.65  # ...to this (super-complaint recommendations)
    spo_reason_recorded: float = 0.75  # rationale recorded when considered and not pursued
    stalking_recorded_2021: float = 0.38  # true stalking crimes recorded as stalking, rising...
    stalking_recorded_2026: float = 0.56
    other_principal: float = 0.09  # true stalking recorded under another principal crime
    over_recording: float = 0.03  # non-stalking harassment recorded as stalking
    # intimate-partner stalking courses by a current (not former) partner [U]
    current_partner_stalking: float = 0.2
    serial_course_share: float = 0.16  # stalking courses by a member of the serial pool
    serial_pool_share: float = 0.05
    repeat_victim_share: float = 0.07  # courses against someone already victimised
    duplicate_nominal: float = 0.15  # true people with 2+ nominal ids
    breacher_share: float = 0.40
    # share of crimes whose identified suspect is not recorded on the crime (no suspect row), as
    # on forces where many crimes name no suspect; 0 keeps every identified suspect
    unnamed_suspect_share: float = 0.0
    # extra recording noise on nominal records (pipelines.synthetic.noise.PROFILES)
    noise: str = "default"
    extras: dict = field(default_factory=dict)


# Month-of-year demand factor (summer peak, winter trough); mean 1.
SEASON = (0.93, 0.90, 0.99, 1.00, 1.04, 1.05, 1.08, 1.06, 1.02, 1.00, 0.98, 0.95)
TREND_PER_YEAR = 0.03
# April 2018 counting-rule change: stalking/harassment recorded in every case (a level shift).
COUNTING_CHANGE = "2018-04-01"
PRE_CHANGE_FACTOR = 0.55
SPO_START = "2020-01-20"  # Stalking Protection Act 2019 in force
PRINCIPAL_RULE_CHANGE = "2023-04-01"  # other offences logged inside the principal crime
INCLUDED_CAPABILITY = "2025-03-27"  # super-complaint Rec 7 deadline for searchable inclusions
