from django import template
from django.urls import reverse

from kizuna.automation.models import CalendarFeed

register = template.Library()


@register.inclusion_tag("automation/_calendar_feed.html", takes_context=True)
def calendar_feed_card(context):
    """The calendar feed section of the preferences page."""
    request = context["request"]
    feed = CalendarFeed.objects.filter(user_id=request.user.pk).first()
    url = None
    if feed is not None:
        url = request.build_absolute_uri(reverse("automation:calendar_feed", args=[feed.token]))
    return {"feed": feed, "feed_url": url, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("automation/_away.html", takes_context=True)
def away_card(context):
    """The "away until" toggle of the preferences page."""
    from django.utils import timezone

    return {
        "user": context["request"].user,
        "today": timezone.localdate(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("automation/_sla_badge.html")
def lead_sla_badge(lead):
    """The lead's first-contact SLA state, with the deadline."""
    from django.utils import timezone

    from kizuna.automation import sla

    now = timezone.now()
    state = sla.state(lead, now=now, soon=sla.soon_until(now))
    return {"lead": lead, "state": state, "label": sla.STATES.get(state, "")}
