"""Screening's points re-weighted by the force's own reviewed sample (evaluation only).

The review sample the pipeline draws each quarter (pipelines.screening_calibration: bands of
flag level around the threshold, `per_band` crimes each) comes back with the auditors' verdicts.
Here those verdicts also teach the screen what stalking looks like in this force's records: a
penalised logistic model (scikit-learn, L2) fitted on the reviewed crimes of the latest
`quarters` returned quarters, whose features are the configured flag level (scaled so that its
penalty is negligible: it stands for the configured points) and every scored indicator
(penalised: the model moves away from the configured points only as far as the verdicts push
it, which is the shrinkage). Every crime the configured threshold flags stays flagged; a crime
of a reviewed band below the threshold is pulled in when the model puts its probability of
stalking at `cut` or more. The precision of the flagged set is estimated from the same
stratified returns (each quarter x band a stratum weighted by the crimes it held; the reviewed
crimes' selection judged by cross-validated probabilities, so a crime never judges the model
that saw it), so a run could say how sure it is.

Simulated as the threshold calibration is (pipelines.evaluation.screening): the reviewer
answers from truth; each evaluated quarter is screened with the model fitted on its previous
quarters' samples. Its settings (penalty, cut, quarters pooled) are chosen on the held-in
parts only. Read held out once, it lost (docs/evaluation/screening.md), so nothing of it runs
in the pipeline; pipelines.evaluation.screening_review_gate puts a gate in front of it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from pipelines.evaluation.screening import (
    WEIGHT_COLUMNS,
    indicator_matrix,
    precision_recall,
    spread,
)
from pipelines.screening_calibration import draw_review_sample, flag_level

# The flag level's feature scale: its coefficient is 1/LEVEL_SCALE of what it would be
# unscaled, so the L2 penalty on it is negligible and the configured points act as an offset
# the penalised indicators correct.
LEVEL_SCALE = 10.0
# More evaluated quarters than the threshold calibration's 4: a small force holds ~40 hidden
# crimes a quarter and a re-ranking moves a handful; 8 quarters keep the comparison readable.
EVALUATED_QUARTERS = 8
DRAWS = 20
GRID_DRAWS = 5
GRID = {"penalty_c": [2.0, 10.0, 50.0], "cut": [0.5, 0.6, 0.7, 0.8], "quarters": [2, 4]}
# The held-in choice: the highest pooled recall of the held-in parts among the settings whose
# pooled precision falls no more than this below the configured threshold's on the same crimes
# and whose every part's precision reaches the target (the ship rule read on held-in data).
PRECISION_GIVE = 0.01
TARGET_PRECISION = 0.85
MIN_REVIEWED = 40
CV_FOLDS = 5


@dataclass(frozen=True)
class ReviewModelSettings:
    """One candidate of the re-ranking's settings."""

    penalty_c: float  # scikit-learn's C: the inverse of the L2 penalty on the indicators
    cut: float  # the modelled probability a crime below the threshold needs to be pulled in
    quarters: int  # the latest returned quarters before the screened one whose verdicts teach
    min_reviewed: int = MIN_REVIEWED  # fewer verdicts: the configured threshold alone


def features(scored: pd.DataFrame, levels: np.ndarray) -> np.ndarray:
    """The model's inputs: the flag level (scaled, see LEVEL_SCALE) and every indicator."""
    return np.column_stack([levels * LEVEL_SCALE, indicator_matrix(scored)]).astype(float)


def fit_review_model(x: np.ndarray, verdicts: np.ndarray, penalty_c: float) -> LogisticRegression:
    """The penalised logistic model of the verdicts. Newton-Cholesky: deterministic, and it
    converges in a few steps on a few hundred reviews x 24 features, where lbfgs (the scaled
    flag level makes the problem ill-conditioned) ran ~60x longer and stopped short."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=penalty_c, solver="newton-cholesky", max_iter=200).fit(
            x, verdicts
        )


def cross_validated_probability(
    x: np.ndarray, verdicts: np.ndarray, penalty_c: float, seed: int = 0
) -> np.ndarray:
    """Each reviewed crime's probability from a model fitted without it (stratified folds;
    the full model's where a fold would hold a single verdict class)."""
    folds = min(CV_FOLDS, int(verdicts.sum()), int((~verdicts).sum()))
    if folds < 2:
        return fit_review_model(x, verdicts, penalty_c).predict_proba(x)[:, 1]
    out = np.empty(len(verdicts))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, verdicts):
        out[test] = fit_review_model(x[train], verdicts[train], penalty_c).predict_proba(x[test])[
            :, 1
        ]
    return out


