"""Change between quarters, in the manner of emerging-hotspot analysis (ArcGIS EHSA, sfhotspot).

For each cell and quarter, looking back over a window of quarters:
- new:          hot now and not hot in any earlier quarter of the window;
- intensifying: hot now and before, Gi* z trending up (Kendall tau >= +0.5 over the window);
- diminishing:  hot now and before, Gi* z trending down (tau <= -0.5);
- persistent:   hot now and before, no clear trend;
- former:       not hot now but hot in the previous quarter (useful for tasking review);
- none:         otherwise.
Mann-Kendall significance is not used: with 4-8 quarters it can never reach 5%, so the tau
threshold is a descriptive rule (stated in the profile).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

TAU_THRESHOLD = 0.5
# Every class `_classify` returns.
CHANGE_CLASSES = ["diminishing", "former", "intensifying", "new", "none", "persistent"]


def _classify(z: np.ndarray, hot: np.ndarray) -> str:
    now, earlier = hot[-1], hot[:-1]
    if not now:
        return "former" if len(earlier) and earlier[-1] else "none"
    if not earlier.any():
        return "new"
    if len(z) >= 3:
        tau = kendalltau(np.arange(len(z)), z).statistic
        if np.isfinite(tau) and tau >= TAU_THRESHOLD:
            return "intensifying"
        if np.isfinite(tau) and tau <= -TAU_THRESHOLD:
            return "diminishing"
    return "persistent"


def change_classes(cells: pd.DataFrame, window_quarters: int = 4) -> pd.Series:
    """cells: quarter, cell_id, gi_z, gi_class for every cell in every quarter (a full panel).
    Returns the change class aligned to `cells`' index, a categorical of CHANGE_CLASSES (the
    national panel has ~13 M rows, nearly all "none": one string object per row would cost
    seconds to build and to pickle)."""
    codes = np.full(len(cells), CHANGE_CLASSES.index("none"), np.int8)
    # Only cells hot at some time can get a class other than "none".
    is_hot = (cells["gi_class"] == "hot").to_numpy()
    ever_hot = cells.loc[is_hot, "cell_id"].unique()
    in_subset = cells["cell_id"].isin(ever_hot).to_numpy()
    subset = (
        cells.loc[in_subset, ["cell_id", "quarter", "gi_z"]]
        .assign(_hot=is_hot[in_subset], _position=np.flatnonzero(in_subset))
        .sort_values(["cell_id", "quarter"])
    )
    z_all = subset["gi_z"].to_numpy(float)
    hot_all = subset["_hot"].to_numpy()
    position_all = subset["_position"].to_numpy()
    cell_all = subset["cell_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, cell_all[1:] != cell_all[:-1]])
    ends = np.r_[starts[1:], len(subset)]
    code_of = {name: i for i, name in enumerate(CHANGE_CLASSES)}
    for a, b in zip(starts, ends, strict=True):
        z, hot = z_all[a:b], hot_all[a:b]
        for pos in range(b - a):
            lo = max(0, pos - window_quarters + 1)
            codes[position_all[a + pos]] = code_of[_classify(z[lo : pos + 1], hot[lo : pos + 1])]
    return pd.Series(pd.Categorical.from_codes(codes, categories=CHANGE_CLASSES), index=cells.index)
