"""The daily digest: one e-mail per user at 09:00 in their time zone.

Everything a chunk of users needs is read with a fixed number of queries
(one per section and record type), whatever the chunk's size, then each
digest is rendered in its user's language and handed to one SMTP
connection per chunk.
"""

import datetime
import threading
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import mail as django_mail
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kizuna.mail.models import DigestPreference

DIGEST_HOUR = 9
# Past this hour a missed digest (server down at 09:00) is not sent late.
LAST_HOUR = 12
CHUNK = 500
SEND_BATCH = 25
LIMIT = 20  # rows per section in one mail


@dataclass
class Digest:
    user: Any
    today: datetime.date
    sections: dict[str, bool]
    follow_ups: list = field(default_factory=list)
    overdue_tasks: list = field(default_factory=list)
    stalled_deals: list = field(default_factory=list)
    breached_slas: list = field(default_factory=list)
    notifications: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.follow_ups,
                self.overdue_tasks,
                self.stalled_deals,
                self.breached_slas,
                self.notifications,
            )
        )


def _local_today(user, now: datetime.datetime) -> datetime.datetime:
    try:
        tz = zoneinfo.ZoneInfo(user.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return now.astimezone(tz)


def _preferences(users: list) -> dict[int, DigestPreference]:
    prefs = {p.user_id: p for p in DigestPreference.objects.filter(user__in=users)}
    return {u.pk: prefs.get(u.pk) or DigestPreference(user=u) for u in users}


def due_users(now: datetime.datetime | None = None) -> list:
    """Active users whose local time is 09:00–11:59 and who have no digest today."""
    from django.contrib.auth import get_user_model

    now = now or timezone.now()
    users = list(get_user_model().objects.filter(is_active=True).exclude(email=""))
    prefs = _preferences(users)
    due = []
    for user in users:
        local = _local_today(user, now)
        pref = prefs[user.pk]
        if not pref.enabled or not (DIGEST_HOUR <= local.hour < LAST_HOUR):
            continue
        if pref.last_sent_on == local.date():
            continue
        due.append(user)
    return due


def sla_breaches(user_ids: list[int], now: datetime.datetime) -> dict[int, list]:
    """Hook for the lead first-contact SLA (``automation.sla``).

    Leads past ``first_contact_due_at`` with no ``first_contacted_at``, per
    owner, when the Lead model has those fields (the rules branch adds
    them); otherwise nothing, and the digest section stays empty.
    """
    from kizuna.customers.models import Lead

    names = {f.name for f in Lead._meta.get_fields()}
    if not {"first_contact_due_at", "first_contacted_at"} <= names:
        return {}
    rows: dict[int, list] = defaultdict(list)
    # Field names built at run time: the fields come from another branch.
    due = "first_contact_due_at"
    qs = (
        Lead.objects.filter(owner_id__in=user_ids, **{"first_contacted_at__isnull": True})
        .filter(**{f"{due}__lt": now})
        .exclude(status__in=[Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED])
        .order_by(due)
    )
    for lead in qs[: LIMIT * len(user_ids)]:
        rows[lead.owner_id].append(lead)
    return rows


def build(users: list, now: datetime.datetime | None = None) -> list[Digest]:
    """The digests of ``users``, read with a fixed number of queries."""
    from kizuna.activities.models import Activity
    from kizuna.automation.models import Notification
    from kizuna.customers.models import Company, Contact, Lead
    from kizuna.sales.models import Deal, Stage
    from kizuna.sales.selectors import stalled_q

    now = now or timezone.now()
    ids = [u.pk for u in users]
    prefs = _preferences(users)
    todays = {u.pk: _local_today(u, now).date() for u in users}
    # One window that covers every user's "this week" (Mon–Sun, local).
    first = min(todays.values(), default=now.date())
    last = max(todays.values(), default=now.date())
    week_start = first - datetime.timedelta(days=first.weekday())
    week_end = last + datetime.timedelta(days=6 - last.weekday())

    follow: dict[int, list] = defaultdict(list)
    models: list[tuple[Any, str]] = [
        (Contact, "contact"),
        (Lead, "lead"),
        (Company, "company"),
        (Deal, "deal"),
    ]
    for model, kind in models:
        qs = model.objects.filter(
            owner_id__in=ids, next_action_due__range=(week_start, week_end)
        ).exclude(next_action="")
        if model is Deal:
            qs = qs.filter(status=Deal.Status.OPEN)
        if model is Lead:
            qs = qs.exclude(status__in=[Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED])
        for obj in qs.only("id", "owner_id", "next_action", "next_action_due", *_name(model)):
            follow[obj.owner_id].append((kind, obj))

    overdue: dict[int, list] = defaultdict(list)
    for task in (
        Activity.objects.filter(
            kind=Activity.Kind.TASK, assignee_id__in=ids, done_at__isnull=True, due_date__lt=last
        )
        .only("id", "assignee_id", "subject", "due_date")
        .order_by("due_date", "id")
    ):
        if task.assignee_id and task.due_date and task.due_date < todays[task.assignee_id]:
            overdue[task.assignee_id].append(task)

    stalled: dict[int, list] = defaultdict(list)
    stages = list(Stage.objects.select_related("pipeline"))
    for deal in (
        Deal.objects.filter(stalled_q(stages, now), owner_id__in=ids)
        .only("id", "owner_id", "name", "last_touched_at", "stage_id")
        .order_by("last_touched_at")
    ):
        stalled[deal.owner_id].append(deal)

    breaches = sla_breaches(ids, now)

    notes: dict[int, list] = defaultdict(list)
    since = now - datetime.timedelta(days=1)
    for n in Notification.objects.filter(
        recipient_id__in=ids, read_at__isnull=True, created_at__gte=since
    ).only("id", "recipient_id", "text", "url", "created_at"):
        notes[n.recipient_id].append(n)

    digests = []
    for user in users:
        pref = prefs[user.pk]
        sections = {
            "follow_ups": pref.follow_ups,
            "overdue_tasks": pref.overdue_tasks,
            "stalled_deals": pref.stalled_deals,
            "breached_slas": pref.breached_slas,
            "notifications": pref.notifications,
        }
        today = todays[user.pk]
        monday = today - datetime.timedelta(days=today.weekday())
        sunday = monday + datetime.timedelta(days=6)
        d = Digest(user=user, today=today, sections=sections)
        if pref.follow_ups:
            d.follow_ups = sorted(
                ((k, o) for k, o in follow[user.pk] if monday <= o.next_action_due <= sunday),
                key=lambda ko: (ko[1].next_action_due, ko[0], ko[1].pk),
            )[:LIMIT]
        if pref.overdue_tasks:
            d.overdue_tasks = overdue[user.pk][:LIMIT]
        if pref.stalled_deals:
            d.stalled_deals = stalled[user.pk][:LIMIT]
        if pref.breached_slas:
            d.breached_slas = breaches.get(user.pk, [])[:LIMIT]
        if pref.notifications:
            d.notifications = notes[user.pk][:LIMIT]
        digests.append(d)
    return digests


def _name(model) -> tuple[str, ...]:
    if model.__name__ in ("Contact", "Lead"):
        return ("family_name", "given_name")
    return ("name",)


PATHS = {"contact": "contacts", "lead": "leads", "company": "companies", "deal": "deals"}


def _sections(d: Digest) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """(title, rows) with rows of (date, text, note, path), in the active language."""
    sections = []
    if d.follow_ups:
        rows = []
        for kind, o in d.follow_ups:
            name = f"{o.family_name} {o.given_name}" if kind in ("contact", "lead") else o.name
            rows.append(
                (
                    o.next_action_due.strftime("%m/%d"),
                    o.next_action,
                    name,
                    f"/{PATHS[kind]}/{o.pk}/",
                )
            )
        sections.append((_("This week's follow-ups"), rows))
    if d.overdue_tasks:
        sections.append(
            (
                _("Overdue tasks"),
                [
                    (t.due_date.strftime("%m/%d"), t.subject, "", f"/activities/{t.pk}/")
                    for t in d.overdue_tasks
                ],
            )
        )
    if d.stalled_deals:
        touched = _("last touched %(date)s")
        sections.append(
            (
                _("Stalled deals"),
                [
                    (
                        "",
                        deal.name,
                        touched % {"date": deal.last_touched_at.date().isoformat()}
                        if deal.last_touched_at
                        else "",
                        f"/deals/{deal.pk}/",
                    )
                    for deal in d.stalled_deals
                ],
            )
        )
    if d.breached_slas:
        sections.append(
            (
                _("Breached SLAs"),
                [("", str(lead), "", f"/leads/{lead.pk}/") for lead in d.breached_slas],
            )
        )
    if d.notifications:
        sections.append(
            (
                _("New notifications"),
                [("", n.text, "", n.url) for n in d.notifications],
            )
        )
    return sections


def render(digest: Digest, base_url: str = "") -> django_mail.EmailMultiAlternatives:
    """The digest as a text + HTML mail in its user's language."""
    user = digest.user
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "sections": _sections(digest),
            "base_url": base_url or settings.KIZUNA_BASE_URL,
        }
        subject = _("Kizuna daily digest for %(date)s") % {"date": digest.today.isoformat()}
        text = get_template("mail/digest.txt").render(context)
        html = get_template("mail/digest.html").render(context)
    message = django_mail.EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated", "X-Kizuna-Digest": "1"},
    )
    message.attach_alternative(html, "text/html")
    return message


