"""Automation rules: trigger -> conditions -> actions.

A service that writes a record calls ``record_event`` inside its
transaction. It reads the active rules of that record type (one query),
keeps those whose trigger fires, and queues ``run_rules`` for after the
commit: the write that triggered a rule never waits for it and never fails
because of it. Time triggers ("3 business days before the expected close",
"24 hours after creation with no activity") are found by a periodic job.

Every run is a ``RuleRun`` keyed by (rule, record, event), so a job that
runs twice acts once. An action that writes a record raises events again;
they carry the chain they belong to, and a chain deeper than ``MAX_DEPTH``
or one that would run the same rule on the same record twice is refused
and logged.
"""

import contextvars
import datetime
import decimal
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.automation.models import Rule, RuleRun
from kizuna.core import customfields
from kizuna.core.models import CustomFieldDefinition
from kizuna.core.text import normalize

logger = logging.getLogger(__name__)

MAX_DEPTH = 3
# Attempts of a run that failed for a reason that may pass.
RETRIES = 3
CUSTOM_PREFIX = "custom_fields."

MODELS = {
    "lead": "customers.Lead",
    "contact": "customers.Contact",
    "company": "customers.Company",
    "deal": "sales.Deal",
    "activity": "activities.Activity",
}
DETAIL_URLS = {
    "lead": "customers:lead_detail",
    "contact": "customers:contact_detail",
    "company": "customers:company_detail",
    "deal": "sales:deal_detail",
    "activity": "activities:activity_detail",
}


def model_for(object_type: str) -> type[models.Model]:
    return apps.get_model(MODELS[object_type])


def record_url(obj) -> str:
    name = DETAIL_URLS.get(getattr(obj, "access_object_type", ""))
    return reverse(name, args=[obj.pk]) if name else ""


# -- fields ------------------------------------------------------------------

OPS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "gt": gettext_lazy("greater than"),
    "lt": gettext_lazy("less than"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
}
OPS_BY_KIND = {
    "text": ("eq", "ne", "contains", "empty", "not_empty"),
    "number": ("eq", "ne", "gt", "lt", "empty", "not_empty"),
    "date": ("eq", "ne", "gt", "lt", "empty", "not_empty"),
    "datetime": ("gt", "lt", "empty", "not_empty"),
    "choice": ("eq", "ne", "empty", "not_empty"),
    "user": ("eq", "ne", "empty", "not_empty"),
    "team": ("eq", "ne", "empty", "not_empty"),
    "stage": ("eq", "ne", "empty", "not_empty"),
    "bool": ("eq", "ne"),
    "multi": ("contains", "empty", "not_empty"),
    "tags": ("contains", "empty", "not_empty"),
}
NO_VALUE_OPS = ("empty", "not_empty")


@dataclass(frozen=True)
class FieldInfo:
    key: str
    label: str
    kind: str
    choices: tuple[tuple[str, str], ...] = ()
    writable: bool = False
    # The date to count from for time triggers (a date or datetime column).
    timed: bool = False


def _writable_fields(object_type: str) -> list[str]:
    if object_type == "deal":
        from kizuna.sales.services import DEAL_FIELDS

        return list(DEAL_FIELDS)
    if object_type == "activity":
        from kizuna.activities.services import ACTIVITY_FIELDS

        return list(ACTIVITY_FIELDS)
    from kizuna.customers import services

    return list(
        {
            "lead": services.LEAD_FIELDS,
            "contact": services.CONTACT_FIELDS,
            "company": services.COMPANY_FIELDS,
        }[object_type]
    )


CUSTOM_KINDS = {
    "text": "text",
    "long_text": "text",
    "number": "number",
    "money": "number",
    "date": "date",
    "select": "choice",
    "multi_select": "multi",
    "checkbox": "bool",
    "user": "user",
}


def _model_field_info(model, name: str, writable: bool) -> FieldInfo | None:
    f = model._meta.get_field(name)
    label = str(f.verbose_name)
    if f.is_relation:
        target = f.related_model._meta.label_lower
        kind = {"iam.user": "user", "iam.team": "team", "sales.stage": "stage"}.get(target)
        if kind is None:
            return None
        return FieldInfo(name, label, kind, writable=writable and kind != "stage")
    if f.choices:
        choices = tuple((str(k), str(v)) for k, v in f.flatchoices)
        return FieldInfo(name, label, "choice", choices, writable=writable)
    if isinstance(f, models.BooleanField):
        return FieldInfo(name, label, "bool", writable=writable)
    if isinstance(f, (models.DecimalField, models.IntegerField, models.FloatField)):
        return FieldInfo(name, label, "number", writable=writable)
    if isinstance(f, models.DateTimeField):
        return FieldInfo(name, label, "datetime", writable=False, timed=True)
    if isinstance(f, models.DateField):
        return FieldInfo(name, label, "date", writable=writable, timed=True)
    if isinstance(f, (models.CharField, models.TextField)):
        return FieldInfo(name, label, "text", writable=writable)
    return None


