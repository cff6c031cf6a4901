"""Every write to the timeline."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.activities import mentions
from kizuna.activities.models import Activity
from kizuna.automation import rules, sla
from kizuna.core import access, records
from kizuna.customers.services import record_set_next_action

ACTIVITY_FIELDS = [
    "kind",
    "subject",
    "body",
    "occurred_at",
    "duration_minutes",
    "company",
    "contact",
    "lead",
    "deal",
    "assignee",
    "due_date",
]
OWNERSHIP = ["owner", "team"]


def _about(activity: Activity):
    return activity.deal or activity.contact or activity.lead or activity.company


def _check_relations(actor, activity: Activity) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in ("company", "contact", "lead", "deal"):
        try:
            records.require_visible(actor, getattr(activity, field), field)
        except ValidationError as exc:
            errors |= exc.message_dict
    if activity.contact is not None and activity.company is None:
        activity.company = activity.contact.company
    if activity.deal is not None and activity.company is None:
        activity.company = activity.deal.company
    if activity.kind != Activity.Kind.TASK and _about(activity) is None:
        errors.setdefault("company", []).append(
            _("Choose the company, contact or lead this is about.")
        )
    if activity.kind == Activity.Kind.TASK and activity.assignee is None:
        activity.assignee = activity.owner
    if activity.assignee is not None and not activity.assignee.is_active:
        errors["assignee"] = [_("Choose an active user.")]
    return errors


def _set_participants(activity, participants, participant_users) -> None:
    if participants is not None:
        visible = access.visible(
            activity.participants.model.objects.filter(pk__in=[p.pk for p in participants]),
            activity.owner,
        )
        activity.participants.set(visible)
    if participant_users is not None:
        activity.participant_users.set(participant_users)


def _snapshot(activity: Activity) -> dict[str, Any]:
    data = records.record_snapshot(activity, ACTIVITY_FIELDS + OWNERSHIP + ["done_at"])
    if activity.pk:
        data["participants"] = sorted(p.pk for p in activity.participants.all())
        data["participant_users"] = sorted(u.pk for u in activity.participant_users.all())
    return data


@transaction.atomic
def activity_create(
    *,
    actor,
    owner=None,
    team=None,
    participants: list | None = None,
    participant_users: list | None = None,
    next_action: str | None = None,
    next_action_due: datetime.date | None = None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Activity:
    """Log an activity; ``next_action`` also sets the next action of what it is about."""
    activity = Activity(owner=owner or actor, team=team or (owner or actor).team)
    records.assign_fields(activity, fields, ACTIVITY_FIELDS)
    if activity.occurred_at is None:
        activity.occurred_at = timezone.now()
    errors = _check_relations(actor, activity)
    if next_action_due and not next_action:
        errors["next_action"] = [_("Say what the next action is.")]
    errors |= records.clean_custom_fields(activity, custom_fields or {})
    records.validate(activity, errors)
    activity.refresh_search_index()
    activity.save()
    _set_participants(activity, participants, participant_users or [])
    records.set_tags(activity, tags)
    records.audit_create(actor, activity, ACTIVITY_FIELDS + OWNERSHIP)
    if activity.kind in sla.CONTACT_KINDS:
        sla.contacted(lead_id=activity.lead_id, at=activity.occurred_at)
    rules.record_event(obj=activity, event="created")
    mentions.sync(actor=actor, activity=activity)
    if activity.deal_id is not None:
        from kizuna.sales.services import deal_touch

        deal_touch(deal_id=activity.deal_id, at=activity.occurred_at)
    if next_action:
        target = _about(activity)
        if target is None:
            raise ValidationError({"next_action": [_("A next action needs a customer record.")]})
        if activity.deal is not None:
            from kizuna.sales.services import deal_update

            deal_update(
                actor=actor,
                deal=activity.deal,
                next_action=next_action,
                next_action_due=next_action_due,
            )
        else:
            record_set_next_action(
                actor=actor,
                record=target,
                next_action=next_action,
                next_action_due=next_action_due,
            )
    return activity


@transaction.atomic
def activity_update(
    *,
    actor,
    activity: Activity,
    version: int | None = None,
    owner=None,
    team=None,
    participants: list | None = None,
    participant_users: list | None = None,
    done: bool | None = None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Activity:
    activity = records.lock(Activity, activity.pk)
    records.require_edit(actor, activity)
    records.check_version(activity, version)
    before = _snapshot(activity)
    records.assign_fields(activity, fields, ACTIVITY_FIELDS)
    if owner is not None:
        activity.owner = owner
    if team is not None:
        activity.team = team
    if done is not None:
        if activity.kind != Activity.Kind.TASK:
            raise ValidationError({"done": [_("Only tasks can be marked done.")]})
        if done and activity.done_at is None:
            activity.done_at = timezone.now()
        elif not done:
            activity.done_at = None
    errors = _check_relations(actor, activity)
    errors |= records.clean_custom_fields(activity, custom_fields)
    records.validate(activity, errors)
    activity.refresh_search_index()
    activity.version += 1
    activity.save()
    _set_participants(activity, participants, participant_users)
    records.set_tags(activity, tags)
    after = _snapshot(activity)
    records.audit_update(actor, activity, before, after)
    rules.record_event(obj=activity, event="updated", before=before, after=after)
    mentions.sync(actor=actor, activity=activity)
    return activity


def task_set_done(*, actor, activity: Activity, done: bool) -> Activity:
    return activity_update(actor=actor, activity=activity, done=done)


@transaction.atomic
def activity_delete(*, actor, activity: Activity) -> None:
    activity = records.lock(Activity, activity.pk)
    records.require_edit(actor, activity)
    records.audit_delete(actor, activity, ACTIVITY_FIELDS + OWNERSHIP)
    activity.delete()
