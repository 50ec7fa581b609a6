"""Streaming writers: one open file per table, appended tile by tile (bounded memory)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def _column(values: np.ndarray) -> pa.Array:
    if values.dtype == object:
        return pa.array(values, type=pa.string(), from_pandas=True)
    # numbers and booleans are rendered by Arrow in C++ (bool -> true/false)
    return pa.array(values).cast(pa.string())


def to_arrow(df: pd.DataFrame, columns: list[str]) -> pa.Table:
    """All-string Arrow table, column by column from numpy arrays (avoids pandas' threaded
    conversion and Python-level number formatting). Arrow tables also cross processes cheaply."""
    arrays = [_column(df[c].to_numpy()) for c in columns]
    return pa.Table.from_arrays(arrays, schema=pa.schema([(c, pa.string()) for c in columns]))


class TableWriter:
    """Append string tables to CSV (RFC 4180, quoting only where needed) or Parquet."""

    def __init__(self, path: Path, columns: list[str], fmt: str = "csv") -> None:
        self.path = path
        self.columns = columns
        self.fmt = fmt
        self.schema = pa.schema([(c, pa.string()) for c in columns])
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            self._writer = pacsv.CSVWriter(
                str(path), self.schema, write_options=pacsv.WriteOptions(quoting_style="needed")
            )
        elif fmt == "parquet":
            self._writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        else:
            raise ValueError(f"fmt must be csv or parquet, got {fmt!r}")

    def write(self, df: pd.DataFrame | pa.Table) -> None:
        table = df if isinstance(df, pa.Table) else to_arrow(df, self.columns)
        if table.num_rows == 0:
            return
        self._writer.write_table(table.select(self.columns))
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()
