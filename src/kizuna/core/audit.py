"""The audit log: who changed what, when, from where, before -> after."""

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

from django.db import models

from kizuna.core.context import current
from kizuna.core.models import AuditEntry


def _json_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The JSON-safe values of ``fields``; a foreign key is recorded by its id."""
    data = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        data[name] = _json_value(getattr(obj, attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: int | None = None,
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    ctx = current()
    if obj is not None:
        object_type = (
            object_type or getattr(obj, "access_object_type", "") or obj._meta.model_name or ""
        )
        object_id = obj.pk
        object_repr = object_repr or str(obj)
    is_user = actor is not None and getattr(actor, "pk", None) is not None
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_repr=str(actor) if actor is not None else "",
        ip=ctx.ip,
        request_id=ctx.request_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:300],
        changes=_json_value(changes or {}),
    )


def entries_for(obj: models.Model):
    object_type = getattr(obj, "access_object_type", "") or obj._meta.model_name
    return AuditEntry.objects.filter(object_type=object_type, object_id=obj.pk).select_related(
        "actor"
    )
