"""Geography of the synthetic force: LSOA polygons, residents, point pools and postcodes.

The demo force is North Yorkshire (2011 LSOAs with census population, read from the shared
data folder, never copied). Bigger presets tile copies of it, each squeezed into one cell of a
grid laid over a target bounding box, so every tile is a self-contained "force" with the same
shape and the union of the tiles is the force area.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from pipelines.paths import SHARED_DATA_DIR

LSOA_FILE = SHARED_DATA_DIR / "geo" / "LSOA11_north_yorkshire.geojson"

# Points pre-drawn inside each LSOA; homes and offence places are picked from these pools so
# that every clean coordinate is inside the force area by construction.
POOL_PER_LSOA = 96

# Postcode districts per local authority (real outward codes of the area; inward codes are
# synthetic). Only the format matters to the pipeline, but plausible districts help analysts.
_DISTRICTS: dict[str, tuple[str, ...]] = {
    "York UA": ("YO1", "YO10", "YO19", "YO23", "YO24", "YO26", "YO30", "YO31", "YO32"),
    "Harrogate": ("HG1", "HG2", "HG3", "HG4", "HG5", "LS22", "YO51"),
    "Scarborough": ("YO11", "YO12", "YO13", "YO14", "YO21", "YO22"),
    "Hambleton": ("DL6", "DL7", "YO7", "YO61", "TS9"),
    "Selby": ("YO8", "LS24", "LS25", "DN14"),
    "Richmondshire": ("DL8", "DL9", "DL10", "DL11"),
    "Craven": ("BD23", "BD24", "LA2"),
    "Ryedale": ("YO17", "YO18", "YO60", "YO62"),
}
INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


@dataclass(frozen=True)
class Area:
    """One tile of geography. Arrays are aligned on LSOA index."""

    lsoa_code: np.ndarray  # str
    lad: np.ndarray  # str
    population: np.ndarray  # float
    district: np.ndarray  # postcode outward code per LSOA
    sector: np.ndarray  # postcode sector digit per LSOA
    pool_x: np.ndarray  # (n_lsoa, POOL_PER_LSOA) longitude
    pool_y: np.ndarray  # latitude
    boundary: shapely.Geometry  # union of the LSOAs, WGS84

    @property
    def n(self) -> int:
        return len(self.lsoa_code)


@functools.lru_cache(maxsize=4)
def load_base_area(path: Path = LSOA_FILE, lads: tuple[str, ...] | None = None) -> Area:
    """Read LSOAs, draw the point pools (fixed seed: geography is the fixed world; the user's
    seed varies the people) and dissolve the boundary. Cached: national reuses it 250 times."""
    # Without the shared boundaries (e.g. a clone that is not beside ../shared) the generator
    # still works, on a stand-in grid over the same area; real boundaries are always preferred.
    features = json.loads(path.read_text())["features"] if path.exists() else _stand_in_lsoas()
    if lads is not None:
        features = [f for f in features if f["properties"]["LAD_name"] in lads]
    features.sort(key=lambda f: f["properties"]["LSOA11CD"])  # file order must not matter
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features])
    codes = np.array([f["properties"]["LSOA11CD"] for f in features])
    lad = np.array([f["properties"]["LAD_name"] for f in features])
    pop = np.array([float(f["properties"]["pop_2011"]) for f in features])
    rng = np.random.default_rng(20111)
    pool_x, pool_y = _point_pools(geoms, rng)
    district = np.array([rng.choice(_DISTRICTS.get(name, ("YO7",))) for name in lad])
    sector = rng.integers(1, 10, len(codes)).astype(str)
    boundary = shapely.union_all(geoms)
    return Area(codes, lad, pop, district, sector, pool_x, pool_y, boundary)


@functools.lru_cache(maxsize=4)
def district_polygons(
    path: Path = LSOA_FILE, lads: tuple[str, ...] | None = None
) -> tuple[tuple[str, shapely.Geometry], ...]:
    """The force's districts (local authorities) as (name, polygon) in WGS84: the LSOAs of
    each district dissolved, from the real file or the stand-in grid (same source as
    `load_base_area`, so every generated point falls in one of them)."""
    features = json.loads(path.read_text())["features"] if path.exists() else _stand_in_lsoas()
    by_name: dict[str, list] = {}
    for f in features:
        name = f["properties"]["LAD_name"]
        if lads is None or name in lads:
            by_name.setdefault(name, []).append(shapely.geometry.shape(f["geometry"]))
    return tuple((name, shapely.union_all(parts)) for name, parts in sorted(by_name.items()))


def districts_geojson(districts: list[tuple[str, shapely.Geometry]]) -> str:
    """FeatureCollection of the districts, named in `LAD_name` like the LSOA files (so one
    setting, places.district_property, reads both). Simplified to ~50 m: the file draws
    boundaries and places crimes in districts, it is not a survey."""
    features = [
        {
            "type": "Feature",
            "properties": {"LAD_name": name},
            "geometry": json.loads(shapely.to_geojson(geom.simplify(0.0005), indent=None)),
        }
        for name, geom in districts
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


def _stand_in_lsoas() -> list[dict]:
    """A stand-in for North Yorkshire's LSOAs: a 24 x 20 grid of cells over the force's
    bounding box, each given a district of the real force and a census-like population (denser
    towards the York corner), in the same GeoJSON-feature shape as the real file."""
    rng = np.random.default_rng(493)
    lon_edges = np.linspace(-2.55, -0.25, 25)
    lat_edges = np.linspace(53.65, 54.55, 21)
    lads = list(_DISTRICTS)
    features = []
    for i in range(len(lon_edges) - 1):
        for j in range(len(lat_edges) - 1):
            x0, x1, y0, y1 = lon_edges[i], lon_edges[i + 1], lat_edges[j], lat_edges[j + 1]
            near_york = np.hypot(x0 + 1.08, y0 - 53.96)
            features.append(
                {
                    "properties": {
                        "LSOA11CD": f"X{i:02d}{j:02d}",
                        "LAD_name": lads[(i * 3 + j) // 11 % len(lads)],
                        "pop_2011": float(1200 + rng.gamma(2.0, 300) / (0.3 + near_york)),
                    },
                    "geometry": shapely.geometry.mapping(shapely.box(x0, y0, x1, y1)),
                }
            )
    return features


def _point_pools(geoms: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rejection-sample POOL_PER_LSOA points inside every polygon (vectorised per round)."""
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    shapely.prepare(geoms)
    xs = np.full((n, POOL_PER_LSOA), np.nan)
    ys = np.full((n, POOL_PER_LSOA), np.nan)
    filled = np.zeros(n, dtype=int)
    for _ in range(200):
        need = filled < POOL_PER_LSOA
        if not need.any():
            break
        idx = np.repeat(np.nonzero(need)[0], POOL_PER_LSOA)
        x = rng.uniform(bounds[idx, 0], bounds[idx, 2])
        y = rng.uniform(bounds[idx, 1], bounds[idx, 3])
        ok = shapely.contains_xy(geoms[idx], x, y)
        for i, px, py in zip(idx[ok], x[ok], y[ok], strict=True):
            if filled[i] < POOL_PER_LSOA:
                xs[i, filled[i]] = px
                ys[i, filled[i]] = py
                filled[i] += 1
    # Slivers that never got enough points reuse the representative point.
    rep = shapely.point_on_surface(geoms)
    rx, ry = shapely.get_x(rep), shapely.get_y(rep)
    xs = np.where(np.isnan(xs), rx[:, None], xs)
    ys = np.where(np.isnan(ys), ry[:, None], ys)
    return np.round(xs, 6), np.round(ys, 6)


