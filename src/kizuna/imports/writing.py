"""The run: carry out a previewed plan in short transactions, and undo it.

Each chunk of rows is one transaction that also writes an ``ImportChunk``
with the ids it created and the before-values of what it updated. Undo, and
the rollback of a cancelled or failed run, replay the chunks backwards, one
transaction each, deleting every chunk they have undone: an interrupted undo
is finished by running it again.

Companies, contacts and leads are written with ``bulk_create`` /
``bulk_update``, doing what their services do on a single write: the folded
name key, E.164 phones (already in the plan), the search index (the FTS5
triggers on SQLite, the GIN expression on PostgreSQL follow the column), the
company path and the contact's employment. Deals and activities go through
their services row by row: they have stage rules, hand-off tasks and
webhooks, and their files are small.
"""

import datetime
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kizuna.analytics import summary
from kizuna.automation import assignment, sla
from kizuna.core.text import company_key, search_grams
from kizuna.customers.models import (
    Company,
    Contact,
    ContactEmail,
    ContactEmployment,
    ContactPhone,
    Lead,
)
from kizuna.imports import bulk
from kizuna.imports.analysis import UPDATABLE
from kizuna.imports.models import ImportBatch, ImportChunk, ImportRow

Outcome = ImportRow.Outcome
CHUNK = 2000
WRITTEN = [Outcome.CREATE, Outcome.UPDATE, Outcome.MERGE, Outcome.REVIEW]
# Undo deletes in this order, so that nothing it deletes is still referred to.
DELETE_ORDER = [
    "activities.activity",
    "sales.deal",
    "customers.contactemail",
    "customers.contactphone",
    "customers.contact",
    "customers.lead",
    "customers.company",
]


class Cancelled(Exception):
    pass


class Row:
    __slots__ = ("pk", "number", "outcome", "target_id", "values", "record_id", "error", "score")

    def __init__(self, pk, number, outcome, target_id, values, score):
        self.pk, self.number, self.outcome = pk, number, outcome
        self.target_id, self.values, self.score = target_id, values, score
        self.record_id: int | None = None
        self.error = ""


class Writer:
    def __init__(self, batch: ImportBatch):
        from kizuna.iam.models import User

        self.batch = batch
        self.actor = batch.created_by
        self.teams = dict(User.objects.values_list("pk", "team_id"))
        # company_key -> id of the companies this run created
        self.new_companies: dict[str, int] = {}
        self.now = timezone.now()
        self.today = timezone.localdate()
        self._grams: dict[str, str] = {}
        self._company_keys: dict[str, str] = {}
        self._tables: dict[tuple, bulk.TableWriter] = {}

    def table(self, model, columns: tuple[str, ...]) -> bulk.TableWriter:
        writer = self._tables.get((model, columns))
        if writer is None:
            writer = self._tables[(model, columns)] = bulk.TableWriter(model, columns, self.now)
        return writer

    def company_key(self, name: str) -> str:
        key = self._company_keys.get(name)
        if key is None:
            key = self._company_keys[name] = company_key(name)
        return key

    def address_grams(self, email: str) -> str:
        """``search_grams(email)``: of an ASCII address, the local part's
        grams and the (cached) domain's, since "@" separates words."""
        local, at, domain = email.rpartition("@")
        if not at or not email.isascii():
            return search_grams(email)
        return self.grams(domain) if not local else self._join(search_grams(local), domain)

    def _join(self, first: str, value: str) -> str:
        rest = self.grams(value)
        return f"{first} {rest}" if first and rest else first or rest

    def grams(self, *values: str) -> str:
        """``core.text.search_grams(*values)``, cached per value.

        The grams of several values are the grams of each joined by a space,
        and names, titles and departments repeat from row to row.
        """
        cache = self._grams
        parts = []
        for value in values:
            if not value:
                continue
            grams = cache.get(value)
            if grams is None:
                grams = search_grams(value)
                if len(cache) < 200_000:
                    cache[value] = grams
            if grams:
                parts.append(grams)
        return " ".join(parts)

    def ownership(self, values: dict[str, Any]) -> tuple[int, int | None]:
        # The owner column, else the importing user.
        owner_id = values.get("owner") or self.actor.pk
        return owner_id, self.teams.get(owner_id)