def estimated_precision(
    reviewed: pd.DataFrame, selected: np.ndarray, threshold: int
) -> float | None:
    """The flagged set's precision estimated from stratified returns: `reviewed` holds the
    review sample's columns (quarter, band_floor, band_crimes) and `verdict` (bool); `selected`
    says which reviewed crimes the rule flags (every crime at or above the threshold is). Each
    quarter x band stratum counts its crimes times the share of its reviewed crimes selected
    (and selected and stalking)."""
    frame = reviewed.assign(
        chosen=selected | (reviewed["band_floor"].to_numpy() >= threshold),
        hit=(selected | (reviewed["band_floor"].to_numpy() >= threshold))
        & reviewed["verdict"].to_numpy(),
    )
    strata = frame.groupby(["quarter", "band_floor"]).agg(
        crimes=("band_crimes", "max"),
        n=("verdict", "size"),
        chosen=("chosen", "sum"),
        hit=("hit", "sum"),
    )
    flagged = (strata["crimes"] * strata["chosen"] / strata["n"]).sum()
    stalking = (strata["crimes"] * strata["hit"] / strata["n"]).sum()
    return round(float(stalking / flagged), 4) if flagged > 0 else None


def reranked_quarter(
    scored: pd.DataFrame,
    levels: np.ndarray,
    x: np.ndarray,
    reviewed: pd.DataFrame,
    quarter: str,
    settings: ReviewModelSettings,
    bands: list[int],
    threshold: int,
    estimate: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The crimes of `quarter` flagged by the configured threshold plus those the model fitted
    on `reviewed` (the returns, with `verdict`) pulls in from the reviewed bands below it, and
    what the run could say: whether the model ran, the crimes pulled in, the estimated
    precision."""
    in_quarter = (scored["reported_quarter"] == quarter).to_numpy()
    flagged = in_quarter & (levels >= threshold)
    verdicts = reviewed["verdict"].to_numpy(bool)
    if len(reviewed) < settings.min_reviewed or verdicts.all() or not verdicts.any():
        return flagged, {"used": False, "pulled_in": 0, "estimated_precision": None}
    rows = pd.Index(scored["crime_id"]).get_indexer(reviewed["crime_id"])
    if (rows < 0).any():
        raise ValueError("reviewed crimes missing from the screened crimes")
    model = fit_review_model(x[rows], verdicts, settings.penalty_c)
    probability = model.predict_proba(x)[:, 1]
    below = in_quarter & (levels >= min(bands)) & (levels < threshold)
    pulled = below & (probability >= settings.cut)
    said: dict[str, Any] = {"used": True, "pulled_in": int(pulled.sum())}
    if estimate:
        held_out = cross_validated_probability(x[rows], verdicts, settings.penalty_c)
        selected = (reviewed["band_floor"].to_numpy() < threshold) & (held_out >= settings.cut)
        said["estimated_precision"] = estimated_precision(reviewed, selected, threshold)
        said["points_added"] = points_by_indicator(model)
    return flagged | pulled, said


def reranked_run(
    scored: pd.DataFrame,
    hidden: set[str],
    evaluated: list[str],
    settings: ReviewModelSettings,
    bands: list[int],
    per_band: int,
    threshold: int,
    seed: int,
    samples: dict[str, pd.DataFrame] | None = None,
    estimate: bool = True,
) -> tuple[set[str], list[dict[str, Any]]]:
    """The crimes flagged over the evaluated quarters, each quarter re-ranked by the model of
    its previous quarters' review samples (drawn as the pipeline draws them, `seed`, the
    verdicts the truth); `samples` caches the draws between settings."""
    scored = scored.reset_index(drop=True)
    levels = flag_level(scored).to_numpy()
    x = features(scored, levels)
    quarters = sorted(scored["reported_quarter"].dropna().unique())
    samples = {} if samples is None else samples
    flagged = np.zeros(len(scored), dtype=bool)
    said = []
    for quarter in evaluated:
        before = [q for q in quarters if q < quarter][-settings.quarters :]
        for q in before:
            if q not in samples:
                crimes = scored.loc[scored["reported_quarter"] == q, ["crime_id"]].assign(
                    flag_level=levels[(scored["reported_quarter"] == q).to_numpy()]
                )
                drawn = draw_review_sample(crimes, q, bands, per_band, seed)
                samples[q] = drawn.assign(verdict=drawn["crime_id"].isin(hidden))
        reviewed = (
            pd.concat([samples[q] for q in before], ignore_index=True)
            if before
            else pd.DataFrame(columns=["crime_id", "verdict"])
        )
        in_quarter, told = reranked_quarter(
            scored, levels, x, reviewed, quarter, settings, bands, threshold, estimate
        )
        flagged |= in_quarter
        said.append({"quarter": quarter, **told})
    return set(scored.loc[flagged, "crime_id"]), said


def review_model_figures(
    scored: pd.DataFrame,
    hidden: set[str],
    last_quarter: str,
    settings: ReviewModelSettings,
    bands: list[int],
    per_band: int,
    threshold: int,
    draws: int = DRAWS,
    cache: dict[int, dict[str, pd.DataFrame]] | None = None,
    estimate: bool = True,
) -> dict[str, Any]:
    """The re-ranked screen's precision and recall on the last EVALUATED_QUARTERS quarters over
    `draws` draws (mean, min, max), the estimate it would have said beside the truth, and the
    configured threshold on the same crimes."""
    quarters = sorted(q for q in scored["reported_quarter"].dropna().unique() if q <= last_quarter)
    evaluated = quarters[-EVALUATED_QUARTERS:]
    in_scope = scored[scored["reported_quarter"].isin(evaluated)]
    truth = hidden & set(in_scope["crime_id"])
    levels = flag_level(in_scope)
    configured = precision_recall(set(in_scope.loc[levels >= threshold, "crime_id"]), truth)
    cache = {} if cache is None else cache
    runs, estimates, used, pulled = [], [], [], []
    for seed in range(1, draws + 1):
        flagged, said = reranked_run(
            scored,
            hidden,
            evaluated,
            settings,
            bands,
            per_band,
            threshold,
            seed,
            cache.setdefault(seed, {}),
            estimate,
        )
        runs.append(precision_recall(flagged, truth))
        estimates += [s["estimated_precision"] for s in said if s.get("estimated_precision")]
        used += [s["used"] for s in said]
        pulled += [s["pulled_in"] for s in said]

    return {
        "evaluated_quarters": evaluated,
        "draws": draws,
        "settings": settings.__dict__,
        "precision": spread(runs, "precision"),
        "recall": spread(runs, "recall"),
        "flagged": round(float(np.mean([r["predicted"] for r in runs])), 1),
        "found": round(float(np.mean([r["true_positives"] for r in runs])), 1),
        "true": len(truth),
        "pulled_in_per_quarter": round(float(np.mean(pulled)), 2),
        "quarters_model_used": round(float(np.mean(used)), 3),
        "estimated_precision": round(float(np.mean(estimates)), 4) if estimates else None,
        "configured": {"threshold": threshold, **configured},
    }


def pooled(figures: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Mean precision and recall of several parts' crimes together (from their mean counts),
    beside the configured threshold's."""
    flagged = sum(f["flagged"] for f in figures.values())
    found = sum(f["found"] for f in figures.values())
    true = sum(f["true"] for f in figures.values())
    c_flagged = sum(f["configured"]["predicted"] for f in figures.values())
    c_found = sum(f["configured"]["true_positives"] for f in figures.values())
    return {
        "precision": round(found / flagged, 4) if flagged else 1.0,
        "recall": round(found / true, 4) if true else 1.0,
        "configured_precision": round(c_found / c_flagged, 4) if c_flagged else 1.0,
        "configured_recall": round(c_found / true, 4) if true else 1.0,
    }


