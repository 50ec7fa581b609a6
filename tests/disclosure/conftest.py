"""The disclosure tests reuse the publishing fixtures (hand-made warehouse, rendered profile)."""

from tests.report.conftest import fixture_db, fixture_db_copy, rendered  # noqa: F401
