"""Sentences filled from a reporting model's row (pipelines.disclosure.sentences): a figure the
tables would hide never prints, and a published one prints exactly as the tables print it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.disclosure import SUPPRESSED, protect_rate, protect_series
from pipelines.disclosure.demand import protect_demand_years
from pipelines.disclosure.sentences import (
    SentenceTemplateError,
    fill_sentence,
    first_complete,
    placeholders,
    published_sentence,
)
from pipelines.disclosure.suppression import percent_text
from tests.report.conftest import QUARTER

K = 5
SENTENCES = "rpt_profile_sentences"
ROUTES = "{screened_crimes} crimes in {quarter} entered the profile only through screening"


def _row(**figures: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"quarter": "2026-Q3"}
    return row | figures


def _printed_numbers(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,]*", text.replace("2026-Q3", "")))


def test_an_unsuppressed_count_prints_as_the_tables_print_it() -> None:
    row = _row(template=ROUTES, principal_crimes=900, included_crimes=80, screened_crimes=1234)
    filled = fill_sentence(SENTENCES, row, K)
    assert filled.complete
    assert filled.text == f"{1234:,} crimes in 2026-Q3 entered the profile only through screening"


def test_a_small_count_never_prints() -> None:
    row = _row(template=ROUTES, principal_crimes=900, included_crimes=80, screened_crimes=4)
    filled = fill_sentence(SENTENCES, row, K)
    assert not filled.complete
    assert filled.text.startswith(SUPPRESSED)
    assert "4" not in _printed_numbers(filled.text)


def test_a_count_the_table_hides_to_protect_another_never_prints() -> None:
    """Principal 3 is hidden; screened (20, the smallest other route) is hidden with it in the
    routes table, so the sentence that prints screened alone must hide it too."""
    figures = {"principal_crimes": 3, "included_crimes": 100, "screened_crimes": 20}
    table = protect_series({"principal": 3, "included": 100, "screened": 20}, K)  # the routes table
    assert table.count("screened", "count").suppressed
    filled = fill_sentence(SENTENCES, _row(template=ROUTES, **figures), K)
    assert filled.text.startswith(SUPPRESSED)
    assert "20" not in _printed_numbers(filled.text)


def test_a_rate_prints_whole_percent_and_hides_when_its_complement_is_small() -> None:
    template = "Online share: {online_share} this quarter ({online_share_year_ago} a year earlier)"
    row = _row(
        template=template,
        online_share=116,
        not_online_crimes=117,
        online_flag_total=233,
        online_share_year_ago=97,
        not_online_crimes_year_ago=3,
        online_flag_total_year_ago=100,
    )
    filled = fill_sentence(SENTENCES, row, K)
    assert (
        filled.text == f"Online share: {percent_text(116 / 233)} this quarter ([c] a year earlier)"
    )
    assert str(protect_rate(97, 100, K)) == SUPPRESSED
    assert not filled.complete


def test_a_figure_derived_from_a_hidden_count_is_hidden_and_the_next_variant_prints() -> None:
    variants = [
        _row(
            template="Crimes {crimes_direction_year} {crimes_change_year_size} on the same quarter",
            crimes=233,
            crimes_year_ago=3,
            crimes_direction_year="rose",
            crimes_change_year_size=(233 - 3) / 3,
        ),
        _row(template="Stalking crimes by domestic-abuse flag", crimes=233, crimes_year_ago=3),
    ]
    assert "rose" not in fill_sentence(SENTENCES, variants[0], K).text
    assert first_complete(SENTENCES, variants, K) == "Stalking crimes by domestic-abuse flag"
    variants[0] |= {"crimes_year_ago": 200, "crimes_change_year_size": 33 / 200}
    # 16.5 % prints 17 %: a half rounds up, as a reader rounds
    assert first_complete(SENTENCES, variants, K) == "Crimes rose 17% on the same quarter"


def test_a_part_whose_rest_is_small_is_hidden_and_its_clause_dropped() -> None:
    """10 of 12 high-harm perpetrators without an order would tell the other 2 have one."""
    figures = {
        "perpetrators": 400,
        "serial_perpetrators": 30,
        "high_harm_perpetrators": 12,
        "high_harm_without_order": 10,
    }
    serial = "{serial_perpetrators} serial perpetrators (2 or more victims in 3 years)"
    no_order = "; {high_harm_without_order} of the high-harm perpetrators had no active order"
    variants = [
        _row(template=f"The force dealt with {serial}{no_order}.", **figures),
        _row(template=f"The force dealt with {serial}.", **figures),
    ]
    assert first_complete(SENTENCES, variants, K) == (
        "The force dealt with 30 serial perpetrators (2 or more victims in 3 years)."
    )
    figures["high_harm_perpetrators"] = 40
    assert "10 of the high-harm" in first_complete(SENTENCES, [variants[0] | figures], K)


def test_no_variant_prints_unless_complete_or_its_placeholder_may_show_the_mark() -> None:
    row = _row(template=ROUTES, principal_crimes=900, included_crimes=80, screened_crimes=2)
    assert first_complete(SENTENCES, [row], K) is None
    marked = row | {"template": ROUTES.replace("{screened_crimes}", "{screened_crimes?}")}
    assert first_complete(SENTENCES, [marked], K) == (
        f"{SUPPRESSED} crimes in 2026-Q3 entered the profile only through screening"
    )


def test_templates_name_described_columns_only() -> None:
    assert placeholders("{a} of {b?} and {a}") == ["a", "b"]
    with pytest.raises(SentenceTemplateError):
        placeholders("{a} of {b")
    with pytest.raises(SentenceTemplateError, match="not declared with a kind"):
        fill_sentence(SENTENCES, _row(template="{sentence_kind} crimes"), K)


def _model_rows(con: duckdb.DuckDBPyConnection, model: str) -> list[dict[str, Any]]:
    result = con.execute(f"select * from reporting.{model}")
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_every_sentence_of_the_real_run_fills(fixture_db: Path) -> None:
    """Every row of the tiny run's sentence model fills with no placeholder left, and a
    complete sentence shows none of the suppression marks."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        rows = _model_rows(con, SENTENCES)
    assert rows
    for row in rows:
        filled = fill_sentence(SENTENCES, row, K)
        assert "{" not in filled.text and "}" not in filled.text
        if filled.complete and "?}" not in row["template"]:
            assert SUPPRESSED not in filled.text and "–" not in filled.text


