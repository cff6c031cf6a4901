"""The weekly report e-mails."""

import csv
import datetime
import io
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kizuna.analytics import selectors_reports as selectors
from kizuna.analytics.models_reports import ReportSchedule
from kizuna.analytics.services_reports import OBJECT_TYPE, table
from kizuna.automation.jobs import crontab, periodic_task
from kizuna.core import audit
from kizuna.core.exports import neutralise
from kizuna.core.models import AuditEntry

logger = logging.getLogger(__name__)


def week_key(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def is_due(schedule: ReportSchedule, now: datetime.datetime) -> bool:
    """This week's send time (in the server's time zone) has come and it was not sent."""
    local = timezone.localtime(now)
    if schedule.last_sent_week == week_key(local.date()):
        return False
    monday = local.date() - datetime.timedelta(days=local.weekday())
    moment = timezone.make_aware(
        datetime.datetime.combine(
            monday + datetime.timedelta(days=schedule.weekday), datetime.time(schedule.hour)
        )
    )
    return local >= moment


def recipients(schedule: ReportSchedule) -> list:
    """The owner, or the team members who may open the report; only those with an e-mail."""
    from kizuna.iam.models import User

    report = schedule.report
    people = [report.owner]
    if schedule.recipients == ReportSchedule.Recipients.TEAM and report.team_id:
        people += list(User.objects.filter(team_id=report.team_id).exclude(pk=report.owner_id))
    return [
        u
        for u in people
        if u.is_active and u.email and selectors.report_list(user=u).filter(pk=report.pk).exists()
    ]


def _message(schedule: ReportSchedule, user) -> EmailMultiAlternatives:
    """The report as ``user`` sees it, in their language and time zone."""
    report = schedule.report
    with translation.override(user.language), timezone.override(user.timezone):
        result = selectors.run_report(user=user, report=report)
        header, rows = table(result, plain=False)
        subject = _("Weekly report: %(name)s") % {"name": report.name}
        base = getattr(settings, "KIZUNA_BASE_URL", "").rstrip("/")
        url = f"{base}/reports/{report.pk}/"
        context = {"report": report, "result": result, "header": header, "rows": rows, "url": url}
        html = render_to_string("analytics/report_email.html", context)
        text = render_to_string("analytics/report_email.txt", context)
        message = EmailMultiAlternatives(subject, text, to=[user.email])
        message.attach_alternative(html, "text/html")
        if not result.error:
            _plain_header, plain_rows = table(result, plain=True)
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow([neutralise(h) for h in header])
            for row in plain_rows:
                writer.writerow(
                    [neutralise(v) if isinstance(v, str) else ("" if v is None else v) for v in row]
                )
            stamp = timezone.localdate().strftime("%Y%m%d")
            message.attach(
                f"report-{report.pk}-{stamp}.csv",
                ("\ufeff" + buffer.getvalue()).encode("utf-8"),
                "text/csv",
            )
    return message


def send_due_reports(now: datetime.datetime | None = None) -> int:
    """Send every schedule whose time has come this week; returns the e-mails sent.

    Each schedule is locked, checked again and marked with the week in one
    transaction with the sending, so a second run (a retry, two consumers)
    sends nothing, and a failed send is tried again at the next run.
    """
    now = now or timezone.now()
    week = week_key(timezone.localtime(now).date())
    sent = 0
    due = ReportSchedule.objects.filter(is_active=True).exclude(last_sent_week=week)
    for pk in due.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                schedule = (
                    ReportSchedule.objects.select_for_update()
                    .select_related("report__owner")
                    .get(pk=pk)
                )
                if not schedule.is_active or not is_due(schedule, now):
                    continue
                people = recipients(schedule)
                for user in people:
                    _message(schedule, user).send()
                    sent += 1
                schedule.last_sent_week = week
                schedule.last_sent_at = now
                schedule.save(update_fields=["last_sent_week", "last_sent_at"])
                audit.record(
                    actor=None,
                    action=AuditEntry.Action.EXPORT,
                    obj=schedule.report,
                    object_type=OBJECT_TYPE,
                    changes={"format": "email", "week": week, "recipients": [u.pk for u in people]},
                )
        except Exception:
            logger.exception("Could not send the weekly report of schedule %s", pk)
    return sent


@periodic_task(crontab(minute="5"))
def send_scheduled_reports() -> None:
    send_due_reports()
