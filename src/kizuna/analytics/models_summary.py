"""Summary tables behind the slow dashboard tiles (see ``analytics.summary``).

Each row counts the records of one key. Keys hold plain ids, no foreign keys:
``0`` stands for "none" (no team, no loss reason) and ``-1`` for "no open
stage reached", so that a unique constraint covers every key on both
databases (NULLs would be distinct). Months and days are dates in
``settings.TIME_ZONE``.
"""

from django.db import models


class DealMonthly(models.Model):
    """Closed deals per month of closing."""

    month = models.DateField()
    owner_id = models.IntegerField()
    team_id = models.IntegerField()
    status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    loss_reason_id = models.IntegerField()
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Won deals with a first stage entry, and Σ (closed_at − first entry).
    lead_n = models.BigIntegerField(default=0)
    lead_us = models.BigIntegerField(default=0)

    KEY = ("month", "owner_id", "team_id", "status", "currency", "loss_reason_id")
    VALUES = ("count", "amount", "lead_n", "lead_us")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "owner_id", "team_id", "status", "currency", "loss_reason_id"],
                name="dealmonthly_key",
            )
        ]


class StageReachMonthly(models.Model):
    """Closed deals per month of closing and furthest open stage position."""

    month = models.DateField()
    owner_id = models.IntegerField()
    team_id = models.IntegerField()
    pipeline_id = models.IntegerField()
    status = models.CharField(max_length=10)
    top = models.IntegerField()
    count = models.BigIntegerField(default=0)

    KEY = ("month", "owner_id", "team_id", "pipeline_id", "status", "top")
    VALUES = ("count",)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "owner_id", "team_id", "pipeline_id", "status", "top"],
                name="stagereachmonthly_key",
            )
        ]


class CustomerMonthly(models.Model):
    """Won deals per company per month of closing: which companies were
    customers when (retention, the cohort table)."""

    month = models.DateField()
    company_id = models.IntegerField()
    owner_id = models.IntegerField()
    team_id = models.IntegerField()
    count = models.BigIntegerField(default=0)

    KEY = ("month", "company_id", "owner_id", "team_id")
    VALUES = ("count",)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "company_id", "owner_id", "team_id"],
                name="customermonthly_key",
            )
        ]


class LeadMonthly(models.Model):
    """Leads per month of creation and channel; qualified = qualified or
    converted; won = leads that are the source of a won deal."""

    month = models.DateField()
    owner_id = models.IntegerField()
    team_id = models.IntegerField()
    qualified = models.BooleanField()
    channel = models.CharField(max_length=20, default="")
    count = models.BigIntegerField(default=0)
    won = models.BigIntegerField(default=0)

    KEY = ("month", "owner_id", "team_id", "qualified", "channel")
    VALUES = ("count", "won")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "owner_id", "team_id", "qualified", "channel"],
                name="leadmonthly_key",
            )
        ]


class ActivityDaily(models.Model):
    """Logged activities (not stage changes) per day they occurred."""

    day = models.DateField()
    owner_id = models.IntegerField()
    team_id = models.IntegerField()
    kind = models.CharField(max_length=20)
    count = models.BigIntegerField(default=0)

    KEY = ("day", "owner_id", "team_id", "kind")
    VALUES = ("count",)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "owner_id", "team_id", "kind"], name="activitydaily_key"
            )
        ]
