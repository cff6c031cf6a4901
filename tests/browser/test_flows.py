"""End-to-end flows in Chromium: what a sales rep does in a day, at desktop and phone width."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from kizuna.activities.models import Activity
from kizuna.customers.models import Company, Contact
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory

pytestmark = pytest.mark.browser

COMPANY = "株式会社さくら物産"
CALL_SUBJECT = "見積もりの件で電話"
NEXT_ACTION = "見積書を送る"
NEXT_ACTION_DUE = "2030-04-15"


def both_widths(page: Page, shot, step: str) -> None:
    """Full-page screenshots of the current page at desktop and at phone width."""
    shot(page, f"{step}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"{step}-phone")
    page.set_viewport_size(DESKTOP)


def mark_page(page: Page) -> None:
    """Tag the window so that a later check can tell an htmx swap from a page load."""
    page.evaluate("window.kizunaNoReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.kizunaNoReload === true"), "expected an htmx swap, got a page load"


def search_request_for(url: str, query: str) -> bool:
    parts = urlsplit(url)
    return parts.path == "/search/" and parse_qs(parts.query).get("q") == [query]


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_rep_logs_a_call_and_finds_it_again(desktop, org, login, shot):
    page = desktop
    login(page, "rep")
    # Static files load: the stylesheet applies and htmx is there.
    expect(page.locator("header.topbar")).to_have_css("display", "flex")
    assert page.evaluate("typeof window.htmx") == "object"

    # A company with a Japanese name and its reading.
    page.get_by_role("link", name="Companies", exact=True).click()
    page.locator(".page-head a.btn.primary", has_text="New").click()
    expect(page).to_have_url(re.compile(r"/companies/new/$"))
    page.fill("#id_name", COMPANY)
    page.fill("#id_name_reading", "サクラブッサン")
    page.fill("#id_prefecture", "東京都")
    both_widths(page, shot, "01-company-form")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/companies/\d+/$"))
    expect(page.locator("h1")).to_contain_text(COMPANY)
    expect(page.locator(".messages")).to_contain_text("Saved.")
    company = Company.objects.get(name=COMPANY)
    assert (company.prefecture, company.owner) == ("東京都", org.rep)
    both_widths(page, shot, "02-company-page")

    # A contact at the company, with フリガナ, an e-mail and a phone.
    page.get_by_role("link", name="+ Add contact").click()
    expect(page).to_have_url(re.compile(rf"/contacts/new/\?company={company.pk}$"))
    expect(page.locator(".picker input[type=search]")).to_have_value(COMPANY)
    page.fill("#id_family_name", "佐藤")
    page.fill("#id_given_name", "太郎")
    page.fill("#id_family_name_reading", "サトウ")
    page.fill("#id_given_name_reading", "タロウ")
    page.fill("#id_emails", "taro.sato@sakura-bussan.example.jp")
    page.fill("#id_phones", "03-1234-5678")
    both_widths(page, shot, "03-contact-form")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+/$"))
    expect(page.locator("h1")).to_contain_text("佐藤")
    expect(page.locator("h1")).to_contain_text("太郎")
    expect(page.locator(".page-head .muted")).to_contain_text("サトウ")
    expect(page.locator(".breadcrumb")).to_contain_text(COMPANY)
    details = page.locator("dl.props").first
    expect(details).to_contain_text("taro.sato@sakura-bussan.example.jp")
    expect(details).to_contain_text("03-1234-5678")
    contact = Contact.objects.get(company=company)
    assert contact.phones.get().number == "+81312345678"
    both_widths(page, shot, "04-contact-page")

    # Log a call from the contact's page, with a next action and its due date.
    page.get_by_role("link", name="Log a call").click()
    expect(page).to_have_url(re.compile(rf"/activities/new/\?contact={contact.pk}&kind=call$"))
    expect(page.locator("#id_kind")).to_have_value("call")
    page.fill("#id_subject", CALL_SUBJECT)
    page.fill("#id_body", "来週までに見積書が欲しいとのこと。")
    page.fill("#id_next_action", NEXT_ACTION)
    page.fill("#id_next_action_due", NEXT_ACTION_DUE)
    both_widths(page, shot, "05-call-form")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact.pk}/$"))
    next_action = page.locator(".card", has=page.locator("h3", has_text="Next action"))
    expect(next_action).to_contain_text(NEXT_ACTION)
    expect(next_action).to_contain_text(NEXT_ACTION_DUE)
    both_widths(page, shot, "06-contact-next-action")
    call = Activity.objects.get(subject=CALL_SUBJECT)
    assert (call.kind, call.contact, call.company) == ("call", contact, company)

    # Back on the company page the call is on the timeline, with a note from a colleague.
    ActivityFactory(kind="note", subject="社内メモ", company=company, owner=org.rep)
    page.locator(".breadcrumb a", has_text=COMPANY).click()
    expect(page).to_have_url(re.compile(rf"/companies/{company.pk}/$"))
    timeline = page.locator("#timeline")
    expect(timeline.locator(f"#activity-{call.pk}")).to_contain_text(CALL_SUBJECT)
    expect(timeline.locator(f"#activity-{call.pk}")).to_contain_text("佐藤")
    expect(timeline).to_contain_text("社内メモ")
    both_widths(page, shot, "07-company-timeline")

    # The "Call" tab reloads only the timeline (htmx) and leaves the note out.
    mark_page(page)
    timeline.locator("nav.tabs a", has_text=re.compile(r"^Call$")).click()
    expect(page).to_have_url(re.compile(rf"/companies/{company.pk}/\?kind=call$"))
    expect(page.locator("#timeline nav.tabs a.active")).to_have_text("Call")
    expect(page.locator("#timeline")).not_to_contain_text("社内メモ")
    expect(page.locator(f"#timeline #activity-{call.pk}")).to_be_visible()
    assert_not_reloaded(page)
    both_widths(page, shot, "08-timeline-calls")

    # The global search finds the company by part of its Japanese name as you type.
    results = page.locator("#global-search-results")
    for query in ("さくら", "物産"):
        mark_page(page)
        with page.expect_response(lambda r, q=query: search_request_for(r.url, q)):
            page.fill("form.search-box input[name=q]", query)
        expect(results.get_by_role("link", name=re.compile(COMPANY))).to_be_visible()
        assert_not_reloaded(page)
    shot(page, "09-global-search-desktop")
    results.get_by_role("link", name=re.compile(COMPANY)).click()
    expect(page).to_have_url(re.compile(rf"/companies/{company.pk}/$"))

    # Switch the language to Korean on the profile page.
    page.locator("details.usermenu summary").click()
    page.get_by_role("link", name="Language and time zone").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    page.select_option("#id_language", "ko")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    with translation.override("ko"):
        companies_ko = translation.gettext("Companies")
    if companies_ko != "Companies":  # only once the Korean catalogue is compiled
        expect(page.locator("nav.nav")).to_contain_text(companies_ko)
    org.rep.refresh_from_db()
    assert org.rep.language == "ko"
    both_widths(page, shot, "10-profile-korean")


def test_company_form_shows_field_error_and_keeps_input(desktop, org, login, shot):
    page = desktop
    login(page, "rep")
    page.goto("/companies/new/")
    page.fill("#id_name", COMPANY)
    page.fill("#id_corporate_number", "1234567890123")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".form-errors")).to_be_visible()
    field = page.locator(".field.has-error", has=page.locator("#id_corporate_number"))
    expect(field.locator(".errorlist")).to_contain_text("check digit")
    expect(page.locator(".field.has-error")).to_have_count(1)
    expect(page.locator("#id_name")).to_have_value(COMPANY)
    expect(page.locator("#id_corporate_number")).to_have_value("1234567890123")
    assert not Company.objects.exists()
    both_widths(page, shot, "form-error")


@pytest.fixture
def busy_company(org):
    """A company with a long name, people and a full timeline."""
    company = CompanyFactory(
        name="株式会社さくら物産ホールディングス・インターナショナル・ジャパン",
        name_reading="サクラブッサンホールディングスインターナショナルジャパン",
        owner=org.rep,
        city="千代田区",
        website="https://www.sakura-bussan-holdings-international.example.co.jp/company/profile/",
        domain="sakura-bussan-holdings-international.example.co.jp",
    )
    contact = ContactFactory(
        company=company,
        owner=org.rep,
        email="taro.sato.international-sales@sakura-bussan-holdings.example.co.jp",
    )
    for kind, _label in Activity.Kind.choices:
        ActivityFactory(
            kind=kind,
            company=company,
            contact=contact,
            owner=org.rep,
            body="長い本文。" * 40,
        )
    CompanyFactory.create_batch(3, owner=org.rep)
    return company


def test_pages_fit_a_phone_screen(phone, org, busy_company, login, shot):
    page = phone
    login(page, "rep")
    for step, url in (
        ("company-list", "/companies/"),
        ("company-page", f"/companies/{busy_company.pk}/"),
        ("contact-page", f"/contacts/{busy_company.contacts.get().pk}/"),
    ):
        page.goto(url)
        expect(page.locator("main h1")).to_be_visible()
        shot(page, f"{step}-phone")
        overflow = horizontal_overflow(page)
        assert overflow <= 1, f"{url} is {overflow}px wider than a 390px screen"
