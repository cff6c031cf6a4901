"""Quotes in the browser's HTTP: the editor, a double submit, PDF, list and export."""

import csv
import io
import shutil
import subprocess

import pytest
from django.urls import reverse

from kizuna.core.models import AccessLevel, AccessPolicy
from kizuna.customers.services import company_create
from kizuna.sales import services as deal_services
from kizuna.sales.models import Quote, QuoteSeries
from kizuna.sales.services_quotes import LineInput, product_create, quote_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(org):
    company = company_create(actor=org.rep, name="株式会社髙島屋商事")
    return deal_services.deal_create(actor=org.rep, name="CRM導入", company=company, amount=1)


@pytest.fixture
def product(org):
    return product_create(
        actor=org.admin, code="LIC", name="ライセンス", unit_price=36000, unit="ユーザー"
    )


def form_data(product, **overrides):
    data = {
        "language": "ja",
        "currency": "JPY",
        "subject": "CRM導入のお見積り",
        "customer_contact": "山田 太郎",
        "issue_date": "2026-11-23",
        "valid_until": "2026-12-23",
        "discount": "",
        "notes": "お支払条件: 月末締め翌月末払い",
        "request_token": "form-token-1",
        "line-product": [str(product.pk), ""],
        "line-description": ["", "導入支援"],
        "line-quantity": ["12", "1"],
        "line-unit": ["", "式"],
        "line-unit_price": ["", "２５０，０００円"],
        "line-discount": ["", ""],
        "line-tax_rate": ["10", "10"],
    }
    data.update(overrides)
    return data


def test_the_deal_page_offers_a_new_quote(client, org, deal):
    client.force_login(org.rep)
    body = client.get(reverse("sales:deal_detail", args=[deal.pk])).content.decode()
    assert reverse("sales:deal_quote_create", args=[deal.pk]) in body


def test_issue_a_quote_from_the_deal_and_a_double_submit_gives_one_number(
    client, org, deal, product
):
    client.force_login(org.rep)
    url = reverse("sales:deal_quote_create", args=[deal.pk])
    form = client.get(url)
    assert form.status_code == 200 and 'name="request_token"' in form.content.decode()
    first = client.post(url, form_data(product))
    second = client.post(url, form_data(product))
    quote = Quote.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("sales:quote_detail", args=[quote.pk])
    assert QuoteSeries.objects.get().last_seq == 1
    # 432,000 + 250,000 = 682,000; 10 % → 68,200.
    assert quote.total == 750200
    page = client.get(first["Location"]).content.decode()
    assert quote.number in page and "¥750,200" in page


def test_bad_input_keeps_the_form_and_names_the_line(client, org, deal, product):
    client.force_login(org.rep)
    url = reverse("sales:deal_quote_create", args=[deal.pk])
    response = client.post(url, form_data(product, **{"line-unit_price": ["", "1.000"]}))
    assert response.status_code == 422
    body = response.content.decode()
    assert "JPY amounts have no decimal places." in body
    assert 'value="1.000"' in body  # what was typed stays
    assert not Quote.objects.exists()


def test_live_totals(client, org, deal, product):
    client.force_login(org.rep)
    url = reverse("sales:deal_quote_preview", args=[deal.pk])
    body = client.post(url, form_data(product)).content.decode()
    assert "¥682,000" in body and "¥68,200" in body and "¥750,200" in body
    body = client.post(url, form_data(product, **{"line-unit_price": ["", "$5"]})).content
    assert "is not an amount in JPY" in body.decode()


def test_a_deal_one_may_see_but_not_edit_is_403_and_an_unseen_one_404(client, org, deal):
    client.force_login(org.outsider)
    url = reverse("sales:deal_quote_create", args=[deal.pk])
    assert client.get(url).status_code == 404
    AccessPolicy.objects.update_or_create(
        object_type="deal", defaults={"level": AccessLevel.READ_ALL}
    )
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
@pytest.mark.parametrize("lang, words", [("ja", "御見積書"), ("ko", "견적서"), ("en", "QUOTATION")])
def test_pdf_download_in_each_language(client, org, deal, product, lang, words, tmp_path):
    quote = quote_create(actor=org.rep, deal=deal, lines=[LineInput(product=product)])
    client.force_login(org.colleague)
    response = client.get(reverse("sales:quote_pdf", args=[quote.pk]), {"lang": lang})
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "q.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert words in text and quote.number in text and "株式会社髙島屋商事" in text


