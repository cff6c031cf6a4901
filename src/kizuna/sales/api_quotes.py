"""The API of the product catalogue and of quotes (with their PDF)."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from kizuna.api.concurrency import IF_MATCH, expected_version
from kizuna.api.errors import field_errors
from kizuna.api.idempotency import IDEMPOTENCY_KEY, idempotent
from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.api.records import dump, respond, with_etag
from kizuna.core import access
from kizuna.sales import selectors as deal_selectors
from kizuna.sales import selectors_quotes as selectors
from kizuna.sales import services_quotes as services
from kizuna.sales.models import Product, Quote
from kizuna.sales.quotes import pdf, pricing
from kizuna.sales.services import ExitCriteriaError

router = Router(tags=["quotes"])

# Amounts go out as decimal strings ("1200", "19.99") and come in as numbers or
# as text people type ("1,200円", "１２００"); a quantity may have 3 decimals.
Amount = Decimal | int | str


def _in_unit(amount: Decimal, currency: str) -> Decimal:
    """An amount with the currency's decimal places: JPY 1200, USD 19.99."""
    return pricing.quantize(Decimal(amount), currency)


class ProductOut(Schema):
    id: int
    code: str
    name: str
    description: str
    unit: str
    unit_price: Decimal
    currency: str
    tax_rate: int
    is_active: bool
    version: int

    @staticmethod
    def resolve_unit_price(obj) -> Decimal:
        return _in_unit(obj.unit_price, obj.currency)


class ProductIn(Schema):
    code: str
    name: str
    unit_price: Amount
    currency: str = "JPY"
    tax_rate: int = 10
    unit: str = ""
    description: str = ""


class ProductPatch(Schema):
    code: str | None = None
    name: str | None = None
    unit_price: Amount | None = None
    currency: str | None = None
    tax_rate: int | None = None
    unit: str | None = None
    description: str | None = None
    is_active: bool | None = None
    version: int | None = None


class ProductFilters(Schema):
    q: str | None = None
    currency: str | None = None
    active: bool | None = None


class QuoteLineOut(Schema):
    position: int
    product: int | None
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    tax_rate: int
    amount: Decimal

    @staticmethod
    def resolve_product(obj) -> int | None:
        return obj.product_id

    @staticmethod
    def resolve_unit_price(obj) -> Decimal:
        return _in_unit(obj.unit_price, obj.quote.currency)

    @staticmethod
    def resolve_discount(obj) -> Decimal:
        return _in_unit(obj.discount, obj.quote.currency)

    @staticmethod
    def resolve_amount(obj) -> Decimal:
        return _in_unit(obj.amount, obj.quote.currency)


class TaxRateOut(Schema):
    rate: Decimal
    subtotal: Decimal
    discount: Decimal
    taxable: Decimal
    tax: Decimal


class QuoteOut(Schema):
    id: int
    number: str
    deal: int
    status: str
    language: str
    subject: str
    issue_date: datetime.date
    valid_until: datetime.date
    currency: str
    tax_rounding: str
    discount: Decimal
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    tax_summary: list[TaxRateOut]
    seller_name: str
    seller_registration_number: str
    customer_name: str
    customer_contact: str
    notes: str
    owner: int
    team: int | None
    lines: list[QuoteLineOut]
    version: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_deal(obj) -> int:
        return obj.deal_id

    @staticmethod
    def resolve_status(obj) -> str:
        # An issued quote past its validity date reads as expired.
        return obj.current_status

    @staticmethod
    def resolve_discount(obj) -> Decimal:
        return _in_unit(obj.discount, obj.currency)

    @staticmethod
    def resolve_subtotal(obj) -> Decimal:
        return _in_unit(obj.subtotal, obj.currency)

    @staticmethod
    def resolve_tax(obj) -> Decimal:
        return _in_unit(obj.tax, obj.currency)

    @staticmethod
    def resolve_total(obj) -> Decimal:
        return _in_unit(obj.total, obj.currency)

    @staticmethod
    def resolve_owner(obj) -> int:
        return obj.owner_id

    @staticmethod
    def resolve_team(obj) -> int | None:
        return obj.team_id

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class QuoteLineIn(Schema):
    product: int | None = None
    description: str = ""
    quantity: Amount = 1
    unit: str = ""
    unit_price: Amount | None = None
    discount: Amount = 0
    tax_rate: int | None = None


class QuoteIn(Schema):
    deal: int
    lines: list[QuoteLineIn]
    currency: str | None = None
    discount: Amount = 0
    language: str = "ja"
    subject: str = ""
    customer_contact: str = ""
    notes: str | None = None
    issue_date: datetime.date | None = None
    valid_until: datetime.date | None = None


class QuoteFilters(Schema):
    q: str | None = None
    status: str | None = None
    deal: int | None = None
    owner: int | None = None
    team: int | None = None
    issued_from: datetime.date | None = None
    issued_to: datetime.date | None = None


class DecisionIn(Schema):
    version: int | None = None
    # Accepting moves the deal to the stage set in the quote settings, if any.
    move_deal: bool = True


# Products -------------------------------------------------------------------


@router.get("/products", response=page_schema(ProductOut))
def list_products(request, filters: Query[ProductFilters], page: Query[PageQuery]):
    f: dict[str, Any] = filters.dict(exclude_none=True)
    return paginate(selectors.product_list(filters=f), page)


