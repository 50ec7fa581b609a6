"""Dagster wiring only: each module turns pure logic from a sibling package into assets."""
