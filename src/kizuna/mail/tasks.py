"""Background tasks of the mail app."""

from kizuna.automation.jobs import crontab, periodic_task, task
from kizuna.mail import services


class EmailNotSent(Exception):
    """SMTP refused or timed out; huey tries again later."""


# Retries wait 1, 2, 4 and 8 minutes.
@task(retries=services.SEND_RETRIES, retry_delay=60, retry_backoff=2, context=True)
def send_email(message_pk: int, task=None) -> None:
    retries_left = task.retries if task is not None else 0
    if not services.deliver(message_pk=message_pk, retries_left=retries_left):
        raise EmailNotSent(f"e-mail {message_pk} not sent; retried later")


@periodic_task(crontab(minute="*/5"))
def fetch_incoming_mail() -> None:
    """Read the team mailbox (only when KIZUNA_IMAP_HOST is set)."""
    from kizuna.mail.incoming import imap_fetch

    imap_fetch()


@periodic_task(crontab(minute="0,30"))
def send_daily_digests() -> None:
    """Digests for the users for whom it is now 09:00 (their time zone)."""
    from kizuna.mail.digest import send_digests

    send_digests()
