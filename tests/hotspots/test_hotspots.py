"""Hotspots: Gi* finds a planted cluster and nothing in spatial randomness; PAI/PEI/RRI by hand;
change classes; the `spp hotspots` entry point and the GIS/map helpers on small files."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pipelines.hotspots import (
    HotspotParams,
    compute_hotspots,
    find_hotspots_in_file,
    pai,
    pei,
    rri,
    write_geojson,
)
from pipelines.hotspots.change import change_classes
from pipelines.hotspots.grid import bng_to_lonlat

# The FDR decision uses exact randomisation p; the Monte-Carlo check needs few permutations.
PARAMS = HotspotParams(cell_size_m=500, permutations=199, fdr_alpha=0.05, seed=3)
# A 20 km square in York (BNG metres).
X0, Y0, SIDE = 450_000.0, 440_000.0, 20_000.0


def _points(x: np.ndarray, y: np.ndarray, quarter: str = "2025-Q1") -> pd.DataFrame:
    lon, lat = bng_to_lonlat(x, y)
    return pd.DataFrame({"latitude": lat, "longitude": lon, "quarter": quarter})


def _uniform(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _points(X0 + rng.uniform(0, SIDE, n), Y0 + rng.uniform(0, SIDE, n))


def test_gistar_finds_a_planted_cluster() -> None:
    rng = np.random.default_rng(11)
    background = _uniform(1_600, seed=11)  # ~1 point per cell
    cx, cy = X0 + 7_250, Y0 + 12_250  # cluster centre, inside one cell
    cluster = _points(cx + rng.normal(0, 300, 80), cy + rng.normal(0, 300, 80))
    cells, _ = compute_hotspots(pd.concat([background, cluster]), PARAMS)
    hot = cells[cells["gi_class"] == "hot"]
    assert len(hot) >= 3
    # Every hot cell lies within 1.5 km of the planted centre; the centre cell is hot.
    distance = np.hypot(hot["easting"] - cx, hot["northing"] - cy)
    assert distance.max() < 1_500
    centre = cells.loc[np.hypot(cells["easting"] - cx, cells["northing"] - cy).idxmin()]
    assert centre["gi_class"] == "hot" and centre["is_hotspot"]


@pytest.mark.parametrize("seed", [1, 2])
def test_gistar_finds_nothing_in_spatial_randomness(seed: int) -> None:
    cells, _ = compute_hotspots(_uniform(2_000, seed=seed), PARAMS)
    assert len(cells) > 1_000
    assert (cells["gi_class"] == "hot").sum() == 0
    assert (cells["gi_class"] == "cold").sum() == 0


def test_pai_pei_rri_against_hand_computed_values() -> None:
    observed = np.array([5, 3, 0, 2, 0, 4, 1, 0, 3, 2])  # C = 20 over 10 equal cells
    flagged = np.zeros(10, bool)
    flagged[[0, 1]] = True
    # (8 / 20) / (2 / 10) = 2.0
    assert pai(flagged, observed) == pytest.approx(2.0)
    # Unequal areas: flagged 2 km2 of 20 km2 -> (8/20)/(2/20) = 4.0
    assert pai(flagged, observed, np.r_[1.0, 1.0, np.full(8, 2.25)]) == pytest.approx(4.0)
    # Best two cells hold 5 + 4 = 9 -> best PAI 2.25; PEI = 2.0 / 2.25
    assert pei(flagged, observed) == pytest.approx(2.0 / 2.25)
    predicted = np.array([4.0, 2.0, 0, 0, 0, 0, 0, 0, 0, 0])
    assert rri(flagged, predicted, observed) == pytest.approx(6 / 8)
    assert rri(flagged, predicted, np.zeros(10)) == math.inf
    assert math.isnan(pai(np.zeros(10, bool), observed))


def test_change_classes_follow_emerging_hotspot_rules() -> None:
    quarters = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    spec = {
        "new": ([0.1, 0.2, 0.1, 3.0], [0, 0, 0, 1]),
        "intensifying": ([2.5, 3.0, 3.5, 4.0], [1, 1, 1, 1]),
        "diminishing": ([5.0, 4.5, 4.0, 3.0], [1, 1, 1, 1]),
        "persistent": ([3.0, 3.2, 2.9, 3.1], [1, 1, 1, 1]),
        "former": ([3.0, 3.1, 3.0, 0.5], [1, 1, 1, 0]),
        "none": ([0.0, 0.1, 0.0, 0.2], [0, 0, 0, 0]),
    }
    rows = [
        {"quarter": q, "cell_id": cell, "gi_z": z[i], "gi_class": "hot" if h[i] else "ns"}
        for cell, (z, h) in spec.items()
        for i, q in enumerate(quarters)
    ]
    panel = pd.DataFrame(rows)
    panel["change_class"] = change_classes(panel, window_quarters=4)
    last = panel[panel["quarter"] == quarters[-1]].set_index("cell_id")["change_class"]
    assert last.to_dict() == {cell: cell for cell in spec}


def test_find_hotspots_in_file_on_police_uk_style_csv(tmp_path) -> None:
    rng = np.random.default_rng(5)
    n = 600
    x = np.r_[X0 + rng.uniform(0, 8_000, n), X0 + 4_000 + rng.normal(0, 200, 120)]
    y = np.r_[Y0 + rng.uniform(0, 8_000, n), Y0 + 4_000 + rng.normal(0, 200, 120)]
    lon, lat = bng_to_lonlat(x, y)
    months = rng.choice(["2024-11", "2024-12", "2025-01"], len(x))
    src = tmp_path / "points.csv"
    pd.DataFrame({"Month": months, "Longitude": lon, "Latitude": lat}).to_csv(src, index=False)
    written = find_hotspots_in_file(src, cell_size_m=500, out=None)
    out = written.path
    assert out == tmp_path / "points_hotspots.csv"
    assert written.rows_read == len(x) and written.left_out == {}
    table = pd.read_csv(out)
    required = {"quarter", "cell_id", "latitude", "longitude", "crimes", "gi_z", "is_hotspot"}
    assert required <= set(table.columns)
    assert set(table["quarter"]) == {"2024-Q4", "2025-Q1"}
    assert table.groupby("quarter")["crimes"].sum().sum() == len(x)
    assert table["is_hotspot"].any()
    assert table["cell_id"].str.startswith("500m_E").all()
    # The same method choice as the profile: its back-test beside the cells.
    methods = pd.read_csv(tmp_path / "points_hotspots_backtest.csv")
    chosen = methods.loc[methods["is_chosen"], "method"].tolist()
    assert len(chosen) == 1 and set(table["prediction_method"]) == set(chosen)


def test_find_hotspots_in_file_says_which_rows_it_left_out(tmp_path) -> None:
    """Every row is used or named with its reason (rows of no location, text, points outside
    Great Britain, dates that cannot be read); none goes in silence."""
    lon, lat = bng_to_lonlat(X0 + np.arange(8) * 300.0, Y0 + np.arange(8) * 300.0)
    rows = pd.DataFrame({"Month": "2025-01", "Latitude": lat.astype(str), "Longitude": lon})
    rows.loc[1, ["Latitude", "Longitude"]] = [None, np.nan]
    rows.loc[2, "Latitude"] = "abc"
    rows.loc[3, "Latitude"] = "95"
    rows.loc[4, "Month"] = "not a month"
    src = tmp_path / "points.csv"
    rows.to_csv(src, index=False)
    written = find_hotspots_in_file(src, cell_size_m=500, out=None)
    assert written.rows_read == 8
    assert written.left_out == {
        "no latitude/longitude": [2],
        "one of latitude and longitude missing or not a number": [3],
        "outside Great Britain": [4],
        "date not readable": [5],
    }
    cells = pd.read_csv(written.path)
    assert cells["crimes"].sum() == 8 - 4


def test_find_hotspots_in_file_rejects_files_without_coordinates(tmp_path) -> None:
    src = tmp_path / "bad.csv"
    pd.DataFrame({"x": [1], "y": [2]}).to_csv(src, index=False)
    with pytest.raises(ValueError, match="latitude"):
        find_hotspots_in_file(src, cell_size_m=None, out=str(tmp_path / "o.csv"))


def test_published_locations_need_enough_distinct_victims(tmp_path) -> None:
    """A cell is published (GIS layer, map) only with >= min_count different victims: a busy
    cell whose crimes all have one victim (a repeat victim at home) is never drawn."""
    from pipelines.disclosure.locations import SuppressedCells, check_file, suppressed
    from pipelines.hotspots.victims import distinct_victims_by_cell, with_victims

    rng = np.random.default_rng(9)
    cluster = _points(X0 + 5_000 + rng.normal(0, 250, 150), Y0 + 5_000 + rng.normal(0, 250, 150))
    cluster["victim_key"] = [f"v{i}" for i in range(len(cluster))]
    # Eight crimes in one cell, all against the same person.
    home = _points(np.full(8, X0 + 12_100.0), np.full(8, Y0 + 3_100.0))
    home["victim_key"] = "one_victim"
    background = _uniform(400, seed=9)
    background["victim_key"] = [f"b{i}" for i in range(len(background))]
    points = pd.concat([background, cluster, home], ignore_index=True)
    cells, density = compute_hotspots(points, PARAMS)
    cells = with_victims(cells, distinct_victims_by_cell(points, PARAMS.cell_size_m))
    assert (density["density_per_km2"] >= 0).all() and density["density_per_km2"].max() > 0
    home_cell = cells[cells["crimes"] == 8]
    assert len(home_cell) == 1 and int(home_cell["victims"].iloc[0]) == 1

    path = write_geojson(cells, tmp_path / "gis" / "hotspots.geojson", min_count=5)
    features = json.loads(path.read_text())["features"]
    assert features and all(f["geometry"]["type"] == "Polygon" for f in features)
    assert all(f["properties"]["victims"] >= 5 for f in features)
    published_ids = {f["properties"]["cell_id"] for f in features}
    assert home_cell["cell_id"].iloc[0] not in published_ids
    assert published_ids == set(cells.loc[cells["victims"] >= 5, "cell_id"])

    # The guard's location scan passes the layer, and finds a suppressed cell written into it.
    hidden = SuppressedCells.from_cells(suppressed(cells, 5), PARAMS.cell_size_m)
    assert check_file(path, hidden) == {}
    leaked = tmp_path / "leak.csv"
    row = home_cell.iloc[0]
    leaked.write_text(f"lat,lon\n{row.latitude:.5f},{row.longitude:.5f}\n")
    assert check_file(leaked, hidden) == {"point inside a suppressed cell": 1}
    # A count-only file (the FMS demand table): two neighbouring counts that read as a BNG point
    # inside the suppressed cell are counts there, not a location; a latitude/longitude pair in
    # it is still caught.
    counts = tmp_path / "demand.csv"
    counts.write_text(f"value,lo80\n{row.easting + 100:.0f},{row.northing + 100:.0f}\n")
    assert check_file(counts, hidden) == {"point inside a suppressed cell": 1}
    assert check_file(counts, hidden, bng_pairs=False) == {}
    assert check_file(leaked, hidden, bng_pairs=False) == {"point inside a suppressed cell": 1}
    leaked_layer = tmp_path / "leak.geojson"
    leaked_layer.write_text(
        path.read_text().replace('"features": [', '"features": [' + _feature(row) + ",")
    )
    assert check_file(leaked_layer, hidden)["feature on a suppressed cell"] == 1

    # A chart page: a filled square on a suppressed cell is caught; a boundary line through
    # it, and the squares of published cells, are not.
    from pipelines.disclosure.locations import scan_locations, scan_plotly_squares

    def square(e: float, n: float) -> tuple[list, list]:
        h = row.cell_size_m / 2
        return [e - h, e + h, e + h, e - h, e - h, None], [n - h, n - h, n + h, n + h, n - h, None]

    shown = cells[cells["victims"] >= 5].iloc[0]
    sx, sy = square(shown.easting, shown.northing)
    hx, hy = square(row.easting, row.northing)
    line = {"mode": "lines", "x": [row.easting - 300, row.easting + 7], "y": [row.northing, 0]}

    def page(*traces: dict) -> str:
        return f'Plotly.newPlot("chart-map", {json.dumps(list(traces))}, {{"template": {{}}}})'

    published_only = page({"fill": "toself", "x": sx, "y": sy}, line)
    assert scan_plotly_squares(published_only, hidden) == 0
    assert scan_locations(published_only, hidden, bng_pairs=False) == 0
    assert scan_plotly_squares(page({"fill": "toself", "x": sx + hx, "y": sy + hy}), hidden) == 1


def _feature(row) -> str:
    from pipelines.hotspots.grid import bng_to_lonlat

    h = row.cell_size_m / 2
    xs = [row.easting - h, row.easting + h, row.easting + h, row.easting - h, row.easting - h]
    ys = [row.northing - h, row.northing - h, row.northing + h, row.northing + h, row.northing - h]
    lon, lat = bng_to_lonlat(np.array(xs), np.array(ys))
    ring = [[round(a, 6), round(b, 6)] for a, b in zip(lon, lat, strict=True)]
    return json.dumps({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}})


def test_vectorised_weights_and_analytic_z_match_pysal() -> None:
    """The grid weights are queen contiguity (libpysal's lat2W) and the analytic Gi* z is
    esda.G_Local's, so history quarters computed without permutations rank like PySAL."""
    import warnings

    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    from pipelines.hotspots.gistar import gi_star_z
    from pipelines.hotspots.grid import grid_weights

    rows, cols = 7, 9
    cells = pd.DataFrame(
        {"col": np.tile(np.arange(cols), rows), "row": np.repeat(np.arange(rows), cols)}
    )
    weights = grid_weights(cells, neighbour_rings=1)
    queen = lat2W(rows, cols, rook=False)
    assert (weights.window - weights.window.T).nnz == 0
    expected = queen.sparse.toarray() + np.eye(rows * cols)
    assert np.array_equal(weights.window.toarray(), expected)
    y = np.random.default_rng(4).poisson(0.8, rows * cols).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = G_Local(y, queen, transform="B", star=True, permutations=0).Zs
    assert np.allclose(gi_star_z(y, weights), reference)


def test_permutations_only_for_the_requested_quarters() -> None:
    """History quarters: analytic z, same FDR decision, p_sim null and no KDE. Inference
    quarters: p_sim exactly for the cells that passed the FDR cut (the only ones it can
    change). The same points in two inference quarters give identical results (nothing may
    alter the shared weights or permutation table between quarters)."""
    rng = np.random.default_rng(21)
    cluster_x, cluster_y = X0 + 6_250, Y0 + 6_250
    frames = []
    for quarter in ("2024-Q4", "2025-Q1", "2025-Q2"):
        background = _uniform(800, seed=21)
        cluster = _points(cluster_x + rng.normal(0, 250, 60), cluster_y + rng.normal(0, 250, 60))
        frames.append(pd.concat([background, cluster]).assign(quarter=quarter))
    points = pd.concat(frames, ignore_index=True)
    # Quarters 1 and 3 hold the same background; make them identical as a whole.
    points.loc[points["quarter"] == "2025-Q2", ["latitude", "longitude"]] = points.loc[
        points["quarter"] == "2024-Q4", ["latitude", "longitude"]
    ].to_numpy()
    full, _ = compute_hotspots(points, PARAMS)
    cells, density = compute_hotspots(
        points, PARAMS, inference_quarters=["2024-Q4", "2025-Q2"], density_quarters=["2025-Q2"]
    )
    history = cells["quarter"] == "2025-Q1"
    assert cells.loc[history, "p_sim"].isna().all()
    passed = cells["p_norm"] <= cells["p_fdr_cut"]
    assert passed[~history].any()
    assert cells.loc[~history, "p_sim"].notna().eq(passed[~history]).all()
    assert np.allclose(cells["gi_z"], full["gi_z"])
    assert np.allclose(cells["p_norm"], full["p_norm"])
    assert np.allclose(cells.loc[~history, "p_sim"], full.loc[~history, "p_sim"], equal_nan=True)
    assert (cells.loc[history, "is_hotspot"]).any()
    assert set(density["quarter"]) == {"2025-Q2"}
    first = cells[cells["quarter"] == "2024-Q4"].reset_index(drop=True)
    third = cells[cells["quarter"] == "2025-Q2"].reset_index(drop=True)
    for column in ("crimes", "gi_z", "p_sim", "gi_class"):
        assert first[column].equals(third[column])


def test_permutation_p_for_chosen_cells_is_pysals() -> None:
    """p_sim for any chosen cells equals the one-sided pseudo p from esda.G_Local's own
    conditional permutations (same seed) for those cells; the others stay null."""
    import warnings

    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    from pipelines.hotspots.gistar import as_gi_weights, permutation_p

    rows, cols, permutations, seed = 9, 11, 99, 5
    queen = lat2W(rows, cols, rook=False)
    y = np.random.default_rng(8).poisson(0.7, rows * cols).astype(float)
    y[:4] += 6  # a busy corner, so some cells sit in each tail
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = G_Local(
            y,
            queen,
            transform="B",
            star=True,
            permutations=permutations,
            seed=seed,
            keep_simulations=True,
        )
    simulated = np.asarray(g.rGs)
    observed = np.asarray(g.Gs)[:, None]
    z = np.asarray(g.Zs)
    expected = np.where(
        z > 0,
        ((simulated >= observed).sum(axis=1) + 1) / (permutations + 1),
        ((simulated <= observed).sum(axis=1) + 1) / (permutations + 1),
    )
    chosen = np.array([0, 1, 2, 12, 50, 98])
    p_sim = permutation_p(y, as_gi_weights(queen), permutations, seed, cells=chosen)
    assert np.allclose(p_sim[chosen], expected[chosen])
    assert np.isnan(np.delete(p_sim, chosen)).all()
    assert len(np.unique(expected[chosen])) > 2  # the check compares distinct values
    everything = permutation_p(y, as_gi_weights(queen), permutations, seed)
    assert np.allclose(everything, expected)


def test_simulated_statistic_is_esdas_value_for_value() -> None:
    """The Monte-Carlo check's simulated Gi* of a cell is esda's `_g_local_star_crand`, bit for
    bit: first, last and middle cells, a cell without neighbours (crand's one fake neighbour
    of weight 0) and windows of every size the table holds."""
    from esda.getisord import _g_local_star_crand

    from pipelines.hotspots.gistar import _simulated_g_star, draw_permutation_table

    rng = np.random.default_rng(4)
    n, permutations = 500, 99
    y = rng.poisson(0.6, n).astype(float)
    y[[0, 7, n - 1]] += 5
    table = draw_permutation_table(8, n, permutations, seed=9)
    for i, others in [(0, 8), (n - 1, 8), (250, 5), (7, 3), (123, 0)]:
        weights_i = np.ones(others + 1) if others else np.array([1.0, 0.0])
        ours = _simulated_g_star(i, y, table, weights_i, y.sum())
        theirs = _g_local_star_crand(i, y, table, weights_i, y.sum())
        assert ours.shape == theirs.shape == (permutations,)
        assert np.array_equal(ours, theirs)


def test_permutation_table_drawn_in_another_process_gives_the_same_hotspots() -> None:
    """The worker draws the Gi* permutation table in a second process while it computes the
    density surfaces, and that process then computes the first surface and the predictions:
    the same table, surfaces and predictions, so the same frames, as computed in this
    process; and a process that died leaves all of them to be computed here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from pipelines.hotspots import gistar
    from pipelines.hotspots.core import hotspot_outputs

    rng = np.random.default_rng(11)
    frames = []
    for i, quarter in enumerate(("2025-Q1", "2025-Q2", "2025-Q3")):
        cluster = _points(
            X0 + 6_000 + rng.normal(0, 400, 60 + 20 * i),
            Y0 + 9_000 + rng.normal(0, 400, 60 + 20 * i),
            quarter,
        )
        frames += [_uniform(300, 20 + i).assign(quarter=quarter), cluster]
    points = pd.concat(frames, ignore_index=True)
    params = HotspotParams(cell_size_m=500, permutations=97, fdr_alpha=0.05, seed=5)

    gistar._TABLES.clear()
    here = hotspot_outputs(points, params, density_quarters=["2025-Q3"])
    assert (here.hotspots["gi_class"] == "hot").any()  # the check drew and used a table
    (key,) = gistar._TABLES
    gistar._TABLES.clear()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as executor:
        elsewhere = hotspot_outputs(points, params, density_quarters=["2025-Q3"], executor=executor)
    # the one table, drawn elsewhere under the key the check asked for
    assert list(gistar._TABLES) == [key] and isinstance(gistar._TABLES[key], np.ndarray)
    pd.testing.assert_frame_equal(here.hotspots, elsewhere.hotspots, check_exact=True)
    pd.testing.assert_frame_equal(here.density, elsewhere.density, check_exact=True)

    class Died:
        def submit(self, *args):
            from concurrent.futures import Future

            future: Future = Future()
            future.set_exception(RuntimeError("the drawing process died"))
            return future

    gistar._TABLES.clear()
    fallback = hotspot_outputs(points, params, density_quarters=["2025-Q3"], executor=Died())
    pd.testing.assert_frame_equal(here.hotspots, fallback.hotspots, check_exact=True)
