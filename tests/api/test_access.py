"""One walk over every API operation: who gets in, and what they may see.

The operations come from the OpenAPI document, so a new endpoint is walked
as soon as it exists; one this file does not know yet fails the walk until it
is added to ``EXPECTED``.
"""

import re

import pytest
from django.urls import URLPattern

from kizuna.analytics.services_reports import report_create
from kizuna.api.api import api
from kizuna.imports.models import ImportBatch
from kizuna.sales.services import deal_create
from kizuna.sales.services_quotes import LineInput, product_create, quote_create
from tests.api.conftest import ApiClient
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"
REPORT_SPEC = {"object": "deal", "group_by": [{"field": "company"}]}


def operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema(path_prefix=PREFIX)
    return sorted(
        (method.upper(), path) for path, methods in schema["paths"].items() for method in methods
    )


OPERATIONS = operations()

# What an outsider (the other team, no share) gets from each operation on the
# rep's records. "list" means 200 with none of the rep's records in it.
EXPECTED = {
    ("GET", "/api/v1/companies"): "list",
    ("POST", "/api/v1/companies"): 422,
    ("GET", "/api/v1/companies/{company_id}"): 404,
    ("PATCH", "/api/v1/companies/{company_id}"): 404,
    ("DELETE", "/api/v1/companies/{company_id}"): 404,
    ("GET", "/api/v1/contacts"): "list",
    ("POST", "/api/v1/contacts"): 422,
    ("GET", "/api/v1/contacts/{contact_id}"): 404,
    ("PATCH", "/api/v1/contacts/{contact_id}"): 404,
    ("DELETE", "/api/v1/contacts/{contact_id}"): 404,
    ("GET", "/api/v1/leads"): "list",
    ("POST", "/api/v1/leads"): 201,  # refers to nothing: it creates the outsider's own lead
    ("GET", "/api/v1/leads/{lead_id}"): 404,
    ("PATCH", "/api/v1/leads/{lead_id}"): 404,
    ("DELETE", "/api/v1/leads/{lead_id}"): 404,
    ("POST", "/api/v1/leads/{lead_id}/convert"): 404,
    ("GET", "/api/v1/activities"): "list",
    ("POST", "/api/v1/activities"): 422,
    ("GET", "/api/v1/activities/{activity_id}"): 404,
    ("PATCH", "/api/v1/activities/{activity_id}"): 404,
    ("DELETE", "/api/v1/activities/{activity_id}"): 404,
    # The directory and field definitions are not governed records.
    ("GET", "/api/v1/custom-fields"): 200,
    ("GET", "/api/v1/users"): 200,
    ("GET", "/api/v1/users/{user_id}"): 200,
    ("GET", "/api/v1/teams"): 200,
    ("GET", "/api/v1/teams/{team_id}"): 200,
    ("GET", "/api/v1/pipelines"): 200,
    ("GET", "/api/v1/pipelines/{pipeline_id}"): 200,
    ("GET", "/api/v1/loss-reasons"): 200,
    ("GET", "/api/v1/forecast"): 200,
    ("GET", "/api/v1/deals"): "list",
    ("POST", "/api/v1/deals"): 422,
    ("GET", "/api/v1/deals/{deal_id}"): 404,
    ("PATCH", "/api/v1/deals/{deal_id}"): 404,
    ("DELETE", "/api/v1/deals/{deal_id}"): 404,
    ("POST", "/api/v1/deals/{deal_id}/move"): 404,
    ("GET", "/api/v1/deals/{deal_id}/stage-history"): 404,
    ("POST", "/api/v1/deals/bulk-move"): 422,
    # The product catalogue is read by everyone and changed by admins.
    ("GET", "/api/v1/products"): 200,
    ("POST", "/api/v1/products"): 403,
    ("GET", "/api/v1/products/{product_id}"): 200,
    ("PATCH", "/api/v1/products/{product_id}"): 403,
    ("DELETE", "/api/v1/products/{product_id}"): 403,
    # A quote is visible with its deal.
    ("GET", "/api/v1/quotes"): "list",
    ("POST", "/api/v1/quotes"): 404,  # on the rep's deal, which the outsider cannot see
    ("GET", "/api/v1/quotes/{quote_id}"): 404,
    ("POST", "/api/v1/quotes/{quote_id}/accept"): 404,
    ("POST", "/api/v1/quotes/{quote_id}/reject"): 404,
    ("GET", "/api/v1/quotes/{quote_id}/pdf"): 404,
    # A report shared with the rep's team; the outsider saves and runs only their own,
    # over the records they may see.
    ("GET", "/api/v1/reports"): "list",
    ("POST", "/api/v1/reports"): 201,
    ("POST", "/api/v1/reports/run"): 200,
    ("GET", "/api/v1/reports/{report_id}"): 404,
    ("PATCH", "/api/v1/reports/{report_id}"): 404,
    ("DELETE", "/api/v1/reports/{report_id}"): 404,
    ("GET", "/api/v1/reports/{report_id}/run"): 404,
    # An import is its uploader's (and the admins'): not even the team sees it.
    ("GET", "/api/v1/imports"): 200,
    ("POST", "/api/v1/imports"): 422,  # the walk sends no file
    ("GET", "/api/v1/imports/{import_id}"): "private",
    ("GET", "/api/v1/imports/{import_id}/rows"): "private",
    ("POST", "/api/v1/imports/{import_id}/preview"): "private",
    ("POST", "/api/v1/imports/{import_id}/run"): "private",
    ("POST", "/api/v1/imports/{import_id}/cancel"): "private",
    ("POST", "/api/v1/imports/{import_id}/undo"): "private",
}


