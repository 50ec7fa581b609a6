"""Compare two runs' outputs figure by figure: the check that a refactor changed no number.

    python -m pipelines.evaluation.compare_outputs BEFORE AFTER [--warehouses A.duckdb B.duckdb]

BEFORE and AFTER are output folders of `spp profile --out` (one or more YYYY-Qn/ inside). Every
file is compared: every HTML page (the profile, the performance page, the restricted pages) as
its visible text, its tables (by caption), its links and its charts by what they plot (title,
axis titles, each series' name, x, y and text; not how a chart is styled), with the embedded
plotly.js library left out, so markup may change while what a reader sees may not; CSV files
row by row; JSON as data; workbooks sheet by sheet, cell by cell (values and formulas; their
save time is left out); other files byte for byte. With --warehouses, every table of the
schemas `marts` and `reporting` is exported to CSV (sorted rows) and compared too, on the
columns both hold; a table or column found only in AFTER is listed, not failed (a new
reporting model or column has no "before"), a column found only in BEFORE is a difference.

Prints each difference and exits 1 if there is any, 0 when the outputs are identical.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import hashlib
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd

# The plotly.js library embedded once per profile: 4.6 MB of a pinned dependency, not a figure.
PLOTLY_LIBRARY = re.compile(r'(<script id="plotlyjs">)(.*?)(</script>)', re.S)
WAREHOUSE_SCHEMAS = ("marts", "reporting")
# Known run-to-run variation that no published figure shows, reported as notes, not failures:
# timings and the run id in data_quality.json and in the warehouse (with Splink's timings and
# random linker id in marts.resolution_model); Splink's diagnostics page and its float noise;
# the best date of birth of a resolved person when two recorded ones tie (marts.dim_persons
# picks either).
VOLATILE_JSON_KEYS = {"seconds", "run_id", "timings", "records_per_second", "linker_uid"}
VOLATILE_COLUMNS = {"seconds", "run_id"}  # the same timings and run id where a table holds them
VOLATILE_FILES = {"restricted/resolution_diagnostics.html"}
VOLATILE_TABLES = {"marts.dim_persons", "marts.person_match_evidence"}
FLOAT_DIGITS = 10
MAX_LINES_SHOWN = 40


class _ProfileText(HTMLParser):
    """Visible text (one line per block), tables by caption, link targets, chart scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.scripts: list[str] = []
        self.links: list[str] = []
        self._in_script = False
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and (href := dict(attrs).get("href")):
            self.links.append(href)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        elif tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []
        if tag in ("p", "li", "tr", "h1", "h2", "h3", "caption", "div", "section"):
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            name = " ".join((self._caption or f"table {len(self.tables)}").split())
            self.tables[name] = self._rows
            self._rows = None
        elif tag == "caption":
            self._caption = self.lines[-1] if self.lines else ""

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
            return
        if self._cell is not None:
            self._cell.append(data)
        text = " ".join(data.split())
        if text:
            self.lines[-1:] = [(self.lines[-1] + " " + text).strip()] if self.lines else [text]


def _profile_parts(path: Path) -> _ProfileText:
    html = PLOTLY_LIBRARY.sub(r"\1[plotly.js]\3", path.read_text(encoding="utf-8"))
    parser = _ProfileText()
    parser.feed(html)
    parser.lines = [line for line in parser.lines if line]
    return parser


def _diff_lines(name: str, before: list[str], after: list[str]) -> list[str]:
    diff = list(difflib.unified_diff(before, after, "before", "after", lineterm="", n=1))
    if len(diff) > MAX_LINES_SHOWN:
        diff = diff[:MAX_LINES_SHOWN] + [f"... ({len(diff) - MAX_LINES_SHOWN} more lines)"]
    return [f"{name}:", *("  " + line for line in diff)] if diff else []


def compare_profile(name: str, before: Path, after: Path) -> list[str]:
    a, b = _profile_parts(before), _profile_parts(after)
    out: list[str] = []
    for caption in sorted(set(a.tables) | set(b.tables)):
        rows_a = [" | ".join(r) for r in a.tables.get(caption, [])]
        rows_b = [" | ".join(r) for r in b.tables.get(caption, [])]
        if caption not in a.tables or caption not in b.tables:
            out.append(
                f"{name}: table {caption!r} only in {'after' if caption in b.tables else 'before'}"
            )
        else:
            out += _diff_lines(f"{name} table {caption!r}", rows_a, rows_b)
    charts_a, charts_b = _plotted(a.scripts), _plotted(b.scripts)
    if list(charts_a) != list(charts_b):
        out.append(f"{name}: charts {list(charts_a)} before, {list(charts_b)} after")
    for div in charts_a.keys() & charts_b.keys():
        out += _diff_lines(f"{name} chart {div}", charts_a[div], charts_b[div])
    out += _diff_lines(f"{name} text", a.lines, b.lines)
    return out + _diff_lines(f"{name} links", a.links, b.links)


