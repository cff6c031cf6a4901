"""Writes of the mail app: templates, sending, resending."""

import logging
from email.utils import formataddr, getaddresses, make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core import mail as django_mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.activities.models import Activity
from kizuna.core import access, audit, records
from kizuna.core.models import AuditEntry
from kizuna.mail import rendering
from kizuna.mail.models import LANGUAGES, EmailMessage, EmailTemplate

logger = logging.getLogger(__name__)

TEMPLATE_ADMIN_ONLY = gettext_lazy("Only administrators may change e-mail templates.")
TEMPLATE_FIELDS = [
    "name",
    "description",
    *[f"{part}_{lang}" for lang in LANGUAGES for part in ("subject", "body")],
    "is_active",
]
# One first attempt and this many retries (1, 2, 4, 8 minutes apart).
SEND_RETRIES = 4


# -- templates ---------------------------------------------------------------


def _template_errors(template: EmailTemplate) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not template.languages:
        errors["subject_ja"] = [_("Write the subject in at least one language.")]
    for lang in LANGUAGES:
        subject = getattr(template, f"subject_{lang}")
        body = getattr(template, f"body_{lang}")
        errors |= rendering.check(subject, f"subject_{lang}")
        errors |= rendering.check(body, f"body_{lang}")
        if body.strip() and not subject.strip():
            errors.setdefault(f"subject_{lang}", []).append(_("Write a subject for this body."))
        if subject.strip() and not body.strip():
            errors.setdefault(f"body_{lang}", []).append(_("Write a body for this subject."))
    return errors


@transaction.atomic
def template_create(*, actor, **fields: Any) -> EmailTemplate:
    access.require_admin(actor, TEMPLATE_ADMIN_ONLY)
    template = EmailTemplate(created_by=actor)
    records.assign_fields(template, fields, TEMPLATE_FIELDS)
    errors = _template_errors(template)
    if EmailTemplate.objects.filter(name=template.name).exists():
        errors["name"] = [_("A template with this name exists.")]
    records.validate(template, errors)
    template.save()
    after = audit.snapshot(template, TEMPLATE_FIELDS)
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=template,
        changes={k: [None, v] for k, v in after.items() if v not in ("", None)},
    )
    return template


@transaction.atomic
def template_update(*, actor, template: EmailTemplate, **fields: Any) -> EmailTemplate:
    access.require_admin(actor, TEMPLATE_ADMIN_ONLY)
    template = records.lock(EmailTemplate, template.pk)
    before = audit.snapshot(template, TEMPLATE_FIELDS)
    records.assign_fields(template, fields, TEMPLATE_FIELDS)
    errors = _template_errors(template)
    if EmailTemplate.objects.filter(name=template.name).exclude(pk=template.pk).exists():
        errors["name"] = [_("A template with this name exists.")]
    records.validate(template, errors)
    template.save()
    changes = audit.diff(before, audit.snapshot(template, TEMPLATE_FIELDS))
    if changes:
        audit.record(actor=actor, action=AuditEntry.Action.UPDATE, obj=template, changes=changes)
    return template


@transaction.atomic
def template_delete(*, actor, template: EmailTemplate) -> None:
    access.require_admin(actor, TEMPLATE_ADMIN_ONLY)
    before = audit.snapshot(template, TEMPLATE_FIELDS)
    audit.record(
        actor=actor,
        action=AuditEntry.Action.DELETE,
        obj=template,
        changes={k: [v, None] for k, v in before.items() if v not in ("", None)},
    )
    template.delete()


# -- sending -----------------------------------------------------------------


def default_recipients(record) -> list[str]:
    """The addresses a mail from this record goes to when none are given."""
    kind = getattr(record, "access_object_type", "")
    if kind == "contact":
        return [e.email for e in record.emails.all()[:1]]
    if kind == "lead":
        return [record.email] if record.email else []
    if kind == "deal":
        from kizuna.customers.models import ContactEmail

        contact_ids = list(record.deal_contacts.values_list("contact_id", flat=True))
        first = ContactEmail.objects.filter(contact_id__in=contact_ids).order_by(
            "contact_id", "position", "id"
        )
        return [first[0].email] if first else []
    return []


def _clean_addresses(value: str | list[str] | None, field: str) -> list[str]:
    if value is None:
        return []
    raw = [value] if isinstance(value, str) else list(value)
    addresses = []
    for name, address in getaddresses([r for r in raw if r and r.strip()]):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {field: [_("“%(value)s” is not an e-mail address.") % {"value": address or name}]}
            ) from None
        addresses.append(formataddr((name, address)) if name else address)
    return addresses


