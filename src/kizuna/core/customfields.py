"""Custom fields: definitions per object type, values in ``custom_field_data``.

Values are validated here on every write, whichever way they arrive (form,
API, import), and stored as JSON: text as strings, numbers as numbers, money
as a decimal string, dates as ISO strings, multi-select as a list, a user as
their id.
"""

import datetime
import decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kizuna.core.models import CustomFieldDefinition

FieldType = CustomFieldDefinition.FieldType
FORM_PREFIX = "cf_"
MAX_TEXT: dict[str, int] = {FieldType.TEXT: 500, FieldType.LONG_TEXT: 10_000}


def definitions(object_type: str) -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.filter(object_type=object_type))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _clean_one(definition: CustomFieldDefinition, value: Any) -> Any:
    kind = definition.field_type
    if kind in MAX_TEXT:
        if not isinstance(value, str):
            raise ValidationError(_("Enter text."))
        if len(value) > MAX_TEXT[kind]:
            raise ValidationError(_("At most %(limit)d characters.") % {"limit": MAX_TEXT[kind]})
        return value
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        if isinstance(value, bool):
            raise ValidationError(_("Enter a number."))
        try:
            number = decimal.Decimal(str(value).replace(",", "").strip())
        except decimal.InvalidOperation as exc:
            raise ValidationError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        if kind == FieldType.MONEY:
            if definition.currency in ("JPY", "KRW") and number != number.to_integral_value():
                raise ValidationError(_("This currency has no decimal places."))
            return format(number.normalize(), "f")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == FieldType.DATE:
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from exc
    if kind == FieldType.SELECT:
        if value not in definition.choices:
            raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": value})
        return value
    if kind == FieldType.MULTI_SELECT:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValidationError(_("Choose from the list."))
        wrong = [v for v in value if v not in definition.choices]
        if wrong:
            raise ValidationError(
                _("“%(value)s” is not one of the choices.") % {"value": ", ".join(map(str, wrong))}
            )
        return [c for c in definition.choices if c in value]
    if kind == FieldType.CHECKBOX:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes", "on"):
            return True
        if str(value).lower() in ("false", "0", "no", "off"):
            return False
        raise ValidationError(_("Enter true or false."))
    if kind == FieldType.USER:
        try:
            user_id = int(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("Choose a user.")) from exc
        if not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
            raise ValidationError(_("Choose a user."))
        return user_id
    raise ValidationError(_("Unknown field type."))


def clean_values(
    object_type: str, values: dict[str, Any], *, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate ``values`` merged over ``existing``; errors are keyed by field key."""
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": _("Expected an object of field keys.")})
    defs = {d.key: d for d in definitions(object_type)}
    errors: dict[str, list[str]] = {}
    result = {k: v for k, v in (existing or {}).items() if k in defs}
    for key, value in values.items():
        definition = defs.get(key)
        if definition is None:
            errors[key] = [_("There is no custom field “%(key)s”.") % {"key": key}]
            continue
        if _is_empty(value):
            result.pop(key, None)
            continue
        try:
            result[key] = _clean_one(definition, value)
        except ValidationError as exc:
            errors[key] = exc.messages
    for key, definition in defs.items():
        if definition.required and _is_empty(result.get(key)) and key not in errors:
            errors[key] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return result


def form_fields(object_type: str) -> dict[str, forms.Field]:
    """Form fields named ``cf_<key>`` for the object type's definitions."""
    fields: dict[str, forms.Field] = {}
    for d in definitions(object_type):
        label = d.display_label()
        common: dict[str, Any] = {"label": label, "required": d.required}
        choices = [(c, c) for c in d.choices]
        field: forms.Field
        match d.field_type:
            case FieldType.LONG_TEXT:
                field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
            case FieldType.NUMBER | FieldType.MONEY:
                field = forms.DecimalField(**common)
            case FieldType.DATE:
                field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
            case FieldType.SELECT:
                field = forms.ChoiceField(choices=[("", "---------"), *choices], **common)
            case FieldType.MULTI_SELECT:
                field = forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple, **common
                )
            case FieldType.CHECKBOX:
                field = forms.BooleanField(label=label, required=False)
            case FieldType.USER:
                field = forms.ModelChoiceField(
                    queryset=get_user_model().objects.filter(is_active=True), **common
                )
            case _:
                field = forms.CharField(max_length=MAX_TEXT[FieldType.TEXT], **common)
        fields[FORM_PREFIX + d.key] = field
    return fields


def values_from_form(cleaned_data: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name, value in cleaned_data.items():
        if name.startswith(FORM_PREFIX):
            if hasattr(value, "pk"):
                value = value.pk
            values[name[len(FORM_PREFIX) :]] = value
    return values


def initial_for_form(data: dict[str, Any]) -> dict[str, Any]:
    return {FORM_PREFIX + key: value for key, value in (data or {}).items()}


def display_value(definition: CustomFieldDefinition, value: Any, users: dict | None = None) -> str:
    if _is_empty(value):
        return ""
    if definition.field_type == FieldType.MULTI_SELECT:
        return ", ".join(value)
    if definition.field_type == FieldType.CHECKBOX:
        return "✓" if value else ""
    if definition.field_type == FieldType.USER and users is not None:
        return str(users.get(value, value))
    if definition.field_type == FieldType.MONEY:
        try:
            amount = decimal.Decimal(value)
        except decimal.InvalidOperation:
            return str(value)
        return f"{amount:,} {definition.currency}"
    return str(value)


def filter_queryset(queryset, object_type: str, params) -> tuple[Any, dict[str, str]]:
    """Apply ``cf_<key>=value`` filters; returns the queryset and the filters used."""
    used: dict[str, str] = {}
    for d in definitions(object_type):
        raw = params.get(FORM_PREFIX + d.key)
        if raw in (None, ""):
            continue
        used[d.key] = raw
        path = f"custom_field_data__{d.key}"
        if d.field_type in (FieldType.TEXT, FieldType.LONG_TEXT):
            queryset = queryset.filter(**{f"{path}__icontains": raw})
        elif d.field_type == FieldType.MULTI_SELECT:
            queryset = queryset.filter(**{f"{path}__icontains": f'"{raw}"'})
        elif d.field_type == FieldType.CHECKBOX:
            queryset = queryset.filter(**{path: raw.lower() in ("1", "true", "yes", "on")})
        else:
            try:
                value = _clean_one(d, raw)
            except ValidationError:
                return queryset.none(), used
            queryset = queryset.filter(**{path: value})
    return queryset, used
