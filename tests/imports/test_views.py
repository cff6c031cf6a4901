import io

import pytest
from openpyxl import load_workbook

from kizuna.core.models import AuditEntry
from kizuna.customers.models import Contact
from kizuna.imports.models import ImportBatch
from tests.factories import ContactFactory
from tests.imports.conftest import csv_file
from tests.imports.test_import import CARDS

pytestmark = pytest.mark.django_db


def test_upload_map_preview_run_undo_through_the_pages(
    client, org, media, django_capture_on_commit_callbacks
):
    client.force_login(org.rep)
    assert "/imports/new/?entity=contact" in client.get("/contacts/").content.decode()
    response = client.post("/imports/new/", {"entity": "contact", "file": csv_file(CARDS)})
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Shift_JIS" in page and 'value="family_name" selected' in page
    form = {f"col_{i}": key for i, key in enumerate(batch.mapping)}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{batch.pk}/mapping/", form | {"preset_name": "名刺"})
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "3 new" in page and "1 error" in page and "Run the import" in page
    assert not Contact.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{batch.pk}/run/")
    batch.refresh_from_db()
    assert batch.status == "done" and Contact.objects.count() == 3
    errors = client.get(f"/imports/{batch.pk}/errors.csv")
    body = errors.content.decode("utf-8")
    assert body.startswith("\ufeff") and "bad-address" in body
    assert AuditEntry.objects.filter(object_type="import", object_id=batch.pk).exists()
    client.post(f"/imports/{batch.pk}/undo/")
    assert not Contact.objects.exists()
    assert "trade_show.csv" in client.get("/imports/").content.decode()


def test_another_users_import_is_not_found(client, org, media):
    from kizuna.imports import services

    batch = services.batch_upload(actor=org.rep, entity="contact", upload=csv_file(CARDS))
    client.force_login(org.colleague)
    assert client.get(f"/imports/{batch.pk}/").status_code == 404
    assert client.post(f"/imports/{batch.pk}/undo/").status_code == 404
    assert "trade_show" not in client.get("/imports/").content.decode()


def test_xlsx_and_csv_exports_honour_filters_and_access(client, org):
    ContactFactory(family_name="=cmd", owner=org.rep, team=org.tokyo)
    ContactFactory(family_name="極秘", owner=org.outsider, team=org.osaka)
    client.force_login(org.rep)
    response = client.get("/contacts/?export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert any(str(v).startswith("'=cmd") for v in values)
    assert not any("極秘" in str(v) for v in values)
    plain = client.get("/contacts/?export=csv&bom=0").content
    assert not plain.startswith("\ufeff".encode()) and b"'=cmd" in plain
    assert client.get("/contacts/?export=csv").content.startswith("\ufeff".encode())
    assert AuditEntry.objects.filter(action="export", changes__format="xlsx").count() == 1


@pytest.mark.parametrize("path", ["/companies/", "/leads/", "/deals/", "/activities/"])
def test_every_list_offers_excel_export_and_import(client, org, path):
    client.force_login(org.rep)
    page = client.get(path).content.decode()
    assert "export=xlsx" in page and "/imports/new/?entity=" in page
    response = client.get(path + "?export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_import_list_query_count(client, org, media, django_assert_max_num_queries):
    for _i in range(5):
        ImportBatch.objects.create(
            entity="contact", file_name="a.csv", file_path="x", created_by=org.rep
        )
    client.force_login(org.rep)
    with django_assert_max_num_queries(8):
        client.get("/imports/")
