"""Auth, error bodies, optimistic concurrency and idempotency keys."""

import base64

import pytest
from django.utils import timezone

from kizuna.core.models import AccessLevel, AccessPolicy, IdempotencyKey
from kizuna.customers.models import Company, Contact
from kizuna.iam.services import token_create, token_revoke
from tests.api.conftest import ApiClient
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Token kz_abc",
        "Basic dXNlcjpwdw==",
        "Bearer kz_unknown",
        "Bearer not-a-kizuna-token",
        "Bearer kz_" + "x" * 500,
        "Bearer kz_\u65e5\u672c",
    ],
)
def test_bad_credentials_are_401_json(org, header):
    client = ApiClient(**({"Authorization": header} if header is not None else {}))
    response = client.get("companies")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


def test_revoked_token_is_401(org):
    token, key = token_create(user=org.rep, name="cli")
    assert ApiClient(key).get("companies").status_code == 200
    token_revoke(user=org.rep, token=token)
    response = ApiClient(key).get("companies")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_inactive_user_token_is_401(org):
    _token, key = token_create(user=org.rep, name="cli")
    org.rep.is_active = False
    org.rep.save()
    assert ApiClient(key).get("companies").status_code == 401


def test_validation_errors_in_japanese_keep_the_shape(org, api_for):
    org.rep.language = "ja"
    org.rep.save()
    client = api_for(org.rep)
    response = client.post("companies", {"name": "", "corporate_number": "123", "phone": "電話"})
    assert response.status_code == 422
    assert response["Content-Language"] == "ja"
    errors = {tuple(e["loc"]): e for e in response.json()["detail"]}
    assert set(errors) == {("body", "name"), ("body", "corporate_number"), ("body", "phone")}
    assert all(e["type"] == "validation_error" for e in errors.values())
    # Django's own message, translated.
    assert errors[("body", "name")]["msg"] == "このフィールドは空ではいけません。"
    assert not Company.objects.exists()

    no_parent = client.post("companies", {"name": "支店", "parent": 999999})
    assert no_parent.json()["detail"][0]["loc"] == ["body", "parent"]

    missing = client.post("contacts", {"given_name": "太郎"})
    assert missing.status_code == 422
    assert missing.json()["detail"] == [
        {
            "loc": ["body", "family_name"],
            "msg": "このフィールドは必須です。",
            "type": "missing",
        }
    ]


