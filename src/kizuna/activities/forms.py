from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.activities.models import Activity
from kizuna.activities.services import ACTIVITY_FIELDS
from kizuna.core.forms import PickerField, RecordForm
from kizuna.customers.forms import FilterForm
from kizuna.customers.models import Company, Contact, Lead

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActivityForm(RecordForm):
    model = Activity
    model_fields = ACTIVITY_FIELDS
    widgets = {
        "body": forms.Textarea(attrs={"rows": 5, "data-mentions": "/activities/mentions/"}),
        "due_date": DATE,
    }

    def __init__(self, *args, participant_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"] = forms.DateTimeField(
            label=_("When"),
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            initial=lambda: timezone.localtime().replace(second=0, microsecond=0),
        )
        self.fields["company"] = PickerField(
            Company.objects.all(), "customers:company_pick", label=_("Company"), required=False
        )
        self.fields["contact"] = PickerField(
            Contact.objects.all(), "customers:contact_pick", label=_("Contact"), required=False
        )
        self.fields["lead"] = PickerField(
            Lead.objects.all(), "customers:lead_pick", label=_("Lead"), required=False
        )
        from kizuna.sales.models import Deal

        self.fields["deal"] = PickerField(
            Deal.objects.all(), "sales:deal_pick", label=_("Deal"), required=False
        )
        self.fields["assignee"].queryset = get_user_model().objects.filter(is_active=True)
        self.fields["participants"] = forms.ModelMultipleChoiceField(
            Contact.objects.filter(pk__in=[c.pk for c in participant_choices or []]),
            label=_("Participants"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["participant_users"] = forms.ModelMultipleChoiceField(
            get_user_model().objects.filter(is_active=True),
            label=_("Colleagues present"),
            required=False,
            widget=forms.SelectMultiple(attrs={"size": 4}),
        )
        if not participant_choices:
            # Participants are chosen among the people of the company at hand.
            del self.fields["participants"]
        if self.instance is not None:
            self.initial["participants"] = [p.pk for p in self.instance.participants.all()]
            self.initial["participant_users"] = [
                u.pk for u in self.instance.participant_users.all()
            ]
        else:
            self.fields["next_action"] = forms.CharField(
                label=_("Next action"),
                required=False,
                max_length=200,
                help_text=_("Sets the next action on the customer record."),
            )
            self.fields["next_action_due"] = forms.DateField(
                label=_("Next action due"), required=False, widget=DATE
            )
        self.order_fields(
            [
                "kind",
                "subject",
                "occurred_at",
                "company",
                "contact",
                "lead",
                "deal",
                "body",
                "next_action",
                "next_action_due",
                "assignee",
                "due_date",
                "duration_minutes",
                "participants",
                "participant_users",
            ]
        )

    def service_kwargs(self):
        kwargs = super().service_kwargs()
        if "participants" in self.fields:
            kwargs["participants"] = list(self.cleaned_data.get("participants") or [])
        kwargs["participant_users"] = list(self.cleaned_data.get("participant_users") or [])
        if self.instance is None:
            kwargs["next_action"] = self.cleaned_data.get("next_action") or None
            kwargs["next_action_due"] = self.cleaned_data.get("next_action_due")
        return kwargs


class ActivityFilterForm(FilterForm):
    object_type = "activity"
    orderings = {"-created": None}

    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", "---------"), *Activity.Kind.choices]
    )
    open_tasks = forms.BooleanField(label=_("Open tasks only"), required=False)
