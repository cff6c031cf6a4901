"""What the three dashboards show: KPI values, charts and their drill-down links.

Every number comes from ``analytics.kpis`` with the acting user, so the access
gate applies (the closed-deal, lead and activity tiles read the same numbers
from the summary tables, ``analytics.summarised``); the team filter narrows,
never widens. The number of queries per dashboard is fixed (it does not grow
with rows; tests pin it).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case, Count, IntegerField, Q, Sum, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.activities.models import Activity
from kizuna.analytics import charts, kpis, summarised
from kizuna.analytics.charts import CohortRow, Series, format_money, format_percent
from kizuna.analytics.periods import FiscalPeriod, Span, last_periods, period_for, week_for
from kizuna.analytics.targets import is_manager, target_value
from kizuna.core import access
from kizuna.iam.models import Team, User
from kizuna.sales import selectors as sales
from kizuna.sales.models import Deal, Pipeline, Stage

# Hot / warm / cold, from the deal's probability (its own, else its stage's).
HOT, WARM = 70, 30
# The executive dashboard's cohort table: customers won in the last 8 quarters.
COHORT_QUARTERS = 8


@dataclass
class Tile:
    label: str
    value: str
    href: str = ""
    sub: str = ""
    progress: float | None = None  # 0-1, for a bar under the number
    na: bool = False


def drill_url(kpi: str, **params: Any) -> str:
    query = {k: getattr(v, "pk", v) for k, v in params.items() if v not in (None, "")}
    return reverse("analytics:drill") + "?" + urlencode({"kpi": kpi, **query})


def _rate_text(value: float | None) -> str:
    return format_percent(value)


def team_choices(user) -> list[Team]:
    """Teams a user may filter by: all for admins; for a manager the teams of the
    people under them; for anyone else none (their numbers are what they see)."""
    viewer = access.viewer_for(user)
    if viewer.is_admin:
        return list(Team.objects.order_by("name"))
    if not is_manager(user):
        return []
    ids = User.objects.filter(pk__in=viewer.user_ids).values("team_id")
    return list(Team.objects.filter(pk__in=ids).order_by("name"))


def chosen_team(user, raw: str | None) -> Team | None:
    if not raw or not raw.isdigit():
        return None
    return next((t for t in team_choices(user) if t.pk == int(raw)), None)


def _base(period: Any, team: Team | None) -> dict[str, Any]:
    return {"period": getattr(period, "key", None), "team": team}


# Executive ---------------------------------------------------------------------


def executive(*, user, period: FiscalPeriod, team: Team | None, currency: str = "JPY"):
    scope = {"user": user, "team": team}
    base = _base(period, team)
    forecast = kpis.forecast_vs_target(period=period, currency=currency, **scope)
    sql = summarised.sql_rate(period=period, **scope)
    lead_time = summarised.average_lead_time_days(period=period, **scope)
    days = _("%(days)s days") % {"days": f"{lead_time:.1f}"} if lead_time is not None else ""
    today = timezone.localdate()
    quarters = last_periods("quarter", COHORT_QUARTERS, min(period.last_day, today))
    customers = summarised.customers(period=period, quarters=quarters, today=today, **scope)
    retention = customers.retention
    tiles = [
        Tile(
            _("Expected orders"),
            format_money(forecast.expected, currency),
            drill_url("forecast", **base),
            _("Won %(won)s + weighted %(weighted)s · target %(target)s")
            % {
                "won": format_money(forecast.won, currency),
                "weighted": format_money(forecast.weighted, currency),
                "target": format_money(forecast.target, currency),
            },
            forecast.attainment,
        ),
        Tile(
            _("Attainment"),
            _rate_text(forecast.attainment),
            drill_url("won", **base),
            _("Won so far: %(rate)s of target") % {"rate": _rate_text(forecast.won_attainment)},
            forecast.won_attainment,
            na=forecast.attainment is None,
        ),
        Tile(
            _("SQL rate"),
            _rate_text(sql.value),
            drill_url("leads", qualified=1, **base),
            _("%(q)s of %(n)s leads qualified") % {"q": sql.numerator, "n": sql.denominator},
            na=sql.value is None,
        ),
        Tile(
            _("Average lead time"),
            days or _("n/a"),
            drill_url("won", **base),
            _("First contact → won"),
            na=lead_time is None,
        ),
        Tile(
            _("Retention rate"),
            _rate_text(retention.value),
            drill_url("customers", **base),
            _("%(kept)s of %(n)s customers kept")
            % {"kept": retention.numerator, "n": retention.denominator},
            na=retention.value is None,
        ),
    ]
    channels = summarised.channel_conversion(period=period, **scope)
    channel_chart = charts.bar_chart(
        [r.label for r in channels],
        [
            Series(_("Leads"), [r.leads for r in channels]),
            Series(_("Won"), [r.won for r in channels]),
        ],
        title=_("Conversion by channel"),
        links=[drill_url("leads", channel=r.channel, **base) for r in channels],
    )
    losses = summarised.loss_reasons(period=period, **scope)[:5]
    loss_chart = charts.bar_chart(
        [r.label for r in losses],
        Series(_("Lost deals"), [r.count for r in losses]),
        title=_("Top loss reasons"),
        links=[drill_url("lost", reason=r.reason_id or "none", **base) for r in losses],
    )
    months = last_periods("month", 12, min(period.last_day, timezone.localdate()))
    revenue = summarised.revenue_by_period(periods=months, currency=currency, **scope)
    revenue_chart = charts.bar_chart(
        [m.start.strftime("%y/%m") for m in months],
        Series(_("Won amount"), revenue),
        title=_("Revenue by month"),
        currency=currency,
        orientation="vertical",
        links=[drill_url("won", period=m.key, team=team) for m in months],
    )
    # From the oldest quarter that won a new customer; the newest cohort first.
    cohorts = list(customers.cohorts)
    while cohorts and not cohorts[0].size:
        cohorts.pop(0)
    cohort_chart = charts.cohort_table(
        [
            CohortRow(
                c.period.label,
                c.size,
                c.rates(),
                link=drill_url("cohort", period=c.period.key, team=team) if c.size else "",
            )
            for c in reversed(cohorts)
        ],
        [_("+%(n)s Q") % {"n": k} for k in range(1, len(cohorts))],
        title=_("Customers ordering again, by quarter of their first order"),
        size_label=_("New customers"),
    )
    return {
        "tiles": tiles,
        "cohort_chart": cohort_chart,
        "channels": channels,
        "channel_chart": channel_chart,
        "loss_chart": loss_chart,
        "revenue_chart": revenue_chart,
        "forecast": forecast,
    }


# Manager -----------------------------------------------------------------------


def temperature_q(name: str) -> Q:
    if name == "hot":
        return Q(probability__gte=HOT) | Q(probability__isnull=True, stage__probability__gte=HOT)
    if name == "warm":
        return Q(probability__gte=WARM, probability__lt=HOT) | Q(
            probability__isnull=True, stage__probability__gte=WARM, stage__probability__lt=HOT
        )
    return Q(probability__lt=WARM) | Q(probability__isnull=True, stage__probability__lt=WARM)


def manager(
    *, user, period: FiscalPeriod, team: Team | None, pipeline: Pipeline | None, currency="JPY"
):
    scope = {"user": user, "team": team}
    base = _base(period, team)
    week = week_for()
    open_deals = kpis.open_records(**scope)
    stages = sales.open_stages()
    # One count per stage over the open deals, not a GROUP BY: SQLite would
    # walk every deal in stage order to skip a sort of the few open ones.
    now = timezone.now()
    per_stage = open_deals.aggregate(
        **{f"s{s.pk}": Count("id", filter=sales.stalled_in_q(s, now)) for s in stages if s.is_open}
    )
    stalled = {int(key[1:]): n for key, n in per_stage.items() if n}
    stalled_stages = [s for s in stages if stalled.get(s.pk)]
    stalled_stages.sort(key=lambda s: (s.pipeline.position, s.pipeline_id, s.position))
    team_q = {"team": team.pk} if team else {}
    stalled_chart = charts.bar_chart(
        [s.label for s in stalled_stages],
        Series(_("Stalled deals"), [stalled[s.pk] for s in stalled_stages]),
        title=_("Stalled deals by stage"),
        links=[
            reverse("sales:deal_list")
            + "?"
            + urlencode({"hygiene": "stalled", "stage": s.pk, **team_q})
            for s in stalled_stages
        ],
    )
    probability = Case(
        When(probability__isnull=False, then="probability"),
        default="stage__probability",
        output_field=IntegerField(),
    )
    heat = _heat(open_deals, probability, currency)
    coverage = kpis.next_action_coverage(**scope)
    bant = kpis.bant_capture(**scope)
    tiles = [
        Tile(
            _("Deals without next action"),
            str(coverage.denominator - coverage.numerator),
            reverse("sales:deal_list") + "?" + urlencode({"hygiene": "no_next_action", **team_q}),
            _("Next-action coverage %(rate)s") % {"rate": _rate_text(coverage.value)},
        ),
        Tile(
            _("Stalled deals"),
            str(sum(stalled.values())),
            reverse("sales:deal_list") + "?" + urlencode({"hygiene": "stalled", **team_q}),
        ),
        Tile(
            _("BANT capture rate"),
            _rate_text(bant.rate),
            drill_url("open", **base),
            _("over %(n)s open deals") % {"n": bant.deals},
            bant.rate,
            na=bant.rate is None,
        ),
    ]
    for name, label in (("hot", _("Hot")), ("warm", _("Warm")), ("cold", _("Cold"))):
        tiles.append(
            Tile(
                label,
                str(heat[name][0]),
                drill_url("temperature", t=name, **base),
                format_money(heat[name][1], currency),
            )
        )
    bant_labels = [_("Budget"), _("Authority"), _("Need"), _("Timing")]
    bant_chart = charts.bar_chart(
        bant_labels,
        Series(_("Captured"), [bant.item_rate(n) for n in kpis.BANT]),
        title=_("BANT capture by item"),
        percent=True,
    )
    pipeline = pipeline or sales.pipelines().first()
    win_chart = funnel_chart = ""
    if pipeline is not None:
        funnel_chart = _phase_funnel(open_deals, pipeline, base)
        rates = summarised.stage_win_rates(pipeline=pipeline, period=period, **scope)
        win_chart = charts.bar_chart(
            [r.stage.label for r in rates],
            Series(_("Win rate"), [r.rate for r in rates]),
            title=_("Win rate per stage"),
            percent=True,
        )
    counts = summarised.activity_counts(period=week, **scope)
    people: dict[int | None, Any] = {
        u.pk: u for u in User.objects.filter(pk__in=[k for k in counts if k])
    }
    owners = sorted(counts, key=lambda k: -sum(counts[k].values()))[:15]
    kinds = [k for k in kpis.LOGGED_KINDS if any(k in counts[o] for o in owners)]
    kind_labels = dict(Activity.Kind.choices)
    activity_chart = charts.stacked_bars(
        [str(people.get(o, "—")) for o in owners],
        [Series(str(kind_labels[k]), [counts[o].get(k, 0) for o in owners]) for k in kinds],
        title=_("Activity per rep this week"),
        orientation="horizontal",
        links=[drill_url("activities", owner=o, period="week", team=team) for o in owners],
    )
    return {
        "tiles": tiles,
        "stalled_chart": stalled_chart,
        "win_chart": win_chart,
        "bant_chart": bant_chart,
        "activity_chart": activity_chart,
        "funnel_chart": funnel_chart,
        "pipeline": pipeline,
        "pipelines": list(sales.pipelines()),
        "week": week,
    }


def phase_steps(pipeline: Pipeline) -> list[tuple[str, int]]:
    """(label, first open stage position) per phase of the pipeline, in order; a
    pipeline without phases has one step per open stage."""
    stages = [s for s in sales.pipeline_stages(pipeline) if s.outcome == Stage.Outcome.OPEN]
    stages.sort(key=lambda s: s.position)
    steps: dict[Any, tuple[str, int]] = {}
    for stage in stages:
        key = ("phase", stage.phase_id) if stage.phase_id else ("stage", stage.pk)
        if key not in steps:
            label = stage.phase.label if stage.phase is not None else stage.label
            steps[key] = (label, stage.position)
    return list(steps.values())


def _phase_funnel(open_deals, pipeline: Pipeline, base: dict[str, Any]):
    """The pipeline funnel: open deals that have come as far as each phase (now in
    it or in a later one), top to bottom, as a sales meeting reads it."""
    steps = phase_steps(pipeline)
    per_position = dict(
        open_deals.filter(pipeline=pipeline)
        .values("stage__position")
        .annotate(n=Count("id"))
        .values_list("stage__position", "n")
    )
    values = [sum(n for pos, n in per_position.items() if pos >= start) for _l, start in steps]
    return charts.funnel(
        [label for label, _start in steps],
        values,
        title=_("Pipeline funnel"),
        description=_("Open deals that have reached each phase (now in it or a later one)."),
        value_name=_("Open deals"),
        links=[
            drill_url("funnel", pipeline=pipeline.pk, position=start, **base)
            for _label, start in steps
        ],
    )


def _heat(open_deals, probability, currency) -> dict[str, tuple[int, Decimal]]:
    bands = (("hot", HOT, 1000), ("warm", WARM, HOT), ("cold", -1, WARM))
    aggregates: dict[str, Any] = {}
    for name, lo, hi in bands:
        band = Q(p__gte=lo, p__lt=hi)
        aggregates[f"{name}_n"] = Count("id", filter=band)
        aggregates[f"{name}_amount"] = Sum("amount", filter=band & Q(currency=currency))
    row = open_deals.annotate(p=probability).aggregate(**aggregates)
    return {
        name: (row[f"{name}_n"], row[f"{name}_amount"] or Decimal(0)) for name, _lo, _hi in bands
    }


# The rep's own -----------------------------------------------------------------


MY_METRICS = ("calls", "first_contacts", "proposals", "won_amount")


def mine(*, user, currency: str = "JPY"):
    today = timezone.localdate()
    week = week_for(today)
    month = period_for("month", today)
    actual = kpis.metric_actuals(user=user, period=month, currency=currency, owner=user)
    labels = {
        "calls": _("Calls"),
        "first_contacts": _("First contacts"),
        "proposals": _("Proposals"),
        "won_amount": _("Won amount"),
    }
    drills = {
        "calls": drill_url("activities", kind="call", owner=user, period=month.key),
        "first_contacts": drill_url("first_contacts", owner=user, period=month.key),
        "proposals": drill_url("proposals", owner=user, period=month.key),
        "won_amount": drill_url("won", owner=user, period=month.key),
    }
    tiles = []
    for metric in MY_METRICS:
        target = target_value(metric=metric, period=month, owner=user, currency=currency)
        money = metric == "won_amount"
        shown = format_money(actual[metric], currency) if money else f"{actual[metric]:,.0f}"
        if target:
            goal = format_money(target, currency) if money else f"{target:,.0f}"
            sub = _("target %(target)s") % {"target": goal}
            progress = float(actual[metric] / target)
        else:
            sub, progress = _("no target set"), None
        tiles.append(Tile(labels[metric], shown, drills[metric], sub, progress))
    follow_deals = list(
        kpis.open_records(user=user, owner=user)
        .filter(next_action_due__lt=week.end)
        .select_related("company", "stage")
        .order_by("next_action_due", "id")[:30]
    )
    tasks = list(
        access.visible(Activity.objects.all(), user)
        .filter(kind=Activity.Kind.TASK, assignee=user, done_at__isnull=True)
        .filter(Q(due_date__lt=week.end) | Q(due_date__isnull=True, deal__isnull=False))
        .select_related("deal", "company")
        .order_by("deal_id", "due_date", "id")[:60]
    )
    by_deal: dict[Any, list[Activity]] = {}
    for task in tasks:
        by_deal.setdefault(task.deal, []).append(task)
    return {
        "tiles": tiles,
        "month": month,
        "week": week,
        "today": today,
        "follow_deals": follow_deals,
        "todo_groups": sorted(
            by_deal.items(), key=lambda kv: (kv[0] is None, kv[0].name if kv[0] else "")
        ),
    }


# Drill-down --------------------------------------------------------------------


def drill_period(raw: str | None, default_kind: str = "quarter") -> FiscalPeriod | Span:
    from kizuna.analytics.periods import parse_period

    if raw == "week":
        return week_for()
    return parse_period(raw) or period_for(default_kind)


def drill(*, user, kpi: str, params: dict[str, str]):
    """The records behind a tile: (kind of record, queryset, title)."""
    period = drill_period(params.get("period"))
    team = chosen_team(user, params.get("team")) if params.get("team") else None
    owner = params.get("owner") if (params.get("owner") or "").isdigit() else None
    scope = {"user": user, "team": team, "owner": owner}
    if kpi == "won":
        return "deal", kpis.won_records(period=period, **scope), _("Deals won")
    if kpi == "lost":
        qs = kpis.lost_records(period=period, **scope)
        reason = params.get("reason")
        if reason == "none":
            qs = qs.filter(loss_reason__isnull=True)
        elif reason and reason.isdigit():
            qs = qs.filter(loss_reason_id=int(reason))
        return "deal", qs, _("Deals lost")
    if kpi == "forecast":
        qs = kpis.deals(**scope).filter(
            Q(
                status=Deal.Status.OPEN,
                expected_close_date__gte=period.start,
                expected_close_date__lt=period.end,
            )
            | Q(pk__in=kpis.won_records(period=period, **scope).values("pk"))
        )
        return "deal", qs, _("Expected orders")
    if kpi in ("open", "temperature"):
        qs = kpis.open_records(**scope)
        if kpi == "temperature" and params.get("t") in ("hot", "warm", "cold"):
            qs = qs.filter(temperature_q(params["t"]))
        return "deal", qs, _("Open deals")
    if kpi == "funnel":
        qs = kpis.open_records(**scope)
        if (params.get("pipeline") or "").isdigit():
            qs = qs.filter(pipeline_id=int(params["pipeline"]))
        if (params.get("position") or "").isdigit():
            qs = qs.filter(stage__position__gte=int(params["position"]))
        return "deal", qs, _("Open deals")
    if kpi == "first_contacts":
        return "deal", kpis.first_contact_records(period=period, **scope), _("First contacts")
    if kpi == "leads":
        qs = kpis.sql_records(period=period, qualified=params.get("qualified") == "1", **scope)
        if params.get("channel"):
            qs = qs.filter(channel=params["channel"])
        return "lead", qs, _("Leads")
    if kpi == "activities":
        qs = kpis.activity_records(period=period, kind=params.get("kind") or None, **scope)
        return "activity", qs, _("Activities")
    if kpi == "proposals":
        return "quote", kpis.proposal_records(period=period, **scope), _("Proposals")
    if kpi == "cohort":
        from kizuna.customers.models import Company

        ids = kpis.cohort_records(user=user, period=period, team=team, owner=owner)
        qs = access.visible(Company.objects.filter(pk__in=ids), user)
        return "company", qs, _("New customers of the period")
    if kpi == "customers":
        from kizuna.customers.models import Company

        ids = kpis.customers_at(user=user, day=period.start, team=team, owner=owner)
        qs = access.visible(Company.objects.filter(pk__in=ids), user)
        return "company", qs, _("Customers at the start of the period")
    return None


def stage_label(stage: Stage) -> str:
    return stage.label


def week_label(week: Span) -> str:
    last = week.end - datetime.timedelta(days=1)
    return f"{week.start:%m/%d} – {last:%m/%d}"
