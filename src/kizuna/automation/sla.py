"""The first-contact SLA of leads, counted in business hours.

A new lead is due for first contact ``BusinessCalendar.lead_sla_hours``
business hours (48 by default) after it arrives, on the organisation's
JP/KR calendar. Logging a call, meeting, visit or e-mail on the lead, or
moving it out of "new", marks it contacted. A periodic job notifies the
owner of a breach and escalates to the owner's managers, once each.
"""

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kizuna.automation import business_time
from kizuna.automation.models import BusinessCalendar

CONTACT_KINDS = ("call", "meeting", "email", "visit")
# "Due soon": the deadline falls within this many business hours.
SOON_HOURS = 8
# Breaches older than this are not looked at again (bounded scans).
LOOKBACK = datetime.timedelta(days=14)

ON_TIME, DUE_SOON, BREACHED, MET = "on_time", "due_soon", "breached", "met"
STATES = {
    ON_TIME: gettext_lazy("on time"),
    DUE_SOON: gettext_lazy("due soon"),
    BREACHED: gettext_lazy("breached"),
    MET: gettext_lazy("met"),
}


def sla_hours() -> int:
    row = BusinessCalendar.objects.order_by("pk").only("lead_sla_hours").first()
    return row.lead_sla_hours if row else 48


def start(lead, *, now: datetime.datetime | None = None) -> None:
    """Set a new lead's first-contact deadline (before it is saved)."""
    start_many([lead], now=now)


def start_many(leads, *, now: datetime.datetime | None = None) -> None:
    """Deadlines for unsaved leads in bulk (imports, before ``bulk_create``).

    The calendar is read once; every lead arriving now gets the same deadline.
    """
    todo = [x for x in leads if x.first_contact_due_at is None and x.first_contacted_at is None]
    if not todo:
        return
    calendar = business_time.load_calendar()
    due = business_time.add_business_hours(now or timezone.now(), sla_hours(), calendar=calendar)
    for lead in todo:
        lead.first_contact_due_at = due


def contacted(*, lead_id: int | None, at: datetime.datetime | None = None) -> None:
    """Mark the lead's first contact (the first time only)."""
    if lead_id is None:
        return
    from kizuna.customers.models import Lead

    Lead.objects.filter(pk=lead_id, first_contacted_at__isnull=True).update(
        first_contacted_at=at or timezone.now()
    )


def soon_until(now: datetime.datetime | None = None) -> datetime.datetime:
    """Deadlines before this moment are "due soon" (computed once per page)."""
    return business_time.add_business_hours(now or timezone.now(), SOON_HOURS)


def state(lead, *, now: datetime.datetime, soon: datetime.datetime) -> str:
    if lead.first_contacted_at is not None:
        return MET
    due = lead.first_contact_due_at
    if due is None:
        return ""
    if due <= now:
        return BREACHED
    return DUE_SOON if due <= soon else ON_TIME


def state_q(value: str, *, now: datetime.datetime, soon: datetime.datetime) -> Q | None:
    """A filter for the lead list; None for an unknown state."""
    open_ = Q(first_contacted_at__isnull=True)
    return {
        MET: Q(first_contacted_at__isnull=False),
        BREACHED: open_ & Q(first_contact_due_at__lte=now),
        DUE_SOON: open_ & Q(first_contact_due_at__gt=now, first_contact_due_at__lte=soon),
        ON_TIME: open_ & Q(first_contact_due_at__gt=soon),
    }.get(value)


def check_breaches(*, now: datetime.datetime | None = None) -> int:
    """Notify owners of breached leads and escalate to their managers, once."""
    from kizuna.automation.services import notify
    from kizuna.customers.models import Lead
    from kizuna.iam.selectors import managers_of

    now = now or timezone.now()
    leads = Lead.objects.filter(
        first_contacted_at__isnull=True,
        status=Lead.Status.NEW,
        first_contact_due_at__lte=now,
        first_contact_due_at__gt=now - LOOKBACK,
    ).select_related("owner")
    count = 0
    for lead in leads:
        url = reverse("customers:lead_detail", args=[lead.pk])
        due = timezone.localtime(lead.first_contact_due_at)
        params = {"lead": str(lead), "due": due.strftime("%Y-%m-%d %H:%M")}
        count += len(
            notify(
                recipients=[lead.owner],
                kind="sla_breached",
                text=gettext_lazy("Nobody has contacted the lead %(lead)s yet (due %(due)s)."),
                params=params,
                url=url,
                obj=lead,
                dedupe_key=f"sla:lead:{lead.pk}:breached",
            )
        )
        count += len(
            notify(
                recipients=managers_of(lead.owner),
                kind="sla_escalated",
                text=gettext_lazy(
                    "Escalation: %(owner)s has not contacted the lead %(lead)s (due %(due)s)."
                ),
                params={**params, "owner": str(lead.owner)},
                url=url,
                obj=lead,
                dedupe_key=f"sla:lead:{lead.pk}:escalated",
            )
        )
    return count


def label(lead, *, now: datetime.datetime, soon: datetime.datetime) -> str:
    value = state(lead, now=now, soon=soon)
    return str(STATES[value]) if value else ""


def lead_column():
    """The lead list's "first contact" column: no query per row (one per page)."""
    from kizuna.core.tables import Column

    moments: dict[str, datetime.datetime] = {}

    def value(lead) -> str:
        if not moments:
            moments["now"] = timezone.now()
            moments["soon"] = soon_until(moments["now"])
        return label(lead, now=moments["now"], soon=moments["soon"])

    return Column("sla", gettext_lazy("First contact"), value, optional=True)


def filter_leads(queryset, value: str):
    now = timezone.now()
    q = state_q(value, now=now, soon=soon_until(now))
    return queryset.filter(q) if q is not None else queryset
