from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import TimeStampedModel


class Target(TimeStampedModel):
    """A goal for one person, one team or the whole company (neither set) in one
    fiscal period: a month, quarter or fiscal year."""

    class Metric(models.TextChoices):
        WON_AMOUNT = "won_amount", _("Won amount")
        DEALS_WON = "deals_won", _("Deals won")
        CALLS = "calls", _("Calls")
        VISITS = "visits", _("Visits and meetings")
        FIRST_CONTACTS = "first_contacts", _("First contacts")
        PROPOSALS = "proposals", _("Proposals")

    class PeriodKind(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Fiscal year")

    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        "iam.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    value = models.DecimalField(_("target"), max_digits=16, decimal_places=0)
    currency = models.CharField(_("currency"), max_length=3, default="JPY")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-period_start", "metric", "id"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) | models.Q(team__isnull=True),
                name="target_user_or_team",
            ),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="target_not_negative"),
        ]
        indexes = [models.Index(fields=["metric", "period_start"], name="target_lookup")]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.period_start:%Y-%m}: {self.value}"

    @property
    def is_money(self) -> bool:
        return self.metric == self.Metric.WON_AMOUNT


ZERO = Decimal(0)


from kizuna.analytics.models_reports import ReportSchedule, SavedReport  # noqa: E402, F401
from kizuna.analytics.models_summary import (  # noqa: E402, F401
    ActivityDaily,
    CustomerMonthly,
    DealMonthly,
    LeadMonthly,
    StageReachMonthly,
)
