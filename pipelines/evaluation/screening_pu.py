"""Screening taught by the force's own recorded stalking: positive-unlabelled learning
(evaluation only).

Every force records a share of its stalking as stalking. Those crimes are positives the
pipeline has for free, in the force's own recording habits. Here a classifier learns
"recorded as stalking" against the screened crimes (the unlabelled: hidden stalking among
harassment and the rest) from features that do not reveal the recording itself: no offence
code or category, nothing computed from the crime's own classification (the pair's, the
victim's and the suspect's recorded stalking count other crimes only). Under the "recorded at
random" view (Elkan & Noto 2008) P(stalking | x) = P(recorded | x) / c, c the mean score of
held-out positives. The view is violated (what a force records as stalking differs from what
it hides); the question is only whether the ranking helps the points find more hidden crimes
at precision >= 0.85.

Each crime is scored by a model that never saw it (cross-fitting, `FOLDS` folds), as the
pipeline would have to: the unlabelled crimes are the negatives the model is fitted on. The
score joins the configured points as one extra indicator ("the force's own recorded stalking
looks like this crime": probability >= `cut`, `points` points); its cut and points are chosen
on the held-in parts (nested cross-validation inside them judges the choice) and read once on
the held-out parts.

Read held out once, it lost (docs/evaluation/screening.md, session 31's note): the estimate's
c holds on the independent force and is 0.6-0.7 of the recorded share on our generator, whose
pull-ins were then stalking a third of the time. Nothing of it runs in the pipeline.

`python -m pipelines.evaluation.screening_pu --held-in DIR... [--held-out DIR...] --out DIR`
reads the part folders of a screening evaluation (pipelines.evaluation.screening --work: each
part's warehouse.duckdb and extracts/truth).
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.evaluation.screening import (
    IS_HISTORY,
    WEIGHT_COLUMNS,
    has_course,
    indicator_matrix,
)

FOLDS = 5
TARGET_PRECISION = 0.85
# the held-in choice may give up this much pooled precision against the configured points
PRECISION_GIVE = 0.005
CUTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
POINTS = (1, 2, 3, 4, 5, 6, 8)
LOW_CUTS = (0.02, 0.05, 0.1, 0.2)
LOW_POINTS = (1, 2, 4)
# "mean": the two models' probabilities averaged (each calibrated by its own c)
MODELS = ("logistic", "boosting", "mean")


@dataclass(frozen=True)
class FeatureWindows:
    """The windows the features count over (the screening settings' own)."""

    course_days: int = 365  # screening.course_window_days
    intense_days: int = 90  # screening.intense_window_days
    history_days: int = 1095  # screening.suspect_history_days


def _sql_list(values: list[str]) -> str:
    return "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + ")"


