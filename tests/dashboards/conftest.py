"""A real ClickHouse (embedded chDB) per test module with the tables of analytics/schema.py:
the alert rule tests' fixtures (tests/alerts/conftest.py), every test from empty tables."""

from __future__ import annotations

from tests.alerts.conftest import ch, db

__all__ = ["ch", "db"]
