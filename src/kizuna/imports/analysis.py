"""The preview: read the file, clean each row, decide what it will do.

Nothing here writes a customer record. Each row becomes an ``ImportRow``
with its clean values and its outcome (create, update, merge, review, skip,
error); the run (``writing``) carries the plan out.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import access
from kizuna.core.models import OrgSettings
from kizuna.core.text import (
    company_key,
    email_domain,
    is_free_mail_domain,
    name_key,
    normalize_email,
)
from kizuna.core.validators import validate_corporate_number
from kizuna.customers.models import (
    PREFECTURES_JP,
    PROVINCES_KR,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    Lead,
)
from kizuna.imports import bulk, matching, reading
from kizuna.imports import fields as F
from kizuna.imports.models import ImportBatch, ImportRow

Outcome = ImportRow.Outcome
CHUNK = 2000
_PREFIXES = sorted(PREFECTURES_JP + PROVINCES_KR, key=len, reverse=True)


@dataclass
class Planned:
    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    outcome: str = Outcome.CREATE
    target_id: int | None = None
    message: str = ""
    changed: list[str] = field(default_factory=list)
    score: float | None = None


class Context:
    """What cleaning needs once per batch: users, choices, the phone region."""

    def __init__(self, batch: ImportBatch):
        from kizuna.iam.models import User

        self.batch = batch
        self.user = batch.created_by
        self.region = OrgSettings.get().default_region
        self.users: dict[str, tuple[int, int | None]] = {}
        for pk, username, email, team_id in User.objects.filter(is_active=True).values_list(
            "pk", "username", "email", "team_id"
        ):
            self.users[username.casefold()] = (pk, team_id)
            if email:
                self.users.setdefault(email.casefold(), (pk, team_id))
        self.choices: dict[str, dict[str, str]] = {}
        # company_key -> (id or None when it will be created, visible)
        self.companies: dict[str, int | None] = {}
        self.visible_companies: dict[int, bool] = {}
        self.seen: dict[str, int] = {}
        self.cache: dict[str, Any] = {}
        fmap = F.field_map(batch.entity)
        # (index, header, spec) of every mapped column.
        self.columns = [
            (index, batch.headers[index], fmap[key])
            for index, key in enumerate(batch.mapping)
            if key and key in fmap
        ]
        self.width = len(batch.headers)
        # Parsed cell values per (field kind, raw text): the same company,
        # date or title repeats from row to row. An error is kept as the
        # ValidationError's messages.
        self.parsed: dict[tuple[str, str], Any] = {}
        self._company_keys: dict[str, str] = {}
        self._name_keys: dict[str, str] = {}

    def company_key(self, name: str | None) -> str:
        name = name or ""
        key = self._company_keys.get(name)
        if key is None:
            key = self._company_keys[name] = company_key(name)
        return key

    def name_key(self, name: str) -> str:
        key = self._name_keys.get(name)
        if key is None:
            key = self._name_keys[name] = name_key(name)
        return key

    def choice(self, key: str) -> dict[str, str]:
        if key not in self.choices:
            self.choices[key] = F.choice_lookup(_CHOICES[self.batch.entity][key]())
        return self.choices[key]


def _industry_choices():
    from kizuna.customers.models import Industry

    return Industry.choices


def _channel_choices():
    return Lead.Channel.choices


def _kind_choices():
    from kizuna.activities.models import Activity

    return [c for c in Activity.Kind.choices if c[0] != Activity.Kind.STAGE]


_CHOICES = {
    "company": {"industry": _industry_choices},
    "lead": {"channel": _channel_choices},
    "activity": {"kind": _kind_choices},
}


# Reading and cleaning -----------------------------------------------------


def read_rows(batch: ImportBatch) -> Iterator[tuple[int, list[str]]]:
    with default_storage.open(batch.file_path, "rb") as handle:
        table = reading.open_table(handle, batch.file_name)
        yield from table.rows


class _Invalid:
    __slots__ = ("messages",)

    def __init__(self, messages: list[str]):
        self.messages = messages


def clean(ctx: Context, number: int, cells: list[str]) -> Planned:
    batch = ctx.batch
    row = Planned(number, cells)
    width = ctx.width
    if len(cells) > width and any(cells[width:]):
        row.errors.append(
            _("This row has %(cells)d cells but the header has %(columns)d columns.")
            % {"cells": len(cells), "columns": width}
        )
    parsed = ctx.parsed
    values = row.values
    count = len(cells)
    for index, header, spec in ctx.columns:
        if index >= count:
            continue
        raw = cells[index]
        if not raw:
            continue
        if "\ufffd" in raw:
            row.errors.append(
                _("“%(column)s”: some characters could not be read as %(encoding)s.")
                % {"column": header, "encoding": reading.ENCODING_LABELS.get(batch.encoding, "")}
            )
            continue
        if raw[0] == "=" and reading.is_formula(raw):
            row.errors.append(
                _("“%(column)s” holds a formula (%(value)s). Save the file with values instead.")
                % {"column": header, "value": raw[:40]}
            )
            continue
        memo = (spec.key, raw)
        value = parsed.get(memo)
        if value is None:
            try:
                value = _parse(ctx, spec, raw)
            except ValidationError as exc:
                value = _Invalid(exc.messages)
            if len(parsed) < 200_000:
                parsed[memo] = value
        if type(value) is _Invalid:
            row.errors.append(f"“{header}”: {' '.join(value.messages)}")
            continue
        key = spec.key
        if spec.multiple:
            have = values.get(key)
            if have is None:
                values[key] = [value]
            elif value not in have:
                have.append(value)
        elif key not in values:
            values[key] = value
    _complete(ctx, row)
    return row


def _parse(ctx: Context, spec: F.ImportField, raw: str) -> Any:
    if spec.kind == "email":
        return F.parse_email(raw)
    if spec.kind == "phone":
        return F.parse_phone(raw, ctx.region)
    if spec.kind == "date":
        return F.parse_date(raw).isoformat()
    if spec.kind == "amount":
        return raw  # parsed with the row's currency in _complete
    if spec.kind == "choice":
        value = ctx.choice(spec.key).get(F.header_key(raw))
        if value is None:
            raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": raw})
        return value
    if spec.kind == "user":
        user = ctx.users.get(raw.strip().casefold())
        if user is None:
            raise ValidationError(_("No active user “%(value)s”.") % {"value": raw})
        return user[0]
    text = " ".join(raw.split()) if "\n" not in raw else raw.strip()
    if len(text) > spec.max_length:
        raise ValidationError(_("Too long: at most %(max)d characters.") % {"max": spec.max_length})
    return text


def _complete(ctx: Context, row: Planned) -> None:
    """Fill derived values and check what each object type requires."""
    v = row.values
    entity = ctx.batch.entity
    if entity in ("contact", "lead"):
        if "full_name" in v:
            family, given = F.split_name(v.pop("full_name"))
            v.setdefault("family_name", family)
            if given:
                v.setdefault("given_name", given)
        if "reading" in v:
            family, given = F.split_name(v.pop("reading"))
            v.setdefault("family_name_reading", family)
            if given:
                v.setdefault("given_name_reading", given)
        if not v.get("family_name"):
            row.errors.append(_("A name is missing (姓 or 氏名)."))
    if "corporate_number" in v:
        v["corporate_number"] = v["corporate_number"].replace("-", "").replace(" ", "")
        try:
            validate_corporate_number(v["corporate_number"])
        except ValidationError as exc:
            row.errors.extend(exc.messages)
    if entity == "company":
        if not v.get("name"):
            row.errors.append(_("The company name is missing."))
        if "address" in v:
            _split_address(v)
        if v.get("website") and not v.get("domain"):
            from urllib.parse import urlsplit

            site = v["website"] if "://" in v["website"] else "https://" + v["website"]
            v["website"] = site
            v["domain"] = (urlsplit(site).hostname or "").removeprefix("www.")
    if entity == "lead":
        v.setdefault("channel", Lead.Channel.OTHER)
        # One e-mail and one phone per lead (a list when several columns feed them).
        for key in ("email", "phone"):
            if isinstance(v.get(key), list):
                v[key] = v[key][0]
    if entity == "deal":
        if not v.get("name"):
            row.errors.append(_("The deal name is missing."))
        if not v.get("company"):
            row.errors.append(_("The company is missing."))
        currency = (v.get("currency") or "JPY").upper()
        v["currency"] = currency
        if "amount" in v:
            try:
                v["amount"] = str(F.parse_amount(v["amount"], currency))
            except ValidationError as exc:
                row.errors.append(" ".join(exc.messages))
    if entity == "activity":
        v.setdefault("kind", "note")
        if not v.get("subject"):
            row.errors.append(_("The subject is missing."))


def _split_address(values: dict[str, Any]) -> None:
    address = values.pop("address")
    if not values.get("prefecture"):
        for prefix in _PREFIXES:
            if address.startswith(prefix):
                values["prefecture"] = prefix
                address = address[len(prefix) :].strip()
                break
    values.setdefault("street", address[:200])


# Deciding -----------------------------------------------------------------


def analyse(batch: ImportBatch, progress=None) -> dict[str, int]:
    """Plan every row; returns the counts per outcome."""
    ctx = Context(batch)
    ImportRow.objects.filter(batch=batch).delete()
    counts: dict[str, int] = {}
    done = 0
    plan = bulk.TableWriter(
        ImportRow,
        [
            "batch_id",
            "number",
            "outcome",
            "target_id",
            "values",
            "cells",
            "message",
            "changed_fields",
            "score",
        ],
        now=timezone.now(),
    )
    for chunk in _chunks(read_rows(batch), CHUNK):
        planned = [clean(ctx, number, cells) for number, cells in chunk]
        decide(ctx, planned)
        with transaction.atomic():
            plan.write(
                (
                    batch.pk,
                    p.number,
                    str(p.outcome),
                    p.target_id,
                    p.values if p.outcome != Outcome.ERROR else {},
                    p.cells if p.outcome == Outcome.ERROR else [],
                    p.message,
                    p.changed,
                    p.score,
                )
                for p in planned
            )
        for p in planned:
            counts[p.outcome] = counts.get(p.outcome, 0) + 1
        done += len(planned)
        if progress is not None and not progress(done):
            break
    return counts


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def decide(ctx: Context, rows: list[Planned]) -> None:
    for row in rows:
        if row.errors:
            row.outcome = Outcome.ERROR
            row.message = " ".join(row.errors)
    live = [r for r in rows if r.outcome != Outcome.ERROR]
    entity = ctx.batch.entity
    if entity in ("contact", "lead", "company"):
        _collapse_in_file(ctx, live)
        live = [r for r in live if r.outcome != Outcome.SKIP]
    if entity == "contact":
        _resolve_companies(ctx, live)
        _exact_contacts(live)
    elif entity == "company":
        _exact_companies(live)
    elif entity == "lead":
        _exact_leads(live)
    elif entity in ("deal", "activity"):
        _resolve_relations(ctx, live)
    if entity in ("contact", "lead", "company"):
        _engine(ctx, [r for r in live if r.outcome == Outcome.CREATE])
        _check_targets(ctx, [r for r in live if r.target_id])
    for row in rows:
        if row.errors and row.outcome != Outcome.ERROR:
            row.outcome = Outcome.ERROR
            row.message = " ".join(row.errors)


def _person_keys(ctx: Context, v: dict[str, Any]) -> list[str]:
    emails = v.get("email")
    if isinstance(emails, str):
        emails = [emails] if emails else []
    keys = []
    for email in emails or ():
        key = normalize_email(email)
        if key:
            keys.append(f"e:{key}")
    company = ctx.company_key(v.get("company") or v.get("company_name") or "")
    name = ctx.name_key((v.get("family_name") or "") + (v.get("given_name") or ""))
    if company and name:
        keys.append(f"n:{name}@{company}")
    return keys


def _collapse_in_file(ctx: Context, rows: list[Planned]) -> None:
    """Rows that are the same person (or company) within the file become one."""
    firsts: dict[int, Planned] = {}
    for row in rows:
        v = row.values
        if ctx.batch.entity == "company":
            keys = [f"c:{v['corporate_number']}"] if v.get("corporate_number") else []
            keys.append(f"n:{ctx.company_key(v.get('name'))}")
        else:
            keys = _person_keys(ctx, v)
        first_number = next((ctx.seen[k] for k in keys if k in ctx.seen), None)
        if first_number is None:
            for k in keys:
                ctx.seen[k] = row.number
            firsts[row.number] = row
            continue
        row.outcome = Outcome.SKIP
        row.target_id = None
        row.message = _("The same as row %(number)d of this file.") % {"number": first_number}
        first = firsts.get(first_number)
        if first is not None:
            for key, value in v.items():
                if isinstance(value, list):
                    merged = first.values.setdefault(key, [])
                    merged.extend(x for x in value if x not in merged)
                else:
                    first.values.setdefault(key, value)


def _resolve_companies(ctx: Context, rows: list[Planned]) -> None:
    """A contact's company: by 法人番号, then by folded name; else created."""
    keys = {ctx.company_key(r.values.get("company")) for r in rows if r.values.get("company")}
    numbers = {r.values["corporate_number"] for r in rows if r.values.get("corporate_number")}
    keys -= set(ctx.companies)
    by_number: dict[str, int] = {}
    if numbers:
        by_number = dict(
            Company.objects.filter(corporate_number__in=numbers)
            .order_by("-id")
            .values_list("corporate_number", "id")
        )
    if keys:
        found = dict(
            Company.objects.filter(name_key__in=keys, kind=Company.Kind.COMPANY)
            .order_by("-id")
            .values_list("name_key", "id")
        )
        for key in keys:
            ctx.companies[key] = found.get(key)
    # Which of this chunk's companies the user may see, each asked once per file.
    wanted: set[int | None] = set(by_number.values())
    for row in rows:
        if row.values.get("company"):
            wanted.add(ctx.companies.get(ctx.company_key(row.values["company"])))
    ids = {i for i in wanted if i and i not in ctx.visible_companies}
    if ids:
        visible_now = set(
            access.visible(Company.objects.filter(pk__in=ids), ctx.user).values_list(
                "pk", flat=True
            )
        )
        for i in ids:
            ctx.visible_companies[i] = i in visible_now
    visible = ctx.visible_companies
    for row in rows:
        v = row.values
        name = v.get("company")
        number = v.get("corporate_number")
        if not name and not number:
            continue
        company_id = by_number.get(number) if number else None
        if company_id is None and name:
            company_id = ctx.companies.get(ctx.company_key(name))
        if company_id is None:
            if name:
                v["company_new"] = True
            continue
        if not visible.get(company_id):
            row.errors.append(
                _("The company “%(name)s” is not one you have access to.")
                % {"name": name or number}
            )
            continue
        v["company_id"] = company_id


