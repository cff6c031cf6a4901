"""KPIs read from the summary tables (``analytics.summary``).

Same signatures and results as their ``analytics.kpis`` namesakes, which stay
the reference (tests compare the two on random histories). The access gate is
applied exactly: a summary row is keyed by owner and team, so the rows a user
may see are those whose owner is the user or someone under them, or whose
team is the user's (team level and up), or all rows (read-all, admins); the
records shared with the user explicitly and not visible otherwise are added
from a small live query over just those records. A period the summary cannot
answer exactly (not whole months, or a time zone other than the one the
tables use) goes to the live function.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models import Case, IntegerField, Max, Min, Q, Sum, When
from django.utils import timezone

from kizuna.activities.models import Activity
from kizuna.analytics import kpis, summary
from kizuna.analytics.kpis import ChannelRow, Cohort, LossRow, PeriodLike, Rate, StageRate
from kizuna.analytics.models_summary import (
    ActivityDaily,
    CustomerMonthly,
    DealMonthly,
    LeadMonthly,
    StageReachMonthly,
)
from kizuna.analytics.periods import FiscalPeriod, Span, day_start, years_before
from kizuna.core import access
from kizuna.core.models import AccessLevel, Share
from kizuna.customers.models import Lead
from kizuna.sales.models import Deal, Pipeline, Stage

ZERO = Decimal(0)


@dataclass
class Scope:
    """What of a summary table a user sees: ``q`` over owner_id / team_id (None:
    every row), ``nothing`` for no row at all, and ``shared`` the records seen
    only through a share."""

    q: Q | None
    shared: models.QuerySet | None = None
    nothing: bool = False
    _contributions: summary.Contributions | None = None

    def shared_contributions(self, source: str) -> summary.Contributions:
        """What the shared-only records add, computed once per scope."""
        if self.shared is None:
            return {}
        if self._contributions is None:
            self._contributions = summary.contributions(**{source: self.shared})
        return self._contributions


def scope(user, model: type[models.Model]) -> Scope:
    """Mirrors ``core.access.visible`` for the summary tables; kept on the user
    object for the request, as ``access.viewer_for`` is."""
    cache = getattr(user, "_kizuna_summary_scopes", None)
    if cache is None:
        cache = {}
        if user is not None:
            user._kizuna_summary_scopes = cache
    if model not in cache:
        cache[model] = _scope(user, model)
    return cache[model]


def _scope(user, model: type[models.Model]) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(None, nothing=True)
    viewer = access.viewer_for(user)
    if viewer.is_admin:
        return Scope(None)
    object_type = model.access_object_type  # type: ignore[attr-defined]
    level = viewer.level(object_type)
    if level in (AccessLevel.EDIT_ALL, AccessLevel.READ_ALL):
        return Scope(None)
    q = Q(owner_id__in=viewer.user_ids)
    if level != AccessLevel.PRIVATE and viewer.team_id is not None:
        q |= Q(team_id=viewer.team_id)
    shares = Share.objects.filter(object_type=object_type).filter(
        Q(user_id=viewer.user_id) | Q(team_id=viewer.team_id)
        if viewer.team_id is not None
        else Q(user_id=viewer.user_id)
    )
    ids = list(shares.values_list("object_id", flat=True))
    if not ids:
        return Scope(q)
    return Scope(q, model._default_manager.filter(pk__in=ids).exclude(q))


def _exact(period: PeriodLike, *, months: bool) -> bool:
    """Whether the summary tables answer ``period`` exactly."""
    if months and (period.start.day != 1 or period.end.day != 1):
        return False
    tz = summary.summary_tz()
    for day in (period.start, period.end):
        ours = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), tz)
        if day_start(day) != ours:
            return False
    return True


def _rows(
    table: type[models.Model],
    *,
    user,
    source: str,
    model: type[models.Model],
    date_field: str,
    start: datetime.date,
    end: datetime.date,
    team: Any = None,
    owner: Any = None,
    group: tuple[str, ...] = (),
    **filters: Any,
) -> dict[tuple, list]:
    """Σ of the table's values per ``group``, over what the user may see."""
    seen = scope(user, model)
    if seen.nothing:
        return {}
    narrow: dict[str, Any] = {f"{date_field}__gte": start, f"{date_field}__lt": end}
    if team:
        narrow["team_id"] = getattr(team, "pk", team)
    if owner:
        narrow["owner_id"] = getattr(owner, "pk", owner)
    for name, value in filters.items():
        narrow[f"{name}__in" if isinstance(value, list | tuple | set) else name] = value
    names: tuple[str, ...] = table.VALUES  # type: ignore[attr-defined]
    qs = table._default_manager.filter(**narrow)
    if seen.q is not None:
        qs = qs.filter(seen.q)
    result: dict[tuple, list] = {}
    sums = {f"s_{n}": Sum(n) for n in names}
    if group:
        for row in qs.values(*group).annotate(**sums).order_by():
            result[tuple(row[g] for g in group)] = [row[f"s_{n}"] or 0 for n in names]
    else:
        row = qs.aggregate(**sums)
        result[()] = [row[f"s_{n}"] or 0 for n in names]
    if seen.shared is not None:
        extra = seen.shared_contributions(source).get(table, {})
        key_names: tuple[str, ...] = table.KEY  # type: ignore[attr-defined]
        for key, values in extra.items():
            row = dict(zip(key_names, key, strict=True))
            if not _matches(row, date_field, start, end, team, owner, filters):
                continue
            k = tuple(row[g] for g in group)
            into = result.setdefault(k, [0] * len(names))
            for i, v in enumerate(values):
                into[i] += v
    return result