def field_catalogue(
    object_type: str, definitions: Iterable[CustomFieldDefinition] | None = None
) -> dict[str, FieldInfo]:
    """The fields rules may read (and write) on ``object_type``, by key."""
    model = model_for(object_type)
    writable = _writable_fields(object_type)
    names = [*writable, "owner", "team", "created_at"]
    if object_type == "deal":
        names += ["stage", "status"]
    if object_type == "lead":
        names += ["first_contacted_at"]
    if object_type == "activity":
        names += ["done_at"]
    fields: dict[str, FieldInfo] = {}
    for name in names:
        info = _model_field_info(model, name, name in writable or name in ("owner", "team"))
        if info is not None and name not in fields:
            fields[name] = info
    fields["tags"] = FieldInfo("tags", str(_("Tags")), "tags")
    if definitions is None:
        definitions = customfields.definitions(object_type)
    for d in definitions:
        key = CUSTOM_PREFIX + d.key
        choices = tuple((c, c) for c in d.choices) if d.choices else ()
        fields[key] = FieldInfo(
            key, d.display_label(), CUSTOM_KINDS.get(d.field_type, "text"), choices, True
        )
    return fields


def parse_value(info: FieldInfo, raw: Any) -> Any:
    """A condition's or action's value as the field's type; ValidationError if not."""
    text = "" if raw is None else str(raw).strip()
    kind = info.kind
    if kind in ("text",):
        return text
    if not text:
        raise ValidationError(_("Give a value."))
    if kind == "number":
        try:
            number = decimal.Decimal(text.replace(",", ""))
        except decimal.InvalidOperation as exc:
            raise ValidationError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        return number
    if kind in ("date", "datetime"):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from exc
    if kind == "bool":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValidationError(_("Enter yes or no."))
    if kind in ("choice", "multi"):
        for key, label in info.choices:
            if text in (key, label) or normalize(text) == normalize(label):
                return key
        raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": text})
    if kind == "tags":
        return text
    if kind == "user":
        from kizuna.iam.models import User

        user = User.objects.filter(
            Q(username=text) | Q(pk=int(text)) if text.isdigit() else Q(username=text)
        ).first()
        if user is None:
            raise ValidationError(_("Choose a user."))
        return user.pk
    if kind == "team":
        from kizuna.iam.models import Team

        team = Team.objects.filter(
            Q(name=text) | Q(pk=int(text)) if text.isdigit() else Q(name=text)
        ).first()
        if team is None:
            raise ValidationError(_("Choose a team."))
        return team.pk
    if kind == "stage":
        from kizuna.sales.models import Stage

        if not text.isdigit() or not Stage.objects.filter(pk=int(text)).exists():
            raise ValidationError(_("Choose a stage."))
        return int(text)
    raise ValidationError(_("Unknown field type."))


def read_value(obj, info: FieldInfo, tags: list[str] | None = None) -> Any:
    if info.key == "tags":
        return set(tags if tags is not None else (t.name for t in obj.tags.all()))
    if info.key.startswith(CUSTOM_PREFIX):
        value = (obj.custom_field_data or {}).get(info.key[len(CUSTOM_PREFIX) :])
        if value is None:
            return None
        if info.kind == "number":
            return decimal.Decimal(str(value))
        if info.kind == "date":
            return datetime.date.fromisoformat(value)
        return value
    if info.kind in ("user", "team", "stage"):
        return getattr(obj, f"{info.key}_id")
    value = getattr(obj, info.key)
    if info.kind == "datetime" and value is not None:
        return timezone.localdate(value)
    if info.kind == "number" and value is not None:
        return decimal.Decimal(str(value))
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == set()


def compare(op: str, actual: Any, expected: Any, kind: str) -> bool:
    if op == "empty":
        return _empty(actual)
    if op == "not_empty":
        return not _empty(actual)
    if op in ("eq", "ne"):
        if kind == "text":
            same = normalize(actual or "") == normalize(expected or "")
        elif kind == "multi":
            same = expected in (actual or [])
        else:
            same = actual == expected
        return same if op == "eq" else not same
    if op == "contains":
        if kind in ("multi", "tags"):
            wanted = normalize(str(expected))
            return any(normalize(str(v)) == wanted for v in actual or ())
        return normalize(str(expected)) in normalize(str(actual or ""))
    if op in ("gt", "lt"):
        if actual is None or expected is None:
            return False
        try:
            return actual > expected if op == "gt" else actual < expected
        except TypeError:
            return False
    return False


# -- validation --------------------------------------------------------------

