"""Worker processes come from the fork server, never forked from the (threaded) caller."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pipelines import fork_server
from pipelines.forecasting import ForecastParams, core, forecast_series
from pipelines.settings import ForecastSettings


def test_workers_are_forked_from_the_server_not_from_the_caller() -> None:
    with fork_server.pool(2, ["pipelines.forecasting.core"]) as pool:
        parents = set(pool.map(_parent_pid, range(4)))
    assert os.getpid() not in parents
    assert len(parents) == 1


def test_forecasts_split_over_workers_equal_those_made_in_one_process(monkeypatch) -> None:
    periods = pd.date_range("2019-01-01", periods=16, freq="QS")
    frame = pd.DataFrame(
        [
            (f"series{k}", day, float(10 + k + (i * (k + 1)) % 7))
            for k in range(4)
            for i, day in enumerate(periods)
        ],
        columns=["series", "period_start", "value"],
    )
    params = ForecastParams.from_settings(ForecastSettings())
    assert core._n_jobs(4, 1) == min(2, os.cpu_count() or 1)
    split = forecast_series(frame, 4, params)
    monkeypatch.setattr(core, "_n_jobs", lambda *_: 1)
    alone = forecast_series(frame, 4, params)
    for made_split, made_alone in zip(split, alone, strict=True):
        pd.testing.assert_frame_equal(made_split, made_alone)


def _parent_pid(_: int) -> int:
    return os.getppid()


def test_hotspot_tables_made_in_a_worker_equal_those_made_in_this_process() -> None:
    """The hotspot step computes in a fork-server worker (pipelines/assets/spatial.py): same
    function, same inputs, the same tables as in the caller's process."""
    import numpy as np

    from pipelines.hotspots.step import hotspot_tables
    from pipelines.settings import HotspotSettings

    rng = np.random.default_rng(7)
    quarters = [f"{year}-Q{q}" for year in (2023, 2024, 2025) for q in (1, 2, 3, 4)]
    # Crimes around two centres in North Yorkshire, more around the first.
    rows = [
        (quarter, centre[0] + rng.normal(0, 0.01), centre[1] + rng.normal(0, 0.01))
        for quarter in quarters
        for centre, n in (((54.0, -1.08), 12), ((53.99, -1.54), 5))
        for _ in range(n)
    ]
    points = pd.DataFrame(rows, columns=["quarter", "latitude", "longitude"])
    victimisations = points.assign(victim_key=[f"V{i % 40}" for i in range(len(points))])
    settings = HotspotSettings()
    in_worker = fork_server.call(
        "pipelines.hotspots.step:hotspot_tables",
        points,
        victimisations,
        settings,
        "2025-Q4",
        large_result=True,  # as the step calls it: the arrays come back through a file
    )
    here = hotspot_tables(points, victimisations, settings, "2025-Q4")
    assert in_worker.keys() == here.keys()
    assert len(here["cells"]) and here["density_quarters"] == in_worker["density_quarters"]
    for name in ("cells", "density", "methods"):
        pd.testing.assert_frame_equal(in_worker[name], here[name])


def test_forecast_tables_made_in_a_worker_equal_those_made_in_this_process() -> None:
    """The forecast step computes in a fork-server worker (pipelines/assets/forecasting.py),
    whose fits are split again over processes forked from it: the same tables as in the
    caller's process."""
    from pipelines.forecasting.step import forecast_tables
    from pipelines.quarters import quarter_end

    months = pd.date_range("2020-01-01", "2025-09-01", freq="MS")
    monthly = pd.DataFrame(
        [
            (name, "month", day, float(8 + k + (i * (k + 3)) % 11))
            for k, name in enumerate(["all_stalking", "online", "offline", "breaches"])
            for i, day in enumerate(months)
        ],
        columns=["series", "period", "period_start", "value"],
    )
    quarterly = (
        monthly.assign(period_start=monthly["period_start"].dt.to_period("Q").dt.start_time)
        .groupby(["series", "period_start"], as_index=False)["value"]
        .sum()
        .assign(period="quarter")
    )
    series = pd.concat([monthly, quarterly[monthly.columns]], ignore_index=True)
    settings = ForecastSettings(periods=["month", "quarter"])
    assert series["period_start"].max() <= pd.Timestamp(quarter_end("2025-Q3"))
    in_worker = fork_server.call(
        "pipelines.forecasting.step:forecast_tables", series, "2025-Q3", settings
    )
    here = forecast_tables(series, "2025-Q3", settings)
    assert in_worker.keys() == here.keys()
    assert len(here["forecast"]) and here["series_forecast"] == 8
    for name in ("forecast", "accuracy", "tracking", "pool"):
        pd.testing.assert_frame_equal(in_worker[name], here[name])
    assert in_worker["breaks_applied"] == here["breaks_applied"]