def _matches(row, date_field, start, end, team, owner, filters) -> bool:
    if not start <= row[date_field] < end:
        return False
    if team and row["team_id"] != getattr(team, "pk", team):
        return False
    if owner and row["owner_id"] != int(getattr(owner, "pk", owner)):
        return False
    for name, value in filters.items():
        if isinstance(value, list | tuple | set):
            if row[name] not in value:
                return False
        elif row[name] != value:
            return False
    return True


def _deal_rows(period: PeriodLike, **kwargs: Any) -> dict[tuple, list]:
    return _rows(
        DealMonthly,
        source="deals",
        model=Deal,
        date_field="month",
        start=period.start,
        end=period.end,
        **kwargs,
    )


def _lead_rows(period: PeriodLike, **kwargs: Any) -> dict[tuple, list]:
    return _rows(
        LeadMonthly,
        source="leads",
        model=Lead,
        date_field="month",
        start=period.start,
        end=period.end,
        **kwargs,
    )


# The KPIs ------------------------------------------------------------------------


def sql_rate(*, user, period: PeriodLike, team=None, owner=None) -> Rate:
    if not _exact(period, months=True):
        return kpis.sql_rate(user=user, period=period, team=team, owner=owner)
    rows = _lead_rows(period, user=user, team=team, owner=owner, group=("qualified",))
    q = rows.get((True,), [0])[0]
    return Rate(q, q + rows.get((False,), [0])[0])


def channel_conversion(*, user, period: PeriodLike, team=None, owner=None) -> list[ChannelRow]:
    if not _exact(period, months=True):
        return kpis.channel_conversion(user=user, period=period, team=team, owner=owner)
    rows = _lead_rows(period, user=user, team=team, owner=owner, group=("channel",))
    return kpis.channel_rows({channel: (n, won) for (channel,), (n, won) in rows.items()})


def average_lead_time_days(*, user, period: PeriodLike, team=None, owner=None) -> float | None:
    if not _exact(period, months=True):
        return kpis.average_lead_time_days(user=user, period=period, team=team, owner=owner)
    rows = _deal_rows(period, user=user, team=team, owner=owner, status=Deal.Status.WON)
    _count, _amount, n, us = rows.get((), [0, 0, 0, 0])
    return us / 1_000_000 / 86400 / n if n else None