ACTION_TYPES = {
    "create_task": gettext_lazy("Create a task"),
    "assign_owner": gettext_lazy("Assign the owner"),
    "notify": gettext_lazy("Notify"),
    "set_field": gettext_lazy("Set a field"),
    "webhook": gettext_lazy("Call a webhook"),
}
TASK_ASSIGNEES = {
    "owner": gettext_lazy("the owner"),
    "manager": gettext_lazy("the owner's manager"),
    "user": gettext_lazy("a user"),
}
NOTIFY_TARGETS = {
    "owner": gettext_lazy("the owner"),
    "manager": gettext_lazy("the owner's manager"),
    "user": gettext_lazy("a user"),
    "team": gettext_lazy("a team"),
}
ASSIGN_MODES = {
    "user": gettext_lazy("a user"),
    "round_robin": gettext_lazy("the next member of a team (round-robin)"),
}
DATE_TRIGGERS = (Rule.Trigger.DATE_RELATIVE,)


def _user_ok(raw: Any) -> int | None:
    from kizuna.iam.models import User

    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return pk if User.objects.filter(pk=pk, is_active=True).exists() else None


def _team_ok(raw: Any) -> int | None:
    from kizuna.iam.models import Team

    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return pk if Team.objects.filter(pk=pk).exists() else None


def _int(raw: Any, low: int, high: int) -> int | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None


def clean_condition(catalogue: dict[str, FieldInfo], c: dict[str, Any]) -> dict[str, Any]:
    info = catalogue.get(c.get("field") or "")
    if info is None:
        raise ValidationError(_("Choose a field."))
    op = c.get("op") or ""
    if op not in OPS_BY_KIND[info.kind]:
        raise ValidationError(
            _("“%(op)s” does not work with %(field)s.")
            % {"op": OPS.get(op, op), "field": info.label}
        )
    value = "" if op in NO_VALUE_OPS else str(c.get("value") or "").strip()
    if op not in NO_VALUE_OPS:
        if not value and info.kind != "text":
            raise ValidationError(_("Give a value for %(field)s.") % {"field": info.label})
        try:
            parse_value(info, value)
        except ValidationError as exc:
            raise ValidationError(f"{info.label}: {' '.join(exc.messages)}") from exc
    return {"field": info.key, "op": op, "value": value}


def clean_action(
    object_type: str, catalogue: dict[str, FieldInfo], a: dict[str, Any]
) -> dict[str, Any]:
    kind = a.get("type") or ""
    if kind == "send_email" and mail_available():
        from kizuna.mail.models import EmailTemplate

        template = _int(a.get("template"), 1, 2**62)
        if template is None or not EmailTemplate.objects.filter(pk=template).exists():
            raise ValidationError(_("Choose an e-mail template."))
        return {"type": kind, "template": template}
    if kind not in ACTION_TYPES:
        raise ValidationError(_("Choose what the rule does."))
    if kind == "create_task":
        subject = str(a.get("subject") or "").strip()
        if not subject or len(subject) > 200:
            raise ValidationError(_("Give the task a subject of at most 200 characters."))
        who = a.get("assignee") or "owner"
        if who not in TASK_ASSIGNEES:
            raise ValidationError(_("Choose who does the task."))
        days = _int(a.get("due_days") or 0, 0, 365)
        if days is None:
            raise ValidationError(_("Give the number of business days, 0 to 365."))
        out: dict[str, Any] = {"type": kind, "subject": subject, "assignee": who, "due_days": days}
        if who == "user":
            out["user"] = _user_ok(a.get("user"))
            if out["user"] is None:
                raise ValidationError(_("Choose an active user."))
        return out
    if kind == "assign_owner":
        mode = a.get("mode") or "user"
        if mode == "user":
            user = _user_ok(a.get("user"))
            if user is None:
                raise ValidationError(_("Choose an active user."))
            return {"type": kind, "mode": mode, "user": user}
        if mode == "round_robin":
            team = _team_ok(a.get("team"))
            if team is None:
                raise ValidationError(_("Choose a team."))
            return {"type": kind, "mode": mode, "team": team}
        raise ValidationError(_("Choose how to assign the owner."))
    if kind == "notify":
        to = a.get("to") or "owner"
        message = str(a.get("message") or "").strip()
        if to not in NOTIFY_TARGETS:
            raise ValidationError(_("Choose whom to notify."))
        if not message or len(message) > 300:
            raise ValidationError(_("Give a message of at most 300 characters."))
        out = {"type": kind, "to": to, "message": message}
        if to == "user":
            out["user"] = _user_ok(a.get("user"))
            if out["user"] is None:
                raise ValidationError(_("Choose an active user."))
        if to == "team":
            out["team"] = _team_ok(a.get("team"))
            if out["team"] is None:
                raise ValidationError(_("Choose a team."))
        return out
    if kind == "set_field":
        info = catalogue.get(a.get("field") or "")
        if info is None or not info.writable or info.kind in ("tags", "datetime"):
            raise ValidationError(_("Choose a field the rule may set."))
        value = str(a.get("value") or "").strip()
        if value:
            try:
                parse_value(info, value)
            except ValidationError as exc:
                raise ValidationError(f"{info.label}: {' '.join(exc.messages)}") from exc
        return {"type": kind, "field": info.key, "value": value}
    # webhook: an existing subscription, or an address (a subscription is
    # made for it when the rule is saved, so deliveries are signed, retried
    # and logged like every other webhook).
    from kizuna.automation.models import WebhookSubscription

    url = str(a.get("url") or "").strip()
    sub = _int(a.get("subscription"), 1, 2**62) if a.get("subscription") else None
    if sub is not None and WebhookSubscription.objects.filter(pk=sub).exists():
        return {"type": kind, "subscription": sub}
    if url.lower().startswith(("http://", "https://")) and len(url) <= 500:
        return {"type": kind, "url": url}
    raise ValidationError(_("Choose a webhook or give an http:// or https:// address."))