NEW_PLOT = "Plotly.newPlot("
PLOTTED = ("name", "x", "y", "text")  # what a trace plots; its styling is not a figure


def _plotted(scripts: list[str]) -> dict[str, list[str]]:
    """Each chart of the page (by div id) as what a reader sees: its title and axis titles,
    then each trace's name, x, y and text, numbers to FLOAT_DIGITS (plotly's binary arrays
    decoded); how a trace is styled or the figure built is not compared."""
    charts = {}
    decoder = json.JSONDecoder()
    for script in scripts:
        if (at := script.find(NEW_PLOT)) < 0:
            continue
        args, at = [], at + len(NEW_PLOT)
        while len(args) < 3:
            at = len(script) - len(script[at:].lstrip(" \n\t,"))
            value, at = decoder.raw_decode(script, at)
            args.append(value)
        div, traces, layout = args
        lines = [f"title: {_title(layout)}"]
        lines += [f"{axis} title: {_title(layout.get(axis) or {})}" for axis in ("xaxis", "yaxis")]
        for trace in traces:
            shown = {key: _values(trace[key]) for key in PLOTTED if key in trace}
            lines.append(json.dumps(shown, sort_keys=True))
        charts[div] = lines
    return charts


def _title(part: dict) -> str:
    title = part.get("title") or {}
    return str(title.get("text", "") if isinstance(title, dict) else title)


