"""Reads of pipelines and deals, filtered by what the acting user may see."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from kizuna.core import access, customfields
from kizuna.core.models import OrgSettings
from kizuna.core.search import filter_search
from kizuna.sales.models import Deal, LossReason, Pipeline, Stage, StageChange

BOARD_PAGE = 20
HYGIENE = ("stalled", "no_next_action", "overdue")


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(is_active=True)


def pipeline_stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.select_related("phase", "pipeline"))


def loss_reasons() -> QuerySet[LossReason]:
    return LossReason.objects.filter(is_active=True)


def _probability():
    return Coalesce(F("probability"), F("stage__probability"))


def _weighted():
    return ExpressionWrapper(
        F("amount") * _probability() / Value(100),
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )


def open_stages() -> list[Stage]:
    """Every open stage with its pipeline: what ``stalled_q`` measures against."""
    return list(Stage.objects.select_related("pipeline").filter(outcome=Stage.Outcome.OPEN))


def stalled_in_q(stage: Stage, now: datetime.datetime | None = None) -> Q:
    """Deals in ``stage`` untouched for longer than it allows."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=stage.effective_stall_days())
    return Q(stage=stage, last_touched_at__lt=cutoff)


def stalled_q(stages: list[Stage], now: datetime.datetime | None = None) -> Q:
    """Open deals whose last stage change or activity is older than their stage allows."""
    now = now or timezone.now()
    q = Q(pk__in=[])
    for stage in stages:
        if stage.is_open:
            q |= stalled_in_q(stage, now)
    return q & Q(status=Deal.Status.OPEN)


def no_next_action_q() -> Q:
    return Q(status=Deal.Status.OPEN, next_action="")


def overdue_q(today: datetime.date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(status=Deal.Status.OPEN, next_action_due__lt=today)


def _month_range(value: str) -> tuple[datetime.date, datetime.date] | None:
    try:
        start = datetime.date.fromisoformat(value + "-01")
    except ValueError:
        return None
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, end


def deal_list(*, user, filters: dict[str, Any] | None = None) -> QuerySet[Deal]:
    f = filters or {}
    qs = access.visible(Deal.objects.all(), user)
    for name in ("pipeline", "stage", "owner", "team", "company"):
        if f.get(name):
            qs = qs.filter(**{f"{name}_id": getattr(f[name], "pk", f[name])})
    if f.get("status") in Deal.Status.values:
        qs = qs.filter(status=f["status"])
    if f.get("close_month"):
        span = _month_range(f["close_month"])
        if span:
            qs = qs.filter(expected_close_date__gte=span[0], expected_close_date__lt=span[1])
    if f.get("tag"):
        qs = qs.filter(tags__name=f["tag"])
    hygiene = f.get("hygiene")
    if hygiene == "stalled":
        qs = qs.filter(stalled_q(open_stages()))
    elif hygiene == "no_next_action":
        qs = qs.filter(no_next_action_q())
    elif hygiene == "overdue":
        qs = qs.filter(overdue_q())
    if f.get("q"):
        qs = filter_search(qs, f["q"])
    if f.get("custom"):
        qs, _used = customfields.filter_queryset(qs, "deal", f["custom"])
    ordering = f.get("ordering")
    if ordering in DEAL_ORDERINGS:
        qs = qs.order_by(*DEAL_ORDERINGS[ordering])
    return qs.select_related("owner", "team", "company", "stage", "stage__pipeline", "pipeline")


DEAL_ORDERINGS = {
    "-created": ("-created_at", "-id"),
    "close": ("expected_close_date", "id"),
    "-amount": ("-amount", "-id"),
    "name": ("name", "id"),
}


def deal_detail(*, user, pk: int) -> Deal:
    return access.get_visible_or_404(
        Deal.objects.select_related(
            "owner", "team", "company", "stage", "stage__phase", "pipeline", "loss_reason"
        ),
        user,
        pk=pk,
    )


# Board ---------------------------------------------------------------------


@dataclass
class Column:
    stage: Stage
    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)
    weighted: dict[str, Decimal] = field(default_factory=dict)
    deals: list[Deal] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return len(self.deals) < self.count


