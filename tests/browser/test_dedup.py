"""名寄せ in Chromium: scan, compare, merge, undo, and the hint on the create form."""

import re

import pytest
from playwright.sync_api import expect

from kizuna.activities.services import activity_create
from kizuna.customers import services as customers
from kizuna.customers.models import Contact

pytestmark = pytest.mark.browser


@pytest.fixture
def twins(org):
    abc = customers.company_create(actor=org.rep, name="株式会社ＡＢＣ")
    abc2 = customers.company_create(actor=org.rep, name="(株)ABC")
    kanji = customers.contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        family_name_reading="サトウ",
        given_name_reading="タロウ",
        company=abc,
        emails=["taro@abc.co.jp"],
    )
    kana = customers.contact_create(
        actor=org.rep,
        family_name="ｻﾄｳ",
        given_name="ﾀﾛｳ",
        company=abc2,
        emails=["taro@abc.co.jp"],
        phones=["090-1234-5678"],
    )
    activity_create(actor=org.rep, kind="call", subject="見積もりの件で電話", contact=kanji)
    activity_create(actor=org.rep, kind="visit", subject="展示会で名刺交換", contact=kana)
    return kanji, kana


def test_scan_compare_merge_and_undo(desktop, org, twins, login, shot):
    kanji, kana = twins
    page = desktop
    login(page, "admin")

    # The admin scans the contacts from the review queue.
    page.goto("/duplicates/?entity=contact")
    page.get_by_role("button", name="Scan all records for duplicates").click()
    expect(page.locator("#dedup-scan")).to_contain_text("1 new pairs to review")
    row = page.locator("table tbody tr").first
    expect(row).to_contain_text("佐藤 太郎")
    expect(row).to_contain_text("ｻﾄｳ ﾀﾛｳ")
    expect(row).to_contain_text("e-mail same")
    shot(page, "queue")

    # Side by side, then merge with the preselected values.
    row.get_by_role("link", name="Compare").click()
    expect(page.locator("input[name=f_family_name]").first).to_be_visible()
    shot(page, "compare")
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contacts/{kanji.pk}/$"))
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("見積もりの件で電話")
    expect(timeline).to_contain_text("展示会で名刺交換")
    expect(page.locator(".messages")).to_contain_text("Merged into")
    expect(page.locator("h1")).to_have_text("佐藤 太郎")  # kanji kept over the newer kana
    shot(page, "survivor")
    assert not Contact.objects.filter(pk=kana.pk).exists()

    # Undo from the merge history: both are back, each with its own activity.
    page.goto("/duplicates/merges/")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".messages")).to_contain_text("undone")
    shot(page, "undone")
    page.goto(f"/contacts/{kana.pk}/")
    expect(page.locator("h1")).to_contain_text("ｻﾄｳ ﾀﾛｳ")
    expect(page.locator("#timeline")).to_contain_text("展示会で名刺交換")
    expect(page.locator("#timeline")).not_to_contain_text("見積もりの件で電話")
    # The pair is open again, and the record page says so.
    expect(page.get_by_role("link", name="1 possible duplicate")).to_be_visible()
    shot(page, "record-link")


def test_hint_on_the_create_form(desktop, org, twins, login, shot):
    kanji, _kana = twins
    page = desktop
    login(page, "rep")
    page.goto("/contacts/new/")
    page.fill("#id_family_name", "さとう")
    page.fill("#id_given_name", "たろう")
    page.fill("#id_emails", "Taro@ABC.co.jp")
    page.locator("#id_phones").focus()  # leaving the field sends the change
    hint = page.locator("#dedup-hint .dedup-hint")
    expect(hint).to_contain_text("Is this 佐藤 太郎 at 株式会社ＡＢＣ?")
    expect(hint.locator(f'a[href="/contacts/{kanji.pk}/"]')).to_have_text("Open")
    shot(page, "hint")
    # Another name with nothing in common: the hint goes away.
    page.fill("#id_family_name", "山田")
    page.fill("#id_given_name", "花子")
    page.fill("#id_emails", "")
    page.locator("#id_phones").focus()
    expect(page.locator("#dedup-hint .dedup-hint")).to_have_count(0)
