"""The assurance dip samples auditors return, read back for the warehouse.

restricted/dip_sample.csv and .xlsx (pipelines.publish.restricted) are written with empty verdict
columns; the auditors fill them in and return the files to the configured folder
(dip_sample.returned_folder). The assurance asset reads them here into
marts.dip_sample_returns, so the profile reports the verdicts in aggregate
(reporting.rpt_dip_sample_verdicts). The screening review sample
(restricted/screening_review.csv, returned to the same folder) is read here too: its verdicts
count among the dip samples', and with the design of its draw they calibrate screening's
threshold (read_review_returns, pipelines.screening_calibration).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# The auditor's columns, written empty: yes / no / unsure, then free text.
VERDICT_COLUMNS = {
    "verdict_is_stalking": "Auditor: is this stalking? (yes/no/unsure)",
    "verdict_correctly_recorded": "Auditor: recorded correctly? (yes/no/unsure)",
    "verdict_victims_code_met": "Auditor: Victims' Code met? (yes/no/unsure)",
    "auditor_notes": "Auditor: notes",
}
RETURN_COLUMNS = ["sample_id", "crime_id", *list(VERDICT_COLUMNS)[:3]]
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


def normalise_verdict(value: object) -> str | None:
    """yes / no / unsure from what an auditor typed; None when left empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    return "yes" if text in YES else "no" if text in NO else "unsure"


def _read_one(path: Path) -> pd.DataFrame:
    """A returned sample as written (csv with its marking line, or the workbook)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig") as handle:
            marked = handle.readline().startswith("#")
        return pd.read_csv(path, skiprows=1 if marked else 0, dtype=str, keep_default_na=False)
    # Row 1 is the marking, row 2 the column names, row 3 the headings.
    return pd.read_excel(path, header=1, skiprows=[2], dtype=str).fillna("")


def _returned_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*") if p.suffix.lower() in (".csv", ".xlsx"))


def read_review_returns(folder: Path) -> pd.DataFrame:
    """The verdicts of the screening review samples found in `folder`, with the design of their
    draw (REVIEW_COLUMNS): one row per crime with a stalking verdict, the file read last (by
    name) winning as for the dip samples. Dip samples and other files are skipped."""
    from pipelines.screening_calibration import REVIEW_COLUMNS

    columns = [*REVIEW_COLUMNS, "verdict_is_stalking"]
    rows: dict[str, dict[str, object]] = {}
    for path in _returned_files(folder):
        try:
            frame = _read_one(path)
        except (OSError, ValueError, KeyError):
            continue
        if not set(columns) <= set(frame.columns):
            continue
        for record in frame.to_dict("records"):
            crime = str(record.get("crime_id") or "").strip().lstrip("'")
            verdict = normalise_verdict(record.get("verdict_is_stalking"))
            if not crime or verdict is None:
                continue
            rows[crime] = {
                **{column: str(record.get(column) or "").strip() for column in REVIEW_COLUMNS},
                "crime_id": crime,
                "verdict_is_stalking": verdict,
            }
    return pd.DataFrame(list(rows.values()), columns=columns)


def read_returned_samples(folder: Path) -> pd.DataFrame:
    """Every verdict in the completed samples found in `folder` (csv or xlsx; files that are
    not a returned sample are skipped). One row per crime: the file read last (by name) wins,
    so a corrected return replaces an earlier one."""
    rows: dict[str, dict[str, object]] = {}
    for path in _returned_files(folder):
        try:
            frame = _read_one(path)
        except (OSError, ValueError, KeyError):
            continue  # not a sample we wrote (or unreadable): nothing to count from it
        if not {"crime_id", "verdict_is_stalking"} <= set(frame.columns):
            continue
        for record in frame.to_dict("records"):
            crime = str(record.get("crime_id") or "").strip().lstrip("'")
            verdicts = {
                column: normalise_verdict(record.get(column)) for column in RETURN_COLUMNS[2:]
            }
            if not crime or not any(verdicts.values()):
                continue  # an unaudited row
            rows[crime] = {
                "sample_id": str(record.get("sample_id") or ""),
                "crime_id": crime,
                **verdicts,
            }
    return pd.DataFrame(list(rows.values()), columns=RETURN_COLUMNS)
