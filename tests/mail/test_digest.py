"""The daily digest: what it holds, when it goes, in which language."""

import datetime
import email
from email import policy

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.activities.models import Activity
from kizuna.automation.services import notify
from kizuna.mail import digest
from kizuna.mail.models import DigestPreference
from kizuna.sales.models import Deal
from kizuna.sales.services import deal_create
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, UserFactory

# Wednesday 4 March 2026, 09:00 in Tokyo.
NINE_IN_TOKYO = datetime.datetime(2026, 3, 4, 0, 0, tzinfo=datetime.UTC)


def fill(user):
    company = CompanyFactory(owner=user, name=f"{user.username}商事")
    ContactFactory(
        owner=user,
        company=company,
        next_action="見積書を送る",
        next_action_due=datetime.date(2026, 3, 6),
    )
    ContactFactory(owner=user, next_action="来週の件", next_action_due=datetime.date(2026, 3, 10))
    ActivityFactory(
        owner=user,
        assignee=user,
        kind=Activity.Kind.TASK,
        subject="請求書の確認",
        due_date=datetime.date(2026, 3, 2),
        company=company,
    )
    deal = deal_create(actor=user, name=f"{user.username}の保守契約", company=company, amount=1000)
    Deal.objects.filter(pk=deal.pk).update(
        last_touched_at=NINE_IN_TOKYO - datetime.timedelta(days=90)
    )
    notify(recipients=[user], kind="test", text="新しいお知らせ")


def parse(envelope):
    return email.message_from_bytes(envelope.original_content, policy=policy.default)


@pytest.mark.django_db
def test_digest_at_nine_in_the_users_language_with_text_and_html(org, smtp_server):
    user = UserFactory(username="hanako", language="ja", timezone="Asia/Tokyo", team=org.tokyo)
    fill(user)
    UserFactory(username="ny", timezone="America/New_York", team=org.tokyo)
    with time_machine.travel(NINE_IN_TOKYO, tick=False):
        due = digest.due_users()
        assert user in due and not any(u.username == "ny" for u in due)
        assert digest.send_digests([user]) == 1
    sent = parse(smtp_server.messages[0])
    assert smtp_server.messages[0].rcpt_tos == [user.email]
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    for body in (text, html):
        assert "見積書を送る" in body  # due Friday: this week
        assert "来週の件" not in body  # due next Tuesday
        assert "請求書の確認" in body
        assert "hanakoの保守契約" in body
        assert "新しいお知らせ" in body
    assert "2026-03-04" in sent["Subject"]


@pytest.mark.django_db
def test_one_digest_a_day_and_preferences_are_respected(org, smtp_server):
    user = UserFactory(username="u1", timezone="Asia/Tokyo", team=org.tokyo)
    fill(user)
    with time_machine.travel(NINE_IN_TOKYO, tick=False):
        assert digest.send_digests() >= 1
        assert user not in digest.due_users()
        assert digest.send_digests() == 0
    DigestPreference.objects.filter(user=user).update(last_sent_on=None, overdue_tasks=False)
    with time_machine.travel(NINE_IN_TOKYO, tick=False):
        digest.send_digests([user])
    last = parse(smtp_server.messages[-1]).get_body(("plain",)).get_content()
    assert "請求書の確認" not in last and "見積書を送る" in last
    DigestPreference.objects.filter(user=user).update(last_sent_on=None, enabled=False)
    with time_machine.travel(NINE_IN_TOKYO, tick=False):
        assert user not in digest.due_users()


@pytest.mark.django_db
def test_users_with_nothing_get_no_mail(org, smtp_server):
    user = UserFactory(username="idle", timezone="Asia/Tokyo", team=org.tokyo)
    with time_machine.travel(NINE_IN_TOKYO, tick=False):
        assert digest.send_digests([user]) == 0
    assert not smtp_server.messages


@pytest.mark.django_db
def test_building_digests_does_not_query_per_user(org):
    users = [UserFactory(username=f"q{i}", team=org.tokyo) for i in range(12)]
    for user in users:
        fill(user)
    with time_machine.travel(NINE_IN_TOKYO, tick=False):
        with CaptureQueriesContext(connection) as few:
            small = digest.build(users[:2])
            [digest.render(d) for d in small]
        with CaptureQueriesContext(connection) as many:
            big = digest.build(users)
            [digest.render(d) for d in big]
    assert len(many) == len(few)
    assert all(not d.empty for d in big)


@pytest.mark.django_db
def test_preferences_page(client, org):
    client.force_login(org.rep)
    assert client.get("/me/digest/").status_code == 200
    response = client.post("/me/digest/", {"enabled": "on", "follow_ups": "on"})
    assert response.status_code == 302
    pref = DigestPreference.objects.get(user=org.rep)
    assert pref.enabled and pref.follow_ups and not pref.stalled_deals
