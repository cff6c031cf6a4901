"""Merge fields: ``{{ contact.family_name }}`` and nothing more.

Templates are written by users, so they get a deliberately small syntax
instead of Django's template language: only ``{{ object.field }}`` from the
whitelist below, no tags, no filters, no attribute walking. Values are
inserted as plain text (the mail is text/plain).
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MERGE_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("family_name", "given_name", "full_name", "title", "department", "email"),
    "lead": ("family_name", "given_name", "full_name", "company_name", "title", "email"),
    "company": ("name",),
    "deal": ("name", "amount", "expected_close_date", "next_action"),
    "user": ("display_name", "email"),
}

FIELD_RE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
NAME_RE = re.compile(r"^([a-z_]+)\.([a-z_]+)$")


def field_names() -> list[str]:
    return [f"{obj}.{field}" for obj, fields in MERGE_FIELDS.items() for field in fields]


def unknown_fields(text: str) -> list[str]:
    """The merge fields in ``text`` that do not exist, in order of appearance."""
    unknown: list[str] = []
    for raw in FIELD_RE.findall(text):
        match = NAME_RE.match(raw)
        known = bool(match) and match.group(2) in MERGE_FIELDS.get(match.group(1), ())  # type: ignore[union-attr]
        if not known and raw not in unknown:
            unknown.append(raw)
    if "{%" in text and "{%" not in unknown:
        unknown.append("{%")
    return unknown


def check(text: str, field: str) -> dict[str, list[str]]:
    """Errors for one subject or body, naming each unknown merge field."""
    bad = unknown_fields(text)
    if not bad:
        return {}
    return {
        field: [
            _("Unknown merge field {{ %(name)s }}. Use one of: %(known)s.")
            % {"name": name, "known": ", ".join(field_names())}
            for name in bad
        ]
    }


@dataclass
class MergeContext:
    contact: Any = None
    lead: Any = None
    company: Any = None
    deal: Any = None
    user: Any = None
    email: str = ""

    def value(self, obj_name: str, field: str) -> str:
        obj = getattr(self, obj_name)
        if obj is None:
            return ""
        if field == "email" and obj_name in ("contact", "lead"):
            return self.email or getattr(obj, "email", "") or ""
        if obj_name == "user" and field == "display_name":
            return getattr(obj, "display_name", "") or str(obj)
        value: Any = getattr(obj, field, "")
        if value is None:
            return ""
        if obj_name == "deal" and field == "amount":
            from kizuna.sales.quotes.pricing import format_amount

            return format_amount(value, obj.currency)
        return str(value)


def render(text: str, context: MergeContext) -> str:
    """Replace merge fields; an unknown one is refused, never left raw."""
    if bad := unknown_fields(text):
        raise ValidationError(_("Unknown merge field {{ %(name)s }}.") % {"name": bad[0]})

    def replace(match: re.Match) -> str:
        obj_name, field = NAME_RE.match(match.group(1)).groups()  # type: ignore[union-attr]
        return context.value(obj_name, field)

    return FIELD_RE.sub(replace, text)


def context_for(record, *, user, email: str = "") -> MergeContext:
    """The merge objects reachable from a contact, lead, deal or company."""
    kind = getattr(record, "access_object_type", "")
    ctx = MergeContext(user=user, email=email)
    if kind == "contact":
        ctx.contact, ctx.company = record, record.company
    elif kind == "lead":
        # A lead is the person a contact will be: contact.* reads the lead,
        # so one template serves both.
        ctx.lead = ctx.contact = record
    elif kind == "deal":
        ctx.deal, ctx.company = record, record.company
    elif kind == "company":
        ctx.company = record
    return ctx


def _script_language(text: str) -> str | None:
    for char in text:
        if "\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff":
            return "ko"
    for char in text:
        name = unicodedata.name(char, "")
        if name.startswith(("HIRAGANA", "KATAKANA", "CJK UNIFIED")):
            return "ja"
    return None


def recipient_language(record, *, default: str = "ja") -> str:
    """Guess the language a customer reads from the names on the record.

    Customers have no language field; Hangul means Korean, kana or kanji
    Japanese, a Korean province Korean. Otherwise ``default``.
    """
    from kizuna.customers.models import PROVINCES_KR

    kind = getattr(record, "access_object_type", "")
    texts: list[str] = []
    company = None
    if kind in ("contact", "lead"):
        texts += [record.family_name, record.given_name]
        if kind == "lead":
            texts.append(record.company_name)
            if record.prefecture in PROVINCES_KR:
                return "ko"
        company = getattr(record, "company", None)
    elif kind == "deal":
        company = record.company
    elif kind == "company":
        company = record
    if company is not None:
        if company.prefecture in PROVINCES_KR:
            return "ko"
        texts.append(company.name)
    return _script_language(" ".join(t for t in texts if t)) or default


def sample_context() -> MergeContext:
    """Made-up customer data for the template editor's preview."""
    from types import SimpleNamespace

    from django.utils.translation import gettext as _

    company = SimpleNamespace(name=_("Sample Trading Co., Ltd."))
    contact = SimpleNamespace(
        family_name=_("Yamada"),
        given_name=_("Hanako"),
        full_name=_("Yamada Hanako"),
        title=_("Purchasing manager"),
        department=_("Purchasing"),
        company_name=company.name,
    )
    deal = SimpleNamespace(
        name=_("Maintenance contract renewal"),
        amount=None,
        expected_close_date="2026-03-31",
        next_action=_("Send the quote"),
    )
    user = SimpleNamespace(display_name=_("Sales rep"), email="sales@example.jp")
    return MergeContext(
        contact=contact,
        lead=contact,
        company=company,
        deal=deal,
        user=user,
        email="hanako@example.jp",
    )
