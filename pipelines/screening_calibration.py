"""Screening's threshold calibrated on the force's own reviewed sample.

Each quarter the pipeline draws a review sample of the quarter's screened crimes around the
threshold (restricted/screening_review.csv): crimes are banded by their flag level (the lowest
threshold that would still flag them: the score where a course against this victim is linked,
else the score without the suspect's history with other victims, as int_screening_scored's
is_flagged reads them), and each band gets `per_band` crimes drawn in the order of
md5(seed, crime id) (the dip sample's reproducible draw). The auditors say whether each is
stalking and return the file; the verdicts of the latest `quarters` returned quarters before the
profiled one estimate the precision of the screened-in set at each band's floor (a stratified
estimate: every band of every quarter is a stratum weighted by the crimes it held), with a
Jeffreys Beta posterior per stratum so that a lower bound at the configured confidence exists
even for a band every reviewed crime of which was stalking. The threshold the run uses is the
lowest floor whose lower bound reaches the target precision; with no usable return, or no floor
reaching it, the configured threshold; an override in the settings wins over both. Every
decision comes with its reason in words, for the profile and the restricted pack.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# The review sample's own columns (beside the dip sample's verdict columns), read back from a
# returned file: they carry the draw's design so the estimate needs nothing but the file.
REVIEW_COLUMNS = [
    "sample_id",
    "crime_id",
    "quarter",
    "flag_level",
    "band_floor",
    "band_crimes",
    "band_sample",
]
POSTERIOR_DRAWS = 4000
# Fixed: the decision must not change from one run to the next on the same returns.
POSTERIOR_SEED = 20240927


def flag_level(scored: pd.DataFrame) -> pd.Series:
    """The lowest threshold at which int_screening_scored would flag each crime: is_flagged is
    score >= t and (a course against this victim or score_on_this_victim >= t)."""
    course = scored["has_course_on_this_victim"].astype("boolean").fillna(False).astype(bool)
    return scored["score"].where(course, scored["score_on_this_victim"]).astype(int)


def band_floor(levels: pd.Series, bands: list[int]) -> pd.Series:
    """Each flag level's band: the highest configured floor at or below it (NA below them all);
    the last band is open-ended."""
    floors = sorted(bands)
    index = np.searchsorted(floors, levels.to_numpy(), side="right") - 1
    return pd.Series(
        [floors[i] if i >= 0 else pd.NA for i in index], index=levels.index, dtype="Int64"
    )


def draw_order(seed: int, crime_ids: pd.Series) -> pd.Series:
    """md5(seed:crime id) as hex, the dip sample's draw order (rpt_dip_sample): the same seed
    and crimes give the same sample on any machine."""
    return crime_ids.map(lambda crime: hashlib.md5(f"{seed}:{crime}".encode()).hexdigest())


def draw_review_sample(
    quarter_crimes: pd.DataFrame, quarter: str, bands: list[int], per_band: int, seed: int
) -> pd.DataFrame:
    """The review sample of one quarter: `quarter_crimes` holds its screened crimes (crime_id,
    flag_level); up to `per_band` of each band, with the band's size for the estimate."""
    if per_band <= 0 or quarter_crimes.empty:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    crimes = quarter_crimes.assign(
        band_floor=band_floor(quarter_crimes["flag_level"], bands),
        order=draw_order(seed, quarter_crimes["crime_id"]),
    ).dropna(subset=["band_floor"])
    crimes["band_crimes"] = crimes.groupby("band_floor")["crime_id"].transform("size")
    crimes = crimes.sort_values(["band_floor", "order"])
    drawn = crimes.groupby("band_floor").head(per_band).copy()
    drawn["band_sample"] = drawn.groupby("band_floor")["crime_id"].transform("size")
    drawn["quarter"] = quarter
    drawn = drawn.sort_values(["band_floor", "order"], ascending=[False, True])
    drawn["sample_id"] = [f"{quarter}-R{n:03d}" for n in range(1, len(drawn) + 1)]
    return (
        drawn[REVIEW_COLUMNS].astype({"band_floor": int, "flag_level": int}).reset_index(drop=True)
    )


@dataclass(frozen=True)
class Decision:
    """The threshold a run uses and why (marts.screening_threshold)."""

    threshold: int
    configured_threshold: int
    source: str  # override | calibrated | configured
    reason: str
    reviewed: int
    review_quarters: str
    estimated_precision: float | None
    precision_lower_bound: float | None


