"""Products and quotes through their services: numbering, access, bad input, acceptance."""

import datetime
import threading
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from kizuna.core.models import AccessLevel, AccessPolicy, AuditEntry
from kizuna.customers.services import company_create
from kizuna.sales import services as deal_services
from kizuna.sales.models import Pipeline, Product, Quote, QuoteSeries, Stage
from kizuna.sales.selectors_quotes import quote_list
from kizuna.sales.services_quotes import (
    LineInput,
    product_create,
    product_deactivate,
    product_update,
    quote_accept,
    quote_create,
    quote_reject,
    sales_settings_update,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 23)


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline=Pipeline.objects.first(), translations__ja=name)


@pytest.fixture
def deal(org):
    company = company_create(
        actor=org.rep,
        name="株式会社テスト商事",
        postal_code="100-0005",
        prefecture="東京都",
        city="千代田区",
        street="丸の内1-1-1",
    )
    return deal_services.deal_create(
        actor=org.rep, name="基幹システム刷新", company=company, amount=1000
    )


@pytest.fixture
def products(org):
    return {
        "license": product_create(
            actor=org.admin, code="LIC", name="ライセンス", unit_price="36,000円", unit="年"
        ),
        "lunch": product_create(
            actor=org.admin, code="BENTO", name="お弁当", unit_price=1080, tax_rate=8, unit="個"
        ),
    }


def issue(org, deal, products, **kwargs):
    lines = kwargs.pop(
        "lines",
        [
            LineInput(product=products["license"], quantity=3),
            LineInput(product=products["lunch"], quantity="２０"),
        ],
    )
    return quote_create(actor=kwargs.pop("actor", org.rep), deal=deal, lines=lines, **kwargs)


def test_a_quote_gets_the_years_next_number_and_its_totals(org, deal, products):
    sales_settings_update(
        actor=org.admin,
        seller_name="絆ソリューションズ株式会社",
        registration_number="Ｔ７０００-０１２０-５０００２",
    )
    first = issue(org, deal, products, issue_date=DAY)
    second = issue(org, deal, products, issue_date=DAY)
    next_year = issue(org, deal, products, issue_date=datetime.date(2027, 1, 4))
    assert [first.number, second.number, next_year.number] == [
        "Q-2026-0001",
        "Q-2026-0002",
        "Q-2027-0001",
    ]
    # 108,000 at 10 % → 10,800; 21,600 at 8 % → 1,728.
    assert (first.subtotal, first.tax, first.total) == (D(129600), D(12528), D(142128))
    assert [r["taxable"] for r in first.tax_summary] == ["108000", "21600"]
    assert first.valid_until == DAY + datetime.timedelta(days=30)
    assert first.seller_registration_number == "T7000012050002"
    assert first.customer_name == "株式会社テスト商事"
    assert first.customer_address == "〒100-0005 東京都千代田区丸の内1-1-1"
    assert (first.owner, first.team) == (deal.owner, deal.team)
    assert [line.description for line in first.lines.all()] == ["ライセンス", "お弁当"]
    assert AuditEntry.objects.filter(object_type="quote", object_id=first.pk).exists()


def test_the_number_pattern_is_the_orgs(org, deal, products):
    sales_settings_update(actor=org.admin, quote_number_pattern="見積{yy}-{seq:05d}")
    assert issue(org, deal, products, issue_date=DAY).number == "見積26-00001"
    with pytest.raises(ValidationError) as exc:
        sales_settings_update(actor=org.admin, quote_number_pattern="Q-{seq}")
    assert "quote_number_pattern" in exc.value.message_dict


def test_a_refused_quote_uses_no_number(org, deal, products):
    with pytest.raises(ValidationError) as exc:
        issue(
            org,
            deal,
            products,
            issue_date=DAY,
            lines=[LineInput(description="x", unit_price="1.000")],
        )
    assert "lines.0.unit_price" in exc.value.message_dict
    assert not Quote.objects.exists()
    assert issue(org, deal, products, issue_date=DAY).number == "Q-2026-0001"


def test_a_repeated_request_token_returns_the_first_quote(org, deal, products):
    first = issue(org, deal, products, request_token="tok-1")
    again = issue(org, deal, products, request_token="tok-1")
    assert again.pk == first.pk
    assert Quote.objects.count() == 1
    assert QuoteSeries.objects.get().last_seq == 1


@pytest.mark.parametrize(
    "line, field",
    [
        (LineInput(description="作業", unit_price="$100"), "unit_price"),
        (LineInput(description="作業", unit_price="1,00"), "unit_price"),
        (LineInput(description="作業", unit_price=100, quantity="0"), "quantity"),
        (LineInput(description="作業", unit_price=100, tax_rate=5), "tax_rate"),
        (LineInput(description="", unit_price=100), "description"),
        (LineInput(description="作業"), "unit_price"),
    ],
)
def test_bad_lines_are_refused_by_field(org, deal, line, field):
    with pytest.raises(ValidationError) as exc:
        quote_create(actor=org.rep, deal=deal, lines=[line])
    assert f"lines.0.{field}" in exc.value.message_dict
    assert not Quote.objects.exists()