def _board_queryset(user, pipeline: Pipeline, filters: dict[str, Any]) -> QuerySet[Deal]:
    f = {k: v for k, v in filters.items() if k not in ("status", "pipeline", "stage")}
    return deal_list(user=user, filters=f).filter(pipeline=pipeline).order_by()


def board(*, user, pipeline: Pipeline, filters: dict[str, Any], closed_days: int = 30):
    """The columns of a pipeline: per stage the count, amount and weighted amount of the
    deals the user sees, and the first cards. Won and lost columns show the last
    ``closed_days`` days only."""
    stages = pipeline_stages(pipeline)
    columns = {s.pk: Column(s) for s in stages}
    qs = _board_queryset(user, pipeline, filters)
    since = timezone.now() - datetime.timedelta(days=closed_days)
    # The open deals and the recently closed ones are read apart, each through its own
    # index (deal_board, deal_closed): one query with an OR of the two reads every deal
    # ever closed on SQLite.
    parts = [
        qs.filter(status=Deal.Status.OPEN),
        qs.filter(status__in=[Deal.Status.WON, Deal.Status.LOST], closed_at__gte=since),
    ]
    card_order = [F("expected_close_date").asc(nulls_last=True), F("id").asc()]
    ids: list[int] = []
    for part in parts:
        totals = part.values("stage_id", "currency").annotate(
            n=Count("id"), total=Sum("amount"), weighted=Sum(_weighted())
        )
        for row in totals:
            column = columns[row["stage_id"]]
            column.count += row["n"]
            for name in ("totals", "weighted"):
                sums = getattr(column, name)
                value = row["total" if name == "totals" else "weighted"] or Decimal(0)
                sums[row["currency"]] = sums.get(row["currency"], Decimal(0)) + value
        ranked = part.annotate(
            rank=Window(RowNumber(), partition_by=[F("stage_id")], order_by=card_order)
        ).filter(rank__lte=BOARD_PAGE)
        # Rank the ids alone: joining owners and companies to every deal on the board
        # before ranking costs more than reading the first cards' afterwards.
        ids += ranked.values_list("id", flat=True)
    by_pk = {s.pk: s for s in stages}
    for deal in _card_rows(Deal.objects.filter(pk__in=ids).order_by(*card_order), by_pk):
        columns[deal.stage_id].deals.append(deal)
    return [columns[s.pk] for s in stages]


# What a card shows; the rest of the row (search index, custom fields …) stays in the database.
CARD_FIELDS = (
    "name",
    "amount",
    "currency",
    "probability",
    "expected_close_date",
    "next_action",
    "next_action_due",
    "last_touched_at",
    "status",
    "version",
    "stage_id",
    "pipeline_id",
    "owner",
    "company__name",
)


def _card_rows(qs: QuerySet[Deal], stages: dict[int, Stage]) -> list[Deal]:
    """The cards' deals, with the column's own stage objects (they hold the stall days)."""
    deals = list(qs.select_related(None).select_related("owner", "company").only(*CARD_FIELDS))
    for deal in deals:
        deal.stage = stages[deal.stage_id]
        deal.badges = card_badges(deal)  # type: ignore[attr-defined]
    return deals


def column_page(
    *, user, pipeline: Pipeline, stage: Stage, filters: dict[str, Any], offset: int
) -> list[Deal]:
    qs = _board_queryset(user, pipeline, filters).filter(stage=stage)
    if not stage.is_open:
        qs = qs.filter(closed_at__gte=timezone.now() - datetime.timedelta(days=30))
    qs = qs.order_by(F("expected_close_date").asc(nulls_last=True), "id")
    return _card_rows(qs[offset : offset + BOARD_PAGE], {stage.pk: stage})


def card_badges(deal: Deal, now: datetime.datetime | None = None) -> list[str]:
    """``stalled``, ``no_next_action``, ``overdue`` for an open deal."""
    if deal.status != Deal.Status.OPEN:
        return []
    now = now or timezone.now()
    badges = []
    stall = deal.stage.stall_days or deal.stage.pipeline.default_stall_days
    if deal.last_touched_at < now - datetime.timedelta(days=stall):
        badges.append("stalled")
    if not deal.next_action:
        badges.append("no_next_action")
    elif deal.next_action_due and deal.next_action_due < timezone.localdate(now):
        badges.append("overdue")
    return badges


