"""The summary tables agree with the live KPI functions, for every user.

Random histories of writes through the services (create, update amount /
owner / team, stage moves, win, lose, delete, activities, lead status changes,
conversion, shares), then every summarised KPI is compared with its live
reference in ``analytics.kpis`` as every kind of user, under private, team
and read-all policies.
"""

import datetime
import io
import random
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from kizuna.activities import services as activities
from kizuna.activities.models import Activity
from kizuna.analytics import kpis, summarised, summary
from kizuna.analytics.models_summary import DealMonthly
from kizuna.analytics.periods import Span, last_periods, period_for
from kizuna.core.models import AccessLevel, AccessPolicy
from kizuna.core.services import share_create
from kizuna.customers import services as customers
from kizuna.customers.models import Lead
from kizuna.sales import services as sales
from kizuna.sales.models import Deal, LossReason, Pipeline, Stage
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC

MONTHS = [period_for("month", datetime.date(2026, m, 1), start_month=4) for m in range(3, 10)]
PERIODS = [
    *MONTHS,
    period_for("quarter", datetime.date(2026, 5, 1), start_month=4),
    period_for("quarter", datetime.date(2026, 8, 1), start_month=4),
    period_for("year", datetime.date(2026, 5, 1), start_month=4),
    Span(datetime.date(2026, 5, 10), datetime.date(2026, 7, 20)),  # not whole months: live
]
QUARTERS = last_periods("quarter", 4, datetime.date(2026, 9, 1), start_month=4)
TODAY = datetime.date(2026, 8, 15)  # the last quarter is under way
WEEKS = [
    Span(d, d + datetime.timedelta(days=7))
    for d in (datetime.date(2026, 5, 4), datetime.date(2026, 6, 1), datetime.date(2026, 7, 13))
]


def _moment(rng: random.Random) -> datetime.datetime:
    # Around month ends too, where Tokyo and UTC disagree on the month.
    day = datetime.date(2026, 3, 25) + datetime.timedelta(days=rng.randrange(0, 190))
    return datetime.datetime.combine(day, datetime.time(rng.choice([0, 3, 14, 16, 23])), UTC)


