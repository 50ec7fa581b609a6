"""Screening's threshold calibrated on the force's reviewed sample
(pipelines.screening_calibration): the review draw, the stratified estimate and the choice."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.screening_calibration import (
    REVIEW_COLUMNS,
    band_estimates,
    band_floor,
    decide_threshold,
    draw_order,
    draw_review_sample,
    flag_level,
)

BANDS = [5, 6, 7, 8, 9, 10]


def _quarter_crimes(levels: dict[int, int], prefix: str = "C") -> pd.DataFrame:
    """`levels[level]` crimes at each flag level."""
    rows = [
        {"crime_id": f"{prefix}{level:02d}-{i:03d}", "flag_level": level}
        for level, count in levels.items()
        for i in range(count)
    ]
    return pd.DataFrame(rows)


def _returns(
    quarter: str, bands: dict[int, tuple[int, int, int]], prefix: str = "C"
) -> pd.DataFrame:
    """A returned review sample: bands[floor] = (crimes the band held, yes, no)."""
    rows = []
    for floor, (crimes, yes, no) in bands.items():
        for i, verdict in enumerate(["yes"] * yes + ["no"] * no):
            rows.append(
                {
                    "sample_id": f"{quarter}-{floor}-{i}",
                    "crime_id": f"{prefix}{quarter}-{floor}-{i}",
                    "quarter": quarter,
                    "flag_level": floor,
                    "band_floor": floor,
                    "band_crimes": crimes,
                    "band_sample": yes + no,
                    "verdict_is_stalking": verdict,
                }
            )
    return pd.DataFrame(rows)


def _decide(returns: pd.DataFrame, quarter: str = "2026-Q3", **overrides):
    options = {
        "configured": 8,
        "override": None,
        "target_precision": 0.85,
        "confidence": 0.8,
        "quarters": 4,
        "min_reviewed": 10,
    }
    return decide_threshold(returns, quarter, **{**options, **overrides})


def test_flag_level_is_the_lowest_threshold_that_flags_the_crime() -> None:
    """is_flagged at t (int_screening_scored) = score >= t and (a course against this victim or
    score_on_this_victim >= t) = flag_level >= t, for every t."""
    rng = np.random.default_rng(3)
    score = rng.integers(0, 20, 500)
    on_victim = score - rng.integers(0, 7, 500).clip(max=score)
    course = rng.random(500) < 0.5
    scored = pd.DataFrame(
        {"score": score, "score_on_this_victim": on_victim, "has_course_on_this_victim": course}
    )
    level = flag_level(scored)
    for threshold in range(0, 22):
        flagged = (score >= threshold) & (course | (on_victim >= threshold))
        assert ((level >= threshold) == flagged).all(), threshold


def test_bands_are_the_floors_at_or_below_the_level() -> None:
    levels = pd.Series([3, 5, 6, 9, 10, 24])
    assert band_floor(levels, BANDS).tolist() == [pd.NA, 5, 6, 9, 10, 10]


def test_draw_order_is_duckdbs_md5_order() -> None:
    """The review draw orders crimes as the dip sample does in DuckDB (md5(seed:crime id)), so
    the two samples are drawn alike on any machine."""
    crimes = pd.Series([f"CR{i:010d}" for i in range(50)])
    with duckdb.connect() as con:
        expected = [
            row[0]
            for row in con.execute(
                "select md5('7:' || crime_id) from unnest(?) as t(crime_id)", [crimes.tolist()]
            ).fetchall()
        ]
    assert draw_order(7, crimes).tolist() == expected


def test_review_sample_draws_per_band_with_its_design() -> None:
    crimes = _quarter_crimes({4: 9, 5: 2, 6: 7, 8: 12, 15: 30})
    drawn = draw_review_sample(crimes, "2026-Q2", BANDS, 5, seed=11)
    assert list(drawn.columns) == REVIEW_COLUMNS
    by_band = drawn.groupby("band_floor").agg(
        n=("crime_id", "size"), crimes=("band_crimes", "first"), sample=("band_sample", "first")
    )
    # below the lowest floor: never drawn; a band smaller than per_band: all of it
    assert by_band.to_dict("index") == {
        5: {"n": 2, "crimes": 2, "sample": 2},
        6: {"n": 5, "crimes": 7, "sample": 5},
        8: {"n": 5, "crimes": 12, "sample": 5},
        10: {"n": 5, "crimes": 30, "sample": 5},
    }
    assert drawn["sample_id"].is_unique and drawn["crime_id"].is_unique
    again = draw_review_sample(crimes.sample(frac=1, random_state=1), "2026-Q2", BANDS, 5, 11)
    assert again.equals(drawn), "the same seed and crimes drew another sample"
    other = draw_review_sample(crimes, "2026-Q2", BANDS, 5, seed=12)
    assert set(other["crime_id"]) != set(drawn["crime_id"]), "the seed does not move the draw"
    assert draw_review_sample(crimes, "2026-Q2", BANDS, 0, 11).empty


def test_estimates_weight_each_band_by_the_crimes_it_held() -> None:
    """A band of 90 crimes with every reviewed one stalking and a band of 10 with none: the
    precision at the lower floor is 0.9 (not the reviewed share 0.5); a band held at 100%
    still has a lower bound below 1."""
    returns = _returns("2026-Q2", {6: (10, 0, 5), 8: (90, 5, 0)})
    estimates = band_estimates(returns, 0.8).set_index("band_floor")
    assert estimates.loc[6, "estimated_precision"] == pytest.approx(0.9)
    assert estimates.loc[6, "flagged_crimes"] == 100
    assert estimates.loc[8, "estimated_precision"] == pytest.approx(1.0)
    assert 0.5 < estimates.loc[8, "precision_lower_bound"] < 1.0
    assert estimates.loc[6, "estimated_share_found"] == pytest.approx(1.0)
    # more verdicts, a tighter bound
    more = band_estimates(_returns("2026-Q2", {6: (10, 0, 5), 8: (90, 50, 0)}), 0.8)
    assert (
        more.set_index("band_floor").loc[8, "precision_lower_bound"]
        > estimates.loc[8, "precision_lower_bound"]
    )


def test_no_return_keeps_the_configured_threshold_and_says_so() -> None:
    decision, estimates = _decide(
        _returns("2026-Q2", {}).reindex(columns=[*REVIEW_COLUMNS, "verdict_is_stalking"])
    )
    assert (decision.threshold, decision.source, decision.reviewed) == (8, "configured", 0)
    assert "no reviewed screening sample has been returned" in decision.reason
    assert estimates.empty


def test_a_confidently_precise_lower_floor_moves_the_threshold_down() -> None:
    returns = pd.concat(
        [
            _returns(q, {5: (20, 1, 9), 6: (10, 19, 1), 8: (40, 20, 0)})
            for q in ("2025-Q4", "2026-Q1")
        ]
    )
    decision, estimates = _decide(returns)
    assert (decision.threshold, decision.source) == (6, "calibrated")
    assert decision.reviewed == len(returns)
    assert decision.review_quarters == "2025-Q4 to 2026-Q1"
    assert "the threshold moved from 8 to 6" in decision.reason
    assert decision.precision_lower_bound >= 0.85
    assert estimates.set_index("band_floor").loc[5, "precision_lower_bound"] < 0.85


def test_a_confidently_imprecise_configured_threshold_moves_up() -> None:
    returns = _returns("2026-Q2", {8: (30, 10, 10), 10: (20, 20, 0)})
    decision, _ = _decide(returns)
    assert (decision.threshold, decision.source) == (10, "calibrated")
    assert "the threshold moved from 8 to 10" in decision.reason


def test_uncertain_evidence_keeps_the_configured_threshold() -> None:
    """Reviews that neither put a lower floor confidently above the target nor the configured
    one confidently below it leave the threshold where it is."""
    returns = _returns("2026-Q2", {6: (10, 4, 2), 8: (20, 5, 1)})
    decision, _ = _decide(returns)
    assert (decision.threshold, decision.source) == (8, "calibrated")
    assert "the threshold stays at 8" in decision.reason


def test_only_earlier_quarters_count_and_too_few_verdicts_do_not_calibrate() -> None:
    # the profiled quarter's own sample is reviewed during the next quarter, as in use
    own = _returns("2026-Q3", {5: (20, 20, 0), 8: (20, 20, 0)})
    decision, _ = _decide(own)
    assert (decision.threshold, decision.reviewed) == (8, 0)
    few = _returns("2026-Q2", {5: (20, 3, 0), 8: (20, 3, 0)})
    decision, _ = _decide(few)
    assert (decision.threshold, decision.source, decision.reviewed) == (8, "configured", 6)
    assert "fewer than the 10 needed" in decision.reason
    # 'unsure' is no verdict for the estimate
    unsure = few.assign(verdict_is_stalking="unsure")
    assert _decide(unsure)[0].reviewed == 0


def test_an_override_wins_and_calibration_can_be_off() -> None:
    returns = _returns("2026-Q2", {5: (20, 20, 0), 8: (20, 20, 0)})
    decision, _ = _decide(returns, override=11)
    assert (decision.threshold, decision.source) == (11, "override")
    assert "set by hand" in decision.reason
    decision, _ = _decide(returns, enabled=False)
    assert (decision.threshold, decision.source) == (8, "configured")
    # off, the reviews still measure the configured threshold
    assert "calibration from the reviewed sample is off" in decision.reason
    assert "put its precision at 1.00" in decision.reason
    assert decision.estimated_precision == 1.0
