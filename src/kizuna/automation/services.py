"""Writes of the automation app: jobs, notifications."""

import datetime
import secrets
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.automation import jobs, rules
from kizuna.automation.models import (
    AssignmentRule,
    BusinessCalendar,
    CalendarFeed,
    CompanyDayOff,
    JobRun,
    Notification,
    Rule,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from kizuna.core import access, audit, records
from kizuna.core.models import AuditEntry

CALENDAR_ADMIN_ONLY = gettext_lazy("Only administrators may change the business calendar.")

# -- jobs --------------------------------------------------------------------


def job_retry(*, actor, job: JobRun) -> None:
    """Queue a failed job again, with its retries reset (admins only)."""
    if not access.is_admin(actor):
        raise PermissionDenied(_("Only administrators may retry jobs."))
    with transaction.atomic():
        job = JobRun.objects.select_for_update().get(pk=job.pk)
        if job.status not in (JobRun.Status.FAILED, JobRun.Status.CANCELLED) or not job.payload:
            raise ValidationError(_("Only a failed job can be retried."))
        payload = bytes(job.payload)
        JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.QUEUED, error="")
        audit.record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            obj=job,
            changes={"status": [job.status, JobRun.Status.QUEUED]},
        )
        transaction.on_commit(lambda: jobs.requeue(payload))


def job_runs_purge(*, older_than: datetime.timedelta) -> int:
    """Forget finished jobs that succeeded or were cancelled a while ago."""
    cutoff = timezone.now() - older_than
    deleted, _detail = JobRun.objects.filter(
        status__in=[JobRun.Status.SUCCEEDED, JobRun.Status.CANCELLED], updated_at__lt=cutoff
    ).delete()
    return deleted


# -- notifications -----------------------------------------------------------


def _render(text: str | Promise, params: Mapping[str, Any] | None, language: str) -> str:
    with translation.override(language):
        rendered = str(text)
        if params:
            rendered = rendered % {k: str(v) for k, v in params.items()}
    return rendered[:500]


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    text: str | Promise,
    url: str = "",
    obj: models.Model | None = None,
    dedupe_key: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """Put a message in each recipient's notification centre.

    ``text`` is a (lazy) translatable string, rendered in each recipient's
    language with ``params`` (``%(name)s`` placeholders) at creation. With a
    ``dedupe_key`` a recipient gets at most one notification per key, so a
    periodic job that runs twice notifies once. With ``obj``, recipients who
    may not see the record get nothing. Inactive users get nothing.
    Returns the notifications created.
    """
    if not kind or len(kind) > 50:
        raise ValidationError({"kind": _("Give a kind of at most 50 characters.")})
    if url and not (url.startswith("/") and not url.startswith("//")):
        raise ValidationError({"url": _("A notification links to a page of Kizuna.")})
    if dedupe_key is not None and not (0 < len(dedupe_key) <= 200):
        raise ValidationError({"dedupe_key": _("Give a key of 1 to 200 characters.")})
    unique = {u.pk: u for u in recipients if u is not None and u.is_active}
    object_type = ""
    object_id = None
    gated = False
    if obj is not None:
        gated = bool(getattr(obj, "access_object_type", None))
        object_type = str(getattr(obj, "access_object_type", None) or obj._meta.model_name or "")
        object_id = obj.pk
    created: list[Notification] = []
    with transaction.atomic():
        if dedupe_key is not None:
            done = set(
                Notification.objects.filter(
                    dedupe_key=dedupe_key, recipient_id__in=list(unique)
                ).values_list("recipient_id", flat=True)
            )
            unique = {pk: u for pk, u in unique.items() if pk not in done}
        for user in unique.values():
            if gated and obj is not None and not access.can_view(user, obj):
                continue
            notification = Notification(
                recipient=user,
                kind=kind,
                text=_render(text, params, user.language),
                url=url,
                object_type=object_type,
                object_id=object_id,
                dedupe_key=dedupe_key,
            )
            try:
                # A concurrent run may have created the same key meanwhile.
                with transaction.atomic():
                    notification.save()
            except IntegrityError:
                continue
            created.append(notification)
    return created


def notification_mark_read(*, user, notification: Notification) -> None:
    if notification.recipient_id != user.pk:
        raise PermissionDenied(_("This notification is not yours."))
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# -- business calendar -------------------------------------------------------

CALENDAR_FIELDS = ["country", "time_zone", "work_start", "work_end", "workdays"]