def _history(org, rng: random.Random, steps: int) -> None:
    pipeline = Pipeline.objects.first()
    all_stages = list(pipeline.stages.order_by("position"))
    for stage in all_stages:
        # Moves are tested in sales; here any move must be allowed.
        Stage.objects.filter(pk=stage.pk).update(checklist=[], required_fields=[])
    reason = LossReason.objects.first() or LossReason.objects.create(name="price")
    users = [org.admin, org.manager, org.rep, org.colleague, org.outsider]
    teams = [org.tokyo, org.osaka]
    companies = [CompanyFactory(owner=u, team=u.team) for u in users]
    actor = org.admin
    for _step in range(steps):
        with time_machine.travel(_moment(rng), tick=False):
            op = rng.random()
            deals = list(Deal.objects.order_by("pk"))
            leads = list(Lead.objects.order_by("pk"))
            acts = list(Activity.objects.order_by("pk"))
            try:
                if op < 0.22 or not deals:
                    owner = rng.choice(users)
                    sales.deal_create(
                        actor=actor,
                        name="d",
                        owner=owner,
                        team=rng.choice(teams),
                        company=rng.choice(companies),
                        amount=Decimal(rng.randrange(0, 5_000_000)),
                        currency=rng.choice(["JPY", "JPY", "KRW"]),
                        stage=rng.choice([s for s in all_stages if s.outcome == "open"]),
                        source_lead=rng.choice(leads) if leads and rng.random() < 0.6 else None,
                    )
                elif op < 0.42:
                    deal = rng.choice(deals)
                    target = rng.choice(all_stages)
                    sales.deal_move(actor=actor, deal=deal, stage=target, loss_reason=reason)
                elif op < 0.52:
                    deal = rng.choice(deals)
                    change = rng.choice(["amount", "owner", "team", "source_lead"])
                    kwargs = {
                        "amount": {"amount": Decimal(rng.randrange(0, 9_000_000))},
                        "owner": {"owner": rng.choice(users)},
                        "team": {"team": rng.choice(teams)},
                        "source_lead": {"source_lead": rng.choice([None, *leads])},
                    }[change]
                    sales.deal_update(actor=actor, deal=deal, **kwargs)
                elif op < 0.56:
                    sales.deal_delete(actor=actor, deal=rng.choice(deals))
                elif op < 0.70:
                    owner = rng.choice(users)
                    deal = rng.choice(deals)
                    activities.activity_create(
                        actor=actor,
                        owner=owner,
                        team=rng.choice(teams),
                        kind=rng.choice(Activity.Kind.values),
                        subject="s",
                        occurred_at=_moment(rng),
                        deal=deal if rng.random() < 0.5 else None,
                        company=deal.company,
                    )
                elif op < 0.74 and acts:
                    activity = rng.choice(acts)
                    if rng.random() < 0.5:
                        activities.activity_delete(actor=actor, activity=activity)
                    else:
                        activities.activity_update(
                            actor=actor,
                            activity=activity,
                            owner=rng.choice(users),
                            occurred_at=_moment(rng),
                        )
                elif op < 0.84 or not leads:
                    owner = rng.choice(users)
                    customers.lead_create(
                        actor=actor,
                        owner=owner,
                        team=rng.choice(teams),
                        family_name="山田",
                        given_name="花子",
                        company_name=f"会社{rng.randrange(1000)}",
                        channel=rng.choice(Lead.Channel.values),
                        status=rng.choice([Lead.Status.NEW, Lead.Status.QUALIFIED]),
                    )
                elif op < 0.90:
                    lead = rng.choice(leads)
                    if rng.random() < 0.5:
                        customers.lead_convert(actor=actor, lead=lead)
                    else:
                        customers.lead_update(
                            actor=actor,
                            lead=lead,
                            owner=rng.choice(users),
                            status=rng.choice([Lead.Status.NEW, Lead.Status.QUALIFIED]),
                        )
                elif op < 0.93:
                    customers.lead_delete(actor=actor, lead=rng.choice(leads))
                else:
                    obj = rng.choice([*deals, *leads, *acts])
                    if rng.random() < 0.5:
                        share_create(actor=actor, obj=obj, user=rng.choice(users))
                    else:
                        share_create(actor=actor, obj=obj, team=rng.choice(teams))
            except (ValidationError, PermissionDenied):
                pass


def _cohorts(cohorts) -> list[tuple]:
    return [(c.period.start, c.size, c.again) for c in cohorts]


def _assert_same(user, pipeline) -> None:
    for period in PERIODS:
        for team in (None, user.team):
            scope = {"user": user, "period": period, "team": team}
            assert summarised.sql_rate(**scope) == kpis.sql_rate(**scope)
            ours = summarised.customers(**scope, quarters=QUARTERS, today=TODAY)
            assert ours.retention == kpis.retention_rate(**scope)
            cohorts = kpis.customer_cohorts(user=user, periods=QUARTERS, today=TODAY, team=team)
            assert _cohorts(ours.cohorts) == _cohorts(cohorts)
            assert summarised.channel_conversion(**scope) == kpis.channel_conversion(**scope)
            assert summarised.loss_reasons(**scope) == kpis.loss_reasons(**scope)
            live = kpis.average_lead_time_days(**scope)
            ours = summarised.average_lead_time_days(**scope)
            assert ours == pytest.approx(live), (user, period, team)
            assert [
                (r.stage.pk, r.reached, r.won)
                for r in summarised.stage_win_rates(pipeline=pipeline, **scope)
            ] == [
                (r.stage.pk, r.reached, r.won)
                for r in kpis.stage_win_rates(pipeline=pipeline, **scope)
            ]
        assert summarised.revenue_by_month(
            user=user, start=period.start, end=period.end
        ) == kpis.revenue_by_month(user=user, start=period.start, end=period.end)
        assert summarised.revenue_by_month(
            user=user, start=period.start, end=period.end, owner=user
        ) == kpis.revenue_by_month(user=user, start=period.start, end=period.end, owner=user)
    for week in [*WEEKS, *MONTHS[:3]]:
        for team in (None, user.team):
            scope = {"user": user, "period": week, "team": team}
            assert summarised.activity_counts(**scope) == kpis.activity_counts(**scope)