def clean_rule(
    *,
    object_type: str,
    trigger: str,
    trigger_field: str = "",
    trigger_value: str = "",
    stage=None,
    offset_days: int = 0,
    hours: int = 0,
    conditions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Checked, normalised rule parts and the errors, keyed by form field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {
        "trigger_field": "",
        "trigger_value": "",
        "stage": None,
        "offset_days": 0,
        "hours": 0,
    }
    if object_type not in MODELS:
        return out, {"object_type": [_("Choose a record type.")]}
    catalogue = field_catalogue(object_type)
    if trigger not in Rule.Trigger.values:
        errors["trigger"] = [_("Choose a trigger.")]
    elif trigger == Rule.Trigger.FIELD_CHANGED:
        info = catalogue.get(trigger_field)
        if info is None:
            errors["trigger_field"] = [_("Choose a field.")]
        else:
            out["trigger_field"] = info.key
            value = (trigger_value or "").strip()
            if value:
                try:
                    parse_value(info, value)
                except ValidationError as exc:
                    errors["trigger_value"] = exc.messages
            out["trigger_value"] = value
    elif trigger == Rule.Trigger.STAGE_ENTERED:
        if object_type != "deal":
            errors["trigger"] = [_("Only deals enter stages.")]
        elif stage is None:
            errors["stage"] = [_("Choose a stage.")]
        out["stage"] = stage
    elif trigger == Rule.Trigger.DATE_RELATIVE:
        info = catalogue.get(trigger_field)
        if info is None or not info.timed:
            errors["trigger_field"] = [_("Choose a date field.")]
        else:
            out["trigger_field"] = info.key
        days = _int(offset_days, -365, 365)
        if days is None:
            errors["offset_days"] = [_("Give a number of business days from -365 to 365.")]
        out["offset_days"] = days or 0
    elif trigger == Rule.Trigger.NO_ACTIVITY:
        if object_type == "activity":
            errors["trigger"] = [_("Activities have no activities of their own.")]
        n = _int(hours, 1, 24 * 90)
        if n is None:
            errors["hours"] = [_("Give a number of hours from 1 to 2160.")]
        out["hours"] = n or 0
    clean_conditions = []
    for i, c in enumerate(conditions):
        try:
            clean_conditions.append(clean_condition(catalogue, c))
        except ValidationError as exc:
            errors[f"conditions.{i}"] = exc.messages
    clean_actions = []
    for i, a in enumerate(actions):
        try:
            clean_actions.append(clean_action(object_type, catalogue, a))
        except ValidationError as exc:
            errors[f"actions.{i}"] = exc.messages
    if not actions:
        errors["actions"] = [_("Add at least one action.")]
    out["conditions"] = clean_conditions
    out["actions"] = clean_actions
    return out, errors


def missing_fields(rule: Rule, catalogue: dict[str, FieldInfo]) -> list[str]:
    """Fields the rule refers to that no longer exist (a deleted custom field)."""
    keys = [c.get("field", "") for c in rule.conditions]
    keys += [a.get("field", "") for a in rule.actions if a.get("type") == "set_field"]
    if rule.trigger in (Rule.Trigger.FIELD_CHANGED, Rule.Trigger.DATE_RELATIVE):
        keys.append(rule.trigger_field)
    return [k for k in keys if k and k not in catalogue]


def mail_available() -> bool:
    try:
        from kizuna.mail import services as mail_services
    except ImportError:
        return False
    return hasattr(mail_services, "template_send")


# -- events ------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The rule runs an event descends from (the loop guard's memory)."""

    depth: int = 0
    seen: frozenset[str] = field(default_factory=frozenset)


_chain: contextvars.ContextVar[Chain | None] = contextvars.ContextVar(
    "kizuna_rule_chain", default=None
)


def _seen_key(rule_id: int, object_type: str, object_id: int) -> str:
    return f"{rule_id}:{object_type}:{object_id}"


def _fires(rule, event: str, changes: dict[str, Any] | None, stage_id: int | None) -> bool:
    trigger = rule["trigger"]
    if trigger == Rule.Trigger.CREATED:
        return event == "created"
    if trigger == Rule.Trigger.UPDATED:
        return event == "updated" and bool(changes)
    if trigger == Rule.Trigger.FIELD_CHANGED:
        return event in ("updated", "stage_entered") and rule["trigger_field"] in (changes or {})
    if trigger == Rule.Trigger.STAGE_ENTERED:
        return event in ("stage_entered", "created") and stage_id == rule["stage_id"]
    return False


# The active rules of each record type, kept per process for RULES_TTL
# seconds so that a write usually reads no table. Saving, enabling or
# disabling a rule clears this process's copy at once; other processes see
# the change within RULES_TTL. A job only runs rules that are still active.
RULES_TTL = 5.0
_active: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def active_rules(object_type: str) -> list[dict[str, Any]]:
    now = time.monotonic()
    hit = _active.get(object_type)
    if hit is not None and hit[0] > now:
        return hit[1]
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in Rule.objects.filter(is_active=True, object_type=object_type).values(
            "id", "trigger", "trigger_field", "stage_id"
        )
    ]
    _active[object_type] = (now + RULES_TTL, rows)
    return rows