def hygiene_counts(*, user, pipeline: Pipeline | None = None) -> dict[str, int]:
    qs = access.visible(Deal.objects.filter(status=Deal.Status.OPEN), user)
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    return qs.aggregate(
        stalled=Count("id", filter=stalled_q(open_stages())),
        no_next_action=Count("id", filter=no_next_action_q()),
        overdue=Count("id", filter=overdue_q()),
    )


def overlapping_for(*, user, company, team_id: int | None, exclude_pk: int | None = None):
    """Open deals of other teams on the company, its parents or its children.

    The warning must reach a user who cannot open those deals, so the query is not
    gated; each row says whether ``user`` may open it, and callers show only that much.
    """
    from kizuna.customers.models import Company

    related = Company.objects.filter(Q(pk__in=company.ancestor_ids()) | company.subtree_q())
    qs = Deal.objects.filter(status=Deal.Status.OPEN, company__in=related).select_related(
        "owner", "team", "company", "stage"
    )
    if team_id is not None:
        qs = qs.exclude(team_id=team_id)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    rows = list(qs[:20])
    seen = set(
        access.visible(Deal.objects.filter(pk__in=[d.pk for d in rows]), user).values_list(
            "pk", flat=True
        )
    )
    for deal in rows:
        deal.is_visible = deal.pk in seen  # type: ignore[attr-defined]
    return rows


# Forecast ------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime.date
    end: datetime.date  # exclusive

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)