def choose_review_model(
    parts: dict[str, tuple[pd.DataFrame, set[str]]],
    last_quarter: str,
    bands: list[int],
    per_band: int,
    threshold: int,
) -> dict[str, Any]:
    """The penalty, cut and quarters pooled, chosen on the held-in parts only (GRID_DRAWS
    draws): the highest pooled recall among the settings whose pooled precision is at most
    PRECISION_GIVE below the configured threshold's and every part's at TARGET_PRECISION or
    more; none such: the configured threshold alone (chosen None)."""
    caches: dict[str, dict[int, dict[str, pd.DataFrame]]] = {name: {} for name in parts}
    rows = []
    for quarters in GRID["quarters"]:
        for penalty_c in GRID["penalty_c"]:
            for cut in GRID["cut"]:
                settings = ReviewModelSettings(penalty_c=penalty_c, cut=cut, quarters=quarters)
                figures = {
                    name: review_model_figures(
                        scored,
                        hidden,
                        last_quarter,
                        settings,
                        bands,
                        per_band,
                        threshold,
                        GRID_DRAWS,
                        caches[name],
                        estimate=False,  # the choice reads the truth, not the estimate
                    )
                    for name, (scored, hidden) in parts.items()
                }
                rows.append(
                    {
                        "settings": settings.__dict__,
                        "pooled": pooled(figures),
                        "precision": {n: f["precision"]["mean"] for n, f in figures.items()},
                        "recall": {n: f["recall"]["mean"] for n, f in figures.items()},
                    }
                )
    eligible = [
        r
        for r in rows
        if r["pooled"]["precision"] >= r["pooled"]["configured_precision"] - PRECISION_GIVE
        and min(r["precision"].values()) >= TARGET_PRECISION
        and r["pooled"]["recall"] > r["pooled"]["configured_recall"]
    ]
    chosen = max(
        eligible,
        key=lambda r: (r["pooled"]["recall"], r["pooled"]["precision"]),
        default=None,
    )
    return {"parts": list(parts), "draws": GRID_DRAWS, "grid": GRID, "chosen": chosen, "rows": rows}


