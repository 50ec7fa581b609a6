"""Spreadsheet formula neutralisation for every CSV and XLSX the project writes.

A field that begins with = + - @ (or a tab or carriage return) is run as a formula when a
spreadsheet opens the file: a forename "=HYPERLINK(...)" in the tasking CSV would be live in
the chair's Excel. Such text cells get a leading apostrophe (OWASP's advice), which
spreadsheets show as text. Numbers, dates and booleans are left as they are.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells cannot start a spreadsheet formula."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_text)
    out.columns = [neutralise_text(c) for c in out.columns]
    return out