def _exact_contacts(rows: list[Planned]) -> None:
    emails = {e for r in rows for e in r.values.get("email") or []}
    if not emails:
        return
    found: dict[str, int] = {}
    for email, contact_id in (
        ContactEmail.objects.filter(email__in=emails)
        .order_by("-id")
        .values_list("email", "contact_id")
    ):
        found[email] = contact_id
    for row in rows:
        for email in row.values.get("email") or []:
            if email in found:
                row.outcome = Outcome.UPDATE
                row.target_id = found[email]
                row.message = _("Same e-mail address: %(email)s") % {"email": email}
                break


def _exact_leads(rows: list[Planned]) -> None:
    emails = {r.values["email"] for r in rows if r.values.get("email")}
    if not emails:
        return
    found = dict(
        Lead.objects.filter(email__in=emails)
        .exclude(status=Lead.Status.CONVERTED)
        .order_by("-id")
        .values_list("email", "id")
    )
    for row in rows:
        if row.values.get("email") in found:
            row.outcome = Outcome.UPDATE
            row.target_id = found[row.values["email"]]
            row.message = _("Same e-mail address: %(email)s") % {"email": row.values["email"]}


def _exact_companies(rows: list[Planned]) -> None:
    numbers = {r.values["corporate_number"] for r in rows if r.values.get("corporate_number")}
    domains = {
        r.values["domain"]
        for r in rows
        if r.values.get("domain") and not is_free_mail_domain(r.values["domain"])
    }
    keys = {company_key(r.values.get("name")) for r in rows}
    query = Q(name_key__in=keys, kind=Company.Kind.COMPANY)
    if numbers:
        query |= Q(corporate_number__in=numbers)
    if domains:
        query |= Q(domain__in=domains, kind=Company.Kind.COMPANY)
    by_number: dict[str, int] = {}
    by_domain: dict[str, int] = {}
    by_key: dict[str, int] = {}
    for pk, number, domain, key in (
        Company.objects.filter(query)
        .order_by("-id")
        .values_list("pk", "corporate_number", "domain", "name_key")
    ):
        if number:
            by_number[number] = pk
        if domain:
            by_domain[domain] = pk
        by_key[key] = pk
    for row in rows:
        v = row.values
        if v.get("corporate_number") in by_number:
            row.target_id = by_number[v["corporate_number"]]
            row.message = _("Same corporate number: %(value)s") % {"value": v["corporate_number"]}
        elif v.get("domain") in by_domain:
            row.target_id = by_domain[v["domain"]]
            row.message = _("Same domain: %(value)s") % {"value": v["domain"]}
        elif company_key(v.get("name")) in by_key:
            row.target_id = by_key[company_key(v.get("name"))]
            row.message = _("Same company name: %(value)s") % {"value": v["name"]}
        if row.target_id:
            row.outcome = Outcome.UPDATE


