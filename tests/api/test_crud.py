"""Happy paths of every resource, with Japanese and Korean data."""

import pytest

from kizuna.activities.models import Activity
from kizuna.core.services import customfield_create
from kizuna.customers.models import Company, Contact, Lead
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def region_field(org):
    return customfield_create(
        actor=org.admin,
        object_type="company",
        key="region",
        label="Region",
        label_ja="地域",
        field_type="select",
        choices=["関東", "関西"],
    )


def test_company_crud(org, rep_api, region_field):
    created = rep_api.post(
        "companies",
        {
            "name": "株式会社ＡＢＣ商事",
            "name_reading": "えーびーしーしょうじ",
            "prefecture": "東京都",
            "industry": "wholesale",
            "phone": "03-1234-5678",
            "tags": ["重要", "展示会"],
            "custom_fields": {"region": "関東"},
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["ETag"] == '"1"'
    assert body["owner"] == org.rep.pk
    assert body["team"] == org.tokyo.pk
    assert body["phone"] == "+81312345678"
    assert body["tags"] == ["展示会", "重要"]
    assert body["custom_fields"] == {"region": "関東"}
    assert body["version"] == 1
    assert body["parent"] is None and body["kind"] == "company"
    company_id = body["id"]

    site = rep_api.post("companies", {"name": "大阪支店", "parent": company_id, "kind": "site"})
    assert site.status_code == 201
    assert site.json()["parent"] == company_id

    got = rep_api.get(f"companies/{company_id}")
    assert got.status_code == 200
    assert got["ETag"] == '"1"'
    assert got.json()["name"] == "株式会社ＡＢＣ商事"

    patched = rep_api.patch(
        f"companies/{company_id}",
        {"city": "渋谷区", "tags": ["重要"]},
        headers={"If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.json()
    assert patched["ETag"] == '"2"'
    assert patched.json()["city"] == "渋谷区"
    assert patched.json()["tags"] == ["重要"]
    # Fields not sent are kept.
    assert patched.json()["custom_fields"] == {"region": "関東"}

    listed = rep_api.get("companies", q="ABC", cf_region="関東")
    assert [c["id"] for c in listed.json()["items"]] == [company_id]
    assert rep_api.get("companies", cf_region="関西").json()["items"] == []
    assert [c["id"] for c in rep_api.get("companies", parent=company_id).json()["items"]] == [
        site.json()["id"]
    ]

    assert rep_api.delete(f"companies/{site.json()['id']}").status_code == 204
    assert rep_api.delete(f"companies/{company_id}", {"If-Match": '"2"'}).status_code == 204
    assert not Company.objects.exists()


def test_contact_crud_with_channels(org, rep_api):
    company = CompanyFactory(owner=org.rep, name="주식회사 한빛")
    created = rep_api.post(
        "contacts",
        {
            "family_name": "김",
            "given_name": "민준",
            "company": company.pk,
            "emails": ["minjun@Hanbit.example", "minjun@hanbit.example"],
            "phones": ["090-1234-5678", "+82 2-312-3456"],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["emails"] == ["minjun@hanbit.example"]
    assert body["phones"] == ["+819012345678", "+8223123456"]
    assert body["company"] == company.pk

    found = rep_api.get("contacts", q="민준")
    assert [c["id"] for c in found.json()["items"]] == [body["id"]]
    by_email = rep_api.get("contacts", email="MINJUN@hanbit.example")
    assert [c["id"] for c in by_email.json()["items"]] == [body["id"]]

    patched = rep_api.patch(f"contacts/{body['id']}", {"phones": [], "version": 1})
    assert patched.status_code == 200
    assert patched.json()["phones"] == []
    assert patched.json()["emails"] == ["minjun@hanbit.example"]
    assert rep_api.delete(f"contacts/{body['id']}").status_code == 204
    assert not Contact.objects.exists()


def test_lead_crud_and_convert(org, rep_api):
    existing = CompanyFactory(owner=org.rep, name="株式会社トヨタ商事")
    created = rep_api.post(
        "leads",
        {
            "family_name": "高橋",
            "given_name": "花子",
            "company_name": "トヨタ商事株式会社",
            "email": "hanako@toyota-shoji.example",
            "channel": "trade_show",
        },
    )
    assert created.status_code == 201, created.json()
    lead_id = created.json()["id"]
    assert created.json()["status"] == "new"
    assert [x["id"] for x in rep_api.get("leads", channel="trade_show").json()["items"]] == [
        lead_id
    ]
    assert rep_api.get("leads", status="qualified").json()["items"] == []

    patched = rep_api.patch(f"leads/{lead_id}", {"status": "working"})
    assert patched.json()["status"] == "working"

    converted = rep_api.post(f"leads/{lead_id}/convert")
    assert converted.status_code == 200, converted.json()
    result = converted.json()
    assert result["company"] == existing.pk
    assert result["company_created"] is False
    assert result["contact_created"] is True
    assert result["matched_by"] == "company_name"
    assert Contact.objects.get(pk=result["contact"]).company == existing
    lead = rep_api.get(f"leads/{lead_id}").json()
    assert lead["status"] == "converted"
    assert lead["converted_contact"] == result["contact"]

    again = rep_api.post(f"leads/{lead_id}/convert")
    assert again.status_code == 422

    other = LeadFactory(owner=org.rep)
    assert rep_api.delete(f"leads/{other.pk}").status_code == 204
    assert not Lead.objects.filter(pk=other.pk).exists()


def test_activity_crud_sets_next_action(org, rep_api):
    contact = ContactFactory(owner=org.rep, company=CompanyFactory(owner=org.rep))
    created = rep_api.post(
        "activities",
        {
            "kind": "meeting",
            "subject": "初回打ち合わせ",
            "body": "予算は来期。",
            "occurred_at": "2025-04-01T10:00:00",
            "contact": contact.pk,
            "participants": [contact.pk],
            "next_action": "見積を送る",
            "next_action_due": "2025-04-10",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["company"] == contact.company_id
    assert body["participants"] == [contact.pk]
    # A time without an offset is in the user's time zone (Asia/Tokyo).
    assert body["occurred_at"] == "2025-04-01T10:00:00+09:00"
    contact.refresh_from_db()
    assert contact.next_action == "見積を送る"

    task = rep_api.post("activities", {"kind": "task", "subject": "電話する"}).json()
    assert task["assignee"] == org.rep.pk
    done = rep_api.patch(f"activities/{task['id']}", {"done": True})
    assert done.json()["done"] is True
    assert [a["id"] for a in rep_api.get("activities", kind="task").json()["items"]] == [task["id"]]
    assert [a["id"] for a in rep_api.get("activities", q="打ち合わせ").json()["items"]] == [
        body["id"]
    ]
    assert [a["id"] for a in rep_api.get("activities", contact=contact.pk).json()["items"]] == [
        body["id"]
    ]
    assert rep_api.delete(f"activities/{body['id']}").status_code == 204
    assert list(Activity.objects.values_list("pk", flat=True)) == [task["id"]]


def test_users_teams_and_custom_fields(org, rep_api, region_field):
    users = rep_api.get("users").json()["items"]
    assert {u["username"] for u in users} >= {"rep", "outsider"}
    assert rep_api.get(f"users/{org.rep.pk}").json()["team"] == org.tokyo.pk
    teams = rep_api.get("teams").json()["items"]
    assert {t["name"] for t in teams} == {"東京営業", "大阪営業"}
    assert rep_api.get(f"teams/{org.osaka.pk}").json()["name"] == "大阪営業"
    fields = rep_api.get("custom-fields", object_type="company").json()["items"]
    assert [(f["key"], f["label_ja"], f["choices"]) for f in fields] == [
        ("region", "地域", ["関東", "関西"])
    ]
    assert rep_api.get("custom-fields", object_type="lead").json()["items"] == []


def test_cursor_pagination_walks_every_record_once(org, rep_api):
    ids = {CompanyFactory(owner=org.rep).pk for _ in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = rep_api.get("companies", **params).json()
        seen.extend(c["id"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)


def test_list_activities_of_a_visible_company_only(org, rep_api):
    company = CompanyFactory(owner=org.rep)
    ActivityFactory(owner=org.rep, company=company)
    ActivityFactory(owner=org.outsider, company=CompanyFactory(owner=org.outsider))
    items = rep_api.get("activities").json()["items"]
    assert [a["company"] for a in items] == [company.pk]