def forget_active_rules() -> None:
    """Drop the cached active rules (now and again when the transaction commits)."""
    _active.clear()
    transaction.on_commit(_active.clear)


def record_event(
    *,
    obj,
    event: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    stage=None,
) -> list[int]:
    """Queue the rules that ``event`` on ``obj`` triggers (after commit).

    ``event`` is "created", "updated" (with the ``before``/``after``
    snapshots the service audits) or "stage_entered" (with the ``stage``).
    Returns the ids of the rules queued.
    """
    object_type = getattr(obj, "access_object_type", "")
    if object_type not in MODELS:
        return []
    rules = active_rules(object_type)
    changes: dict[str, Any] | None = None
    if before is not None and after is not None:
        changes = {k: v for k, v in after.items() if before.get(k) != v}
    stage_id = getattr(stage, "pk", None) or (
        getattr(obj, "stage_id", None) if event == "created" else None
    )
    chosen = [r["id"] for r in rules if _fires(r, event, changes, stage_id)]
    if not chosen:
        return []
    chain = _chain.get() or Chain(depth=-1)
    event_key = f"{event}:{uuid.uuid4().hex[:16]}"
    from kizuna.automation.jobs import enqueue_on_commit
    from kizuna.automation.tasks import run_rules

    enqueue_on_commit(
        run_rules,
        object_type,
        obj.pk,
        event_key,
        chosen,
        chain.depth + 1,
        sorted(chain.seen),
    )
    return chosen


# -- running -----------------------------------------------------------------


class RuleFailed(Exception):
    """An action failed for a reason that may pass (huey tries again)."""


def actor_for(rule: Rule):
    """Actions write as the rule's author, or another administrator."""
    from kizuna.iam.models import User

    author = rule.created_by
    if author is not None and author.is_active and (author.is_org_admin or author.is_superuser):
        return author
    return (
        User.objects.filter(Q(is_org_admin=True) | Q(is_superuser=True), is_active=True)
        .order_by("id")
        .first()
    )


def admins():
    from kizuna.iam.models import User

    return User.objects.filter(Q(is_org_admin=True) | Q(is_superuser=True), is_active=True)


def run_rules(
    *,
    object_type: str,
    object_id: int,
    event_key: str,
    rule_ids: list[int],
    depth: int = 0,
    seen: Iterable[str] = (),
) -> list[RuleRun]:
    """Evaluate the rules on one record for one event (the job's body)."""
    model = model_for(object_type)
    obj = model._default_manager.filter(pk=object_id).first()
    if obj is None:
        return []  # deleted meanwhile
    rules = list(
        Rule.objects.filter(pk__in=rule_ids, is_active=True)
        .select_related("created_by")
        .order_by("id")
    )
    catalogue = field_catalogue(object_type)
    runs = []
    skipped: list[RuleRun] = []
    retry: RuleFailed | None = None
    now = timezone.now()
    for rule in rules:
        if _quietly_skipped(rule, obj, catalogue, depth, seen, object_type):
            # Conditions not met: logged in one insert for all such rules,
            # without the per-run bookkeeping that acting needs.
            skipped.append(
                RuleRun(
                    rule=rule,
                    object_type=object_type,
                    object_id=obj.pk,
                    object_repr=str(obj)[:200],
                    event_key=event_key,
                    depth=depth,
                    outcome=RuleRun.Outcome.SKIPPED,
                    attempts=1,
                    finished_at=now,
                )
            )
            continue
        try:
            run = run_rule(
                rule=rule,
                obj=obj,
                event_key=event_key,
                depth=depth,
                seen=frozenset(seen),
                catalogue=catalogue,
            )
        except RuleFailed as exc:
            retry = exc
            continue
        if run is not None:
            runs.append(run)
    if skipped:
        RuleRun.objects.bulk_create(skipped, ignore_conflicts=True)
    if retry is not None:
        raise retry
    return runs