def feature_sql(categories: list[str], use_included: bool, windows: FeatureWindows) -> str:
    """One row per crime that is either screened (a screened category, not stalking by
    classification) or recorded as stalking (principal, or included where the settings count
    included classifications): `is_recorded` the PU label, `is_screened` the unlabelled, and
    the features. Pair, victim and suspect counts read the other crimes only, so a recorded
    crime's own classification never enters its features."""
    recorded = "is_principal_stalking" + (" or has_included_stalking" if use_included else "")
    return f"""
with
crimes as (
    select
        crime_id,
        occasion_date,
        coalesce({recorded}, false) as is_recorded,
        offence_category in {_sql_list(categories)} and not coalesce({recorded}, false)
            as is_screened,
        coalesce(is_online, false) as is_online,
        coalesce(risk_level = 'high', false) as is_high_risk,
        coalesce(risk_level = 'medium', false) as is_medium_risk,
        risk_level is null as is_ungraded,
        coalesce(is_domestic_abuse, false) as is_domestic_abuse,
        coalesce(location_type = 'dwelling', false) as at_dwelling,
        coalesce(location_type = 'street', false) as at_street,
        coalesce(location_type = 'workplace', false) as at_workplace,
        greatest(coalesce(date_diff('day', offence_start, offence_end), 0), 0)
            as offence_span_days,
        coalesce(offence_end > offence_start, false) as is_over_period
    from intermediate.int_crimes_classified
),
base as (select * from crimes where is_recorded or is_screened),
people as (select * from intermediate.int_crime_persons_resolved),
record as (
    select
        base.crime_id,
        coalesce(bool_or(p.role_side = 'perpetrator' and p.relationship_to_victim = 'ex_partner'),
            false) as is_ex_partner,
        coalesce(bool_or(p.role_side = 'perpetrator'
            and p.relationship_to_victim in ('partner', 'family')), false) as is_family_partner,
        coalesce(bool_or(p.role_side = 'perpetrator'
            and p.relationship_to_victim = 'stranger'), false) as is_stranger,
        coalesce(bool_or(p.role_side = 'perpetrator' and p.is_named), false) as names_suspect
    from base
    left join people p on base.crime_id = p.crime_id
    group by base.crime_id
),
linked as (
    select crime_id, count(*) as linked_stalking_intelligence
    from intermediate.int_intelligence_resolved
    where is_stalking_related and crime_id is not null
    group by crime_id
),
pairs as (
    select distinct base.crime_id, base.occasion_date, cp.suspect_person_key,
        cp.victim_person_key
    from base
    inner join intermediate.int_crime_pairs cp on base.crime_id = cp.crime_id
    where cp.suspect_person_key is not null and cp.victim_person_key is not null
),
occasions as (
    select o.*, coalesce(o.crime_id, o.occasion_id) as occasion_key,
        coalesce(c.is_recorded, false) as other_recorded,
        coalesce(c.is_high_risk, false) as other_high_risk,
        coalesce(c.is_medium_risk or c.is_high_risk, false) as other_graded,
        coalesce(c.is_over_period, false) as other_over_period
    from intermediate.int_screening_course_occasions o
    left join crimes c on o.crime_id = c.crime_id and o.occasion_kind = 'crime'
),
pair_occasions as (
    select pairs.crime_id, pairs.suspect_person_key, pairs.victim_person_key,
        o.occasion_key, o.occasion_kind, o.occasion_date, o.offence_category,
        o.is_online, o.is_stalking_intelligence, o.other_recorded, o.other_high_risk,
        o.other_graded, o.other_over_period,
        o.occasion_key = pairs.crime_id as is_self,
        abs(date_diff('day', pairs.occasion_date, o.occasion_date)) as days_apart
    from pairs
    inner join occasions o
        on pairs.suspect_person_key = o.suspect_person_key
        and pairs.victim_person_key = o.victim_person_key
    where abs(date_diff('day', pairs.occasion_date, o.occasion_date)) <= {windows.history_days}
),
per_pair as (
    select crime_id, suspect_person_key, victim_person_key,
        count(distinct occasion_key) filter (where days_apart <= {windows.course_days})
            as pair_occasions,
        count(distinct occasion_key) filter (where days_apart <= {windows.intense_days})
            as pair_occasions_intense,
        coalesce(date_diff('day',
            min(occasion_date) filter (where days_apart <= {windows.course_days}),
            max(occasion_date) filter (where days_apart <= {windows.course_days})), 0)
            as pair_span_days,
        count(distinct offence_category)
            filter (where days_apart <= {windows.course_days} and not is_self
                and occasion_kind = 'crime') as pair_other_categories,
        count(distinct occasion_key) filter (where not is_self and other_recorded)
            as pair_other_recorded,
        count(distinct occasion_key)
            filter (where days_apart <= {windows.course_days} and is_stalking_intelligence)
            as pair_stalking_intelligence,
        count(distinct occasion_key)
            filter (where days_apart <= {windows.course_days} and not is_self and is_online)
            as pair_other_online,
        count(distinct occasion_key)
            filter (where days_apart <= {windows.course_days} and not is_self
                and other_high_risk) as pair_other_high_risk,
        count(distinct occasion_key)
            filter (where days_apart <= {windows.course_days} and not is_self and other_graded)
            as pair_other_graded,
        count(distinct occasion_key)
            filter (where days_apart <= {windows.course_days} and not is_self
                and other_over_period) as pair_other_over_period
    from pair_occasions
    group by all
),
pair_features as (
    select crime_id,
        max(pair_occasions) as pair_occasions,
        max(pair_occasions_intense) as pair_occasions_intense,
        max(pair_span_days) as pair_span_days,
        max(pair_other_categories) as pair_other_categories,
        max(pair_other_recorded) as pair_other_recorded,
        max(pair_stalking_intelligence) as pair_stalking_intelligence,
        max(pair_other_online) as pair_other_online,
        max(pair_other_high_risk) as pair_other_high_risk,
        max(pair_other_graded) as pair_other_graded,
        max(pair_other_over_period) as pair_other_over_period
    from per_pair
    group by crime_id
),
victims as (
    select distinct base.crime_id, base.occasion_date, p.person_key
    from base
    inner join people p on base.crime_id = p.crime_id
    where p.role_side = 'victim' and p.person_key is not null
),
victim_crimes as (
    select distinct p.person_key, c.crime_id, c.occasion_date, c.is_recorded
    from people p
    inner join crimes c on p.crime_id = c.crime_id
    where p.role_side = 'victim' and p.person_key is not null
),
victim_features as (
    select v.crime_id,
        count(distinct vc.crime_id) filter (where vc.crime_id <> v.crime_id
            and abs(date_diff('day', v.occasion_date, vc.occasion_date))
                <= {windows.course_days}) as victim_other_crimes,
        count(distinct vc.crime_id) filter (where vc.crime_id <> v.crime_id and vc.is_recorded
            and abs(date_diff('day', v.occasion_date, vc.occasion_date))
                <= {windows.course_days}) as victim_other_recorded
    from victims v
    left join victim_crimes vc on v.person_key = vc.person_key
    group by v.crime_id
),
victim_intelligence as (
    select v.crime_id, count(distinct i.intel_id) as victim_stalking_intelligence
    from victims v
    inner join intermediate.int_intelligence_resolved i
        on v.person_key = i.victim_person_key
        and i.is_stalking_related
        and abs(date_diff('day', v.occasion_date, i.submitted_date)) <= {windows.course_days}
    group by v.crime_id
),
suspect_pairs as (
    select distinct cp.suspect_person_key, cp.victim_person_key, cp.crime_id, c.occasion_date,
        c.is_recorded
    from intermediate.int_crime_pairs cp
    inner join crimes c on cp.crime_id = c.crime_id
    where cp.suspect_person_key is not null and cp.victim_person_key is not null
),
suspect_features as (
    select pairs.crime_id,
        count(distinct sp.victim_person_key) filter (where abs(date_diff('day',
            pairs.occasion_date, sp.occasion_date)) <= {windows.course_days})
            as suspect_other_victims,
        count(distinct sp.crime_id) filter (where sp.is_recorded)
            as suspect_other_victim_recorded
    from pairs
    inner join suspect_pairs sp
        on pairs.suspect_person_key = sp.suspect_person_key
        and pairs.victim_person_key <> sp.victim_person_key
        and abs(date_diff('day', pairs.occasion_date, sp.occasion_date))
            <= {windows.history_days}
    group by pairs.crime_id
)
select
    base.crime_id, base.is_recorded, base.is_screened,
    base.is_online, base.is_high_risk, base.is_medium_risk, base.is_ungraded,
    base.is_domestic_abuse, base.at_dwelling, base.at_street, base.at_workplace,
    base.offence_span_days, base.is_over_period,
    record.is_ex_partner, record.is_family_partner, record.is_stranger, record.names_suspect,
    coalesce(linked.linked_stalking_intelligence, 0) as linked_stalking_intelligence,
    coalesce(pf.pair_occasions, 1) as pair_occasions,
    coalesce(pf.pair_occasions_intense, 1) as pair_occasions_intense,
    coalesce(pf.pair_span_days, 0) as pair_span_days,
    coalesce(pf.pair_other_categories, 0) as pair_other_categories,
    coalesce(pf.pair_other_recorded, 0) as pair_other_recorded,
    coalesce(pf.pair_stalking_intelligence, 0) as pair_stalking_intelligence,
    coalesce(pf.pair_other_online, 0) as pair_other_online,
    coalesce(pf.pair_other_high_risk, 0) as pair_other_high_risk,
    coalesce(pf.pair_other_graded, 0) as pair_other_graded,
    coalesce(pf.pair_other_over_period, 0) as pair_other_over_period,
    coalesce(vf.victim_other_crimes, 0) as victim_other_crimes,
    coalesce(vf.victim_other_recorded, 0) as victim_other_recorded,
    coalesce(vi.victim_stalking_intelligence, 0) as victim_stalking_intelligence,
    coalesce(sf.suspect_other_victims, 0) as suspect_other_victims,
    coalesce(sf.suspect_other_victim_recorded, 0) as suspect_other_victim_recorded
from base
left join record on base.crime_id = record.crime_id
left join linked on base.crime_id = linked.crime_id
left join pair_features pf on base.crime_id = pf.crime_id
left join victim_features vf on base.crime_id = vf.crime_id
left join victim_intelligence vi on base.crime_id = vi.crime_id
left join suspect_features sf on base.crime_id = sf.crime_id
order by base.crime_id
"""


