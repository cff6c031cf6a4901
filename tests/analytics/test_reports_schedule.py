"""The weekly report e-mail: due once a week, per recipient as they see it."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from kizuna.analytics.services_reports import report_create, schedule_set
from kizuna.analytics.tasks_reports import send_due_reports, send_scheduled_reports
from kizuna.core.models import AuditEntry

pytestmark = pytest.mark.django_db

SPEC = {
    "object": "deal",
    "filters": [{"field": "status", "op": "in", "value": ["won"]}],
    "group_by": [{"field": "company.industry"}],
    "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
}


def tokyo(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def test_sent_once_a_week_to_the_team_each_as_they_see_it(org, sales_data):
    org.colleague.language = "ja"
    org.colleague.save()
    report = report_create(actor=org.rep, name="週次受注", spec=SPEC, shared=True)
    schedule_set(actor=org.rep, report=report, weekday=0, hour=8, recipients="team")
    # 2026-03-02 is a Monday; 7:59 is too early.
    assert send_due_reports(tokyo(2026, 3, 2, 7, 59)) == 0
    assert send_due_reports(tokyo(2026, 3, 2, 8, 5)) == 3  # rep, colleague, admin (Tokyo)
    by_user = {m.to[0]: m for m in mail.outbox}
    rep_mail = by_user[org.rep.email]
    assert rep_mail.subject == "Weekly report: 週次受注"
    html = rep_mail.alternatives[0][0]
    assert "Manufacturing" in html and "¥4,000,000" in html and "¥13,000,000" not in html
    name, content, mimetype = rep_mail.attachments[0]
    text = content if isinstance(content, str) else content.decode()
    assert name.endswith(".csv") and text.startswith("\ufeff")
    assert org.outsider.email not in by_user
    # The same week again (a retry, a second consumer): nothing more.
    assert send_due_reports(tokyo(2026, 3, 4, 9, 0)) == 0
    assert len(mail.outbox) == 3
    # Next week, again; a missed hour is caught up later the same week.
    assert send_due_reports(tokyo(2026, 3, 10, 12, 0)) == 3
    assert AuditEntry.objects.filter(action="export", object_type="report").count() == 2


def test_only_the_owner_for_a_private_report(org, sales_data):
    report = report_create(actor=org.rep, name="自分用", spec=SPEC)
    schedule_set(actor=org.rep, report=report, weekday=2, hour=9, recipients="owner")
    assert send_due_reports(tokyo(2026, 3, 4, 9, 30)) == 1
    assert mail.outbox[0].to == [org.rep.email]


def test_the_periodic_task_runs(org, sales_data, time_machine):
    report = report_create(actor=org.rep, name="自分用", spec=SPEC)
    schedule_set(actor=org.rep, report=report, weekday=0, hour=0, recipients="owner")
    time_machine.move_to(tokyo(2026, 3, 2, 1, 5))
    send_scheduled_reports.call_local()
    assert len(mail.outbox) == 1
