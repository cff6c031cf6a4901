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


DEFAULT_FREE_MAIL_DOMAINS = (
    "gmail.com googlemail.com yahoo.co.jp yahoo.com ymail.com outlook.com outlook.jp "
    "hotmail.com hotmail.co.jp live.jp icloud.com me.com aol.com docomo.ne.jp ezweb.ne.jp "
    "au.com softbank.ne.jp i.softbank.jp naver.com daum.net hanmail.net nate.com kakao.com"
)


class MailSettings(models.Model):
    """How incoming mail is handled (one row, edited by admins)."""

    class FreeMail(models.TextChoices):
        LEAD = "lead", _("Create a lead")
        IGNORE = "ignore", _("Do not create a lead")

    create_leads = models.BooleanField(
        _("unknown senders become leads"),
        default=True,
        help_text=_("A mail from an address no contact, lead or company has creates a lead."),
    )
    free_mail = models.CharField(
        _("unknown senders at free-mail addresses"),
        max_length=10,
        choices=FreeMail.choices,
        default=FreeMail.LEAD,
    )
    free_mail_domains = models.TextField(
        _("free-mail domains"),
        default=DEFAULT_FREE_MAIL_DOMAINS,
        blank=True,
        help_text=_("Never matched to a company by domain. Separate with spaces or new lines."),
    )
    blocked_senders = models.TextField(
        _("blocked senders"),
        blank=True,
        help_text=_("Addresses or @domains whose mail is rejected as spam."),
    )
    lead_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner of new leads"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("incoming mail settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @staticmethod
    def _words(text: str) -> set[str]:
        return {w.strip().lower() for w in text.replace(",", " ").split() if w.strip()}

    def is_free_mail(self, domain: str) -> bool:
        return domain.lower() in self._words(self.free_mail_domains)

    def is_blocked(self, address: str) -> bool:
        blocked = self._words(self.blocked_senders)
        address = address.lower()
        return address in blocked or "@" + address.rpartition("@")[2] in blocked


class IncomingMail(models.Model):
    """One mail that arrived, and what Kizuna did with it."""

    class Source(models.TextChoices):
        IMAP = "imap", _("IMAP mailbox")
        FORWARD = "forward", _("Forwarding address")

    class Outcome(models.TextChoices):
        ATTACHED = "attached", _("Attached to a record")
        LEAD = "lead", _("New lead")
        DUPLICATE = "duplicate", _("Already received")
        REJECTED = "rejected", _("Rejected")

    class Reason(models.TextChoices):
        UNREADABLE = "unreadable", _("Unreadable message")
        NO_SENDER = "no_sender", _("No sender address")
        SPAM = "spam", _("Marked as spam")
        BLOCKED = "blocked", _("Blocked sender")
        OWN = "own", _("Sent by Kizuna itself")
        UNKNOWN_SENDER = "unknown", _("Unknown sender")
        FREE_MAIL = "free_mail", _("Unknown sender at a free-mail address")
        INVALID = "invalid", _("Could not be saved")

    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    from_address = models.CharField(_("from"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices, blank=True)
    detail = models.CharField(_("details"), max_length=300, blank=True)
    # Decoding problems that were repaired (a mislabeled charset, …).
    warnings = models.CharField(_("warnings"), max_length=300, blank=True)
    activity = models.ForeignKey(
        "activities.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept for rejected mail, so nothing that arrived is lost.
    raw = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mails")

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class DigestPreference(models.Model):
    """What a user's daily digest holds, and whether they get one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference"
    )
    enabled = models.BooleanField(_("send me a daily digest at 09:00"), default=True)
    follow_ups = models.BooleanField(_("this week's follow-ups"), default=True)
    overdue_tasks = models.BooleanField(_("overdue tasks"), default=True)
    stalled_deals = models.BooleanField(_("stalled deals"), default=True)
    breached_slas = models.BooleanField(_("breached SLAs"), default=True)
    notifications = models.BooleanField(_("new notifications"), default=True)
    # The user's local date of the last digest: one per day, whatever reruns.
    last_sent_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("digest preference")

    def __str__(self) -> str:
        return f"{self.user}"
