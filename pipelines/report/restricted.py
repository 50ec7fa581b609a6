"""What every restricted (OFFICIAL-SENSITIVE) file shares: its marking, where it goes, how it is
written (owner-only from creation) and how a cell reads. Used by the tasking pack and the
subject pages alike."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

MARKING = "OFFICIAL-SENSITIVE"
RESTRICTED_DIR = "restricted"
SUBJECTS_DIR = "subject_profiles"


def owner_only_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def write_private(path: Path, content: str | bytes) -> None:
    """Create with 0600 from the start (no window where the file is world-readable); text is
    written as UTF-8, as it stands."""
    payload = content.encode("utf-8") if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
    os.chmod(path, 0o600)


def mark_sheet(sheet: Worksheet) -> None:
    """The marking in every printed page's header and footer, landscape, headings repeated."""
    for header_footer in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
        header_footer.center.text = MARKING
    for header_footer in (sheet.oddFooter, sheet.evenFooter, sheet.firstFooter):
        header_footer.center.text = MARKING
        header_footer.right.text = "Page &P of &N"
    sheet.page_setup.orientation = "landscape"
    sheet.print_title_rows = "1:1"


def fmt(value: Any) -> str:
    """A cell as the meeting reads it: yes/no, one decimal, 03 Mar 2026, blank for missing."""
    if value is None or (not isinstance(value, str | list | tuple) and pd.isna(value)):
        return ""  # None, NaN and NaT (a missing date is a datetime instance)
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if isinstance(value, dt.date | pd.Timestamp):
        return f"{value:%d %b %Y}"
    return str(value)