_ROWS_SQL = (
    'SELECT "id", "number", "outcome", "target_id", "values", "score" '
    f'FROM "{ImportRow._meta.db_table}" WHERE "batch_id" = %s AND "outcome" IN (%s, %s, %s, %s) '
    'AND "number" > %s ORDER BY "number" LIMIT %s'
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _rows(batch: ImportBatch) -> Iterator[list[Row]]:
    last = 0
    while True:
        # Raw rows: the plan's JSON decoded once, without the ORM's per-row
        # conversions.
        with connection.cursor() as cursor:
            cursor.execute(_ROWS_SQL, [batch.pk, *map(str, WRITTEN), last, CHUNK])
            chunk = [
                Row(pk, number, outcome, target, _json(values), score)
                for pk, number, outcome, target, values, score in cursor.fetchall()
            ]
        if not chunk:
            return
        last = chunk[-1].number
        yield chunk


def run(batch: ImportBatch, progress: Callable[[int], bool]) -> dict[str, int]:
    """Write the plan; raises Cancelled when ``progress`` says stop."""
    writer = Writer(batch)
    write = WRITERS[batch.entity]
    done = 0
    errors = 0
    for seq, rows in enumerate(_rows(batch)):
        if not progress(done):
            raise Cancelled
        with transaction.atomic():
            chunk = ImportChunk(batch=batch, seq=seq, created={}, before={}, after={})
            write(writer, rows, chunk)
            chunk.save()
            _record_rows(rows)
            errors += sum(1 for r in rows if r.error)
            if batch.entity in ("contact", "lead", "company"):
                _queue_reviews(batch, rows)
        done += len(rows)
    progress(done)
    return {"errors": errors}


def fast_update(model, objects: list, fields: list[str]) -> None:
    """Save ``fields`` of ``objects``, one row each (``bulk.update_rows``).

    Django's ``bulk_update`` builds one ``CASE WHEN id = … THEN …`` per field
    and batch, which costs more to build and to plan than the updates
    themselves (20 s for 1,500 contacts of nine fields, measured).
    """
    if not objects:
        return
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in concrete] + [obj.pk]
        for obj in objects
    ]
    bulk.update_rows(model, fields, params)


def _record_rows(rows: list[Row]) -> None:
    """The rows the run itself refused (deals, activities, vanished targets).

    Which record each row created is not written back per row: the chunk's
    ids are what undo needs, and 100,000 single-row updates would cost as
    much as the import's own writes.
    """
    failed = [r for r in rows if r.error]
    if failed:
        ImportRow.objects.bulk_update(
            [ImportRow(pk=r.pk, outcome=Outcome.ERROR, message=r.error) for r in failed],
            ["outcome", "message"],
        )


def _queue_reviews(batch: ImportBatch, rows: list[Row]) -> None:
    reviews = [r for r in rows if r.outcome == Outcome.REVIEW and r.record_id and r.target_id]
    if not reviews:
        return
    from kizuna.dedup import services as dedup

    dedup.candidates_add_many(
        entity=batch.entity,
        pairs=[
            (
                int(r.target_id or 0),
                int(r.record_id or 0),
                r.score or 0.0,
                r.values.get("_evidence"),
            )
            for r in reviews
        ],
        source="import",
        import_batch_id=batch.pk,
    )


def _add(chunk: ImportChunk, label: str, ids: list[int]) -> None:
    if ids:
        chunk.created.setdefault(label, []).extend(ids)


# Companies ----------------------------------------------------------------

COMPANY_TEXT = UPDATABLE["company"]


def _new_company(writer: Writer, values: dict[str, Any], name_field: str) -> dict[str, Any]:
    """The columns of a new top-level company (``COMPANY_COLUMNS`` without the ids)."""
    owner_id, team_id = writer.ownership(values)
    name = values[name_field]
    company: dict[str, Any] = dict.fromkeys(COMPANY_TEXT, "")
    company.update(
        owner_id=owner_id,
        team_id=team_id,
        kind=str(Company.Kind.COMPANY),
        name=name,
        name_key=writer.company_key(name),
    )
    if name_field == "name":
        for f in COMPANY_TEXT:
            if f != "name" and values.get(f):
                company[f] = values[f]
        if values.get("phone"):
            phone = values["phone"]
            company["phone"] = phone[0] if isinstance(phone, list) else phone
    else:
        company["corporate_number"] = values.get("corporate_number", "")
    company["postal_code"] = company["postal_code"].replace("〒", "").strip()
    company["search_index"] = _company_index(writer, company)
    return company


COMPANY_COLUMNS = ("owner_id", "team_id", "kind", "name_key", "search_index", *COMPANY_TEXT)