def test_the_real_routes_title_prints_the_routes_tables_screened_count(fixture_db: Path) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        counts = dict(
            con.execute(
                "select category, crimes from reporting.rpt_crimes_by_category "
                "where quarter = ? and breakdown = 'identification_route'",
                [QUARTER],
            ).fetchall()
        )
        title = published_sentence(con, SENTENCES, "routes_chart_title", QUARTER, K)
    routes = {route: counts.get(route, 0) for route in ("principal", "included", "screened")}
    screened = protect_series(routes, K).count("screened", "count")
    assert title == f"{screened} crimes in {QUARTER} entered the profile only through screening"


def test_the_published_profile_prints_the_models_sentences(fixture_db: Path, rendered) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        sentence = published_sentence(con, SENTENCES, "dip_sample", QUARTER, K)
    assert sentence and sentence.startswith("Each quarter a restricted assurance dip sample")
    html = Path(rendered.path).read_text(encoding="utf-8").replace("&#39;", "'")
    assert sentence in html


def test_a_change_prints_signed_with_a_true_minus_and_hides_with_its_counts() -> None:
    template = "{crimes?}: {crimes_change_previous?} on the previous quarter"
    row = _row(template=template, crimes=88, crimes_previous=100, crimes_change_previous=-0.12)
    assert fill_sentence(SENTENCES, row, K).text == "88: −12% on the previous quarter"
    row |= {"crimes_previous": 3, "crimes_change_previous": (88 - 3) / 3}
    assert fill_sentence(SENTENCES, row, K).text == f"88: {SUPPRESSED} on the previous quarter"


def test_the_published_key_findings_are_the_models_sentences(fixture_db: Path, rendered) -> None:
    """Each key finding of the real run's profile is its model row filled, and none shows a
    suppression mark (a finding whose figure is hidden falls back to other words) except the
    weakest compliance measure's comparison with a year ago, which has always printed it."""
    from pipelines.report.printed import model_meta

    kinds = model_meta(SENTENCES)["sentences_in"]["key_findings"]
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        findings = [published_sentence(con, SENTENCES, kind, QUARTER, K) for kind in kinds]
    printed = [finding for finding in findings if finding]
    assert printed
    html = Path(rendered.path).read_text(encoding="utf-8").replace("&#39;", "'")
    for finding in printed:
        assert finding in html
        assert SUPPRESSED not in finding.replace(f"same quarter last year: {SUPPRESSED}", "")


def test_a_screened_count_hidden_beside_a_small_route_is_not_called_small(
    fixture_db: Path,
) -> None:
    """Screened 20 is hidden in the routes table to protect principal 3: the finding must not
    say it is below the threshold (it is not), only that it is not shown."""
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        rows = [
            row for row in _model_rows(con, SENTENCES) if row["sentence_kind"] == "finding_screened"
        ]
    assert rows, "the tiny run has no quarter with screened crimes"
    quarter = rows[0]["quarter"]
    figures = {"principal_crimes": 3, "included_crimes": 100, "screened_crimes": 20}
    variants = sorted(
        (row | figures for row in rows if row["quarter"] == quarter),
        key=lambda row: row["variant_order"],
    )
    sentence = first_complete(SENTENCES, variants, K)
    assert sentence is not None
    assert "20" not in _printed_numbers(sentence.replace(quarter, ""))
    assert "fewer than" not in sentence.lower() and "not shown, to protect small counts" in sentence


