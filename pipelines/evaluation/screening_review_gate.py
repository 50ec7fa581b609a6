"""Screening re-ranked by the force's reviewed sample, behind a gate (evaluation only).

Session 26's re-ranking (pipelines.evaluation.screening_review_model) pulled crimes of the
reviewed bands below the threshold into the screen when a logistic model of the review
verdicts (the configured points as its offset) put them at `cut` or more. It found more hidden
crimes held out but lost precision, and its stratified estimate of the precision, read from the
same returns, had warned where it would. Three changes are tried here:

- a gate: a quarter uses the re-ranking only when the returns' own estimate says the crimes it
  pulls in are stalking at `gate` or more (each reviewed crime judged by a model fitted without
  it, each quarter x band a stratum weighted by its crimes), with at least
  MIN_SELECTED_REVIEWED reviewed crimes behind that estimate; else the configured threshold
  alone that quarter;
- a larger review where it teaches: `per_band_low` crimes a band in the bands below the
  threshold (the bands at or above it keep the calibration's `per_band`);
- fewer coefficients: form "groups" gives the model one shrunken correction per indicator
  group (the count of the group's indicators a crime carries) instead of one per indicator
  ("indicators", session 26's form).

Simulated as the threshold calibration is: the reviewer answers from truth; each evaluated
quarter is screened with the model fitted on its previous quarters' samples. The settings are
chosen on the held-in parts only (`choose`), then read once on held-out parts. Session 29's
read on fresh held-out draws passed its ship rule narrowly, the gain all on the independent
force, but later draws read with the choice frozen did not (docs/evaluation/screening.md), so
nothing of it runs in the pipeline.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from pipelines.evaluation import screening_review_model as review_model
from pipelines.evaluation.screening import WEIGHT_COLUMNS, indicator_matrix, precision_recall
from pipelines.screening_calibration import draw_review_sample, flag_level

# The flag level's feature scale: its L2 penalty becomes negligible, so the configured points
# act as the offset the penalised corrections move away from (as in session 26's model).
LEVEL_SCALE = 10.0
EVALUATED_QUARTERS = 8
CV_FOLDS = 5
MIN_REVIEWED = 40
# Fewer reviewed crimes the model would pull in than this: too few to estimate their precision,
# so the gate stays shut.
MIN_SELECTED_REVIEWED = 3
TARGET_PRECISION = 0.85

# One correction per group of indicators that read the same kind of evidence; the groups follow
# where session 28 found the two forces' records disagree (the record's own offence period, the
# online course, risk grading), so a force's reviews can move a group as a whole.
INDICATOR_GROUPS: dict[str, tuple[str, ...]] = {
    "course": (
        "repeated",
        "obsessive",
        "fixated",
        "unwanted",
        "escalation",
        "online_repeated",
        "persistent",
        "varied_intense_course",
    ),
    "recorded_concern": (
        "recorded_stalking",
        "stalking_order",
        "victim_recorded_stalking",
        "linked_intelligence",
        "pair_intelligence",
        "harassment_intelligence",
        "victim_intelligence",
        "repeated_concern",
    ),
    "risk": ("high_risk", "medium_risk", "high_risk_periods"),
    "record_period": ("long_course", "sustained"),
    "relationship": ("ex_partner", "repeat_victim", "unnamed_suspect_course"),
    "suspect_history": ("suspect_stalking", "other_victims"),
}
FORMS = ("indicators", "groups")


@dataclass(frozen=True)
class GatedSettings:
    """One candidate of the gated re-ranking's settings."""

    form: str  # "indicators" (one correction each) or "groups" (one per INDICATOR_GROUPS)
    penalty_c: float  # scikit-learn's C: the inverse of the L2 penalty on the corrections
    cut: float  # the modelled probability a crime below the threshold needs to be pulled in
    quarters: int  # the latest returned quarters before the screened one whose verdicts teach
    per_band_low: int  # reviews a band in the bands below the threshold
    gate: float | None  # estimated precision of the pulled-in crimes needed; None: no gate


def group_matrix(indicators: np.ndarray) -> np.ndarray:
    """The count of each INDICATOR_GROUPS group's indicators a crime carries."""
    names = list(WEIGHT_COLUMNS)
    missing = {n for group in INDICATOR_GROUPS.values() for n in group} ^ set(names)
    if missing:
        raise ValueError(f"indicator groups and weights disagree: {sorted(missing)}")
    return np.column_stack(
        [
            indicators[:, [names.index(n) for n in group]].sum(axis=1)
            for group in INDICATOR_GROUPS.values()
        ]
    )