def calendar_update(
    *,
    actor,
    country: str,
    time_zone: str,
    work_start: datetime.time,
    work_end: datetime.time,
    workdays: Iterable[int],
) -> BusinessCalendar:
    access.require_admin(actor, CALENDAR_ADMIN_ONLY)
    with transaction.atomic():
        calendar = BusinessCalendar.objects.select_for_update().order_by("pk").first()
        calendar = calendar or BusinessCalendar()
        before = audit.snapshot(calendar, CALENDAR_FIELDS) if calendar.pk else {}
        errors: dict[str, list[str]] = {}
        days = sorted({int(d) for d in workdays})
        if not days or any(d < 1 or d > 7 for d in days):
            errors["workdays"] = [_("Choose at least one working day.")]
        if work_start >= work_end:
            errors["work_end"] = [_("Work must end after it starts.")]
        if time_zone not in zoneinfo.available_timezones():
            errors["time_zone"] = [_("Unknown time zone.")]
        calendar.country = country
        calendar.time_zone = time_zone
        calendar.work_start = work_start
        calendar.work_end = work_end
        calendar.workdays = days
        records.validate(calendar, errors)
        calendar.save()
        after = audit.snapshot(calendar, CALENDAR_FIELDS)
        records.audit_update(actor, calendar, before, after)
    return calendar


def day_off_add(*, actor, date: datetime.date, name: str) -> CompanyDayOff:
    access.require_admin(actor, CALENDAR_ADMIN_ONLY)
    with transaction.atomic():
        day_off = CompanyDayOff(date=date, name=(name or "").strip())
        errors: dict[str, list[str]] = {}
        if CompanyDayOff.objects.filter(date=date).exists():
            errors["date"] = [_("This day is already a day off.")]
        records.validate(day_off, errors)
        day_off.save()
        audit.record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=day_off,
            changes={"date": [None, date.isoformat()], "name": [None, day_off.name]},
        )
    return day_off


def day_off_delete(*, actor, day_off: CompanyDayOff) -> None:
    access.require_admin(actor, CALENDAR_ADMIN_ONLY)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            obj=day_off,
            changes={"date": [day_off.date.isoformat(), None], "name": [day_off.name, None]},
        )
        day_off.delete()


# -- calendar feed -----------------------------------------------------------


def calendar_feed_regenerate(*, user) -> CalendarFeed:
    """Give the user a new secret feed address; the old one stops working."""
    with transaction.atomic():
        had = CalendarFeed.objects.filter(user=user).delete()[0] > 0
        feed = CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(32))
        audit.record(
            actor=user,
            action=AuditEntry.Action.TOKEN,
            obj=feed,
            object_repr=str(_("Calendar feed")),
            changes={"calendar_feed": ["revoked" if had else None, "created"]},
        )
    return feed


def calendar_feed_revoke(*, user) -> bool:
    with transaction.atomic():
        deleted = CalendarFeed.objects.filter(user=user).delete()[0] > 0
        if deleted:
            audit.record(
                actor=user,
                action=AuditEntry.Action.TOKEN,
                object_type="calendarfeed",
                object_repr=str(_("Calendar feed")),
                changes={"calendar_feed": ["active", "revoked"]},
            )
    return deleted


# -- webhooks ----------------------------------------------------------------

WEBHOOK_FIELDS = ["name", "url", "events", "is_active"]


def _require_webhook_admin(actor) -> None:
    if not access.is_admin(actor):
        raise PermissionDenied(_("Only administrators may manage webhooks."))


def webhook_create(*, actor, name: str, url: str, events: Iterable[str]) -> WebhookSubscription:
    _require_webhook_admin(actor)
    with transaction.atomic():
        chosen = sorted(set(events))
        errors: dict[str, list[str]] = {}
        if not chosen or any(e not in WebhookEvent.values for e in chosen):
            errors["events"] = [_("Choose at least one event.")]
        if not url.lower().startswith(("http://", "https://")):
            errors["url"] = [_("Give an http:// or https:// address.")]
        subscription = WebhookSubscription(
            name=(name or "").strip(),
            url=(url or "").strip(),
            events=chosen,
            secret=secrets.token_hex(32),
            created_by=actor,
        )
        records.validate(subscription, errors, exclude=["created_by"])
        subscription.save()
        audit.record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=subscription,
            changes={k: [None, v] for k, v in audit.snapshot(subscription, WEBHOOK_FIELDS).items()},
        )
    return subscription


