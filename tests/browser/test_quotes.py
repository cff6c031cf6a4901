"""The quote editor in Chromium: pick products, see live totals, issue once, download the PDF."""

import re

import pytest
from playwright.sync_api import expect

from kizuna.customers.services import company_create
from kizuna.sales import services as deal_services
from kizuna.sales.models import Quote
from kizuna.sales.services_quotes import product_create

pytestmark = pytest.mark.browser


def test_rep_issues_a_quote_from_the_deal(desktop, org, login, shot):
    # The live-server database starts empty: the migration's pipeline is gone.
    deal_services.pipeline_install_template(actor=org.admin, template="six_phase")
    company = company_create(actor=org.rep, name="株式会社さくら物産")
    deal = deal_services.deal_create(actor=org.rep, name="CRM導入", company=company, amount=1)
    product_create(
        actor=org.admin, code="LIC", name="ライセンス", unit_price=36000, unit="ユーザー"
    )
    product_create(
        actor=org.admin, code="BENTO", name="会議用お弁当", unit_price=1080, tax_rate=8, unit="個"
    )
    page = desktop
    login(page, "rep")
    page.goto(f"/deals/{deal.pk}/")
    page.get_by_role("link", name="New quote").click()
    expect(page).to_have_url(re.compile(rf"/deals/{deal.pk}/quotes/new/$"))
    page.wait_for_load_state("load")  # the editor's script runs on DOMContentLoaded

    first = page.locator("tr.quote-line").nth(0)
    first.locator("select[name=line-product]").select_option(label="LIC ライセンス (JPY)")
    expect(first.locator("input[name=line-unit_price]")).to_have_value("36000")
    first.locator("input[name=line-quantity]").fill("12")
    page.get_by_role("button", name="Add line").click()
    second = page.locator("tr.quote-line").nth(1)
    second.locator("select[name=line-product]").select_option(label="BENTO 会議用お弁当 (JPY)")
    second.locator("input[name=line-quantity]").fill("２０")
    # 432,000 at 10 % → 43,200; 21,600 at 8 % → 1,728; total 498,528.
    expect(page.locator("#quote-totals")).to_contain_text("¥498,528")
    expect(page.locator("#quote-totals")).to_contain_text("¥1,728")
    shot(page, "01-editor")

    # A double click issues one quote.
    page.get_by_role("button", name="Issue quote").dblclick()
    expect(page).to_have_url(re.compile(r"/quotes/\d+/$"))
    expect(page.locator("h1")).to_contain_text(re.compile(r"Q-\d{4}-0001"))
    assert Quote.objects.count() == 1
    shot(page, "02-quote")

    with page.expect_download() as download:
        page.get_by_role("link", name="PDF (日本語)").click()
    assert download.value.suggested_filename.endswith("-ja.pdf")