def features(scored: pd.DataFrame, levels: np.ndarray, form: str) -> np.ndarray:
    """The model's inputs: the flag level (scaled, see LEVEL_SCALE) and the corrections'."""
    indicators = indicator_matrix(scored)
    if form == "groups":
        corrections = group_matrix(indicators)
    elif form == "indicators":
        corrections = indicators
    else:
        raise ValueError(f"unknown form {form!r} (forms: {', '.join(FORMS)})")
    return np.column_stack([levels * LEVEL_SCALE, corrections]).astype(float)


def fit(x: np.ndarray, verdicts: np.ndarray, penalty_c: float) -> LogisticRegression:
    """The penalised logistic model of the verdicts (Newton-Cholesky: deterministic and fast
    on a few hundred reviews, where lbfgs stops short on the scaled flag level)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=penalty_c, solver="newton-cholesky", max_iter=200).fit(
            x, verdicts
        )


def cross_validated(x: np.ndarray, verdicts: np.ndarray, penalty_c: float) -> np.ndarray:
    """Each reviewed crime's probability from a model fitted without it (stratified folds,
    fixed seed; the full model's where a fold would hold a single verdict class)."""
    folds = min(CV_FOLDS, int(verdicts.sum()), int((~verdicts).sum()))
    if folds < 2:
        return fit(x, verdicts, penalty_c).predict_proba(x)[:, 1]
    out = np.empty(len(verdicts))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, verdicts):
        out[test] = fit(x[train], verdicts[train], penalty_c).predict_proba(x[test])[:, 1]
    return out


def stratified_precision(reviewed: pd.DataFrame, selected: np.ndarray) -> tuple[float | None, int]:
    """The precision of the crimes a rule selects, estimated from stratified returns:
    `reviewed` holds quarter, band_floor, band_crimes and verdict; each quarter x band stratum
    counts its crimes times the share of its reviewed crimes selected (and selected and
    stalking). Also the reviewed crimes selected (None below MIN_SELECTED_REVIEWED)."""
    chosen = int(selected.sum())
    if chosen < MIN_SELECTED_REVIEWED:
        return None, chosen
    frame = reviewed.assign(chosen=selected, hit=selected & reviewed["verdict"].to_numpy(bool))
    strata = frame.groupby(["quarter", "band_floor"]).agg(
        crimes=("band_crimes", "max"),
        n=("verdict", "size"),
        chosen=("chosen", "sum"),
        hit=("hit", "sum"),
    )
    flagged = float((strata["crimes"] * strata["chosen"] / strata["n"]).sum())
    stalking = float((strata["crimes"] * strata["hit"] / strata["n"]).sum())
    return (round(stalking / flagged, 4) if flagged > 0 else None), chosen


def draw_sample(
    quarter_crimes: pd.DataFrame,
    quarter: str,
    bands: list[int],
    per_band: int,
    per_band_low: int,
    threshold: int,
    seed: int,
) -> pd.DataFrame:
    """The quarter's review sample, drawn as the pipeline draws it, with `per_band_low` crimes
    a band below the threshold and `per_band` at or above it."""
    low = quarter_crimes["flag_level"] < threshold
    return pd.concat(
        [
            draw_review_sample(
                quarter_crimes[low],
                quarter,
                [b for b in bands if b < threshold],
                per_band_low,
                seed,
            ),
            draw_review_sample(
                quarter_crimes[~low],
                quarter,
                [b for b in bands if b >= threshold],
                per_band,
                seed,
            ),
        ],
        ignore_index=True,
    )


def quarter_candidates(
    x: np.ndarray,
    levels: np.ndarray,
    in_quarter: np.ndarray,
    rows: np.ndarray,
    reviewed: pd.DataFrame,
    settings: GatedSettings,
    cuts: list[float],
    bands: list[int],
    threshold: int,
) -> dict[float, dict[str, Any]] | None:
    """For one quarter and every cut: the crimes the model fitted on `reviewed` (at `rows` of
    x) would pull in from the reviewed bands below the threshold, and the returns' estimate of
    their precision. None when the returns cannot teach (too few, or one verdict only)."""
    verdicts = reviewed["verdict"].to_numpy(bool)
    if len(reviewed) < MIN_REVIEWED or verdicts.all() or not verdicts.any():
        return None
    model = fit(x[rows], verdicts, settings.penalty_c)
    probability = model.predict_proba(x)[:, 1]
    held_out = cross_validated(x[rows], verdicts, settings.penalty_c)
    below = in_quarter & (levels >= min(bands)) & (levels < threshold)
    reviewed_below = reviewed["band_floor"].to_numpy() < threshold
    out = {}
    for cut in cuts:
        estimate, behind = stratified_precision(reviewed, reviewed_below & (held_out >= cut))
        out[cut] = {
            "pulled": below & (probability >= cut),
            "estimate": estimate,
            "behind": behind,
        }
    return out


