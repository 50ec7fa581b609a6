"""The invented force area: "Kessmoor", an inland English county in the West Midlands' latitude
band, with one county town, market towns and villages strung along streets.

Postcodes use an invented area code (KM, plus WQ for the rural east) whose districts map to
towns; each postcode unit sits at a point on one street of its town, so a home postcode places a
person, and crimes happen at homes, on streets, near workplaces or online.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CENTRE_LAT = 52.31
CENTRE_LON = -2.12
KM_PER_DEG_LAT = 111.2
KM_PER_DEG_LON = KM_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT))

# Boundary: radius (km) from the centre at 20 evenly spaced bearings, hand-picked to give an
# irregular county shape (a river boundary bites in on the west).
BOUNDARY_RADII_KM = (
    34.0, 37.5, 41.0, 39.0, 36.0, 38.5, 42.0, 40.0, 35.5, 31.0,
    26.0, 24.5, 28.0, 33.0, 35.0, 32.5, 29.0, 30.5, 33.5, 36.0,
)  # fmt: skip

# (name, east km, north km, relative population, spread km, postcode districts)
TOWNS = (
    ("Kessmoor", 0.0, 0.0, 10.0, 3.2, ("KM1", "KM2", "KM3", "KM4", "KM5")),
    ("Alderbury", 14.0, 9.0, 4.0, 2.0, ("KM8", "KM9")),
    ("Wexcombe", -11.0, 12.0, 3.0, 1.8, ("KM11", "KM12")),
    ("Hollinford", 6.0, -15.0, 3.5, 2.0, ("KM14", "KM15")),
    ("Stannington Vale", -16.0, -8.0, 2.0, 1.5, ("KM17",)),
    ("Brackley Cross", 21.0, -6.0, 2.0, 1.4, ("WQ2", "WQ3")),
    ("Marden Heath", -3.0, 22.0, 1.0, 1.0, ("KM20",)),
    ("Oakhanger", 24.0, 16.0, 0.8, 0.9, ("WQ7",)),
    ("Fenny Stoke", -6.0, -24.0, 0.7, 0.9, ("KM23",)),
)  # fmt: skip

INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # real inward codes avoid C, I, K, M, O, V


def to_latlon(east_km: np.ndarray, north_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return CENTRE_LAT + north_km / KM_PER_DEG_LAT, CENTRE_LON + east_km / KM_PER_DEG_LON


def boundary_km() -> list[tuple[float, float]]:
    """(east, north) km of the boundary's vertices, closed."""
    n = len(BOUNDARY_RADII_KM)
    pts = []
    for i, r in enumerate(BOUNDARY_RADII_KM):
        bearing = 2 * math.pi * i / n
        pts.append((r * math.sin(bearing), r * math.cos(bearing)))
    return [*pts, pts[0]]


def write_force_area(path: Path) -> None:
    ring = []
    for east, north in boundary_km():
        lat, lon = to_latlon(np.array(east), np.array(north))
        ring.append([round(float(lon), 6), round(float(lat), 6)])
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Kessmoor (invented force area)"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")


def inside_km(east: float, north: float, margin_km: float = 1.5) -> bool:
    """Whether a point lies inside the boundary by at least a margin (radial test: the
    boundary is star-shaped around the centre, so interpolating its radius is exact enough)."""
    n = len(BOUNDARY_RADII_KM)
    r = math.hypot(east, north)
    bearing = math.atan2(east, north) % (2 * math.pi)
    i = int(bearing / (2 * math.pi) * n) % n
    # the chord between two vertices lies inside both radii; the smaller is a safe bound
    limit = min(BOUNDARY_RADII_KM[i], BOUNDARY_RADII_KM[(i + 1) % n]) * math.cos(math.pi / n)
    return r <= limit - margin_km


@dataclass
class Street:
    town: int
    start: tuple[float, float]
    end: tuple[float, float]


@dataclass
class Geography:
    streets: list[Street] = field(default_factory=list)
    # postcode -> (east km, north km, town index)
    postcodes: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    postcodes_by_town: list[list[str]] = field(default_factory=list)
    town_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # retired postcodes (recoded by the postal service): still typed from old paperwork
    retired: dict[str, str] = field(default_factory=dict)  # current -> old

    def point_near(self, rng: np.random.Generator, postcode: str, jitter_km: float = 0.08):
        east, north, _ = self.postcodes[postcode]
        return self._clamp(east + rng.normal(0, jitter_km), north + rng.normal(0, jitter_km))

    def street_point(self, rng: np.random.Generator, town: int):
        streets = [s for s in self.streets if s.town == town]
        s = streets[int(rng.integers(len(streets)))]
        t = rng.random()
        east = s.start[0] + t * (s.end[0] - s.start[0]) + rng.normal(0, 0.02)
        north = s.start[1] + t * (s.end[1] - s.start[1]) + rng.normal(0, 0.02)
        return self._clamp(east, north)

    @staticmethod
    def _clamp(east: float, north: float) -> tuple[float, float]:
        if inside_km(east, north, 0.5):
            return east, north
        return east * 0.9, north * 0.9


def build_geography(rng: np.random.Generator, units_per_district: int) -> Geography:
    geo = Geography()
    geo.town_weights = np.array([t[3] for t in TOWNS], dtype=float)
    geo.town_weights /= geo.town_weights.sum()
    for ti, (_, cx, cy, _, spread, districts) in enumerate(TOWNS):
        n_streets = max(6, int(12 * spread))
        town_streets = []
        for _ in range(n_streets):
            angle = rng.uniform(0, math.pi)
            length = rng.uniform(0.3, 1.6)
            mx = cx + rng.normal(0, spread / 2)
            my = cy + rng.normal(0, spread / 2)
            dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
            street = Street(ti, (mx - dx, my - dy), (mx + dx, my + dy))
            town_streets.append(street)
        geo.streets += town_streets
        codes: list[str] = []
        for district in districts:
            used: set[str] = set()
            while len(used) < units_per_district:
                inward = (
                    f"{int(rng.integers(1, 10))}"
                    f"{INWARD_LETTERS[int(rng.integers(len(INWARD_LETTERS)))]}"
                    f"{INWARD_LETTERS[int(rng.integers(len(INWARD_LETTERS)))]}"
                )
                if inward in used:
                    continue
                used.add(inward)
                code = f"{district} {inward}"
                s = town_streets[int(rng.integers(len(town_streets)))]
                t = rng.random()
                east = s.start[0] + t * (s.end[0] - s.start[0])
                north = s.start[1] + t * (s.end[1] - s.start[1])
                east, north = Geography._clamp(east, north)
                geo.postcodes[code] = (east, north, ti)
                codes.append(code)
        geo.postcodes_by_town.append(codes)
    # about one unit in twelve was recoded at some point: the old code still appears on records
    for code in list(geo.postcodes):
        if rng.random() < 0.08:
            outward, inward = code.split(" ")
            old = f"{outward} {int(rng.integers(1, 10))}{inward[1:]}"
            if old not in geo.postcodes:
                geo.retired[code] = old
    return geo