# the counts enter the models as log(1 + n): a course of 40 occasions is not 20 times one of 2
COUNT_FEATURES = (
    "offence_span_days",
    "linked_stalking_intelligence",
    "pair_occasions",
    "pair_occasions_intense",
    "pair_span_days",
    "pair_other_categories",
    "pair_other_recorded",
    "pair_stalking_intelligence",
    "pair_other_online",
    "pair_other_high_risk",
    "pair_other_graded",
    "pair_other_over_period",
    "victim_other_crimes",
    "victim_other_recorded",
    "victim_stalking_intelligence",
    "suspect_other_victims",
    "suspect_other_victim_recorded",
)
FLAG_FEATURES = (
    "is_online",
    "is_high_risk",
    "is_medium_risk",
    "is_ungraded",
    "is_domestic_abuse",
    "at_dwelling",
    "at_street",
    "at_workplace",
    "is_over_period",
    "is_ex_partner",
    "is_family_partner",
    "is_stranger",
    "names_suspect",
)
FEATURES = FLAG_FEATURES + COUNT_FEATURES


def read_features(
    warehouse: Path, categories: list[str], use_included: bool, windows: FeatureWindows
) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(feature_sql(categories, use_included, windows)).df()


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    flags_part = frame[list(FLAG_FEATURES)].astype(float).to_numpy()
    counts = np.log1p(frame[list(COUNT_FEATURES)].astype(float).clip(lower=0).to_numpy())
    return np.column_stack([flags_part, counts])