def gate_open(candidate: dict[str, Any] | None, gate: float | None) -> bool:
    """Whether a quarter uses the re-ranking: the model ran and, with a gate, the returns'
    estimate of the pulled-in crimes' precision reaches it."""
    if candidate is None:
        return False
    if gate is None:
        return True
    return candidate["estimate"] is not None and candidate["estimate"] >= gate


def part_figures(
    scored: pd.DataFrame,
    hidden: set[str],
    last_quarter: str,
    grid: list[GatedSettings],
    bands: list[int],
    per_band: int,
    threshold: int,
    draws: int,
) -> dict[GatedSettings, dict[str, Any]]:
    """Every setting's precision and recall on the part's last EVALUATED_QUARTERS quarters
    (mean, min, max over `draws` draws of the review samples), with the configured threshold
    on the same crimes, the reviews per quarter and how often the gate opened. The cuts and
    gates of one (form, penalty, quarters, per_band_low) share their fits."""
    scored = scored.reset_index(drop=True)
    levels = flag_level(scored).to_numpy()
    reported = scored["reported_quarter"].astype(str).to_numpy()
    quarters = sorted(q for q in set(reported) if q != "None" and q <= last_quarter)
    evaluated = quarters[-EVALUATED_QUARTERS:]
    scope = np.isin(reported, evaluated)
    ids = scored["crime_id"].to_numpy()
    truth = hidden & set(ids[scope])
    base = scope & (levels >= threshold)
    configured = precision_recall(set(ids[base]), truth)
    position = pd.Index(ids)
    xs = {form: features(scored, levels, form) for form in {s.form for s in grid}}
    fits: dict[tuple, list[GatedSettings]] = {}
    for s in grid:
        fits.setdefault((s.form, s.penalty_c, s.quarters, s.per_band_low), []).append(s)
    runs: dict[GatedSettings, list[dict[str, Any]]] = {s: [] for s in grid}
    for (form, _, n_quarters, per_band_low), members in fits.items():
        cuts = sorted({s.cut for s in members})
        for seed in range(1, draws + 1):
            samples: dict[str, pd.DataFrame] = {}
            for q in quarters:
                mask = reported == q
                crimes = pd.DataFrame({"crime_id": ids[mask], "flag_level": levels[mask]})
                drawn = draw_sample(crimes, q, bands, per_band, per_band_low, threshold, seed)
                samples[q] = drawn.assign(verdict=drawn["crime_id"].isin(hidden))
            flagged = {s: base.copy() for s in members}
            opened = {s: 0 for s in members}
            for quarter in evaluated:
                before = [q for q in quarters if q < quarter][-n_quarters:]
                reviewed = pd.concat([samples[q] for q in before], ignore_index=True)
                rows = position.get_indexer(reviewed["crime_id"])
                candidates = quarter_candidates(
                    xs[form],
                    levels,
                    reported == quarter,
                    rows,
                    reviewed,
                    members[0],
                    cuts,
                    bands,
                    threshold,
                )
                for s in members:
                    candidate = None if candidates is None else candidates[s.cut]
                    if gate_open(candidate, s.gate):
                        flagged[s] |= candidate["pulled"]
                        opened[s] += 1
            reviews = float(np.mean([len(samples[q]) for q in evaluated]))
            for s in members:
                runs[s].append(
                    {
                        **precision_recall(set(ids[flagged[s]]), truth),
                        "opened": opened[s] / len(evaluated),
                        "reviews": reviews,
                    }
                )
    return {
        s: {
            "precision": float(np.mean([r["precision"] for r in rs])),
            "recall": float(np.mean([r["recall"] for r in rs])),
            "precision_min": float(min(r["precision"] for r in rs)),
            "flagged": float(np.mean([r["predicted"] for r in rs])),
            "found": float(np.mean([r["true_positives"] for r in rs])),
            "true": len(truth),
            "gate_open_share": float(np.mean([r["opened"] for r in rs])),
            "reviews_per_quarter": float(np.mean([r["reviews"] for r in rs])),
            "configured": configured,
        }
        for s, rs in runs.items()
    }


