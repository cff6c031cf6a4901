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
