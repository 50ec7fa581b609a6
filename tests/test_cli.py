"""The `spp` command line: help works, errors are one line with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import build_parser, main

SPP = Path(sys.executable).parent / "spp"


@pytest.mark.parametrize("command", ["profile", "generate", "hotspots", "forecast"])
def test_subcommand_help(command: str) -> None:
    completed = subprocess.run(
        [str(SPP), command, "--help"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert "usage: spp" in completed.stdout


def test_profile_options_match_spec() -> None:
    help_text = build_parser().format_help()
    assert "profile" in help_text
    profile = next(
        a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "profile"
    )[1]
    options = {opt for action in profile._actions for opt in action.option_strings}
    assert {"--extracts", "--quarter", "--out", "--warehouse"} <= options


def test_missing_extracts_folder_fails_with_one_line(tmp_path: Path, capsys) -> None:
    code = main(["profile", "--extracts", str(tmp_path / "nope"), "--quarter", "2025-Q1"])
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not found" in err


def test_bad_quarter_is_rejected(tmp_path: Path, capsys) -> None:
    (tmp_path / "crimes.csv").write_text("crime_id,reported_date\n")
    code = main(["profile", "--extracts", str(tmp_path), "--quarter", "2025-Q9"])
    assert code != 0
    assert "2025-Q9" in capsys.readouterr().err


def test_default_quarter_is_last_complete_quarter_in_data() -> None:
    import datetime as dt

    from pipelines.contracts.landing import default_quarter

    # Data stop on 3 August: Q3 is incomplete, so the profile is of Q2.
    assert default_quarter(dt.date(2025, 8, 3)) == "2025-Q2"
    assert default_quarter(dt.date(2025, 9, 28)) == "2025-Q3"


def test_cached_demo_is_remade_when_the_generator_changes(tmp_path: Path, monkeypatch) -> None:
    """The demo force is generated once per generator version: reused while the generator is
    unchanged, made again (not reused) after an upgrade changes it."""
    import pipelines.synthetic
    import pipelines.synthetic.fingerprint as fingerprint
    from pipelines import cli

    made: list[Path] = []

    def fake_generate(*, scale: str, seed: int, out_dir: Path, end_quarter: str, years: int):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "crimes.csv").write_text(f"made {len(made)}\n")
        made.append(out_dir)

    monkeypatch.setenv("SPP_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(pipelines.synthetic, "generate_force", fake_generate)
    first = cli.demo_extracts(seed=3, scale="tiny")
    assert (first / ".complete").read_text().strip() == fingerprint.generator_fingerprint()
    assert cli.demo_extracts(seed=3, scale="tiny") == first
    assert len(made) == 1, "an unchanged generator regenerated the demo force"
    monkeypatch.setattr(fingerprint, "generator_fingerprint", lambda: "a-newer-generator")
    assert cli.demo_extracts(seed=3, scale="tiny") == first
    assert len(made) == 2, "a changed generator reused the old demo force"
    assert (first / "crimes.csv").read_text() == "made 1\n"
    assert (first / ".complete").read_text().strip() == "a-newer-generator"


def test_a_quarter_still_running_on_the_run_date_is_not_profiled(tmp_path: Path) -> None:
    """A run date inside the quarter asked for: the quarter is refused with the last one that
    has ended (it was profiled on the crimes recorded so far, and its counts, beside whole
    quarters, read as a fall); chosen by default, the quarter before it is taken."""
    import datetime as dt

    from pipelines.contracts.gate import QuarterOutsideData, structural_gate
    from tests.contracts.delivery import Delivery

    d = Delivery(tmp_path / "in")
    d.set("crimes", 0, reported_date="2023-10-02")
    d.set("crimes", 1, reported_date="2024-03-25")
    d.write()
    with pytest.raises(QuarterOutsideData) as refused:
        structural_gate(d.folder, "2024-Q1", today=dt.date(2024, 3, 30))
    assert str(refused.value) == (
        "quarter 2024-Q1 ends 2024-03-31, after the run date 2024-03-30: a quarter is "
        "profiled once it has ended (the last that has: 2023-Q4)"
    )
    # the data stop within two weeks of the quarter's end: by default that quarter, once ended
    assert structural_gate(d.folder, today=dt.date(2024, 3, 31)).quarter == "2024-Q1"
    assert structural_gate(d.folder, today=dt.date(2024, 3, 28)).quarter == "2023-Q4"


def test_a_mistyped_future_year_does_not_choose_the_quarter(tmp_path: Path) -> None:
    """One crime dated 2062 (for 2026) must not make an empty future quarter the default:
    crimes after the run date play no part in choosing it."""
    import datetime as dt

    from pipelines.contracts.gate import structural_gate
    from tests.contracts.delivery import Delivery

    d = Delivery(tmp_path / "in")
    d.set("crimes", 4, reported_date="2062-01-04")
    d.write()
    passed = structural_gate(d.folder, today=dt.date(2024, 3, 31))
    assert (passed.quarter, passed.last_reported) == ("2024-Q1", dt.date(2024, 1, 3))


def test_a_crime_before_the_earliest_plausible_date_is_no_part_of_the_datas_range(
    tmp_path: Path,
) -> None:
    """A crime reported 0001-01-01 (quarantined `date_too_early`) used to make the data start
    in year 1, so a quarter asked for years before the delivery passed the gate."""
    import datetime as dt

    from pipelines.contracts.gate import QuarterOutsideData, structural_gate
    from tests.contracts.delivery import Delivery

    d = Delivery(tmp_path / "in")
    d.set("crimes", 4, reported_date="0001-01-01")
    d.write()
    passed = structural_gate(d.folder, today=dt.date(2024, 3, 31))
    assert passed.first_reported == dt.date(2024, 1, 1)
    with pytest.raises(QuarterOutsideData, match="crimes were reported from 2024-01-01"):
        structural_gate(d.folder, "2019-Q1", today=dt.date(2024, 3, 31))
    # the floor is the force's setting
    later = structural_gate(d.folder, today=dt.date(2024, 3, 31), earliest=dt.date(2024, 1, 2))
    assert later.first_reported == dt.date(2024, 1, 2)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("  min_count: 5", "  min_count: five"), "disclosure.min_count"),
        (("  min_count: 5", "  min_count: 5\n  min_cuont: 10"), "disclosure.min_cuont"),
        (("  window_months: 12", "  window_months: 12.5"), "repeat_victim.window_months"),
        (("  min_count: 5", "  min_count: [5"), "not YAML at line"),
    ],
)
def test_a_broken_settings_file_stops_with_one_line_naming_the_key(
    tmp_path: Path, capsys, change: tuple[str, str], named: str
) -> None:
    """pydantic's own message ran over four lines per key, past the CLI's one-line reason."""
    from pipelines.settings import DEFAULT_SETTINGS_FILE

    settings = tmp_path / "settings.yaml"
    settings.write_text(DEFAULT_SETTINGS_FILE.read_text().replace(*change, 1))
    code = main(["check", "--extracts", str(tmp_path), "--config", str(settings)])
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and named in err and str(settings) in err