def _domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "kizuna.invalid"


def sender_address(actor) -> str:
    """The From header: the user's name at the organisation's address."""
    return formataddr((str(actor), parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


def email_send(
    *,
    actor,
    record,
    to: str | list[str] | None = None,
    cc: str | list[str] | None = None,
    subject: str,
    body: str,
    template: EmailTemplate | None = None,
    language: str = "",
    in_reply_to: EmailMessage | None = None,
) -> Activity:
    """Log an e-mail on the record's timeline and send it after commit.

    The activity and its ``EmailMessage`` are written first, so the mail is
    never lost: if SMTP refuses it, it stays on the timeline as not sent and
    can be sent again.
    """
    from kizuna.activities.services import activity_create

    kind = getattr(record, "access_object_type", "")
    if kind not in ("contact", "lead", "deal", "company"):
        raise ValidationError(_("E-mail is sent from a contact, lead, deal or company."))
    if not access.can_view(actor, record):
        raise PermissionDenied(_("You may not see this record."))
    errors: dict[str, list[str]] = {}
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = [_("Write a subject.")]
    if not (body or "").strip():
        errors["body"] = [_("Write a message.")]
    recipients: list[str] = []
    cc_list: list[str] = []
    try:
        recipients = _clean_addresses(to, "to") if to else default_recipients(record)
        cc_list = _clean_addresses(cc, "cc")
    except ValidationError as exc:
        errors |= exc.message_dict
    if not recipients and "to" not in errors:
        errors["to"] = [_("Give the address to send to.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        activity = activity_create(
            actor=actor,
            kind=Activity.Kind.EMAIL,
            subject=subject[:200],
            body=body,
            **{kind: record},
        )
        message_id = make_msgid(domain=_domain())
        thread_id = message_id
        references = ""
        if in_reply_to is not None:
            thread_id = in_reply_to.thread_id
            references = f"{in_reply_to.references} {in_reply_to.message_id}".strip()
        message = EmailMessage.objects.create(
            activity=activity,
            direction=EmailMessage.Direction.OUT,
            status=EmailMessage.Status.QUEUED,
            message_id=message_id,
            in_reply_to=in_reply_to.message_id if in_reply_to else "",
            references=references,
            thread_id=thread_id,
            from_address=sender_address(actor),
            to_addresses=", ".join(recipients),
            cc_addresses=", ".join(cc_list),
            language=language,
            template=template,
        )
        audit.record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=message,
            object_type="email",
            changes={"to": [None, message.to_addresses], "subject": [None, subject]},
        )
        _queue(message.pk)
    return activity


def _queue(message_pk: int) -> None:
    from kizuna.automation.jobs import enqueue_on_commit
    from kizuna.mail.tasks import send_email

    enqueue_on_commit(send_email, message_pk)


def template_render(
    *, actor, template: EmailTemplate, record, to: str = "", language: str = ""
) -> tuple[str, str, str]:
    """(language, subject, body) of ``template`` for ``record``, merged."""
    language = language or rendering.recipient_language(record, default=settings.LANGUAGE_CODE[:2])
    language, subject, body = template.variant(language)
    ctx = rendering.context_for(record, user=actor, email=parseaddr(to)[1] if to else "")
    if not ctx.email:
        defaults = default_recipients(record)
        ctx.email = parseaddr(defaults[0])[1] if defaults else ""
    return language, rendering.render(subject, ctx), rendering.render(body, ctx)


def template_send(
    *, actor, template: EmailTemplate, record, to=None, language: str = ""
) -> Activity:
    """Send ``template`` to the record's customer, in their language.

    ``to`` defaults to the record's first address (a contact's first e-mail,
    a lead's e-mail, a deal's first contact). Returns the e-mail activity;
    the mail itself leaves after the transaction commits.
    """
    if not template.is_active:
        raise ValidationError({"template": [_("This template is switched off.")]})
    first = to if isinstance(to, str) else (to[0] if to else "")
    language, subject, body = template_render(
        actor=actor, template=template, record=record, to=first or "", language=language
    )
    return email_send(
        actor=actor,
        record=record,
        to=to,
        subject=subject,
        body=body,
        template=template,
        language=language,
    )


def build_message(message: EmailMessage) -> django_mail.EmailMessage:
    activity = message.activity
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    return django_mail.EmailMessage(
        subject=activity.subject,
        body=activity.body,
        from_email=message.from_address,
        to=[a.strip() for a in message.to_addresses.split(",") if a.strip()],
        cc=[a.strip() for a in message.cc_addresses.split(",") if a.strip()],
        headers=headers,
    )


def deliver(*, message_pk: int, retries_left: int, connection=None) -> bool:
    """Hand one queued mail to the e-mail backend; True when done with it.

    False means "failed, try again later". A mail already sent is not sent
    again (a retried job does no harm).
    """
    with transaction.atomic():
        message = (
            EmailMessage.objects.select_for_update()
            .select_related("activity", "activity__owner")
            .filter(pk=message_pk)
            .first()
        )
        if message is None or message.status in (
            EmailMessage.Status.SENT,
            EmailMessage.Status.RECEIVED,
        ):
            return True
        EmailMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
    try:
        email = build_message(message)
        if connection is not None:
            email.connection = connection
        email.send(fail_silently=False)
    except Exception as exc:  # SMTP refusals, timeouts, DNS, TLS …
        error = f"{type(exc).__name__}: {exc}"[:2000]
        final = retries_left <= 0
        EmailMessage.objects.filter(pk=message.pk).update(
            status=EmailMessage.Status.FAILED if final else EmailMessage.Status.RETRYING,
            last_error=error,
        )
        if final:
            _tell_sender(message, error)
        return final
    EmailMessage.objects.filter(pk=message.pk).update(
        status=EmailMessage.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _tell_sender(message: EmailMessage, error: str) -> None:
    from django.urls import reverse

    from kizuna.automation.services import notify

    activity = message.activity
    notify(
        recipients=[activity.owner],
        kind="mail.failed",
        text=gettext_lazy("Your e-mail “%(subject)s” could not be sent: %(error)s"),
        params={"subject": activity.subject, "error": error[:200]},
        url=reverse("activities:activity_detail", args=[activity.pk]),
        obj=activity,
        dedupe_key=f"mail.failed:{message.pk}:{message.attempts}",
    )


@transaction.atomic
def email_resend(*, actor, message: EmailMessage) -> EmailMessage:
    """Queue a mail that could not be sent once more."""
    message = EmailMessage.objects.select_for_update().select_related("activity").get(pk=message.pk)
    if not access.can_edit(actor, message.activity):
        raise PermissionDenied(_("You may not change this record."))
    if message.status != EmailMessage.Status.FAILED:
        raise ValidationError(_("Only an e-mail that was not sent can be sent again."))
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailMessage.Status.QUEUED)
    audit.record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        obj=message,
        object_type="email",
        changes={"status": [message.status, EmailMessage.Status.QUEUED]},
    )
    _queue(message.pk)
    message.refresh_from_db()
    return message


# -- digest ------------------------------------------------------------------

DIGEST_FIELDS = [
    "enabled",
    "follow_ups",
    "overdue_tasks",
    "stalled_deals",
    "breached_slas",
    "notifications",
]


@transaction.atomic
def digest_preference_update(*, actor, **fields: Any):
    """A user chooses what their own daily digest holds."""
    from kizuna.mail.models import DigestPreference

    pref, _created = DigestPreference.objects.select_for_update().get_or_create(user=actor)
    before = audit.snapshot(pref, DIGEST_FIELDS)
    records.assign_fields(pref, fields, DIGEST_FIELDS)
    pref.save()
    changes = audit.diff(before, audit.snapshot(pref, DIGEST_FIELDS))
    if changes:
        audit.record(actor=actor, action=AuditEntry.Action.UPDATE, obj=pref, changes=changes)
    return pref


MAIL_SETTINGS_FIELDS = [
    "create_leads",
    "free_mail",
    "free_mail_domains",
    "blocked_senders",
    "lead_owner",
]


@transaction.atomic
def mail_settings_update(*, actor, **fields: Any):
    """Admins choose how incoming mail from unknown senders is handled."""
    from kizuna.mail.incoming import mail_settings

    access.require_admin(actor, gettext_lazy("Only administrators may change mail settings."))
    conf = mail_settings()
    conf = type(conf).objects.select_for_update().get(pk=conf.pk)
    before = audit.snapshot(conf, MAIL_SETTINGS_FIELDS)
    records.assign_fields(conf, fields, MAIL_SETTINGS_FIELDS)
    errors: dict[str, list[str]] = {}
    if conf.lead_owner is not None and not conf.lead_owner.is_active:
        errors["lead_owner"] = [_("Choose an active user.")]
    records.validate(conf, errors)
    conf.save()
    changes = audit.diff(before, audit.snapshot(conf, MAIL_SETTINGS_FIELDS))
    if changes:
        audit.record(actor=actor, action=AuditEntry.Action.UPDATE, obj=conf, changes=changes)
    return conf
