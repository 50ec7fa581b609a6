"""The one configuration file, loaded and validated once.

Python reads it through `load_settings()`; dbt receives the same values as `--vars`
(see `dbt_vars`). Unknown keys are errors so that a typo in a force's copy cannot be
silently ignored.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    model_validator,
)

from pipelines.yaml_files import load_yaml

DEFAULT_SETTINGS_FILE = Path(__file__).resolve().parent / "config" / "settings.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForceSettings(_Section):
    name: str = "Demo Constabulary (synthetic)"
    area_geojson: str = ""


class DisclosureSettings(_Section):
    min_count: int = Field(5, ge=1)


class RepeatVictimSettings(_Section):
    window_months: int = Field(12, ge=1)
    min_crimes: int = Field(2, ge=2)


class PerpetratorSettings(_Section):
    serial_min_victims: int = Field(2, ge=2)
    serial_lookback_years: int = Field(3, ge=1)
    repeat_min_crimes: int = Field(2, ge=2)
    # Victims count as different people toward "serial" only where their best match
    # probability (person resolution) is below this.
    distinct_victim_max_link_probability: float = Field(0.2, gt=0, lt=1)
    # What establishes a screened victim toward "serial" (settings.yaml says why):
    # "stalking_course", a course against this victim that the pair's own records mark as
    # stalking; "course", any course of the pair (outputs.md's wording: 2+ occasions).
    screened_victim_course: Literal["stalking_course", "course"] = "stalking_course"


class RuleJoinRecord(_Section):
    """Where a rule join (no score) was checked against the truth: of `joins` made, `right`
    joined records of one person."""

    joins: int = Field(ge=1)
    right: int = Field(ge=0)

    @model_validator(mode="after")
    def _right_within_joins(self) -> RuleJoinRecord:
        if self.right > self.joins:
            raise ValueError("a rule's right joins cannot outnumber its joins")
        return self

    @computed_field  # in the dbt vars too: the tasking list prints it
    @property
    def probability(self) -> float:
        """The chance the next join of the rule is right: (right + 1) / (joins + 2), the mean
        of the share under a uniform prior (Laplace's rule of succession), to 4 places. The
        plain share reads certainty (1.0, the surest link) from a finite count."""
        return round((self.right + 1) / (self.joins + 2), 4)


class RuleJoinSettings(_Section):
    measured_on: str
    second_id: RuleJoinRecord
    unknown_suspect: RuleJoinRecord

    def probabilities(self) -> dict[str, float]:
        """Each rule's probability, by the name the evidence gives it (joined_by)."""
        return {
            "second_id": self.second_id.probability,
            "unknown_suspect": self.unknown_suspect.probability,
        }


class PersonSettings(_Section):
    # a list of dates in the YAML alone: the model's default is the file's
    placeholder_dates_of_birth: list[dt.date] = Field(
        default_factory=lambda: [
            dt.date.fromisoformat(day)
            for day in _shipped_section("persons")["placeholder_dates_of_birth"]
        ]
    )


class ResolutionSettings(_Section):
    match_probability_threshold: float = Field(0.5, gt=0, lt=1)
    dob_conflict_years: int = Field(10, ge=1)
    second_id_max_gap_days: int = Field(365, ge=0)
    # measured figures with their provenance: the shipped settings.yaml's (stated once)
    rule_joins: RuleJoinSettings = Field(
        default_factory=lambda: RuleJoinSettings(**_shipped_section("resolution")["rule_joins"])
    )


class HotspotPredictionSettings(_Section):
    area_share: float = Field(0.02, gt=0, lt=1)
    naive_periods: int = Field(1, ge=1)
    train_periods: int = Field(4, ge=1)
    backtest_folds: int = Field(4, ge=1)
    smoothing: list[float] = Field(default_factory=lambda: [0.25, 0.5])
    kde_bandwidths_m: list[float] = Field(default_factory=lambda: [250.0, 500.0, 1000.0])
    ewm_half_lives: list[float] = Field(default_factory=lambda: [1.0, 2.0])
    memory_periods: int = Field(8, ge=1)
    ranker_alpha: float = Field(0.1, gt=0)
    methods: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _naive_inside_training(self) -> HotspotPredictionSettings:
        if self.naive_periods > self.train_periods:
            raise ValueError("hotspots.prediction: naive_periods must be <= train_periods")
        return self


class HotspotSettings(_Section):
    cell_size_m: int = Field(500, ge=50)
    permutations: int = Field(999, ge=99)
    fdr_alpha: float = Field(0.05, gt=0, lt=1)
    neighbour_rings: int = Field(1, ge=1, le=3)
    study_buffer_cells: int = Field(2, ge=0, le=10)
    kde_bandwidth_m: float = Field(500.0, gt=0)
    kde_tolerance_per_km2: float = Field(0.0001, gt=0)
    change_window_quarters: int = Field(4, ge=2)
    hotspot_needs_crime: bool = True
    seed: int = 12345
    prediction: HotspotPredictionSettings = Field(default_factory=HotspotPredictionSettings)


# The statsforecast base models pipelines/forecasting/core.py fits.
ForecastModel = Literal["naive", "seasonal_naive", "ets", "theta", "arima", "pooled_drift"]


class ForecastSettings(_Section):
    horizon_years: int = Field(4, ge=1)
    # As settings.yaml: recording practice changed in April 2018 (counting rules).
    break_dates: list[str] = Field(default_factory=lambda: ["2018-04-01"])
    # "refit": fit only on data after the latest break; "level_shift": keep all history and
    # shift the pre-break part to the post-break level.
    break_method: str = Field("refit", pattern="^(refit|level_shift)$")
    models: list[ForecastModel | Literal["ensemble"]] = Field(
        default_factory=lambda: ["ensemble"], min_length=1
    )
    # The ensemble candidate is the mean of these models' forecasts and bounds.
    ensemble_members: list[ForecastModel] = Field(
        default_factory=lambda: ["arima", "pooled_drift"], min_length=1
    )
    cv_windows: int = Field(3, ge=1)
    cv_step: int | None = Field(None, ge=1)
    refit_below: int = Field(48, ge=1)
    calibrate: bool = True
    interval_method: str = Field("conformal_scale", pattern="^(pooled_errors|conformal_scale)$")
    interval_growth: str = Field("linear", pattern="^(linear|sqrt)$")
    levels: list[int] = Field(default_factory=lambda: [80, 95])
    # Series with fewer periods are not forecast; the outputs say "not enough history".
    min_periods: int = Field(6, ge=2)
    # The demand history starts after the last run of at least this many months with no crime
    # of any kind; shorter empty runs inside it are delivery gaps (missing, not zeros).
    history_gap_months: int = Field(12, ge=2)
    # pooled_drift: growth of the annual total over this many years, median over the series
    # forecast together.
    pooled_growth_years: int = Field(2, ge=1)
    # Whether ARIMA may carry a drift (linear trend) of its own.
    arima_drift: bool = True
    # Long series: fit the final forecast again on all the data (else roll forward the fit
    # made before the first CV origin).
    refit_final: bool = True
    # Pooled scale-free forecast errors by years ahead (written by the forecast back-test;
    # relative to the project root; "" = the series' own calibrated intervals only).
    error_pool_file: str = "docs/evaluation/forecast_error_pool.json"
    # Annual series: the pooled interval alone ("pool") or its union with the series'
    # own ("union"); quarterly and monthly series always take the union.
    error_pool_composition: str = Field("pool", pattern="^(pool|union)$")
    # Which errors of the pool the intervals are built from: "stable_recording" leaves out the
    # errors whose training window or target reaches past `recording_change_start` (the
    # 2014-18 recording-practice rise in the Home Office series); "all" keeps every error.
    error_pool_regime: str = Field("stable_recording", pattern="^(stable_recording|all)$")
    recording_change_start: str = Field("2014-04-01", pattern=r"^\d{4}-\d{2}-\d{2}$")
    # How the pool's quantiles treat an error's sign: "symmetric" (the quantile of |error| on
    # both sides of the forecast) or "signed" (each tail on its own side).
    error_pool_sides: str = Field("symmetric", pattern="^(symmetric|signed)$")
    # Periods of marts.demand_series forecast (month, quarter); empty = every period.
    periods: list[str] = Field(default_factory=lambda: ["month"])
    # Demand series (marts.demand_series) forecast by the pipeline; empty = all of them.
    series: list[str] = Field(
        default_factory=lambda: [
            "all_stalking",
            "domestic_abuse",
            "non_domestic_abuse",
            "online",
            "offline",
            "breaches",
        ]
    )


# --- analytics: stalking universe, screening, RFGV, high harm, compliance, orders ---
class StalkingUniverseSettings(_Section):
    use_included_classifications: bool = True
    use_screening: bool = True


class ScreeningWeights(_Section):
    repeated: int = Field(0, ge=0)
    obsessive: int = Field(0, ge=0)
    fixated: int = Field(0, ge=0)
    unwanted: int = Field(0, ge=0)
    escalation: int = Field(0, ge=0)
    online_repeated: int = Field(0, ge=0)
    persistent: int = Field(2, ge=0)
    recorded_stalking: int = Field(7, ge=0)
    long_course: int = Field(1, ge=0)
    linked_intelligence: int = Field(4, ge=0)
    pair_intelligence: int = Field(3, ge=0)
    high_risk: int = Field(4, ge=0)
    medium_risk: int = Field(2, ge=0)
    ex_partner: int = Field(1, ge=0)
    other_victims: int = Field(1, ge=0)
    suspect_stalking: int = Field(5, ge=0)
    victim_intelligence: int = Field(3, ge=0)
    repeat_victim: int = Field(2, ge=0)
    sustained: int = Field(2, ge=0)
    unnamed_suspect_course: int = Field(3, ge=0)
    stalking_order: int = Field(8, ge=0)
    victim_recorded_stalking: int = Field(6, ge=0)
    repeated_concern: int = Field(4, ge=0)
    varied_intense_course: int = Field(4, ge=0)
    harassment_intelligence: int = Field(4, ge=0)
    high_risk_periods: int = Field(1, ge=0)


class ScreeningCalibrationSettings(_Section):
    """The threshold chosen from the force's reviewed sample (pipelines.screening_calibration)."""

    # Choose the threshold from the returned review samples (off: the configured one always,
    # its precision on the returned reviews still estimated and said). Off by default: on the
    # held-out parts it gained no recall over the fixed threshold (docs/evaluation/screening.md).
    enabled: bool = False
    # Floors of the flag-level bands the review sample is stratified by (the last open-ended);
    # they are also the thresholds calibration can choose between.
    bands: list[int] = Field(default_factory=lambda: [5, 6, 7, 8, 9, 10])
    # Crimes drawn per band each quarter (0: no review sample is drawn).
    per_band: int = Field(8, ge=0)
    # The latest returned quarters before the profiled one whose verdicts are pooled.
    quarters: int = Field(2, ge=1)
    # The screened-in set's precision must reach this with `confidence`.
    target_precision: float = Field(0.85, gt=0, le=1)
    confidence: float = Field(0.9, gt=0, lt=1)
    # Fewer reviewed verdicts than this: the configured threshold.
    min_reviewed: int = Field(10, ge=1)
    # An analyst's or auditor's threshold, used whatever the returns say (null: none).
    override_threshold: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _bands_sorted(self) -> ScreeningCalibrationSettings:
        if not self.bands or sorted(set(self.bands)) != self.bands:
            raise ValueError("screening.calibration.bands: distinct floors in increasing order")
        return self


class ScreeningSettings(_Section):
    candidate_categories: list[str] = Field(
        default_factory=lambda: [
            "harassment",
            "malicious_communications",
            "breach_of_order",
            "coercive_control",
            "image_abuse",
            "violence_other",
            "criminal_damage",
            "other",
        ]
    )
    course_window_days: int = Field(365, ge=1)
    course_min_occasions: int = Field(2, ge=2)
    intense_window_days: int = Field(90, ge=1)
    intense_min_occasions: int = Field(3, ge=2)
    long_course_days: int = Field(2, ge=1)
    sustained_course_days: int = Field(7, ge=1)
    persistent_min_days: int = Field(30, ge=1)
    suspect_history_days: int = Field(1095, ge=1)
    victim_min_other_crimes: int = Field(2, ge=1)
    concern_min_occasions: int = Field(3, ge=2)
    varied_course_min_occasions: int = Field(4, ge=2)
    varied_course_min_categories: int = Field(3, ge=2)
    period_min_crimes: int = Field(2, ge=1)
    weights: ScreeningWeights = ScreeningWeights()
    threshold: int = Field(8, ge=1)
    calibration: ScreeningCalibrationSettings = ScreeningCalibrationSettings()


class RfgvWeights(_Section):
    recency: float = Field(1.0, ge=0)
    frequency: float = Field(1.0, ge=0)
    gravity: float = Field(1.0, ge=0)
    victims: float = Field(1.5, ge=0)


def _check_bands(name: str, minimums: list[float], points: list[float]) -> None:
    if len(minimums) != len(points) or not minimums:
        raise ValueError(f"{name}: band minimums and points must be non-empty and equal length")
    if any(b <= a for a, b in zip(minimums, minimums[1:], strict=False)):
        raise ValueError(f"{name}: band minimums must be strictly increasing")


class RfgvSettings(_Section):
    lookback_months: int = Field(36, ge=1)
    recency_decay_months: int = Field(12, ge=1)
    frequency_window_months: int = Field(12, ge=1)
    frequency_band_min_crimes: list[int] = Field(default_factory=lambda: [1, 2, 3, 5, 8])
    frequency_band_points: list[float] = Field(default_factory=lambda: [2, 4, 6, 8, 10])
    gravity_band_min_days: list[int] = Field(default_factory=lambda: [10, 84, 252, 504, 1008])
    gravity_band_points: list[float] = Field(default_factory=lambda: [2, 4, 6, 8, 10])
    victims_band_min: list[int] = Field(default_factory=lambda: [1, 2, 3, 5])
    victims_band_points: list[float] = Field(default_factory=lambda: [2, 6, 8, 10])
    weights: RfgvWeights = RfgvWeights()
    band_high_min_score: float = Field(60, ge=0, le=100)
    band_medium_min_score: float = Field(40, ge=0, le=100)

    @model_validator(mode="after")
    def _bands(self) -> RfgvSettings:
        _check_bands("frequency", self.frequency_band_min_crimes, self.frequency_band_points)
        _check_bands("gravity", self.gravity_band_min_days, self.gravity_band_points)
        _check_bands("victims", self.victims_band_min, self.victims_band_points)
        if sum(self.weights.model_dump().values()) <= 0:
            raise ValueError("rfgv weights must not all be zero")
        return self


class HighHarmSettings(_Section):
    min_rfgv_score: float = Field(60, ge=0, le=100)
    top_n: int = Field(0, ge=0)


class TaskingSettings(_Section):
    # One-page restricted subject profiles for the top N of the high-harm list (0 = none).
    subject_profiles_top_n: int = Field(20, ge=0)
    # Subjects the meeting discusses: the top N of those above the high-harm cut-off (everyone
    # above the cut-off is still counted in the pack).
    list_length: int = Field(25, ge=1)
    # Escalation flag: the last N months against the N months before (frequency or gravity).
    escalation_window_months: int = Field(6, ge=1)
    # Ranking back-test: rankings at least this many quarters old (so their follow-up is
    # complete), followed up over these horizons (quarters), at these list lengths.
    backtest_min_age_quarters: int = Field(4, ge=1)
    backtest_horizons_quarters: list[int] = Field(default_factory=lambda: [1, 4])
    backtest_list_lengths: list[int] = Field(default_factory=lambda: [10, 25])

    @model_validator(mode="after")
    def _backtest(self) -> TaskingSettings:
        if not self.backtest_horizons_quarters or not self.backtest_list_lengths:
            raise ValueError("tasking back-test horizons and list lengths must not be empty")
        if max(self.backtest_horizons_quarters) > self.backtest_min_age_quarters:
            raise ValueError("a back-test horizon cannot be longer than the rankings' age")
        if min(self.backtest_horizons_quarters + self.backtest_list_lengths) < 1:
            raise ValueError("tasking back-test horizons and list lengths must be positive")
        return self


class ComplianceSettings(_Section):
    needs_assessment_target_days: int = Field(5, ge=0)
    support_referral_target_days: int = Field(2, ge=0)


class OrderSettings(_Section):
    breach_followup_months: int = Field(12, ge=1)
    reoffending_followup_months: int = Field(12, ge=1)


class FmsSettings(_Section):
    """Starting values of the FMS workbook's workload assumptions: the author changes them in
    the workbook (its formulas read the assumption cells), these only fill them in [U]."""

    hours_per_investigation: float = Field(20.0, ge=0)
    hours_per_spo_application: float = Field(12.0, ge=0)
    hours_per_support_referral: float = Field(1.0, ge=0)
    hours_per_breach_investigation: float = Field(6.0, ge=0)
    productive_hours_per_fte: float = Field(1650.0, gt=0)
    # Share of screened-in crimes taken to be stalking in the hidden-demand scenario (a
    # returned dip sample measures it; until then a policy value).
    screened_confirmation_share: float = Field(0.5, ge=0, le=1)
    # The back-test is called poor (a plain-words warning) when an interval held the actual
    # less often than its level minus this, or the model did no better than naive.
    poor_coverage_tolerance: float = Field(0.05, ge=0, lt=0.8)


class PerformanceSettings(_Section):
    months: int = Field(12, ge=1, le=36)


class DipSampleSettings(_Section):
    seed: int = 20240927
    sample_size: int = Field(30, ge=1)
    # Screened crimes are drawn this many times as often as their share of the quarter.
    screened_weight: float = Field(3.0, ge=1)
    min_per_stratum: int = Field(2, ge=0)
    # Folder the auditors return completed samples to (csv or xlsx); empty = none.
    returned_folder: str = ""


class RecommendationRule(_Section):
    """One row of the recommendation table: when the judgment on `signal` moves in
    `direction` (up, down, or below_standard), recommend `action` under `area` (4P)."""

    signal: str
    direction: str = Field(pattern="^(up|down|below_standard)$")
    area: str = Field(pattern="^(Prevent|Pursue|Protect|Prepare)$")
    action: str


class RequirementRule(_Section):
    """An information gap (reporting.rpt_assessment_gaps) above `min_share` becomes this
    intelligence requirement."""

    gap: str
    min_share: float = Field(ge=0, le=1)
    requirement: str


@functools.cache
def _shipped_section(section: str) -> dict[str, Any]:
    """A section of the shipped settings.yaml, for defaults that are tables (rule lists) and
    so live in the YAML alone: the model's default is then the file's, by construction."""
    return (load_yaml(DEFAULT_SETTINGS_FILE.read_text(encoding="utf-8")) or {}).get(section, {})


class AssessmentSettings(_Section):
    # A change is a judgment only when the exact test rejects "no change" at this level...
    significance: float = Field(0.01, gt=0, lt=0.5)
    # ...and the count moved by at least this share (or a rate by at least this many points
    # against the comparison), so that a large force's small real changes do not crowd out
    # the ones that matter.
    min_relative_change: float = Field(0.25, ge=0)
    min_rate_gap: float = Field(0.10, ge=0, le=1)
    max_judgments: int = Field(5, ge=1)
    # Standards a rate is held to (e.g. the super-complaint: an SPO considered in every case).
    rate_standards: dict[str, float] = Field(default_factory=lambda: {"spo_considered": 1.0})
    # Harm of each signal for the threat/harm/risk ranking (3 high, 2 medium, 1 low; others 1).
    # The rule tables' defaults are the shipped settings.yaml's (too long to state twice).
    harm: dict[str, int] = Field(
        default_factory=lambda: dict(_shipped_section("assessment")["harm"])
    )
    recommendations: list[RecommendationRule] = Field(
        default_factory=lambda: [
            RecommendationRule(**rule) for rule in _shipped_section("assessment")["recommendations"]
        ]
    )
    intelligence_requirements: list[RequirementRule] = Field(
        default_factory=lambda: [
            RequirementRule(**rule)
            for rule in _shipped_section("assessment")["intelligence_requirements"]
        ]
    )


class PlacesSettings(_Section):
    # District boundaries (GeoJSON polygons, e.g. LSOAs with their local authority): read at
    # run time from this path when the extracts carry no districts.geojson; never copied.
    districts_geojson: str = ""
    # The feature property naming the district (LSOAs of the same district are dissolved).
    district_property: str = "LAD_name"
    # Optional CSV (district, csp) naming each district's community safety partnership.
    csp_lookup_csv: str = ""


class IngestSettings(_Section):
    # Folder watched by the `new_extracts_sensor` / used by the quarterly schedule ("" = none).
    landing_dir: str = ""
    settle_seconds: int = Field(300, ge=0)
    schedule_cron: str = "0 6 15 1,4,7,10 *"
    schedule_timezone: str = "Europe/London"
    # DuckDB memory ceiling while loading (larger inputs spill to disk); "" = DuckDB's default.
    duckdb_memory_limit: str = "6GB"
    # Great Expectations validates the loaded tables in pandas: above this many rows it checks a
    # reproducible random sample of this size (every row was already checked by the compiled SQL
    # quarantine; the sample bounds memory and time on national-scale tables).
    contract_check_max_rows: int = Field(500_000, ge=1000)
    # A run stops before publishing when one rule quarantines more than this share of an
    # extract's rows, or all rules together more than the extract share (a broken export, e.g.
    # a timezone suffix on every timestamp, must not pass as a quiet quarter)...
    quarantine_max_share_per_rule: float = Field(0.05, ge=0, le=1)
    quarantine_max_share_per_extract: float = Field(0.10, ge=0, le=1)
    # ... unless fewer rows than this are quarantined (a handful of rows in a tiny extract).
    quarantine_min_rows_to_stop: int = Field(10, ge=0)
    # A record dated before this (a crime reported, an order granted, a breach) is quarantined
    # `date_too_early`: a records system's default or a mistyped century, not an event. (After
    # the run date is `date_in_future`.) The quarter spine starts at the first crime loaded.
    earliest_plausible_date: dt.date = dt.date(1900, 1, 1)


class Settings(_Section):
    force: ForceSettings = ForceSettings()
    disclosure: DisclosureSettings = DisclosureSettings()
    repeat_victim: RepeatVictimSettings = RepeatVictimSettings()
    perpetrators: PerpetratorSettings = PerpetratorSettings()
    persons: PersonSettings = PersonSettings()
    resolution: ResolutionSettings = ResolutionSettings()
    hotspots: HotspotSettings = HotspotSettings()
    forecasting: ForecastSettings = ForecastSettings()
    stalking_universe: StalkingUniverseSettings = StalkingUniverseSettings()
    screening: ScreeningSettings = ScreeningSettings()
    rfgv: RfgvSettings = RfgvSettings()
    high_harm: HighHarmSettings = HighHarmSettings()
    tasking: TaskingSettings = TaskingSettings()
    compliance: ComplianceSettings = ComplianceSettings()
    orders: OrderSettings = OrderSettings()
    fms: FmsSettings = FmsSettings()
    performance: PerformanceSettings = PerformanceSettings()
    dip_sample: DipSampleSettings = DipSampleSettings()
    assessment: AssessmentSettings = AssessmentSettings()
    places: PlacesSettings = PlacesSettings()
    ingest: IngestSettings = IngestSettings()


def settings_path() -> Path:
    return Path(os.environ.get("SPP_CONFIG", DEFAULT_SETTINGS_FILE))


def _yaml_problem(error: OSError | yaml.YAMLError) -> str:
    """A settings file that cannot be read, in one line (the CLI's reason is one line)."""
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or type(error).__name__
    return f"not YAML at line {mark.line + 1}: {problem}" if mark else f"not YAML: {problem}"


def _validation_problem(error: ValidationError) -> str:
    """Every bad key of a settings file in one line: its dotted path, what is wrong with it
    and the value given (pydantic's own message runs over several lines per key)."""
    problems = []
    for found in error.errors():
        key = ".".join(str(part) for part in found["loc"]) or "the file"
        given = repr(found.get("input"))
        given = given if len(given) <= 40 else given[:37] + "..."
        problems.append(f"{key}: {found['msg']} (given {given})")
    return "; ".join(problems)


@functools.cache
def _load(path: Path) -> Settings:
    try:
        raw = load_yaml(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read settings file {path}: {_yaml_problem(error)}") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        raise ValueError(f"invalid settings in {path}: {_validation_problem(error)}") from None
    except Exception as error:  # a validator's own failure: still the file's fault
        raise ValueError(f"invalid settings in {path}: {error}") from None


def load_settings(path: Path | None = None) -> Settings:
    return _load((path or settings_path()).resolve())


def dbt_vars(settings: Settings, **extra: Any) -> dict[str, Any]:
    """The settings as dbt vars: one var per section, e.g. var('repeat_victim')['window_months']."""
    return {**settings.model_dump(mode="json"), **extra}


# The sections the dbt SQL reads (through the `setting` macro).
DBT_SQL_SECTIONS = (
    "persons",
    "resolution",
    "repeat_victim",
    "perpetrators",
    "stalking_universe",
    "screening",
    "rfgv",
    "high_harm",
    "tasking",
    "compliance",
    "orders",
    "fms",
    "performance",
    "dip_sample",
    "disclosure",
    "forecasting",
    "assessment",
)


def dbt_defaults_macro(settings: Settings) -> str:
    """The dbt macro holding the default settings, used only when dbt runs without --vars."""
    import json

    every = dbt_vars(settings)
    # The payload is a Jinja string literal in single quotes: an apostrophe in a setting's text
    # goes in as its JSON escape (Jinja reads it back as the apostrophe).
    payload = json.dumps({k: every[k] for k in DBT_SQL_SECTIONS}, sort_keys=True)
    payload = payload.replace("'", "\\u0027")
    return (
        "{#- GENERATED by `python -m pipelines.settings --dbt-defaults-macro` from\n"
        "    pipelines/config/settings.yaml: do not edit. Used only when dbt runs without --vars\n"
        "    (sqlfluff lint); the pipeline always passes the live settings. -#}\n"
        "{% macro settings_defaults() %}{{ return(fromjson('" + payload + "')) }}{% endmacro %}\n"
    )


def settings_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(section, setting, value) of every setting as the profile's method section prints it."""
    rows = []
    for section, values in settings.model_dump(mode="json").items():
        for key, value in values.items():
            if key == "area_geojson" and not value:
                value = "(none configured)"
            if isinstance(value, dict):
                text = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
            elif isinstance(value, bool):
                text = "yes" if value else "no"
            elif isinstance(value, list):
                text = ", ".join(str(v).replace("_", " ") for v in value)
            else:
                text = str(value)
            rows.append((section.replace("_", " "), key.replace("_", " "), text or "–"))
    return rows


def changed_settings_rows(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(section, setting, value, default) for each setting that differs from the shipped
    defaults (pipelines/config/settings.yaml): the appendix a reader needs, not the full file."""
    defaults = {(s, k): v for s, k, v in settings_rows(Settings())}
    return [
        (section, key, value, defaults.get((section, key), "(not set)"))
        for section, key, value in settings_rows(settings)
        if defaults.get((section, key)) != value
    ]


if __name__ == "__main__":
    # `python -m pipelines.settings --dbt-vars` prints the vars for a standalone dbt run:
    # dbt build --vars "$(python -m pipelines.settings --dbt-vars [YYYY-Qn])"
    import json
    import sys

    if sys.argv[1:2] == ["--dbt-defaults-macro"]:
        # dbt_project/macros/settings_defaults.sql: the fallback when dbt runs without --vars
        # (sqlfluff lint); tests/analytics checks it matches settings.yaml.
        print(dbt_defaults_macro(load_settings(DEFAULT_SETTINGS_FILE)), end="")
        sys.exit(0)
    if sys.argv[1:2] != ["--dbt-vars"]:
        sys.exit("usage: python -m pipelines.settings --dbt-vars [YYYY-Qn] | --dbt-defaults-macro")
    extra = {"profile_quarter": sys.argv[2]} if len(sys.argv) > 2 else {}
    print(json.dumps(dbt_vars(load_settings(), **extra)))