class _Senders:
    """A few SMTP connections used side by side: most of a send is waiting
    for the server's reply, so rendering and the other connections go on."""

    def __init__(self, connections: int, connection=None):
        self.connection = connection
        self.local = threading.local()
        self.opened: list = []
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=1 if connection else connections)

    def _send(self, messages: list) -> int:
        conn = self.connection
        if conn is None:
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = django_mail.get_connection()
                with self.lock:
                    self.opened.append(conn)
        return conn.send_messages(messages) or 0

    def submit(self, messages: list) -> Future:
        return self.pool.submit(self._send, messages)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for conn in self.opened:
            conn.close()


def send_digests(
    users: Iterable | None = None, *, now: datetime.datetime | None = None, connection=None
) -> int:
    """Build, render and send the digests of ``users`` (default: those due)."""
    now = now or timezone.now()
    users = list(users) if users is not None else due_users(now)
    senders = _Senders(settings.KIZUNA_DIGEST_SMTP_CONNECTIONS, connection)
    sent = 0
    try:
        for start in range(0, len(users), CHUNK):
            chunk = users[start : start + CHUNK]
            futures = []
            batch: list = []
            for d in build(chunk, now):
                if d.empty:
                    continue
                batch.append(render(d))
                if len(batch) == SEND_BATCH:
                    futures.append(senders.submit(batch))
                    batch = []
            if batch:
                futures.append(senders.submit(batch))
            sent += sum(f.result() for f in futures)
            _mark_sent(chunk, now)
    finally:
        senders.close()
    return sent


def _mark_sent(users: list, now: datetime.datetime) -> None:
    prefs = _preferences(users)
    new: list[DigestPreference] = []
    changed: list[DigestPreference] = []
    for user in users:
        pref = prefs[user.pk]
        pref.last_sent_on = _local_today(user, now).date()
        (changed if pref.pk else new).append(pref)
    DigestPreference.objects.bulk_create(new, batch_size=500)
    DigestPreference.objects.bulk_update(changed, ["last_sent_on"], batch_size=500)