def loss_reasons(*, user, period: PeriodLike, team=None, owner=None) -> list[LossRow]:
    if not _exact(period, months=True):
        return kpis.loss_reasons(user=user, period=period, team=team, owner=owner)
    from kizuna.sales.models import LossReason

    rows = _deal_rows(
        period,
        user=user,
        team=team,
        owner=owner,
        status=Deal.Status.LOST,
        group=("loss_reason_id", "currency"),
    )
    by_reason: dict[int | None, LossRow] = {}
    for (reason, currency), (n, total, _ln, _lu) in rows.items():
        if not n:
            continue
        reason = reason or None
        row = by_reason.setdefault(reason, LossRow(reason, "", 0))
        row.count += n
        row.amounts[currency] = row.amounts.get(currency, ZERO) + Decimal(total)
    names = {lr.pk: lr.label for lr in LossReason.objects.filter(pk__in=list(by_reason))}
    for row in by_reason.values():
        row.label = names.get(row.reason_id, "—") if row.reason_id else "—"
    return sorted(by_reason.values(), key=lambda r: (-r.count, r.label))


def revenue_by_month(
    *, user, start: datetime.date, end: datetime.date, team=None, owner=None
) -> dict[tuple[datetime.date, str], Decimal]:
    span = Span(start, end)
    if not _exact(span, months=True):
        return kpis.revenue_by_month(user=user, start=start, end=end, team=team, owner=owner)
    rows = _deal_rows(
        span,
        user=user,
        team=team,
        owner=owner,
        status=Deal.Status.WON,
        group=("month", "currency"),
    )
    return {key: Decimal(values[1]) for key, values in rows.items() if values[0]}


def revenue_by_period(
    *, user, periods: list[FiscalPeriod], currency: str = "JPY", team=None, owner=None
) -> list[Decimal]:
    if not periods:
        return []
    months = revenue_by_month(
        user=user, start=periods[0].start, end=periods[-1].end, team=team, owner=owner
    )
    return [
        sum((v for (m, c), v in months.items() if c == currency and p.start <= m < p.end), ZERO)
        for p in periods
    ]


def stage_win_rates(
    *, user, pipeline: Pipeline, period: PeriodLike, team=None, owner=None
) -> list[StageRate]:
    if not _exact(period, months=True):
        return kpis.stage_win_rates(
            user=user, pipeline=pipeline, period=period, team=team, owner=owner
        )
    stages = [s for s in pipeline.stages.all() if s.outcome == Stage.Outcome.OPEN]
    rows = _rows(
        StageReachMonthly,
        user=user,
        source="deals",
        model=Deal,
        date_field="month",
        start=period.start,
        end=period.end,
        team=team,
        owner=owner,
        group=("top", "status"),
        pipeline_id=pipeline.pk,
    )
    reached: dict[int, int] = defaultdict(int)
    won: dict[int, int] = defaultdict(int)
    for (top, status), (n,) in rows.items():
        reached[top] += n
        if status == Deal.Status.WON:
            won[top] += n
    return [
        StageRate(
            stage,
            sum(n for top, n in reached.items() if top >= stage.position),
            sum(n for top, n in won.items() if top >= stage.position),
        )
        for stage in stages
    ]


def activity_counts(
    *, user, period: PeriodLike, team=None, owner=None
) -> dict[int | None, dict[str, int]]:
    if not _exact(period, months=False):
        return kpis.activity_counts(user=user, period=period, team=team, owner=owner)
    rows = _rows(
        ActivityDaily,
        user=user,
        source="activities",
        model=Activity,
        date_field="day",
        start=period.start,
        end=period.end,
        team=team,
        owner=owner,
        group=("owner_id", "kind"),
    )
    result: dict[int | None, dict[str, int]] = defaultdict(dict)
    for (owner_id, kind), (n,) in rows.items():
        if n:
            result[owner_id or None][kind] = n
    return dict(result)


@dataclass
class Customers:
    retention: Rate
    cohorts: list[Cohort]


