from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.core.forms import FastSelect, PickerField, RecordForm
from kizuna.customers.forms import FilterForm
from kizuna.customers.models import Company, Contact, Lead
from kizuna.iam.models import Team
from kizuna.sales import criteria
from kizuna.sales.models import Deal, DealContact, LossReason, Pipeline, Stage
from kizuna.sales.quotes import pricing
from kizuna.sales.services import CURRENCIES, DEAL_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOTE = forms.TextInput(attrs={"placeholder": _("Details")})
LOST_FIELDS = ["loss_reason", "loss_note"]
WON_FIELDS = ["won_points", "won_terms", "handoff_notes"]


class AmountField(forms.CharField):
    """An amount as people type it (1,200,000 / １２０万 is refused / ¥1,200,000)."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip() if value else "0"


class DealForm(RecordForm):
    model = Deal
    model_fields = [f for f in DEAL_FIELDS if f != "pipeline"]
    widgets = {
        "expected_close_date": DATE,
        "next_action_due": DATE,
        "loss_note": forms.Textarea(attrs={"rows": 2}),
        "won_points": forms.Textarea(attrs={"rows": 2}),
        "won_terms": forms.Textarea(attrs={"rows": 2}),
        "handoff_notes": forms.Textarea(attrs={"rows": 2}),
        **{
            f"{n}_note": NOTE
            for n in ("budget", "authority", "need", "timing", "first_reaction", "hurdle")
        },
        "next_step_note": NOTE,
    }

    def __init__(
        self, *args, pipeline: Pipeline | None = None, toward: Stage | None = None, **kwargs
    ):
        """``toward``: a stage the user wants to reach; what it takes to get there is shown."""
        self.toward = toward
        super().__init__(*args, **kwargs)
        deal = self.instance
        self.fields["company"] = PickerField(
            Company.objects.all(), "customers:company_pick", label=_("Company")
        )
        self.fields["source_lead"] = PickerField(
            Lead.objects.all(), "customers:lead_pick", label=_("Source lead"), required=False
        )
        self.fields["amount"] = AmountField(label=_("Amount"), required=False)
        if deal is not None:
            # 4800000.00 would read as ambiguous in yen: show it as people write it.
            self.initial["amount"] = pricing.format_amount(deal.amount, deal.currency, symbol=False)
        self.fields["currency"] = forms.ChoiceField(
            label=_("Currency"), choices=[(c, c) for c in CURRENCIES]
        )
        self.fields["channel"] = forms.ChoiceField(
            label=_("Channel / source"),
            required=False,
            choices=[("", "---------"), *Lead.Channel.choices],
        )
        self.fields["loss_reason"] = forms.ModelChoiceField(
            LossReason.objects.filter(is_active=True), label=_("Loss reason"), required=False
        )
        if deal is None:
            self.fields["pipeline"] = forms.ModelChoiceField(
                Pipeline.objects.filter(is_active=True),
                label=_("Pipeline"),
                initial=pipeline.pk if pipeline else None,
            )
            self.fields["confirm_overlap"] = forms.BooleanField(
                required=False, widget=forms.HiddenInput
            )
            self.order_fields(["name", "company", "pipeline"])
        self._progressive(pipeline or (deal.pipeline if deal else None))
        # Only the fields on the form are written: a hidden one keeps its value.
        self.model_fields = [n for n in self.model_fields if n in self.fields]

    def _progressive(self, pipeline: Pipeline | None) -> None:
        """Show a field once the deal reaches the stage that needs it."""
        deal = self.instance
        if deal is None or deal.status != Deal.Status.LOST:
            for name in LOST_FIELDS:
                self.fields.pop(name, None)
        if deal is None or deal.status != Deal.Status.WON:
            for name in WON_FIELDS:
                self.fields.pop(name, None)
        if pipeline is None:
            return
        stages = list(pipeline.stages.all())
        position = deal.stage.position if deal is not None else -1
        if deal is not None and deal.status != Deal.Status.OPEN:
            return
        if self.toward is not None and self.toward.pipeline_id == pipeline.pk:
            # Everything the stages on the way ask for (a jump passes several).
            position = max(position, self.toward.position - 1)
        for name in criteria.hidden_form_fields(stages, position):
            self.fields.pop(name, None)
        here = [
            criteria.criterion(k)
            for s in stages
            if s.position == position
            for k in s.required_fields
        ]
        for name in {name for c in here if c is not None for name in c.form_fields}:
            if name in self.fields:
                self.fields[name].widget.attrs["data-required-to-advance"] = "1"

    def service_kwargs(self) -> dict[str, Any]:
        kwargs = super().service_kwargs()
        if self.instance is None:
            kwargs["pipeline"] = self.cleaned_data["pipeline"]
        return kwargs


class DealContactForm(forms.Form):
    contact = PickerField(Contact.objects.all(), "customers:contact_pick", label=_("Contact"))
    role = forms.ChoiceField(label=_("Role"), choices=DealContact.Role.choices)


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(Stage.objects.all(), label=_("Stage"))
    version = forms.IntegerField(required=False)
    loss_reason = forms.ModelChoiceField(
        LossReason.objects.filter(is_active=True), label=_("Loss reason"), required=False
    )
    loss_note = forms.CharField(label=_("Loss: details"), required=False)


class DealFilterForm(FilterForm):
    object_type = "deal"

    pipeline = forms.ModelChoiceField(
        Pipeline.objects.filter(is_active=True), label=_("Pipeline"), required=False
    )
    stage = forms.ModelChoiceField(Stage.objects.all(), label=_("Stage"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "---------"), *Deal.Status.choices]
    )
    team = forms.ModelChoiceField(
        Team.objects.all(), label=_("Team"), required=False, widget=FastSelect
    )
    close_month = forms.CharField(
        label=_("Close month"), required=False, widget=forms.TextInput(attrs={"type": "month"})
    )
    hygiene = forms.ChoiceField(
        label=_("Needs attention"),
        required=False,
        choices=[
            ("", "---------"),
            ("stalled", _("Stalled")),
            ("no_next_action", _("No next action")),
            ("overdue", _("Next action overdue")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ordering"] = forms.ChoiceField(
            label=_("Sort"),
            required=False,
            choices=[
                ("-created", _("Newest")),
                ("close", _("Expected close date")),
                ("-amount", _("Amount (largest first)")),
                ("name", _("Name")),
            ],
        )


class BoardFilterForm(DealFilterForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("pipeline", "stage", "status", "ordering"):
            self.fields.pop(name)