def _engine(ctx: Context, rows: list[Planned]) -> None:
    """The 名寄せ engine: near-certain matches merge, probable ones go to review."""
    if not rows:
        return
    canonical = [matching.canonical(ctx.batch.entity, r.values) for r in rows]
    for row, match in zip(
        rows, matching.match(ctx.batch.entity, canonical, ctx.user, ctx.cache), strict=True
    ):
        if match is None:
            continue
        row.target_id = match.record_id
        row.score = match.score
        row.message = match.explanation
        row.outcome = Outcome.MERGE if match.band == "merge" else Outcome.REVIEW
        if row.outcome == Outcome.REVIEW:
            row.values["_evidence"] = match.evidence


# The fields an update may change, per object type; lists (e-mail, phone)
# only gain values.
UPDATABLE = {
    "contact": [
        "family_name",
        "given_name",
        "family_name_reading",
        "given_name_reading",
        "title",
        "department",
        "notes",
    ],
    "company": [
        "name",
        "name_reading",
        "corporate_number",
        "industry",
        "postal_code",
        "prefecture",
        "city",
        "street",
        "building",
        "website",
        "domain",
        "phone",
    ],
    "lead": [
        "family_name",
        "given_name",
        "family_name_reading",
        "given_name_reading",
        "company_name",
        "corporate_number",
        "title",
        "department",
        "phone",
        "prefecture",
        "campaign",
        "interest",
    ],
}
MODELS: dict[str, Any] = {"contact": Contact, "company": Company, "lead": Lead}


