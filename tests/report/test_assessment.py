"""The assessment rules on the real reporting rows of the session's end-to-end run: noise
makes no judgment, a planted change does, and what is printed follows the rule table. Where a
test plants tests, it writes them to marts.assessment_tests of a copy of the run's warehouse and
rebuilds the rpt_assessment_* models over them, as the run does."""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pytest

from pipelines import assessment
from pipelines.settings import AssessmentSettings, load_settings
from pipelines.warehouse_tables import replace_table
from tests.report.conftest import QUARTER

PREVIOUS, YEAR_AGO = "2025-Q3", "2024-Q4"


@pytest.fixture(scope="module")
def signals(fixture_db) -> list[assessment.Signal]:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        rows = con.execute("select * from reporting.rpt_assessment_signals").df()
    found = assessment.signals_from_rows(rows.to_dict("records"), QUARTER, PREVIOUS, YEAR_AGO)
    assert {"order_breaches", "stalking_crimes", "spo_considered"} <= {s.signal for s in found}
    return found


@pytest.fixture(scope="module")
def rules():
    return load_settings().assessment


def _unchanged(signal: assessment.Signal) -> assessment.Signal:
    return dataclasses.replace(signal, previous=signal.now, year_ago=signal.now)


def _rebuilt(warehouse, tests: list[tuple], rules: AssessmentSettings) -> None:
    """marts.assessment_tests replaced by `tests` and the models over it rebuilt with `rules`."""
    import pandas as pd

    from tests.analytics.force_fixture import run_dbt

    with duckdb.connect(str(warehouse)) as con:
        frame = pd.DataFrame(tests, columns=list(assessment.TESTED_COLUMNS))
        replace_table(con, "marts.assessment_tests", frame)
    select = ["build", "--select", "source:assessment+"]
    result = run_dbt(
        warehouse, QUARTER, select, overrides={"assessment": rules.model_dump(mode="json")}
    )
    assert result.returncode == 0, result.stdout[-2000:]


def test_no_change_makes_no_judgment(signals, rules) -> None:
    # The same figures in every quarter: nothing changed, so nothing may be judged, except a
    # rate held to a standard it misses (that is not a change but a shortfall).
    still = [_unchanged(s) for s in signals if s.signal not in rules.rate_standards]
    assert assessment.judged_tests(still, rules) == []


def test_poisson_noise_rarely_makes_a_judgment(signals, rules) -> None:
    """Counts drawn at the real levels with no change in the rate: the share of comparisons
    judged is at most the significance level (the exact test holds its size)."""
    rng = np.random.default_rng(7)
    counts = [s for s in signals if s.kind == "count" and s.now.numerator > 0]
    judged = tests = 0
    for _ in range(200):
        noisy = [
            dataclasses.replace(
                s,
                now=assessment.Observation(int(rng.poisson(s.now.numerator))),
                previous=assessment.Observation(int(rng.poisson(s.now.numerator))),
                year_ago=assessment.Observation(int(rng.poisson(s.now.numerator))),
            )
            for s in counts
        ]
        tests += sum(len(assessment.signal_tests(s, rules)) for s in noisy)
        judged += len({test.signal for test in assessment.judged_tests(noisy, rules)})
    assert tests > 0
    assert judged / tests <= rules.significance


def test_planted_rise_is_judged_with_its_recommendations(signals, rules, fixture_db_copy) -> None:
    breaches = next(s for s in signals if s.signal == "order_breaches")
    base = max(breaches.now.numerator, 20)
    planted = dataclasses.replace(
        breaches,
        now=assessment.Observation(base * 3),
        previous=assessment.Observation(base),
        year_ago=assessment.Observation(base),
    )
    others = [_unchanged(s) for s in signals if s.signal != "order_breaches"]
    _rebuilt(fixture_db_copy, assessment.quarter_tests(QUARTER, [*others, planted], rules), rules)
    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        top = con.execute(
            "select signal, direction, probability_phrase, judgment_rank, is_shown "
            "from reporting.rpt_assessment_judgments where quarter = ? order by judgment_rank",
            [QUARTER],
        ).fetchall()[0]
        recommended = con.execute(
            "select area, action, signal from reporting.rpt_assessment_recommendations "
            "where quarter = ? order by recommendation_order",
            [QUARTER],
        ).fetchall()
    assert top == ("order_breaches", "up", "almost certain", 1, True)
    expected = {(r.area, r.action) for r in rules.recommendations if r.signal == "order_breaches"}
    assert expected and expected <= {(area, action) for area, action, _ in recommended}
    # in 4P order
    areas = [area for area, _, _ in recommended]
    order = ("Prevent", "Pursue", "Protect", "Prepare")
    assert areas == sorted(areas, key=order.index)


