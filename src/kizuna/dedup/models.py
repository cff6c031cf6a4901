"""The review queue of probable duplicates and the merges made from it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Entity(models.TextChoices):
    COMPANY = "company", _("Company")
    CONTACT = "contact", _("Contact")
    LEAD = "lead", _("Lead")


class DuplicateCandidate(models.Model):
    """A pair of records that may be one; ``a_id`` < ``b_id``."""

    class Source(models.TextChoices):
        IMPORT = "import", _("Import")
        SCAN = "scan", _("Duplicate scan")
        MANUAL = "manual", _("Entered by hand")
        WEB_FORM = "web_form", _("Web form")
        API = "api", _("API")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not a duplicate")

    entity = models.CharField(_("object type"), max_length=10, choices=Entity.choices)
    a_id = models.BigIntegerField()
    b_id = models.BigIntegerField()
    score = models.FloatField(_("score"))
    band = models.CharField(_("band"), max_length=10)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    # No foreign key: import batches belong to the imports app.
    import_batch_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        constraints = [
            models.UniqueConstraint(fields=["entity", "a_id", "b_id"], name="dedup_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(a_id__lt=models.F("b_id")), name="dedup_pair_order"
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "status", "-score"], name="dedup_queue"),
            models.Index(fields=["entity", "b_id"], name="dedup_pair_b"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.a_id}–{self.b_id} ({self.score:.3f})"


class Merge(models.Model):
    """One merge of records into a survivor, with everything needed to undo it.

    ``snapshot`` holds every loser as it was (all its columns, e-mails,
    phones, tags), the survivor's values before the merge and every related
    row that was pointed from a loser to the survivor.
    """

    entity = models.CharField(_("object type"), max_length=10, choices=Entity.choices)
    survivor_id = models.BigIntegerField(db_index=True)
    merged_ids = models.JSONField(default=list)
    choices = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True, db_index=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    import_batch_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self) -> str:
        return f"{self.entity} {self.merged_ids} → {self.survivor_id}"


class ScanRun(models.Model):
    """One full-database scan and how far it got (the progress bar reads it)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    entity = models.CharField(_("object type"), max_length=10, choices=Entity.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    pairs_found = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("duplicate scan")
        verbose_name_plural = _("duplicate scans")

    def __str__(self) -> str:
        return f"{self.entity} scan {self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0
