"""Location disclosure: which grid cells may be published, and a scan for the ones that may not.

A 500 m square holding one stalking crime is, in practice, the square around a victim's home.
A cell is published (its square, its centre, its count) only where at least `min_victims`
different victims were recorded in it in the published window: counting crimes is not enough,
since one repeat victim with five crimes at home is still one household. Every other cell with
crime is suppressed and never appears with coordinates in any published file.

The scan is the guard's second half: every published text file is searched for coordinate
pairs (WGS84 latitude/longitude in either order, or British National Grid easting/northing)
that fall inside a suppressed cell, and for a suppressed cell's id. A cell's corners lie on its
edges, shared with its neighbours, so only points strictly inside a cell count; a published
GIS layer is also read as GeoJSON and each feature's centre checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.disclosure.guard import published_text

# A decimal number with at least 4 decimals (a WGS84 coordinate to ~10 m or finer), or an
# integer of 5-7 digits with optional decimals (a BNG easting/northing in metres).
_NUMBER = re.compile(r"(?<![\d.])(?:-?\d{1,3}\.\d{4,}|\d{5,7}(?:\.\d+)?)(?![\d])")
# Points this close to a cell edge (metres) are treated as on the edge (corners, rounding).
EDGE_TOLERANCE_M = 2.0


def publishable(cells: pd.DataFrame, min_victims: int) -> pd.Series:
    """True for cells whose location may be published: `victims` >= `min_victims`."""
    return pd.to_numeric(cells["victims"], errors="coerce").fillna(0) >= min_victims


def suppressed(cells: pd.DataFrame, min_victims: int) -> pd.DataFrame:
    """Cells with crime whose location must not be published."""
    crimes = pd.to_numeric(cells["crimes"], errors="coerce").fillna(0)
    return cells.loc[(crimes > 0) & ~publishable(cells, min_victims)]


@dataclass(frozen=True)
class SuppressedCells:
    """The suppressed cells as integer grid positions, for point lookups."""

    cell_size_m: int
    positions: frozenset[tuple[int, int]]
    ids: frozenset[str]

    @classmethod
    def from_cells(cls, cells: pd.DataFrame, cell_size_m: int) -> SuppressedCells:
        col = np.floor(cells["easting"].to_numpy(float) / cell_size_m).astype(np.int64)
        row = np.floor(cells["northing"].to_numpy(float) / cell_size_m).astype(np.int64)
        return cls(
            cell_size_m,
            frozenset(zip(col.tolist(), row.tolist(), strict=True)),
            frozenset(str(i).lower() for i in cells["cell_id"]),
        )

    def inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where the BNG point lies strictly inside a suppressed cell."""
        size = self.cell_size_m
        col = np.floor(x / size).astype(np.int64)
        row = np.floor(y / size).astype(np.int64)
        dx, dy = x - col * size, y - row * size
        interior = (
            (dx > EDGE_TOLERANCE_M)
            & (dx < size - EDGE_TOLERANCE_M)
            & (dy > EDGE_TOLERANCE_M)
            & (dy < size - EDGE_TOLERANCE_M)
        )
        hits = np.array(
            [(c, r) in self.positions for c, r in zip(col.tolist(), row.tolist(), strict=True)],
            dtype=bool,
        )
        return interior & hits