def customers(
    *, user, period: PeriodLike, quarters: list[Any], today: datetime.date, team=None, owner=None
) -> Customers:
    """The retention rate of ``period`` (``kpis.retention_rate``) and the cohorts
    of ``quarters`` (``kpis.customer_cohorts``), from one pass over the
    per-company rows."""
    years = kpis.ACTIVE_MONTHS // 12
    before_start = Span(years_before(period.start, years), period.start)
    before_end = Span(years_before(period.end, years), period.end)
    windows = [before_start, before_end, *quarters]
    if not all(_exact(w, months=True) for w in windows):
        args = {"user": user, "team": team, "owner": owner}
        return Customers(
            kpis.retention_rate(period=period, **args),
            kpis.customer_cohorts(periods=quarters, today=today, **args),
        )
    seen = scope(user, Deal)
    if seen.nothing:
        return Customers(Rate(0, 0), kpis.cohorts_from({}, quarters, today))
    qs = _customer_rows(seen, team, owner)
    if seen.shared is not None:
        return _customers_in_python(seen, qs, windows, quarters, today, team, owner)
    # Per company: its first month and a flag per window; then, per cohort
    # (the quarter holding the first month), the sums of those flags.
    inner = (
        qs.order_by()
        .values("company_id")
        .annotate(f_month=Min("month"), **_flags(windows))
        .values("f_month", *_flags(windows))
    )
    sql, params = inner.query.sql_with_params()
    adapt = connection.ops.adapt_datefield_value
    cases, case_params = [], []
    for i, q in enumerate(quarters):
        cases.append(f"WHEN f_month >= %s AND f_month < %s THEN {i}")
        case_params += [adapt(q.start), adapt(q.end)]
    sums = ", ".join(f"SUM(w{i})" for i in range(2, len(windows)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE {' '.join(cases)} ELSE -1 END AS c, COUNT(*), SUM(w0), "
            f"SUM(w0 * w1), {sums} FROM ({sql}) t GROUP BY 1",
            [*case_params, *params],
        )
        rows = cursor.fetchall()
    n = kept = 0
    result = kpis.cohorts_from({}, quarters, today)
    for c, size, at_start, both, *ordered in rows:
        n += at_start or 0
        kept += both or 0
        if c < 0:
            continue
        cohort = result[c]
        cohort.size = size
        cohort.again = [
            None if was is None else int(ordered[c + 1 + k] or 0)
            for k, was in enumerate(cohort.again)
        ]
    return Customers(Rate(kept, n), result)


def _customer_rows(seen: Scope, team, owner) -> models.QuerySet:
    # A row whose deals were all lost again or moved keeps count 0.
    qs = CustomerMonthly.objects.filter(count__gt=0)
    if team:
        qs = qs.filter(team_id=getattr(team, "pk", team))
    if owner:
        qs = qs.filter(owner_id=getattr(owner, "pk", owner))
    if seen.q is not None:
        qs = qs.filter(seen.q)
    return qs


def _flags(windows: list[PeriodLike]) -> dict[str, Max]:
    return {
        f"w{i}": Max(
            Case(
                When(month__gte=w.start, month__lt=w.end, then=1),
                default=0,
                output_field=IntegerField(),
            )
        )
        for i, w in enumerate(windows)
    }


def _customers_in_python(seen, qs, windows, quarters, today, team, owner) -> Customers:
    """The same, per company in Python: the records shared with the user (and
    not visible otherwise) are folded in company by company."""
    flags = _flags(windows)
    per_company: dict[int, tuple[datetime.date, list[bool]]] = {
        r["company_id"]: (r["f_month"], [bool(r[f]) for f in flags])
        for r in qs.order_by().values("company_id").annotate(f_month=Min("month"), **flags)
    }
    extra_rows = seen.shared_contributions("deals").get(CustomerMonthly, {})
    for (month, company, owner_id, team_id), (count,) in extra_rows.items():
        row = {"month": month, "team_id": team_id, "owner_id": owner_id}
        if not count or not _matches(
            row, "month", datetime.date.min, datetime.date.max, team, owner, {}
        ):
            continue
        first, ordered = per_company.get(company, (month, [False] * len(windows)))
        per_company[company] = (
            min(first, month),
            [o or w.start <= month < w.end for o, w in zip(ordered, windows, strict=True)],
        )
    n = kept = 0
    for _first, (at_start, at_end, *_rest) in per_company.values():
        n += at_start
        kept += at_start and at_end
    cohorts = kpis.cohorts_from(
        {c: (first, ordered[2:]) for c, (first, ordered) in per_company.items()},
        quarters,
        today,
    )
    return Customers(Rate(kept, n), cohorts)