@pytest.fixture
def records(org):
    """Records of the rep (Tokyo team), searchable by the word 秘密."""
    company = CompanyFactory(owner=org.rep, name="秘密商事")
    contact = ContactFactory(owner=org.rep, company=company, family_name="秘密")
    lead = LeadFactory(owner=org.rep, company_name="秘密工業")
    activity = ActivityFactory(owner=org.rep, company=company, subject="秘密の相談")
    deal = deal_create(actor=org.rep, name="秘密案件", company=company)
    product = product_create(actor=org.admin, code="P-1", name="保守", unit_price=1000)
    quote = quote_create(actor=org.rep, deal=deal, lines=[LineInput(product=product, quantity=2)])
    report = report_create(actor=org.rep, name="秘密レポート", spec=REPORT_SPEC, shared=True)
    return {
        "report_id": report.pk,
        "deal_id": deal.pk,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "product_id": product.pk,
        "quote_id": quote.pk,
        "company_id": company.pk,
        "contact_id": contact.pk,
        "lead_id": lead.pk,
        "activity_id": activity.pk,
        "user_id": org.rep.pk,
        "team_id": org.tokyo.pk,
        "import_id": ImportBatch.objects.create(
            entity="contact", file_name="秘密.csv", file_path="imports/x.csv", created_by=org.rep
        ).pk,
    }


def _body(path: str, ids: dict) -> dict:
    resource = path.split("/")[3]
    if path.endswith("/bulk-move"):
        return {"deals": [ids["deal_id"]], "stage": ids["stage_id"]}
    if path.endswith("/move"):
        return {"stage": ids["stage_id"]}
    return {
        "deals": {"name": "侵入", "company": ids["company_id"]},
        "companies": {"name": "侵入", "parent": ids["company_id"]},
        "contacts": {"family_name": "侵入", "company": ids["company_id"]},
        "leads": {"family_name": "侵入", "channel": "other"},
        "activities": {"kind": "note", "subject": "侵入", "company": ids["company_id"]},
        "products": {"code": "X-1", "name": "侵入", "unit_price": 1},
        "quotes": {"deal": ids["deal_id"], "lines": [{"description": "侵入", "unit_price": 1}]},
        "reports": {"name": "侵入", "spec": REPORT_SPEC},
    }.get(resource, {})


def _call(client: ApiClient, method: str, path: str, ids: dict):
    url = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
    if method == "GET":
        return client.get(url)
    if method == "DELETE":
        return client.delete(url)
    return client.request(method.lower(), url, _body(path, ids))


def test_every_operation_is_classified():
    assert set(OPERATIONS) == set(EXPECTED), "add the new operation to EXPECTED"


def test_every_url_is_in_the_schema():
    documented = {path for _method, path in OPERATIONS}
    for pattern in api.urls[0]:
        assert isinstance(pattern, URLPattern)
        route = PREFIX + "/" + str(pattern.pattern).replace("<int:", "{").replace(">", "}")
        if pattern.name in ("api-root", "openapi-json", "openapi-view"):
            continue
        assert route.rstrip("/") in documented, route


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_without_token_is_401(org, records, method, path):
    response = _call(ApiClient(), method, path, records)
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_outsider_gets_nothing_of_another_team(org, records, api_for, method, path):
    expected = EXPECTED[(method, path)]
    if expected == "private":
        expected = 404
    response = _call(api_for(org.outsider), method, path, records)
    if expected == "list":
        assert response.status_code == 200
        assert response.json()["items"] == []
        searched = api_for(org.outsider).get(path, q="秘密")
        assert searched.json()["items"] == []
    else:
        assert response.status_code == expected, response.content
    if expected == 422:
        # The reference to a record they cannot see is refused, as if it did not exist.
        locs = [e["loc"] for e in response.json()["detail"]]
        field = {"companies": "parent", "bulk-move": "deals", "imports": "file"}.get(
            path.split("/")[-1], "company"
        )
        assert ["body", field] in locs


@pytest.mark.parametrize(
    "method, path", [op for op in OPERATIONS if op[0] == "GET" and EXPECTED[op] in (404, "list")]
)
def test_the_team_sees_what_the_outsider_cannot(org, records, api_for, method, path):
    """The positive control: the same URLs answer the rep's colleague and manager."""
    for user in (org.colleague, org.manager):
        response = _call(api_for(user), method, path, records)
        assert response.status_code == 200
        if "{" not in path:
            assert len(response.json()["items"]) == 1
            assert len(api_for(user).get(path, q="秘密").json()["items"]) == 1