def tile_transforms(
    n_tiles: int, base_bounds: tuple[float, float, float, float], target: tuple | None
) -> list[tuple[float, float, float, float]]:
    """Affine (ax, bx, ay, by) per tile: x' = ax*x + bx. Tiles fill a grid over `target`
    (default: the base bounds) so tiles never overlap."""
    if n_tiles == 1 and target is None:
        return [(1.0, 0.0, 1.0, 0.0)]
    minx, miny, maxx, maxy = base_bounds
    tminx, tminy, tmaxx, tmaxy = target if target is not None else base_bounds
    cols = int(np.ceil(np.sqrt(n_tiles)))
    rows = int(np.ceil(n_tiles / cols))
    cell_w = (tmaxx - tminx) / cols
    cell_h = (tmaxy - tminy) / rows
    ax = cell_w / (maxx - minx) * 0.98  # a small gap keeps neighbouring tiles disjoint
    ay = cell_h / (maxy - miny) * 0.98
    out = []
    for k in range(n_tiles):
        r, c = divmod(k, cols)
        out.append((ax, tminx + c * cell_w - ax * minx, ay, tminy + r * cell_h - ay * miny))
    return out


def transform_area(base: Area, t: tuple[float, float, float, float]) -> Area:
    ax, bx, ay, by = t
    if t == (1.0, 0.0, 1.0, 0.0):
        return base
    boundary = shapely.transform(base.boundary, lambda c: c * [ax, ay] + [bx, by])
    return Area(
        base.lsoa_code,
        base.lad,
        base.population,
        base.district,
        base.sector,
        np.round(base.pool_x * ax + bx, 6),
        np.round(base.pool_y * ay + by, 6),
        boundary,
    )


STAND_IN_CAVEAT = (
    "This demo force was generated without the real LSOA boundaries (../shared/data was not "
    "found), on a stand-in grid of square areas over North Yorkshire: maps and places are "
    "illustrative only."
)


def boundary_geojson(boundaries: list[shapely.Geometry], stand_in: bool | None = None) -> str:
    """FeatureCollection with one MultiPolygon: the force area in WGS84. A stand-in geography
    (no real LSOA file) is said in a `caveat` property, which the profile prints."""
    geom = shapely.union_all(boundaries) if len(boundaries) > 1 else boundaries[0]
    stand_in = (not LSOA_FILE.exists()) if stand_in is None else stand_in
    properties = {"name": "Synthetic force area"}
    if stand_in:
        properties["caveat"] = STAND_IN_CAVEAT
    feature = {
        "type": "Feature",
        "properties": properties,
        "geometry": json.loads(shapely.to_geojson(geom, indent=None)),
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]})


def postcodes(area: Area, lsoa_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """UK-format postcodes ('YO12 5AB'): the LSOA's district and sector, random unit."""
    n = len(lsoa_idx)
    letters = INWARD_LETTERS[rng.integers(0, len(INWARD_LETTERS), (n, 2))]
    unit = np.char.add(letters[:, 0], letters[:, 1])
    outward = area.district[lsoa_idx]
    return np.char.add(np.char.add(np.char.add(outward, " "), area.sector[lsoa_idx]), unit)
