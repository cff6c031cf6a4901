import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One background job as huey reported it: queued, running, done or failed."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        RETRYING = "retrying", _("waiting to retry")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    task_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("task"), max_length=200)
    arguments = models.TextField(_("arguments"), blank=True)
    # The serialised huey message, so that an admin can run a failed job again.
    payload = models.BinaryField(null=True, editable=False)
    periodic = models.BooleanField(_("periodic"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    retries_left = models.PositiveIntegerField(_("retries left"), default=0)
    error = models.TextField(_("error"), blank=True)
    traceback = models.TextField(blank=True)
    enqueued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="automation_jobrun_status")]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.name} ({self.task_id})"


class Notification(models.Model):
    """A message in a user's notification centre.

    The text is rendered in the recipient's language when the notification is
    created, so the centre shows it as it was said.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=50)
    text = models.CharField(_("text"), max_length=500)
    url = models.CharField(_("link"), max_length=500, blank=True)
    object_type = models.CharField(_("object type"), max_length=30, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    # Makes notify() idempotent: one notification per recipient and key.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="automation_notification_dedupe"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"],
                name="automation_notification_inbox",
            )
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.text

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


def _default_workdays() -> list[int]:
    return [1, 2, 3, 4, 5]


class BusinessCalendar(models.Model):
    """The organisation's working hours and public-holiday country (one row)."""

    class Country(models.TextChoices):
        JP = "JP", _("Japan")
        KR = "KR", _("Korea")

    country = models.CharField(
        _("public holidays of"), max_length=2, choices=Country.choices, default=Country.JP
    )
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Tokyo")
    work_start = models.TimeField(_("work starts"), default=datetime.time(9, 0))
    work_end = models.TimeField(_("work ends"), default=datetime.time(18, 0))
    # ISO weekdays: 1 = Monday ... 7 = Sunday.
    workdays = models.JSONField(_("working days"), default=_default_workdays)
    lead_sla_hours = models.PositiveSmallIntegerField(
        _("first contact with a lead within (business hours)"), default=48
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return str(_("Business calendar"))


class CompanyDayOff(models.Model):
    """A day the company does not work although it is no public holiday."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("company day off")
        verbose_name_plural = _("company days off")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class CalendarFeed(models.Model):
    """A user's secret ICS feed address; regenerating it revokes the old one.

    The token is kept as it is (not hashed) because the preferences page
    shows the address again, as calendar services do.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} ({self.token[:6]}…)"


class WebhookEvent(models.TextChoices):
    """Events other systems can subscribe to; apps emit them with emit_event()."""

    COMPANY_CREATED = "company.created", _("company created")
    CONTACT_CREATED = "contact.created", _("contact created")
    LEAD_CREATED = "lead.created", _("lead created")
    DEAL_CREATED = "deal.created", _("deal created")
    DEAL_STAGE_CHANGED = "deal.stage_changed", _("deal moved to another stage")
    DEAL_WON = "deal.won", _("deal won")
    DEAL_LOST = "deal.lost", _("deal lost")


class WebhookSubscription(models.Model):
    """An endpoint that receives signed JSON for the events it subscribes to."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("endpoint URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    # Shared with the receiver, which checks the HMAC-SHA256 signature.
    secret = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one subscription, with its outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RETRYING = "retrying", _("waiting to retry")
        SUCCEEDED = "succeeded", _("delivered")
        FAILED = "failed", _("failed")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=50)
    event_id = models.UUIDField(_("event ID"))
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_body = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="automation_webhook_delivery_once"
            )
        ]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="automation_webhook_log")
        ]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription}"


class Rule(models.Model):
    """An automation rule: when a trigger fires and the conditions hold, act.

    Conditions and actions are small JSON lists, validated by
    ``automation.rules.clean_rule`` whenever a rule is saved::

        conditions: [{"field": "prefecture", "op": "eq", "value": "大阪府"}]
        actions:    [{"type": "create_task", "subject": "...", "assignee": "owner",
                      "due_days": 2}]
    """

    class ObjectType(models.TextChoices):
        LEAD = "lead", _("Lead")
        CONTACT = "contact", _("Contact")
        COMPANY = "company", _("Company")
        DEAL = "deal", _("Deal")
        ACTIVITY = "activity", _("Activity")

    class Trigger(models.TextChoices):
        CREATED = "created", _("record created")
        UPDATED = "updated", _("record updated")
        FIELD_CHANGED = "field_changed", _("a field changed")
        STAGE_ENTERED = "stage_entered", _("deal entered a stage")
        DATE_RELATIVE = "date_relative", _("business days before or after a date")
        NO_ACTIVITY = "no_activity", _("hours after creation with no activity")

    class Match(models.TextChoices):
        ALL = "all", _("all conditions")
        ANY = "any", _("any condition")

    name = models.CharField(_("name"), max_length=100)
    object_type = models.CharField(_("record type"), max_length=20, choices=ObjectType.choices)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    # field_changed / date_relative: the field; field_changed: optional new value.
    trigger_field = models.CharField(_("trigger field"), max_length=80, blank=True)
    trigger_value = models.CharField(_("changed to"), max_length=200, blank=True)
    stage = models.ForeignKey(
        "sales.Stage",
        verbose_name=_("stage"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # date_relative: business days (negative = before the date).
    offset_days = models.IntegerField(_("business days"), default=0)
    # no_activity: hours after creation.
    hours = models.PositiveIntegerField(_("hours"), default=0)
    match = models.CharField(_("match"), max_length=3, choices=Match.choices, default=Match.ALL)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    # Actions write as this administrator (the audit log names them).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["object_type", "is_active"], name="automation_rule_active")]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """One evaluation of a rule for one record and one event (the run log).

    The unique key makes a run idempotent: a job that runs twice for the
    same event finds its run and does not act again.
    """

    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        SKIPPED = "skipped", _("conditions not met")
        REFUSED = "refused", _("refused (loop guard)")
        FAILED = "failed", _("failed")
        DISABLED = "disabled", _("rule disabled")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    object_type = models.CharField(_("record type"), max_length=20)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    event_key = models.CharField(_("event"), max_length=100)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    detail = models.JSONField(_("what was done"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "object_type", "object_id", "event_key"],
                name="automation_rulerun_once",
            )
        ]
        indexes = [models.Index(fields=["rule", "-created_at"], name="automation_rulerun_log")]
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.object_type}:{self.object_id}:{self.event_key}"


class AssignmentRule(models.Model):
    """Territory: records matching these criteria go to the team, round-robin.

    An empty criterion matches anything; rules are tried by position.
    """

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    prefectures = models.JSONField(_("prefectures / provinces"), default=list, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    sizes = models.JSONField(_("company sizes"), default=list, blank=True)
    team = models.ForeignKey(
        "iam.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return self.name


class RoundRobinPointer(models.Model):
    """The last member of a team who got a record by round-robin."""

    team = models.OneToOneField("iam.Team", on_delete=models.CASCADE, related_name="+")
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