def _create_companies(writer: Writer, companies: list[dict[str, Any]], chunk: ImportChunk) -> None:
    """Write new top-level companies; their ``path`` is their own id."""
    ids = bulk.reserve_ids(Company, len(companies))
    writer.table(Company, ("id", "path", *COMPANY_COLUMNS)).write(
        (pk, f"/{pk}/", *[company[name] for name in COMPANY_COLUMNS])
        for company, pk in zip(companies, ids, strict=True)
    )
    for company, pk in zip(companies, ids, strict=True):
        company["id"] = pk
    _add(chunk, "customers.company", ids)


def write_companies(writer: Writer, rows: list[Row], chunk: ImportChunk) -> None:
    creates = [r for r in rows if r.outcome in (Outcome.CREATE, Outcome.REVIEW)]
    companies = [_new_company(writer, r.values, "name") for r in creates]
    _create_companies(writer, companies, chunk)
    for r, company in zip(creates, companies, strict=True):
        r.record_id = company["id"]
    _update(writer, Company, rows, chunk, COMPANY_TEXT, lambda obj: _company_index(writer, obj))


def _update(
    writer: Writer,
    model,
    rows: list[Row],
    chunk: ImportChunk,
    fields: list[str],
    index: Callable[[dict[str, Any]], str],
    extra_fields: tuple[str, ...] = (),
    read_only: tuple[str, ...] = (),
) -> dict[int, dict[str, Any]]:
    """Apply the rows' non-empty values to the records they update or merge into.

    The records are read as dicts (``fields``, ``extra_fields`` and what
    ``index`` needs besides), locked, and written back with their new search
    index, version and ``updated_at`` in a few statements.
    """
    updates = [r for r in rows if r.outcome in (Outcome.UPDATE, Outcome.MERGE)]
    if not updates:
        return {}
    saved = [*fields, *extra_fields, "search_index", "version"]
    targets = {
        obj["id"]: obj
        for obj in model.objects.select_for_update()
        .filter(pk__in=[r.target_id for r in updates])
        .order_by()
        .values("id", *saved, *read_only)
    }
    label = model._meta.label_lower
    before = chunk.before.setdefault(label, {})
    after = chunk.after.setdefault(label, {})
    for r in updates:
        obj = targets.get(r.target_id)
        if obj is None:
            r.error = _("The record this row matched was deleted in the meantime.")
            continue
        if str(obj["id"]) not in before:
            before[str(obj["id"])] = {f: obj[f] for f in saved}
        for f in fields:
            value = r.values.get(f)
            if isinstance(value, list):
                value = value[0] if value else ""
            if value not in (None, ""):
                obj[f] = value
        r.record_id = obj["id"]
    written = [*fields, *extra_fields, "search_index", "version", "updated_at"]
    now = model._meta.get_field("updated_at").get_db_prep_save(writer.now, connection)
    values = []
    for obj in targets.values():
        obj["search_index"] = index(obj)
        obj["version"] += 1
        after[str(obj["id"])] = obj["version"]
        values.append([*(obj[f] for f in written[:-1]), now, obj["id"]])
    bulk.update_rows(model, written, values)
    return targets


def _company_index(writer: Writer, company: dict[str, Any]) -> str:
    """``Company.search_values()`` as the search index, from a dict of its columns."""
    return writer.grams(
        company["name"],
        company["name_reading"],
        company["corporate_number"],
        company["domain"],
        company["city"],
        (company["phone"] or "").lstrip("+"),
    )


# Contacts -----------------------------------------------------------------

CONTACT_TEXT = UPDATABLE["contact"]


def _companies_for(writer: Writer, rows: list[Row], chunk: ImportChunk) -> None:
    """Create the companies that contact rows name and that do not exist yet."""
    wanted: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.values.get("company_new"):
            key = writer.company_key(r.values["company"])
            if key not in writer.new_companies:
                wanted.setdefault(key, r.values)
    if not wanted:
        return
    companies = [_new_company(writer, values, "company") for values in wanted.values()]
    _create_companies(writer, companies, chunk)
    for key, company in zip(wanted, companies, strict=True):
        writer.new_companies[key] = company["id"]


def _company_id(writer: Writer, values: dict[str, Any]) -> int | None:
    if values.get("company_id"):
        return values["company_id"]
    if values.get("company_new"):
        return writer.new_companies[writer.company_key(values["company"])]
    return None


CONTACT_COLUMNS = ("id", "owner_id", "team_id", "company_id", "search_index", *CONTACT_TEXT)


