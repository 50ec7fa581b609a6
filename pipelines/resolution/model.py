"""The Splink model: comparisons, blocking rules and unsupervised training.

Fields are compared one by one (forename, surname, date of birth, postcode, sex and, where the
input has one, address) so that the evidence table can show the match weight of each field.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import math
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

log = logging.getLogger(__name__)

# Regexes on the normalised postcode ("AB12 3CD"), applied once per record when the nodes
# are built (columns postcode_sector, postcode_district; null when the part is absent, so
# non-UK postcodes (FEBRL) only get the exact level).
SECTOR_REGEX = r"'^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]'"
DISTRICT_REGEX = r"'^[A-Z]{1,2}[0-9][A-Z0-9]?'"


def _part_match(column: str, label: str) -> cll.CustomLevel:
    # the part is extracted once per record (nodes table), not once per pair: a regex per
    # pair dominated scoring at tens of millions of pairs
    return cll.CustomLevel(f'"{column}_l" = "{column}_r"', label_for_charts=label)


def _names_swapped() -> cll.CustomLevel:
    # forename and surname entered the wrong way round (exact: a similarity here cost seconds
    # of training on the million pairs of u estimation)
    return cll.CustomLevel(
        '"forename_std_l" = "surname_std_r" and "surname_std_l" = "forename_std_r"',
        label_for_charts="Forename and surname swapped",
    )


def _one_edit(column: str, label: str) -> cll.CustomLevel:
    # Splink's DamerauLevenshteinLevel(column, 1) behind a cheap necessary condition (one edit
    # changes the length by at most one): the same pairs at the level, while DuckDB's
    # damerau_levenshtein, the costliest part of scoring, runs only on the pairs that pass
    return cll.CustomLevel(
        f'abs(length("{column}_l") - length("{column}_r")) <= 1 '
        f'and damerau_levenshtein("{column}_l", "{column}_r") <= 1',
        label_for_charts=label,
    )


def _one_slip_same_length(column: str, label: str) -> cll.CustomLevel:
    # as _one_edit for strings of one fixed length (dates as YYYY-MM-DD): one edit between
    # them is a substituted character or two adjacent characters swapped, at most two
    # positions differing (hamming), which is far cheaper to test first
    return cll.CustomLevel(
        f'case when length("{column}_l") = length("{column}_r") '
        f'then hamming("{column}_l", "{column}_r") <= 2 else true end '
        f'and damerau_levenshtein("{column}_l", "{column}_r") <= 1',
        label_for_charts=label,
    )


def forename_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="forename",
        comparison_description="Forename: exact, nickname or same formal name, spelling",
        comparison_levels=[
            cll.NullLevel("forename_std"),
            cll.ExactMatchLevel("forename_std", term_frequency_adjustments=True),
            _names_swapped(),
            # forename_groups holds the name and every formal name it is a nickname of, so
            # Bob ~ Robert and Bobby ~ Bob (both Robert) meet here.
            cll.CustomLevel(
                'list_has_any("forename_groups_l", "forename_groups_r")',
                label_for_charts="Nickname or same formal name",
            ),
            cll.JaroWinklerLevel("forename_std", 0.92).configure(
                tf_adjustment_column="forename_std", tf_adjustment_weight=1.0
            ),
            cll.JaroWinklerLevel("forename_std", 0.8),
            cll.ElseLevel(),
        ],
    )


def surname_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="surname",
        comparison_description="Surname with term-frequency adjustment on the exact level",
        comparison_levels=[
            cll.NullLevel("surname_std"),
            # A shared common surname (Smith) is weaker evidence than a rare one.
            cll.ExactMatchLevel("surname_std", term_frequency_adjustments=True),
            # the same swap as the forename comparison's level: one event, so it is weighed
            # there alone (Bayes factor 1 here); trained in both, it counted twice once its
            # u was measured rather than a stand-in
            _names_swapped().configure(
                m_probability=1.0,
                u_probability=1.0,
                fix_m_probability=True,
                fix_u_probability=True,
            ),
            _one_edit("surname_std", "Damerau-Levenshtein distance of surname_std <= 1").configure(
                tf_adjustment_column="surname_std", tf_adjustment_weight=1.0
            ),
            cll.JaroWinklerLevel("surname_std", 0.88),
            cll.ElseLevel(),
        ],
    )


DOB_WITHIN_1_YEAR = "Within 1 year"
DOB_WITHIN_10_YEARS = "Within 10 years"
DOB_YEAR_TYPO = "Year mistyped, day and month within a month"
# A mistyped year (1985 keyed as 1975 or 1958) beside a near day and month: the days of the
# year (wrapping round the new year) at most this many days apart.
DOB_YEAR_TYPO_DAYS = 31


def dob_year_typo_sql(left: str, right: str, days: int = DOB_YEAR_TYPO_DAYS) -> str:
    """SQL (DuckDB) true where two dates' years are one character apart (a substituted digit
    or two adjacent digits swapped) and their days of the year at most `days` apart: a decade
    keyed wrongly moves a date of birth ten years, which no date-difference level can tell
    from two different people; the day and month still agree."""
    gap = f"abs(dayofyear({left}) - dayofyear({right}))"
    # the cheap day-of-year test first: the edit distance runs only on the pairs it passes
    return (
        f"least({gap}, 365 - {gap}) <= {days} "
        f"and damerau_levenshtein(strftime({left}, '%Y'), strftime({right}, '%Y')) = 1"
    )


def dob_year_typo(a: dt.date, b: dt.date, days: int = DOB_YEAR_TYPO_DAYS) -> bool:
    """`dob_year_typo_sql` for two Python dates (the constraint checks of clustering)."""
    gap = abs(a.timetuple().tm_yday - b.timetuple().tm_yday)
    years = f"{a.year:04d}", f"{b.year:04d}"
    return years[0] != years[1] and one_slip(*years) and min(gap, 365 - gap) <= days


def one_slip(sa: str, sb: str) -> bool:
    """Same-length strings one substituted character or one adjacent transposition apart
    (1914 for 1941)."""
    diff = [i for i, (x, y) in enumerate(zip(sa, sb, strict=True)) if x != y]
    if len(diff) <= 1:
        return True
    i, j = diff[0], diff[-1]
    return len(diff) == 2 and j == i + 1 and sa[i] == sb[j] and sa[j] == sb[i]


def dob_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Date of birth: exact, day/month swap, typo, near, far apart",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(
                'year("dob_l") = year("dob_r") and month("dob_l") = day("dob_r") '
                'and day("dob_l") = month("dob_r")',
                label_for_charts="Day and month swapped",
            ),
            _one_slip_same_length("dob_str", "One character typo"),
            cll.AbsoluteDateDifferenceLevel(
                "dob", input_is_string=False, threshold=1, metric="year"
            ).configure(label_for_charts=DOB_WITHIN_1_YEAR),
            cll.CustomLevel(
                dob_year_typo_sql('"dob_l"', '"dob_r"'), label_for_charts=DOB_YEAR_TYPO
            ),
            cll.AbsoluteDateDifferenceLevel(
                "dob", input_is_string=False, threshold=10, metric="year"
            ).configure(label_for_charts=DOB_WITHIN_10_YEARS),
            # Everything else: dates of birth more than ten years apart, strong evidence against.
            cll.ElseLevel(),
        ],
    )


def postcode_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="postcode",
        comparison_description="Home postcode: full, sector, district",
        comparison_levels=[
            cll.NullLevel("postcode_std"),
            cll.ExactMatchLevel("postcode_std", term_frequency_adjustments=True),
            _part_match("postcode_sector", "Same postcode sector"),
            _part_match("postcode_district", "Same postcode district"),
            cll.ElseLevel(),
        ],
    )


def sex_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[
            cll.NullLevel("sex_std"),
            cll.ExactMatchLevel("sex_std"),
            cll.ElseLevel(),
        ],
    )


def email_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email_std"),
            cll.ExactMatchLevel("email_std"),
            cll.JaroWinklerLevel("email_std", 0.88),
            cll.ElseLevel(),
        ],
    )


def address_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address_std"),
            cll.ExactMatchLevel("address_std", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("address_std", 0.9),
            cll.ElseLevel(),
        ],
    )


# Blocking keys: columns of the Splink input table, each computed once per record
# (`BLOCKING_KEY_COLUMNS`) rather than an expression in the rules: Splink repeats every
# earlier rule's condition for each candidate pair of a later rule ("not already blocked"),
# so an expression in a key ran once per pair and rule.
_F1 = "forename_initial"
_S1 = "surname_initial"
_AREA = "postcode_area"
# '' when the record has no (UK) postcode: such records block with each other
_DISTRICT_OR_NONE = "postcode_district_or_none"
_AREA_OR_NONE = "postcode_area_or_none"
_POSTCODE_OR_NONE = "postcode_or_none"
_EMAIL_LOCAL = "email_local"
# Forename and surname as an unordered pair: catches names entered the wrong way round.
_NAME_SET = "name_set"
# The SQL of each key column over the standardised record (`postcode_district` is the
# record's own column, computed before these)
BLOCKING_KEY_COLUMNS: dict[str, str] = {
    _F1: "substr(forename_std, 1, 1)",
    _S1: "substr(surname_std, 1, 1)",
    _AREA: "substr(postcode_std, 1, 2)",
    _DISTRICT_OR_NONE: "coalesce(postcode_district, '')",
    _AREA_OR_NONE: "coalesce(substr(postcode_std, 1, 2), '')",
    _POSTCODE_OR_NONE: "coalesce(postcode_std, '')",
    _EMAIL_LOCAL: "split_part(email_std, '@', 1)",
    _NAME_SET: "least(forename_std, surname_std) || '|' || greatest(forename_std, surname_std)",
}

# Columns of the Splink input that only blocking reads (the keys above and the two node
# columns used as keys): the scoring linker's input leaves them out (resolve._scoring_linker).
BLOCKING_ONLY_COLUMNS: tuple[str, ...] = (*BLOCKING_KEY_COLUMNS, "forename_canon", "dob_year")

BlockingKeys = tuple[str, ...]


def blocking_candidates(
    with_address: bool = False, with_email: bool = False
) -> list[tuple[BlockingKeys, ...]]:
    """Candidate blocking rules, each an equi-join on one or more keys, given as a chain of
    alternatives from loose to tight: `select_blocking_rules` keeps the first alternative
    whose comparison count fits the budget (a tighter one adds a geographic key, so a name
    block that grows with the population is split by area). Together the rules survive any
    one corrupted field; the loose ones recover pairs with two corrupted fields."""
    candidates: list[tuple[BlockingKeys, ...]] = [
        (("person_id",),),
        # At national scale a date of birth or a name is shared by many more records: each
        # rule then falls back to the same keys within a postcode area (records without a
        # postcode block with each other), then a district, so no rule is lost.
        # (the dob rules tighten by name, not geography: intelligence and order subjects
        # have no postcode, and these rules are how they meet their crime records)
        (("dob", _S1), ("dob", _S1, _F1)),
        # surname changes and nicknames with a shared date of birth
        (("dob", _F1), ("dob", _F1, _AREA_OR_NONE)),
        (("dob", "forename_canon"), ("dob", "forename_canon", "sex_std")),
        # date of birth missing, swapped or mistyped
        (
            ("surname_std", "forename_canon"),
            ("surname_std", "forename_canon", _AREA),
            ("surname_std", "forename_canon", _DISTRICT_OR_NONE),
        ),
        (
            ("surname_std", _F1, "dob_year"),
            ("surname_std", _F1, "dob_year", _AREA),
            ("surname_std", _F1, "dob_year", _DISTRICT_OR_NONE),
        ),
        # no usable date of birth (intelligence subjects often have none) and one name
        # mistyped
        # (within a postcode area: records without a postcode, as intelligence subjects
        # mostly are, block with each other; without an area key the forename-mistyped rule
        # made 158,000 pairs on the force preset, as many as all the others together, and
        # its few more true joins came with as many wrong ones: held-in F1 unchanged)
        (
            ("surname_std", _F1, _AREA_OR_NONE),
            ("surname_std", _F1, _DISTRICT_OR_NONE),
        ),
        # the surname mistyped: first without geography, so that an intelligence subject
        # (no postcode) meets its own crime records (a postcode) where only the surname is
        # mistyped (force preset: 112,000 pairs, held-in recall 0.9841 -> 0.9848, precision
        # unchanged); where those blocks are over budget (national), the area split as before
        (
            ("forename_canon", _S1),
            ("forename_canon", _S1, _AREA_OR_NONE),
            ("forename_canon", _S1, _DISTRICT_OR_NONE),
        ),
        (("postcode_std", _F1),),
        # both names mistyped, or a mistyped first letter
        (("postcode_std", "dob"),),
        (
            ("surname_std", "dob_year", _AREA),
            ("surname_std", "dob_year", _DISTRICT_OR_NONE),
            ("surname_std", "dob_year", "postcode_sector"),
        ),
        (
            ("forename_canon", "dob_year", _S1),
            ("forename_canon", "dob_year", _S1, _AREA_OR_NONE),
            ("forename_canon", "dob_year", _S1, _DISTRICT_OR_NONE),
        ),
        # loose rules: one name missing or mistyped *and* the date of birth mistyped. Within
        # a postcode district where the record has a UK postcode (records without one block
        # with each other), so they add little where the data is clean and geography keeps
        # the blocks from growing with the population.
        (("dob", _DISTRICT_OR_NONE), ("dob", _POSTCODE_OR_NONE)),
        (
            ("surname_std", "dob_year", _DISTRICT_OR_NONE),
            ("surname_std", "dob_year", _POSTCODE_OR_NONE),
        ),
        (
            ("forename_canon", "dob_year", _DISTRICT_OR_NONE),
            ("forename_canon", "dob_year", _POSTCODE_OR_NONE),
        ),
        # names entered the wrong way round, with the date of birth or in the same district
        ((_NAME_SET, "dob"),),
        ((_NAME_SET, _DISTRICT_OR_NONE), (_NAME_SET, _POSTCODE_OR_NONE)),
        (
            ("dob_year", _F1, _S1, _DISTRICT_OR_NONE),
            ("dob_year", _F1, _S1, _POSTCODE_OR_NONE),
        ),
    ]
    # Last resort for every chain that blocks records without a postcode together (key ''):
    # at national scale that '' block is millions of records, so the strictest form leaves
    # them out of the rule (they are still blocked by date of birth and names elsewhere).
    strict = {
        _AREA_OR_NONE: _AREA,
        _DISTRICT_OR_NONE: "postcode_district",
        _POSTCODE_OR_NONE: "postcode_std",
    }
    candidates = [
        chain + (tuple(strict.get(k, k) for k in chain[-1]),)
        if any(k in strict for k in chain[-1])
        else chain
        for chain in candidates
    ]
    if with_address:
        candidates.append((("address_std",),))
    if with_email:
        candidates += [(("email_std",),), ((_EMAIL_LOCAL,),)]
    return candidates


def count_block_pairs(
    con: Any, table: str, keys: BlockingKeys, arrays_to_explode: tuple[str, ...] = ()
) -> int:
    """Pairs an equi-join on `keys` would create (before de-duplication across rules): the
    sum of n(n-1)/2 over the blocks, counted with one group-by. A key named in
    `arrays_to_explode` is a list column whose every element is a block key."""
    select = ", ".join(
        f"{f'unnest({key})' if key in arrays_to_explode else key} as k{i}"
        for i, key in enumerate(keys)
    )
    not_null = " and ".join(f"k{i} is not null" for i in range(len(keys)))
    group = ", ".join(f"k{i}" for i in range(len(keys)))
    sql = (
        f"select coalesce(sum(n * (n - 1) / 2), 0) from (select count(*) as n from "
        f"(select {select} from {table}) where {not_null} group by {group})"
    )
    return int(con.execute(sql).fetchall()[0][0])


def select_blocking_rules(
    con: Any,
    table: str,
    candidates: list[tuple[BlockingKeys, ...]],
    budget: int,
    total_budget: int | None = None,
) -> tuple[list[BlockingKeys], list[dict[str, Any]]]:
    """For each candidate, the first alternative whose pair count is within `budget` (none if
    even the tightest exceeds it). The budget is proportional to the number of records, so
    the comparisons stay linear in the input. With `total_budget`, while the rules together
    create more pairs than that, the rule with the most pairs that has a tighter alternative
    moves to it. Returns the rules and the counts (for stats)."""
    # per kept rule: [candidate index, next alternative to try, keys, pairs]
    picked: list[list[Any]] = []
    counts: list[dict[str, Any]] = []
    for c, alternatives in enumerate(candidates):
        for a, keys in enumerate(alternatives):
            n = count_block_pairs(con, table, keys)
            if n <= budget:
                picked.append([c, a + 1, keys, n])
                break
        else:
            counts.append({"rule": ", ".join(alternatives[-1]), "pairs": n, "skipped": True})
    while total_budget is not None and sum(p[3] for p in picked) > total_budget:
        tightenable = [p for p in picked if p[1] < len(candidates[p[0]])]
        if not tightenable:
            break
        rule = max(tightenable, key=lambda p: p[3])
        c, a, _, n = rule
        # the next alternative with fewer pairs (one that only splits the blocks differently
        # may not have); when none is left the rule keeps its form
        rule[1] = len(candidates[c])
        for b in range(a, len(candidates[c])):
            m = count_block_pairs(con, table, candidates[c][b])
            if m < n:
                rule[1:] = [b + 1, candidates[c][b], m]
                break
    chosen = [p[2] for p in picked]
    counts = [{"rule": ", ".join(p[2]), "pairs": p[3]} for p in picked] + counts
    return chosen, counts


# Sharing a counterpart nominal id (a victim or suspect on the other side of both records'
# incidents), loose to tight. The loose form asks for no name in common: an intelligence
# subject about a known victim is often recorded with a mistyped or missing name and no date
# of birth, so with a name key most such pairs were never scored; the model weighs the shared
# counterpart against the names. A block holds the records around one nominal id, which is
# small unless one id stands for many people (a placeholder victim such as "the public"):
# then the name-keyed forms are used.
COUNTERPART_RULES: tuple[tuple[BlockingKeys, ...], ...] = (
    (("counterparts",),),
    (("counterparts", "forename_canon"), ("counterparts", "surname_std")),
)


def select_counterpart_rules(
    con: Any, table: str, budget: int
) -> tuple[tuple[BlockingKeys, ...], list[dict[str, Any]]]:
    """The loosest form of the counterpart rules whose pairs fit `budget` (the tightest
    otherwise), with the counts (for stats)."""
    counts: list[dict[str, Any]] = []
    for rules in COUNTERPART_RULES:
        pairs = sum(
            count_block_pairs(con, table, keys, arrays_to_explode=("counterparts",))
            for keys in rules
        )
        counts.append({"rule": " | ".join(", ".join(k) for k in rules), "pairs": pairs})
        if pairs <= budget:
            break
    return rules, counts


# A rule that pairs records: the keys of an equi-join and, for a context rule, the list column
# one of those keys is (every element a key of its own), else None.
PredictionRule = tuple[BlockingKeys, str | None]


def prediction_rules(
    rules: list[BlockingKeys],
    with_context: bool = False,
    counterpart_rules: tuple[BlockingKeys, ...] = COUNTERPART_RULES[-1],
) -> list[PredictionRule]:
    """Candidate pairs: the selected equi-join rules plus, for police data, the context rules
    (linked to the same crime on the same side; sharing a counterpart nominal id)."""
    chosen: list[PredictionRule] = [(keys, None) for keys in rules]
    if with_context:
        chosen.append((("crime_roles",), "crime_roles"))
        chosen += [(keys, "counterparts") for keys in counterpart_rules]
    return chosen


def prediction_blocking_rules(
    rules: list[BlockingKeys],
    with_context: bool = False,
    counterpart_rules: tuple[BlockingKeys, ...] = COUNTERPART_RULES[-1],
) -> list[BlockingRuleCreator]:
    """The `prediction_rules` as Splink's blocking rules (the model's settings)."""
    return [
        block_on(*keys, arrays_to_explode=[explode]) if explode else block_on(*keys)
        for keys, explode in prediction_rules(rules, with_context, counterpart_rules)
    ]


def blocked_pairs_sql(table: str, rules: list[PredictionRule], chunk: tuple[int, int]) -> str:
    """SQL: the blocked pairs of chunk `chunk` = (i, n) of the left-hand records, exactly the
    table Splink's `compute_blocked_pairs_for_predict_chunk` writes for `rules` (match_key,
    join_key_l, join_key_r; the same chunk of each record, the same match key: the first rule
    that pairs the two records).

    Splink writes each rule's join with `NOT (every earlier rule's condition)` so that a pair
    comes from one rule only, then still removes duplicate pairs with a group-by (a context
    rule pairs records on any shared element). That filter reads every earlier rule's keys of
    both records for each candidate pair; without it (and without Splink's materialised copy
    of the input) blocking took 44 % less CPU at national scale. The group-by alone gives
    the same pairs, and `min` of the rule's position the same match key."""
    i, n = chunk
    where = f"l.unique_id < r.unique_id and (abs(hash(l.unique_id)) % {n}) + 1 = {i}"
    joins = []
    for position, (keys, explode) in enumerate(rules):
        source = table
        if explode is not None:
            # one row per element, as Splink explodes the list (no row for a null or empty list)
            others = "".join(f", {key}" for key in keys if key != explode)
            source = f"(select unique_id{others}, unnest({explode}) as {explode} from {table})"
        on = " and ".join(f"l.{key} = r.{key}" for key in keys)
        joins.append(
            f"select {position} as rule, l.unique_id as join_key_l, r.unique_id as join_key_r "
            f"from {source} as l join {source} as r on {on} where {where}"
        )
    union = "\n    union all\n    ".join(joins)
    return f"""select min(rule)::varchar as match_key, join_key_l, join_key_r
    from (
    {union}
    )
    group by join_key_l, join_key_r"""


def without_implied_rules(rules: list[BlockingKeys]) -> list[BlockingKeys]:
    """`rules` in order, less each rule that joins on every key of an earlier rule (the same
    keys in another order, or those keys and more): each pair it would block, the earlier
    rule has blocked already (equal non-null keys), so it adds no pair. Blocking still pays
    for it, one join of the records against the whole input per chunk: at national scale
    `postcode_std, dob` and the loose date-of-birth chain's strict form `dob, postcode_std`
    are both chosen."""
    kept: list[BlockingKeys] = []
    for keys in rules:
        if not any(set(earlier) <= set(keys) for earlier in kept):
            kept.append(keys)
    return kept


def _shares(column: str) -> str:
    return f'list_has_any("{column}_l", "{column}_r")'


def _shares_element(column: str, label: str) -> cll.CustomLevel:
    # Splink's ArrayIntersectLevel(column, min_intersection=1) builds the intersection and
    # counts it; list_has_any answers the same question without building a list per pair
    return cll.CustomLevel(_shares(column), label_for_charts=label)


CO_PARTIES = "Two parties of one crime, same side"
# Both records are recorded on one crime, on the same side, as parties of it (crime_persons
# rows, not a report or order linked to it), under two nominal ids (or without one): the crime
# records two people there. A repeated row of one nominal is one node, or joins by its id, and
# is not at this level.
_CO_PARTIES_SQL = f'{_shares("crime_parties")} and coalesce("person_id_l" <> "person_id_r", true)'


def _co_parties(implied_by: str) -> cll.CustomLevel:
    # `implied_by`: the comparison's own condition that every co-party pair meets, tested
    # first so that the lists are compared only on the few pairs that pass it (the level is
    # in three comparisons of every scored pair)
    return cll.CustomLevel(f"{implied_by} and {_CO_PARTIES_SQL}", label_for_charts=CO_PARTIES)


def _weighed_in_crime_role(implied_by: str) -> cll.CustomLevel:
    # Co-parties of one crime share its other side (a counterpart) and its date (active)
    # because they are on it together: one event, weighed in the crime_role comparison alone
    # (Bayes factor 1 here), as the swapped names are weighed in the forename comparison
    return _co_parties(implied_by).configure(
        m_probability=1.0, u_probability=1.0, fix_m_probability=True, fix_u_probability=True
    )


def nominal_id_comparison() -> ComparisonCreator:
    """The force's own person index as evidence, weighed by this run's data like any field.

    Two records under two nominal ids are two people in the force's judgment (made with
    details the delivery may not carry), so a pair of them needs more evidence than a pair
    in which a record has no id (an intelligence subject, an order subject) and so no such
    judgment; records without an id are mostly about people the force already knows. The
    clustering joins records sharing an id whatever their score; as a level, sharing one is
    the run's measure of how often one id's records differ in their details. Every EM
    session estimates it (none blocks on it)."""
    return cl.CustomComparison(
        output_column_name="nominal_id",
        comparison_description="The force's nominal ids: same, one or both records without, two",
        comparison_levels=[
            cll.ExactMatchLevel("person_id"),
            cll.CustomLevel(
                '"person_id_l" is null and "person_id_r" is null',
                label_for_charts="Neither record has a nominal id",
            ),
            cll.CustomLevel(
                '"person_id_l" is null or "person_id_r" is null',
                label_for_charts="One record has no nominal id",
            ),
            cll.ElseLevel(),
        ],
    )


def counterpart_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="counterpart",
        comparison_description="Shares a victim (or suspect) nominal id across incidents",
        comparison_levels=[
            cll.NullLevel("counterparts"),
            _weighed_in_crime_role(_shares("counterparts")),
            _shares_element("counterparts", "Same victim / suspect in another record"),
            cll.ElseLevel(),
        ],
    )


def crime_role_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="crime_role",
        comparison_description="Linked to the same crime on the same side",
        comparison_levels=[
            cll.NullLevel("crime_roles"),
            # before "same crime": two records the crime holds as two of its parties are not
            # a record meeting the crime it is linked to. Its u is measured on random pairs;
            # its m is set from u by `bound_co_parties`, not by EM (see there)
            _co_parties(_shares("crime_roles")).configure(fix_m_probability=True),
            _shares_element("crime_roles", "Same crime, same side"),
            cll.ElseLevel(),
        ],
    )


def active_comparison() -> ComparisonCreator:
    # gap between the periods in which the two records were mentioned (0 if they overlap)
    gap = (
        'greatest(date_diff(\'day\', "event_last_l", "event_first_r"), '
        'date_diff(\'day\', "event_last_r", "event_first_l"), 0)'
    )
    return cl.CustomComparison(
        output_column_name="active",
        comparison_description="Time between the periods the two records were mentioned",
        comparison_levels=[
            cll.CustomLevel('"event_first_l" is null or "event_first_r" is null').configure(
                is_null_level=True
            ),
            _weighed_in_crime_role(f"{gap} <= 90"),
            cll.CustomLevel(f"{gap} <= 90", label_for_charts="Active within 90 days"),
            cll.CustomLevel(f"{gap} <= 365", label_for_charts="Active within a year"),
            cll.CustomLevel(f"{gap} <= 1095", label_for_charts="Active within 3 years"),
            cll.ElseLevel(),
        ],
    )


def build_settings(
    rules: list[BlockingKeys],
    with_address: bool,
    with_postcode: bool,
    with_sex: bool,
    with_context: bool,
    with_time: bool = False,
    with_email: bool = False,
    counterpart_rules: tuple[BlockingKeys, ...] = COUNTERPART_RULES[-1],
    with_nominal_id: bool = False,
) -> SettingsCreator:
    comparisons: list[ComparisonCreator] = [
        forename_comparison(),
        surname_comparison(),
        dob_comparison(),
    ]
    if with_postcode:
        comparisons.append(postcode_comparison())
    if with_sex:
        comparisons.append(sex_comparison())
    if with_address:
        comparisons.append(address_comparison())
    if with_context:
        comparisons += [counterpart_comparison(), crime_role_comparison()]
    if with_time:
        comparisons.append(active_comparison())
    if with_email:
        comparisons.append(email_comparison())
    if with_nominal_id:
        comparisons.append(nominal_id_comparison())
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=prediction_blocking_rules(
            rules, with_context, counterpart_rules
        ),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["person_id"],
        probability_two_random_records_match=1e-4,
    )


@dataclass(frozen=True)
class TrainingReport:
    em_sessions: int
    em_failures: Sequence[str]
    lambda_recall: float | None = None


# lambda (the share of random pairs that match) from deterministic rules and their recall
LAMBDA_RULES = [block_on("forename_std", "surname_std", "dob"), block_on("person_id")]
DEFAULT_LAMBDA_RECALL = 0.7
# EM sessions, by blocking keys: the date of birth (estimates the name fields), then exact
# names (enough true matches in the block for EM to find the dob levels).
EM_SESSIONS: tuple[tuple[str, ...], ...] = (("dob",), ("forename_canon", "surname_std"))


def _with_lambda_floor(
    make_linker: Callable[..., Linker], linker: Linker, n_records: int, recall: float
) -> Linker:
    """The linker, its lambda raised to what one deterministic match would give where the
    rules found none (an input without a single exact duplicate, e.g. a small delivery):
    lambda 0 makes every match weight minus infinity and Splink fails on it."""
    model = copy.deepcopy(linker.misc.save_model_to_json())
    prior = model.get("probability_two_random_records_match")
    if isinstance(prior, float) and prior > 0 and not math.isnan(prior):
        return linker
    pairs = max(1.0, n_records * (n_records - 1) / 2)
    model["probability_two_random_records_match"] = min(1.0 / (recall * pairs), 0.5)
    return make_linker(model)


def train(
    make_linker: Callable[..., Linker],
    settings: SettingsCreator,
    max_u_pairs: float,
    seed: int,
    non_null_both: dict[str, float] | None = None,
    n_records: int = 0,
    u_lanes: int = 1,
) -> tuple[dict[str, Any], TrainingReport]:
    """Unsupervised estimation on this run's data: lambda from deterministic rules, u from
    random pairs (`u_lanes` linkers at once, see estimate_u), m by expectation maximisation
    in two sessions that block on different fields (each session estimates the fields it
    does not block on). Returns the model."""
    linker = make_linker(settings)
    linker.training.estimate_probability_two_random_records_match(
        LAMBDA_RULES, recall=DEFAULT_LAMBDA_RECALL
    )
    linker = _with_lambda_floor(make_linker, linker, n_records, DEFAULT_LAMBDA_RECALL)
    with_u = estimate_u(make_linker, linker, max_u_pairs, seed, u_lanes)
    # the random pairs u was measured on: all pairs where there are fewer than max_u_pairs
    sampled = min(max_u_pairs, n_records * (n_records - 1) / 2) if n_records > 1 else max_u_pairs
    linker = make_linker(bound_co_parties(fill_unobserved_u(with_u, sampled)))
    failures: list[str] = []
    sessions = 0
    estimates: list[dict[str, Any]] = []
    for keys in EM_SESSIONS:
        snapshot = copy.deepcopy(linker.misc.save_model_to_json())
        # On a large input EM runs on whole blocks drawn at random (make_linker samples by a
        # hash of the blocking keys): every pair of a kept block stays, so the share of true
        # matches in the blocks, and thus the estimates, are those of the full data, while
        # the cost is bounded.
        em_linker = make_linker(snapshot, keys)
        try:
            em_linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*keys), fix_probability_two_random_records_match=True
            )
            sessions += 1
            estimates.append(copy.deepcopy(em_linker.misc.save_model_to_json()))
            linker = make_linker(copy.deepcopy(estimates[-1]))
        except Exception as error:  # e.g. too little data: keep the estimates so far
            failures.append(type(error).__name__)
            log.warning("EM session skipped: %s", type(error).__name__)
            # a failed session can leave the linker's settings half-edited: start again
            # from the parameters as they were before it
            linker = make_linker(snapshot)
    model = median_context_m(copy.deepcopy(linker.misc.save_model_to_json()), estimates)
    recall = deterministic_recall(model, non_null_both or {})
    if recall is not None:
        # The recall of "same names and date of birth" follows from the trained m (agreement
        # on all three among true pairs): heavily mistyped data has far fewer exact
        # duplicates than clean police records, and assuming a fixed recall would
        # underestimate how many pairs match.
        linker = make_linker(model)
        linker.training.estimate_probability_two_random_records_match(LAMBDA_RULES, recall=recall)
        linker = _with_lambda_floor(make_linker, linker, n_records, recall)
        model = copy.deepcopy(linker.misc.save_model_to_json())
    return model, TrainingReport(sessions, failures, recall)


def estimate_u(
    make_linker: Callable[..., Linker],
    linker: Linker,
    max_pairs: float,
    seed: int,
    lanes: int = 1,
) -> dict[str, Any]:
    """The model of `linker` with every comparison's u estimated by Splink's random sampling
    (`estimate_u_using_random_sampling`), its comparisons dealt in turn to `lanes` linkers
    that estimate at once, each in a thread of its own (`make_linker(model, lane=i)` gives
    lane i > 0 a linker on a DuckDB connection of its own: one connection runs one
    statement at a time, and the counting runs single-threaded inside DuckDB on a sample
    this small).

    The model is the one a single linker gives, to the last bit: Splink estimates each
    comparison on its own (the same records sampled, by a hash of their ids and the seed;
    the same chunks of pairs, by a hash of the right record's id; its own counts, early
    stop and proportions), so which comparisons share a linker changes nothing; the counts
    are whole numbers, summed exactly in any order."""
    if lanes <= 1:
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        return copy.deepcopy(linker.misc.save_model_to_json())
    model = copy.deepcopy(linker.misc.save_model_to_json())
    comparisons = model["comparisons"]
    lanes = min(lanes, len(comparisons))

    def estimate_lane(lane: int) -> list[dict[str, Any]]:
        # lane i takes comparisons i, i + lanes, ...: the costly name comparisons come
        # first and go to different lanes
        part = {**copy.deepcopy(model), "comparisons": comparisons[lane::lanes]}
        part_linker = make_linker(part, lane=lane)
        part_linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        return copy.deepcopy(part_linker.misc.save_model_to_json()["comparisons"])

    with ThreadPoolExecutor(max_workers=lanes) as pool:
        estimated = list(pool.map(estimate_lane, range(lanes)))
    for lane, part in enumerate(estimated):
        model["comparisons"][lane::lanes] = part
    return model


def fill_unobserved_u(model: dict[str, Any], pairs_sampled: float) -> dict[str, Any]:
    """`model` with the u of each non-else level that none of the `pairs_sampled` random
    pairs reached set to 0.5 / pairs_sampled (the Jeffreys estimate of a rate never seen).

    Splink leaves such a level without a u. A level about the same crime (or a swapped
    name) is so rare among random pairs that a million of them miss it on a force of
    hundreds of thousands of records, and a fixed stand-in then decides its weight: 1e-3
    made "same crime, same side" 8.6 bits where ten million pairs measure 18.9, so the
    records joined by it fell below the threshold, and more so the bigger the force."""
    u_missing = 0.5 / max(pairs_sampled, 1.0)
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            u = level.get("u_probability")
            condition = str(level.get("sql_condition", "")).strip().upper()
            if condition != "ELSE" and (u is None or (isinstance(u, float) and math.isnan(u))):
                level["u_probability"] = u_missing
    return model


def bound_co_parties(model: dict[str, Any]) -> dict[str, Any]:
    """`model` with the m of the crime_role level "two parties of one crime, same side" set to
    M_FLOOR x its u: a Bayes factor of M_FLOOR, -13.3 bits, as far against a match as any
    field's disagreement may go (not a veto: two such records agreeing on names, date of
    birth and postcode still join, as a person entered twice on one crime would).

    EM cannot estimate this m. The only pairs of the level in its blocks are co-parties whose
    names agree (a family, a workplace: one surname, a shared nickname), which it counts as
    one person because the level is not independent of the names; on a crime with 60 named
    victims it put 1.1 % of true pairs at the level (u 0.0028, +2 bits), and with M_FLOOR on
    m where no pair reached the level (the force preset: u 5e-7) it weighed +7.6 bits."""
    for comparison in model.get("comparisons", []):
        if comparison.get("output_column_name") != "crime_role":
            continue
        for level in comparison.get("comparison_levels", []):
            u = level.get("u_probability")
            if level.get("label_for_charts") == CO_PARTIES and _known(u):
                level["m_probability"] = M_FLOOR * u
    return model


# Comparisons about the incidents around a record rather than its identity: every EM session
# estimates them (none blocks on them), and each session's block holds its own mix of them
CONTEXT_COMPARISONS = ("counterpart", "crime_role", "active", "nominal_id")


def median_context_m(model: dict[str, Any], sessions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`model` with the m of each context comparison level set to the median of the EM
    sessions' estimates (Splink's rule for a parameter several sessions estimate), not the
    last session's alone. The exact-names block holds a different mix of true pairs than
    the date-of-birth block (no mistyped names; reports naming a crime's suspect as the
    crime does), and alone it made a true pair sharing no counterpart look near-impossible
    (m 0.04 on the force preset, against 0.15 in the truth; the median 0.07): a person's
    typo'd duplicate on a crime with another suspect or victim (a serial suspect's second
    victim, a repeat victim's second suspect) was split. Identity
    fields keep the last session's estimate: their median lowered held-in F1 (force preset
    0.9910 -> 0.9906, fake_20000 0.8866 -> 0.8859, FEBRL dataset4 0.9877 -> 0.9871)."""
    if len(sessions) < 2:
        return model
    by_session = [
        {
            (c.get("output_column_name"), i): level.get("m_probability")
            for c in session.get("comparisons", [])
            for i, level in enumerate(c.get("comparison_levels", []))
        }
        for session in sessions
    ]
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name")
        if name not in CONTEXT_COMPARISONS:
            continue
        for i, level in enumerate(comparison.get("comparison_levels", [])):
            if level.get("is_null_level"):
                continue
            values = [
                m
                for estimate in by_session
                if isinstance(m := estimate.get((name, i)), float) and not math.isnan(m)
            ]
            if values:
                level["m_probability"] = statistics.median(values)
    return model


def deterministic_recall(model: dict[str, Any], non_null_both: dict[str, float]) -> float | None:
    """Estimated share of true pairs caught by the exact names + date of birth rule: the
    product of the exact-level m of the three fields and the chance that both records hold
    each field. None when the data has nominal ids (the id rule's recall is unknown: keep
    the default) or a field is untrained."""
    if non_null_both.get("person_id", 0) > 0:
        return None
    recall = 1.0
    for name in ("forename", "surname", "dob"):
        levels = [
            level
            for comparison in model.get("comparisons", [])
            if comparison.get("output_column_name") == name
            for level in comparison.get("comparison_levels", [])
            if not level.get("is_null_level")
        ]
        m = levels[0].get("m_probability") if levels else None
        if m is None or (isinstance(m, float) and math.isnan(m)):
            return None
        recall *= m * non_null_both.get(name, 1.0)
    return min(max(recall, 0.05), DEFAULT_LAMBDA_RECALL)


# Domain bounds applied to the trained model (the m probability is P(level | same person)).
# EM on a few thousand records can drive a rare level to ~0 (an absolute veto) or leave it
# untrained; these keep every level inside what is plausible for police records.
M_FLOOR = 1e-4  # no single disagreement is an absolute veto (records are mistyped)
# Upper bounds per (field, level). Empty: dates of birth more than ten years apart weigh what
# this run's own data says (EM), floored at M_FLOOR; a fixed cap at the floor made them a
# near-veto that the data (mistyped decades, FEBRL's replaced dates) contradicts.
M_CAP: dict[tuple[str, str], float] = {}
# Sex is mistyped too: a disagreement weighs against a link (about -5), it does not veto one
# (EM on data where sex rarely disagrees drives its m to the floor).
M_MIN = {("sex", "ELSE"): 0.02}
UNTRAINED_M_OVER_U = 8.0  # an unobserved non-else level counts as weak positive evidence


def calibrate(model: dict[str, Any]) -> dict[str, Any]:
    """Bound the trained m probabilities (see M_FLOOR, M_CAP) and fill untrained levels."""
    prior = model.get("probability_two_random_records_match")
    if isinstance(prior, float):
        model["probability_two_random_records_match"] = _stable(prior)
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name")
        first = True
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            condition = str(level.get("sql_condition", "")).strip().upper()
            if not _known(u):
                u = 1e-3 if condition != "ELSE" else 0.9
            if (name, level.get("label_for_charts")) == ("crime_role", CO_PARTIES):
                level["m_probability"] = _stable(M_FLOOR * u)
                level["u_probability"] = _stable(u)
                continue  # not the comparison's agreement level (`first`)
            if m is None or (isinstance(m, float) and math.isnan(m)):
                # the first level after null is agreement: most true pairs agree
                m = 0.8 if first else min(0.1, (u or 1e-3) * UNTRAINED_M_OVER_U)
                m = m if condition != "ELSE" else 0.01
            else:
                # a trained m, not the ratio to u above (which the floor would turn into
                # strong evidence where u is tiny)
                m = max(m, M_FLOOR)
            first = False
            m = max(m, M_MIN.get((name, condition), 0.0))
            cap = M_CAP.get((name, condition))
            if cap is not None:
                m = min(m, cap)
            level["m_probability"] = _stable(m)
            level["u_probability"] = _stable(u)
    return model


def _known(probability: Any) -> bool:
    return isinstance(probability, float) and not math.isnan(probability)


def _stable(probability: float) -> float:
    """The probability to 10 significant digits: EM's sums run over rows in whatever order
    the database holds them, which moves the last digits from run to run; the rounding keeps
    the same input's model (and so its links and weakest-link figures) the same."""
    return float(f"{probability:.10g}")


# Date-of-birth levels, nearest first, that a chain of matches may span, with the distance
# (years) each reaches: past a level whose disagreement this run's model weighs as strong
# evidence against a match, two dates in one person need a direct link.
_DOB_BANDS = ((DOB_WITHIN_1_YEAR, 1.0), (DOB_WITHIN_10_YEARS, 10.0))


def chain_dob_conflict_years(
    model: dict[str, Any], ceiling_years: float, min_weight: float
) -> float:
    """How far apart (years) two dates of birth may be inside one person joined through a
    chain, learnt from this run's trained model: the widest band whose match weight (log2
    m/u) is still above `min_weight`, never beyond `ceiling_years`. Where true matches
    rarely differ by months (clean police records), dates a few years apart join only by a
    direct link; where the data's dates drift (mistyped years), the model weighs that
    disagreement lightly and chains may span it. Typos and day/month swaps never count."""
    levels = {
        level.get("label_for_charts"): level
        for comparison in model.get("comparisons", [])
        if comparison.get("output_column_name") == "dob"
        for level in comparison.get("comparison_levels", [])
    }
    allowed = 0.0
    for label, years in _DOB_BANDS:
        level = levels.get(label)
        if level is None:
            break
        m, u = level.get("m_probability"), level.get("u_probability")
        if not m or not u or math.log2(m / u) < min_weight:
            break
        allowed = years
    return min(allowed, float(ceiling_years))