def test_typed_amounts_that_are_clear_are_accepted(org, deal):
    quote = quote_create(
        actor=org.rep,
        deal=deal,
        lines=[
            LineInput(description="作業", unit_price="１，０００円", quantity="１.５", tax_rate=10)
        ],
        discount="￥100",
    )
    assert (quote.subtotal, quote.tax, quote.total) == (D(1500), D(140), D(1540))


def test_a_product_in_another_currency_or_retired_is_refused(org, deal, products):
    usd = product_create(
        actor=org.admin, code="US", name="Support", unit_price="19.99", currency="USD"
    )
    product_deactivate(actor=org.admin, product=products["lunch"])
    with pytest.raises(ValidationError) as exc:
        issue(
            org,
            deal,
            products,
            lines=[LineInput(product=usd), LineInput(product=products["lunch"])],
        )
    assert set(exc.value.message_dict) == {"lines.0.product", "lines.1.product"}


def test_only_editors_of_the_deal_may_issue(org, deal, products):
    with pytest.raises(PermissionDenied):
        issue(org, deal, products, actor=org.outsider)
    AccessPolicy.objects.update_or_create(
        object_type="deal", defaults={"level": AccessLevel.READ_ALL}
    )
    with pytest.raises(PermissionDenied):
        issue(org, deal, products, actor=org.outsider)
    assert issue(org, deal, products, actor=org.colleague).number


def test_products_are_managed_by_admins(org, products):
    with pytest.raises(PermissionDenied):
        product_create(actor=org.rep, code="X", name="x", unit_price=1)
    with pytest.raises(ValidationError) as exc:
        product_create(actor=org.admin, code="LIC", name="dup", unit_price="1.5")
    assert set(exc.value.message_dict) == {"code", "unit_price"}
    product = product_update(actor=org.admin, product=products["license"], unit_price="40,000")
    assert product.unit_price == D(40000) and product.version == 2
    assert Product.objects.filter(is_active=True).count() == 2


def test_a_wrong_registration_number_is_refused(org):
    with pytest.raises(ValidationError) as exc:
        sales_settings_update(actor=org.admin, registration_number="T8000012050002")
    assert "registration_number" in exc.value.message_dict
    settings = sales_settings_update(
        actor=org.admin, registration_number="T8000012050002", sole_proprietor=True
    )
    assert settings.registration_number == "T8000012050002"


def test_accepting_moves_the_deal_through_its_exit_criteria(org, deal, products):
    target = stage("資料作成中")
    sales_settings_update(actor=org.admin, accepted_quote_stage=target)
    quote = issue(org, deal, products)
    with pytest.raises(deal_services.ExitCriteriaError) as refused:
        quote_accept(actor=org.rep, quote=quote)
    assert "Budget (BANT)" in refused.value.messages[0]
    quote.refresh_from_db()
    deal.refresh_from_db()
    assert quote.status == Quote.Status.ISSUED and deal.stage != target

    deal_services.deal_update(
        actor=org.rep,
        deal=deal,
        next_action="提案書送付",
        next_action_due=DAY,
        need_status="captured",
        authority_status="captured",
        budget_status="captured",
    )
    quote = quote_accept(actor=org.rep, quote=quote)
    deal.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED and deal.stage == target
    with pytest.raises(ValidationError):
        quote_reject(actor=org.rep, quote=quote)


def test_an_expired_quote_cannot_be_accepted(org, deal, products):
    quote = issue(
        org,
        deal,
        products,
        issue_date=DAY,
        valid_until=datetime.date.today() - datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError) as exc:
        quote_accept(actor=org.rep, quote=quote)
    assert "expired" in exc.value.messages[0]
    assert quote.current_status == Quote.Status.EXPIRED
    assert list(quote_list(user=org.rep, filters={"status": "expired"})) == [quote]
    assert not quote_list(user=org.rep, filters={"status": "issued"}).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_quotes_get_distinct_numbers_without_gaps(org, products):
    # A transactional test may find the migration's pipeline flushed away.
    if not Pipeline.objects.exists():
        deal_services.pipeline_install_template(actor=org.admin, template="six_phase")
    company = company_create(actor=org.rep, name="株式会社並行商事")
    deal = deal_services.deal_create(actor=org.rep, name="並行", company=company, amount=1)
    numbers: list[str] = []
    errors: list[Exception] = []

    def worker():
        try:
            numbers.append(issue(org, deal, products, issue_date=DAY).number)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"Q-2026-{n:04d}" for n in range(1, 9)]
