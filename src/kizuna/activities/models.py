from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import CustomFieldsModel, OwnedModel, SearchableModel


class Activity(OwnedModel, CustomFieldsModel, SearchableModel):
    """One thing that happened with a customer, on the unified timeline.

    ``company`` is set whenever the activity concerns a company or someone
    working at one, so that a company's timeline is one indexed query over
    the company and its divisions and sites.
    """

    access_object_type = "activity"

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("E-mail")
        NOTE = "note", _("Note")
        TASK = "task", _("Task")
        STAGE = "stage", _("Stage change")

    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    # OwnedModel's owner, without its own index: activity_owner_time leads with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    company = models.ForeignKey(
        "customers.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_company_time leads with it
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_contact_time leads with it
    )
    lead = models.ForeignKey(
        "customers.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_lead_time leads with it
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_deal_time leads with it
    )
    participants = models.ManyToManyField(
        "customers.Contact", verbose_name=_("participants"), blank=True, related_name="+"
    )
    participant_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("colleagues present"),
        blank=True,
        related_name="+",
    )
    # Tasks: who does it, by when, and whether it is done.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_activities",
        db_index=False,  # activity_todo leads with it
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["company", "-occurred_at", "-id"], name="activity_company_time"),
            models.Index(fields=["contact", "-occurred_at", "-id"], name="activity_contact_time"),
            models.Index(fields=["lead", "-occurred_at", "-id"], name="activity_lead_time"),
            models.Index(fields=["deal", "-occurred_at", "-id"], name="activity_deal_time"),
            models.Index(fields=["assignee", "done_at", "due_date"], name="activity_todo"),
            models.Index(fields=["owner", "-occurred_at"], name="activity_owner_time"),
            # The dashboards count activities of a week by kind and owner.
            models.Index(
                fields=["occurred_at", "kind", "owner", "team"], name="activity_time_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return (
            self.kind == self.Kind.TASK
            and self.done_at is None
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )

    def search_values(self) -> list[str | None]:
        return [self.subject, self.body[:500]]


class Mention(models.Model):
    """A user named with @ in an activity's text (a note, a comment)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="mention_once")]

    def __str__(self) -> str:
        return f"@{self.user}"
