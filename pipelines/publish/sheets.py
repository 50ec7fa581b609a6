"""Workbook sheets, written one way for every workbook (the FMS workbook, the tasking pack, the
dip sample): a header row of labels, then a row per record, each column a model column or its
live formula as the model's YAML declares it (`written_as`), with its number format and width,
the cells the reader types in shaded; no text cell can start a formula."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.disclosure.formulas import neutralise_text
from pipelines.disclosure.tables import is_missing
from pipelines.report.printed import PrintedColumn, model_meta

HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
EDITABLE_FILL = PatternFill("solid", fgColor="FFF2CC")
DEFAULT_WIDTH = 16
WIDE = 48  # a column of sentences


@dataclass(frozen=True)
class WrittenColumn:
    """A workbook column declared under a model's `config.meta.written_as.<sheet>`: a column
    of the model (`value`) or a column holding each row's live formula (`formula`; null: no
    cell), with its number format (or the model column naming each row's,
    `number_format_from`), its `width` and whether the reader types in it (`editable`)."""

    label: str
    value: str | None = None
    formula: str | None = None
    number_format: str | None = None
    number_format_from: str | None = None
    width: float | None = None
    editable: bool = False


@functools.cache
def written_columns(model: str, sheet: str) -> tuple[WrittenColumn, ...]:
    return tuple(WrittenColumn(**column) for column in model_meta(model)["written_as"][sheet])


def excel_value(value: object, yes_no: bool = False) -> object:
    """A value as a cell holds it: missing is empty, numpy scalars and timestamps become
    Python values, text is neutralised; a flag reads yes / no where `yes_no` (a sheet an FMS
    author pastes from), else stays TRUE / FALSE (a column the tasking chair filters)."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date()
    if isinstance(value, np.generic):
        value = value.item()
    if yes_no and isinstance(value, bool):
        return "yes" if value else "no"
    return neutralise_text(value)


def from_printed(columns: Sequence[PrintedColumn]) -> tuple[WrittenColumn, ...]:
    """A printed view (`printed_as`) as a sheet's columns, where the sheet prints what the
    view's CSV prints: the same labels, sentences wide."""
    return tuple(
        WrittenColumn(column.label, value=column.name, width=WIDE if column.wide else None)
        for column in columns
    )


def write_table(
    sheet: Worksheet,
    frame: pd.DataFrame,
    columns: Sequence[WrittenColumn],
    *,
    yes_no: bool = False,
    header_row: int = 1,
    frozen_columns: int = 0,
) -> None:
    """`frame` as a table under a header row of the columns' labels at `header_row`: the
    header and the first `frozen_columns` frozen, a filter over the table."""
    for index, column in enumerate(columns, start=1):
        header = sheet.cell(row=header_row, column=index, value=column.label)
        header.fill, header.font = HEADER_FILL, HEADER_FONT
        header.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(index)].width = column.width or DEFAULT_WIDTH
    for row, record in enumerate(frame.to_dict("records"), start=header_row + 1):
        for index, column in enumerate(columns, start=1):
            if column.formula is None:
                value = excel_value(record[column.value], yes_no)
            elif not isinstance(value := record[column.formula], str):
                continue  # no formula for this row: no cell
            cell = sheet.cell(row=row, column=index, value=value)
            if column.number_format_from is not None:
                cell.number_format = record[column.number_format_from]
            elif column.number_format is not None:
                cell.number_format = column.number_format
            if column.editable:
                cell.fill = EDITABLE_FILL
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=frozen_columns + 1)
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + len(frame)}"