def periods(today: datetime.date | None = None) -> dict[str, Period]:
    """This month, this quarter and this fiscal year, per the org's fiscal year start."""
    today = today or timezone.localdate()
    fy_start_month = OrgSettings.get().fiscal_year_start_month

    def add_months(d: datetime.date, n: int) -> datetime.date:
        m = d.month - 1 + n
        return datetime.date(d.year + m // 12, m % 12 + 1, 1)

    month = today.replace(day=1)
    offset = (today.month - fy_start_month) % 12
    fy = add_months(month, -offset)
    quarter = add_months(fy, (offset // 3) * 3)
    return {
        "month": Period("month", month, add_months(month, 1)),
        "quarter": Period("quarter", quarter, add_months(quarter, 3)),
        "year": Period("year", fy, add_months(fy, 12)),
    }


def fiscal_year_label(period: Period) -> int:
    """The fiscal year named by the calendar year it starts in (2026年度 = Apr 2026-Mar 2027)."""
    return period.start.year


@dataclass
class ForecastRow:
    key: Any
    label: str
    pipeline: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    commit: Decimal = Decimal(0)
    best_case: Decimal = Decimal(0)
    won: Decimal = Decimal(0)
    open_count: int = 0


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the current time zone: ``closed_at`` compared with it uses the
    index, where ``closed_at__date`` would convert every row's time first."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def forecast(
    *,
    user,
    period: Period,
    group_by: str = "owner",
    currency: str = "JPY",
    filters: dict[str, Any] | None = None,
) -> tuple[list[ForecastRow], ForecastRow]:
    """Expected orders in ``period``: open deals closing in it (pipeline, weighted, commit,
    best case) and deals won in it, by owner or team, in one currency."""
    group = {"owner": "owner_id", "team": "team_id"}[group_by]
    qs = deal_list(user=user, filters={**(filters or {}), "status": None}).order_by()
    qs = qs.filter(currency=currency).filter(
        Q(
            status=Deal.Status.OPEN,
            expected_close_date__gte=period.start,
            expected_close_date__lt=period.end,
        )
        | Q(
            status=Deal.Status.WON,
            closed_at__gte=_day_start(period.start),
            closed_at__lt=_day_start(period.end),
        )
    )
    is_open = Q(status=Deal.Status.OPEN)
    committed = Q(is_open, forecast_category=Deal.ForecastCategory.COMMIT)
    best = Q(
        is_open,
        forecast_category__in=[Deal.ForecastCategory.COMMIT, Deal.ForecastCategory.BEST_CASE],
    )
    counted = ~Q(forecast_category=Deal.ForecastCategory.OMITTED)
    rows = qs.values(group).annotate(
        pipeline=Sum("amount", filter=is_open & counted),
        weighted=Sum(_weighted(), filter=is_open & counted),
        commit=Sum("amount", filter=committed),
        best_case=Sum("amount", filter=best),
        won=Sum("amount", filter=Q(status=Deal.Status.WON)),
        open_count=Count("id", filter=is_open),
    )
    labels = _labels(group_by, [r[group] for r in rows])
    result = []
    total = ForecastRow(None, "")
    for r in rows:
        row = ForecastRow(
            r[group],
            labels.get(r[group], "—"),
            r["pipeline"] or Decimal(0),
            (r["weighted"] or Decimal(0)).quantize(Decimal(1)),
            r["commit"] or Decimal(0),
            r["best_case"] or Decimal(0),
            r["won"] or Decimal(0),
            r["open_count"],
        )
        result.append(row)
        for name in ("pipeline", "weighted", "commit", "best_case", "won", "open_count"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    result.sort(key=lambda r: (-(r.won + r.commit), r.label))
    return result, total


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    from kizuna.iam.models import Team, User

    if group_by == "owner":
        return {u.pk: str(u) for u in User.objects.filter(pk__in=keys)}
    return {t.pk: str(t) for t in Team.objects.filter(pk__in=keys)}


# Stage history ----------------------------------------------------------------


def stage_history(*, deal: Deal) -> list[StageChange]:
    return list(deal.stage_changes.select_related("from_stage", "to_stage", "actor"))


def time_in_stages(*, deal: Deal, now: datetime.datetime | None = None) -> list[tuple[Stage, int]]:
    """Seconds spent in each stage the deal has been in, the current one up to now."""
    now = now or timezone.now()
    spent: dict[int, int] = defaultdict(int)
    stages: dict[int, Stage] = {}
    changes = stage_history(deal=deal)
    for change in changes:
        if change.from_stage is not None and change.seconds_in_from is not None:
            spent[change.from_stage.pk] += change.seconds_in_from
            stages[change.from_stage.pk] = change.from_stage
    current = deal.stage
    stages[current.pk] = current
    spent[current.pk] += max(0, int((now - deal.stage_entered_at).total_seconds()))
    return [(stages[pk], spent[pk]) for pk in sorted(stages, key=lambda pk: stages[pk].position)]


def conversion(*, user, pipeline: Pipeline, since: datetime.date | None = None):
    """Per stage: how many visible deals reached it, and the share that went on to a later
    stage (stage-to-stage conversion), from the stage history."""
    stages = pipeline_stages(pipeline)
    deals = access.visible(Deal.objects.filter(pipeline=pipeline), user)
    changes = StageChange.objects.filter(deal__in=deals.values("pk"))
    if since:
        changes = changes.filter(deal__created_at__date__gte=since)
    reached = dict(
        changes.values("to_stage_id")
        .annotate(n=Count("deal_id", distinct=True))
        .values_list("to_stage_id", "n")
    )
    positions = {s.pk: s.position for s in stages}
    lost = {s.pk for s in stages if s.outcome == Stage.Outcome.LOST}
    # A deal that reached a later stage also passed the earlier ones.
    best: dict[int, int] = {}
    for deal_id, stage_id in changes.values_list("deal_id", "to_stage_id"):
        if stage_id in lost or stage_id not in positions:
            continue
        best[deal_id] = max(best.get(deal_id, -1), positions[stage_id])
    result = []
    for stage in stages:
        if stage.outcome == Stage.Outcome.LOST:
            continue
        entered = sum(1 for top in best.values() if top >= stage.position)
        onward = sum(1 for top in best.values() if top > stage.position)
        result.append(
            {
                "stage": stage,
                "entered": entered,
                "direct": reached.get(stage.pk, 0),
                "onward": onward,
                "rate": (onward / entered) if entered else None,
            }
        )
    return result


def lead_time_days(*, user, pipeline: Pipeline | None = None) -> float | None:
    """Average days from a won deal's first stage entry (first contact) to winning
    (the formula lives in ``analytics.kpis``)."""
    from kizuna.analytics.kpis import lead_time_days_of

    qs = access.visible(Deal.objects.filter(status=Deal.Status.WON), user)
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    return lead_time_days_of(qs)
