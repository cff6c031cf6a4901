"""Incoming mail: match the sender, keep threads together, log everything.

Both doors (the IMAP mailbox and the forwarding address) end in
``mail_receive``, which is idempotent by Message-ID: a mail fetched twice or
forwarded twice lands once.
"""

import contextlib
import hmac
import imaplib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kizuna.activities.models import Activity
from kizuna.customers.models import Company, ContactEmail, Lead
from kizuna.mail.models import EmailMessage, IncomingMail, MailSettings
from kizuna.mail.parsing import ParsedMail, parse

logger = logging.getLogger(__name__)
R = IncomingMail.Reason


def mail_settings() -> MailSettings:
    obj = MailSettings.objects.order_by("pk").first()
    return obj or MailSettings.objects.create()


@dataclass
class Target:
    record: object
    kind: str
    deal: object = None


def _thread_parent(parsed: ParsedMail) -> EmailMessage | None:
    ids = parsed.thread_ids
    if not ids:
        return None
    found = {
        m.message_id: m
        for m in EmailMessage.objects.filter(message_id__in=ids).select_related(
            "activity__contact", "activity__lead", "activity__deal", "activity__company"
        )
    }
    return next((found[i] for i in ids if i in found), None)


def _match(parsed: ParsedMail, conf: MailSettings, parent: EmailMessage | None) -> Target | None:
    if parent is not None:
        a = parent.activity
        if a.contact_id:
            return Target(a.contact, "contact", a.deal)
        if a.lead_id:
            return Target(a.lead, "lead", a.deal)
        if a.deal_id:
            return Target(a.deal, "deal")
        if a.company_id:
            return Target(a.company, "company")
    address = parsed.from_address
    email_row = (
        ContactEmail.objects.filter(email__iexact=address)
        .select_related("contact", "contact__owner")
        .order_by("-contact__updated_at", "contact_id")
        .first()
    )
    if email_row is not None:
        return Target(email_row.contact, "contact")
    lead = (
        Lead.objects.filter(email__iexact=address)
        .exclude(status=Lead.Status.CONVERTED)
        .order_by("-created_at")
        .first()
    )
    if lead is not None:
        return Target(lead, "lead")
    domain = address.rpartition("@")[2]
    if domain and not conf.is_free_mail(domain):
        company = Company.objects.filter(domain__iexact=domain).order_by("path").first()
        if company is not None:
            return Target(company, "company")
    return None


def _lead_owner(conf: MailSettings):
    if conf.lead_owner is not None and conf.lead_owner.is_active:
        return conf.lead_owner
    return get_user_model().objects.filter(is_active=True, is_org_admin=True).order_by("pk").first()


def _log(
    parsed: ParsedMail | None, source: str, outcome: str, reason: str = "", detail: str = "", **kw
):
    return IncomingMail.objects.create(
        source=source,
        message_id=parsed.message_id if parsed else "",
        from_address=parsed.from_address[:255] if parsed else "",
        subject=parsed.subject[:200] if parsed else "",
        outcome=outcome,
        reason=reason,
        detail=detail[:300],
        warnings=", ".join(parsed.warnings)[:300] if parsed else "",
        **kw,
    )