def _strata(returns: pd.DataFrame) -> pd.DataFrame:
    """One row per (quarter, band): crimes it held, stalking and not-stalking verdicts
    ('unsure' and empty verdicts count as not reviewed)."""
    verdict = returns["verdict_is_stalking"]
    frame = returns.assign(
        yes=(verdict == "yes").astype(int),
        no=(verdict == "no").astype(int),
        band_crimes=pd.to_numeric(returns["band_crimes"]),
        band_floor=pd.to_numeric(returns["band_floor"]).astype(int),
    )
    return (
        frame.groupby(["quarter", "band_floor"], as_index=False)
        .agg(band_crimes=("band_crimes", "max"), yes=("yes", "sum"), no=("no", "sum"))
        .sort_values(["quarter", "band_floor"])
        .reset_index(drop=True)
    )


def band_estimates(returns: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """For every band floor t seen in the returns: the estimated precision of the crimes
    flagged at t (every band at or above it, every quarter), its lower bound at `confidence`,
    the estimated stalking crimes among them and the reviewed verdicts behind them."""
    strata = _strata(returns)
    rng = np.random.default_rng(POSTERIOR_SEED)
    # Jeffreys posterior of each stratum's share of stalking, drawn jointly
    shares = rng.beta(
        strata["yes"].to_numpy() + 0.5,
        strata["no"].to_numpy() + 0.5,
        size=(POSTERIOR_DRAWS, len(strata)),
    )
    reviewed = strata["yes"] + strata["no"]
    point = (strata["yes"] / reviewed.where(reviewed > 0)).fillna(0.5).to_numpy()
    rows = []
    for floor in sorted(strata["band_floor"].unique()):
        above = (strata["band_floor"] >= floor).to_numpy()
        crimes = strata["band_crimes"].to_numpy() * above
        draws = shares @ crimes / crimes.sum()
        rows.append(
            {
                "band_floor": int(floor),
                "flagged_crimes": int(crimes.sum()),
                "reviewed": int(reviewed[above].sum()),
                "judged_stalking": int(strata["yes"][above].sum()),
                "estimated_stalking": float(point @ crimes),
                "estimated_precision": float(point @ crimes / crimes.sum()),
                "precision_lower_bound": float(np.quantile(draws, 1 - confidence)),
                "precision_upper_bound": float(np.quantile(draws, confidence)),
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        # the recall trade-off: the share of the reviewed bands' estimated stalking crimes
        # that each threshold keeps
        frame["estimated_share_found"] = (
            frame["estimated_stalking"] / frame["estimated_stalking"].max()
        )
    return frame


def quarters_before(returns: pd.DataFrame, profile_quarter: str, quarters: int) -> list[str]:
    """The latest `quarters` returned quarters before the profiled one (as in use: a quarter's
    sample is reviewed during the next)."""
    seen = sorted({q for q in returns["quarter"].dropna().astype(str) if q < profile_quarter})
    return seen[-quarters:] if quarters > 0 else []


def choose_floor(estimates: pd.DataFrame, configured: int, target: float) -> int:
    """The threshold the estimates support, the configured one unless they say otherwise: a
    lower floor whose precision reaches the target with the confidence (its lower bound) moves
    it down, to the lowest such; a configured threshold whose precision is below the target with
    the confidence (the upper bound of the floor at or below it) moves it up, to the lowest
    floor above whose estimate reaches the target (the highest floor when none does)."""
    lower = estimates[
        (estimates["band_floor"] < configured) & (estimates["precision_lower_bound"] >= target)
    ]
    if not lower.empty:
        return int(lower["band_floor"].min())
    at = estimates[estimates["band_floor"] <= configured]
    if at.empty or at.iloc[-1]["precision_upper_bound"] >= target:
        return configured
    above = estimates[estimates["band_floor"] > configured]
    if above.empty:
        return configured
    reaching = above[above["estimated_precision"] >= target]
    return int((reaching if not reaching.empty else above)["band_floor"].min())


def decide_threshold(
    returns: pd.DataFrame,
    profile_quarter: str,
    *,
    configured: int,
    override: int | None,
    target_precision: float,
    confidence: float,
    quarters: int,
    min_reviewed: int,
    enabled: bool = True,
) -> tuple[Decision, pd.DataFrame]:
    """The threshold the run uses, its reason in words and the band estimates behind it."""
    # The estimate is made whether or not it may move the threshold: with calibration off the
    # auditors' reviews still measure the configured threshold's precision on this force.
    used = quarters_before(returns, profile_quarter, quarters)
    usable = returns[
        returns["quarter"].isin(used) & returns["verdict_is_stalking"].isin(["yes", "no"])
    ]
    estimates = band_estimates(usable, confidence) if len(usable) else pd.DataFrame()
    span = f"{used[0]} to {used[-1]}" if len(used) > 1 else (used[0] if used else "")
    reviewed = len(usable)

    def decision(threshold: int, source: str, reason: str) -> tuple[Decision, pd.DataFrame]:
        return Decision(
            threshold,
            configured_threshold=configured,
            source=source,
            reason=reason,
            reviewed=reviewed,
            review_quarters=span,
            **_at(estimates, threshold if source != "configured" or reviewed else None),
        ), estimates

    if override is not None:
        return decision(
            override,
            "override",
            f"Screening ran at threshold {override}, set by hand in the settings "
            f"(screening.calibration.override_threshold; configured {configured}).",
        )
    if not enabled:
        measured = _at(estimates, configured) if reviewed >= min_reviewed else {}
        if measured.get("estimated_precision") is not None:
            said = (
                f"; the {reviewed} crimes the auditors reviewed from {span} put its precision "
                f"at {measured['estimated_precision']:.2f} (at least "
                f"{measured['precision_lower_bound']:.2f} with {confidence:.0%} confidence; "
                f"target {target_precision:.2f})"
            )
        elif reviewed:
            said = f"; only {reviewed} reviewed crimes were returned from {span}, too few to say"
        else:
            said = "; no reviewed screening sample has been returned"
        return decision(
            configured,
            "configured",
            f"Screening ran at the configured threshold {configured} (calibration from the "
            f"reviewed sample is off){said}.",
        )
    if reviewed < min_reviewed:
        why = (
            f"only {reviewed} reviewed crimes were returned from {span}, fewer than the "
            f"{min_reviewed} needed to calibrate it"
            if reviewed
            else "no reviewed screening sample has been returned to calibrate it"
        )
        return decision(
            configured,
            "configured",
            f"Screening ran at the configured threshold {configured}: {why}.",
        )
    chosen = choose_floor(estimates, configured, target_precision)
    found = estimates.loc[estimates["band_floor"] == chosen]
    estimate = (
        f"put screening's precision at {found['estimated_precision'].iloc[0]:.2f} at threshold "
        f"{chosen} (at least {found['precision_lower_bound'].iloc[0]:.2f} with "
        f"{confidence:.0%} confidence; target {target_precision:.2f})"
        if not found.empty
        else f"give no estimate at threshold {chosen}"
    )
    moved = (
        f"the threshold moved from {configured} to {chosen}"
        if chosen != configured
        else f"the threshold stays at {configured}"
    )
    return decision(
        chosen,
        "calibrated",
        f"The {reviewed} crimes the auditors reviewed from {span} {estimate}; {moved}.",
    )


def decide_with_settings(
    returns: pd.DataFrame,
    profile_quarter: str,
    calibration: Any,
    *,
    configured: int,
    override: int | None = None,
    enabled: bool = True,
) -> tuple[Decision, pd.DataFrame]:
    """`decide_threshold` with its rule read from calibration settings (screening.calibration,
    or a candidate of them in the evaluation), so the pipeline and the evaluation decide alike."""
    return decide_threshold(
        returns,
        profile_quarter,
        configured=configured,
        override=override,
        target_precision=calibration.target_precision,
        confidence=calibration.confidence,
        quarters=calibration.quarters,
        min_reviewed=calibration.min_reviewed,
        enabled=enabled,
    )


def _at(estimates: pd.DataFrame, threshold: int | None) -> dict[str, Any]:
    """The estimate at `threshold` where the returns give one."""
    if threshold is None or estimates.empty:
        return {"estimated_precision": None, "precision_lower_bound": None}
    row = estimates.loc[estimates["band_floor"] == threshold]
    if row.empty:
        return {"estimated_precision": None, "precision_lower_bound": None}
    return {
        "estimated_precision": round(float(row["estimated_precision"].iloc[0]), 4),
        "precision_lower_bound": round(float(row["precision_lower_bound"].iloc[0]), 4),
    }