def _quietly_skipped(rule, obj, catalogue, depth, seen, object_type) -> bool:
    """True when the rule's conditions plainly do not hold (nothing to guard)."""
    if depth > MAX_DEPTH or _seen_key(rule.pk, object_type, obj.pk) in seen:
        return False
    if missing_fields(rule, catalogue) or not _changed_to(rule, obj, catalogue):
        return False
    try:
        return not conditions_hold(rule, obj, catalogue)
    except Exception:  # noqa: BLE001 - run_rule logs it properly
        return False


def _start_run(rule: Rule, obj, event_key: str, depth: int) -> RuleRun | None:
    """The run's log row, or None when this event was already handled."""
    object_type = obj.access_object_type
    try:
        with transaction.atomic():
            run, created = RuleRun.objects.get_or_create(
                rule=rule,
                object_type=object_type,
                object_id=obj.pk,
                event_key=event_key,
                defaults={
                    "outcome": RuleRun.Outcome.RUNNING,
                    "depth": depth,
                    "object_repr": str(obj)[:200],
                },
            )
    except IntegrityError:
        return None  # a concurrent run took it
    if not created and run.outcome not in (RuleRun.Outcome.RUNNING, RuleRun.Outcome.FAILED):
        return None
    return run


def _finish(run: RuleRun, outcome: str, *, detail=None, error: str = "") -> RuleRun:
    run.outcome = outcome
    run.detail = detail or []
    run.error = error[:5000]
    run.attempts += 1
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "detail", "error", "attempts", "finished_at"])
    return run


def _notify_admins(rule: Rule, run: RuleRun, text, params: dict[str, Any]) -> None:
    from kizuna.automation.services import notify

    notify(
        recipients=admins(),
        kind="rule_failed",
        text=text,
        params=params,
        url=reverse("automation:rule_detail", args=[rule.pk]),
        dedupe_key=f"rule:{rule.pk}:run:{run.pk}:{run.outcome}",
    )


def disable_rule(rule: Rule, reason: str) -> None:
    Rule.objects.filter(pk=rule.pk).update(is_active=False, disabled_reason=reason[:300])
    forget_active_rules()
    rule.is_active = False
    rule.disabled_reason = reason[:300]


def conditions_hold(rule: Rule, obj, catalogue: dict[str, FieldInfo]) -> bool:
    if not rule.conditions:
        return True
    tags = None
    results = []
    for c in rule.conditions:
        info = catalogue[c["field"]]
        if info.key == "tags" and tags is None:
            tags = [t.name for t in obj.tags.all()]
        expected = None if c["op"] in NO_VALUE_OPS else parse_value(info, c.get("value"))
        results.append(compare(c["op"], read_value(obj, info, tags), expected, info.kind))
    return any(results) if rule.match == Rule.Match.ANY else all(results)


def _changed_to(rule: Rule, obj, catalogue: dict[str, FieldInfo]) -> bool:
    if rule.trigger != Rule.Trigger.FIELD_CHANGED or not rule.trigger_value:
        return True
    info = catalogue.get(rule.trigger_field)
    if info is None:
        return True  # the missing field is reported by the run
    try:
        expected = parse_value(info, rule.trigger_value)
    except ValidationError:
        return False
    op = "contains" if info.kind in ("multi", "tags") else "eq"
    return compare(op, read_value(obj, info), expected, info.kind)


def run_rule(
    *,
    rule: Rule,
    obj,
    event_key: str,
    depth: int,
    seen: frozenset[str],
    catalogue: dict[str, FieldInfo],
) -> RuleRun | None:
    if not _changed_to(rule, obj, catalogue):
        return None  # changed, but not to the value the trigger waits for
    run = _start_run(rule, obj, event_key, depth)
    if run is None:
        return None
    object_type = obj.access_object_type
    me = _seen_key(rule.pk, object_type, obj.pk)
    if depth > MAX_DEPTH:
        return _finish(
            run,
            RuleRun.Outcome.REFUSED,
            error=_("Refused: rules triggered each other more than %(n)s levels deep.")
            % {"n": MAX_DEPTH},
        )
    if me in seen:
        return _finish(
            run,
            RuleRun.Outcome.REFUSED,
            error=_("Refused: this rule already ran on this record in the same chain of events."),
        )
    missing = missing_fields(rule, catalogue)
    if missing:
        reason = _("The rule refers to fields that no longer exist: %(fields)s") % {
            "fields": ", ".join(missing)
        }
        disable_rule(rule, reason)
        run = _finish(run, RuleRun.Outcome.DISABLED, error=reason)
        _notify_admins(
            rule,
            run,
            gettext_lazy("The rule %(name)s was disabled: it refers to a deleted field."),
            {"name": rule.name},
        )
        return run
    try:
        if not conditions_hold(rule, obj, catalogue):
            return _finish(run, RuleRun.Outcome.SKIPPED)
        actor = actor_for(rule)
        if actor is None:
            raise ValidationError(_("No active administrator can run this rule."))
        token = _chain.set(Chain(depth=depth, seen=seen | {me}))
        try:
            with transaction.atomic():
                detail = [
                    do_action(action, rule=rule, obj=obj, actor=actor, run=run)
                    for action in rule.actions
                ]
                _finish(run, RuleRun.Outcome.SUCCEEDED, detail=detail)
        finally:
            _chain.reset(token)
        return run
    except (ValidationError, PermissionDenied, ObjectDoesNotExist, KeyError) as exc:
        message = " ".join(getattr(exc, "messages", None) or [str(exc)])
        run = _finish(run, RuleRun.Outcome.FAILED, error=message)
        _notify_admins(
            rule,
            run,
            gettext_lazy("The rule %(name)s failed on %(record)s: %(error)s"),
            {"name": rule.name, "record": run.object_repr, "error": message[:200]},
        )
        return run
    except Exception as exc:
        logger.exception("rule %s failed on %s %s", rule.pk, object_type, obj.pk)
        message = f"{type(exc).__name__}: {exc}"
        run = _finish(run, RuleRun.Outcome.FAILED, error=message)
        _notify_admins(
            rule,
            run,
            gettext_lazy("The rule %(name)s failed on %(record)s: %(error)s"),
            {"name": rule.name, "record": run.object_repr, "error": message[:200]},
        )
        raise RuleFailed(message) from exc