def make_model(kind: str, seed: int = 0) -> Any:
    if kind == "logistic":
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200)
        )
    if kind == "boosting":
        return HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.05,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            random_state=seed,
        )
    raise ValueError(f"unknown PU model {kind!r}: one of {MODELS}")


def cross_fitted_scores(
    x: np.ndarray, labelled: np.ndarray, kind: str, folds: int = FOLDS, seed: int = 0
) -> np.ndarray:
    """P(recorded | x) for every row from a model fitted without it (stratified folds)."""
    from threadpoolctl import threadpool_limits

    out = np.empty(len(labelled))
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, labelled)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for train, test in splits:
            model = make_model(kind, seed).fit(x[train], labelled[train])
            out[test] = model.predict_proba(x[test])[:, 1]
    return out


def pu_probability(scores: np.ndarray, labelled: np.ndarray) -> tuple[np.ndarray, float]:
    """Elkan & Noto's estimate: P(stalking | x) = P(recorded | x) / c, c the mean
    cross-fitted score of the recorded crimes (each scored by a model that never saw it);
    clipped to 1."""
    c = float(scores[labelled].mean()) if labelled.any() else 1.0
    return np.minimum(scores / c, 1.0), c


def score_part(features: pd.DataFrame, kind: str, seed: int = 0) -> tuple[pd.Series, float]:
    """The screened crimes' PU probability (crime_id index) and c (for "mean": the two c's
    mean)."""
    x = feature_matrix(features)
    labelled = features["is_recorded"].to_numpy(bool)
    kinds = ("logistic", "boosting") if kind == "mean" else (kind,)
    estimates = [
        pu_probability(cross_fitted_scores(x, labelled, each, seed=seed), labelled)
        for each in kinds
    ]
    probability = np.mean([p for p, _ in estimates], axis=0)
    c = float(np.mean([c for _, c in estimates]))
    screened = features["is_screened"].to_numpy(bool)
    return pd.Series(probability[screened], index=features.loc[screened, "crime_id"]), c


