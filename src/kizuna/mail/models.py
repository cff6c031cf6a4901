from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import TimeStampedModel

LANGUAGES = ("ja", "ko", "en")


class EmailTemplate(TimeStampedModel):
    """A reusable e-mail with merge fields, in up to three languages.

    The variants live in one row so that a rule or a user picks "the
    welcome mail" once and each recipient gets it in their language.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    subject_ja = models.CharField(_("subject (Japanese)"), max_length=200, blank=True)
    body_ja = models.TextField(_("body (Japanese)"), blank=True)
    subject_ko = models.CharField(_("subject (Korean)"), max_length=200, blank=True)
    body_ko = models.TextField(_("body (Korean)"), blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")

    def __str__(self) -> str:
        return self.name

    @property
    def languages(self) -> list[str]:
        return [lang for lang in LANGUAGES if getattr(self, f"subject_{lang}")]

    def variant(self, language: str) -> tuple[str, str, str]:
        """(language, subject, body) in ``language``, or the first one written."""
        chosen = language if language in self.languages else (self.languages or ["ja"])[0]
        return chosen, getattr(self, f"subject_{chosen}"), getattr(self, f"body_{chosen}")


class EmailMessage(TimeStampedModel):
    """The mail side of an e-mail activity: addresses, ids, delivery state.

    The activity holds the exact subject and body sent or received; this row
    holds what the timeline does not (Message-ID, thread, SMTP outcome).
    """

    class Direction(models.TextChoices):
        OUT = "out", _("Sent")
        IN = "in", _("Received")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Sending")
        RETRYING = "retrying", _("Waiting to retry")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not sent")
        RECEIVED = "received", _("Received")

    activity = models.OneToOneField(
        "activities.Activity", on_delete=models.CASCADE, related_name="email_message"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    # The Message-ID of the first message of the conversation.
    thread_id = models.CharField(max_length=255, db_index=True)
    from_address = models.CharField(_("from"), max_length=255)
    to_addresses = models.TextField(_("to"))
    cc_addresses = models.TextField(_("cc"), blank=True)
    language = models.CharField(max_length=2, blank=True)
    template = models.ForeignKey(
        EmailTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(_("error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail message")
        verbose_name_plural = _("e-mail messages")

    def __str__(self) -> str:
        return self.message_id
