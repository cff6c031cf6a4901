"""The report builder in Chromium: won amount by industry and quarter for one team, saved,
listed and exported."""

import re

import pytest
from playwright.sync_api import expect

from kizuna.analytics.models_reports import SavedReport
from kizuna.customers.services import company_create
from kizuna.sales import services as deal_services
from tests.analytics.conftest import at, won

pytestmark = pytest.mark.browser


def _deals(org):
    deal_services.pipeline_install_template(actor=org.admin, template="six_phase")
    maker = company_create(actor=org.rep, name="東京製作所", industry="manufacturing")
    shop = company_create(actor=org.rep, name="東京商店", industry="retail")
    osaka = company_create(actor=org.outsider, name="大阪機械", industry="manufacturing")
    create = deal_services.deal_create
    won(create(actor=org.rep, name="m1", company=maker, amount=1_000_000), at(2025, 4))
    won(create(actor=org.rep, name="m2", company=maker, amount=3_000_000), at(2025, 7))
    won(create(actor=org.colleague, name="r1", company=shop, amount=500_000), at(2025, 5))
    won(create(actor=org.outsider, name="o1", company=osaka, amount=9_000_000), at(2025, 4))


SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


def _settled(page) -> None:
    """htmx has swapped in the re-rendered builder (the response alone is not enough)."""
    page.wait_for_function(SETTLED)


def _change(page, selector: str, **option) -> None:
    """Choose an option; the builder re-renders (htmx) before the next step."""
    _settled(page)
    with page.expect_response(re.compile(r"/reports/new/$")):
        page.locator(selector).select_option(**option)
    _settled(page)


def test_build_save_list_and_export_a_report(desktop, org, login, shot):
    _deals(org)
    page = desktop
    login(page, "admin")
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="New report").click()
    expect(page).to_have_url(re.compile(r"/reports/new/$"))

    _change(page, "select[name=f-0-field]", value="status")
    _change(page, "select[name=f-0-value]", value=["won"])
    with page.expect_response(re.compile(r"/reports/new/$")):
        page.get_by_role("button", name="Add a filter").click()
    _settled(page)
    expect(page.locator("select[name=f-1-field]")).to_be_attached()
    _change(page, "select[name=f-1-field]", value="team")
    _change(page, "select[name=f-1-value]", label="東京営業")
    _change(page, "select[name=g-0-field]", value="company.industry")
    _change(page, "select[name=g-1-field]", value="closed_at")
    _change(page, "select[name=g-1-period]", value="quarter")
    _change(page, "select[name=m-0-op]", value="sum")
    _change(page, "select[name=m-0-field]", value="amount")
    _change(page, "select[name=chart]", value="stacked_bar")

    preview = page.locator("#report-preview")
    expect(preview.locator("svg")).to_be_visible()
    expect(preview).to_contain_text("FY2025 Q1")
    expect(preview).to_contain_text("¥1,000,000")
    expect(preview).to_contain_text("¥3,000,000")
    expect(preview).not_to_contain_text("¥9,000,000")  # Osaka's deal: another team
    page.fill("input[name=name]", "受注額 業種×四半期(東京)")
    _settled(page)
    with page.expect_response(re.compile(r"/reports/new/$")):
        page.check("input[name=shared]")
    _settled(page)
    expect(page.locator("input[name=shared]")).to_be_checked()
    shot(page, "01-builder")

    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/reports/\d+/$"))
    expect(page.locator("h1")).to_contain_text("受注額 業種×四半期(東京)")
    expect(page.locator("figure svg").first).to_be_visible()
    report = SavedReport.objects.get()
    assert report.shared and report.spec["group_by"][1]["period"] == "quarter"
    shot(page, "02-report")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("link", name="受注額 業種×四半期(東京)")).to_be_visible()
    shot(page, "03-list")

    page.get_by_role("link", name="受注額 業種×四半期(東京)").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = download.value.path()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff") and "Manufacturing,FY2025 Q1,JPY,1000000" in text
    assert "9000000" not in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Export Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