def test_rate_below_standard_is_a_judgment(signals, rules) -> None:
    spo = next(s for s in signals if s.signal == "spo_considered")
    judged = assessment.judged_tests([spo], rules)
    standard = rules.rate_standards["spo_considered"]
    # The tiny run's rate is far below the standard (else this test would judge nothing).
    assert spo.now.rate is not None and standard - spo.now.rate >= rules.min_rate_gap + 0.1, (
        spo.now,
        standard,
    )
    assert judged and judged[0].direction == "below_standard"


PHIA = {0.99: "almost certain", 0.85: "highly likely", 0.6: "likely",
        0.45: "a realistic possibility", 0.3: "unlikely", 0.15: "highly unlikely",
        0.01: "a remote chance"}  # fmt: skip


def test_phia_yardstick_and_harm_ranking(rules, fixture_db_copy) -> None:
    """One judgment per yardstick phrase, each on a signal of its own: the model words each
    probability with its phrase and ranks harm first, then the probability."""
    harm = {f"signal_{i}": 3 if i % 2 else 1 for i in range(len(PHIA))}
    tests = [
        (QUARTER, f"signal_{i}", "previous quarter", "up", 0.5, 0.0001, probability, True)
        for i, probability in enumerate(PHIA)
    ]
    with duckdb.connect(str(fixture_db_copy)) as con:
        con.execute(
            "insert into reporting.rpt_assessment_signals by name "
            "select quarter, signal, 'planted' as signal_label, 'count' as measure_kind, "
            "'quarter' as window_label, 1 as numerator from (select unnest(?) as signal) "
            "cross join (select ? as quarter)",
            [list(harm), QUARTER],
        )
    _rebuilt(fixture_db_copy, tests, rules.model_copy(update={"harm": harm}))
    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        rows = con.execute(
            "select signal, probability, probability_phrase, harm from "
            "reporting.rpt_assessment_judgments where quarter = ? order by judgment_rank",
            [QUARTER],
        ).fetchall()
    assert {probability: phrase for _, probability, phrase, _ in rows} == PHIA
    expected = sorted(rows, key=lambda row: (-row[3], -row[1]))
    assert rows == expected


