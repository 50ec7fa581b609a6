"""Automation for a force's deployment: a sensor on the landing folder and a quarterly schedule.

Both are off by default (DefaultSensorStatus/DefaultScheduleStatus.STOPPED): switch them on in
the Dagster UI (Automation) once `ingest.landing_dir` is set in the settings file. Each run they
launch is the whole `quarterly_profile` job for one quarter, reading the delivery folder it
found (run config overrides `profile_run.extracts_dir`).
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from pipelines.contracts.landing import delivery_in, delivery_quarter, find_deliveries
from pipelines.quarters import last_complete_quarter
from pipelines.settings import load_settings

JOB_NAME = "quarterly_profile"


def _run_config(folder: Path) -> dict:
    return {"resources": {"profile_run": {"config": {"extracts_dir": str(folder.resolve())}}}}


@dg.sensor(
    name="new_extracts_sensor",
    job_name=JOB_NAME,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Launches the quarter's profile when a new, complete and settled set of the five "
        "extracts appears in the landing folder (settings ingest.landing_dir)."
    ),
)
def new_extracts_sensor(context: dg.SensorEvaluationContext):
    settings = load_settings().ingest
    if not settings.landing_dir:
        yield dg.SkipReason("no landing folder configured (settings ingest.landing_dir)")
        return
    seen = set(filter(None, (context.cursor or "").split(",")))
    launched = False
    for delivery in find_deliveries(Path(settings.landing_dir), settings.settle_seconds):
        if delivery.fingerprint in seen:
            continue
        quarter = delivery_quarter(delivery.folder)
        launched = True
        seen.add(delivery.fingerprint)
        yield dg.RunRequest(
            run_key=f"{quarter}-{delivery.fingerprint}",
            partition_key=quarter,
            run_config=_run_config(delivery.folder),
            tags={"spp/delivery": delivery.folder.name, "spp/trigger": "landing-sensor"},
        )
    # Keep the cursor bounded: the newest 200 fingerprints are plenty.
    context.update_cursor(",".join(sorted(seen)[-200:]))
    if not launched:
        yield dg.SkipReason("no new complete delivery in the landing folder")


def _schedule_cron() -> tuple[str, str]:
    settings = load_settings().ingest
    return settings.schedule_cron, settings.schedule_timezone


@dg.schedule(
    name="quarterly_profile_schedule",
    job_name=JOB_NAME,
    cron_schedule=_schedule_cron()[0],
    execution_timezone=_schedule_cron()[1],
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Profiles the last complete quarter from the landing folder (its YYYY-Qn sub-folder "
        "when there is one), a fortnight after the quarter ends."
    ),
)
def quarterly_profile_schedule(context: dg.ScheduleEvaluationContext):
    settings = load_settings().ingest
    if not settings.landing_dir:
        return dg.SkipReason("no landing folder configured (settings ingest.landing_dir)")
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    quarter = last_complete_quarter(when.date())
    landing = Path(settings.landing_dir)
    folder = landing / quarter if (landing / quarter).is_dir() else landing
    if delivery_in(folder, settings.settle_seconds) is None:
        return dg.SkipReason(f"no complete delivery for {quarter} in {folder}")
    return dg.RunRequest(
        run_key=f"scheduled-{quarter}",
        partition_key=quarter,
        run_config=_run_config(folder),
        tags={"spp/trigger": "quarterly-schedule"},
    )


ingest_sensors = [new_extracts_sensor]
ingest_schedules = [quarterly_profile_schedule]