# -- actions -----------------------------------------------------------------


def _owner_managers(obj) -> list:
    from kizuna.iam.selectors import managers_of

    return managers_of(obj.owner) if obj.owner_id else []


def _links(obj) -> dict[str, Any]:
    """The activity fields that put a task on ``obj``'s timeline."""
    object_type = obj.access_object_type
    if object_type == "activity":
        return {k: getattr(obj, k) for k in ("company", "contact", "lead", "deal")}
    return {object_type: obj}


def _update(obj, actor, **kwargs: Any):
    object_type = obj.access_object_type
    if object_type == "deal":
        from kizuna.sales.services import deal_update

        return deal_update(actor=actor, deal=obj, **kwargs)
    if object_type == "activity":
        from kizuna.activities.services import activity_update

        return activity_update(actor=actor, activity=obj, **kwargs)
    from kizuna.customers import services

    update: Callable[..., Any] = getattr(services, f"{object_type}_update")
    return update(actor=actor, **{object_type: obj}, **kwargs)


def do_action(action: dict[str, Any], *, rule: Rule, obj, actor, run: RuleRun) -> str:
    """Carry out one action; returns a line for the run log."""
    from kizuna.iam.models import Team, User

    kind = action["type"]
    team: Any
    if kind == "create_task":
        from kizuna.activities.services import activity_create
        from kizuna.automation.business_time import add_business_days

        who = action.get("assignee", "owner")
        if who == "owner":
            assignee = obj.owner
        elif who == "manager":
            managers = _owner_managers(obj)
            assignee = managers[0] if managers else obj.owner
        else:
            assignee = User.objects.get(pk=action["user"], is_active=True)
        due = add_business_days(timezone.localdate(), int(action.get("due_days") or 0))
        task = activity_create(
            actor=actor,
            owner=assignee,
            kind="task",
            subject=action["subject"],
            assignee=assignee,
            due_date=due,
            **{k: v for k, v in _links(obj).items() if v is not None},
        )
        return _("Task “%(subject)s” for %(user)s, due %(due)s (#%(id)s)") % {
            "subject": task.subject,
            "user": assignee,
            "due": due.isoformat(),
            "id": task.pk,
        }
    if kind == "assign_owner":
        if action.get("mode") == "round_robin":
            from kizuna.automation.assignment import next_members

            team = Team.objects.get(pk=action["team"])
            picked = next_members(team, 1)
            if not picked:
                raise ValidationError(
                    _("Nobody in %(team)s can take records now.") % {"team": team}
                )
            owner = picked[0]
        else:
            owner = User.objects.get(pk=action["user"], is_active=True)
            team = owner.team
        _update(obj, actor, owner=owner, team=team)
        return _("Owner set to %(user)s") % {"user": owner}
    if kind == "notify":
        from kizuna.automation.services import notify

        to = action.get("to", "owner")
        if to == "owner":
            recipients = [obj.owner]
        elif to == "manager":
            recipients = _owner_managers(obj)
        elif to == "user":
            recipients = list(User.objects.filter(pk=action["user"]))
        else:
            recipients = list(User.objects.filter(team_id=action["team"], is_active=True))
        sent = notify(
            recipients=recipients,
            kind="rule",
            text=f"{rule.name}: {action['message']}",
            url=record_url(obj),
            obj=obj,
            dedupe_key=f"rule:{run.pk}:{to}",
        )
        return _("Notified %(users)s") % {"users": ", ".join(str(n.recipient) for n in sent) or "-"}
    if kind == "set_field":
        catalogue = field_catalogue(obj.access_object_type)
        info = catalogue[action["field"]]
        raw = action.get("value") or ""
        value = parse_value(info, raw) if raw else None
        if info.key.startswith(CUSTOM_PREFIX):
            _update(obj, actor, custom_fields={info.key[len(CUSTOM_PREFIX) :]: raw})
        elif info.kind in ("user", "team"):
            model = User if info.kind == "user" else Team
            _update(obj, actor, **{info.key: model.objects.get(pk=value) if value else None})
        else:
            if value is None:
                value = "" if info.kind in ("text", "choice") else None
            _update(obj, actor, **{info.key: value})
        return _("%(field)s set to “%(value)s”") % {"field": info.label, "value": raw}
    if kind == "webhook":
        from kizuna.automation import webhooks

        delivery = webhooks.deliver_rule_event(
            subscription_id=action["subscription"],
            payload={
                "rule": {"id": rule.pk, "name": rule.name},
                "object_type": obj.access_object_type,
                "id": obj.pk,
                "name": str(obj),
                "run": run.pk,
            },
            run_id=run.pk,
        )
        return _("Webhook delivery #%(id)s queued") % {"id": delivery.pk}
    if kind == "send_email":
        from kizuna.mail.models import EmailTemplate
        from kizuna.mail.services import template_send

        template = EmailTemplate.objects.get(pk=action["template"])
        template_send(actor=actor, template=template, record=obj)
        return _("E-mail “%(template)s” sent") % {"template": template}
    raise ValidationError(_("Unknown action “%(type)s”.") % {"type": kind})


