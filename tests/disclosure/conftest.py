"""The disclosure tests reuse the publishing fixtures (the tiny run's warehouse, its profile)."""

from tests.report.conftest import fixture_db, fixture_db_copy, rendered  # noqa: F401
