"""KPIs on small hand-built data; every expected number is worked out in a comment."""

import datetime
from decimal import Decimal

import pytest

from kizuna.activities.models import Activity
from kizuna.analytics import kpis, targets
from kizuna.analytics.periods import Span, period_for
from kizuna.customers.models import Lead
from kizuna.sales.models import Deal, LossReason, Pipeline, Stage, StageChange
from tests.factories import ActivityFactory, CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
Q2 = period_for("quarter", datetime.date(2026, 8, 1), start_month=4)  # Jul-Sep 2026


def at(month, day=15):
    return datetime.datetime(2026, month, day, 3, tzinfo=UTC)  # noon in Tokyo


def stages():
    pipeline = Pipeline.objects.first()
    s = list(pipeline.stages.order_by("position"))
    return pipeline, [x for x in s if x.outcome == "open"], s


def make_deal(owner, *, status="open", stage=None, path=(), start=None, closed=None, **kw):
    pipeline, open_stages, all_stages = stages()
    if stage is None:
        stage = {
            "won": next(x for x in all_stages if x.outcome == "won"),
            "lost": next(x for x in all_stages if x.outcome == "lost"),
        }.get(status, open_stages[0])
    if "company" not in kw:
        kw["company"] = CompanyFactory(owner=owner, team=owner.team)
    deal = Deal.objects.create(
        name="d",
        owner=owner,
        team=owner.team,
        pipeline=pipeline,
        stage=stage,
        status=status,
        closed_at=closed,
        **kw,
    )
    start = start or at(4)
    previous = None
    for i, s in enumerate([*path, stage] if path else [open_stages[0], stage]):
        if previous == s:
            continue
        StageChange.objects.create(
            deal=deal, from_stage=previous, to_stage=s, at=start + datetime.timedelta(days=i)
        )
        previous = s
    return deal


def lead(owner, month, status="new", channel=Lead.Channel.WEB_FORM):
    obj = LeadFactory(owner=owner, status=status, channel=channel)
    Lead.objects.filter(pk=obj.pk).update(created_at=at(month))
    return obj


def test_sql_rate_and_channel_conversion(org):
    web = [lead(org.rep, 7, s) for s in ("new", "qualified", "converted", "disqualified")]
    lead(org.rep, 8, "qualified", Lead.Channel.TRADE_SHOW)
    lead(org.rep, 6, "qualified")  # before the quarter
    lead(org.outsider, 7, "qualified")  # another team's: the rep does not see it
    make_deal(org.rep, status="won", closed=at(9), source_lead=web[2], amount=100)
    make_deal(org.outsider, status="won", closed=at(9), source_lead=web[1], amount=100)
    # Rep sees 5 leads in Q2, 3 qualified or converted -> 3/5.
    rate = kpis.sql_rate(user=org.rep, period=Q2)
    assert (rate.numerator, rate.denominator, rate.value) == (3, 5, 0.6)
    # Admin sees 6, 4 qualified.
    assert kpis.sql_rate(user=org.admin, period=Q2).value == 4 / 6
    rows = {r.channel: (r.leads, r.won) for r in kpis.channel_conversion(user=org.rep, period=Q2)}
    # web: 4 leads, two of them won: whether her lead was won is the rep's to
    # see, even when the deal it became is Osaka's (whose amount she cannot see).
    assert rows == {"web_form": (4, 2), "trade_show": (1, 0)}
    assert kpis.won_records(user=org.rep, period=Q2).count() == 1
    empty = kpis.sql_rate(user=org.rep, period=Q2.next())
    assert empty.value is None  # no leads: n/a, not a division error


def test_lead_time_loss_reasons_and_stage_win_rates(org):
    pipeline, open_stages, _ = stages()
    s0, s1, s2 = open_stages[0], open_stages[1], open_stages[2]
    # Won: first contact 1 Jul, won 11 Jul -> 10 days; first 1 Aug, won 21 Aug -> 20 days.
    make_deal(org.rep, status="won", start=at(7, 1), closed=at(7, 11), path=[s0, s1, s2])
    make_deal(org.rep, status="won", start=at(8, 1), closed=at(8, 21), path=[s0, s2])
    price, timing = LossReason.objects.all()[:2]
    make_deal(org.rep, status="lost", closed=at(8), path=[s0, s1], loss_reason=price)
    make_deal(org.rep, status="lost", closed=at(9), path=[s0], loss_reason=price)
    make_deal(org.rep, status="lost", closed=at(9), path=[s0], loss_reason=timing)
    make_deal(org.rep, status="won", start=at(4, 1), closed=at(5))  # before Q2
    assert kpis.average_lead_time_days(user=org.rep, period=Q2) == pytest.approx(15)
    ranking = kpis.loss_reasons(user=org.rep, period=Q2)
    assert [(r.label, r.count) for r in ranking] == [(price.label, 2), (timing.label, 1)]
    rates = {
        r.stage.pk: (r.reached, r.won)
        for r in kpis.stage_win_rates(user=org.rep, pipeline=pipeline, period=Q2)
    }
    # Closed in Q2: 5 deals. Reached s0: all 5, 2 won. s1 or later: won, won (jumped
    # over s1 to s2), lost at s1 -> 3, 2 won. s2 or later: the two won -> 2, 2.
    assert rates[s0.pk] == (5, 2)
    assert rates[s1.pk] == (3, 2)
    assert rates[s2.pk] == (2, 2)
    assert kpis.average_lead_time_days(user=org.outsider, period=Q2) is None


