"""Every write to companies, contacts and leads."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.automation import assignment, rules, sla
from kizuna.automation.webhooks import emit_event
from kizuna.core import audit, records
from kizuna.core.models import AuditEntry, OrgSettings
from kizuna.core.text import company_key
from kizuna.core.validators import normalize_phone
from kizuna.customers.models import (
    Company,
    Contact,
    ContactEmail,
    ContactEmployment,
    ContactPhone,
    Lead,
    path_prefix_q,
)

COMPANY_FIELDS = [
    "kind",
    "parent",
    "name",
    "name_reading",
    "corporate_number",
    "industry",
    "size",
    "postal_code",
    "prefecture",
    "city",
    "street",
    "building",
    "website",
    "domain",
    "phone",
    "next_action",
    "next_action_due",
]
CONTACT_FIELDS = [
    "family_name",
    "given_name",
    "family_name_reading",
    "given_name_reading",
    "title",
    "department",
    "company",
    "notes",
    "next_action",
    "next_action_due",
]
LEAD_FIELDS = [
    "family_name",
    "given_name",
    "family_name_reading",
    "given_name_reading",
    "company_name",
    "corporate_number",
    "title",
    "department",
    "email",
    "phone",
    "prefecture",
    "channel",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "interest",
    "status",
    "next_action",
    "next_action_due",
]
OWNERSHIP = ["owner", "team"]
CONVERT_ONLY = gettext_lazy("A lead becomes converted only through the Convert button or API call.")


def _region() -> str:
    return OrgSettings.get().default_region


def _phone_errors(obj, field: str) -> dict[str, list[str]]:
    raw = getattr(obj, field)
    if not raw:
        return {}
    try:
        setattr(obj, field, normalize_phone(raw, _region()))
    except ValidationError as exc:
        return {field: exc.messages}
    return {}


def _set_ownership(obj, actor, owner, team) -> dict[str, list[str]]:
    if owner is not None:
        if not owner.is_active:
            return {"owner": [_("Choose an active user.")]}
        obj.owner = owner
    elif obj.owner_id is None:
        obj.owner = actor
    if team is not None:
        obj.team = team
    elif obj.team_id is None and obj.owner_id == actor.pk:
        obj.team = actor.team
    elif obj.team_id is None:
        obj.team = obj.owner.team
    return {}


# Companies ---------------------------------------------------------------


def _prepare_company(company: Company) -> dict[str, list[str]]:
    errors = _phone_errors(company, "phone")
    if company.website and not company.domain:
        host = urlsplit(company.website).hostname or ""
        company.domain = host.removeprefix("www.")
    company.domain = company.domain.lower().strip()
    company.postal_code = company.postal_code.replace("〒", "").strip()
    company.name_key = company_key(company.name)
    if company.parent_id is None:
        company.kind = Company.Kind.COMPANY
    company.refresh_search_index()
    return errors


@transaction.atomic
def _webhook_payload(obj, fields) -> dict[str, Any]:
    """What a ``*.created`` webhook sends: the record's own fields, ids for relations."""
    payload: dict[str, Any] = {"id": obj.pk}
    for name in fields:
        field = obj._meta.get_field(name)
        payload[name] = getattr(obj, field.attname)
    return {**payload, "owner": obj.owner_id, "team": obj.team_id, "created_at": obj.created_at}


