"""The first-contact SLA of leads on the Japanese business calendar."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from kizuna.activities.services import activity_create
from kizuna.automation import sla
from kizuna.automation.models import BusinessCalendar, Notification
from kizuna.automation.tasks import lead_sla_breaches
from kizuna.customers.models import Lead
from kizuna.customers.services import lead_create, lead_update

pytestmark = pytest.mark.django_db

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def travel(when: datetime.datetime):
    return time_machine.travel(when, tick=False)


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=TOKYO)


def test_a_friday_night_web_lead_is_due_48_business_hours_after_monday_nine(org):
    # Friday 2026-06-05 23:10: working hours 9-18 (9 h/day), 48 h = 5 days + 3 h
    # counted from Monday 09:00: Monday the 15th, 12:00.
    with travel(at(2026, 6, 5, 23, 10)):
        lead = lead_create(actor=org.rep, family_name="田中", channel="web_form")
    assert lead.first_contact_due_at == at(2026, 6, 15, 12, 0)
    assert lead.first_contacted_at is None


def test_golden_week_holidays_do_not_count(org):
    # 2026-04-30 (Thu) 17:00; 5/1 is a Friday, 5/4-5/6 are holidays.
    BusinessCalendar.objects.create(lead_sla_hours=9)
    with travel(at(2026, 4, 30, 17, 0)):
        lead = lead_create(actor=org.rep, family_name="田中", channel="web_form")
    # 1 h on Thu, 8 h on Fri 5/1 -> due Fri 17:00.
    assert lead.first_contact_due_at == at(2026, 5, 1, 17, 0)


def test_a_call_or_leaving_new_marks_first_contact_and_notes_do_not(org):
    with travel(at(2026, 6, 1, 10, 0)):
        called = lead_create(actor=org.rep, family_name="田中", channel="web_form")
        noted = lead_create(actor=org.rep, family_name="鈴木", channel="web_form")
        worked = lead_create(actor=org.rep, family_name="佐藤", channel="web_form")
    with travel(at(2026, 6, 2, 11, 0)):
        activity_create(actor=org.rep, kind="note", subject="メモ", lead=noted)
        activity_create(actor=org.rep, kind="call", subject="初回電話", lead=called)
        lead_update(actor=org.rep, lead=worked, status="working")
    called.refresh_from_db()
    noted.refresh_from_db()
    worked.refresh_from_db()
    assert called.first_contacted_at == at(2026, 6, 2, 11, 0)
    assert noted.first_contacted_at is None
    assert worked.first_contacted_at == at(2026, 6, 2, 11, 0)
    # A second call does not move the first contact.
    with travel(at(2026, 6, 3, 11, 0)):
        activity_create(actor=org.rep, kind="call", subject="2回目", lead=called)
    called.refresh_from_db()
    assert called.first_contacted_at == at(2026, 6, 2, 11, 0)


def test_states_on_time_due_soon_breached_met(org):
    with travel(at(2026, 6, 1, 9, 0)):
        lead = lead_create(actor=org.rep, family_name="田中", channel="web_form")
    assert lead.first_contact_due_at == at(2026, 6, 8, 12, 0)

    def state(when):
        return sla.state(lead, now=when, soon=sla.soon_until(when))

    assert state(at(2026, 6, 2, 9, 0)) == sla.ON_TIME
    assert state(at(2026, 6, 5, 17, 0)) == sla.DUE_SOON  # 4 business hours left
    assert state(at(2026, 6, 8, 12, 1)) == sla.BREACHED
    lead.first_contacted_at = at(2026, 6, 8, 13, 0)
    assert state(at(2026, 6, 9, 9, 0)) == sla.MET


def test_a_breach_notifies_the_owner_and_escalates_to_the_manager_once(org):
    with travel(at(2026, 6, 5, 23, 10)):
        lead = lead_create(actor=org.rep, family_name="田中", channel="web_form")
        lead_create(actor=org.rep, family_name="早い", channel="web_form")
    done = Lead.objects.get(family_name="早い")
    with travel(at(2026, 6, 8, 10, 0)):
        activity_create(actor=org.rep, kind="email", subject="ご連絡", lead=done)
    with travel(at(2026, 6, 15, 11, 59)):
        lead_sla_breaches()
        assert not Notification.objects.exists()
    with travel(at(2026, 6, 15, 12, 5)):
        lead_sla_breaches()
        lead_sla_breaches()  # the job runs every few minutes: still once
    owner_note = Notification.objects.get(kind="sla_breached")
    manager_note = Notification.objects.get(kind="sla_escalated")
    assert owner_note.recipient == org.rep and manager_note.recipient == org.manager
    assert "田中" in manager_note.text and str(org.rep) in manager_note.text
    assert owner_note.url == f"/leads/{lead.pk}/"
    assert Notification.objects.count() == 2


def test_lead_list_shows_and_filters_the_sla_without_queries_per_row(
    client, org, django_assert_max_num_queries
):
    with travel(at(2026, 6, 1, 9, 0)):
        for i in range(5):
            lead_create(actor=org.rep, family_name=f"古い{i}", channel="web_form")
    with travel(at(2026, 6, 8, 9, 0)):
        for i in range(3):
            lead_create(actor=org.rep, family_name=f"新しい{i}", channel="web_form")
    client.force_login(org.rep)
    with travel(at(2026, 6, 8, 15, 0)):
        client.get("/leads/")  # warm caches (access policy, custom fields)
        with django_assert_max_num_queries(16):
            page = client.get("/leads/").content.decode()
        assert page.count("breached") >= 5 and "on time" in page
        breached = client.get("/leads/", {"sla": "breached"})
        assert breached.context["page"].paginator.count == 5
        on_time = client.get("/leads/", {"sla": "on_time"})
        assert on_time.context["page"].paginator.count == 3
        detail = client.get(f"/leads/{Lead.objects.get(family_name='古い0').pk}/")
        assert "First contact: breached" in detail.content.decode()
    # More rows, same queries.
    with travel(at(2026, 6, 1, 9, 0)):
        for i in range(10):
            lead_create(actor=org.rep, family_name=f"追加{i}", channel="web_form")
    with travel(at(2026, 6, 8, 15, 0)), django_assert_max_num_queries(16):
        client.get("/leads/")
    assert timezone.now()


def test_bulk_deadlines_for_imports_read_the_calendar_once(org, django_assert_max_num_queries):
    leads = [Lead(family_name=f"客{i}", channel="other") for i in range(50)]
    with travel(at(2026, 6, 5, 23, 10)), django_assert_max_num_queries(3):
        sla.start_many(leads)
    assert {lead.first_contact_due_at for lead in leads} == {at(2026, 6, 15, 12, 0)}