def _check_targets(ctx: Context, rows: list[Planned]) -> None:
    """Updates only touch records the user may edit, and say what changes."""
    entity = ctx.batch.entity
    model = MODELS[entity]
    ids = {r.target_id for r in rows}
    editable = set(
        access.editable(model.objects.filter(pk__in=ids), ctx.user).values_list("pk", flat=True)
    )
    visible = dict(
        (o.pk, str(o))
        for o in access.visible(model.objects.filter(pk__in=ids - editable), ctx.user)
    )
    fields = UPDATABLE[entity]
    current = {o["pk"]: o for o in model.objects.filter(pk__in=editable).values("pk", *fields)}
    channels: dict[int, set[str]] = {}
    if entity == "contact":
        for cid, email in ContactEmail.objects.filter(contact_id__in=editable).values_list(
            "contact_id", "email"
        ):
            channels.setdefault(cid, set()).add(email)
        for cid, number in ContactPhone.objects.filter(contact_id__in=editable).values_list(
            "contact_id", "number"
        ):
            channels.setdefault(cid, set()).add(number)
    for row in rows:
        if row.outcome == Outcome.REVIEW:
            if row.target_id not in visible and row.target_id not in editable:
                # Never point at a record the user cannot see: just create.
                row.target_id = None
                row.outcome = Outcome.CREATE
                row.message = ""
            continue
        if row.target_id not in editable:
            name = visible.get(row.target_id)
            row.errors.append(
                _("No permission to update %(record)s, which this row matches.")
                % {"record": f"“{name}”" if name else _("an existing record")}
            )
            continue
        before = current[row.target_id]
        row.changed = [
            f for f in fields if row.values.get(f) not in (None, "") and row.values[f] != before[f]
        ]
        if entity == "contact":
            have = channels.get(row.target_id or 0, set())
            if any(e not in have for e in row.values.get("email") or []):
                row.changed.append("email")
            if any(p not in have for p in row.values.get("phone") or []):
                row.changed.append("phone")
        if not row.changed:
            row.outcome = Outcome.SKIP
            row.message = _("No changes: the same as the existing record. %(why)s") % {
                "why": row.message
            }