def test_requirements_follow_measured_gaps(fixture_db, rules) -> None:
    """reporting.rpt_assessment_requirements raises exactly the settings' requirements whose
    gap holds something at or above its share, largest share first."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        rows = con.execute(
            "select gap, numerator, denominator from reporting.rpt_assessment_gaps "
            "where quarter = ?",
            [QUARTER],
        ).fetchall()
        raised = con.execute(
            "select gap, requirement from reporting.rpt_assessment_requirements "
            "where quarter = ? order by requirement_order",
            [QUARTER],
        ).fetchall()
    gaps = {g: (int(n or 0), int(d or 0)) for g, n, d in rows}
    expected = [
        (r.gap, r.requirement)
        for r in rules.intelligence_requirements
        if gaps.get(r.gap, (0, 0))[1]
        and gaps[r.gap][0] / gaps[r.gap][1] >= r.min_share
        and gaps[r.gap][0] > 0
    ]
    assert expected, "the tiny force raises no requirement: the check would be empty"
    # stable: equal shares keep the rule table's order
    expected.sort(key=lambda pair: -gaps[pair[0]][0] / gaps[pair[0]][1])
    assert raised == expected


def test_profile_opens_with_the_assessment(rendered) -> None:
    html = rendered.path.read_text(encoding="utf-8")
    first = html.index('<section id="')
    assert html[first:].startswith('<section id="assessment">')
    assert "Recommendations" in html and "Intelligence requirements" in html
    assert 'id="judgment' not in html or "It is " in html


def test_a_judgments_headline_hides_the_rate_its_evidence_hides(rendered) -> None:
    """A rate below its standard is quoted in the headline and the ranking only as the
    evidence prints it: when its count is suppressed there, no percentage leaks beside it."""
    import re

    from pipelines.disclosure import SUPPRESSED

    html = rendered.path.read_text(encoding="utf-8")
    judgments = re.findall(
        r'<p class="judgment"><strong>(.*?)</strong>.*?<p class="evidence">Evidence: (.*?)</p>',
        html,
        re.S,
    )
    standards = [(h, e) for h, e in judgments if "falls short of the standard" in h]
    assert standards, "the tiny run's profile opens with no rate below its standard"
    for headline, evidence in standards:
        quoted = re.search(r": (\S+) in \S+ \(", evidence).group(1)
        assert headline.endswith(f"it stands at {quoted}.")
    hidden = [h for h, e in standards if e.split(": ", 1)[1].startswith(SUPPRESSED)]
    assert hidden, "no judged rate's evidence is suppressed: the rule is not exercised"
    assert all(h.endswith(f"{SUPPRESSED}.") for h in hidden)


# The crime counts the assessment tests that the profile's crime tables also print: signal ->
# (breakdown of reporting.rpt_crimes_by_category, category; None: the table's total).
CRIME_TABLE_CELLS = {
    "stalking_crimes": ("domestic_abuse", None),
    "domestic_abuse_crimes": ("domestic_abuse", "domestic_abuse"),
    "non_domestic_abuse_crimes": ("domestic_abuse", "not_domestic_abuse"),
    "online_crimes": ("online", "online"),
    "screened_crimes": ("identification_route", "screened"),
    "high_risk_crimes": ("risk_level", "high"),
    "breach_of_order_crimes": ("offence_category", "breach_of_order"),
}


def _hidden_in_tables(con: duckdb.DuckDBPyConnection, k: int) -> dict[tuple[str, str], bool]:
    """(signal, quarter) -> whether the profile hides that count: primary suppression, and for
    a count its crime tables print, the secondary suppression of that quarter's table."""
    from pipelines.disclosure.suppression import TOTAL, is_primary, protect_series

    hidden = {
        (signal, quarter): is_primary(int(numerator), k)
        for signal, quarter, numerator in con.execute(
            "select signal, quarter, numerator from reporting.rpt_assessment_signals "
            "where measure_kind = 'count' and quarter in (?, ?, ?)",
            [QUARTER, PREVIOUS, YEAR_AGO],
        ).fetchall()
    }
    for signal, (breakdown, category) in CRIME_TABLE_CELLS.items():
        for quarter in (QUARTER, PREVIOUS, YEAR_AGO):
            cells = dict(
                con.execute(
                    "select category, crimes from reporting.rpt_crimes_by_category "
                    "where breakdown = ? and quarter = ? order by category_order",
                    [breakdown, quarter],
                ).fetchall()
            )
            table = protect_series(cells, k)
            cell = table.count(category if category is not None else TOTAL, "count")
            hidden[(signal, quarter)] = hidden.get((signal, quarter), False) or cell.suppressed
    return hidden


