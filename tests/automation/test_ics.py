"""The per-user ICS feed: secret address, revocable, only what the user may see."""

import datetime

import icalendar
import pytest
from django.utils import timezone

from kizuna.activities.services import activity_create
from kizuna.automation.models import CalendarFeed
from kizuna.automation.services import calendar_feed_regenerate, calendar_feed_revoke
from kizuna.customers.services import company_create


def events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def agenda(org):
    company = company_create(actor=org.rep, name="山田商事")
    soon = timezone.now() + datetime.timedelta(days=2)
    activity_create(
        actor=org.rep,
        kind="meeting",
        subject="見積説明",
        company=company,
        occurred_at=soon,
        duration_minutes=90,
    )
    activity_create(
        actor=org.rep,
        kind="task",
        subject="見積書送付",
        assignee=org.rep,
        due_date=timezone.localdate() + datetime.timedelta(days=3),
    )
    activity_create(actor=org.rep, kind="note", subject="メモは出ない", company=company)
    activity_create(
        actor=org.outsider,
        kind="meeting",
        subject="他チームの会議",
        company=company_create(actor=org.outsider, name="大阪物産"),
        occurred_at=soon,
    )
    return company


@pytest.mark.django_db
def test_the_feed_lists_meetings_and_open_tasks(client, org, agenda):
    feed = calendar_feed_regenerate(user=org.rep)
    found = events(client.get(f"/calendar/{feed.token}.ics"))
    assert set(found) == {"見積説明 (山田商事)", "☐ 見積書送付"}
    meeting = found["見積説明 (山田商事)"]
    start, end = meeting["dtstart"].dt, meeting["dtend"].dt
    assert end - start == datetime.timedelta(minutes=90)
    task = found["☐ 見積書送付"]
    assert task["dtstart"].dt == timezone.localdate() + datetime.timedelta(days=3)
    assert str(task["url"]).startswith("http://testserver/activities/")
    feed.refresh_from_db()
    assert feed.last_used_at is not None


@pytest.mark.django_db
def test_the_feed_shows_only_what_its_user_may_see(client, org, agenda):
    # The outsider's own meeting shows; the rep's records do not.
    feed = calendar_feed_regenerate(user=org.outsider)
    assert set(events(client.get(f"/calendar/{feed.token}.ics"))) == {"他チームの会議 (大阪物産)"}


@pytest.mark.django_db
def test_regenerating_and_revoking_stop_the_old_address(client, org, agenda):
    old = calendar_feed_regenerate(user=org.rep)
    new = calendar_feed_regenerate(user=org.rep)
    assert old.token != new.token
    assert client.get(f"/calendar/{old.token}.ics").status_code == 404
    assert client.get(f"/calendar/{new.token}.ics").status_code == 200
    assert calendar_feed_revoke(user=org.rep) is True
    assert client.get(f"/calendar/{new.token}.ics").status_code == 404
    assert calendar_feed_revoke(user=org.rep) is False


@pytest.mark.django_db
def test_wrong_tokens_and_inactive_users_get_404(client, org):
    feed = calendar_feed_regenerate(user=org.rep)
    assert client.get("/calendar/nope.ics").status_code == 404
    assert client.get(f"/calendar/{'x' * 65}.ics").status_code == 404
    org.rep.is_active = False
    org.rep.save()
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 404


@pytest.mark.django_db
def test_the_preferences_page_shows_and_manages_the_address(client, org):
    client.force_login(org.rep)
    page = client.get("/me/").content.decode()
    assert "Create calendar address" in page
    assert client.post("/me/calendar-feed/").status_code == 302
    token = CalendarFeed.objects.get(user=org.rep).token
    assert f"/calendar/{token}.ics" in client.get("/me/").content.decode()
    client.post("/me/calendar-feed/revoke/")
    assert not CalendarFeed.objects.filter(user=org.rep).exists()