def _contact_index(writer: Writer, v: dict[str, Any], emails, phones) -> str:
    """``Contact.search_values()``, then the e-mails and phones, as the
    contact services index them."""
    family, given = v.get("family_name") or "", v.get("given_name") or ""
    return " ".join(
        g
        for g in (
            writer.grams(
                family + given,
                family,
                given,
                (v.get("family_name_reading") or "") + (v.get("given_name_reading") or ""),
                v.get("title") or "",
                v.get("department") or "",
            ),
            *map(writer.address_grams, emails),
            *(search_grams(p.lstrip("+")) for p in phones),
        )
        if g
    )


def write_contacts(writer: Writer, rows: list[Row], chunk: ImportChunk) -> None:
    _companies_for(writer, rows, chunk)
    creates = [r for r in rows if r.outcome in (Outcome.CREATE, Outcome.REVIEW)]
    ids = bulk.reserve_ids(Contact, len(creates))
    contacts, emails, phones, jobs = [], [], [], []
    today = writer.today
    for r, pk in zip(creates, ids, strict=True):
        v = r.values
        owner_id, team_id = writer.ownership(v)
        company_id = _company_id(writer, v)
        text = [v.get(f) or "" for f in CONTACT_TEXT]
        title, department = v.get("title") or "", v.get("department") or ""
        numbers = v.get("phone") or ()
        addresses = v.get("email") or ()
        search = _contact_index(writer, v, addresses, numbers)
        contacts.append((pk, owner_id, team_id, company_id, search, *text))
        for i, email in enumerate(addresses):
            emails.append((pk, email, i))
        for i, number in enumerate(numbers):
            phones.append((pk, number, i))
        if company_id:
            met = v.get("met_on")
            jobs.append((pk, company_id, title, department, parse_date(met) if met else today))
        r.record_id = pk
    writer.table(Contact, CONTACT_COLUMNS).write(contacts)
    _add(chunk, "customers.contact", ids)
    writer.table(ContactEmail, ("contact_id", "email", "position")).write(emails)
    writer.table(ContactPhone, ("contact_id", "number", "position")).write(phones)
    writer.table(
        ContactEmployment, ("contact_id", "company_id", "title", "department", "started_on")
    ).write(jobs)
    _update_contacts(writer, rows, chunk)


def _update_contacts(writer: Writer, rows: list[Row], chunk: ImportChunk) -> None:
    updates = [r for r in rows if r.outcome in (Outcome.UPDATE, Outcome.MERGE)]
    if not updates:
        return
    ids = [r.target_id for r in updates]
    have: dict[int, tuple[list[str], list[str]]] = {i: ([], []) for i in ids}
    for cid, email in ContactEmail.objects.filter(contact_id__in=ids).values_list(
        "contact_id", "email"
    ):
        have[cid][0].append(email)
    for cid, number in ContactPhone.objects.filter(contact_id__in=ids).values_list(
        "contact_id", "number"
    ):
        have[cid][1].append(number)
    new_emails, new_phones = [], []
    for r in updates:
        emails, phones = have[r.target_id]
        for email in r.values.get("email") or []:
            if email not in emails:
                new_emails.append(
                    ContactEmail(contact_id=r.target_id, email=email, position=len(emails))
                )
                emails.append(email)
        for number in r.values.get("phone") or []:
            if number not in phones:
                new_phones.append(
                    ContactPhone(contact_id=r.target_id, number=number, position=len(phones))
                )
                phones.append(number)
    ContactEmail.objects.bulk_create(new_emails, batch_size=1000)
    ContactPhone.objects.bulk_create(new_phones, batch_size=1000)
    _add(chunk, "customers.contactemail", [e.pk for e in new_emails])
    _add(chunk, "customers.contactphone", [p.pk for p in new_phones])

    def index(contact: dict[str, Any]) -> str:
        emails, phones = have.get(contact["id"], ([], []))
        return _contact_index(writer, contact, emails, phones)

    # A contact without a company gains the row's company; one with a
    # company keeps it (moving a person is a decision, not an import).
    for r in updates:
        company_id = _company_id(writer, r.values)
        r.values["company_id_new"] = company_id
    targets = _update(writer, Contact, rows, chunk, CONTACT_TEXT, index, ("company_id",))
    moved = []
    for r in updates:
        contact = targets.get(int(r.target_id or 0))
        if contact is not None and contact["company_id"] is None and r.values.get("company_id_new"):
            contact["company_id"] = r.values["company_id_new"]
            moved.append([contact["company_id"], contact["id"]])
    bulk.update_rows(Contact, ["company_id"], moved)


