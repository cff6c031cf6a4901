"""The automation app's own background tasks."""

import datetime

from kizuna.automation import jobs, services, webhooks
from kizuna.automation.jobs import crontab, periodic_task, task


@periodic_task(crontab(minute="17", hour="3"))
def purge_job_runs() -> None:
    """Keep a week of finished jobs in the job log."""
    services.job_runs_purge(older_than=datetime.timedelta(days=7))


class WebhookNotDelivered(Exception):
    """The endpoint failed; huey tries again later."""


# Retries wait 1, 2, 4, 8 and 16 minutes.
@task(retries=5, retry_delay=60, retry_backoff=2, context=True)
def deliver_webhook(delivery_id: int, task=None) -> None:
    retries_left = task.retries if task is not None else 0
    if not webhooks.deliver(delivery_id=delivery_id, retries_left=retries_left):
        raise WebhookNotDelivered(f"delivery {delivery_id} failed; retried later")


@task(retries=3, retry_delay=30, retry_backoff=2)
def run_rules(
    object_type: str,
    object_id: int,
    event_key: str,
    rule_ids: list[int],
    depth: int = 0,
    seen: list[str] | None = None,
) -> None:
    """Evaluate the rules an event triggered (queued after the write commits)."""
    from kizuna.automation import rules

    rules.run_rules(
        object_type=object_type,
        object_id=object_id,
        event_key=event_key,
        rule_ids=rule_ids,
        depth=depth,
        seen=seen or (),
    )


jobs.LOG_FROM_START.add(run_rules.task_class.__name__)


@periodic_task(crontab(minute="*/5"))
def rules_time_triggers() -> None:
    """Rules counted from a date, or from creation with no activity since."""
    from kizuna.automation import rules

    rules.time_rules_run()


@periodic_task(crontab(minute="*/5"))
def lead_sla_breaches() -> None:
    """Notify owners of leads nobody contacted in time; escalate to managers."""
    from kizuna.automation import sla

    sla.check_breaches()
