"""Per-quarter truth on true identities, by the definitions of spec/outputs.md and DOMAIN.md.

Two universes are written so evaluations can separate resolution error from screening error:
- `recorded`: crimes whose principal or an included classification is a stalking offence, or a
  breach of a stalking protection order (the outputs.md universe without screening);
- `true`: every crime of a truly stalking course of conduct (what perfect screening would find).
Quarantined crimes (and quarantined crime_persons rows) are excluded: they never load.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.quarters import quarter_end, quarter_range, quarter_start, shift_quarter


def _universes(crimes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    keep = [
        "reported_date",
        "victim_true_person_id",
        "perpetrator_true_person_id",
        "suspect_recorded",
        "_day",
        "_victim",
        "_perp",
    ]
    ok = ~crimes["quarantined"].to_numpy()
    cols = [c for c in keep if c in crimes]
    loaded = crimes.loc[ok, cols]
    route, true_st = (
        crimes["identified_route"].to_numpy()[ok],
        crimes["is_true_stalking"].to_numpy()[ok],
    )
    return {
        "recorded": loaded[route != "none"],
        "true": loaded[true_st.astype(bool)],
    }


def _days(df: pd.DataFrame) -> np.ndarray:
    """Reported day numbers (days since 1970-01-01): the generator's `_day` column if present."""
    if "_day" in df:
        return df["_day"].to_numpy(np.int64)
    return pd.to_datetime(df["reported_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)


def _codes(df: pd.DataFrame, column: str, int_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes and the sorted ids they stand for. Integer person indices (the generator's
    private columns) sort like the zero-padded ids, so both paths give the same order."""
    if int_column in df:
        uniq_int, codes = np.unique(df[int_column].to_numpy(), return_inverse=True)
        first = np.zeros(len(uniq_int), dtype=np.int64)
        first[codes] = np.arange(len(codes))
        return codes, df[column].to_numpy()[first]
    codes, uniq = pd.factorize(df[column], sort=True)
    return codes, np.asarray(uniq)


def _qbounds(quarters: list[str], back: int) -> tuple[np.ndarray, np.ndarray]:
    epoch = dt.date(1970, 1, 1)
    lo = np.array([(quarter_start(shift_quarter(q, -back)) - epoch).days for q in quarters])
    hi = np.array([(quarter_end(q) - epoch).days for q in quarters])
    return lo, hi


def repeat_victims(
    crimes: pd.DataFrame, quarters: list[str], window_months: int = 12, min_crimes: int = 2
) -> pd.DataFrame:
    """True victims with >= min_crimes universe crimes reported in the window_months to the
    quarter's last day (numpy bincount per quarter: this runs 250 times at national scale)."""
    out = []
    lo, hi = _qbounds(quarters, window_months // 3 - 1)
    for universe, df in _universes(crimes).items():
        day = _days(df)
        codes, uniq = _codes(df, "victim_true_person_id", "_victim")
        for q, a, b in zip(quarters, lo, hi, strict=True):
            m = (day >= a) & (day <= b)
            counts = np.bincount(codes[m], minlength=len(uniq))
            hit = np.nonzero(counts >= min_crimes)[0]
            if len(hit):
                out.append(
                    pd.DataFrame(
                        {
                            "universe": universe,
                            "quarter": q,
                            "true_person_id": np.asarray(uniq)[hit],
                            "crimes_12m": counts[hit],
                        }
                    )
                )
    cols = ["universe", "quarter", "true_person_id", "crimes_12m"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def serial_perpetrators(
    crimes: pd.DataFrame,
    quarters: list[str],
    lookback_years: int = 3,
    min_victims: int = 2,
    min_crimes: int = 2,
) -> pd.DataFrame:
    """True perpetrators recorded as suspect/offender in universe crimes within lookback_years
    to the quarter's last day: repeat (>= min_crimes) and serial (>= min_victims victims).
    One row per repeat-or-serial perpetrator per quarter."""
    out = []
    lo, hi = _qbounds(quarters, lookback_years * 4 - 1)
    for universe, df in _universes(crimes).items():
        df = df[df["suspect_recorded"]]
        day = _days(df)
        pc, puniq = _codes(df, "perpetrator_true_person_id", "_perp")
        vc, _ = _codes(df, "victim_true_person_id", "_victim")
        # dense (perpetrator, victim) pair codes: distinct victims = pairs present per perp
        pair = np.unique(pc.astype(np.int64) * (vc.max(initial=0) + 1) + vc, return_inverse=True)[1]
        pair_perp = np.zeros(pair.max(initial=-1) + 1, dtype=np.int64)
        pair_perp[pair] = pc
        for q, a, b in zip(quarters, lo, hi, strict=True):
            m = (day >= a) & (day <= b)
            n_crimes = np.bincount(pc[m], minlength=len(puniq))
            present = np.nonzero(np.bincount(pair[m], minlength=len(pair_perp)))[0]
            n_victims = np.bincount(pair_perp[present], minlength=len(puniq))
            hit = np.nonzero((n_crimes >= min_crimes) | (n_victims >= min_victims))[0]
            if len(hit):
                out.append(
                    pd.DataFrame(
                        {
                            "universe": universe,
                            "quarter": q,
                            "true_person_id": np.asarray(puniq)[hit],
                            "crimes_3y": n_crimes[hit],
                            "victims_3y": n_victims[hit],
                            "is_repeat": n_crimes[hit] >= min_crimes,
                            "is_serial": n_victims[hit] >= min_victims,
                        }
                    )
                )
    cols = [
        "universe",
        "quarter",
        "true_person_id",
        "crimes_3y",
        "victims_3y",
        "is_repeat",
        "is_serial",
    ]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def window_quarters(start: dt.date, end: dt.date) -> list[str]:
    from pipelines.quarters import quarter_of

    return quarter_range(quarter_of(start), quarter_of(end))


def crimes_quarantined(
    crime_ids: np.ndarray, bad: pd.DataFrame, crimes: pd.DataFrame
) -> np.ndarray:
    """Which truth crimes never load: their (first) crimes row was injected bad."""
    rows = bad.loc[(bad.file == "crimes") & (bad.rule != "duplicate_key"), "row"].to_numpy(int)
    ids = set(crimes["crime_id"].to_numpy()[rows])
    return np.isin(crime_ids, list(ids))
