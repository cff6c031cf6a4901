"""Form pieces shared by every record form: the picker, custom fields, tags,
owner and team, and the mapping of service errors onto fields."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import fields_for_model, model_to_dict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kizuna.core import customfields
from kizuna.core.records import tag_names


class RecordPicker(forms.Widget):
    """A hidden id plus a search box that looks records up as you type."""

    template_name = "core/widgets/picker.html"

    def __init__(self, model, search_url_name: str, attrs=None):
        super().__init__(attrs)
        self.model = model
        self.search_url_name = search_url_name

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        label = ""
        if str(value).isdigit():
            obj = self.model._default_manager.filter(pk=value).first()
            label = str(obj) if obj else ""
        context["widget"].update(
            label=label, search_url=reverse(self.search_url_name), target=f"{name}-results"
        )
        return context


class FastSelect(forms.Select):
    """A select whose options are written in one template, not one template each:
    a list filter with a few hundred users renders in a fraction of the time."""

    template_name = "core/widgets/fast_select.html"


class PickerField(forms.ModelChoiceField):
    def __init__(self, queryset, search_url_name: str, **kwargs):
        super().__init__(queryset, widget=RecordPicker(queryset.model, search_url_name), **kwargs)


def split_lines(value: str) -> list[str]:
    return [
        v.strip() for v in value.replace(",", "\n").replace("、", "\n").splitlines() if v.strip()
    ]


def _formfield(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class RecordForm(forms.Form):
    """A form for an owned record; the write itself is the service's.

    Subclasses name ``model`` and ``model_fields``; the form adds custom
    fields, tags, owner and team, and turns a service's ValidationError
    into field errors.
    """

    model: Any = None
    model_fields: list[str] = []
    widgets: dict[str, forms.Widget] = {}
    field_overrides: dict[str, forms.Field] = {}

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            initial = {
                **model_to_dict(instance, fields=self.model_fields),
                **customfields.initial_for_form(instance.custom_field_data),
                "tags": ", ".join(tag_names(instance)),
                "owner": instance.owner_id,
                "team": instance.team_id,
                "version": instance.version,
                **initial,
            }
        super().__init__(*args, initial=initial, **kwargs)
        generated = fields_for_model(
            self.model,
            fields=self.model_fields,
            widgets=self.widgets,
            formfield_callback=_formfield,
        )
        for name in self.model_fields:
            self.fields[name] = self.field_overrides.get(name) or generated[name]
        self.fields.update(self.extra_fields())
        self.fields.update(customfields.form_fields(self.model.access_object_type))
        from kizuna.iam.models import Team

        self.fields["tags"] = forms.CharField(
            label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
        )
        self.fields["owner"] = forms.ModelChoiceField(
            get_user_model().objects.filter(is_active=True), label=_("Owner"), required=False
        )
        self.fields["team"] = forms.ModelChoiceField(
            Team.objects.all(), label=_("Team"), required=False
        )
        self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def extra_fields(self) -> dict[str, forms.Field]:
        return {}

    @property
    def custom_field_names(self) -> list[str]:
        return [n for n in self.fields if n.startswith(customfields.FORM_PREFIX)]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {name: data[name] for name in self.model_fields}
        for name, value in kwargs.items():
            if value is None and isinstance(self.fields[name], forms.CharField):
                kwargs[name] = ""
        kwargs["custom_fields"] = customfields.values_from_form(data)
        kwargs["tags"] = split_lines(data.get("tags") or "")
        kwargs["owner"] = data.get("owner")
        kwargs["team"] = data.get("team")
        if self.instance is not None:
            kwargs["version"] = data.get("version")
        return kwargs

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.message_dict.items():
            name = field
            if field.startswith("custom_fields."):
                name = customfields.FORM_PREFIX + field.split(".", 1)[1]
            self.add_error(name if name in self.fields else None, errors)