@router.post("/products", response={201: ProductOut}, openapi_extra=IDEMPOTENCY_KEY)
def create_product(request, payload: ProductIn):
    def create():
        product = services.product_create(actor=request.auth, **payload.dict())
        return 201, dump(ProductOut, product)

    return idempotent(request, create, respond)


@router.get("/products/{int:product_id}", response=ProductOut)
def get_product(request, product_id: int, response: HttpResponse):
    return with_etag(response, get_object_or_404(Product, pk=product_id))


@router.patch("/products/{int:product_id}", response=ProductOut, openapi_extra=IF_MATCH)
def update_product(request, product_id: int, payload: ProductPatch, response: HttpResponse):
    product = get_object_or_404(Product, pk=product_id)
    data = payload.dict(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    product = services.product_update(actor=request.auth, product=product, version=version, **data)
    return with_etag(response, product)


@router.delete("/products/{int:product_id}", response={204: None}, openapi_extra=IF_MATCH)
def deactivate_product(request, product_id: int):
    """Products quoted before stay on their quotes: deleting one deactivates it."""
    product = get_object_or_404(Product, pk=product_id)
    services.product_deactivate(
        actor=request.auth, product=product, version=expected_version(request)
    )
    return HttpResponse(status=204)


# Quotes ---------------------------------------------------------------------


def _detail(request, quote_id: int) -> Quote:
    return selectors.quote_detail(user=request.auth, pk=quote_id)


@router.get("/quotes", response=page_schema(QuoteOut))
def list_quotes(request, filters: Query[QuoteFilters], page: Query[PageQuery]):
    qs = selectors.quote_list(user=request.auth, filters=filters.dict(exclude_none=True))
    return paginate(qs.prefetch_related("lines"), page)


def _line_inputs(lines: list[QuoteLineIn]) -> list[services.LineInput]:
    products = Product.objects.in_bulk([line.product for line in lines if line.product])
    inputs = []
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        product = products.get(line.product) if line.product else None
        if line.product and product is None:
            errors[f"lines.{i}.product"] = [_("Choose a product from the catalogue.")]
        inputs.append(
            services.LineInput(
                product=product,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount=line.discount,
                tax_rate=line.tax_rate,
            )
        )
    if errors:
        raise ValidationError(errors)
    return inputs


@router.post("/quotes", response={201: QuoteOut}, openapi_extra=IDEMPOTENCY_KEY)
def create_quote(request, payload: QuoteIn):
    """Issue a quote from a deal: 404 for a deal you cannot see, 403 for one you cannot edit.

    With an ``Idempotency-Key``, a repeated request returns the same quote and
    number instead of issuing another.
    """

    def create():
        data = payload.dict()
        deal = deal_selectors.deal_detail(user=request.auth, pk=data.pop("deal"))
        if not access.can_edit(request.auth, deal):
            raise PermissionDenied(_("You may not change this record."))
        data["lines"] = _line_inputs(payload.lines)
        quote = services.quote_create(actor=request.auth, deal=deal, **data)
        return 201, dump(QuoteOut, _detail(request, quote.pk))

    return idempotent(request, create, respond)


@router.get("/quotes/{int:quote_id}", response=QuoteOut)
def get_quote(request, quote_id: int, response: HttpResponse):
    return with_etag(response, _detail(request, quote_id))


def _editable(request, quote_id: int) -> Quote:
    quote = _detail(request, quote_id)
    if not selectors.can_edit_quote(request.auth, quote):
        raise PermissionDenied(_("You may not change this record."))
    return quote


class ExitCriteriaOut(Schema):
    detail: list[dict[str, Any]]
    missing: list[dict[str, Any]]


@router.post(
    "/quotes/{int:quote_id}/accept",
    response={200: QuoteOut, 422: ExitCriteriaOut},
    openapi_extra=IF_MATCH,
)
def accept_quote(request, quote_id: int, payload: DecisionIn, response: HttpResponse):
    """Accept the quote. When that moves the deal and the stage's exit criteria
    refuse, the answer is a 422 listing the missing items and nothing changes."""
    quote = _editable(request, quote_id)
    version = expected_version(request, payload.version)
    try:
        services.quote_accept(
            actor=request.auth, quote=quote, version=version, move_deal=payload.move_deal
        )
    except ExitCriteriaError as exc:
        missing = [
            {"stage": m.stage_id, "key": m.key, "label": str(m.label), "kind": m.kind}
            for m in exc.missing
        ]
        return Status(422, {"detail": field_errors(exc), "missing": missing})
    return Status(200, with_etag(response, _detail(request, quote_id)))


@router.post("/quotes/{int:quote_id}/reject", response=QuoteOut, openapi_extra=IF_MATCH)
def reject_quote(request, quote_id: int, payload: DecisionIn, response: HttpResponse):
    quote = _editable(request, quote_id)
    version = expected_version(request, payload.version)
    services.quote_reject(actor=request.auth, quote=quote, version=version)
    return with_etag(response, _detail(request, quote_id))


@router.get(
    "/quotes/{int:quote_id}/pdf",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "The quote as PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def quote_pdf(request, quote_id: int, lang: str | None = None):
    """The PDF in ``lang`` (ja, ko or en; the quote's own language by default)."""
    quote = _detail(request, quote_id)
    language = lang if lang in pdf.LANGUAGES else quote.language
    data = pdf.render_quote(selectors.quote_document(quote, language=language))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote.number}-{language}.pdf"'
    return response