# Leads --------------------------------------------------------------------

LEAD_TEXT = UPDATABLE["lead"]


def write_leads(writer: Writer, rows: list[Row], chunk: ImportChunk) -> None:
    creates = [r for r in rows if r.outcome in (Outcome.CREATE, Outcome.REVIEW)]
    leads = []
    for r in creates:
        v = r.values
        owner_id = v.get("owner")
        lead = Lead(
            owner_id=owner_id,
            team_id=writer.teams.get(owner_id) if owner_id else None,
            email=v.get("email", ""),
            channel=str(v.get("channel") or Lead.Channel.OTHER),
            **{f: v.get(f, "") for f in LEAD_TEXT},
        )
        lead.refresh_search_index()
        leads.append(lead)
    # Leads without an owner column go to the team of their territory
    # (assignment rules), else to the importing user; each starts its
    # first-contact SLA as a lead typed by hand does.
    assignment.assign_owners("lead", leads)
    for lead in leads:
        if lead.owner_id is None:
            lead.owner_id, lead.team_id = writer.ownership({})
    sla.start_many(leads)
    updated = [r.target_id for r in rows if r.outcome in (Outcome.UPDATE, Outcome.MERGE)]
    tracked = summary.track(leads=Lead.objects.filter(pk__in=[i for i in updated if i]))
    ids = bulk.reserve_ids(Lead, len(leads))
    columns = (
        "id",
        "owner_id",
        "team_id",
        "email",
        "channel",
        "first_contact_due_at",
        "search_index",
        *LEAD_TEXT,
    )
    for lead, pk in zip(leads, ids, strict=True):
        lead.pk = pk
    writer.table(Lead, columns).write([getattr(lead, c) for c in columns] for lead in leads)
    _add(chunk, "customers.lead", ids)
    for r, lead in zip(creates, leads, strict=True):
        r.record_id = lead.pk

    def index(lead: dict[str, Any]) -> str:
        obj = Lead(**{f: lead[f] for f in (*LEAD_TEXT, "email", "campaign")})
        obj.refresh_search_index()
        return obj.search_index

    _update(writer, Lead, rows, chunk, LEAD_TEXT, index, read_only=("email",))
    tracked.done(leads=Lead.objects.filter(pk__in=ids))


# Deals and activities -------------------------------------------------------


def _service_rows(writer: Writer, rows: list[Row], chunk: ImportChunk, create, label) -> None:
    from kizuna.iam.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in={r.values.get("owner") for r in rows})}
    ids = []
    for r in rows:
        try:
            with transaction.atomic():
                obj = create(r.values, users.get(r.values.get("owner")))
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            r.error = " ".join(str(m) for m in messages)
            continue
        r.record_id = obj.pk
        ids.append(obj.pk)
    _add(chunk, label, ids)


def write_deals(writer: Writer, rows: list[Row], chunk: ImportChunk) -> None:
    from kizuna.sales.models import Stage
    from kizuna.sales.services import deal_create

    def create(v, owner):
        contact = Contact.objects.get(pk=v["contact_id"]) if v.get("contact_id") else None
        return deal_create(
            actor=writer.actor,
            owner=owner,
            name=v["name"],
            company=Company.objects.get(pk=v["company_id"]),
            amount=Decimal(v.get("amount") or 0),
            currency=v.get("currency") or "JPY",
            expected_close_date=parse_date(v["expected_close_date"])
            if v.get("expected_close_date")
            else None,
            stage=Stage.objects.get(pk=v["stage_id"]) if v.get("stage_id") else None,
            contacts=[(contact, "other")] if contact else None,
        )

    _service_rows(writer, rows, chunk, create, "sales.deal")


def write_activities(writer: Writer, rows: list[Row], chunk: ImportChunk) -> None:
    from kizuna.activities.services import activity_create

    def create(v, owner):
        when = None
        if v.get("occurred_at"):
            day = parse_date(v["occurred_at"])
            when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        return activity_create(
            actor=writer.actor,
            owner=owner,
            kind=v.get("kind") or "note",
            subject=v["subject"],
            body=v.get("body", ""),
            occurred_at=when,
            company=Company.objects.get(pk=v["company_id"]) if v.get("company_id") else None,
            contact=Contact.objects.get(pk=v["contact_id"]) if v.get("contact_id") else None,
        )

    _service_rows(writer, rows, chunk, create, "activities.activity")


WRITERS = {
    "company": write_companies,
    "contact": write_contacts,
    "lead": write_leads,
    "deal": write_deals,
    "activity": write_activities,
}