def pooled(figures: list[dict[str, Any]]) -> dict[str, float]:
    """Precision and recall of several parts' crimes together (mean counts), beside the
    configured threshold's on the same crimes: the review model's pooling, on a list."""
    return review_model.pooled(dict(enumerate(figures)))


def choose(
    by_part: dict[str, dict[GatedSettings, dict[str, Any]]],
    precision_give: float = 0.005,
    recall_gain: float = 0.01,
) -> tuple[GatedSettings | None, list[dict[str, Any]]]:
    """The held-in choice: among settings whose pooled precision is at most `precision_give`
    below the configured threshold's, every part's precision at TARGET_PRECISION or more and
    pooled recall up by `recall_gain` or more, the highest pooled recall; within 0.002 of it,
    the fewest reviews per quarter. None when no setting qualifies."""
    rows = []
    for s in next(iter(by_part.values())):
        figures = [part[s] for part in by_part.values()]
        together = pooled(figures)
        rows.append(
            {
                "settings": s,
                **together,
                "min_precision": min(f["precision"] for f in figures),
                "reviews_per_quarter": float(np.mean([f["reviews_per_quarter"] for f in figures])),
                "eligible": together["precision"]
                >= together["configured_precision"] - precision_give
                and min(f["precision"] for f in figures) >= TARGET_PRECISION
                and together["recall"] >= together["configured_recall"] + recall_gain,
            }
        )
    eligible = [r for r in rows if r["eligible"]]
    if not eligible:
        return None, rows
    best = max(r["recall"] for r in eligible)
    near = [r for r in eligible if r["recall"] >= best - 0.002]
    chosen = min(near, key=lambda r: (r["reviews_per_quarter"], -r["recall"], -r["precision"]))
    return chosen["settings"], rows


def settings_dict(settings: GatedSettings) -> dict[str, Any]:
    return asdict(settings)


# The grid the held-in choice searched (session 29): session 26's penalties and cuts, its
# 4 quarters pooled, the review below the threshold 8 (as configured), 12 or 16 a band, and
# the gate off or at 0.8, 0.85, 0.9.
GRID = [
    GatedSettings(form, penalty_c, cut, 4, per_band_low, gate)
    for form in FORMS
    for penalty_c in (2.0, 10.0, 50.0)
    for per_band_low in (8, 12, 16)
    for cut in (0.5, 0.6, 0.7, 0.8)
    for gate in (None, 0.8, 0.85, 0.9)
]
CHOICE_DRAWS = 5
READ_DRAWS = 20


def main(argv: list[str] | None = None) -> int:
    """Choose the settings on the held-in parts of screening evaluation work folders, then read
    the held-out parts once with them; writes review_gate.json to --out."""
    import argparse
    import json
    from pathlib import Path

    from pipelines.evaluation.screening import hidden_crimes, read
    from pipelines.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-in", required=True, nargs="+", help="part folders (held in)")
    parser.add_argument("--held-out", nargs="*", default=[], help="part folders read once")
    parser.add_argument("--out", required=True, help="folder for review_gate.json")
    parser.add_argument("--end-quarter", default="2026-Q3")
    args = parser.parse_args(argv)
    screening = load_settings().screening
    design = (screening.calibration.bands, screening.calibration.per_band, screening.threshold)

    def figures(folder: str, grid: list[GatedSettings], draws: int) -> dict[GatedSettings, Any]:
        warehouse = Path(folder) / "warehouse.duckdb"
        scored = read(warehouse, "select * from intermediate.int_screening_scored")
        hidden = hidden_crimes(Path(folder) / "extracts", warehouse)
        return part_figures(scored, hidden, args.end_quarter, grid, *design, draws=draws)

    held_in = {Path(f).name: figures(f, GRID, CHOICE_DRAWS) for f in args.held_in}
    chosen, rows = choose(held_in)
    report: dict[str, Any] = {
        "chosen": chosen and settings_dict(chosen),
        "choice": [{**r, "settings": settings_dict(r["settings"])} for r in rows],
        "read": {},
    }
    if chosen is not None:
        for folder in [*args.held_in, *args.held_out]:
            report["read"][Path(folder).name] = figures(folder, [chosen], READ_DRAWS)[chosen]
        names = [Path(f).name for f in args.held_out]
        if names:
            report["held_out_pooled"] = pooled([report["read"][n] for n in names])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "review_gate.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    print("chosen:", chosen)
    print(json.dumps(report.get("held_out_pooled"), indent=1))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
