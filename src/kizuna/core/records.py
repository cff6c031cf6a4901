"""Pieces every service that writes an owned record uses."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from kizuna.core import access, audit, customfields
from kizuna.core.models import AuditEntry, Tag


class ConflictError(Exception):
    """The record changed since the caller read it (optimistic concurrency)."""

    def __init__(self, current_version: int):
        super().__init__(f"stale version; current is {current_version}")
        self.current_version = current_version


def lock(model: type[models.Model], pk: int):
    """Re-read a record inside the service's transaction, locked for writing."""
    return model._default_manager.select_for_update().get(pk=pk)


def require_edit(actor, obj: models.Model) -> None:
    if not access.can_edit(actor, obj):
        raise PermissionDenied(_("You may not change this record."))


def require_visible(actor, obj: models.Model | None, field: str) -> None:
    """A related record chosen by the actor must be one they can see."""
    if obj is not None and not access.can_view(actor, obj):
        raise ValidationError({field: _("Choose a record you have access to.")})


def check_version(obj, version: int | None) -> None:
    if version is not None and int(version) != obj.version:
        raise ConflictError(obj.version)


def assign_fields(obj: models.Model, fields: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(obj, name, value)


def validate(obj: models.Model, errors: dict[str, list[str]] | None = None, exclude=()) -> None:
    """Run the model's validation and raise every error at once, per field."""
    errors = {k: list(v) for k, v in (errors or {}).items()}
    try:
        obj.full_clean(exclude=[*exclude, *errors.keys()], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def clean_custom_fields(obj, values: dict[str, Any] | None) -> dict[str, list[str]]:
    """Validate and set custom field values; returns errors keyed ``custom_fields.<key>``."""
    if values is None:
        return {}
    try:
        obj.custom_field_data = customfields.clean_values(
            obj.access_object_type, values, existing=obj.custom_field_data
        )
    except ValidationError as exc:
        return {f"custom_fields.{k}": v for k, v in exc.message_dict.items()}
    return {}


def set_tags(obj, names: Iterable[str] | None) -> list[str] | None:
    if names is None:
        return None
    clean = sorted({n.strip()[:50] for n in names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    tags = [existing.get(n) or Tag.objects.create(name=n) for n in clean]
    obj.tags.set(tags)
    return clean


def tag_names(obj) -> list[str]:
    if obj.pk is None:
        return []
    return sorted(t.name for t in obj.tags.all())


def audit_create(actor, obj, fields: Iterable[str], **extra: Any) -> None:
    snap = record_snapshot(obj, fields)
    changes = {k: [None, v] for k, v in snap.items() if v not in ("", None, [], {})}
    changes.update({k: [None, v] for k, v in extra.items() if v})
    audit.record(actor=actor, action=AuditEntry.Action.CREATE, obj=obj, changes=changes)


def audit_update(actor, obj, before: dict[str, Any], after: dict[str, Any]) -> bool:
    changes = audit.diff(before, after)
    if changes:
        audit.record(actor=actor, action=AuditEntry.Action.UPDATE, obj=obj, changes=changes)
    return bool(changes)


def audit_delete(actor, obj, fields: Iterable[str]) -> None:
    snap = record_snapshot(obj, fields)
    changes = {k: [v, None] for k, v in snap.items() if v not in ("", None, [], {})}
    audit.record(actor=actor, action=AuditEntry.Action.DELETE, obj=obj, changes=changes)


def record_snapshot(obj, fields: Iterable[str]) -> dict[str, Any]:
    """Fields, custom fields (``custom_fields.<key>``) and tags, for before -> after."""
    data = audit.snapshot(obj, fields)
    for key, value in (obj.custom_field_data or {}).items():
        data[f"custom_fields.{key}"] = value
    data["tags"] = tag_names(obj)
    return data
