"""Targets: who may set them, the service that writes them, and the lookups the
KPIs compare against."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from kizuna.analytics.models import Target
from kizuna.analytics.periods import period_for
from kizuna.core import access, audit
from kizuna.core.models import AuditEntry
from kizuna.iam.models import Team, User

FIELDS = ("metric", "period_kind", "period_start", "user", "team", "value", "currency")
CURRENCIES = ("JPY", "KRW", "USD")


def is_manager(user) -> bool:
    """Admins and anyone with people under them in the role hierarchy."""
    viewer = access.viewer_for(user)
    return viewer.is_admin or len(viewer.user_ids) > 1


def may_set(actor, *, user: User | None, team: Team | None) -> bool:
    """Admins set any target; a manager sets those of the people under them and of
    their own team."""
    viewer = access.viewer_for(actor)
    if viewer.is_admin:
        return True
    if not is_manager(actor):
        return False
    if user is not None:
        return user.pk in viewer.user_ids
    if team is not None:
        return team.pk == viewer.team_id
    return False


def target_list(*, user) -> QuerySet[Target]:
    """The targets a user may see: all for admins; a manager's own team and people;
    anyone's own."""
    qs = Target.objects.select_related("user", "team")
    viewer = access.viewer_for(user)
    if viewer.is_admin:
        return qs
    return qs.filter(Q(user_id__in=viewer.user_ids) | Q(team_id=viewer.team_id))


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    metric = data.get("metric")
    if metric not in Target.Metric.values:
        errors["metric"] = [_("Choose a metric.")]
    kind = data.get("period_kind")
    if kind not in Target.PeriodKind.values:
        errors["period_kind"] = [_("Choose a period.")]
    day = data.get("period_start")
    if not isinstance(day, datetime.date):
        errors["period_start"] = [_("Enter a date in the period.")]
    try:
        value = Decimal(str(data.get("value", "")).replace(",", ""))
        if value < 0 or value != value.to_integral_value():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["value"] = [_("Enter a whole number of zero or more.")]
        value = Decimal(0)
    currency = data.get("currency") or "JPY"
    if currency not in CURRENCIES:
        errors["currency"] = [_("Unsupported currency.")]
    if data.get("user") is not None and data.get("team") is not None:
        errors["team"] = [_("A target is for one person or one team, not both.")]
    if errors:
        raise ValidationError(errors)
    start = period_for(kind, day).start  # type: ignore[arg-type]
    return {**data, "period_start": start, "value": value, "currency": currency}


def target_save(
    *,
    actor,
    metric: str,
    period_kind: str,
    period_start: datetime.date,
    value: Any,
    user: User | None = None,
    team: Team | None = None,
    currency: str = "JPY",
) -> Target:
    """Create or replace the target for (metric, period, person or team)."""
    data = _clean(
        {
            "metric": metric,
            "period_kind": period_kind,
            "period_start": period_start,
            "value": value,
            "user": user,
            "team": team,
            "currency": currency if metric == Target.Metric.WON_AMOUNT else "JPY",
        }
    )
    if not may_set(actor, user=user, team=team):
        raise PermissionDenied(_("You may not set this target."))
    with transaction.atomic():
        existing = (
            Target.objects.select_for_update()
            .filter(
                metric=data["metric"],
                period_kind=data["period_kind"],
                period_start=data["period_start"],
                user=user,
                team=team,
                currency=data["currency"],
            )
            .first()
        )
        if existing is None:
            target = Target.objects.create(**data)
            after = audit.snapshot(target, FIELDS)
            changes = {k: [None, v] for k, v in after.items() if v is not None}
            audit.record(actor=actor, action=AuditEntry.Action.CREATE, obj=target, changes=changes)
            return target
        before = audit.snapshot(existing, FIELDS)
        existing.value = data["value"]
        existing.version += 1
        existing.save(update_fields=["value", "version", "updated_at"])
        changes = audit.diff(before, audit.snapshot(existing, FIELDS))
        if changes:
            audit.record(
                actor=actor, action=AuditEntry.Action.UPDATE, obj=existing, changes=changes
            )
        return existing


def target_delete(*, actor, target: Target) -> None:
    if not may_set(actor, user=target.user, team=target.team):
        raise PermissionDenied(_("You may not set this target."))
    with transaction.atomic():
        before = audit.snapshot(target, FIELDS)
        audit.record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            obj=target,
            changes={k: [v, None] for k, v in before.items() if v is not None},
        )
        target.delete()


def target_value(
    *, metric: str, period, team=None, owner=None, currency: str = "JPY"
) -> Decimal | None:
    """The target for a period: the one set for exactly this period, or else the sum
    of the targets of its months (or quarters); for a team without its own target,
    the sum of its members'; for the company without one, the sum of the teams'.
    None when nothing applies (no target set)."""
    kind = getattr(period, "kind", None)
    if kind not in Target.PeriodKind.values:
        return None
    qs = Target.objects.filter(metric=metric, currency=currency)
    in_period = qs.filter(period_start__gte=period.start, period_start__lt=period.end)
    order = ["year", "quarter", "month"]
    kinds = order[order.index(kind) :]

    def pick(scope: QuerySet[Target]) -> Decimal | None:
        for k in kinds:
            rows = scope.filter(period_kind=k)
            if k == kind:
                rows = rows.filter(period_start=period.start)
            total = rows.aggregate(v=Sum("value"))["v"]
            if total is not None:
                return total
        return None

    owner_id = getattr(owner, "pk", owner)
    team_id = getattr(team, "pk", team)
    if owner_id:
        return pick(in_period.filter(user_id=owner_id))
    if team_id:
        own = pick(in_period.filter(team_id=team_id, user__isnull=True))
        if own is not None:
            return own
        return pick(in_period.filter(user__team_id=team_id))
    own = pick(in_period.filter(team__isnull=True, user__isnull=True))
    if own is not None:
        return own
    return pick(in_period.filter(team__isnull=False))