# ---------------------------------------------------------------- joining the points
def configured_points(weights: dict[str, int]) -> np.ndarray:
    return np.array([weights[name] for name in WEIGHT_COLUMNS], dtype=np.int32)


@dataclass(frozen=True)
class Join:
    """How the PU probability joins the points: a crime whose probability reaches `cut` scores
    `points` more; one whose probability is below `low_cut` scores `low_points` fewer (the
    force's recorded stalking looks nothing like it). Points 0 switch a side off."""

    cut: float = 1.0
    points: int = 0
    low_cut: float = 0.0
    low_points: int = 0


CONFIGURED = Join()


def grid(demote: bool = True) -> list[Join]:
    """Every join searched, the simpler first: the raise alone, then with a demotion of the
    lowest probabilities."""
    raises = [Join(cut, points) for cut in CUTS for points in POINTS]
    if not demote:
        return raises
    return raises + [
        Join(cut, points, low_cut, low_points)
        for cut in CUTS
        for points in (0, *POINTS)
        for low_cut in LOW_CUTS
        for low_points in LOW_POINTS
    ]


def flagged_with_pu(
    indicators: np.ndarray,
    course: np.ndarray,
    points: np.ndarray,
    threshold: int,
    probability: np.ndarray,
    join: Join,
) -> np.ndarray:
    """int_screening_scored's flag rule (pipelines.evaluation.screening.flags) with the PU
    indicators added. They are signals about this crime and its victim, not the suspect's
    history with others, so they count towards the score without that history too. Join()
    is the configured screen."""
    extra = (probability >= join.cut) * join.points - (probability < join.low_cut) * join.low_points
    score = indicators @ points + extra
    history = indicators[:, IS_HISTORY] @ points[IS_HISTORY]
    return (score >= threshold) & (course | (score - history >= threshold))


@dataclass
class Part:
    """One force's screened crimes: indicators, course test, PU probability, truth."""

    name: str
    indicators: np.ndarray
    course: np.ndarray
    probability: np.ndarray
    hidden: np.ndarray
    is_repeated: np.ndarray


Counts = tuple[int, int, int]  # crimes flagged, flagged and hidden, hidden


def counts(part: Part, flagged: np.ndarray, rows: np.ndarray | None = None) -> Counts:
    """(flagged, flagged and hidden, hidden) over `rows` (all by default)."""
    if rows is None:
        rows = np.ones(len(flagged), bool)
    return (
        int(flagged[rows].sum()),
        int((flagged & part.hidden)[rows].sum()),
        int(part.hidden[rows].sum()),
    )


def pooled(each: list[Counts]) -> Counts:
    return (sum(c[0] for c in each), sum(c[1] for c in each), sum(c[2] for c in each))


def precision_recall(total: Counts) -> tuple[float, float]:
    flagged, hits, hidden = total
    return (hits / flagged if flagged else 1.0, hits / hidden if hidden else 1.0)


def every_join_flags(
    parts: list[Part], joins: list[Join], points: np.ndarray, threshold: int
) -> list[np.ndarray]:
    """Per part, a (joins x crimes) array of the flags each join gives."""
    return [
        np.vstack(
            [
                flagged_with_pu(p.indicators, p.course, points, threshold, p.probability, j)
                for j in joins
            ]
        )
        for p in parts
    ]