def webhook_set_active(*, actor, subscription: WebhookSubscription, active: bool) -> None:
    """Enable (the failure count starts again) or disable a webhook."""
    _require_webhook_admin(actor)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        before = audit.snapshot(subscription, WEBHOOK_FIELDS)
        subscription.is_active = active
        if active:
            subscription.consecutive_failures = 0
            subscription.disabled_at = None
            subscription.disabled_reason = ""
        else:
            subscription.disabled_at = timezone.now()
            subscription.disabled_reason = _("Disabled by %(user)s.") % {"user": actor}
        subscription.save()
        records.audit_update(
            actor, subscription, before, audit.snapshot(subscription, WEBHOOK_FIELDS)
        )


def webhook_delete(*, actor, subscription: WebhookSubscription) -> None:
    _require_webhook_admin(actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            obj=subscription,
            changes={k: [v, None] for k, v in audit.snapshot(subscription, WEBHOOK_FIELDS).items()},
        )
        subscription.delete()


def webhook_redeliver(*, actor, delivery: WebhookDelivery) -> None:
    """Send a failed delivery again (same event id, so receivers can dedupe)."""
    from kizuna.automation.webhooks import queue_delivery

    _require_webhook_admin(actor)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status != WebhookDelivery.Status.FAILED:
            raise ValidationError(_("Only a failed delivery can be sent again."))
        if not delivery.subscription.is_active:
            raise ValidationError(_("Enable the webhook first."))
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            obj=delivery,
            changes={"status": [WebhookDelivery.Status.FAILED, WebhookDelivery.Status.PENDING]},
        )
        queue_delivery(delivery.pk)


# -- rules -------------------------------------------------------------------

RULES_ADMIN_ONLY = gettext_lazy("Only administrators may manage rules.")
RULE_FIELDS = [
    "name",
    "object_type",
    "trigger",
    "trigger_field",
    "trigger_value",
    "stage",
    "offset_days",
    "hours",
    "match",
    "conditions",
    "actions",
    "is_active",
]


def _webhook_for_url(actor, rule_name: str, url: str) -> int:
    """A subscription to no event, so a rule's call is signed and logged."""
    existing = WebhookSubscription.objects.filter(url=url, events=[]).first()
    if existing is not None:
        return existing.pk
    subscription = WebhookSubscription.objects.create(
        name=(_("Rule: %(name)s") % {"name": rule_name})[:100],
        url=url,
        events=[],
        secret=secrets.token_hex(32),
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=subscription,
        changes={k: [None, v] for k, v in audit.snapshot(subscription, WEBHOOK_FIELDS).items()},
    )
    return subscription.pk


def rule_save(
    *,
    actor,
    rule: Rule | None = None,
    name: str,
    object_type: str,
    trigger: str,
    conditions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    match: str = Rule.Match.ALL,
    trigger_field: str = "",
    trigger_value: str = "",
    stage=None,
    offset_days: int = 0,
    hours: int = 0,
    is_active: bool = True,
) -> Rule:
    """Create or change a rule; every part is checked before anything is saved.

    Errors are keyed by form field, conditions and actions by position
    (``conditions.0``, ``actions.1``).
    """
    from kizuna.automation.rules import clean_rule

    access.require_admin(actor, RULES_ADMIN_ONLY)
    with transaction.atomic():
        if rule is not None:
            rule = Rule.objects.select_for_update().get(pk=rule.pk)
            before = audit.snapshot(rule, RULE_FIELDS)
        else:
            rule, before = Rule(created_by=actor), {}
        parts, errors = clean_rule(
            object_type=object_type,
            trigger=trigger,
            trigger_field=trigger_field,
            trigger_value=trigger_value,
            stage=stage,
            offset_days=offset_days,
            hours=hours,
            conditions=conditions,
            actions=actions,
        )
        if match not in Rule.Match.values:
            errors["match"] = [_("Choose all or any.")]
        rule.name = (name or "").strip()
        rule.object_type = object_type
        rule.trigger = trigger
        rule.match = match
        rule.is_active = is_active
        for key, value in parts.items():
            setattr(rule, key, value)
        records.validate(rule, errors, exclude=["created_by", "stage", "actions", "conditions"])
        for action in rule.actions:
            if action["type"] == "webhook" and "url" in action:
                action["subscription"] = _webhook_for_url(actor, rule.name, action.pop("url"))
        if is_active:
            rule.disabled_reason = ""
        rule.save()
        rules.forget_active_rules()
        after = audit.snapshot(rule, RULE_FIELDS)
        if before:
            records.audit_update(actor, rule, before, after)
        else:
            audit.record(
                actor=actor,
                action=AuditEntry.Action.CREATE,
                obj=rule,
                changes={k: [None, v] for k, v in after.items()},
            )
    return rule