def settings_of(row: dict[str, Any]) -> ReviewModelSettings:
    return ReviewModelSettings(**row["settings"])


def points_by_indicator(model: LogisticRegression) -> dict[str, float]:
    """What the model adds to each indicator's configured points, in points: its coefficient
    over the flag level's per point (nonzero ones, rounded to a tenth), so the review sample
    and the profile can say why a crime was pulled in."""
    per_point = model.coef_[0][0] * LEVEL_SCALE
    if per_point <= 0:
        return {}
    added = model.coef_[0][1:] / per_point
    return {
        name: round(float(value), 1)
        for name, value in zip(WEIGHT_COLUMNS, added, strict=True)
        if round(float(value), 1) != 0
    }


HELD_IN = ("held_in", "independent_held_in")
HELD_OUT = ("held_out", "held_out_unnamed", "independent")


def main(argv: list[str] | None = None) -> int:
    """Choose the settings on the held-in parts of a screening evaluation's --work folder, then
    read every part once with them; writes review_model.json to --out."""
    import argparse
    import json
    from pathlib import Path

    from pipelines.evaluation.screening import hidden_crimes, read
    from pipelines.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, help="a screening evaluation's --work folder")
    parser.add_argument("--out", required=True, help="folder for review_model.json")
    parser.add_argument("--end-quarter", default="2026-Q3")
    parser.add_argument("--draws", type=int, default=DRAWS, help="draws of the review samples")
    args = parser.parse_args(argv)
    work = Path(args.work)
    screening = load_settings().screening
    bands, per_band = screening.calibration.bands, screening.calibration.per_band

    def part(name: str) -> tuple[pd.DataFrame, set[str]]:
        warehouse = work / name / "warehouse.duckdb"
        scored = read(warehouse, "select * from intermediate.int_screening_scored")
        return scored, hidden_crimes(work / name / "extracts", warehouse)

    choice = choose_review_model(
        {name: part(name) for name in HELD_IN},
        args.end_quarter,
        bands,
        per_band,
        screening.threshold,
    )
    report: dict[str, Any] = {"choice": choice, "parts": {}}
    if choice["chosen"] is not None:
        for name in (*HELD_IN, *HELD_OUT):
            scored, hidden = part(name)
            report["parts"][name] = review_model_figures(
                scored,
                hidden,
                args.end_quarter,
                settings_of(choice["chosen"]),
                bands,
                per_band,
                screening.threshold,
                args.draws,
            )
        report["held_out_pooled"] = pooled({n: report["parts"][n] for n in HELD_OUT})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "review_model.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "choice"}, indent=1, default=str))
    print("chosen:", choice["chosen"])
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
