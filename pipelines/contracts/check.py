"""`spp check`: validate a delivery exactly as a run would, in seconds, writing nothing.

The same structural gate, the same compiled quarantine SQL and the same quarantine limits as
`spp profile`, run in an in-memory DuckDB that is thrown away: no warehouse, no output folder,
no Dagster. The report holds counts, rule names and data-row numbers only, never values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.contracts.gate import GatePassed, structural_gate
from pipelines.contracts.loader import (
    EARLIEST_PLAUSIBLE_DATE,
    LOAD_ORDER,
    LoadResult,
    load_extract,
    offence_codes,
)
from pipelines.contracts.thresholds import QuarantineLimits, describe, over_limits

EXAMPLE_ROWS = 3


@dataclass
class DeliveryCheck:
    gate: GatePassed
    results: dict[str, LoadResult]
    examples: dict[str, dict[str, list[int]]]  # extract -> rule -> first data rows
    over_limit: list[str] = field(default_factory=list)  # one line per breached limit

    @property
    def would_run(self) -> bool:
        return not self.over_limit

    def as_json(self) -> dict[str, Any]:
        """The data_quality.json layout, plus the quarter and the verdict."""
        extracts = {}
        for name, result in self.results.items():
            entry = result.as_dict()
            entry["example_rows_by_rule"] = self.examples.get(name, {})
            entry["share_quarantined"] = (
                round(result.quarantined / result.read, 4) if (result.read) else 0.0
            )
            extracts[name] = entry
        return {
            "extracts": extracts,
            "quarter": self.gate.quarter,
            "reported_date_range": [
                self.gate.first_reported.isoformat(),
                self.gate.last_reported.isoformat(),
            ],
            "force_area": self.gate.area.description,
            "over_limit": list(self.over_limit),
            "would_run": self.would_run,
        }

    def lines(self) -> list[str]:
        out = []
        for name, result in self.results.items():
            share = result.quarantined / result.read if result.read else 0.0
            out.append(
                f"{Path(result.file).name}: {result.read:,} rows read, {result.loaded:,} loaded, "
                f"{result.quarantined:,} quarantined ({share:.1%})"
            )
            for rule, count in sorted(result.by_rule.items(), key=lambda kv: -kv[1]):
                rows = ", ".join(str(r) for r in self.examples.get(name, {}).get(rule, []))
                out.append(
                    f"    {rule}: {count:,} (data rows {rows}{', ...' if count > 3 else ''})"
                )
            for link, count in result.unlinked.items():
                if count:
                    out.append(f"    soft link {link} finds no loaded row: {count:,} (kept)")
            out += [f"    note: {note}" for note in result.notes]
        out.append(
            f"crimes reported {self.gate.first_reported.isoformat()} to "
            f"{self.gate.last_reported.isoformat()}; a run would profile {self.gate.quarter}"
        )
        out.append(self.gate.area.description)
        out += [f"STOP: {line}" for line in self.over_limit]
        out.append(
            "verdict: a run would proceed"
            if self.would_run
            else "verdict: a run would stop before publishing (see STOP above)"
        )
        return out


def _examples(con: duckdb.DuckDBPyConnection, extract: str) -> dict[str, list[int]]:
    rows = con.execute(
        "select rule, list(source_row order by source_row)[1:?] from raw.quarantine "
        "where extract = ? group by rule",
        [EXAMPLE_ROWS, extract],
    ).fetchall()
    return {rule: [int(r) for r in first] for rule, first in rows}


def check_delivery_folder(
    extracts_dir: Path,
    *,
    quarter: str | None = None,
    configured_area: str = "",
    today: dt.date | None = None,
    limits: QuarantineLimits | None = None,
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> DeliveryCheck:
    """Gate, load into a throw-away in-memory DuckDB, and compare with the quarantine limits.
    Raises StructuralError (or QuarterOutsideData) exactly where a run would stop."""
    gate = structural_gate(Path(extracts_dir), quarter, configured_area, today, earliest)
    limits = limits or QuarantineLimits()
    results: dict[str, LoadResult] = {}
    examples: dict[str, dict[str, list[int]]] = {}
    over: list[str] = []
    codes = offence_codes()
    with duckdb.connect() as con:
        for extract in LOAD_ORDER:
            result = load_extract(
                con,
                Path(extracts_dir),
                extract,
                today=today or dt.date.today(),
                run_id="spp-check",
                area=gate.area,
                codes=codes,
                source=gate.files[extract],
                earliest=earliest,
            )
            results[extract] = result
            examples[extract] = _examples(con, extract)
            over += [describe(con, b, Path(result.file).name) for b in over_limits(result, limits)]
    return DeliveryCheck(gate, results, examples, over)
