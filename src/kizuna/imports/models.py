from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import ObjectType


class MappingPreset(models.Model):
    """A saved column mapping: header -> import field, for one object type."""

    name = models.CharField(_("name"), max_length=100)
    entity = models.CharField(_("object type"), max_length=20, choices=ObjectType.choices)
    # {"会社名": "company", "姓": "family_name", ...}
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "name"]
        verbose_name = _("mapping preset")
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="mappingpreset_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One uploaded file, its mapping, its preview and what its run wrote."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for the mapping")
        ANALYSING = "analysing", _("Preparing the preview")
        PREVIEW = "preview", _("Preview ready")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        UNDONE = "undone", _("Undone")

    entity = models.CharField(_("object type"), max_length=20, choices=ObjectType.choices)
    file_name = models.CharField(_("file"), max_length=255)
    file_path = models.CharField(max_length=500)
    file_size = models.BigIntegerField(default=0)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    headers = models.JSONField(default=list)
    # One field key per column, "" for a column that is not imported.
    mapping = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADED)
    # {"create": 412, "update": 57, "review": 23, "error": 3, ...}
    counts = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importbatch_user")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status in (self.Status.DONE, self.Status.PREVIEW) else 0
        return min(100, round(100 * self.processed / self.total))

    @property
    def is_working(self) -> bool:
        return self.status in (self.Status.ANALYSING, self.Status.RUNNING)


class ImportRow(models.Model):
    """One row of the file: what the preview decided and what the run did."""

    class Outcome(models.TextChoices):
        CREATE = "create", _("New")
        UPDATE = "update", _("Update")
        MERGE = "merge", _("Merge into existing")
        REVIEW = "review", _("Probable duplicate, to review")
        SKIP = "skip", _("Skip")
        ERROR = "error", _("Error")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    # The existing record it updates or merges into, or the one it resembles.
    target_id = models.BigIntegerField(null=True, blank=True)
    # Clean values per import field, ready to write.
    values = models.JSONField(default=dict)
    # The cells as read, for the error report.
    cells = models.JSONField(default=list)
    message = models.TextField(blank=True)
    changed_fields = models.JSONField(default=list)
    score = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="importrow_unique_number")
        ]
        indexes = [models.Index(fields=["batch", "outcome", "number"], name="importrow_outcome")]


class ImportChunk(models.Model):
    """What one write transaction of a run did, so that it can be undone.

    ``created`` lists the ids per model label (``customers.contact``) in the
    order they were written; ``before`` holds every updated record's values
    before the import (model label -> id -> field -> value) and ``after`` its
    version after it, to notice later changes.
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    created = models.JSONField(default=dict)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "seq"], name="importchunk_unique_seq")
        ]
