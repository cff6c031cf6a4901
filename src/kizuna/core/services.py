"""Writes to org-wide settings: custom field definitions, access policies, shares."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.core import access, audit
from kizuna.core.models import AccessPolicy, AuditEntry, CustomFieldDefinition, Share

DEFINITION_FIELDS = [
    "object_type",
    "key",
    "label",
    "label_ja",
    "label_ko",
    "field_type",
    "choices",
    "currency",
    "required",
    "show_in_list",
    "position",
]


def _clean_definition(definition: CustomFieldDefinition) -> None:
    errors: dict[str, list[str]] = {}
    if definition.field_type in ("select", "multi_select"):
        choices = [str(c).strip() for c in definition.choices or [] if str(c).strip()]
        if not choices:
            errors["choices"] = [_("A select field needs at least one choice.")]
        definition.choices = list(dict.fromkeys(choices))
    else:
        definition.choices = []
    if (
        CustomFieldDefinition.objects.filter(object_type=definition.object_type, key=definition.key)
        .exclude(pk=definition.pk)
        .exists()
    ):
        errors["key"] = [_("This key is already used for this object type.")]
    try:
        definition.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def customfield_create(*, actor, **fields: Any) -> CustomFieldDefinition:
    access.require_admin(actor)
    definition = CustomFieldDefinition(**fields)
    _clean_definition(definition)
    definition.save()
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=definition,
        changes={k: [None, v] for k, v in audit.snapshot(definition, DEFINITION_FIELDS).items()},
    )
    return definition


@transaction.atomic
def customfield_update(
    *, actor, definition: CustomFieldDefinition, **fields: Any
) -> CustomFieldDefinition:
    access.require_admin(actor)
    before = audit.snapshot(definition, DEFINITION_FIELDS)
    for name in ("object_type", "key", "field_type"):
        if name in fields and fields[name] != getattr(definition, name):
            raise ValidationError({name: _("This cannot change once the field exists.")})
    for name, value in fields.items():
        setattr(definition, name, value)
    _clean_definition(definition)
    definition.save()
    changes = audit.diff(before, audit.snapshot(definition, DEFINITION_FIELDS))
    if changes:
        audit.record(actor=actor, action=AuditEntry.Action.UPDATE, obj=definition, changes=changes)
    return definition


@transaction.atomic
def customfield_delete(*, actor, definition: CustomFieldDefinition) -> None:
    """Delete a definition; values already stored stay in the JSON but are no longer shown."""
    access.require_admin(actor)
    audit.record(
        actor=actor,
        action=AuditEntry.Action.DELETE,
        obj=definition,
        changes={k: [v, None] for k, v in audit.snapshot(definition, DEFINITION_FIELDS).items()},
    )
    definition.delete()


@transaction.atomic
def access_policy_set(*, actor, object_type: str, level: str) -> AccessPolicy:
    access.require_admin(actor)
    policy, _created = AccessPolicy.objects.get_or_create(object_type=object_type)
    before = policy.level if not _created else None
    policy.level = level
    policy.full_clean()
    policy.save()
    if before != level:
        audit.record(
            actor=actor,
            action=AuditEntry.Action.PERMISSION,
            object_type="access_policy",
            object_id=policy.pk,
            object_repr=object_type,
            changes={"level": [before, level]},
        )
    return policy


@transaction.atomic
def share_create(*, actor, obj, user=None, team=None, can_edit: bool = False) -> Share:
    if not access.can_edit(actor, obj):
        raise PermissionDenied(_("You may not share this record."))
    if (user is None) == (team is None):
        raise ValidationError(_("Share with one user or one team."))
    share, _created = Share.objects.update_or_create(
        object_type=obj.access_object_type,
        object_id=obj.pk,
        user=user,
        team=team,
        defaults={"can_edit": can_edit},
    )
    audit.record(
        actor=actor,
        action=AuditEntry.Action.SHARE,
        obj=obj,
        changes={"shared_with": [None, str(user or team)], "can_edit": [None, can_edit]},
    )
    return share