# Undo ---------------------------------------------------------------------


def conflicts(batch: ImportBatch, limit: int = 10) -> list[str]:
    """Records changed since the import: undoing would lose those changes.

    Every query is about one chunk's records (at most ``CHUNK`` ids), so a
    batch of a million rows neither builds an IN list SQLite refuses nor
    reads every chunk again per chunk.
    """
    found: list[str] = []
    mine: dict[str, set[int]] = {}
    for chunk in ImportChunk.objects.filter(batch=batch):
        for label, ids in chunk.created.items():
            model = apps.get_model(label)
            if hasattr(model, "version"):
                for obj in model.objects.filter(pk__in=ids, version__gt=1)[:limit]:
                    found.append(str(obj))
        for label, versions in chunk.after.items():
            model = apps.get_model(label)
            current = dict(
                model.objects.filter(pk__in=[int(i) for i in versions]).values_list("pk", "version")
            )
            changed = [pk for pk, v in current.items() if versions.get(str(pk)) != v]
            found.extend(str(o) for o in model.objects.filter(pk__in=changed)[:limit])
        for label, other_label, field in (
            ("customers.company", "customers.contact", "company_id"),
            ("customers.company", "sales.deal", "company_id"),
        ):
            ids = chunk.created.get(label)
            if not ids:
                continue
            if other_label not in mine:
                mine[other_label] = set(_created_ids(batch, other_label))
            model = apps.get_model(other_label)
            others = model.objects.filter(**{f"{field}__in": ids}).values_list("pk", flat=True)
            theirs = [pk for pk in others if pk not in mine[other_label]][:limit]
            found.extend(str(o) for o in model.objects.filter(pk__in=theirs))
        if len(found) >= limit:
            break
    return found[:limit]


def _created_ids(batch: ImportBatch, label: str) -> list[int]:
    ids: list[int] = []
    for created in ImportChunk.objects.filter(batch=batch).values_list("created", flat=True):
        ids.extend(created.get(label, []))
    return ids


def undo(batch: ImportBatch) -> None:
    """Undo every chunk, last first, one transaction each."""
    for chunk_id in (
        ImportChunk.objects.filter(batch=batch).order_by("-seq").values_list("pk", flat=True)
    ):
        with transaction.atomic():
            chunk = ImportChunk.objects.select_for_update().filter(pk=chunk_id).first()
            if chunk is None:
                continue
            _undo_chunk(chunk)
            chunk.delete()


def _summary_scope(chunk: ImportChunk) -> dict[str, Any]:
    """The deals, leads and activities an undo may change or delete (also
    through a deleted company, contact, deal or lead)."""
    from django.db.models import Q

    from kizuna.activities.models import Activity
    from kizuna.sales.models import Deal

    def ids(label: str) -> list[int]:
        return [*chunk.created.get(label, []), *map(int, chunk.before.get(label, {}))]

    return {
        "deals": Deal.objects.filter(pk__in=ids("sales.deal")),
        "leads": Lead.objects.filter(pk__in=ids("customers.lead")),
        "activities": Activity.objects.filter(
            Q(pk__in=ids("activities.activity"))
            | Q(deal_id__in=ids("sales.deal"))
            | Q(lead_id__in=ids("customers.lead"))
            | Q(contact_id__in=chunk.created.get("customers.contact", []))
            | Q(company_id__in=chunk.created.get("customers.company", []))
        ),
    }


def _undo_chunk(chunk: ImportChunk) -> None:
    tracked = summary.track(**_summary_scope(chunk))
    _undo_records(chunk)
    tracked.done()


def _undo_records(chunk: ImportChunk) -> None:
    for label, records in chunk.before.items():
        model = apps.get_model(label)
        groups: dict[tuple[str, ...], list] = {}
        for pk, values in records.items():
            obj = model(pk=int(pk), **values)
            groups.setdefault(tuple(values), []).append(obj)
        for fields, objects in groups.items():
            fast_update(model, objects, list(fields))
    for label in DELETE_ORDER:
        ids = chunk.created.get(label)
        if ids:
            model = apps.get_model(label)
            for start in range(0, len(ids), 500):
                model.objects.filter(pk__in=ids[start : start + 500]).delete()
    for label in set(chunk.created) - set(DELETE_ORDER):
        apps.get_model(label).objects.filter(pk__in=chunk.created[label]).delete()


__all__ = ["run", "undo", "conflicts", "Cancelled", "F"]