def test_a_gaps_part_is_hidden_when_its_rest_is_small() -> None:
    """8 of 11 suspects unnamed tells that 3 are named: the share is hidden, and so is the 8."""
    row = {
        "quarter": "2026-Q3",
        "evidence_template": "{gap_share?} ({numerator?} of {denominator?}) this quarter",
        "numerator": 8,
        "denominator": 11,
        "gap_share": 8,
    }
    filled = fill_sentence("rpt_assessment_gaps", row, K, template_column="evidence_template")
    assert filled.text == f"{SUPPRESSED} ({SUPPRESSED} of 11) this quarter"


def test_the_ranking_back_test_hides_re_offenders_whose_rest_of_the_list_is_small() -> None:
    """'22 of the 25 re-offended' tells that 3 did not; a mean share over one ranking is that
    same ratio, so it hides with the summed count it rests on."""
    template = (
        "Of the {backtest_listed}, {rfgv_reoffending?} re-offended; over {backtest_rankings} "
        "rankings {rfgv_precision?} did"
    )
    row = _row(
        template=template,
        backtest_listed=25,
        rfgv_reoffending=22,
        backtest_rankings=1,
        rfgv_listed_all=25,
        rfgv_reoffending_all=22,
        rfgv_precision=0.88,
    )
    assert fill_sentence(SENTENCES, row, K).text == (
        f"Of the 25, {SUPPRESSED} re-offended; over 1 rankings {SUPPRESSED} did"
    )
    many = row | {"rfgv_reoffending": 8, "rfgv_listed_all": 400, "rfgv_reoffending_all": 112}
    assert fill_sentence(SENTENCES, many | {"rfgv_precision": 0.28}, K).text == (
        "Of the 25, 8 re-offended; over 1 rankings 28% did"
    )


def test_the_forecast_headline_prints_the_years_tables_figures_and_their_change(
    fixture_db: Path,
) -> None:
    """The headline's figures are the financial-year table's (whole crimes, as published) and
    its change is worked out here from them, independently of the model's arithmetic."""
    from pipelines.disclosure.demand import forecast_sentence
    from pipelines.report.printed import model_frames
    from pipelines.report.sections import DEMAND, TOTAL_SERIES

    with duckdb.connect(str(fixture_db), read_only=True) as con:
        years = protect_demand_years(model_frames(con, DEMAND)["years"], K)
        headline = forecast_sentence(con, years, TOTAL_SERIES, "headline", K)
        title = forecast_sentence(con, years, TOTAL_SERIES, "chart_title", K)
    total = years[years["series"] == TOTAL_SERIES]
    last = total.loc[total["is_baseline"], "value"].iloc[0]
    nxt = total.loc[total["years_ahead"] == 1, "value"].iloc[0]
    assert not isinstance(last, str) and not isinstance(nxt, str) and last
    change = (nxt - last) / last
    assert headline is not None and f"forecast at about {nxt:,} in " in headline
    assert f"against {last:,} recorded in " in headline and f"({change:+.0%});" in headline
    verb = "rise" if change > 0.05 else "fall" if change < -0.05 else "stay level"
    assert title is not None and f": expected to {verb} in " in title
    assert title.endswith(f"baseline ({change:+.0%}); per quarter")


def test_the_forecast_change_is_dropped_when_the_baseline_is_hidden(fixture_db: Path) -> None:
    """A baseline the table prints as [c] (primary or secondary suppression) takes the change
    with it: no headline, and the chart keeps its plain title."""
    from pipelines.disclosure.demand import forecast_sentence
    from pipelines.report.printed import model_frames
    from pipelines.report.sections import DEMAND, TOTAL_SERIES

    with duckdb.connect(str(fixture_db), read_only=True) as con:
        years = protect_demand_years(model_frames(con, DEMAND)["years"], K)
        years.loc[years["is_baseline"], "value"] = SUPPRESSED
        headline = forecast_sentence(con, years, TOTAL_SERIES, "headline", K)
        title = forecast_sentence(con, years, TOTAL_SERIES, "chart_title", K)
    assert headline is None
    assert title is not None and title.endswith(": crimes per quarter, recorded and forecast")
    assert "%" not in title and SUPPRESSED not in title
