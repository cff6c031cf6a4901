"""Reads of companies, contacts and leads; all of them go through the gate."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from kizuna.automation import sla
from kizuna.core import access, customfields
from kizuna.core.queries import first_rows
from kizuna.core.search import filter_search
from kizuna.customers.models import Company, Contact, ContactEmail, ContactPhone, Lead

COMPANY_ORDERINGS = {
    "name": ["name_reading", "name", "id"],
    "-name": ["-name_reading", "-name", "-id"],
    "prefecture": ["prefecture", "name_reading", "id"],
    "-updated": ["-updated_at", "-id"],
    "-created": ["-created_at", "-id"],
}
CONTACT_ORDERINGS = {
    "name": ["family_name_reading", "given_name_reading", "id"],
    "-name": ["-family_name_reading", "-given_name_reading", "-id"],
    "-updated": ["-updated_at", "-id"],
    "-created": ["-created_at", "-id"],
}
LEAD_ORDERINGS = {
    "-created": ["-created_at", "-id"],
    "created": ["created_at", "id"],
    "name": ["family_name_reading", "family_name", "id"],
    "-updated": ["-updated_at", "-id"],
}


def _common_filters(qs: QuerySet, object_type: str, f: dict[str, Any]) -> QuerySet:
    if f.get("q"):
        qs = filter_search(qs, f["q"])
    if f.get("owner"):
        qs = qs.filter(owner_id=f["owner"])
    if f.get("team"):
        qs = qs.filter(team_id=f["team"])
    if f.get("tag"):
        qs = qs.filter(tags__name=f["tag"])
    if f.get("next_action_due_before"):
        qs = qs.filter(next_action_due__lte=f["next_action_due_before"])
    if f.get("custom"):
        qs, _used = customfields.filter_queryset(qs, object_type, f["custom"])
    return qs


def company_list(*, user, filters: dict[str, Any] | None = None) -> QuerySet[Company]:
    f = filters or {}
    qs = _common_filters(access.visible(Company.objects.all(), user), "company", f)
    for name in ("prefecture", "industry", "size", "kind"):
        if f.get(name):
            qs = qs.filter(**{name: f[name]})
    if f.get("parent"):
        qs = qs.filter(parent_id=f["parent"])
    if f.get("top_level"):
        qs = qs.filter(parent__isnull=True)
    ordering = COMPANY_ORDERINGS.get(f.get("ordering") or "name", COMPANY_ORDERINGS["name"])
    return qs.select_related("owner", "team", "parent").order_by(*ordering)


def company_detail(*, user, pk) -> Company:
    return access.get_visible_or_404(
        Company.objects.select_related("owner", "team", "parent"), user, pk=pk
    )


def company_ancestors(*, user, company: Company) -> list[Company]:
    ids = company.ancestor_ids()
    by_id = {c.pk: c for c in access.visible(Company.objects.filter(pk__in=ids), user)}
    return [by_id[i] for i in ids if i in by_id]


def company_children(*, user, company: Company) -> QuerySet[Company]:
    return access.visible(company.children.all(), user).order_by("kind", "name_reading", "id")


def company_contacts(*, user, company: Company) -> QuerySet[Contact]:
    """People at the company and at its divisions and sites.

    Without their e-mails and phones: the company page and the participant
    choices show names only (two queries fewer per company page).
    """
    subtree = Company.objects.filter(company.subtree_q()).values("id")
    return (
        access.visible(Contact.objects.filter(company_id__in=subtree), user)
        .select_related("company")
        .order_by(*CONTACT_ORDERINGS["name"])
    )


def with_channels(qs: QuerySet[Contact]) -> QuerySet[Contact]:
    return qs.prefetch_related(
        Prefetch("emails", queryset=ContactEmail.objects.order_by("position", "id")),
        Prefetch("phones", queryset=ContactPhone.objects.order_by("position", "id")),
    )


def contact_list(*, user, filters: dict[str, Any] | None = None) -> QuerySet[Contact]:
    f = filters or {}
    qs = _common_filters(access.visible(Contact.objects.all(), user), "contact", f)
    if f.get("company"):
        qs = qs.filter(company_id=f["company"])
    if f.get("email"):
        qs = qs.filter(emails__email__iexact=f["email"]).distinct()
    ordering = CONTACT_ORDERINGS.get(f.get("ordering") or "name", CONTACT_ORDERINGS["name"])
    return with_channels(qs.select_related("owner", "team", "company").order_by(*ordering))


def contact_detail(*, user, pk) -> Contact:
    return access.get_visible_or_404(
        with_channels(Contact.objects.select_related("owner", "team", "company")), user, pk=pk
    )


def lead_list(*, user, filters: dict[str, Any] | None = None) -> QuerySet[Lead]:
    f = filters or {}
    qs = _common_filters(access.visible(Lead.objects.all(), user), "lead", f)
    for name in ("status", "channel", "prefecture", "campaign"):
        if f.get(name):
            qs = qs.filter(**{name: f[name]})
    if f.get("sla"):
        qs = sla.filter_leads(qs, f["sla"])
    ordering = LEAD_ORDERINGS.get(f.get("ordering") or "-created", LEAD_ORDERINGS["-created"])
    return qs.select_related("owner", "team").order_by(*ordering)


def lead_detail(*, user, pk) -> Lead:
    return access.get_visible_or_404(
        Lead.objects.select_related("owner", "team", "converted_company", "converted_contact"),
        user,
        pk=pk,
    )


def global_search(*, user, q: str, limit: int = 8) -> dict[str, list]:
    """The first matches of each kind for the search box."""
    if not (q or "").strip():
        return {"companies": [], "contacts": [], "leads": []}
    return {
        "companies": first_rows(company_list(user=user, filters={"q": q}), limit),
        "contacts": first_rows(contact_list(user=user, filters={"q": q}), limit),
        "leads": first_rows(lead_list(user=user, filters={"q": q}), limit),
    }