def mail_receive(*, raw: bytes, source: str) -> IncomingMail:
    """Put one incoming mail on the right timeline, or say why not."""
    from kizuna.activities.services import activity_create
    from kizuna.automation.services import notify
    from kizuna.customers.services import lead_create

    try:
        parsed = parse(raw)
    except Exception as exc:  # the email package raises little, but be sure
        logger.exception("Unreadable incoming mail")
        return _log(None, source, IncomingMail.Outcome.REJECTED, R.UNREADABLE, str(exc), raw=raw)
    if EmailMessage.objects.filter(message_id=parsed.message_id).exists():
        return _log(parsed, source, IncomingMail.Outcome.DUPLICATE)
    conf = mail_settings()
    if not parsed.from_address or "@" not in parsed.from_address:
        return _log(parsed, source, IncomingMail.Outcome.REJECTED, R.NO_SENDER, raw=raw)
    if parsed.spam_flag:
        return _log(parsed, source, IncomingMail.Outcome.REJECTED, R.SPAM, raw=raw)
    if conf.is_blocked(parsed.from_address):
        return _log(parsed, source, IncomingMail.Outcome.REJECTED, R.BLOCKED, raw=raw)
    if parsed.from_address == settings.DEFAULT_FROM_EMAIL.lower():
        return _log(parsed, source, IncomingMail.Outcome.REJECTED, R.OWN)
    try:
        with transaction.atomic():
            parent = _thread_parent(parsed)
            target = _match(parsed, conf, parent)
            outcome = IncomingMail.Outcome.ATTACHED
            if target is None:
                domain = parsed.from_address.rpartition("@")[2]
                if not conf.create_leads:
                    return _log(
                        parsed, source, IncomingMail.Outcome.REJECTED, R.UNKNOWN_SENDER, raw=raw
                    )
                if conf.is_free_mail(domain) and conf.free_mail == MailSettings.FreeMail.IGNORE:
                    return _log(
                        parsed,
                        source,
                        IncomingMail.Outcome.REJECTED,
                        R.FREE_MAIL,
                        raw=raw,
                    )
                owner = _lead_owner(conf)
                if owner is None:
                    raise ValidationError(_("No active administrator to own new leads."))
                family, _sp, given = (
                    parsed.from_name or parsed.from_address.split("@")[0]
                ).partition(" ")
                lead = lead_create(
                    actor=owner,
                    owner=owner,
                    family_name=family[:100] or parsed.from_address[:100],
                    given_name=given[:100],
                    email=parsed.from_address,
                    channel=Lead.Channel.EMAIL,
                    company_name="" if conf.is_free_mail(domain) else domain[:200],
                    interest=parsed.subject,
                )
                target = Target(lead, "lead")
                outcome = IncomingMail.Outcome.LEAD
            record = target.record
            owner = record.owner  # type: ignore[attr-defined]
            relations: dict[str, Any] = {target.kind: record}
            if target.deal is not None and target.kind != "deal":
                relations["deal"] = target.deal
            activity = activity_create(
                actor=owner,
                owner=owner,
                team=record.team,  # type: ignore[attr-defined]
                kind=Activity.Kind.EMAIL,
                subject=parsed.subject or str(_("(no subject)")),
                body=parsed.body,
                occurred_at=parsed.date,
                **relations,
            )
            EmailMessage.objects.create(
                activity=activity,
                direction=EmailMessage.Direction.IN,
                status=EmailMessage.Status.RECEIVED,
                message_id=parsed.message_id,
                in_reply_to=parsed.in_reply_to,
                references=" ".join(parsed.references),
                thread_id=parent.thread_id
                if parent
                else (parsed.references or [parsed.message_id])[0],
                from_address=parsed.from_address,
                to_addresses=", ".join(parsed.to)[:5000],
                cc_addresses=", ".join(parsed.cc)[:5000],
            )
            notify(
                recipients=[owner],
                kind="mail.received",
                text=_("New e-mail from %(sender)s: %(subject)s"),
                params={
                    "sender": parsed.from_name or parsed.from_address,
                    "subject": parsed.subject,
                },
                url=reverse("activities:activity_detail", args=[activity.pk]),
                obj=activity,
            )
            return _log(parsed, source, outcome, activity=activity)
    except IntegrityError:
        # The same mail arrived through the other door at the same moment.
        return _log(parsed, source, IncomingMail.Outcome.DUPLICATE)
    except ValidationError as exc:
        return _log(
            parsed,
            source,
            IncomingMail.Outcome.REJECTED,
            R.INVALID,
            " ".join(exc.messages),
            raw=raw,
        )


def token_ok(token: str) -> bool:
    expected = settings.KIZUNA_MAIL_INBOUND_TOKEN
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def imap_fetch(*, connect=None, limit: int = 200) -> int:
    """Read unseen mail from the IMAP mailbox; returns how many were read.

    A mail is flagged \\Seen only after it was received, so a crash reads it
    again next time and the Message-ID check drops the copy.
    """
    host = settings.KIZUNA_IMAP_HOST
    if not host and connect is None:
        return 0
    if connect is None:
        cls = imaplib.IMAP4_SSL if settings.KIZUNA_IMAP_SSL else imaplib.IMAP4
        client = cls(host, settings.KIZUNA_IMAP_PORT, timeout=settings.KIZUNA_IMAP_TIMEOUT)
    else:
        client = connect()
    count = 0
    try:
        client.login(settings.KIZUNA_IMAP_USER, settings.KIZUNA_IMAP_PASSWORD)
        client.select(settings.KIZUNA_IMAP_FOLDER)
        _typ, data = client.uid("SEARCH", "UNSEEN")
        uids = [u.decode() for u in (data[0] or b"").split()[:limit]]
        for uid in uids:
            _typ, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if raw is None:
                continue
            mail_receive(raw=raw, source=IncomingMail.Source.IMAP)
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            count += 1
    finally:
        with contextlib.suppress(Exception):
            client.logout()
    return count
