"""The quotes API: create with typed amounts, idempotency, refusals, accept, PDF."""

import pytest

from kizuna.core.models import AccessLevel, AccessPolicy
from kizuna.customers.services import company_create
from kizuna.iam.services import token_create
from kizuna.sales import services as deal_services
from kizuna.sales.models import Pipeline, Quote, Stage
from kizuna.sales.services_quotes import product_create, sales_settings_update
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(db):
    def make(user) -> ApiClient:
        _token, key = token_create(user=user, name="test")
        return ApiClient(key)

    return make


@pytest.fixture
def deal(org):
    company = company_create(actor=org.rep, name="株式会社テスト商事")
    return deal_services.deal_create(actor=org.rep, name="CRM導入", company=company, amount=1)


@pytest.fixture
def product(org):
    return product_create(actor=org.admin, code="LIC", name="ライセンス", unit_price=36000)


def body(deal, product, **overrides):
    data = {
        "deal": deal.pk,
        "lines": [
            {"product": product.pk, "quantity": 2},
            {"description": "導入支援", "unit_price": "１２０，０００円", "tax_rate": 10},
        ],
        "discount": "2,000",
        "language": "ja",
    }
    data.update(overrides)
    return data


def test_create_with_typed_amounts_and_get(org, api_for, deal, product):
    api = api_for(org.rep)
    response = api.post("quotes", body(deal, product))
    assert response.status_code == 201, response.content
    data = response.json()
    # 72,000 + 120,000 − 2,000 = 190,000; 10 % → 19,000.
    assert (data["subtotal"], data["tax"], data["total"]) == ("192000", "19000", "209000")
    assert data["tax_summary"][0]["taxable"] == "190000"
    assert data["number"].endswith("-0001") and len(data["lines"]) == 2
    got = api.get(f"quotes/{data['id']}")
    assert got.json()["number"] == data["number"] and got["ETag"] == '"1"'


def test_a_repeated_idempotency_key_issues_one_number(org, api_for, deal, product):
    api = api_for(org.rep)
    headers = {"Idempotency-Key": "click-1"}
    first = api.post("quotes", body(deal, product), headers=headers)
    second = api.post("quotes", body(deal, product), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == second.json()["number"]
    assert second["Idempotent-Replayed"] == "true"
    assert Quote.objects.count() == 1


@pytest.mark.parametrize(
    "line, loc",
    [
        ({"description": "作業", "unit_price": "$100", "tax_rate": 10}, "unit_price"),
        ({"description": "作業", "unit_price": "1.000", "tax_rate": 10}, "unit_price"),
        ({"description": "作業", "unit_price": "12,34", "tax_rate": 10}, "unit_price"),
        ({"description": "作業", "unit_price": 100, "tax_rate": 5}, "tax_rate"),
        ({"product": 999999}, "product"),
    ],
)
def test_bad_lines_are_422_by_location(org, api_for, deal, product, line, loc):
    response = api_for(org.rep).post("quotes", body(deal, product, lines=[line]))
    assert response.status_code == 422
    assert ["body", "lines", "0", loc] in [e["loc"] for e in response.json()["detail"]]
    assert not Quote.objects.exists()


def test_unseen_deal_is_404_and_read_only_deal_403(org, api_for, deal, product):
    assert api_for(org.outsider).post("quotes", body(deal, product)).status_code == 404
    AccessPolicy.objects.update_or_create(
        object_type="deal", defaults={"level": AccessLevel.READ_ALL}
    )
    assert api_for(org.outsider).post("quotes", body(deal, product)).status_code == 403
    assert not Quote.objects.exists()


def test_accept_refused_by_exit_criteria_lists_the_missing_items(org, api_for, deal, product):
    target = Stage.objects.get(pipeline=Pipeline.objects.first(), translations__ja="資料作成中")
    sales_settings_update(actor=org.admin, accepted_quote_stage=target)
    api = api_for(org.rep)
    quote = api.post("quotes", body(deal, product)).json()
    response = api.post(f"quotes/{quote['id']}/accept", {})
    assert response.status_code == 422
    keys = [m["key"] for m in response.json()["missing"]]
    assert "budget" in keys and "authority" in keys
    assert "Budget (BANT)" in response.json()["detail"][0]["msg"]
    assert Quote.objects.get().status == "issued"
    response = api.post(f"quotes/{quote['id']}/accept", {"move_deal": False})
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert api.post(f"quotes/{quote['id']}/reject", {}).status_code == 422


def test_stale_version_is_409(org, api_for, deal, product):
    api = api_for(org.rep)
    quote = api.post("quotes", body(deal, product)).json()
    response = api.post(f"quotes/{quote['id']}/reject", {}, headers={"If-Match": '"7"'})
    assert response.status_code == 409


def test_pdf_download(org, api_for, deal, product):
    api = api_for(org.rep)
    quote = api.post("quotes", body(deal, product)).json()
    response = api.get(f"quotes/{quote['id']}/pdf", lang="ko")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"{quote['number']}-ko.pdf" in response["Content-Disposition"]


def test_products_crud_for_admins(org, api_for):
    admin = api_for(org.admin)
    created = admin.post(
        "products", {"code": "SUP", "name": "保守", "unit_price": "5,000円", "tax_rate": 10}
    )
    assert created.status_code == 201 and created.json()["unit_price"] == "5000"
    pk = created.json()["id"]
    patched = admin.patch(f"products/{pk}", {"unit_price": 6000}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200 and patched["ETag"] == '"2"'
    assert admin.delete(f"products/{pk}").status_code == 204
    assert api_for(org.rep).get(f"products/{pk}").json()["is_active"] is False
    assert api_for(org.rep).get("products", active=True).json()["items"] == []
    refused = admin.post("products", {"code": "SUP", "name": "x", "unit_price": "1.5"})
    assert {tuple(e["loc"]) for e in refused.json()["detail"]} == {
        ("body", "code"),
        ("body", "unit_price"),
    }
