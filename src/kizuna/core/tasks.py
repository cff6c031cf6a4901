"""The core app's background tasks."""

from django.db import connection

from kizuna.automation.jobs import crontab, periodic_task


def refresh_planner_statistics() -> bool:
    """Let SQLite's query planner know the tables' sizes and index spreads.

    Without statistics SQLite guesses, and a guess can turn a report's
    index-end lookup into a scan of every deal. ``analysis_limit`` makes
    ANALYZE sample each index instead of reading it all, so it takes
    milliseconds, not the minutes a full ANALYZE of a large file would hold
    the write lock. PostgreSQL's autovacuum keeps its own statistics.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
    return True


@periodic_task(crontab(minute="37", hour="3"))
def analyze_database() -> None:
    refresh_planner_statistics()
