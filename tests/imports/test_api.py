"""The imports API: upload, preview, rows, run, status, undo."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kizuna.customers.models import Contact
from kizuna.iam.services import token_create

pytestmark = pytest.mark.django_db

CARDS = (
    "会社名,姓,名,メールアドレス,電話番号\n"
    "株式会社ＡＢＣ,佐藤,太郎,taro@abc.co.jp,03-1234-5678\n"
    "株式会社ＡＢＣ,鈴木,花子,bad-address,\n"
)


@pytest.fixture
def client_for(db):
    def make(user) -> Client:
        _token, key = token_create(user=user, name="test")
        return Client(headers={"Authorization": f"Bearer {key}"})

    return make


def test_upload_preview_run_and_undo_through_the_api(
    org, client_for, media, django_capture_on_commit_callbacks
):
    api = client_for(org.rep)
    upload = SimpleUploadedFile("cards.csv", CARDS.encode("cp932"), content_type="text/csv")
    response = api.post("/api/v1/imports", {"entity": "contact", "file": upload})
    assert response.status_code == 201, response.content
    batch = response.json()
    assert batch["encoding"] == "cp932" and batch["status"] == "uploaded"
    assert batch["mapping"] == ["company", "family_name", "given_name", "email", "phone"]
    url = f"/api/v1/imports/{batch['id']}"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{url}/preview", {}, content_type="application/json")
    assert response.status_code == 202, response.content
    status = api.get(url).json()
    assert status["status"] == "preview" and status["counts"] == {"create": 1, "error": 1}
    errors = api.get(f"{url}/rows", {"outcome": "error"}).json()["items"]
    assert [r["number"] for r in errors] == [3] and "bad-address" in errors[0]["message"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{url}/run")
    assert response.status_code == 202
    assert api.get(url).json()["status"] == "done"
    assert Contact.objects.filter(family_name="佐藤").exists()
    response = api.post(f"{url}/undo", {"force": False}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "undone"
    assert not Contact.objects.exists()
    # The list holds the rep's imports; another user's import is not found.
    assert [b["id"] for b in api.get("/api/v1/imports").json()["items"]] == [batch["id"]]
    assert client_for(org.colleague).get(url).status_code == 404
    assert client_for(org.admin).get(url).status_code == 200


def test_bad_uploads_get_field_errors(org, client_for, media):
    api = client_for(org.rep)
    response = api.post("/api/v1/imports", {"entity": "contact"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    empty = SimpleUploadedFile("empty.csv", "会社名,姓\n".encode("cp932"))
    response = api.post("/api/v1/imports", {"entity": "contact", "file": empty})
    assert response.status_code == 422 and "no data rows" in response.content.decode()
    again = api.post(
        "/api/v1/imports", {"entity": "deal", "file": SimpleUploadedFile("x.pdf", b"%PDF")}
    )
    assert again.status_code == 422


def test_import_list_query_count(org, client_for, media, django_assert_max_num_queries):
    from kizuna.imports.models import ImportBatch

    for i in range(5):
        ImportBatch.objects.create(
            entity="contact", file_name=f"{i}.csv", file_path="x", created_by=org.rep
        )
    api = client_for(org.rep)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/imports").json()["items"]) == 5