def test_modules_imported_meanwhile_are_imported_here_and_the_result_is_the_same() -> None:
    """`import_meanwhile` (the hotspot step imports the publish package while its worker
    computes): the modules are in the caller's process afterwards, the worker's result as
    without them."""
    import sys

    sys.modules.pop("colorsys", None)
    alone = fork_server.call("os:getppid")
    meanwhile = fork_server.call("os:getppid", import_meanwhile=("colorsys",))
    assert "colorsys" in sys.modules
    assert meanwhile == alone != os.getpid()


def _frame(rows: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "quarter": pd.Categorical(rng.choice(["2025-Q1", "2025-Q2"], rows)),
            "value": rng.random(rows),
            "count": rng.integers(0, 9, rows),
            "flag": rng.random(rows) < 0.5,
            "label": [f"c{i}" for i in range(rows)],
        }
    )


def test_a_large_result_comes_back_through_a_file_equal_writable_and_the_file_removed(
    monkeypatch, tmp_path
) -> None:
    """`large_result`: the worker writes its result's arrays into a file the caller made and
    maps; the caller gets equal objects, its arrays writable (copy-on-write: the file is not
    changed), and the file is gone afterwards."""
    import numpy as np

    monkeypatch.setattr(fork_server, "_in_worker", False)  # restored after: `_call` sets it
    monkeypatch.setattr(fork_server, "_result_dir", lambda: str(tmp_path))
    sent = {"frame": _frame(10_001), "array": np.arange(7, dtype=np.int8), "empty": np.zeros(0)}
    with fork_server._result_file(True) as path:
        assert path is not None and Path(path).parent == tmp_path
        header, sizes = fork_server._call_to_file(path, "builtins:dict", sent)
        assert sizes is not None and len(header) < 1_000_000  # the arrays are in the file
        back = fork_server._result_from_file(path, header, sizes)
    assert list(tmp_path.iterdir()) == []
    pd.testing.assert_frame_equal(back["frame"], sent["frame"], check_exact=True)
    assert np.array_equal(back["array"], sent["array"]) and len(back["empty"]) == 0
    values = back["frame"]["value"].to_numpy()
    assert values.flags.writeable and values.ctypes.data % fork_server._ALIGN == 0
    values[0] = -1.0  # the caller may change its copy


def test_a_large_result_whose_file_is_gone_comes_back_through_the_pipe(
    monkeypatch, tmp_path
) -> None:
    """A caller that stopped waiting has removed its file: the worker does not create it
    again (nothing is left behind) and returns the whole result in its pickle."""
    monkeypatch.setattr(fork_server, "_in_worker", False)  # restored after: `_call` sets it
    gone = tmp_path / "gone"
    sent = _frame(100)
    header, sizes = fork_server._call_to_file(str(gone), "builtins:dict", {"frame": sent})
    assert sizes is None and not gone.exists()
    back = fork_server._result_from_file(str(gone), header, sizes)
    pd.testing.assert_frame_equal(back["frame"], sent, check_exact=True)


def test_a_call_with_a_large_result_leaves_no_file(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(fork_server, "_result_dir", lambda: str(tmp_path))
    frame = fork_server.call("pandas:DataFrame", {"a": list(range(1000))}, large_result=True)
    assert frame["a"].sum() == sum(range(1000))
    assert list(tmp_path.iterdir()) == []
