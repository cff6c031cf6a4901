"""The automation app's own background tasks."""

import datetime

from kizuna.automation import services
from kizuna.automation.jobs import crontab, periodic_task


@periodic_task(crontab(minute="17", hour="3"))
def purge_job_runs() -> None:
    """Keep a week of finished jobs in the job log."""
    services.job_runs_purge(older_than=datetime.timedelta(days=7))
