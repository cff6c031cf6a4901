"""Writes for products, sales settings and quotes.

A quote is issued only from a deal the actor may edit, and takes the next
number of its year's series in the same transaction: the series row is
locked (``select_for_update``; SQLite's IMMEDIATE transactions serialise
writers anyway), so two quotes never share a number and a rolled-back quote
leaves no gap. A repeated request token (a double-clicked "issue" button, a
retried form) returns the quote it already created instead of a second one.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import access, audit, records
from kizuna.core.models import AuditEntry
from kizuna.sales import services as deal_services
from kizuna.sales.models import (
    Currency,
    Deal,
    Product,
    Quote,
    QuoteLine,
    QuoteSeries,
    SalesSettings,
    TaxRate,
)
from kizuna.sales.quotes import numbering, pricing

PRODUCT_FIELDS = ["code", "name", "description", "unit", "unit_price", "currency", "tax_rate"]
SETTINGS_FIELDS = [
    "seller_name",
    "seller_address",
    "seller_phone",
    "registration_number",
    "sole_proprietor",
    "quote_number_pattern",
    "quote_validity_days",
    "tax_rounding",
    "quote_notes",
    "accepted_quote_stage",
]
QUOTE_AUDITED = ["number", "status", "deal", "issue_date", "valid_until", "currency", "total"]


def _amount(value: Any, currency: str, field: str, errors: dict[str, list[str]]) -> Decimal:
    """An amount typed by a person or sent as a number; errors are collected by field."""
    try:
        return pricing.parse_amount(value, currency=currency)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)
        return Decimal(0)


# Products -----------------------------------------------------------------


def _clean_product(product: Product, errors: dict[str, list[str]]) -> None:
    if product.currency not in Currency.values:
        errors.setdefault("currency", []).append(_("Choose JPY, KRW or USD."))
    elif not errors.get("unit_price"):
        product.unit_price = _amount(product.unit_price, product.currency, "unit_price", errors)
        if product.unit_price < 0:
            errors.setdefault("unit_price", []).append(_("The unit price cannot be negative."))
    if product.tax_rate not in TaxRate.values:
        errors.setdefault("tax_rate", []).append(_("Choose a tax rate of 10 %, 8 % or 0 %."))
    clash = Product.objects.filter(code=product.code).exclude(pk=product.pk).exists()
    if product.code and clash:
        errors.setdefault("code", []).append(_("Another product has this code."))
    records.validate(product, errors, exclude=["unit_price", "currency", "tax_rate"])


def _coerce_rate(fields: dict[str, Any]) -> None:
    if "tax_rate" in fields:
        try:
            fields["tax_rate"] = int(Decimal(str(fields["tax_rate"]).strip().rstrip("%")))
        except (ArithmeticError, ValueError):
            fields["tax_rate"] = -1


@transaction.atomic
def product_create(*, actor, code: str, name: str, unit_price: Any, **fields: Any) -> Product:
    access.require_admin(actor)
    fields = {"code": code, "name": name, "unit_price": unit_price, **fields}
    _coerce_rate(fields)
    product = Product()
    records.assign_fields(product, fields, PRODUCT_FIELDS)
    _clean_product(product, {})
    product.save()
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=product,
        changes={k: [None, v] for k, v in audit.snapshot(product, PRODUCT_FIELDS).items()},
    )
    return product


@transaction.atomic
def product_update(
    *, actor, product: Product, version: int | None = None, **fields: Any
) -> Product:
    access.require_admin(actor)
    product = records.lock(Product, product.pk)
    records.check_version(product, version)
    before = audit.snapshot(product, [*PRODUCT_FIELDS, "is_active"])
    _coerce_rate(fields)
    records.assign_fields(product, fields, [*PRODUCT_FIELDS, "is_active"])
    _clean_product(product, {})
    product.version += 1
    product.save()
    records.audit_update(actor, product, before, audit.snapshot(product, before.keys()))
    return product


def product_deactivate(*, actor, product: Product, version: int | None = None) -> Product:
    """Taken out of the picker; quotes that use it keep their copy."""
    return product_update(actor=actor, product=product, version=version, is_active=False)


# Settings -----------------------------------------------------------------


@transaction.atomic
def sales_settings_update(*, actor, version: int | None = None, **fields: Any) -> SalesSettings:
    access.require_admin(actor)
    obj = SalesSettings.get()
    obj = records.lock(SalesSettings, obj.pk)
    records.check_version(obj, version)
    before = audit.snapshot(obj, SETTINGS_FIELDS)
    records.assign_fields(obj, fields, SETTINGS_FIELDS)
    errors: dict[str, list[str]] = {}
    if obj.registration_number:
        obj.registration_number = pricing.normalize_registration_number(obj.registration_number)
        try:
            pricing.validate_registration_number(
                obj.registration_number, sole_proprietor=obj.sole_proprietor
            )
        except ValidationError as exc:
            errors["registration_number"] = exc.messages
    try:
        numbering.validate_pattern(obj.quote_number_pattern)
    except ValidationError as exc:
        errors["quote_number_pattern"] = exc.messages
    if not 1 <= (obj.quote_validity_days or 0) <= 365:
        errors["quote_validity_days"] = [_("Between 1 and 365 days.")]
    records.validate(obj, errors, exclude=["registration_number"])
    obj.version += 1
    obj.save()
    records.audit_update(actor, obj, before, audit.snapshot(obj, SETTINGS_FIELDS))
    return obj


# Quotes -------------------------------------------------------------------


@dataclass
class LineInput:
    """One line as a form or the API sends it; amounts may be typed text."""

    description: str = ""
    quantity: Any = 1
    unit_price: Any = None
    tax_rate: Any = None
    discount: Any = 0
    unit: str = ""
    product: Product | None = None


def _customer_address(company) -> str:
    parts = [company.prefecture, company.city, company.street, company.building]
    address = "".join(p for p in parts if p)
    if company.postal_code:
        address = f"〒{company.postal_code} {address}"
    return address.strip()


def _clean_lines(
    lines: list[LineInput], currency: str, errors: dict[str, list[str]]
) -> list[tuple[LineInput, pricing.Line]]:
    """Fill lines from their products and read typed amounts; errors by ``lines.<i>.<field>``."""
    cleaned = []
    # Read the products again: one may have been retired since the form opened.
    current = Product.objects.in_bulk([line.product.pk for line in lines if line.product])
    for i, line in enumerate(lines):
        key = f"lines.{i}."
        product = line.product = current.get(line.product.pk) if line.product else None
        if product is not None:
            problem = None
            if not product.is_active:
                problem = _("This product is no longer sold.")
            elif product.currency != currency:
                problem = _(
                    "This product is priced in %(currency)s; the quote is in %(quote)s."
                ) % {"currency": product.currency, "quote": currency}
            if problem:
                errors.setdefault(key + "product", []).append(problem)
                cleaned.append((line, pricing.Line(Decimal(1), Decimal(0), Decimal(0))))
                continue
            line.description = line.description or product.name
            line.unit = line.unit or product.unit
            if line.unit_price in (None, ""):
                line.unit_price = product.unit_price
            if line.tax_rate in (None, ""):
                line.tax_rate = product.tax_rate
        line.description = (line.description or "").strip()
        line.unit = (line.unit or "").strip()
        if not line.description:
            errors.setdefault(key + "description", []).append(_("Describe what is quoted."))
        elif len(line.description) > 300:
            errors.setdefault(key + "description", []).append(_("At most 300 characters."))
        if len(line.unit) > 20:
            errors.setdefault(key + "unit", []).append(_("At most 20 characters."))
        if line.unit_price in (None, ""):
            errors.setdefault(key + "unit_price", []).append(_("This field is required."))
            unit_price = Decimal(0)
        else:
            unit_price = _amount(line.unit_price, currency, key + "unit_price", errors)
        try:
            quantity = pricing.parse_quantity(line.quantity)
        except ValidationError as exc:
            errors.setdefault(key + "quantity", []).extend(exc.messages)
            quantity = Decimal(1)
        discount = _amount(line.discount or 0, currency, key + "discount", errors)
        try:
            rate = Decimal(str(line.tax_rate).strip().rstrip("%").strip())
        except (ArithmeticError, ValueError):
            rate = Decimal(-1)
        cleaned.append(
            (
                line,
                pricing.Line(
                    quantity=quantity, unit_price=unit_price, tax_rate=rate, discount=discount
                ),
            )
        )
    return cleaned


def quote_totals(*, lines: list[LineInput], currency: str, discount: Any = 0) -> pricing.Totals:
    """What the lines add up to, without writing anything (the editor's preview)."""
    errors: dict[str, list[str]] = {}
    if currency not in Currency.values:
        raise ValidationError({"currency": [_("Choose JPY, KRW or USD.")]})
    cleaned = _clean_lines(lines, currency, errors)
    document_discount = _amount(discount or 0, currency, "discount", errors)
    if errors:
        raise ValidationError(errors)
    return pricing.compute(
        [line for _input, line in cleaned],
        currency=currency,
        discount=document_discount,
        rounding=SalesSettings.get().tax_rounding,
    )


def _lock_series(year: int) -> QuoteSeries:
    """The year's counter, locked until the transaction ends."""
    QuoteSeries.objects.get_or_create(year=year)
    return QuoteSeries.objects.select_for_update().get(year=year)


@transaction.atomic
def quote_create(
    *,
    actor,
    deal: Deal,
    lines: list[LineInput],
    currency: str | None = None,
    discount: Any = 0,
    language: str = "ja",
    subject: str = "",
    customer_contact: str = "",
    notes: str | None = None,
    issue_date: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    request_token: str | None = None,
) -> Quote:
    """Issue a quote from ``deal`` with the next number of the year."""
    records.require_edit(actor, deal)
    settings = SalesSettings.get()
    issue_date = issue_date or timezone.localdate()
    year = issue_date.year
    # The lock on the series orders every quote of the year, so a second
    # request with the same token waits here and then finds the first quote.
    series = _lock_series(year)
    request_token = (request_token or "").strip()[:64] or None
    if request_token:
        existing = Quote.objects.filter(created_by=actor, request_token=request_token).first()
        if existing is not None:
            if existing.deal_id != deal.pk:
                raise ValidationError(
                    {"request_token": [_("This request token was used for another deal.")]}
                )
            return existing

    currency = currency or deal.currency
    errors: dict[str, list[str]] = {}
    if currency not in Currency.values:
        raise ValidationError({"currency": [_("Choose JPY, KRW or USD.")]})
    if language not in ("ja", "ko", "en"):
        errors["language"] = [_("Choose 日本語, 한국어 or English.")]
    valid_until = valid_until or issue_date + datetime.timedelta(days=settings.quote_validity_days)
    if valid_until < issue_date:
        errors["valid_until"] = [_("The quote cannot expire before it is issued.")]
    if len(subject or "") > 200:
        errors["subject"] = [_("At most 200 characters.")]
    cleaned = _clean_lines(lines, currency, errors)
    document_discount = _amount(discount or 0, currency, "discount", errors)
    if errors:
        raise ValidationError(errors)
    totals = pricing.compute(
        [line for _input, line in cleaned],
        currency=currency,
        discount=document_discount,
        rounding=settings.tax_rounding,
    )

    series.last_seq += 1
    series.save(update_fields=["last_seq"])
    seq = series.last_seq
    number = numbering.format_number(settings.quote_number_pattern, year=year, seq=seq)
    company = deal.company
    quote = Quote(
        deal=deal,
        owner_id=deal.owner_id,
        team_id=deal.team_id,
        number=number,
        year=year,
        seq=seq,
        status=Quote.Status.ISSUED,
        language=language,
        subject=(subject or "").strip(),
        issue_date=issue_date,
        valid_until=valid_until,
        currency=currency,
        tax_rounding=settings.tax_rounding,
        discount=document_discount,
        subtotal=totals.subtotal,
        tax=totals.tax,
        total=totals.total,
        tax_summary=[
            {
                "rate": str(r.rate),
                "subtotal": str(r.subtotal),
                "discount": str(r.discount),
                "taxable": str(r.taxable),
                "tax": str(r.tax),
            }
            for r in totals.rates
        ],
        seller_name=settings.seller_name,
        seller_address=settings.seller_address,
        seller_phone=settings.seller_phone,
        seller_registration_number=settings.registration_number,
        customer_name=company.name,
        customer_address=_customer_address(company),
        customer_contact=(customer_contact or "").strip()[:200],
        notes=(settings.quote_notes if notes is None else notes).strip(),
        created_by=actor,
        request_token=request_token,
    )
    try:
        with transaction.atomic():
            quote.save()
    except IntegrityError:
        raise ValidationError(
            {"__all__": [_("The quote number %(number)s is taken.") % {"number": number}]}
        ) from None
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=i,
            product=line_input.product,
            description=line_input.description,
            quantity=line.quantity,
            unit=line_input.unit,
            unit_price=line.unit_price,
            discount=line.discount,
            tax_rate=int(line.tax_rate),
            amount=amount.net,
        )
        for i, ((line_input, line), amount) in enumerate(zip(cleaned, totals.lines, strict=True))
    )
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=quote,
        changes={
            **{k: [None, v] for k, v in audit.snapshot(quote, QUOTE_AUDITED).items()},
            "lines": [None, len(cleaned)],
        },
    )
    return quote