def company_create(
    *,
    actor,
    owner=None,
    team=None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Company:
    company = Company()
    records.assign_fields(company, fields, COMPANY_FIELDS)
    if company.parent is not None:
        records.require_visible(actor, company.parent, "parent")
        if "kind" not in fields:
            company.kind = Company.Kind.DIVISION
    errors = _set_ownership(company, actor, owner, team)
    errors |= _prepare_company(company)
    errors |= records.clean_custom_fields(company, custom_fields or {})
    records.validate(company, errors, exclude=["path", "name_key"])
    company.save()
    company.path = f"{company.parent.path if company.parent else '/'}{company.pk}/"
    Company.objects.filter(pk=company.pk).update(path=company.path)
    records.set_tags(company, tags)
    records.audit_create(actor, company, COMPANY_FIELDS + OWNERSHIP)
    rules.record_event(obj=company, event="created")
    emit_event(event="company.created", payload=_webhook_payload(company, COMPANY_FIELDS))
    return company


@transaction.atomic
def company_update(
    *,
    actor,
    company: Company,
    version: int | None = None,
    owner=None,
    team=None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Company:
    company = records.lock(Company, company.pk)
    records.require_edit(actor, company)
    records.check_version(company, version)
    before = records.record_snapshot(company, COMPANY_FIELDS + OWNERSHIP)
    old_parent_id, old_path = company.parent_id, company.path
    records.assign_fields(company, fields, COMPANY_FIELDS)
    errors: dict[str, list[str]] = {}
    if company.parent_id != old_parent_id and company.parent is not None:
        records.require_visible(actor, company.parent, "parent")
        if company.parent.path.startswith(old_path):
            errors["parent"] = [
                _("A company cannot be placed under itself or one of its divisions or sites.")
            ]
    errors |= _set_ownership(company, actor, owner, team)
    errors |= _prepare_company(company)
    errors |= records.clean_custom_fields(company, custom_fields)
    records.validate(company, errors, exclude=["path", "name_key"])
    if company.parent_id != old_parent_id:
        company.path = f"{company.parent.path if company.parent else '/'}{company.pk}/"
        _move_subtree(old_path, company.path)
    company.version += 1
    company.save()
    records.set_tags(company, tags)
    after = records.record_snapshot(company, COMPANY_FIELDS + OWNERSHIP)
    records.audit_update(actor, company, before, after)
    rules.record_event(obj=company, event="updated", before=before, after=after)
    return company


def _move_subtree(old_path: str, new_path: str) -> None:
    descendants = list(Company.objects.filter(path_prefix_q(old_path)).exclude(path=old_path))
    for d in descendants:
        d.path = new_path + d.path[len(old_path) :]
    Company.objects.bulk_update(descendants, ["path"], batch_size=500)


@transaction.atomic
def company_delete(*, actor, company: Company) -> None:
    company = records.lock(Company, company.pk)
    records.require_edit(actor, company)
    if company.children.exists() or company.contacts.exists():
        raise ValidationError(
            _("Move or delete its divisions, sites and contacts before deleting this company.")
        )
    records.audit_delete(actor, company, COMPANY_FIELDS + OWNERSHIP)
    try:
        company.delete()
    except ProtectedError as exc:
        raise ValidationError(_("Other records still refer to this company.")) from exc


# Contacts ----------------------------------------------------------------


def _clean_emails(emails: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    clean: list[str] = []
    for raw in emails:
        email = (raw or "").strip()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            return [], {"emails": [_("“%(value)s” is not an e-mail address.") % {"value": email}]}
        local, _at, domain = email.rpartition("@")
        email = f"{local}@{domain.lower()}"
        if email.lower() not in (e.lower() for e in clean):
            clean.append(email)
    return clean, {}


def _clean_phones(phones: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    clean: list[str] = []
    region = _region()
    for raw in phones:
        if not (raw or "").strip():
            continue
        try:
            number = normalize_phone(raw.strip(), region)
        except ValidationError as exc:
            return [], {"phones": exc.messages}
        if number not in clean:
            clean.append(number)
    return clean, {}


def _write_channels(contact: Contact, emails: list[str] | None, phones: list[str] | None):
    if emails is not None:
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(
            ContactEmail(contact=contact, email=e, position=i) for i, e in enumerate(emails)
        )
    if phones is not None:
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=contact, number=p, position=i) for i, p in enumerate(phones)
        )


def contact_channels(contact: Contact) -> tuple[list[str], list[str]]:
    if contact.pk is None:
        return [], []
    return (
        [e.email for e in contact.emails.all()],
        [p.number for p in contact.phones.all()],
    )


def _contact_snapshot(contact: Contact) -> dict[str, Any]:
    emails, phones = contact_channels(contact)
    return records.record_snapshot(contact, CONTACT_FIELDS + OWNERSHIP) | {
        "emails": emails,
        "phones": phones,
    }


def _prepare_contact(contact: Contact, emails: list[str], phones: list[str]) -> None:
    contact.refresh_search_index(*emails, *(p.lstrip("+") for p in phones))


@transaction.atomic
def contact_create(
    *,
    actor,
    emails: list[str] = (),  # type: ignore[assignment]
    phones: list[str] = (),  # type: ignore[assignment]
    owner=None,
    team=None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Contact:
    contact = Contact()
    records.assign_fields(contact, fields, CONTACT_FIELDS)
    records.require_visible(actor, contact.company, "company")
    clean_emails, errors = _clean_emails(list(emails))
    clean_phones, phone_errors = _clean_phones(list(phones))
    errors |= phone_errors
    errors |= _set_ownership(contact, actor, owner, team)
    errors |= records.clean_custom_fields(contact, custom_fields or {})
    records.validate(contact, errors)
    _prepare_contact(contact, clean_emails, clean_phones)
    contact.save()
    _write_channels(contact, clean_emails, clean_phones)
    if contact.company_id:
        ContactEmployment.objects.create(
            contact=contact,
            company_id=contact.company_id,
            title=contact.title,
            department=contact.department,
            started_on=timezone.localdate(),
        )
    records.set_tags(contact, tags)
    records.audit_create(
        actor, contact, CONTACT_FIELDS + OWNERSHIP, emails=clean_emails, phones=clean_phones
    )
    rules.record_event(obj=contact, event="created")
    emit_event(
        event="contact.created",
        payload={
            **_webhook_payload(contact, CONTACT_FIELDS),
            "emails": clean_emails,
            "phones": clean_phones,
        },
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    actor,
    contact: Contact,
    version: int | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    owner=None,
    team=None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Contact:
    contact = records.lock(Contact, contact.pk)
    records.require_edit(actor, contact)
    records.check_version(contact, version)
    before = _contact_snapshot(contact)
    old_company_id = contact.company_id
    records.assign_fields(contact, fields, CONTACT_FIELDS)
    if contact.company_id != old_company_id:
        records.require_visible(actor, contact.company, "company")
    errors: dict[str, list[str]] = {}
    clean_emails = clean_phones = None
    if emails is not None:
        clean_emails, errors = _clean_emails(list(emails))
    if phones is not None:
        clean_phones, phone_errors = _clean_phones(list(phones))
        errors |= phone_errors
    errors |= _set_ownership(contact, actor, owner, team)
    errors |= records.clean_custom_fields(contact, custom_fields)
    records.validate(contact, errors)
    _write_channels(contact, clean_emails, clean_phones)
    current_emails, current_phones = contact_channels(contact)
    _prepare_contact(contact, current_emails, current_phones)
    if contact.company_id != old_company_id:
        _move_employment(contact, old_company_id)
    contact.version += 1
    contact.save()
    records.set_tags(contact, tags)
    after = _contact_snapshot(contact)
    records.audit_update(actor, contact, before, after)
    rules.record_event(obj=contact, event="updated", before=before, after=after)
    return contact


def _move_employment(contact: Contact, old_company_id: int | None) -> None:
    today = timezone.localdate()
    if old_company_id is not None:
        updated = ContactEmployment.objects.filter(
            contact=contact, company_id=old_company_id, ended_on__isnull=True
        ).update(ended_on=today)
        if not updated:
            ContactEmployment.objects.create(
                contact=contact, company_id=old_company_id, ended_on=today
            )
    if contact.company_id is not None:
        ContactEmployment.objects.create(
            contact=contact,
            company_id=contact.company_id,
            title=contact.title,
            department=contact.department,
            started_on=today,
        )


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    contact = records.lock(Contact, contact.pk)
    records.require_edit(actor, contact)
    records.audit_delete(actor, contact, CONTACT_FIELDS + OWNERSHIP)
    contact.delete()


# Leads -------------------------------------------------------------------


def _prepare_lead(lead: Lead) -> dict[str, list[str]]:
    errors = _phone_errors(lead, "phone")
    if lead.email:
        local, _at, domain = lead.email.rpartition("@")
        lead.email = f"{local}@{domain.lower()}"
    lead.refresh_search_index()
    return errors


@transaction.atomic
def lead_create(
    *,
    actor,
    owner=None,
    team=None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Lead:
    lead = Lead()
    records.assign_fields(lead, fields, LEAD_FIELDS)
    if lead.status == Lead.Status.CONVERTED:
        raise ValidationError({"status": CONVERT_ONLY})
    if owner is None:
        assignment.assign_owners("lead", [lead])
    errors = _set_ownership(lead, actor, owner, team)
    errors |= _prepare_lead(lead)
    errors |= records.clean_custom_fields(lead, custom_fields or {})
    records.validate(lead, errors)
    sla.start(lead)
    lead.save()
    records.set_tags(lead, tags)
    records.audit_create(actor, lead, LEAD_FIELDS + OWNERSHIP)
    rules.record_event(obj=lead, event="created")
    emit_event(event="lead.created", payload=_webhook_payload(lead, LEAD_FIELDS))
    return lead


@transaction.atomic
def lead_update(
    *,
    actor,
    lead: Lead,
    version: int | None = None,
    owner=None,
    team=None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Lead:
    lead = records.lock(Lead, lead.pk)
    records.require_edit(actor, lead)
    records.check_version(lead, version)
    before = records.record_snapshot(lead, LEAD_FIELDS + OWNERSHIP)
    old_status = lead.status
    records.assign_fields(lead, fields, LEAD_FIELDS)
    if lead.status != old_status and Lead.Status.CONVERTED in (lead.status, old_status):
        raise ValidationError({"status": CONVERT_ONLY})
    errors = _set_ownership(lead, actor, owner, team)
    errors |= _prepare_lead(lead)
    errors |= records.clean_custom_fields(lead, custom_fields)
    records.validate(lead, errors)
    lead.version += 1
    lead.save()
    records.set_tags(lead, tags)
    after = records.record_snapshot(lead, LEAD_FIELDS + OWNERSHIP)
    records.audit_update(actor, lead, before, after)
    if old_status == Lead.Status.NEW and lead.status != old_status:
        sla.contacted(lead_id=lead.pk)
    rules.record_event(obj=lead, event="updated", before=before, after=after)
    return lead


@transaction.atomic
def lead_delete(*, actor, lead: Lead) -> None:
    lead = records.lock(Lead, lead.pk)
    records.require_edit(actor, lead)
    records.audit_delete(actor, lead, LEAD_FIELDS + OWNERSHIP)
    lead.delete()


@dataclass(frozen=True)
class Conversion:
    lead: Lead
    company: Company | None
    contact: Contact
    company_created: bool
    contact_created: bool
    matched_by: str


def conversion_matches(lead: Lead) -> tuple[Contact | None, Company | None, str]:
    """Existing records the lead is: by e-mail, phone, 法人番号 or exact company name."""
    contact = None
    matched_by = ""
    if lead.email:
        contact = Contact.objects.filter(emails__email__iexact=lead.email).first()
        matched_by = "email" if contact else ""
    if contact is None and lead.phone:
        contact = Contact.objects.filter(phones__number=lead.phone).first()
        matched_by = "phone" if contact else ""
    company = None
    if lead.corporate_number:
        company = Company.objects.filter(corporate_number=lead.corporate_number).first()
        matched_by = matched_by or ("corporate_number" if company else "")
    if company is None and contact is not None and contact.company_id:
        company = contact.company
    key = company_key(lead.company_name)
    if company is None and key:
        company = (
            Company.objects.filter(name_key=key, kind=Company.Kind.COMPANY).order_by("id").first()
        )
        matched_by = matched_by or ("company_name" if company else "")
    return contact, company, matched_by


@transaction.atomic
def lead_convert(*, actor, lead: Lead, company: Company | None = None) -> Conversion:
    """Turn a lead into a contact (and company), linking existing records."""
    lead = records.lock(Lead, lead.pk)
    records.require_edit(actor, lead)
    if lead.status == Lead.Status.CONVERTED:
        raise ValidationError(_("This lead has already been converted."))
    contact, matched_company, matched_by = conversion_matches(lead)
    if company is not None:
        records.require_visible(actor, company, "company")
    else:
        company = matched_company
    company_created = contact_created = False
    ownership: dict[str, Any] = {"owner": lead.owner, "team": lead.team}
    if company is None and lead.company_name:
        company = company_create(
            actor=actor,
            name=lead.company_name,
            corporate_number=lead.corporate_number,
            prefecture=lead.prefecture,
            **ownership,
        )
        company_created = True
    if contact is None:
        contact = contact_create(
            actor=actor,
            family_name=lead.family_name,
            given_name=lead.given_name,
            family_name_reading=lead.family_name_reading,
            given_name_reading=lead.given_name_reading,
            title=lead.title,
            department=lead.department,
            company=company,
            emails=[lead.email] if lead.email else [],
            phones=[lead.phone] if lead.phone else [],
            next_action=lead.next_action,
            next_action_due=lead.next_action_due,
            **ownership,
        )
        contact_created = True
    before = records.record_snapshot(lead, ["status"])
    lead.status = Lead.Status.CONVERTED
    lead.converted_at = timezone.now()
    lead.converted_company = company
    lead.converted_contact = contact
    lead.converted_by = actor
    lead.version += 1
    lead.save()
    sla.contacted(lead_id=lead.pk)
    # The lead's history moves onto the customer's timeline.
    lead.activities.update(contact=contact, company=company)
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CONVERT,
        obj=lead,
        changes=audit.diff(before, records.record_snapshot(lead, ["status"]))
        | {
            "company": [None, company.pk if company else None],
            "contact": [None, contact.pk],
            "matched_by": [None, matched_by],
        },
    )
    return Conversion(lead, company, contact, company_created, contact_created, matched_by)


@transaction.atomic
def record_set_next_action(
    *, actor, record, next_action: str, next_action_due: datetime.date | None
) -> None:
    """Set the next action of a company, contact or lead."""
    updates: dict[str, Callable[..., Any]] = {
        "company": company_update,
        "contact": contact_update,
        "lead": lead_update,
    }
    key = record.access_object_type
    updates[key](
        actor=actor, **{key: record}, next_action=next_action, next_action_due=next_action_due
    )
