"""The dashboards with the demo data, in Chromium at desktop and phone width."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from kizuna.analytics import kpis
from kizuna.analytics.charts import format_money, format_percent
from kizuna.analytics.periods import parse_period, period_for
from kizuna.iam.models import User
from tests.browser.conftest import PASSWORD


@pytest.fixture
def demo(transactional_db):
    call_command("demo", "--password", PASSWORD, stdout=io.StringIO())
    return User.objects.get(username="demo")


@pytest.mark.parametrize("view", ["desktop", "phone"])
def test_dashboards_with_demo_data(request, demo, login, shot, view):
    page = request.getfixturevalue(view)
    login(page, "demo")
    quarter = period_for("quarter")
    for name in ("executive", "manager", "me"):
        page.goto(f"/dashboard/{name}/")
        expect(page.locator(".tiles .tile").first).to_be_visible()
        shot(page, f"{name}-{view}")
        # Charts are inline SVG (or an honest "no data" where the demo has none).
        if name != "me":
            assert page.locator("figure.chart").count() >= 3
    # The numbers on the executive tiles are the KPI functions'.
    page.goto("/dashboard/executive/")
    # The demo's deals are there in every run: the second run (phone) once got a
    # database flushed by the first, without the shipped pipeline, and no deals.
    forecast = kpis.forecast_vs_target(user=demo, period=quarter)
    assert forecast.expected > 0
    expect(page.locator(".tile").nth(0).locator(".tile-value")).to_have_text(
        format_money(forecast.expected)
    )
    sql = kpis.sql_rate(user=demo, period=quarter)
    expect(page.locator(".tile").nth(2).locator(".tile-value")).to_have_text(
        format_percent(sql.value)
    )
    # Drill into the SQL rate: the list holds exactly the leads counted.
    page.locator(".tile").nth(2).click()
    expect(page.locator("h1")).to_be_visible()
    assert page.url.split("?")[0].endswith("/dashboard/drill/")
    count = kpis.sql_records(user=demo, period=quarter, qualified=True).count()
    expect(page.locator("p.muted.small").first).to_contain_text(str(count))
    shot(page, f"drill-{view}")
    # The retention tile and the cohort table (from the first quarter that won a new
    # customer): the oldest cohort drills to its companies.
    page.goto("/dashboard/executive/")
    retention = kpis.retention_rate(user=demo, period=quarter)
    expect(page.locator(".tile").nth(4).locator(".tile-value")).to_have_text(
        format_percent(retention.value)
    )
    oldest = page.locator("figure.chart-cohort tbody tr").last
    oldest.scroll_into_view_if_needed()
    shot(page, f"cohorts-{view}")
    link = oldest.locator("th a")
    key = link.get_attribute("href").split("period=")[1].split("&")[0]
    cohort = kpis.cohort_records(user=demo, period=parse_period(key))
    assert cohort.count() > 0
    expect(oldest.locator("td").first).to_have_text(str(cohort.count()))
    link.click()
    expect(page.locator("p.muted.small").first).to_contain_text(str(cohort.count()))