@pytest.mark.parametrize("level", [AccessLevel.PRIVATE, AccessLevel.TEAM, AccessLevel.READ_ALL])
@pytest.mark.parametrize("seed", [1, 2])
def test_summary_equals_live_kpis(org, level, seed, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    for object_type in ("deal", "lead", "activity"):
        AccessPolicy.objects.update_or_create(object_type=object_type, defaults={"level": level})
    rng = random.Random(seed)
    _history(org, rng, 160)
    # Win some deals that came from leads, then give one another source lead
    # and delete one: each changes which leads count as won.
    won = Stage.objects.filter(outcome="won").first()
    sourced = list(Deal.objects.exclude(source_lead=None).filter(status="open").order_by("pk"))
    with time_machine.travel(datetime.datetime(2026, 8, 3, 2, tzinfo=UTC), tick=False):
        for deal in sourced[:4]:
            sales.deal_move(actor=org.admin, deal=deal, stage=won)
        other = Lead.objects.exclude(pk=sourced[0].source_lead_id).first()
        sales.deal_update(actor=org.admin, deal=sourced[0], source_lead=other)
        sales.deal_delete(actor=org.admin, deal=sourced[1])
    # Shares of closed deals, leads and activities with the rep and her team.
    for model in (Deal, Lead, Activity):
        records = list(model.objects.exclude(owner=org.rep).order_by("pk"))
        for obj in rng.sample(records, min(4, len(records))):
            share_create(actor=org.admin, obj=obj, user=org.rep)
        for obj in rng.sample(records, min(4, len(records))):
            share_create(actor=org.admin, obj=obj, team=org.tokyo)
    assert DealMonthly.objects.exists()
    # Some leads became won deals, so channel conversion has something to count.
    year = PERIODS[-2]
    assert any(r.won for r in kpis.channel_conversion(user=org.admin, period=year))
    if level == AccessLevel.PRIVATE:
        # Some records are seen only through a share.
        assert summarised.scope(org.rep, Deal).shared.exists()
    pipeline = Pipeline.objects.first()
    inactive = UserFactory(username="gone", team=org.tokyo, is_active=False)
    for user in (org.admin, org.manager, org.rep, org.colleague, org.outsider, inactive):
        user = type(user).objects.get(pk=user.pk)  # a fresh viewer
        _assert_same(user, pipeline)

    # The rebuild reaches the same rows as the increments.
    def rows():
        return {
            t.__name__: sorted(
                tuple(r) for r in t.objects.filter(count__gt=0).values_list(*t.KEY, *t.VALUES)
            )
            for t in summary.TABLES
        }

    incremental = rows()
    call_command("analytics", "rebuild", stdout=io.StringIO())
    assert rows() == incremental


def test_a_rolled_back_write_leaves_the_summary_alone(org):
    deal = sales.deal_create(actor=org.rep, name="d", company=CompanyFactory(owner=org.rep))
    won = Stage.objects.filter(pipeline=deal.pipeline, outcome="won").first()
    Stage.objects.filter(pipeline=deal.pipeline).update(checklist=[], required_fields=[])
    before = list(DealMonthly.objects.values_list("count", flat=True))
    with pytest.raises(PermissionDenied):
        sales.deal_move(actor=org.outsider, deal=deal, stage=won)
    assert list(DealMonthly.objects.values_list("count", flat=True)) == before
    sales.deal_move(actor=org.rep, deal=deal, stage=won)
    assert DealMonthly.objects.get().count == 1


def _rows():
    return {
        t.__name__: sorted(
            tuple(r) for r in t.objects.filter(count__gt=0).values_list(*t.KEY, *t.VALUES)
        )
        for t in summary.TABLES
    }


def test_lead_merge_and_undo_keep_the_summary(org):
    from kizuna.dedup.services import merge_undo, record_merge

    leads = [
        customers.lead_create(
            actor=org.admin,
            owner=owner,
            family_name="山田",
            given_name="花子",
            company_name="山田商事",
            channel=Lead.Channel.WEB_FORM,
            status=status,
        )
        for owner, status in ((org.rep, "new"), (org.outsider, "qualified"), (org.rep, "new"))
    ]
    before = _rows()
    merge = record_merge(actor=org.admin, entity="lead", survivor=leads[0], others=leads[1:])
    merged = _rows()
    assert merged != before
    summary.rebuild()
    assert _rows() == merged
    merge_undo(actor=org.admin, merge=merge)
    assert _rows() == before


def test_company_merge_and_undo_move_the_customers(org, settings):
    from kizuna.dedup.services import merge_undo, record_merge

    settings.TIME_ZONE = "Asia/Tokyo"
    for stage in Stage.objects.all():
        Stage.objects.filter(pk=stage.pk).update(checklist=[], required_fields=[])
    companies = [CompanyFactory(owner=org.rep, name=f"山田商事{i}") for i in range(3)]
    for company, day in zip(companies, (5, 6, 8), strict=True):
        with time_machine.travel(datetime.datetime(2026, day, 10, 3, tzinfo=UTC), tick=False):
            deal = sales.deal_create(actor=org.rep, name="d", company=company)
            won = Stage.objects.filter(pipeline=deal.pipeline, outcome="won").first()
            sales.deal_move(actor=org.rep, deal=deal, stage=won)
    args = {"user": org.rep, "periods": QUARTERS, "today": datetime.date(2026, 9, 30)}

    def cohorts():
        ours = summarised.customers(
            user=org.rep, period=QUARTERS[-1], quarters=QUARTERS, today=args["today"]
        )
        return _cohorts(ours.cohorts)

    before = _rows()
    assert cohorts()[2][1:] == (2, [0])
    merge = record_merge(
        actor=org.admin, entity="company", survivor=companies[0], others=companies[1:]
    )
    merged = _rows()
    # One customer now, first order in May, ordering again in August.
    assert cohorts()[2][1:] == (1, [1])
    assert cohorts() == _cohorts(kpis.customer_cohorts(**args))
    summary.rebuild()
    assert _rows() == merged
    merge_undo(actor=org.admin, merge=merge)
    assert _rows() == before


def test_reordering_stages_recounts_the_stage_win_rates(org):
    from kizuna.sales.models import Stage as StageModel

    pipeline = Pipeline.objects.first()
    StageModel.objects.filter(pipeline=pipeline).update(checklist=[], required_fields=[])
    stages = list(pipeline.stages.order_by("position"))
    deal = sales.deal_create(actor=org.rep, name="d", company=CompanyFactory(owner=org.rep))
    lost = next(s for s in stages if s.outcome == "lost")
    reason = LossReason.objects.first() or LossReason.objects.create(name="price")
    sales.deal_move(actor=org.rep, deal=deal, stage=lost, loss_reason=reason)
    rows = [
        {"id": s.pk, "name": s.name, "outcome": s.outcome, "probability": s.probability}
        for s in stages
    ]
    # The deal's only open stage moves from first to third place.
    rows[0], rows[2] = rows[2], rows[0]
    sales.pipeline_save(
        actor=org.admin,
        pipeline=pipeline,
        name=pipeline.name,
        translations={},
        kind=pipeline.kind,
        default_stall_days=pipeline.default_stall_days,
        is_active=True,
        stages=rows,
    )
    period = period_for("quarter")
    live = kpis.stage_win_rates(user=org.admin, pipeline=pipeline, period=period)
    ours = summarised.stage_win_rates(user=org.admin, pipeline=pipeline, period=period)
    assert [(r.stage.pk, r.reached) for r in ours] == [(r.stage.pk, r.reached) for r in live]