def test_quote_list_filters_and_export(client, org, deal, product):
    quote = quote_create(actor=org.rep, deal=deal, lines=[LineInput(product=product)])
    client.force_login(org.manager)
    response = client.get(reverse("sales:quote_list"), {"status": "issued"})
    assert quote.number in response.content.decode()
    response = client.get(reverse("sales:quote_list"), {"status": "accepted"})
    assert quote.number not in response.content.decode()
    export = client.get(reverse("sales:quote_list"), {"export": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[1][0] == quote.number and "39600" in rows[1]


def test_accepting_from_the_page_shows_the_missing_items(client, org, deal, product):
    from kizuna.sales.models import Pipeline, Stage
    from kizuna.sales.services_quotes import sales_settings_update

    target = Stage.objects.get(pipeline=Pipeline.objects.first(), translations__ja="資料作成中")
    sales_settings_update(actor=org.admin, accepted_quote_stage=target)
    quote = quote_create(actor=org.rep, deal=deal, lines=[LineInput(product=product)])
    client.force_login(org.rep)
    response = client.post(
        reverse("sales:quote_decide", args=[quote.pk]), {"decision": "accept"}, follow=True
    )
    assert "Budget (BANT)" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == "issued"


def test_products_admin_only_but_readable(client, org, product):
    client.force_login(org.rep)
    assert "ライセンス" in client.get(reverse("sales:product_list")).content.decode()
    assert client.get(reverse("sales:product_create")).status_code == 403
    client.force_login(org.admin)
    response = client.post(
        reverse("sales:product_create"),
        {"code": "LIC", "name": "x", "unit_price": "1,000円", "currency": "JPY", "tax_rate": "10"},
    )
    assert (
        response.status_code == 422
        and "Another product has this code." in response.content.decode()
    )
    response = client.post(
        reverse("sales:product_create"),
        {
            "code": "SUP",
            "name": "保守",
            "unit_price": "１，０００円",
            "currency": "JPY",
            "tax_rate": "8",
        },
    )
    assert response.status_code == 302


def test_settings_refuse_a_wrong_registration_number(client, org):
    client.force_login(org.admin)
    url = reverse("sales:sales_settings")
    assert client.get(url).status_code == 200
    data = {
        "seller_name": "絆ソリューションズ",
        "registration_number": "T8000012050002",
        "quote_number_pattern": "Q-{year}-{seq:04d}",
        "quote_validity_days": "30",
        "tax_rounding": "down",
    }
    response = client.post(url, data)
    assert response.status_code == 422 and "check digit" in response.content.decode()
    response = client.post(url, {**data, "registration_number": "T7000012050002"})
    assert response.status_code == 302


def test_quote_list_page_and_endpoint_queries_do_not_grow(
    client, org, deal, product, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kizuna.iam.services import token_create
    from tests.api.conftest import ApiClient

    _token, key = token_create(user=org.rep, name="t")
    api = ApiClient(key)
    client.force_login(org.rep)

    def issue(n):
        for _ in range(n):
            quote_create(actor=org.rep, deal=deal, lines=[LineInput(product=product)] * 2)

    issue(1)
    with CaptureQueriesContext(connection) as page_few:
        client.get(reverse("sales:quote_list"))
    with CaptureQueriesContext(connection) as api_few:
        api.get("quotes")
    issue(10)
    with django_assert_max_num_queries(len(page_few)):
        assert client.get(reverse("sales:quote_list")).status_code == 200
    with django_assert_max_num_queries(len(api_few)):
        assert len(api.get("quotes").json()["items"]) == 11
