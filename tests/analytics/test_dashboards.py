"""The three dashboards: they render, respect the gate, drill down, and keep a fixed
number of queries however many rows there are."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kizuna.analytics import dashboards, kpis, summary
from kizuna.analytics.periods import period_for
from tests.analytics.test_kpis import make_deal
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db
PAGES = ("/dashboard/executive/", "/dashboard/manager/", "/dashboard/me/", "/dashboard/")


def seed(org, n):
    now = timezone.now()
    for i in range(n):
        make_deal(org.rep, next_action="" if i % 2 else "訪問", probability=20 * (i % 5))
        make_deal(org.rep, status="won", closed=now - datetime.timedelta(days=i), amount=1000)
        make_deal(org.outsider, status="lost", closed=now, amount=5)
        ActivityFactory(owner=org.rep, kind="call")
        ActivityFactory(owner=org.colleague, kind="visit")
        LeadFactory(owner=org.rep, status="qualified" if i % 2 else "new")
    summary.rebuild()  # the factories write past the services, as a bulk loader does


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
def test_query_count_does_not_grow_with_rows(client, org, who):
    client.force_login(getattr(org, who))
    seed(org, 2)
    client.get("/dashboard/executive/")  # caches (org settings) warm up
    small = {page: queries(client, page) for page in PAGES}
    seed(org, 10)
    large = {page: queries(client, page) for page in PAGES}
    assert small == large
    # Pinned: executive, manager, me (see benchmarks/results/analytics-*.md).
    assert max(large.values()) <= 40


def test_numbers_on_the_page_are_the_kpi_functions_and_respect_the_gate(client, org):
    seed(org, 3)
    client.force_login(org.rep)
    quarter = period_for("quarter")
    won = kpis.won_records(user=org.rep, period=quarter).count()
    response = client.get("/dashboard/executive/")
    body = response.content.decode()
    sql = kpis.sql_rate(user=org.rep, period=quarter)
    assert f"{sql.numerator} of {sql.denominator} leads qualified" in body
    # The outsider's lost deals are not the rep's to see.
    assert kpis.lost_records(user=org.rep, period=quarter).count() == 0
    drill = client.get(dashboards.drill_url("won", period=quarter.key))
    assert drill.context["page"].paginator.count == won
    # A rep cannot pick another team to read its numbers.
    assert dashboards.chosen_team(org.rep, str(org.osaka.pk)) is None
    manager = client.get(f"/dashboard/manager/?team={org.osaka.pk}")
    assert manager.context["team"] is None


def test_empty_dashboards_say_so(client, org):
    client.force_login(org.outsider)
    for page in PAGES:
        body = client.get(page + "?period=FY2031-Q9").content.decode()
        assert "n/a" in body or "No data" in body or "No follow-ups" in body


def test_the_manager_sees_the_team_filter_and_sets_targets(client, org):
    client.force_login(org.manager)
    response = client.get("/dashboard/manager/")
    assert org.tokyo in response.context["teams"]  # the rep under the manager is in Tokyo
    response = client.post(
        "/settings/targets/",
        {
            "metric": "calls",
            "period_kind": "month",
            "period_start": "2026-07-03",
            "user": org.rep.pk,
            "value": "40",
            "currency": "JPY",
        },
    )
    assert response.status_code == 302
    client.force_login(org.rep)
    assert client.get("/settings/targets/").status_code == 403


def test_the_manager_dashboard_shows_the_pipeline_funnel_by_phase(client, org):
    from kizuna.sales.models import Pipeline, Stage

    pipeline = Pipeline.objects.first()
    open_stages = list(pipeline.stages.filter(outcome=Stage.Outcome.OPEN).order_by("position"))
    steps = dashboards.phase_steps(pipeline)
    assert len(steps) >= 3  # the shipped pipeline's phases, not one step per stage
    # Two deals in the first stage, one in the last open stage, one closed.
    make_deal(org.rep, stage=open_stages[0])
    make_deal(org.rep, stage=open_stages[0])
    make_deal(org.rep, stage=open_stages[-1], path=open_stages)
    make_deal(org.rep, status="won", closed=timezone.now())
    make_deal(org.outsider, stage=open_stages[-1])  # not the rep's to see
    client.force_login(org.rep)
    response = client.get("/dashboard/manager/")
    funnel = str(response.context["funnel_chart"])
    assert "<svg" in funnel
    # Every phase was reached by the deal in the last open stage; the first by all three.
    first_label, first_position = steps[0]
    last_label, last_position = steps[-1]
    assert f"{first_label} — 3" in funnel and f"{last_label} — 1" in funnel
    for position, count in [(last_position, 1), (first_position, 3)]:
        url = dashboards.drill_url("funnel", pipeline=pipeline.pk, position=position)
        assert client.get(url).context["page"].paginator.count == count


def test_the_executive_dashboard_shows_customer_cohorts_that_drill_to_companies(client, org):
    from tests.factories import CompanyFactory

    now = timezone.now()
    this_quarter = period_for("quarter")
    last_quarter = this_quarter.shifted(-1)
    early = timezone.make_aware(datetime.datetime.combine(last_quarter.start, datetime.time(12)))
    returning, once = CompanyFactory(owner=org.rep), CompanyFactory(owner=org.rep)
    # Two new customers last quarter; one of them ordered again this quarter.
    make_deal(org.rep, status="won", closed=early, company=returning)
    make_deal(org.rep, status="won", closed=now, company=returning)
    make_deal(org.rep, status="won", closed=early, company=once)
    # The outsider's customer is not the rep's to count.
    make_deal(org.outsider, status="won", closed=early)
    summary.rebuild()
    client.force_login(org.rep)
    response = client.get("/dashboard/executive/")
    table = str(response.context["cohort_chart"])
    link = dashboards.drill_url("cohort", period=last_quarter.key)
    row = table.split(f'<a href="{link.replace("&", "&amp;")}">')[1].split("</tr>")[0]
    assert ">2</td>" in row and ">50%</td>" in row
    drill = client.get(link)
    assert {c.pk for c in drill.context["page"].object_list} == {returning.pk, once.pk}


def test_stalled_deals_per_stage_match_the_deal_list(client, org):
    from kizuna.sales import selectors
    from kizuna.sales.models import Deal, Pipeline, Stage

    pipeline = Pipeline.objects.first()
    first, second = pipeline.stages.filter(outcome=Stage.Outcome.OPEN).order_by("position")[:2]
    long_ago = timezone.now() - datetime.timedelta(days=400)
    stale = [make_deal(org.rep, stage=first), make_deal(org.rep, stage=second)]
    make_deal(org.rep, stage=first)  # touched today
    make_deal(org.rep, status="lost", closed=long_ago)  # closed: not stalled
    make_deal(org.outsider, stage=first)  # not the rep's to see
    Deal.objects.filter(pk__in=[d.pk for d in stale]).update(last_touched_at=long_ago)
    Deal.objects.filter(owner=org.outsider).update(last_touched_at=long_ago)
    client.force_login(org.rep)
    response = client.get("/dashboard/manager/")
    tile = next(t for t in response.context["tiles"] if t.label == "Stalled deals")
    listed = kpis.open_records(user=org.rep).filter(selectors.stalled_q(selectors.open_stages()))
    assert tile.value == str(listed.count()) == "2"
    chart = str(response.context["stalled_chart"])
    for stage in (first, second):
        assert f'stage={stage.pk}">{stage.label}</a></th><td class="num">1</td>' in chart
