"""The KPI definitions, in one place.

Every function takes the acting user and reads only what the access gate
(``core.access.visible``) lets that user see, so a rep's "team" numbers are the
numbers of the records she may open. ``team`` and ``owner`` narrow further (the
dashboards' filters). A period is anything with ``start`` and ``end`` dates
(``end`` exclusive): a ``periods.FiscalPeriod`` or a ``periods.Span``. A rate
whose denominator is zero is ``None`` ("n/a"), never a division error.

Each function also has a ``*_records`` partner (or a ``records`` argument) that
returns the queryset behind the number, so a dashboard tile drills down to
exactly the rows it counted.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.utils import timezone

from kizuna.activities.models import Activity
from kizuna.analytics.periods import FiscalPeriod, Span, add_months, day_start, years_before
from kizuna.core import access
from kizuna.customers.models import Lead
from kizuna.sales.models import Deal, Pipeline, Quote, Stage, StageChange

ZERO = Decimal(0)
BANT = ("budget_status", "authority_status", "need_status", "timing_status")
# Activities people log; stage changes are written by the system.
LOGGED_KINDS = [k for k in Activity.Kind.values if k != Activity.Kind.STAGE]


class PeriodLike(Protocol):
    @property
    def start(self) -> datetime.date: ...

    @property
    def end(self) -> datetime.date: ...


@dataclass(frozen=True)
class Rate:
    """``numerator / denominator``, or None when the denominator is zero."""

    numerator: int | Decimal
    denominator: int | Decimal

    @property
    def value(self) -> float | None:
        if not self.denominator:
            return None
        return float(self.numerator) / float(self.denominator)


def _narrow(qs: QuerySet, team: Any = None, owner: Any = None) -> QuerySet:
    if team:
        qs = qs.filter(team_id=getattr(team, "pk", team))
    if owner:
        qs = qs.filter(owner_id=getattr(owner, "pk", owner))
    return qs


def _between(field_name: str, period: PeriodLike, *, datetime_field: bool = True) -> Q:
    if datetime_field:
        return Q(
            **{
                f"{field_name}__gte": day_start(period.start),
                f"{field_name}__lt": day_start(period.end),
            }
        )
    return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.end})


def deals(*, user, team=None, owner=None) -> QuerySet[Deal]:
    """Every deal the user may see, narrowed by team and owner."""
    return _narrow(access.visible(Deal.objects.all(), user), team, owner).order_by()


# Leads ---------------------------------------------------------------------------


QUALIFIED = [Lead.Status.QUALIFIED, Lead.Status.CONVERTED]


def sql_records(*, user, period: PeriodLike, team=None, owner=None, qualified=None):
    qs = _narrow(access.visible(Lead.objects.all(), user), team, owner)
    qs = qs.filter(_between("created_at", period))
    if qualified:
        qs = qs.filter(status__in=QUALIFIED)
    return qs


def sql_rate(*, user, period: PeriodLike, team=None, owner=None) -> Rate:
    """SQL rate (lead → qualified).

    leads created in the period that are now qualified or converted
    ÷ leads created in the period.
    """
    row = sql_records(user=user, period=period, team=team, owner=owner).aggregate(
        n=Count("id"), q=Count("id", filter=Q(status__in=QUALIFIED))
    )
    return Rate(row["q"], row["n"])


@dataclass
class ChannelRow:
    channel: str
    label: str
    leads: int
    won: int  # leads with at least one won deal

    @property
    def rate(self) -> float | None:
        return Rate(self.won, self.leads).value


def channel_conversion(*, user, period: PeriodLike, team=None, owner=None) -> list[ChannelRow]:
    """Channel conversion (leads per channel → won deals).

    per channel: leads created in the period that are the source lead of a won
    deal ÷ leads created in the period. Whether a lead was won is part of the
    lead's own record (like its status), so it counts for every lead the user
    may see, whoever's deal it became.
    """
    won = Deal.objects.filter(source_lead=OuterRef("pk"), status=Deal.Status.WON)
    rows = (
        sql_records(user=user, period=period, team=team, owner=owner)
        .order_by()
        .values("channel")
        .annotate(n=Count("id"), won=Count("id", filter=Exists(won)))
        .values_list("channel", "n", "won")
    )
    return channel_rows({c: (n, w) for c, n, w in rows})


def channel_rows(counts: dict[str, tuple[int, int]]) -> list[ChannelRow]:
    """Rows from ``{channel: (leads, won)}``, the busiest channel first."""
    labels = dict(Lead.Channel.choices)
    rows = [ChannelRow(c, str(labels.get(c, c)), n, w) for c, (n, w) in counts.items() if n]
    rows.sort(key=lambda r: (-r.leads, r.label))
    return rows


# Deals ---------------------------------------------------------------------------


def won_records(*, user, period: PeriodLike, team=None, owner=None) -> QuerySet[Deal]:
    return deals(user=user, team=team, owner=owner).filter(
        _between("closed_at", period), status=Deal.Status.WON
    )


def lost_records(*, user, period: PeriodLike, team=None, owner=None) -> QuerySet[Deal]:
    return deals(user=user, team=team, owner=owner).filter(
        _between("closed_at", period), status=Deal.Status.LOST
    )


def lead_time_days_of(qs: QuerySet[Deal]) -> float | None:
    """Average days from first contact (the deal's first stage entry) to winning,
    over the won deals in ``qs``."""
    rows = (
        qs.filter(status=Deal.Status.WON, closed_at__isnull=False)
        .filter(stage_changes__from_stage__isnull=True)
        .values("pk", "closed_at")
        .annotate(first=Min("stage_changes__at"))
        .values_list("closed_at", "first")
        .order_by()
    )
    total, n = datetime.timedelta(0), 0
    for closed_at, first in rows:
        total += closed_at - first
        n += 1
    return total.total_seconds() / 86400 / n if n else None


def average_lead_time_days(*, user, period: PeriodLike, team=None, owner=None) -> float | None:
    """Average lead time (first contact → won), in days.

    Σ (closed_at − time of the deal's first stage entry) ÷ number of deals won in
    the period; a won deal without a first stage entry is left out.
    """
    return lead_time_days_of(won_records(user=user, period=period, team=team, owner=owner))


@dataclass
class StageRate:
    stage: Stage
    reached: int  # closed deals that reached this stage or a later one
    won: int

    @property
    def rate(self) -> float | None:
        return Rate(self.won, self.reached).value


def stage_win_rates(
    *, user, pipeline: Pipeline, period: PeriodLike, team=None, owner=None
) -> list[StageRate]:
    """Stage win rate, from the stage history.

    per open stage S: deals closed (won or lost) in the period whose furthest
    open stage reached (from ``StageChange``) is S or later and that were won
    ÷ deals closed in the period that reached S or later. Passing a later stage
    counts as having passed S, so a jump over S still counts.
    """
    stages = [s for s in pipeline.stages.all() if s.outcome == Stage.Outcome.OPEN]
    closed = deals(user=user, team=team, owner=owner).filter(
        _between("closed_at", period),
        pipeline=pipeline,
        status__in=[Deal.Status.WON, Deal.Status.LOST],
    )
    # The furthest open stage per deal, then counted per (stage position,
    # status) in the database: a few rows come back, not one per closed deal.
    furthest = (
        StageChange.objects.filter(
            deal__in=closed.values("pk"), to_stage__outcome=Stage.Outcome.OPEN
        )
        .values("deal_id")
        .annotate(deal_status=Max("deal__status"), top=Max("to_stage__position"))
        .values("deal_status", "top")
        .order_by()
    )
    reached: dict[int, int] = defaultdict(int)
    won: dict[int, int] = defaultdict(int)
    try:
        sql, params = furthest.query.sql_with_params()
    except EmptyResultSet:  # a user who sees nothing (inactive)
        return [StageRate(stage, 0, 0) for stage in stages]
    with connections[furthest.db].cursor() as cursor:
        cursor.execute(
            f"SELECT top, deal_status, COUNT(*) FROM ({sql}) furthest GROUP BY top, deal_status",
            params,
        )
        for top, status, n in cursor.fetchall():
            reached[top] += n
            if status == Deal.Status.WON:
                won[top] += n
    result = []
    for stage in stages:
        r = sum(n for top, n in reached.items() if top >= stage.position)
        w = sum(n for top, n in won.items() if top >= stage.position)
        result.append(StageRate(stage, r, w))
    return result


@dataclass
class LossRow:
    reason_id: int | None
    label: str
    count: int
    amounts: dict[str, Decimal] = field(default_factory=dict)


def loss_reasons(*, user, period: PeriodLike, team=None, owner=None) -> list[LossRow]:
    """Loss reasons ranking: deals lost in the period, counted per loss reason, most
    frequent first (amount per currency alongside)."""
    from kizuna.sales.models import LossReason

    rows = (
        lost_records(user=user, period=period, team=team, owner=owner)
        .values("loss_reason_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    by_reason: dict[int | None, LossRow] = {}
    for r in rows:
        row = by_reason.setdefault(r["loss_reason_id"], LossRow(r["loss_reason_id"], "", 0))
        row.count += r["n"]
        row.amounts[r["currency"]] = row.amounts.get(r["currency"], ZERO) + (r["total"] or ZERO)
    names = {lr.pk: lr.label for lr in LossReason.objects.filter(pk__in=list(by_reason))}
    for row in by_reason.values():
        row.label = names.get(row.reason_id, "—") if row.reason_id else "—"
    return sorted(by_reason.values(), key=lambda r: (-r.count, r.label))


def open_records(*, user, team=None, owner=None) -> QuerySet[Deal]:
    return deals(user=user, team=team, owner=owner).filter(status=Deal.Status.OPEN)


@dataclass(frozen=True)
class BantCapture:
    deals: int
    captured: dict[str, int]  # per BANT field, deals with it captured

    @property
    def rate(self) -> float | None:
        return Rate(sum(self.captured.values()), 4 * self.deals).value

    def item_rate(self, name: str) -> float | None:
        return Rate(self.captured[name], self.deals).value


def bant_capture(*, user, team=None, owner=None) -> BantCapture:
    """BANT capture rate, over the open deals now.

    captured BANT items (budget, authority, need, timing) on open deals
    ÷ (4 × open deals); per item: open deals with it captured ÷ open deals.
    """
    row = open_records(user=user, team=team, owner=owner).aggregate(
        n=Count("id"),
        **{name: Count("id", filter=Q(**{name: "captured"})) for name in BANT},
    )
    return BantCapture(row["n"], {name: row[name] for name in BANT})


def next_action_coverage(*, user, team=None, owner=None) -> Rate:
    """Next-action coverage, over the open deals now.

    open deals with a next action written ÷ open deals.
    """
    row = open_records(user=user, team=team, owner=owner).aggregate(
        n=Count("id"), covered=Count("id", filter=~Q(next_action=""))
    )
    return Rate(row["covered"], row["n"])


# Activities ----------------------------------------------------------------------


def activity_records(*, user, period: PeriodLike, team=None, owner=None, kind=None):
    qs = _narrow(access.visible(Activity.objects.all(), user), team, owner)
    qs = qs.filter(_between("occurred_at", period))
    if kind:
        return qs.filter(kind=kind)
    return qs.filter(kind__in=LOGGED_KINDS)


def activity_counts(
    *, user, period: PeriodLike, team=None, owner=None
) -> dict[int | None, dict[str, int]]:
    """Activity counts per person and type: activities (calls, meetings, visits,
    e-mails, notes, tasks; not stage changes) that occurred in the period, by owner
    and kind."""
    result: dict[int | None, dict[str, int]] = defaultdict(dict)
    rows = (
        activity_records(user=user, period=period, team=team, owner=owner)
        .values("owner_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in rows:
        result[r["owner_id"]][r["kind"]] = r["n"]
    return dict(result)


# Retention -----------------------------------------------------------------------

ACTIVE_MONTHS = 12


def customers_at(*, user, day: datetime.date, team=None, owner=None) -> QuerySet:
    """Company ids that are customers on ``day``: a company with a deal won in the
    ``ACTIVE_MONTHS`` months before it (a deal the user may see)."""
    span = Span(years_before(day, ACTIVE_MONTHS // 12), day)
    return (
        deals(user=user, team=team, owner=owner)
        .filter(_between("closed_at", span), status=Deal.Status.WON, company__isnull=False)
        .values("company_id")
        .distinct()
    )


def retention_rate(*, user, period: PeriodLike, team=None, owner=None) -> Rate:
    """Customer retention rate.

    A customer on a day is a company with a won deal closed in the 12 months
    before that day. Retention = customers at the period's end that were
    customers at its start ÷ customers at the start. New customers won during the
    period do not raise it (顧客維持率 = (期末顧客数 − 新規顧客数) ÷ 期首顧客数).
    """
    years = ACTIVE_MONTHS // 12
    before_start = Span(years_before(period.start, years), period.start)
    before_end = Span(years_before(period.end, years), period.end)
    # One pass over the won deals of both windows, grouped per company: was it
    # a customer at the start (s), at the end (e)?
    rows = (
        deals(user=user, team=team, owner=owner)
        .filter(
            _between("closed_at", Span(before_start.start, before_end.end)),
            status=Deal.Status.WON,
            company__isnull=False,
        )
        .values("company_id")
        .annotate(
            s=Max(Case(When(_between("closed_at", before_start), then=1), default=0)),
            e=Max(Case(When(_between("closed_at", before_end), then=1), default=0)),
        )
        .values_list("s", "e")
    )
    n = kept = 0
    for at_start, at_end in rows:
        n += at_start
        kept += at_start * at_end
    return Rate(kept, n)


@dataclass
class Cohort:
    period: Any  # the period (a FiscalPeriod) of the first order
    size: int  # customers whose first won deal is in it
    again: list[int | None]  # per later period: how many ordered again in it (None: future)

    def rates(self) -> list[float | None]:
        return [None if n is None else Rate(n, self.size).value for n in self.again]


def cohorts_from(
    customers: dict[int, tuple[datetime.date, list[bool]]],
    periods: list[Any],
    today: datetime.date,
) -> list[Cohort]:
    """Cohorts from each customer's first order day and whether it ordered in
    each of ``periods`` (oldest first)."""
    result = [
        Cohort(p, 0, [0 if q.start <= today else None for q in periods[i + 1 :]])
        for i, p in enumerate(periods)
    ]
    for first, ordered in customers.values():
        for i, p in enumerate(periods):
            if p.start <= first < p.end:
                cohort = result[i]
                cohort.size += 1
                for k, again in enumerate(ordered[i + 1 :]):
                    if again and cohort.again[k] is not None:
                        cohort.again[k] += 1  # type: ignore[operator]
                break
    return result


def cohort_records(*, user, period: PeriodLike, team=None, owner=None) -> QuerySet:
    """Company ids whose first won deal (of those the user may see) is in the period."""
    return (
        deals(user=user, team=team, owner=owner)
        .filter(status=Deal.Status.WON, company__isnull=False, closed_at__isnull=False)
        .values("company_id")
        .annotate(first=Min("closed_at"))
        .filter(first__gte=day_start(period.start), first__lt=day_start(period.end))
        .values("company_id")
    )


def customer_cohorts(
    *, user, periods: list[Any], today: datetime.date, team=None, owner=None
) -> list[Cohort]:
    """Customers by the period of their first order, and how many ordered again.

    A company's first order is its earliest won deal (of those the user may
    see); its cohort is the period that holds it. For each later period:
    companies of the cohort with a won deal closed in it ÷ the cohort's size.
    """
    flags = {
        f"o{i}": Max(Case(When(_between("closed_at", p), then=1), default=0))
        for i, p in enumerate(periods)
    }
    rows = (
        deals(user=user, team=team, owner=owner)
        .filter(status=Deal.Status.WON, company__isnull=False, closed_at__isnull=False)
        .values("company_id")
        .annotate(first=Min("closed_at"), **flags)
        .filter(first__gte=day_start(periods[0].start), first__lt=day_start(periods[-1].end))
        .values_list("company_id", "first", *flags)
    )
    tz = timezone.get_current_timezone()
    customers = {
        company: (first.astimezone(tz).date(), [bool(f) for f in ordered])
        for company, first, *ordered in rows
    }
    return cohorts_from(customers, periods, today)


# Money ---------------------------------------------------------------------------


def revenue_by_month(
    *, user, start: datetime.date, end: datetime.date, team=None, owner=None
) -> dict[tuple[datetime.date, str], Decimal]:
    """Revenue by period: the amount of deals won, by month of closing and currency.
    Sum the months for quarters or fiscal years (``revenue_by_period``)."""
    span = Span(start, end)
    months = []
    month = start.replace(day=1)
    while month < end:
        months.append(month)
        month = add_months(month, 1)
    # One filtered sum per month: no per-row date truncation (a Python function
    # per row on SQLite).
    sums = {
        f"m{i}": Sum(
            "amount", filter=_between("closed_at", Span(max(m, start), min(add_months(m, 1), end)))
        )
        for i, m in enumerate(months)
    }
    rows = (
        won_records(user=user, period=span, team=team, owner=owner)
        .values("currency")
        .annotate(**sums)
        .order_by()
    )
    result: dict[tuple[datetime.date, str], Decimal] = {}
    for r in rows:
        row: dict[str, Any] = dict(r)
        for i, m in enumerate(months):
            if row[f"m{i}"] is not None:
                result[(m, row["currency"])] = row[f"m{i}"]
    return result


def revenue_by_period(
    *, user, periods: list[FiscalPeriod], currency: str = "JPY", team=None, owner=None
) -> list[Decimal]:
    """Revenue by period: won amount in ``currency`` per period (months, quarters
    or fiscal years), in the order given."""
    if not periods:
        return []
    months = revenue_by_month(
        user=user, start=periods[0].start, end=periods[-1].end, team=team, owner=owner
    )
    totals = []
    for p in periods:
        totals.append(
            sum(
                (v for (m, c), v in months.items() if c == currency and p.start <= m < p.end),
                ZERO,
            )
        )
    return totals


@dataclass(frozen=True)
class Forecast:
    won: Decimal
    commit: Decimal
    weighted: Decimal
    best_case: Decimal
    pipeline: Decimal
    target: Decimal | None

    @property
    def expected(self) -> Decimal:
        """Won so far plus the weighted amount of open deals closing in the period."""
        return self.won + self.weighted

    @property
    def attainment(self) -> float | None:
        return Rate(self.expected, self.target or 0).value

    @property
    def won_attainment(self) -> float | None:
        return Rate(self.won, self.target or 0).value


def forecast_vs_target(
    *, user, period: PeriodLike, currency: str = "JPY", team=None, owner=None
) -> Forecast:
    """Forecast vs target.

    expected orders = won in the period + Σ amount × probability of open deals
    expected to close in it (sales.selectors.forecast); attainment = expected ÷
    the won-amount target for the period (the owner's, the team's, or all teams'
    summed); no target → None.
    """
    from kizuna.analytics.targets import target_value
    from kizuna.sales import selectors as sales

    filters: dict[str, Any] = {}
    if team:
        filters["team"] = team
    if owner:
        filters["owner"] = owner
    _rows, total = sales.forecast(
        user=user,
        period=sales.Period("custom", period.start, period.end),
        currency=currency,
        filters=filters,
    )
    target = target_value(
        metric="won_amount", period=period, team=team, owner=owner, currency=currency
    )
    return Forecast(
        total.won, total.commit, total.weighted, total.best_case, total.pipeline, target
    )


# The rep's own numbers -----------------------------------------------------------


def first_contact_records(*, user, period: PeriodLike, team=None, owner=None):
    """Deals whose first stage entry (the first contact) is in the period."""
    entered = StageChange.objects.filter(
        _between("at", period), deal=OuterRef("pk"), from_stage__isnull=True
    )
    return deals(user=user, team=team, owner=owner).filter(Exists(entered))


def proposal_records(*, user, period: PeriodLike, team=None, owner=None):
    """Quotes issued (not drafts) with an issue date in the period; a quote is
    visible when its deal is."""
    visible_deals = access.visible(Deal.objects.all(), user).values("pk")
    qs = _narrow(Quote.objects.filter(deal__in=visible_deals), team, owner)
    return qs.filter(_between("issue_date", period, datetime_field=False)).exclude(
        status=Quote.Status.DRAFT
    )


def metric_actuals(
    *, user, period: PeriodLike, currency: str = "JPY", team=None, owner=None
) -> dict[str, Decimal]:
    """The actual value of every target metric (see ``targets.Metric``):
    won amount (in ``currency``) and deals won in the period; calls and visits
    logged; first contacts (deals first entered in the period); proposals (quotes
    issued in the period)."""
    won = won_records(user=user, period=period, team=team, owner=owner).aggregate(
        n=Count("id"), amount=Sum("amount", filter=Q(currency=currency))
    )
    acts = (
        activity_records(user=user, period=period, team=team, owner=owner)
        .filter(kind__in=[Activity.Kind.CALL, Activity.Kind.VISIT, Activity.Kind.MEETING])
        .aggregate(
            calls=Count("id", filter=Q(kind=Activity.Kind.CALL)),
            visits=Count("id", filter=Q(kind__in=[Activity.Kind.VISIT, Activity.Kind.MEETING])),
        )
    )
    return {
        "won_amount": won["amount"] or ZERO,
        "deals_won": Decimal(won["n"]),
        "calls": Decimal(acts["calls"]),
        "visits": Decimal(acts["visits"]),
        "first_contacts": Decimal(
            first_contact_records(user=user, period=period, team=team, owner=owner).count()
        ),
        "proposals": Decimal(
            proposal_records(user=user, period=period, team=team, owner=owner).count()
        ),
    }
