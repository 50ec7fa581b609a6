"""The quarterly partitions: one partition = one quarter's profile (keys are `YYYY-Qn`)."""

from __future__ import annotations

import dagster as dg

from pipelines.quarters import quarter_range

# Stalking became an offence in November 2012; the range runs well past any planning horizon.
FIRST_QUARTER = "2013-Q1"
LAST_QUARTER = "2040-Q4"

quarterly_partitions = dg.StaticPartitionsDefinition(quarter_range(FIRST_QUARTER, LAST_QUARTER))