def choose(
    parts: list[Part],
    rows: list[np.ndarray],
    joins: list[Join],
    flagged: list[np.ndarray],
    configured: list[np.ndarray],
) -> Join:
    """The join (of `joins`, their flags precomputed in `flagged`) with the highest pooled
    recall over `rows` of the parts, among those whose pooled precision falls no more than
    PRECISION_GIVE below the configured screen's (`configured`: its flags) and whose every
    part keeps precision >= TARGET_PRECISION (or the configured precision, where that is
    lower); the configured screen when none qualifies or none gains. Ties go to the earlier
    join (the grid lists the simpler first)."""
    base = [counts(p, f, r) for p, f, r in zip(parts, configured, rows, strict=True)]
    base_precision, best_recall = precision_recall(pooled(base))
    floors = [min(TARGET_PRECISION, precision_recall(b)[0]) for b in base]
    hidden = [p.hidden & r for p, r in zip(parts, rows, strict=True)]
    # every join's counts at once: (joins,) arrays per part
    each_flagged = [f[:, r].sum(axis=1) for f, r in zip(flagged, rows, strict=True)]
    each_hits = [(f & h).sum(axis=1) for f, h in zip(flagged, hidden, strict=True)]
    total_flagged = np.sum(each_flagged, axis=0)
    total_hits = np.sum(each_hits, axis=0)
    total_hidden = sum(int(h.sum()) for h in hidden)
    best = CONFIGURED
    for k, join in enumerate(joins):
        if not total_flagged[k]:
            continue
        precision = total_hits[k] / total_flagged[k]
        recall = total_hits[k] / total_hidden
        if precision < base_precision - PRECISION_GIVE or recall <= best_recall + 1e-9:
            continue
        if any(
            (hits[k] / flags_k[k] if flags_k[k] else 1.0) < floor
            for hits, flags_k, floor in zip(each_hits, each_flagged, floors, strict=True)
        ):
            continue
        best, best_recall = join, recall
    return best


def fold_assignment(part: Part, folds: int, seed: int) -> np.ndarray:
    """Each crime's fold, stratified by truth."""
    assignment = np.empty(len(part.hidden), int)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(part.hidden)), part.hidden)):
        assignment[test] = k
    return assignment


def nested_cv(
    parts: list[Part],
    points: np.ndarray,
    threshold: int,
    joins: list[Join],
    folds: int = FOLDS,
    seed: int = 0,
) -> dict[str, Any]:
    """The choice judged honestly: each fold's crimes (stratified by truth, per part) are
    flagged with the join chosen on the other folds; the out-of-fold flags are the figures."""
    fold_of = [fold_assignment(p, folds, seed) for p in parts]
    flagged = every_join_flags(parts, joins, points, threshold)
    configured = [
        flagged_with_pu(p.indicators, p.course, points, threshold, p.probability, CONFIGURED)
        for p in parts
    ]
    out = [np.zeros(len(p.hidden), bool) for p in parts]
    choices = []
    for k in range(folds):
        join = choose(parts, [f != k for f in fold_of], joins, flagged, configured)
        choices.append(join)
        index = joins.index(join) if join in joins else None
        for i in range(len(parts)):
            chosen = flagged[i][index] if index is not None else configured[i]
            out[i][fold_of[i] == k] = chosen[fold_of[i] == k]
    return {"choices": choices, "flags": out, "configured": configured}


