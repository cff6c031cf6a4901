"""The nightly ANALYZE gives SQLite's planner statistics of every table."""

import pytest
from django.db import connection

from kizuna.core.tasks import analyze_database, refresh_planner_statistics
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def test_sqlite_gets_planner_statistics():
    CompanyFactory.create_batch(3)
    if connection.vendor != "sqlite":
        assert refresh_planner_statistics() is False  # autovacuum's job
        return
    analyze_database.call_local()
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'customers_company'")
        stats = [row[0] for row in cursor.fetchall()]
    # One row per index, each starting with the table's row count.
    assert stats and all(stat.split()[0] == "3" for stat in stats)