def _contact_email(v: dict[str, Any]) -> str | None:
    email = v.get("contact_email")
    if isinstance(email, list):
        return email[0] if email else None
    return email or None


def _first_per_key(query, key: str) -> dict[Any, int]:
    """key value -> the pk of the first record in ``query``'s order."""
    found: dict[Any, int] = {}
    for pk, value in query.values_list("pk", key):
        found.setdefault(value, pk)
    return found


def _resolve_relations(ctx: Context, rows: list[Planned]) -> None:
    """A deal's or activity's company and contact, by natural keys.

    The keys of the whole chunk are looked up together, a few queries per
    chunk: 法人番号, then the folded name (newest first), then the domain.
    """
    visible = access.visible(Company.objects.all(), ctx.user)
    numbers = {r.values["corporate_number"] for r in rows if r.values.get("corporate_number")}
    names = {r.values["company"] for r in rows if r.values.get("company")}
    domains = {n.lower() for n in names if "." in n and " " not in n}
    by_number = by_key = by_domain = {}
    if numbers:
        by_number = _first_per_key(visible.filter(corporate_number__in=numbers), "corporate_number")
    if names:
        by_key = _first_per_key(
            visible.filter(name_key__in={ctx.company_key(n) for n in names}).order_by("-id"),
            "name_key",
        )
    if domains:
        by_domain = _first_per_key(visible.filter(domain__in=domains).order_by("-id"), "domain")
    companies = Company.objects.in_bulk(
        {*by_number.values(), *by_key.values(), *by_domain.values()}
    )
    emails = {e for r in rows if (e := _contact_email(r.values))}
    by_email: dict[Any, int] = {}
    if emails:
        by_email = {
            email: contact_id
            for contact_id, email in ContactEmail.objects.filter(
                email__in=emails, contact__in=access.visible(Contact.objects.all(), ctx.user)
            )
            .order_by("-position", "-id")
            .values_list("contact_id", "email")
        }
    for row in rows:
        v = row.values
        company_id = by_number.get(v["corporate_number"]) if v.get("corporate_number") else None
        if company_id is None and v.get("company"):
            name = v["company"]
            company_id = by_key.get(ctx.company_key(name))
            if company_id is None and "." in name and " " not in name:
                company_id = by_domain.get(name.lower())
        if (v.get("company") or v.get("corporate_number")) and company_id is None:
            row.errors.append(
                _("No company “%(name)s” that you have access to.")
                % {"name": v.get("company") or v.get("corporate_number")}
            )
        if company_id is not None:
            v["company_id"] = company_id
            row.message = str(companies[company_id])
        email = _contact_email(v)
        if email:
            contact_id = by_email.get(email)
            if contact_id is None:
                row.errors.append(_("No contact with the e-mail %(email)s.") % {"email": email})
            else:
                v["contact_id"] = contact_id
        if ctx.batch.entity == "deal" and v.get("stage"):
            stage = _stage_by_name(ctx, v["stage"])
            if stage is None:
                row.errors.append(_("No stage “%(name)s”.") % {"name": v["stage"]})
            else:
                v["stage_id"] = stage


def _stage_by_name(ctx: Context, name: str) -> int | None:
    """A stage of the active pipeline by its name in any language (read once per file)."""
    from kizuna.sales.models import Pipeline, Stage

    if "stages" not in ctx.cache:
        stages: dict[str, int] = {}
        pipeline = Pipeline.objects.filter(is_active=True).first()
        if pipeline is not None:
            for stage in Stage.objects.filter(pipeline=pipeline):
                for n in {stage.name, *(stage.translations or {}).values()}:
                    stages.setdefault(F.header_key(n), stage.pk)
        ctx.cache["stages"] = stages
    return ctx.cache["stages"].get(F.header_key(name))


__all__ = ["analyse", "clean", "decide", "Context", "email_domain"]
