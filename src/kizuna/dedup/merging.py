"""How records are merged and un-merged; the services in ``services.py`` call this.

Losers are deleted, not soft-marked: a soft-marked record would have to be
left out by every selector, list, count, search, export and API call, and
one forgotten filter would show a merged record again. Their full rows stay
in ``Merge.snapshot`` and an undo inserts them again under their own ids.

Every row that points at a loser is found through the model's relations
(``_meta.get_fields(include_hidden=True)``: foreign keys, the through tables
of many-to-many fields such as tags and activity participants, one-to-one
fields) plus the generic ``object_type``/``object_id`` tables (shares,
notifications), so a relation added later is moved too; a test asserts that
every foreign key to a company, contact or lead is covered.
"""

import datetime
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models

from kizuna.core.audit import _json_value
from kizuna.customers.models import Company, Contact, ContactEmail, ContactPhone, Lead
from kizuna.customers.services import COMPANY_FIELDS, CONTACT_FIELDS, LEAD_FIELDS, OWNERSHIP

MODELS: dict[str, type[models.Model]] = {"company": Company, "contact": Contact, "lead": Lead}

# The fields a person picks a surviving value for (the compare page's rows):
# what the services write, but a company's place in the hierarchy.
MERGE_FIELDS: dict[str, list[str]] = {
    "company": [f for f in COMPANY_FIELDS if f not in ("kind", "parent")] + OWNERSHIP,
    "contact": CONTACT_FIELDS + OWNERSHIP,
    "lead": LEAD_FIELDS + OWNERSHIP,
}
# Fields whose default is the survivor's value, not the newest non-empty one.
SURVIVOR_DEFAULT = frozenset({"owner", "team"})
# Fields that travel with another field's choice.
FOLLOWERS = {"status": ("converted_at", "converted_company", "converted_contact", "converted_by")}
# Tables addressed by (object_type, object_id) that move with the record.
GENERIC_MODELS = ("core.Share", "automation.Notification")


def row_data(obj: models.Model) -> dict[str, Any]:
    """Every concrete column of a row, JSON-safe, by attname."""
    return {f.attname: _json_value(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def restore_row(model: type[models.Model], data: dict[str, Any]) -> models.Model:
    """A model instance from ``row_data`` (not saved)."""
    values = {}
    for f in model._meta.concrete_fields:
        if f.attname not in data:
            continue
        value = data[f.attname]
        if value is not None:
            if isinstance(f, models.DateTimeField):
                value = datetime.datetime.fromisoformat(value)
            elif isinstance(f, models.DateField):
                value = datetime.date.fromisoformat(value)
            elif isinstance(f, models.DecimalField):
                from decimal import Decimal

                value = Decimal(value)
        values[f.attname] = value
    return model(**values)


def _attname(meta, name: str) -> str:
    return getattr(meta.get_field(name), "attname", name)


def relations(model: type[models.Model]) -> list[models.ForeignObjectRel]:
    """Every relation whose rows point at ``model``: reverse FKs, M2M through rows, O2O."""
    return [
        rel
        for rel in model._meta.get_fields(include_hidden=True)
        if isinstance(rel, models.ManyToOneRel) and rel.auto_created and not rel.concrete
    ]


def unique_sets(model: type[models.Model], attname: str) -> list[list[str]]:
    """Unique column sets of ``model`` that include ``attname`` (the other columns)."""
    sets: list[list[str]] = []
    meta = model._meta
    for group in meta.unique_together:
        names = [_attname(meta, n) for n in group]
        if attname in names:
            sets.append([n for n in names if n != attname])
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            names = [_attname(meta, n) for n in constraint.fields]
            if attname in names:
                sets.append([n for n in names if n != attname])
    return sets


def newest_first(records: Sequence[Any], survivor: Any) -> list[Any]:
    """The records newest first; the survivor wins a tie."""
    return sorted(records, key=lambda r: (r.updated_at, r.pk == survivor.pk), reverse=True)


# A person's name written in kanji or hangul, not only in kana or letters.
_WRITTEN_NAME_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
PERSON_NAME_FIELDS = frozenset({"family_name", "given_name"})


def default_choices(entity: str, survivor: Any, records: Sequence[Any]) -> dict[str, int]:
    """Per field, the record whose value survives: the newest non-empty one.

    A person's name in kanji or hangul wins over a newer one only in kana or
    letters (佐藤 over ｻﾄｳ from a business-card scan): the kana is what the
    reading holds.
    """
    ordered = newest_first(records, survivor)
    choices = {}
    for name in MERGE_FIELDS[entity]:
        attname = _attname(survivor._meta, name)
        if name in SURVIVOR_DEFAULT:
            choices[name] = survivor.pk
            continue
        filled = [r for r in ordered if getattr(r, attname) not in ("", None)]
        if name in PERSON_NAME_FIELDS:
            written = [r for r in filled if _WRITTEN_NAME_RE.search(getattr(r, attname))]
            filled = written or filled
        chosen = filled[0] if filled else survivor
        choices[name] = chosen.pk
    return choices


def merged_custom_fields(survivor: models.Model, records: Sequence[models.Model]) -> dict[str, Any]:
    """Custom field values: per key, the newest non-empty value."""
    data: dict[str, Any] = {}
    for record in reversed(newest_first(records, survivor)):
        for key, value in (getattr(record, "custom_field_data", None) or {}).items():
            if value not in ("", None, [], {}):
                data[key] = value
            else:
                data.setdefault(key, value)
    return data


def channel_rows(model: Any, ids: Iterable[int]) -> list[Any]:
    return list(
        model.objects.filter(contact_id__in=list(ids)).order_by("contact_id", "position", "id")
    )


CHANNELS = ((ContactEmail, "email"), (ContactPhone, "number"))
