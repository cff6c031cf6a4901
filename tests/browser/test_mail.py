"""E-mail from a contact page and @mentions in a note, in Chromium."""

import pytest
from playwright.sync_api import expect

from kizuna.activities.models import Activity, Mention
from kizuna.mail.models import EmailMessage
from kizuna.mail.services import template_create
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.browser


def test_rep_mails_a_contact_with_a_template(desktop, org, login, shot, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    company = CompanyFactory(name="株式会社さくら物産", owner=org.rep)
    contact = ContactFactory(
        family_name="佐藤",
        given_name="花子",
        company=company,
        owner=org.rep,
        email="hanako@sakura.example",
    )
    template_create(
        actor=org.admin,
        name="ご挨拶",
        subject_ja="{{ company.name }}様 ご挨拶",
        body_ja=(
            "{{ contact.family_name }}様\n\nいつもお世話になっております。\n{{ user.display_name }}"
        ),
    )
    page = desktop
    login(page, "rep")
    page.goto(f"/contacts/{contact.pk}/")
    page.get_by_role("link", name="✉ E-mail").click()
    expect(page.locator("#id_to")).to_have_value("hanako@sakura.example")
    page.select_option("select[name=template]", label="ご挨拶")
    expect(page.locator("#id_subject")).to_have_value("株式会社さくら物産様 ご挨拶")
    expect(page.locator("#id_body")).to_contain_text("佐藤様")
    shot(page, "compose")
    page.get_by_role("button", name="✉ Send").click()
    expect(page.locator("#timeline")).to_contain_text("株式会社さくら物産様 ご挨拶")
    shot(page, "timeline")
    message = EmailMessage.objects.get()
    assert message.activity.kind == Activity.Kind.EMAIL


def test_rep_mentions_a_colleague_in_a_note(desktop, org, login, shot):
    org.colleague.display_name = "鈴木一郎"
    org.colleague.save()
    company = CompanyFactory(name="株式会社さくら物産", owner=org.rep)
    page = desktop
    login(page, "rep")
    page.goto(f"/activities/new/?company={company.pk}&kind=note")
    page.fill("#id_subject", "打ち合わせメモ")
    body = page.locator("#id_body")
    body.click()
    body.press_sequentially("確認お願いします @鈴")
    option = page.locator(".mention-option", has_text="鈴木一郎")
    expect(option).to_be_visible()
    expect(page.locator(".mention-option")).to_have_count(1)
    shot(page, "autocomplete")
    option.click()
    expect(body).to_have_value("確認お願いします @鈴木一郎 ")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("a.mention")).to_have_text("@鈴木一郎")
    assert Mention.objects.get().user == org.colleague
    shot(page, "note")