def test_no_change_is_printed_beside_a_count_the_tables_hide(fixture_db_copy) -> None:
    """The rule opened wide (every comparison with any figure is a judgment), the assessment of
    the tiny run prints a change (its size or its direction) only when both counts it rests
    on publish as the profile's tables print them; otherwise its other words."""
    import re

    from pipelines.quarters import Periods
    from pipelines.report.sections import Context, assessment_section

    settings = load_settings()
    wide = settings.assessment.model_copy(
        update={
            "significance": 1.01,
            "min_relative_change": 0.0,
            "min_rate_gap": 0.0,
            "max_judgments": 100,
        }
    )
    settings = settings.model_copy(update={"assessment": wide})
    k = settings.disclosure.min_count
    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        rows = con.execute("select * from reporting.rpt_assessment_signals").df()
        quarters = [(QUARTER, PREVIOUS, YEAR_AGO)]
        tests = assessment.tested_comparisons(rows.to_dict("records"), quarters, wide)
    _rebuilt(fixture_db_copy, tests, wide)
    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        hidden = _hidden_in_tables(con, k)
        ctx = Context(con, Periods(QUARTER), settings)
        section = assessment_section(ctx)
    assert section["judgments"]
    change_words = re.compile(r"\d+%|doubled|\brose\b|\bfell\b|\d+ points|\d+ pts")
    resting_on_hidden = 0
    # every comparison judged and shown: the ranking lists the same judgments in order
    for judgment, ranked in zip(section["judgments"], section["ranking"], strict=True):
        signal, headline = judgment["signal"], judgment["headline"]
        if (signal, QUARTER) not in hidden:
            continue  # a rate
        before = PREVIOUS if "the previous quarter" in headline else YEAR_AGO
        if hidden[(signal, QUARTER)] or hidden.get((signal, before), False):
            resting_on_hidden += 1
            assert not change_words.search(headline), headline
            assert not change_words.search(ranked["threat"]), ranked["threat"]
            assert "not shown, to protect small counts" in headline
    # the tiny force has small counts: the check above ran on some judgment
    assert resting_on_hidden > 0


def test_an_opening_label_keeps_its_initialisms(fixture_db) -> None:
    """A measure's label opening a sentence gets a capital first letter and nothing else:
    "SPO" and "Victims' Code" stay as written."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        labels = con.execute(
            "select distinct signal_label, signal_label_opening"
            " from reporting.rpt_assessment_sentences"
        ).fetchall()
    assert any("SPO" in label for label, _ in labels)
    for label, opening in labels:
        assert opening == label[:1].upper() + label[1:]


def test_a_quarter_of_a_delivery_gap_is_neither_tested_nor_compared_with(fixture_db) -> None:
    """The run's rows with the previous quarter marked as a delivery gap (as
    rpt_assessment_signals marks a quarter holding a month with no crime of any kind): nothing
    is compared with it, the year-ago comparisons stay; marked on the quarter itself, nothing
    of the quarter is tested."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        rows = con.execute("select * from reporting.rpt_assessment_signals").df()
    assert not rows["is_delivery_gap"].any()  # the tiny force has no gap
    settings = load_settings().assessment
    quarters = [(QUARTER, PREVIOUS, YEAR_AGO)]
    before = assessment.tested_comparisons(rows.to_dict("records"), quarters, settings)
    assert {"previous quarter", "same quarter last year"} <= {t[2] for t in before}
    gap_before = rows.assign(is_delivery_gap=rows["quarter"] == PREVIOUS)
    after = assessment.tested_comparisons(gap_before.to_dict("records"), quarters, settings)
    assert "previous quarter" not in {t[2] for t in after}
    assert [t for t in before if t[2] != "previous quarter"] == after
    gap_now = rows.assign(is_delivery_gap=rows["quarter"] == QUARTER)
    assert assessment.tested_comparisons(gap_now.to_dict("records"), quarters, settings) == []


def test_exact_tests_made_in_a_fork_server_worker_equal_those_made_here(fixture_db) -> None:
    """The assessment step computes its tests in a worker of the fork server
    (pipelines/assets/assessment.py): the same function on the same rows, the same tests."""
    from pipelines import fork_server

    with duckdb.connect(str(fixture_db), read_only=True) as con:
        rows = con.execute("select * from reporting.rpt_assessment_signals").df()
    settings = load_settings().assessment
    quarters = [(QUARTER, PREVIOUS, YEAR_AGO)]
    here = assessment.tested_comparisons(rows.to_dict("records"), quarters, settings)
    assert here
    made = fork_server.call(
        "pipelines.assessment:tested_comparisons", rows.to_dict("records"), quarters, settings
    )
    assert made == here
