"""An independently written synthetic force, for evaluations that hold one source out whole.

The project's own generator (pipelines/synthetic/) was not read when this was written: it is
designed from the extract specification, the domain brief and how a records system (Niche,
Athena, PNC nominals) is typed in, so that its habits are not ones the pipeline was tuned to.
`generate_independent_force(out_dir, seed=, scale=, end_quarter=)` writes the five extracts,
force_area.geojson and truth/ (see generator.write); `python -m
pipelines.evaluation.independent_force --out DIR` does the same from the shell.

Design
- Place: "Kessmoor", an invented inland county (WGS84 polygon around 52.3 N, 2.1 W) with a
  county town and eight market towns/villages; each town is a set of street segments, each
  postcode unit (invented areas KM and WQ) a point on a street; about 8 % of units were recoded
  and their old code still turns up.
- People: names drawn Zipf-like from this package's own lists (British, South Asian, Polish,
  Romanian, Russian, Vietnamese), so common names are shared by different people; women may
  hold a second (maiden/married or double-barrelled) surname; 30 % of people moved in the five
  years; relatives share a surname and an address (a son may carry his father's forename).
- Conduct: courses of conduct perpetrator -> victim, each truly stalking or not. Stalking: ex-
  partners (DA), acquaintances, strangers, family, online stalkers whose suspect is mostly
  unknown; serial stalkers (a stalker starts a new course against another victim, ~13 % of
  stalking courses); a stalker may harass the ex-partner's new partner (mostly not stalking),
  commit unrelated crimes against others, face a counter-allegation, and on about 4 % of
  occasions have a relative or friend recorded as a second suspect (stalking by proxy).
  Not stalking: neighbour harassment, one-off malicious communications, coercive control,
  domestic incidents, intimate-image abuse, one-off stranger crimes. Repeat victims are
  reused across perpetrators.
- Time: courses start from a year before the five-year window to its end, a little more often
  later (recording has grown); occasions before the window are not in the extracts, so its
  first months hold courses already under way.
- Recording: each occasion of a course is one crime. A stalking course has a recognition
  propensity (low/medium/high, rising with each occasion): recognised occasions get a stalking
  principal code (s2A mostly, s4A some) or, behind a more serious principal (assault, threats,
  criminal damage, coercive control), a stalking included code; unrecognised ones are recorded
  as harassment, malicious communications, criminal damage, assault, coercive control... (the
  hidden stalking). Non-stalking conduct is over-recorded as stalking now and then (3 %).
- Orders and breaches: SPO (with interim SPO), RO, NMO, DVPO, IAH applied for after an early
  occasion of some courses, granted/refused/pending/expired; later occasions within a granted
  order are often breaches, recorded as a breach crime (SPO breach = route breach_spo) or not.
- Nominals: every mention links a nominal id. The first nominal of a person is typed carefully
  (half the slip rates); each later mention reuses a nominal or, with the person's own
  duplicate propensity (4 %, 12 % or 30 %), creates a duplicate typed afresh. Slips (noise.py):
  nickname/short form, second surname, transliteration, keyboard typo (neighbouring key,
  transposition, dropped or doubled letter), title or suffix in a name field, forename and
  surname swapped, initial only, capitals/lower case/extra spaces, dob missing, day/month
  swapped, one digit slipped, age-estimated (1 January), old or retired postcode, postcode
  missing or unspaced. About 4 % of new perpetrators have an alias (a false surname, sometimes
  a false forename too) under which half of their later nominals are created. Unknown suspects
  get a fresh nominal with no name (or UNKNOWN) or no row.
- Intelligence: about 0.7 reports per stalking course, 0.08 per other course, plus background
  reports; the subject is resolved to a nominal in a third of them, otherwise typed by the
  officer (more nicknames and initials, often surname only, dob in under half).
- Deliberately bad rows (about 1 in 400 crimes each): an offence end before its start, and a
  date of birth whose century was mistyped into the future; truth marks them quarantined (with
  the crime_persons rows of the quarantined crimes).

Truth (truth/): person_mentions (one row per person reference, the nominal id on the record
and the real person), crimes (course, true stalking, hidden, identified_route, recorded_as:
stalking, harassment, malcomms, criminal_damage, assault, threats, coercive_control,
image_abuse, breach), intelligence (plus `quarantined`), courses (course_type: the keys of
generator.COURSE_TYPES and SPAWNED_TYPES) and persons. An unknown suspect's mention still
names the real perpetrator: no resolution can link it, so leave nameless mentions (empty
names or UNKNOWN, or no nominal id and no name) out of pairwise scores or report them apart.
"""

from pipelines.evaluation.independent_force.generator import generate_independent_force

__all__ = ["generate_independent_force"]
