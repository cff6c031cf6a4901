"""Summary tables kept right in the writing transaction.

The services bracket every write of a deal, lead or activity::

    tracked = summary.track(deals=Deal.objects.filter(pk=deal.pk))
    ...  # the write
    tracked.done()

``track`` computes what the records contribute to the summary tables before
the write, ``done`` what they contribute after it (the querysets are read
again), and applies the difference, in the same transaction: a reader never
sees a stale number and a rolled back write leaves no trace. Bulk loaders
call ``rebuild`` instead; ``kizuna analytics rebuild`` recomputes everything.

``contributions`` is the one definition of what a record adds to which row;
the rebuild, the hooks and the dashboards' shared-records part all use it.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Q

from kizuna.activities.models import Activity
from kizuna.analytics.models_summary import (
    ActivityDaily,
    CustomerMonthly,
    DealMonthly,
    LeadMonthly,
    StageReachMonthly,
)
from kizuna.customers.models import Lead
from kizuna.sales.models import Deal, Stage, StageChange

TABLES: tuple[type[models.Model], ...] = (
    DealMonthly,
    StageReachMonthly,
    CustomerMonthly,
    LeadMonthly,
    ActivityDaily,
)
# Activities people log; stage changes are written by the system (kpis.LOGGED_KINDS).
LOGGED_KINDS = [k for k in Activity.Kind.values if k != Activity.Kind.STAGE]
CHUNK = 5000
MICROSECOND = datetime.timedelta(microseconds=1)

# {table: {key tuple: [values in table.VALUES order]}}
Contributions = dict[type[models.Model], dict[tuple, list]]


def summary_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(value: datetime.datetime) -> datetime.date:
    return value.astimezone(summary_tz()).date()


def _add(into: Contributions, table: type[models.Model], key: tuple, values: list) -> None:
    row = into.setdefault(table, {}).get(key)
    if row is None:
        into[table][key] = list(values)
    else:
        for i, v in enumerate(values):
            row[i] += v


# What records contribute ---------------------------------------------------------


def _deal_contributions(qs: models.QuerySet, into: Contributions) -> None:
    rows = list(
        qs.filter(status__in=[Deal.Status.WON, Deal.Status.LOST], closed_at__isnull=False)
        .order_by()
        .values_list(
            "pk",
            "closed_at",
            "owner_id",
            "team_id",
            "pipeline_id",
            "status",
            "currency",
            "loss_reason_id",
            "amount",
            "company_id",
        )
    )
    if not rows:
        return
    ids = [r[0] for r in rows]
    tops = dict(
        StageChange.objects.filter(deal_id__in=ids, to_stage__outcome=Stage.Outcome.OPEN)
        .values("deal_id")
        .annotate(top=Max("to_stage__position"))
        .values_list("deal_id", "top")
        .order_by()
    )
    firsts = dict(
        StageChange.objects.filter(deal_id__in=ids, from_stage__isnull=True)
        .values("deal_id")
        .annotate(first=Min("at"))
        .values_list("deal_id", "first")
        .order_by()
    )
    for pk, closed_at, owner, team, pipeline, status, currency, reason, amount, company in rows:
        month = local_date(closed_at).replace(day=1)
        if company is not None and status == Deal.Status.WON:
            _add(into, CustomerMonthly, (month, company, owner or 0, team or 0), [1])
        first = firsts.get(pk) if status == Deal.Status.WON else None
        lead = [1, (closed_at - first) // MICROSECOND] if first is not None else [0, 0]
        key = (month, owner or 0, team or 0, status, currency, reason or 0)
        _add(into, DealMonthly, key, [1, amount or Decimal(0), *lead])
        top = tops.get(pk)
        if top is not None:
            key = (month, owner or 0, team or 0, pipeline, status, top)
            _add(into, StageReachMonthly, key, [1])


def _lead_contributions(qs: models.QuerySet, into: Contributions) -> None:
    qualified = {Lead.Status.QUALIFIED, Lead.Status.CONVERTED}
    won = Deal.objects.filter(source_lead=OuterRef("pk"), status=Deal.Status.WON)
    rows = (
        qs.order_by()
        .annotate(won=Exists(won))
        .values_list("created_at", "owner_id", "team_id", "status", "channel", "won")
    )
    for created_at, owner, team, status, channel, has_won in rows.iterator(chunk_size=CHUNK):
        month = local_date(created_at).replace(day=1)
        key = (month, owner or 0, team or 0, status in qualified, channel)
        _add(into, LeadMonthly, key, [1, int(has_won)])


def _activity_contributions(qs: models.QuerySet, into: Contributions) -> None:
    rows = (
        qs.filter(kind__in=LOGGED_KINDS)
        .order_by()
        .values_list("occurred_at", "owner_id", "team_id", "kind")
    )
    for occurred_at, owner, team, kind in rows.iterator(chunk_size=CHUNK):
        _add(into, ActivityDaily, (local_date(occurred_at), owner or 0, team or 0, kind), [1])


def contributions(
    *,
    deals: models.QuerySet | None = None,
    leads: models.QuerySet | None = None,
    activities: models.QuerySet | None = None,
) -> Contributions:
    """What these records add to the summary tables, row by row."""
    into: Contributions = {}
    if deals is not None:
        _deal_contributions(deals, into)
    if leads is not None:
        _lead_contributions(leads, into)
    if activities is not None:
        _activity_contributions(activities, into)
    return into


# Applying differences ------------------------------------------------------------


def _apply_row(table: type[models.Model], key: tuple, delta: list) -> None:
    lookup = dict(zip(table.KEY, key, strict=True))  # type: ignore[attr-defined]
    names: tuple[str, ...] = table.VALUES  # type: ignore[attr-defined]
    changes = {name: F(name) + d for name, d in zip(names, delta, strict=True) if d}
    if table._default_manager.filter(**lookup).update(**changes):
        return
    try:
        with transaction.atomic():
            table._default_manager.create(**lookup, **dict(zip(names, delta, strict=True)))
    except IntegrityError:
        # Another transaction created the row first.
        table._default_manager.filter(**lookup).update(**changes)


def apply(before: Contributions, after: Contributions) -> None:
    """Add ``after − before`` to the summary tables."""
    for table in TABLES:
        old, new = before.get(table, {}), after.get(table, {})
        for key in old.keys() | new.keys():
            a = old.get(key) or [0] * len(table.VALUES)  # type: ignore[attr-defined]
            b = new.get(key) or [0] * len(table.VALUES)  # type: ignore[attr-defined]
            delta = [y - x for x, y in zip(a, b, strict=True)]
            if any(delta):
                _apply_row(table, key, delta)


class Tracked:
    def __init__(self, querysets: dict[str, models.QuerySet | None]):
        self.querysets = querysets
        self.before = contributions(**querysets)

    def done(self, **created: models.QuerySet) -> None:
        """Apply the change; ``created`` names records that did not exist before
        (nothing to take away for them)."""
        after = contributions(**self.querysets)
        if created:
            more = contributions(**created)
            for table, rows in more.items():
                for key, values in rows.items():
                    _add(after, table, key, values)
        apply(self.before, after)


def track(
    *,
    deals: models.QuerySet | None = None,
    leads: models.QuerySet | None = None,
    activities: models.QuerySet | None = None,
) -> Tracked:
    """Note what these records contribute now; call ``done()`` after the write."""
    return Tracked({"deals": deals, "leads": leads, "activities": activities})


def source_leads(*ids: int | None) -> models.QuerySet:
    """These leads, as a fixed set: whether a lead has a won deal is part of
    what it contributes, so a deal write tracks its source lead(s) too."""
    return Lead.objects.filter(pk__in=sorted({i for i in ids if i}))


def deal_scope(pk: int, *, leads: Iterable[int | None] = ()) -> dict[str, models.QuerySet]:
    """A deal, the activities that go with it (deleted with it, created by a
    move) and its source lead (plus ``leads``, say the one it is given now)."""
    current = Deal.objects.filter(pk=pk).values_list("source_lead_id", flat=True).first()
    return {
        "deals": Deal.objects.filter(pk=pk),
        "activities": Activity.objects.filter(deal_id=pk),
        "leads": source_leads(current, *leads),
    }


def merge_scope(entity: str, ids: list[int]) -> dict[str, models.QuerySet]:
    """What a merge (or its undo) of these records may change: the leads
    themselves, the deals of merged companies and the activities of any merged
    record."""
    column = {"lead": "lead_id", "contact": "contact_id", "company": "company_id"}.get(entity)
    scope: dict[str, models.QuerySet] = {}
    if entity == "lead":
        scope["leads"] = Lead.objects.filter(pk__in=ids)
    if entity == "company":
        # The deals move to the survivor: who was a customer when changes.
        scope["deals"] = Deal.objects.filter(company_id__in=ids)
    if column:
        scope["activities"] = Activity.objects.filter(**{f"{column}__in": ids})
    return scope


# Rebuilding ----------------------------------------------------------------------


def _write(table: type[models.Model], rows: dict[tuple, list]) -> None:
    names = (*table.KEY, *table.VALUES)  # type: ignore[attr-defined]
    objs = [table(**dict(zip(names, (*k, *v), strict=True))) for k, v in rows.items() if any(v)]
    table._default_manager.bulk_create(objs, batch_size=1000)


def _chunks(qs: models.QuerySet) -> Iterable[models.QuerySet]:
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield qs.model._default_manager.filter(pk__in=ids)
        last = ids[-1]


@transaction.atomic
def rebuild(
    *, owner_ids: Iterable[int | None] | None = None, tables: Iterable[str] | None = None
) -> dict[str, int]:
    """Recompute the summary rows of these owners (all when None) from the
    records; ``tables`` picks among "deals", "leads", "activities". Returns
    the rows written per table."""
    wanted = set(tables or ("deals", "leads", "activities"))
    owners = None if owner_ids is None else {o or 0 for o in owner_ids}
    written: dict[str, int] = {}

    def owned(qs: models.QuerySet) -> models.QuerySet:
        if owners is None:
            return qs
        q = Q(owner_id__in=owners - {0})
        if 0 in owners:
            q |= Q(owner__isnull=True)
        return qs.filter(q)

    plan: list[tuple[str, tuple[type[models.Model], ...], models.QuerySet]] = [
        ("deals", (DealMonthly, StageReachMonthly, CustomerMonthly), Deal.objects.all()),
        ("leads", (LeadMonthly,), Lead.objects.all()),
        ("activities", (ActivityDaily,), Activity.objects.all()),
    ]
    for name, tables_of, qs in plan:
        if name not in wanted:
            continue
        into: Contributions = {}
        for table in tables_of:
            rows = table._default_manager.all()
            if owners is not None:
                rows = rows.filter(owner_id__in=owners)
            rows.delete()
        source = owned(qs)
        if name == "deals":
            source = source.filter(status__in=[Deal.Status.WON, Deal.Status.LOST])
        if name == "activities":
            source = source.filter(kind__in=LOGGED_KINDS)
        for chunk in _chunks(source):
            _merge(into, contributions(**{name: chunk}))
        for table in tables_of:
            _write(table, into.get(table, {}))
            written[table.__name__] = len(into.get(table, {}))
    return written


def _merge(into: Contributions, more: Contributions) -> None:
    for table, rows in more.items():
        for key, values in rows.items():
            _add(into, table, key, values)


def totals() -> dict[str, int]:
    return {t.__name__: t._default_manager.count() for t in TABLES}
