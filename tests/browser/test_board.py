"""The deal board in Chromium: a refused drag names what is missing; filled in, it moves."""

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from kizuna.customers.services import company_create
from kizuna.sales import services
from kizuna.sales.models import Stage

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def pipelines(transactional_db):
    """Live-server tests flush the tables between tests, the shipped pipeline with them."""
    from kizuna.sales import models, presets

    presets.install_defaults(
        Pipeline=models.Pipeline,
        Phase=models.Phase,
        Stage=models.Stage,
        LossReason=models.LossReason,
        HandoffTask=models.HandoffTask,
    )


def ja(message: str) -> str:
    with translation.override("ja"):
        return translation.gettext(message)


def card(page: Page, name: str):
    return page.locator(".deal-card", has_text=name)


def column(page: Page, stage: Stage):
    return page.locator(f'.board-column[data-stage="{stage.pk}"]')


def test_drag_refused_then_filled_then_moved(desktop, org, login, shot):
    org.rep.language = "ja"
    org.rep.save()
    hearing = Stage.objects.get(translations__ja="ヒアリング中")
    materials = Stage.objects.get(translations__ja="資料作成中")
    company = company_create(actor=org.rep, name="株式会社みなと精機")
    deal = services.deal_create(
        actor=org.rep,
        name="生産管理システム更新",
        company=company,
        amount=4_800_000,
        next_action="ヒアリング2回目",
        next_action_due=timezone.localdate(),
    )
    deal = services.deal_move(actor=org.rep, deal=deal, stage=hearing)
    services.deal_update(actor=org.rep, deal=deal, need_status="captured")

    page = desktop
    login(page, "rep")
    page.goto("/deals/board/")
    expect(column(page, hearing)).to_contain_text("生産管理システム更新")
    expect(column(page, hearing).locator("header")).to_contain_text("4,800,000")
    shot(page, "board")

    card(page, "生産管理システム更新").drag_to(column(page, materials).locator("[data-drop]"))
    message = page.locator("#board-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text(ja("Decision maker (BANT)"))
    expect(message).to_contain_text(ja("Budget (BANT)"))
    expect(column(page, hearing)).to_contain_text("生産管理システム更新")
    shot(page, "refused")

    # Fill them in on the deal: the BANT fields are on the form at this stage.
    message.get_by_role("link").click()
    page.select_option("select[name=authority_status]", "captured")
    page.fill("input[name=authority_note]", "山田部長が決裁")
    page.select_option("select[name=budget_status]", "captured")
    page.fill("input[name=budget_note]", "500万円まで")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator(".bant")).to_contain_text("山田部長が決裁")

    page.goto("/deals/board/")
    card(page, "生産管理システム更新").drag_to(column(page, materials).locator("[data-drop]"))
    expect(page.locator("#board-message.success")).to_be_visible()
    expect(column(page, materials)).to_contain_text("生産管理システム更新")
    shot(page, "moved")

    # The move is on the deal's timeline.
    card(page, "生産管理システム更新").locator(".deal-name").click()
    expect(page.locator("#timeline")).to_contain_text("ヒアリング中 → 資料作成中")
    shot(page, "deal")


def test_the_move_menu_works_from_the_keyboard(desktop, org, login):
    company = company_create(actor=org.rep, name="株式会社あおば")
    services.deal_create(actor=org.rep, name="キーボード案件", company=company, amount=1)
    lost = Stage.objects.get(translations__ja="失注")
    page = desktop
    login(page, "rep")
    page.goto("/deals/board/")
    menu = card(page, "キーボード案件").locator("details.move-menu summary")
    menu.focus()
    page.keyboard.press("Enter")
    page.get_by_role("menuitem", name=lost.label).click()
    page.locator("#lost-dialog button[value=ok]").click()
    expect(column(page, lost)).to_contain_text("キーボード案件")