def _decide(actor, quote: Quote, version: int | None, status: str) -> Quote:
    quote = records.lock(Quote, quote.pk)
    records.require_edit(actor, quote.deal)
    records.check_version(quote, version)
    if quote.status != Quote.Status.ISSUED:
        raise ValidationError(
            {
                "status": [
                    _("This quote is already %(status)s.")
                    % {"status": quote.get_status_display().lower()}
                ]
            }
        )
    if status == Quote.Status.ACCEPTED and quote.valid_until < timezone.localdate():
        raise ValidationError(
            {
                "status": [
                    _("This quote expired on %(date)s; issue a new one.")
                    % {"date": quote.valid_until.isoformat()}
                ]
            }
        )
    before = audit.snapshot(quote, ["status"])
    quote.status = status
    quote.decided_at = timezone.now()
    quote.version += 1
    quote.save()
    records.audit_update(actor, quote, before, audit.snapshot(quote, ["status"]))
    return quote


@transaction.atomic
def quote_accept(
    *, actor, quote: Quote, version: int | None = None, move_deal: bool = True
) -> Quote:
    """Mark the quote accepted and, when the org says so, move its deal.

    The move goes through ``deal_move``, so the stage's exit criteria apply;
    when they refuse, nothing is accepted and the refusal names what is
    missing.
    """
    quote = _decide(actor, quote, version, Quote.Status.ACCEPTED)
    stage = SalesSettings.get().accepted_quote_stage
    deal = quote.deal
    if (
        move_deal
        and stage is not None
        and stage.pipeline_id == deal.pipeline_id
        and deal.stage_id != stage.pk
        and deal.status == Deal.Status.OPEN
    ):
        deal_services.deal_move(actor=actor, deal=deal, stage=stage)
    return quote


@transaction.atomic
def quote_reject(*, actor, quote: Quote, version: int | None = None) -> Quote:
    return _decide(actor, quote, version, Quote.Status.REJECTED)