def test_bant_next_action_and_activity_counts(org):
    make_deal(org.rep, budget_status="captured", need_status="captured", next_action="訪問")
    make_deal(org.rep, budget_status="captured")
    make_deal(org.rep, status="won", closed=at(7), budget_status="captured")  # not open
    # Open deals 2; captured items 2 + 1 = 3 of 4 x 2 = 8.
    bant = kpis.bant_capture(user=org.rep)
    assert (bant.rate, bant.item_rate("budget_status")) == (3 / 8, 1.0)
    assert kpis.next_action_coverage(user=org.rep).value == 0.5
    assert kpis.bant_capture(user=org.outsider).rate is None
    ActivityFactory(owner=org.rep, kind="call", occurred_at=at(7))
    ActivityFactory(owner=org.rep, kind="call", occurred_at=at(8))
    ActivityFactory(owner=org.rep, kind="visit", occurred_at=at(8))
    ActivityFactory(owner=org.colleague, kind="call", occurred_at=at(8))
    ActivityFactory(owner=org.rep, kind="stage", occurred_at=at(8))  # system, not counted
    ActivityFactory(owner=org.rep, kind="call", occurred_at=at(10))  # after Q2
    counts = kpis.activity_counts(user=org.admin, period=Q2)
    assert counts == {org.rep.pk: {"call": 2, "visit": 1}, org.colleague.pk: {"call": 1}}
    week = Span(datetime.date(2026, 8, 10), datetime.date(2026, 8, 17))
    assert kpis.activity_counts(user=org.admin, period=week, owner=org.rep) == {
        org.rep.pk: {"visit": 1, "call": 1}
    }


def test_retention_rate_and_revenue(org):
    a, b, c, d = (CompanyFactory(owner=org.rep, team=org.tokyo) for _ in range(4))
    # Customers on 1 Jul 2026 (won in the 12 months before): a, b, c.
    make_deal(org.rep, status="won", company=a, closed=at(1), amount=100)
    make_deal(org.rep, status="won", company=b, closed=at(2), amount=200)
    make_deal(org.rep, status="won", company=c, closed=datetime.datetime(2025, 8, 1, tzinfo=UTC))
    # On 1 Oct 2026: a (won Jan), b (won again in Aug), d (new) -> c dropped out
    # (its last win is more than 12 months before 1 Oct).
    make_deal(org.rep, status="won", company=b, closed=at(8), amount=Decimal(300))
    make_deal(org.rep, status="won", company=d, closed=at(9), amount=Decimal(400))
    make_deal(org.rep, status="won", company=d, closed=at(9), amount=50, currency="KRW")
    rate = kpis.retention_rate(user=org.rep, period=Q2)
    # Kept a, b of a, b, c: 2/3; the new customer d does not count.
    assert (rate.numerator, rate.denominator) == (2, 3)
    assert kpis.retention_rate(user=org.outsider, period=Q2).value is None
    months = [period_for("month", datetime.date(2026, m, 1), start_month=4) for m in (7, 8, 9)]
    assert kpis.revenue_by_period(user=org.rep, periods=months) == [0, 300, 400]
    assert kpis.revenue_by_period(user=org.rep, periods=[Q2], currency="KRW") == [50]


def test_forecast_against_targets(org):
    targets.target_save(
        actor=org.admin,
        metric="won_amount",
        period_kind="month",
        period_start=datetime.date(2026, 7, 1),
        value=1000,
        user=org.rep,
    )
    targets.target_save(
        actor=org.admin,
        metric="won_amount",
        period_kind="month",
        period_start=datetime.date(2026, 8, 1),
        value="1,000",
        user=org.rep,
    )
    make_deal(org.rep, status="won", closed=at(8), amount=500)
    s = stages()[1][2]
    make_deal(org.rep, stage=s, expected_close_date=datetime.date(2026, 9, 1), amount=1000)
    f = kpis.forecast_vs_target(user=org.rep, period=Q2, owner=org.rep)
    # Target: two monthly targets summed = 2000. Expected: 500 won + 1000 x stage %.
    assert f.target == 2000
    assert f.expected == 500 + Decimal(1000) * s.probability / 100
    assert f.won_attainment == 0.25
    # No target for the team or company: attainment is n/a.
    assert kpis.forecast_vs_target(user=org.rep, period=Q2, team=org.osaka).attainment is None
    actual = kpis.metric_actuals(user=org.rep, period=Q2, owner=org.rep)
    assert actual["won_amount"] == 500 and actual["deals_won"] == 1
    assert actual["first_contacts"] == 0  # both deals were first contacted in April


def test_targets_are_set_by_managers_only(org):
    with pytest.raises(targets.PermissionDenied):
        targets.target_save(
            actor=org.rep,
            metric="calls",
            period_kind="month",
            period_start=datetime.date(2026, 7, 1),
            value=10,
            user=org.rep,
        )
    # The manager is above the rep in the role hierarchy.
    t = targets.target_save(
        actor=org.manager,
        metric="calls",
        period_kind="month",
        period_start=datetime.date(2026, 7, 20),
        value=10,
        user=org.rep,
    )
    assert t.period_start == datetime.date(2026, 7, 1)
    with pytest.raises(targets.ValidationError) as bad:
        targets.target_save(
            actor=org.admin,
            metric="calls",
            period_kind="month",
            period_start=datetime.date(2026, 7, 1),
            value="-3",
            user=org.rep,
        )
    assert "value" in bad.value.message_dict
    assert list(targets.target_list(user=org.outsider)) == []
    assert list(targets.target_list(user=org.rep)) == [t]
    activity_stage = Activity.Kind.STAGE  # stage changes are never counted as activity
    assert activity_stage not in kpis.LOGGED_KINDS
    assert Stage.Outcome.OPEN