def test_validation_errors_in_korean(org, api_for):
    org.rep.language = "ko"
    org.rep.save()
    response = api_for(org.rep).post("leads", {"family_name": "", "channel": "web_form"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "family_name"]
    assert response.json()["detail"][0]["msg"] == "이 필드는 빈 칸으로 둘 수 없습니다."


def test_custom_field_errors_are_keyed_by_field(org, rep_api):
    from kizuna.core.services import customfield_create

    customfield_create(
        actor=org.admin, object_type="contact", key="budget", label="Budget", field_type="number"
    )
    response = rep_api.post(
        "contacts", {"family_name": "佐藤", "custom_fields": {"budget": "多い"}}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "custom_fields", "budget"]
    assert not Contact.objects.exists()
    bad_filter = rep_api.get("contacts", cf_budget="多い")
    assert bad_filter.status_code == 422
    assert bad_filter.json()["detail"][0]["loc"] == ["query", "cf_budget"]
    unknown = rep_api.get("contacts", cf_nothing="1")
    assert unknown.status_code == 422


@pytest.mark.parametrize(
    "params, loc",
    [
        ({"owner": "abc"}, ["query", "owner"]),
        ({"team": "1.5"}, ["query", "team"]),
        ({"parent": "東京"}, ["query", "parent"]),
        ({"next_action_due_before": "tomorrow"}, ["query", "next_action_due_before"]),
        ({"limit": "ten"}, ["query", "limit"]),
        ({"limit": "0"}, ["query", "limit"]),
        ({"limit": "100000"}, ["query", "limit"]),
        ({"cursor": "abc"}, ["query", "cursor"]),
        ({"cursor": "!!!"}, ["query", "cursor"]),
        ({"cursor": base64.urlsafe_b64encode(b'{"id": "1"}').decode()}, ["query", "cursor"]),
        ({"cursor": base64.urlsafe_b64encode(b'{"id": 99999999999999999999999}').decode()}, None),
        ({"cursor": base64.urlsafe_b64encode(b"[1]").decode()}, ["query", "cursor"]),
    ],
)
def test_malformed_query_is_422_with_a_field(org, rep_api, params, loc):
    response = rep_api.get("companies", **params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail and all({"loc", "msg", "type"} <= set(e) for e in detail)
    assert detail[0]["loc"] == (loc or ["query", "cursor"])


def test_stale_writes_are_409(org, rep_api, api_for):
    company = CompanyFactory(owner=org.rep)
    colleague = api_for(org.colleague)
    etag = rep_api.get(f"companies/{company.pk}")["ETag"]
    assert (
        colleague.patch(
            f"companies/{company.pk}", {"city": "横浜市"}, {"If-Match": etag}
        ).status_code
        == 200
    )
    stale = rep_api.patch(f"companies/{company.pk}", {"city": "川崎市"}, {"If-Match": etag})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert stale.json()["detail"]
    in_body = rep_api.patch(f"companies/{company.pk}", {"city": "川崎市", "version": 1})
    assert in_body.status_code == 409
    assert rep_api.delete(f"companies/{company.pk}", {"If-Match": '"1"'}).status_code == 409
    company.refresh_from_db()
    assert company.city == "横浜市"
    bad = rep_api.patch(f"companies/{company.pk}", {"city": "x"}, {"If-Match": "yesterday"})
    assert bad.status_code == 422
    assert rep_api.delete(f"companies/{company.pk}", {"If-Match": 'W/"2"'}).status_code == 204


def test_visible_but_not_editable_is_403(org, api_for):
    AccessPolicy.objects.filter(object_type="company").update(level=AccessLevel.READ_ALL)
    company = CompanyFactory(owner=org.rep)
    outsider = api_for(org.outsider)
    assert outsider.get(f"companies/{company.pk}").status_code == 200
    response = outsider.patch(f"companies/{company.pk}", {"city": "大阪市"})
    assert response.status_code == 403
    assert response.json()["detail"]
    assert outsider.delete(f"companies/{company.pk}").status_code == 403


def test_idempotent_create_replays_the_first_answer(org, rep_api):
    body = {"name": "株式会社べき等", "tags": ["a"]}
    headers = {"Idempotency-Key": "order-42"}
    first = rep_api.post("companies", body, headers)
    second = rep_api.post("companies", {"tags": ["a"], "name": "株式会社べき等"}, headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Company.objects.count() == 1
    assert IdempotencyKey.objects.get().response["id"] == first.json()["id"]

    reused = rep_api.post("companies", {"name": "別の会社"}, headers)
    assert reused.status_code == 422
    assert reused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert Company.objects.count() == 1

    # Keys are per user and per endpoint.
    assert rep_api.post("leads", {"family_name": "林", "channel": "ad"}, headers).status_code == 201
    other = ApiClient(token_create(user=org.colleague, name="t")[1])
    assert other.post("companies", body, headers).json()["id"] != first.json()["id"]


def test_failed_create_does_not_burn_the_key(org, rep_api):
    headers = {"Idempotency-Key": "retry-me"}
    assert rep_api.post("companies", {"name": ""}, headers).status_code == 422
    assert not IdempotencyKey.objects.exists()
    assert rep_api.post("companies", {"name": "株式会社再送"}, headers).status_code == 201


def test_double_submit_in_one_transaction_keeps_one_record(org, rep_api, monkeypatch):
    """A twin request stored the key first: this create rolls back and replays the twin's."""
    from kizuna.api import idempotency

    first = rep_api.post("companies", {"name": "株式会社先行"}, {"Idempotency-Key": "twin"})
    # The look-up misses, as it does while the twin's transaction is still open.
    missing = type("Missing", (), {"filter": lambda self, **kw: IdempotencyKey.objects.none()})
    monkeypatch.setattr(idempotency.IdempotencyKey.objects, "select_for_update", missing)
    second = rep_api.post("companies", {"name": "株式会社先行"}, {"Idempotency-Key": "twin"})
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert Company.objects.count() == 1


def test_bad_idempotency_key_is_422(org, rep_api):
    response = rep_api.post("companies", {"name": "x"}, {"Idempotency-Key": "k" * 201})
    assert response.status_code == 422
    assert not Company.objects.exists()


def test_user_time_zone_is_used(org, api_for):
    org.rep.timezone = "Asia/Seoul"
    org.rep.save()
    client = api_for(org.rep)
    company = CompanyFactory(owner=org.rep)
    created = client.post(
        "activities",
        {
            "kind": "call",
            "subject": "통화",
            "company": company.pk,
            "occurred_at": "2025-01-02T09:00",
        },
    ).json()
    assert created["occurred_at"] == "2025-01-02T09:00:00+09:00"
    assert timezone.get_current_timezone_name() != "Asia/Seoul"