# -- time triggers -----------------------------------------------------------


def _due_dates(rule: Rule, today: datetime.date, calendar) -> tuple[datetime.date, datetime.date]:
    """The range of dates a date-relative rule may fire for today."""
    span = abs(rule.offset_days) * 2 + 10
    if rule.offset_days < 0:
        return today, today + datetime.timedelta(days=span)
    return today - datetime.timedelta(days=span + 30), today


def time_rules_run(*, now: datetime.datetime | None = None) -> int:
    """Fire the date-relative and no-activity rules that are due. Returns runs."""
    from kizuna.automation.business_time import add_business_days, load_calendar

    now = now or timezone.now()
    calendar = load_calendar()
    today = timezone.localdate(now)
    count = 0
    rules = Rule.objects.filter(
        is_active=True, trigger__in=[Rule.Trigger.DATE_RELATIVE, Rule.Trigger.NO_ACTIVITY]
    ).select_related("created_by")
    for rule in rules:
        model = model_for(rule.object_type)
        catalogue = field_catalogue(rule.object_type)
        candidates: list[tuple[Any, str]] = []
        if rule.trigger == Rule.Trigger.DATE_RELATIVE:
            info = catalogue.get(rule.trigger_field)
            if info is None or not info.timed:
                reason = _("The rule refers to fields that no longer exist: %(fields)s") % {
                    "fields": rule.trigger_field
                }
                disable_rule(rule, reason)
                continue
            lo, hi = _due_dates(rule, today, calendar)
            name = info.key
            if info.kind == "datetime":
                start = datetime.datetime.combine(lo, datetime.time(0), calendar.tz)
                end = datetime.datetime.combine(
                    hi + datetime.timedelta(days=1), datetime.time(0), calendar.tz
                )
                qs = model._default_manager.filter(**{f"{name}__gte": start, f"{name}__lt": end})
            else:
                qs = model._default_manager.filter(**{f"{name}__gte": lo, f"{name}__lte": hi})
            memo: dict[datetime.date, datetime.date] = {}
            for obj in qs.iterator():
                raw = getattr(obj, name)
                day = timezone.localdate(raw) if info.kind == "datetime" else raw
                if day not in memo:
                    memo[day] = add_business_days(day, rule.offset_days, calendar=calendar)
                if memo[day] <= today:
                    candidates.append((obj, f"date:{name}:{day.isoformat()}"))
        else:
            since = now - datetime.timedelta(hours=rule.hours)
            fk = rule.object_type
            from kizuna.activities.models import Activity

            qs = model._default_manager.filter(
                created_at__lte=since, created_at__gt=since - datetime.timedelta(days=7)
            ).filter(~Exists(Activity.objects.filter(**{fk: OuterRef("pk")})))
            candidates = [(obj, "no_activity") for obj in qs.iterator()]
        if not candidates:
            continue
        # A failed run is tried again on the next passes, a few times.
        done = set(
            RuleRun.objects.filter(rule=rule, object_id__in=[o.pk for o, _k in candidates])
            .exclude(outcome=RuleRun.Outcome.FAILED, attempts__lt=RETRIES)
            .values_list("object_id", "event_key")
        )
        for obj, key in candidates:
            if (obj.pk, key) in done:
                continue
            try:
                run = run_rule(
                    rule=rule,
                    obj=obj,
                    event_key=key,
                    depth=0,
                    seen=frozenset(),
                    catalogue=catalogue,
                )
            except RuleFailed:
                continue  # logged; the next pass tries again
            count += run is not None
            if not rule.is_active:
                break
    return count
