"""Saved reports, their weekly e-mail schedules."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kizuna.core.models import TimeStampedModel


class SavedReport(TimeStampedModel):
    """A report spec (see ``analytics.reports``) saved by its owner.

    Private reports are seen by their owner and the owner's managers; a report
    shared with the team is seen by the team too. Only the owner (or an
    administrator) changes it. Whoever runs it sees only the records they may
    see: sharing a report never shares its numbers.
    """

    class Chart(models.TextChoices):
        TABLE = "table", _("Table")
        BAR = "bar", _("Bars")
        STACKED_BAR = "stacked_bar", _("Stacked bars")
        LINE = "line", pgettext_lazy("chart", "Lines")
        FUNNEL = "funnel", _("Funnel")

    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        "iam.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    shared = models.BooleanField(_("shared with the team"), default=False)
    pinned = models.BooleanField(_("on the dashboard"), default=False)
    object_type = models.CharField(_("object type"), max_length=30)
    spec = models.JSONField(_("definition"), default=dict)
    chart = models.CharField(_("chart"), max_length=20, choices=Chart.choices, default="table")
    # The labels of the fields the spec names, as saved: a deleted field is
    # still named in the report's error state.
    field_labels = models.JSONField(default=dict, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["owner"], name="report_owner"),
            models.Index(fields=["team", "shared"], name="report_team"),
        ]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return self.name


class ReportSchedule(TimeStampedModel):
    """Send a report by e-mail every week, as each recipient sees it."""

    class Recipients(models.TextChoices):
        OWNER = "owner", _("Only me")
        TEAM = "team", _("My team")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    report = models.OneToOneField(SavedReport, on_delete=models.CASCADE, related_name="schedule")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    hour = models.PositiveSmallIntegerField(_("hour"), default=8)
    recipients = models.CharField(
        _("recipients"), max_length=10, choices=Recipients.choices, default=Recipients.OWNER
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The ISO week ("2026-W15") last sent: a second run in the week sends nothing.
    last_sent_week = models.CharField(max_length=10, blank=True, editable=False)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        constraints = [
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="report_schedule_hour")
        ]

    def __str__(self) -> str:
        return f"{self.report}: {self.get_weekday_display()} {self.hour}:00"