def rule_set_active(*, actor, rule: Rule, active: bool) -> Rule:
    """Enable or disable a rule; enabling checks it again (fields may be gone)."""
    access.require_admin(actor, RULES_ADMIN_ONLY)
    if active:
        return rule_save(
            actor=actor,
            rule=rule,
            is_active=True,
            **{k: getattr(rule, k) for k in RULE_FIELDS if k != "is_active"},
        )
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        rule.is_active = False
        rule.disabled_reason = _("Disabled by %(user)s.") % {"user": actor}
        rule.save(update_fields=["is_active", "disabled_reason", "updated_at"])
        rules.forget_active_rules()
        audit.record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            obj=rule,
            changes={"is_active": [True, False]},
        )
    return rule


def rule_delete(*, actor, rule: Rule) -> None:
    access.require_admin(actor, RULES_ADMIN_ONLY)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            obj=rule,
            changes={k: [v, None] for k, v in audit.snapshot(rule, RULE_FIELDS).items()},
        )
        rule.delete()
        rules.forget_active_rules()


# -- assignment --------------------------------------------------------------

ASSIGNMENT_ADMIN_ONLY = gettext_lazy("Only administrators may manage assignment rules.")
ASSIGNMENT_FIELDS = ["name", "position", "prefectures", "industries", "sizes", "team", "is_active"]


def assignment_rule_create(
    *,
    actor,
    name: str,
    team,
    prefectures: Iterable[str] = (),
    industries: Iterable[str] = (),
    sizes: Iterable[str] = (),
    position: int | None = None,
) -> AssignmentRule:
    from kizuna.customers.models import CompanySize, Industry

    access.require_admin(actor, ASSIGNMENT_ADMIN_ONLY)
    with transaction.atomic():
        errors: dict[str, list[str]] = {}
        industries = sorted(set(industries))
        sizes = sorted(set(sizes))
        if any(i not in Industry.values for i in industries):
            errors["industries"] = [_("Choose industries from the list.")]
        if any(s not in CompanySize.values for s in sizes):
            errors["sizes"] = [_("Choose sizes from the list.")]
        places = [p.strip() for p in prefectures if p and p.strip()]
        if position is None:
            last = AssignmentRule.objects.order_by("-position").first()
            position = last.position + 1 if last else 0
        rule = AssignmentRule(
            name=(name or "").strip(),
            team=team,
            prefectures=places,
            industries=industries,
            sizes=sizes,
            position=position,
        )
        records.validate(rule, errors)
        rule.save()
        audit.record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=rule,
            changes={k: [None, v] for k, v in audit.snapshot(rule, ASSIGNMENT_FIELDS).items()},
        )
    return rule


def assignment_rule_set_active(*, actor, rule: AssignmentRule, active: bool) -> None:
    access.require_admin(actor, ASSIGNMENT_ADMIN_ONLY)
    with transaction.atomic():
        AssignmentRule.objects.filter(pk=rule.pk).update(is_active=active)
        audit.record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            obj=rule,
            changes={"is_active": [rule.is_active, active]},
        )


def assignment_rule_delete(*, actor, rule: AssignmentRule) -> None:
    access.require_admin(actor, ASSIGNMENT_ADMIN_ONLY)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            obj=rule,
            changes={k: [v, None] for k, v in audit.snapshot(rule, ASSIGNMENT_FIELDS).items()},
        )
        rule.delete()


def lead_sla_set(*, actor, hours: int) -> None:
    """The first-contact SLA of new leads, in business hours."""
    access.require_admin(actor, CALENDAR_ADMIN_ONLY)
    if not 1 <= int(hours) <= 2000:
        raise ValidationError({"lead_sla_hours": _("Give 1 to 2000 business hours.")})
    with transaction.atomic():
        calendar = BusinessCalendar.objects.select_for_update().order_by("pk").first()
        if calendar is None:
            calendar = BusinessCalendar.objects.create()
        before = audit.snapshot(calendar, ["lead_sla_hours"])
        calendar.lead_sla_hours = int(hours)
        calendar.save(update_fields=["lead_sla_hours", "updated_at"])
        records.audit_update(actor, calendar, before, audit.snapshot(calendar, ["lead_sla_hours"]))