def _values(value: object) -> object:
    """Plotly's arrays as lists (a binary one decoded), numbers to FLOAT_DIGITS digits."""
    if isinstance(value, dict) and "bdata" in value:
        value = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    if isinstance(value, list):
        return [_values(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(f"{value:.{FLOAT_DIGITS}g}")
    return value


def compare_file(name: str, before: Path, after: Path) -> list[str]:
    if before.suffix == ".html":  # every page by what it shows, not by its markup
        return compare_profile(name, before, after)
    if before.suffix == ".xlsx":
        return _diff_lines(name, _workbook_lines(before), _workbook_lines(after))
    if before.suffix == ".json":
        a = _without_keys(json.loads(before.read_text(encoding="utf-8")), VOLATILE_JSON_KEYS)
        b = _without_keys(json.loads(after.read_text(encoding="utf-8")), VOLATILE_JSON_KEYS)
        if a == b:
            return []
        dump = lambda v: json.dumps(v, indent=1, sort_keys=True).splitlines()  # noqa: E731
        return _diff_lines(name, dump(a), dump(b))
    if before.suffix in (".csv", ".html", ".geojson", ".txt", ".md"):
        a = before.read_text(encoding="utf-8").splitlines()
        b = after.read_text(encoding="utf-8").splitlines()
        return _diff_lines(name, a, b)
    same = (
        hashlib.sha256(before.read_bytes()).digest() == hashlib.sha256(after.read_bytes()).digest()
    )
    return [] if same else [f"{name}: bytes differ"]


def _workbook_lines(path: Path) -> list[str]:
    """Every non-empty cell of every sheet as 'A1 = value [number format]' (formulas as
    written), under its sheet's name, plus
    each sheet's print headers and footers: a workbook's content without the save time that
    makes its bytes differ from run to run."""
    workbook = openpyxl.load_workbook(path)
    lines = []
    for sheet in workbook.worksheets:
        lines.append(f"[{sheet.title}] state={sheet.sheet_state} freeze={sheet.freeze_panes}")
        for row in sheet.iter_rows():
            lines += [
                f"{cell.coordinate} = {cell.value!r}"
                + ("" if cell.number_format == "General" else f" [{cell.number_format}]")
                for cell in row
                if cell.value is not None
            ]
        for part in ("oddHeader", "oddFooter"):
            lines.append(
                f"{part}: {getattr(sheet, part).center.text} {getattr(sheet, part).right.text}"
            )
    return lines


def _without_keys(value: object, keys: set[str]) -> object:
    if isinstance(value, dict):
        return {k: _without_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without_keys(v, keys) for v in value]
    return value


def compare_folders(before: Path, after: Path) -> list[str]:
    files_a = {p.relative_to(before).as_posix() for p in before.rglob("*") if p.is_file()}
    files_b = {p.relative_to(after).as_posix() for p in after.rglob("*") if p.is_file()}
    out = [f"{name}: only in before" for name in sorted(files_a - files_b)]
    out += [f"{name}: only in after" for name in sorted(files_b - files_a)]
    for name in sorted(files_a & files_b):
        if name.split("/", 1)[-1] not in VOLATILE_FILES:
            out += compare_file(name, before / name, after / name)
    return out


def warehouse_frames(path: Path) -> dict[str, pd.DataFrame]:
    """Every marts/reporting table as text (floats to 10 digits), read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in (select unnest(?)) order by 1",
            [list(WAREHOUSE_SCHEMAS)],
        ).fetchall()
        out = {}
        for (name,) in names:
            frame = con.execute(f"select * from {name}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in VOLATILE_COLUMNS])
            for column in frame.columns:
                if frame[column].dtype.kind == "f":  # float noise below 10 digits is not a figure
                    frame[column] = frame[column].map(lambda v: f"{v:.{FLOAT_DIGITS}g}")
                elif frame[column].dtype == object:  # nor in the numbers of a JSON document
                    frame[column] = frame[column].map(_json_normalised)
            out[name] = frame.astype(str)
        return out
    finally:
        con.close()


def _json_normalised(value: object) -> object:
    """A JSON document held in a text column, without its volatile keys and with its numbers
    to FLOAT_DIGITS significant digits (other text as it is)."""
    if not (isinstance(value, str) and value[:1] in "{["):
        return value
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        return value
    return json.dumps(_floats_rounded(_without_keys(document, VOLATILE_JSON_KEYS)), sort_keys=True)


def _floats_rounded(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.{FLOAT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: _floats_rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats_rounded(v) for v in value]
    return value


def _csv_lines(frame: pd.DataFrame) -> list[str]:
    """Header, then the rows sorted (row order is not a figure)."""
    frame = frame.sort_values(list(frame.columns)) if len(frame.columns) else frame
    return [",".join(frame.columns), *(",".join(r) for r in frame.values.tolist())]


def warehouse_tables(path: Path) -> dict[str, list[str]]:
    """Every marts/reporting table as CSV lines (header, then rows sorted), read-only."""
    return {name: _csv_lines(frame) for name, frame in warehouse_frames(path).items()}


def compare_warehouses(before: Path, after: Path) -> tuple[list[str], list[str]]:
    """(differences, notes). Tables and columns only in AFTER are notes (a new model or column
    has no "before"; outputs only grow); the columns both hold are compared row by row. A
    column only in BEFORE is a difference."""
    a, b = warehouse_frames(before), warehouse_frames(after)
    notes = [f"table {t}: only in before" for t in sorted(set(a) - set(b))]
    notes += [f"table {t}: only in after" for t in sorted(set(b) - set(a))]
    out: list[str] = []
    for table in sorted(set(a) & set(b)):
        added = [c for c in b[table].columns if c not in a[table].columns]
        dropped = [c for c in a[table].columns if c not in b[table].columns]
        if added:
            notes.append(f"table {table}: new column(s) {', '.join(added)} (not compared)")
        if dropped:
            out.append(f"table {table}: column(s) {', '.join(dropped)} only in before")
        common = [c for c in a[table].columns if c in b[table].columns]
        diff = _diff_lines(
            f"table {table}", _csv_lines(a[table][common]), _csv_lines(b[table][common])
        )
        if diff and table in VOLATILE_TABLES:
            notes.append(f"table {table}: differs (known run-to-run variation, not published)")
        else:
            out += diff
    return out, notes


def export_reporting(warehouse: Path, folder: Path) -> list[Path]:
    """Write every reporting.rpt_* table to FOLDER/<table>.csv (for a note or a review)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, lines in warehouse_tables(warehouse).items():
        if name.startswith("reporting."):
            path = folder / f"{name.split('.', 1)[1]}.csv"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--warehouses", nargs=2, type=Path, metavar=("BEFORE_DB", "AFTER_DB"))
    parser.add_argument(
        "--export-reporting",
        type=Path,
        metavar="DIR",
        help="also write every reporting.rpt_* table of AFTER_DB to DIR/<table>.csv",
    )
    args = parser.parse_args(argv)
    if args.export_reporting and args.warehouses:
        written = export_reporting(args.warehouses[1], args.export_reporting)
        print(f"note: {len(written)} reporting tables written to {args.export_reporting}")
    differences = compare_folders(args.before, args.after)
    notes: list[str] = []
    if args.warehouses:
        more, notes = compare_warehouses(*args.warehouses)
        differences += more
    for line in notes:
        print(f"note: {line}")
    for line in differences:
        print(line)
    if differences:
        print(f"DIFFERENT: {sum(1 for d in differences if not d.startswith('  '))} difference(s)")
        return 1
    print("IDENTICAL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
