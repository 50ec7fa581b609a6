"""Stalking Problem Profile: Dagster definitions (wiring) and the pure analytic code they call."""
