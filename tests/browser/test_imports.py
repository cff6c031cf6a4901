"""Import in Chromium, in Japanese: drop a Shift_JIS file, map, preview, run, undo."""

import re

import pytest
from playwright.sync_api import expect

from kizuna.customers.models import Contact
from kizuna.imports.models import ImportBatch
from tests.imports.test_import import CARDS

pytestmark = pytest.mark.browser


def drop_file(page, name: str, data: bytes) -> None:
    """Drop a file on the page as the operating system would (a drop event)."""
    page.evaluate(
        """([name, bytes]) => {
            const file = new File([new Uint8Array(bytes)], name, {type: "text/csv"});
            const data = new DataTransfer();
            data.items.add(file);
            const zone = document.getElementById("dropzone");
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""",
        [name, list(data)],
    )


def test_drop_a_shift_jis_file_preview_run_and_undo(desktop, org, login, shot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    org.rep.language = "ja"
    org.rep.save()
    page = desktop
    login(page, "rep")
    page.goto("/contacts/")
    page.click("a[href='/imports/new/?entity=contact']")
    expect(page.locator("#dropzone")).to_be_visible()
    shot(page, "1-upload")
    with page.expect_navigation():
        drop_file(page, "展示会.csv", CARDS.encode("cp932"))
    expect(page.locator("#encoding")).to_contain_text("Shift_JIS")
    expect(page.locator("select[aria-label='姓']")).to_have_value("family_name")
    expect(page.locator("select[aria-label='メールアドレス']")).to_have_value("email")
    shot(page, "2-mapping")
    page.click("#mapping-form button[type=submit]")
    summary = page.locator("#import-summary")
    expect(summary.locator(".badge.ok")).to_contain_text("3")
    expect(summary.locator(".badge.err")).to_contain_text("1")
    assert not Contact.objects.exists()
    shot(page, "3-preview")
    page.click("#run-import")
    expect(page.locator("#undo-import")).to_be_visible()
    batch = ImportBatch.objects.get()
    assert batch.status == "done" and Contact.objects.count() == 3
    page.goto(f"/imports/{batch.pk}/progress/")
    expect(page.locator(".percent")).to_have_text(re.compile(r"100 %"))
    page.goto(f"/imports/{batch.pk}/")
    shot(page, "4-done")
    page.click("#undo-import")
    expect(page.locator("#undo-import")).to_have_count(0)
    assert not Contact.objects.exists()
    shot(page, "5-undone")