# ---------------------------------------------------------------- the parts
def load_part(folder: Path, kind: str, seed: int = 0) -> tuple[Part, dict[str, Any]]:
    """A screening evaluation's part folder (warehouse.duckdb, extracts/truth) as a Part, the
    PU model `kind` fitted on its own crimes; with what the model saw (c, crimes, AUC)."""
    from sklearn.metrics import roc_auc_score

    from pipelines.evaluation.screening import hidden_crimes, read
    from pipelines.settings import load_settings

    settings = load_settings()
    screening = settings.screening
    warehouse = folder / "warehouse.duckdb"
    features = read_features(
        warehouse,
        list(screening.candidate_categories),
        settings.stalking_universe.use_included_classifications,
        FeatureWindows(
            screening.course_window_days,
            screening.intense_window_days,
            screening.suspect_history_days,
        ),
    )
    probability, c = score_part(features, kind, seed)
    scored = read(warehouse, "select * from intermediate.int_screening_scored order by crime_id")
    missing = set(scored["crime_id"]) - set(probability.index)
    if missing:
        raise ValueError(f"{folder}: {len(missing)} screened crimes have no PU features")
    hidden = scored["crime_id"].isin(hidden_crimes(folder / "extracts", warehouse)).to_numpy()
    part = Part(
        name=folder.name,
        indicators=indicator_matrix(scored),
        course=has_course(scored),
        probability=probability.reindex(scored["crime_id"]).to_numpy(),
        hidden=hidden,
        is_repeated=scored["is_repeated"].astype("boolean").fillna(False).to_numpy(bool),
    )
    about = {
        "part": folder.name,
        "model": kind,
        "c": round(c, 4),
        "recorded": int(features["is_recorded"].sum()),
        "screened": int(features["is_screened"].sum()),
        "hidden": int(hidden.sum()),
        "auc_hidden_among_screened": round(float(roc_auc_score(hidden, part.probability)), 4),
    }
    return part, about


# ---------------------------------------------------------------- choice and read
def figures(part: Part, flagged: np.ndarray) -> dict[str, Any]:
    total = counts(part, flagged)
    precision, recall = precision_recall(total)
    return {
        "flagged": total[0],
        "found": total[1],
        "hidden": total[2],
        "precision": round(precision, 4),
        "recall": round(recall, 4),
    }


def pooled_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    flagged = sum(r["flagged"] for r in rows)
    found = sum(r["found"] for r in rows)
    hidden = sum(r["hidden"] for r in rows)
    return {
        "flagged": flagged,
        "found": found,
        "hidden": hidden,
        "precision": round(found / flagged if flagged else 1.0, 4),
        "recall": round(found / hidden if hidden else 1.0, 4),
    }


