from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kizuna.automation.sla import STATES as SLA_STATES
from kizuna.core import customfields
from kizuna.core.forms import FastSelect, PickerField, RecordForm, split_lines
from kizuna.customers.models import (
    PREFECTURES_JP,
    PROVINCES_KR,
    Company,
    Contact,
    Industry,
    Lead,
)
from kizuna.customers.selectors import COMPANY_ORDERINGS, CONTACT_ORDERINGS, LEAD_ORDERINGS
from kizuna.customers.services import COMPANY_FIELDS, CONTACT_FIELDS, LEAD_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _prefecture_widget():
    return forms.TextInput(attrs={"list": "prefectures", "autocomplete": "off"})


class CompanyForm(RecordForm):
    model = Company
    model_fields = COMPANY_FIELDS
    widgets = {"next_action_due": DATE, "prefecture": _prefecture_widget()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = PickerField(
            Company.objects.all(), "customers:company_pick", label=_("Part of"), required=False
        )


class ContactForm(RecordForm):
    model = Contact
    model_fields = CONTACT_FIELDS
    widgets = {"next_action_due": DATE, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"] = PickerField(
            Company.objects.all(),
            "customers:company_pick",
            label=_("Company or site"),
            required=False,
        )
        if self.instance is not None and "emails" not in self.initial:
            self.initial["emails"] = "\n".join(e.email for e in self.instance.emails.all())
            self.initial["phones"] = "\n".join(p.number for p in self.instance.phones.all())

    def extra_fields(self):
        return {
            "emails": forms.CharField(
                label=_("E-mail addresses"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("One per line."),
            ),
            "phones": forms.CharField(
                label=_("Phone numbers"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("One per line, e.g. 03-1234-5678 or 010-1234-5678."),
            ),
        }

    def service_kwargs(self):
        kwargs = super().service_kwargs()
        kwargs["emails"] = split_lines(self.cleaned_data.get("emails") or "")
        kwargs["phones"] = split_lines(self.cleaned_data.get("phones") or "")
        return kwargs


class LeadForm(RecordForm):
    model = Lead
    model_fields = LEAD_FIELDS
    widgets = {
        "next_action_due": DATE,
        "interest": forms.Textarea(attrs={"rows": 3}),
        "prefecture": _prefecture_widget(),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        status.choices = [c for c in status.choices if c[0] != Lead.Status.CONVERTED]


class LeadConvertForm(forms.Form):
    company = PickerField(
        Company.objects.all(),
        "customers:company_pick",
        label=_("Link to this company instead"),
        required=False,
    )


ORDERING_LABELS = {
    "name": _("Name"),
    "-name": _("Name (descending)"),
    "prefecture": _("Prefecture"),
    "-updated": _("Recently updated"),
    "-created": _("Newest"),
    "created": _("Oldest"),
}


class FilterForm(forms.Form):
    """List filters; invalid values are reported and ignored."""

    object_type = ""
    orderings: dict[str, Any] = {}

    q = forms.CharField(label=_("Search"), required=False)
    owner = forms.ModelChoiceField(
        get_user_model().objects.none(), label=_("Owner"), required=False, widget=FastSelect
    )
    tag = forms.CharField(label=_("Tag"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True)
        self.fields["ordering"] = forms.ChoiceField(
            label=_("Sort"),
            required=False,
            choices=[(k, ORDERING_LABELS[k]) for k in self.orderings],
        )
        for d in customfields.definitions(self.object_type):
            name = customfields.FORM_PREFIX + d.key
            if d.field_type in ("select", "multi_select"):
                choices = [("", "---------"), *((c, c) for c in d.choices)]
                self.fields[name] = forms.ChoiceField(
                    label=d.display_label(), choices=choices, required=False
                )
            elif d.field_type == "checkbox":
                self.fields[name] = forms.ChoiceField(
                    label=d.display_label(),
                    choices=[("", "---------"), ("1", _("Yes")), ("0", _("No"))],
                    required=False,
                )
            elif d.field_type in ("text", "number", "money", "date"):
                self.fields[name] = forms.CharField(label=d.display_label(), required=False)

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        filters: dict[str, Any] = {}
        for name, value in data.items():
            if value in (None, ""):
                continue
            if name.startswith(customfields.FORM_PREFIX):
                filters.setdefault("custom", {})[name] = value
            else:
                filters[name] = getattr(value, "pk", value)
        return filters


class CompanyFilterForm(FilterForm):
    object_type = "company"
    orderings = COMPANY_ORDERINGS

    prefecture = forms.CharField(
        label=_("Prefecture / province"), required=False, widget=_prefecture_widget()
    )
    industry = forms.ChoiceField(
        label=_("Industry"),
        required=False,
        choices=[("", "---------"), *Industry.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", "---------"), *Company.Kind.choices]
    )


class ContactFilterForm(FilterForm):
    object_type = "contact"
    orderings = CONTACT_ORDERINGS


class LeadFilterForm(FilterForm):
    object_type = "lead"
    orderings = LEAD_ORDERINGS

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "---------"), *Lead.Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", "---------"), *Lead.Channel.choices]
    )
    sla = forms.ChoiceField(
        label=_("First contact"), required=False, choices=[("", "---------"), *SLA_STATES.items()]
    )


PREFECTURE_SUGGESTIONS = PREFECTURES_JP + PROVINCES_KR
