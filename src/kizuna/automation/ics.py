"""The per-user ICS feed: meetings, visits and open tasks with a due date."""

import datetime

import icalendar
from django.db.models import Q, QuerySet
from django.utils import timezone

from kizuna.activities.models import Activity
from kizuna.activities.selectors import activity_list
from kizuna.automation.models import CalendarFeed

PAST = datetime.timedelta(days=90)
FUTURE = datetime.timedelta(days=400)
MEETING_KINDS = [Activity.Kind.MEETING, Activity.Kind.VISIT]


def feed_user(token: str):
    """The active user a feed token belongs to, or None."""
    if not token or len(token) > 64:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )
    if feed is None:
        return None
    now = timezone.now()
    if feed.last_used_at is None or (now - feed.last_used_at).total_seconds() > 300:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user


def feed_items(*, user) -> QuerySet[Activity]:
    """What the user's calendar shows, among the records the user may see."""
    now = timezone.now()
    today = timezone.localdate()
    meetings = Q(
        kind__in=MEETING_KINDS,
        occurred_at__gte=now - PAST,
        occurred_at__lte=now + FUTURE,
    ) & (Q(owner=user) | Q(participant_users=user))
    tasks = Q(
        kind=Activity.Kind.TASK,
        assignee=user,
        done_at__isnull=True,
        due_date__isnull=False,
        due_date__gte=today - PAST,
    )
    ids = activity_list(user=user).filter(meetings | tasks).values("id")
    return (
        Activity.objects.filter(id__in=ids)
        .select_related("company")
        .order_by("occurred_at", "id")[:2000]
    )


def render_feed(*, user, base_url: str, name: str) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Kizuna CRM//kizuna//")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", user.timezone)
    stamp = timezone.now()
    for activity in feed_items(user=user):
        event = icalendar.Event()
        event.add("uid", f"activity-{activity.pk}@kizuna")
        event.add("dtstamp", stamp)
        summary = activity.subject
        if activity.company_id:
            summary = f"{summary} ({activity.company})"
        if activity.kind == Activity.Kind.TASK:
            assert activity.due_date is not None
            event.add("summary", f"☐ {summary}")
            event.add("dtstart", activity.due_date)
            event.add("dtend", activity.due_date + datetime.timedelta(days=1))
            event.add("transp", "TRANSPARENT")
        else:
            start = activity.occurred_at
            minutes = activity.duration_minutes or 60
            event.add("summary", summary)
            event.add("dtstart", start)
            event.add("dtend", start + datetime.timedelta(minutes=minutes))
        event.add("url", f"{base_url}/activities/{activity.pk}/")
        event.add("last-modified", activity.updated_at)
        cal.add_component(event)
    return cal.to_ical()
