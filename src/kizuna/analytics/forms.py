import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.analytics.models import Target
from kizuna.analytics.targets import CURRENCIES
from kizuna.core import access
from kizuna.iam.models import Team, User


class TargetForm(forms.Form):
    """Types only; the service checks the rest (who may set what)."""

    metric = forms.ChoiceField(label=_("Metric"), choices=Target.Metric.choices)
    period_kind = forms.ChoiceField(label=_("Period"), choices=Target.PeriodKind.choices)
    period_start = forms.DateField(
        label=_("Any day in the period"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    user = forms.ModelChoiceField(User.objects.none(), label=_("Person"), required=False)
    team = forms.ModelChoiceField(Team.objects.none(), label=_("Team"), required=False)
    value = forms.DecimalField(label=_("Target"), min_value=0, decimal_places=0)
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[(c, c) for c in CURRENCIES], initial="JPY"
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        viewer = access.viewer_for(actor)
        users = User.objects.filter(is_active=True).order_by("username")
        teams = Team.objects.order_by("name")
        if not viewer.is_admin:
            users = users.filter(pk__in=viewer.user_ids)
            teams = teams.filter(pk=viewer.team_id)
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]

    def clean_period_start(self) -> datetime.date:
        return self.cleaned_data["period_start"]
