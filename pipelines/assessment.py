"""The assessment's statistics (analysis, not printing): which measured changes an exact test
says are unlikely to be noise and large enough to matter (both thresholds are settings).

Counts are compared with the previous quarter and with the same quarter last year by the
conditional binomial test of two Poisson counts (given their total, the quarter's share is
Binomial(total, 1/2) when the rate did not change); rates with their standard by the exact
binomial test, or with a year ago by Fisher's exact test. Each test carries the posterior
probability that the change is real (Jeffreys prior).

Pure functions: rows of reporting.rpt_assessment_signals in, one row per test out
(`tested_comparisons`), which the assessment asset writes to marts.assessment_tests. The
judgments' ranking (harm, probability, size), their PHIA probability phrase, the 4P
recommendations and the intelligence requirements are rows of the rpt_assessment_* models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from pipelines.settings import AssessmentSettings

# Monte Carlo draws for the posterior probability that one rate exceeds another (fixed seed:
# the same inputs always give the same phrase).
RATE_DRAWS = 40_000


@dataclass(frozen=True)
class Observation:
    """One signal in one quarter: a count (denominator None) or a rate."""

    numerator: int
    denominator: int | None = None

    @property
    def rate(self) -> float | None:
        if self.denominator is None or self.denominator == 0:
            return None
        return self.numerator / self.denominator


@dataclass(frozen=True)
class Signal:
    signal: str
    label: str
    kind: str  # "count" | "rate"
    window: str
    now: Observation
    previous: Observation | None
    year_ago: Observation | None


@dataclass(frozen=True)
class Test:
    """The outcome of one comparison of a signal."""

    signal: str
    comparison: str  # "previous quarter" | "same quarter last year" | "standard"
    direction: str  # "up" | "down" | "below_standard"
    now: Observation
    before: Observation | None
    standard: float | None
    change: float  # relative change (counts) or difference in rate (rates)
    p_value: float
    probability: float  # posterior probability that the change is real


def count_test(now: int, before: int, comparison: str, signal: str) -> Test | None:
    """Conditional binomial (exact Poisson) test of two counts over equal periods."""
    from scipy import stats  # here, not at import: SciPy's stats take ~1.5 s to load

    total = now + before
    if total == 0:
        return None
    p_value = float(stats.binomtest(now, total, 0.5).pvalue)
    direction = "up" if now > before else "down"
    change = (now - before) / before if before else float("inf")
    # Posterior share of the quarter given the total (Jeffreys): P(share > 1/2) = P(rate rose).
    rose = float(stats.beta.sf(0.5, now + 0.5, before + 0.5))
    probability = rose if direction == "up" else 1.0 - rose
    return Test(
        signal,
        comparison,
        direction,
        Observation(now),
        Observation(before),
        None,
        change,
        p_value,
        probability,
    )


def rate_standard_test(now: Observation, standard: float, signal: str) -> Test | None:
    """Exact binomial test of a rate against the standard it is held to (one-sided: below)."""
    from scipy import stats

    if not now.denominator:
        return None
    p_value = float(stats.binomtest(now.numerator, now.denominator, standard, "less").pvalue)
    # Posterior probability that the true rate is below the standard (Jeffreys prior).
    probability = float(
        stats.beta.cdf(standard, now.numerator + 0.5, now.denominator - now.numerator + 0.5)
    )
    change = (now.rate or 0.0) - standard
    return Test(
        signal, "standard", "below_standard", now, None, standard, change, p_value, probability
    )


def rate_change_test(now: Observation, before: Observation, comparison: str, signal: str):
    """Fisher's exact test of a rate against an earlier quarter's."""
    from scipy import stats

    if not now.denominator or not before or not before.denominator:
        return None
    table = [
        [now.numerator, now.denominator - now.numerator],
        [before.numerator, before.denominator - before.numerator],
    ]
    p_value = float(stats.fisher_exact(table).pvalue)
    change = (now.rate or 0.0) - (before.rate or 0.0)
    direction = "up" if change > 0 else "down"
    rng = np.random.default_rng(20240927)
    draws_now = rng.beta(now.numerator + 0.5, now.denominator - now.numerator + 0.5, RATE_DRAWS)
    draws_before = rng.beta(
        before.numerator + 0.5, before.denominator - before.numerator + 0.5, RATE_DRAWS
    )
    rose = float(np.mean(draws_now > draws_before))
    probability = rose if direction == "up" else 1.0 - rose
    return Test(signal, comparison, direction, now, before, None, change, p_value, probability)


def signal_tests(signal: Signal, settings: AssessmentSettings) -> list[Test]:
    """Every comparison the rules make for one signal (untested when data are missing)."""
    tests: list[Test | None] = []
    comparisons = (
        ("previous quarter", signal.previous),
        ("same quarter last year", signal.year_ago),
    )
    if signal.kind == "count":
        for name, before in comparisons:
            if before is not None:
                tests.append(
                    count_test(signal.now.numerator, before.numerator, name, signal.signal)
                )
    else:
        standard = settings.rate_standards.get(signal.signal)
        if standard is not None:
            tests.append(rate_standard_test(signal.now, standard, signal.signal))
        elif signal.year_ago is not None:
            tests.append(
                rate_change_test(
                    signal.now, signal.year_ago, "same quarter last year", signal.signal
                )
            )
    return [t for t in tests if t is not None]


def is_judgment(test: Test, settings: AssessmentSettings) -> bool:
    """The rule: significant at the configured level AND at least the minimum effect."""
    if test.p_value >= settings.significance:
        return False
    if test.comparison == "standard" or test.now.denominator is not None:
        return abs(test.change) >= settings.min_rate_gap
    return abs(test.change) >= settings.min_relative_change


def judged_tests(signals: Iterable[Signal], settings: AssessmentSettings) -> list[Test]:
    """Every comparison of the signals that the rule makes a judgment."""
    return [t for s in signals for t in signal_tests(s, settings) if is_judgment(t, settings)]


def signals_from_rows(
    rows: Iterable[Mapping], quarter: str, previous: str, year_ago: str
) -> list[Signal]:
    """reporting.rpt_assessment_signals rows (any quarters) -> one Signal per signal that has
    a row in the profile's quarter. A quarter of a delivery gap (`is_delivery_gap`: a month in
    which the delivery has no crime of any kind) is no observation: its counts are what was
    delivered, not what happened, so its own signals are not tested and no other quarter is
    compared with it (rpt_assessment_scope says so)."""
    by_key: dict[tuple[str, str], Mapping] = {(r["signal"], r["quarter"]): r for r in rows}
    out = []
    for (signal, q), row in sorted(by_key.items()):
        if q != quarter:
            continue

        def obs(at: str, signal: str = signal) -> Observation | None:
            r = by_key.get((signal, at))
            gap = r.get("is_delivery_gap") if r is not None else None
            if r is None or (isinstance(gap, bool | np.bool_) and gap):  # None or NaN: no gap
                return None
            den = r["denominator"]
            missing = den is None or den != den  # None, or NaN from a pandas frame
            return Observation(int(r["numerator"]), None if missing else int(den))

        now = obs(quarter)
        if now is None:
            continue
        out.append(
            Signal(
                signal,
                str(row["signal_label"]),
                str(row["measure_kind"]),
                str(row["window_label"]),
                now,
                obs(previous),
                obs(year_ago),
            )
        )
    return out


# marts.assessment_tests' columns (declared in reporting/_python_marts__sources.yml)
TESTED_COLUMNS = (
    "quarter",
    "signal",
    "comparison",
    "direction",
    "change",
    "p_value",
    "probability",
    "is_judgment",
)


def quarter_tests(
    quarter: str, signals: Iterable[Signal], settings: AssessmentSettings
) -> list[tuple]:
    """One tuple of TESTED_COLUMNS per comparison the rules make for the quarter's signals."""
    return [
        (
            quarter,
            test.signal,
            test.comparison,
            test.direction,
            test.change,
            test.p_value,
            test.probability,
            is_judgment(test, settings),
        )
        for signal in signals
        for test in signal_tests(signal, settings)
    ]


def tested_comparisons(
    rows: Iterable[Mapping], quarters: Iterable[tuple[str, str, str]], settings: AssessmentSettings
) -> list[tuple]:
    """Every comparison the rules make in every quarter of `quarters` (quarter, the previous
    quarter, the same quarter a year earlier), from reporting.rpt_assessment_signals rows."""
    rows = list(rows)
    return [
        test
        for quarter, previous, year_ago in quarters
        for test in quarter_tests(
            quarter, signals_from_rows(rows, quarter, previous, year_ago), settings
        )
    ]