def _candidate_points(numbers: np.ndarray, bng: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """BNG (x, y) of every neighbouring pair of numbers that reads as a coordinate: WGS84
    lon/lat or lat/lon in Great Britain, or (when `bng`) a BNG easting/northing."""
    from pipelines.bng import lonlat_to_bng

    if len(numbers) < 2:
        return np.zeros(0), np.zeros(0)
    a, b = numbers[:-1], numbers[1:]
    xs, ys = [], []
    lon_lat = (a > -9) & (a < 2.5) & (b > 49) & (b < 61.5)
    lat_lon = (b > -9) & (b < 2.5) & (a > 49) & (a < 61.5)
    for lon, lat in ((a[lon_lat], b[lon_lat]), (b[lat_lon], a[lat_lon])):
        if len(lon):
            x, y = lonlat_to_bng(lon, lat)
            xs.append(x)
            ys.append(y)
    if bng:
        grid = (a >= 10_000) & (a < 700_000) & (b >= 10_000) & (b < 1_300_000)
        xs.append(a[grid])
        ys.append(b[grid])
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def scan_locations(text: str, cells: SuppressedCells, bng_pairs: bool = True) -> int:
    """Occurrences in `text` of a suppressed cell's id or of a point inside one.

    `bng_pairs=False` for chart pages: plotly writes x and y as separate arrays, so two
    neighbouring numbers there are two eastings (or two northings) of one line, not a point;
    their squares are checked by `scan_plotly_squares` instead."""
    return sum(location_hits(text, cells, bng_pairs).values())


def location_hits(text: str, cells: SuppressedCells, bng_pairs: bool = True) -> dict[str, int]:
    """`scan_locations` by kind: cell ids, and points inside a suppressed cell."""
    if not cells.positions:
        return {}
    lowered = text.lower()
    numbers = np.array([float(m) for m in _NUMBER.findall(text)], dtype=float)
    x, y = _candidate_points(numbers, bng=bng_pairs)
    hits = {
        "suppressed cell id": count_ids(lowered, cells.ids),
        "point inside a suppressed cell": int(cells.inside(x, y).sum()),
    }
    return {kind: n for kind, n in hits.items() if n}


# Ids are looked for where their first characters occur: a national grid has ~10^5
# suppressed cells, and one `str.count` per id over a 6 MB page took ~17 s.
_ID_ANCHOR = 4


def count_ids(text: str, ids: frozenset[str]) -> int:
    """`sum(text.count(i) for i in ids)` in one pass over the text: each id's non-overlapping
    occurrences (as `str.count` counts them), found from the positions where an id's first
    characters occur rather than by a scan of the text per id."""
    short = [i for i in ids if len(i) < _ID_ANCHOR]
    total = sum(text.count(i) for i in short)
    by_anchor: dict[str, set[int]] = {}
    for cell_id in ids:
        if len(cell_id) >= _ID_ANCHOR:
            by_anchor.setdefault(cell_id[:_ID_ANCHOR], set()).add(len(cell_id))
    found: dict[str, list[int]] = {}
    for anchor, lengths in by_anchor.items():
        start = text.find(anchor)
        while start >= 0:
            for length in lengths:
                candidate = text[start : start + length]
                if candidate in ids:
                    found.setdefault(candidate, []).append(start)
            start = text.find(anchor, start + 1)
    for cell_id, starts in found.items():
        end = -1  # str.count's occurrences do not overlap: greedy, left to right
        for start in starts:
            if start >= end:
                total += 1
                end = start + len(cell_id)
    return total


_NEW_PLOT = re.compile(r"Plotly\.newPlot\(\s*\"[^\"]*\",\s*")


def scan_plotly_squares(text: str, cells: SuppressedCells) -> int:
    """Filled shapes in the page's plotly charts whose centre lies in a suppressed cell (the
    map draws each published cell as a filled square in BNG metres)."""
    if not cells.positions:
        return 0
    decoder = json.JSONDecoder()
    found = 0
    for match in _NEW_PLOT.finditer(text):
        try:
            traces, _ = decoder.raw_decode(text, match.end())
        except json.JSONDecodeError:
            continue
        for trace in traces if isinstance(traces, list) else []:
            if not isinstance(trace, dict) or trace.get("fill") != "toself":
                continue
            centres = _ring_centres(trace.get("x") or [], trace.get("y") or [])
            if len(centres):
                found += int(cells.inside(centres[:, 0], centres[:, 1]).sum())
    return found


def _ring_centres(xs: list, ys: list) -> np.ndarray:
    """Centre of each ring in plotly's None-separated x/y lists (closing vertex ignored)."""
    centres, ring = [], []
    for x, y in zip([*xs, None], [*ys, None], strict=True):
        if x is None or y is None:
            if ring:
                points = np.asarray(ring[:-1] if len(ring) > 1 else ring, float)
                centres.append(points.mean(axis=0))
            ring = []
        else:
            ring.append((x, y))
    return np.asarray(centres, float).reshape(-1, 2)


def scan_geojson(path: Path, cells: SuppressedCells) -> int:
    """Features of a GeoJSON layer whose polygon's centre lies in a suppressed cell."""
    from pipelines.bng import lonlat_to_bng

    try:
        features = json.loads(path.read_text(encoding="utf-8")).get("features", [])
    except (json.JSONDecodeError, AttributeError):
        return 0
    centres = []
    for feature in features:
        geometry = (feature or {}).get("geometry") or {}
        rings = geometry.get("coordinates") or []
        if geometry.get("type") == "Polygon" and rings:
            ring = np.asarray(rings[0], float)
            centres.append(ring[:-1].mean(axis=0) if len(ring) > 1 else ring[0])
        elif geometry.get("type") == "Point" and rings:
            centres.append(np.asarray(rings, float))
    if not centres:
        return 0
    points = np.vstack(centres)
    x, y = lonlat_to_bng(points[:, 0], points[:, 1])
    return int(cells.inside(x, y).sum())


def check_file(path: Path, cells: SuppressedCells, bng_pairs: bool = True) -> dict[str, int]:
    """Every way a published data file could show a suppressed cell's location, by kind.

    `bng_pairs=False` for a file whose columns are counts, rates and labels by contract (the
    FMS demand file, the monthly performance table): at a large force's scale two neighbouring
    counts of 10,000 or more (a forecast and its lower bound) read as an easting and a northing,
    and one falling inside a suppressed cell would refuse a file that holds no location. Cell ids
    and latitude/longitude pairs (four or more decimals, which counts never have) are still
    looked for there."""
    found = location_hits(published_text(path), cells, bng_pairs)
    if path.suffix == ".geojson" and (squares := scan_geojson(path, cells)):
        found["feature on a suppressed cell"] = squares
    return found


def check_page(text: str, cells: SuppressedCells) -> dict[str, int]:
    """The same for a rendered chart page (the profile), by kind."""
    found = location_hits(text, cells, bng_pairs=False)
    if squares := scan_plotly_squares(text, cells):
        found["map square on a suppressed cell"] = squares
    return found


def leak_message(label: str, found: dict[str, int]) -> str:
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(found.items()))
    return (
        f"publish guard refused {label}: it shows the location of grid cells with fewer "
        f"different victims than the disclosure threshold ({kinds}; values not shown)"
    )


def load_suppressed(con, quarter: str, min_victims: int) -> SuppressedCells:
    """The quarter's suppressed cells from marts.hotspots (written by the hotspots step)."""
    cells = con.execute(
        "select cell_id, easting, northing, cell_size_m, crimes, victims "
        "from marts.hotspots where quarter = ?",
        [quarter],
    ).df()
    size = int(cells["cell_size_m"].iloc[0]) if len(cells) else 500
    return SuppressedCells.from_cells(suppressed(cells, min_victims), size)