def ship_rule(candidate: list[dict[str, Any]], configured: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule written before the held-out read: pooled recall up >= 0.01, pooled precision
    down <= 0.01, no part whose configured precision is >= 0.85 falling below 0.85."""
    new, old = pooled_figures(candidate), pooled_figures(configured)
    recall_gain = round(new["recall"] - old["recall"], 4)
    precision_loss = round(old["precision"] - new["precision"], 4)
    guarded = [
        c["precision"] >= TARGET_PRECISION
        for c, o in zip(candidate, configured, strict=True)
        if o["precision"] >= TARGET_PRECISION
    ]
    clauses = {
        "recall_up_0_01": recall_gain >= 0.01,
        "precision_down_at_most_0_01": precision_loss <= 0.01,
        "no_part_falls_below_0_85": all(guarded),
    }
    return {
        "recall_gain": recall_gain,
        "precision_loss": precision_loss,
        **clauses,
        "met": all(clauses.values()),
    }


def screening_settings() -> tuple[np.ndarray, int]:
    from pipelines.settings import load_settings

    screening = load_settings().screening
    return configured_points(dict(screening.weights)), screening.threshold


def held_in_choice(folders: list[Path], seed: int = 0) -> dict[str, Any]:
    """Per model kind: the nested cross-validated figures of the choice and the choice made
    on every held-in crime; the kind kept is the one whose nested pooled recall gains most
    within the precision bounds (none: the configured screen)."""
    points, threshold = screening_settings()
    joins = grid()
    out: dict[str, Any] = {"models": {}}
    best_kind, best_gain = None, 0.0
    for kind in MODELS:
        loaded = [load_part(folder, kind, seed) for folder in folders]
        parts = [part for part, _ in loaded]
        nested = nested_cv(parts, points, threshold, joins, seed=seed)
        configured = [figures(p, f) for p, f in zip(parts, nested["configured"], strict=True)]
        honest = [figures(p, f) for p, f in zip(parts, nested["flags"], strict=True)]
        flagged = every_join_flags(parts, joins, points, threshold)
        every_row = [np.ones(len(p.hidden), bool) for p in parts]
        join = choose(parts, every_row, joins, flagged, nested["configured"])
        in_sample = [
            figures(
                p, flagged_with_pu(p.indicators, p.course, points, threshold, p.probability, join)
            )
            for p in parts
        ]
        pooled_configured, pooled_honest = pooled_figures(configured), pooled_figures(honest)
        gain = pooled_honest["recall"] - pooled_configured["recall"]
        within = pooled_configured["precision"] - pooled_honest[
            "precision"
        ] <= PRECISION_GIVE and all(
            h["precision"] >= min(TARGET_PRECISION, c["precision"])
            for h, c in zip(honest, configured, strict=True)
        )
        out["models"][kind] = {
            "parts": [about for _, about in loaded],
            "configured": configured,
            "nested": honest,
            "nested_choices": [vars(j) for j in nested["choices"]],
            "in_sample_join": vars(join),
            "in_sample": in_sample,
            "baseline_course_of_conduct": [figures(p, p.is_repeated) for p in parts],
            "nested_recall_gain": round(gain, 4),
            "nested_within_precision_bounds": within,
        }
        if within and gain > best_gain:
            best_kind, best_gain = kind, gain
    out["chosen"] = (
        {"model": best_kind, "join": out["models"][best_kind]["in_sample_join"]}
        if best_kind
        else None
    )
    return out


def held_out_read(folders: list[Path], choice: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """The frozen choice read once on the held-out parts, beside the configured points and the
    course-of-conduct baseline, and the ship rule's verdict."""
    points, threshold = screening_settings()
    join = Join(**choice["join"])
    rows = []
    for folder in folders:
        part, about = load_part(folder, choice["model"], seed)
        rows.append(
            {
                **about,
                "candidate": figures(
                    part,
                    flagged_with_pu(
                        part.indicators, part.course, points, threshold, part.probability, join
                    ),
                ),
                "configured": figures(
                    part,
                    flagged_with_pu(
                        part.indicators,
                        part.course,
                        points,
                        threshold,
                        part.probability,
                        CONFIGURED,
                    ),
                ),
                "baseline_course_of_conduct": figures(part, part.is_repeated),
            }
        )
    candidate = [r["candidate"] for r in rows]
    configured = [r["configured"] for r in rows]
    return {
        "choice": choice,
        "parts": rows,
        "pooled": {
            "candidate": pooled_figures(candidate),
            "configured": pooled_figures(configured),
            "baseline_course_of_conduct": pooled_figures(
                [r["baseline_course_of_conduct"] for r in rows]
            ),
        },
        "rule": ship_rule(candidate, configured),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--held-in",
        nargs="+",
        type=Path,
        required=True,
        help="held-in part folders (the choice is made on these only)",
    )
    parser.add_argument(
        "--held-out",
        nargs="*",
        type=Path,
        default=[],
        help="held-out part folders, read once with the frozen choice",
    )
    parser.add_argument(
        "--choice", type=Path, help="a choice.json made before (read it instead of choosing again)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON figures")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.choice:
        choice = json.loads(args.choice.read_text())
    else:
        choice = held_in_choice(args.held_in, args.seed)
        (args.out / "choice.json").write_text(json.dumps(choice, indent=2))
    print(json.dumps({k: v for k, v in choice.items() if k != "models"}, indent=2))
    if args.held_out:
        if not choice.get("chosen"):
            print("no candidate: nested cross-validation found no gain on the held-in parts")
            return 0
        read_out = held_out_read(args.held_out, choice["chosen"], args.seed)
        (args.out / "held_out.json").write_text(json.dumps(read_out, indent=2))
        print(json.dumps({"pooled": read_out["pooled"], "rule": read_out["rule"]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
