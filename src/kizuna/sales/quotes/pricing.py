"""Money and consumption tax for quotes.

A line is quantity × unit price − line discount. The document discount is
spread over the tax rates in proportion to their subtotals, because a
qualified invoice (適格請求書) states the taxable amount per rate. Tax is then
computed once per rate per document and rounded once, never per line: the
invoice rules allow one rounding per rate per document. Korean 부가세 (10 %,
영세율 0 %) goes through the same machinery.

Everything is ``Decimal``; JPY and KRW have no minor unit, USD has cents.
"""

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kizuna.core.validators import corporate_number_check_digit, validate_corporate_number

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# Digits after the decimal point per ISO 4217 currency.
MINOR_UNITS: dict[str, int] = {"JPY": 0, "KRW": 0, "USD": 2}
CURRENCY_SYMBOLS: dict[str, str] = {"JPY": "¥", "KRW": "₩", "USD": "$"}
# Signs people type around an amount, after NFKC (so ￥ is already ¥).
_CURRENCY_MARKS: dict[str, tuple[str, ...]] = {
    "JPY": ("¥", "円", "JPY", "YEN"),
    "KRW": ("₩", "원", "KRW", "WON"),
    "USD": ("$", "USD", "US$"),
}
# Quantities may be fractional (1.5 person-months) up to this many places.
QUANTITY_PLACES = 3


class Rounding(enum.StrEnum):
    """How the tax of one rate is rounded to the currency's unit."""

    DOWN = "down"  # 切り捨て, the usual choice in Japan
    HALF_UP = "half_up"  # 四捨五入
    UP = "up"  # 切り上げ


_DECIMAL_ROUNDING = {
    Rounding.DOWN: ROUND_DOWN,
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.UP: ROUND_UP,
}

# Consumption tax: 10 % standard, 8 % reduced (軽減税率), 0 % (exempt or
# export). Korean VAT: 10 % or 0 % (영세율).
TAX_RATES: tuple[Decimal, ...] = (Decimal(10), Decimal(8), ZERO)


def currency_exponent(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValidationError(
            _("Unsupported currency “%(currency)s”."), params={"currency": currency}
        ) from None


def quantize(amount: Decimal, currency: str, rounding: Rounding = Rounding.HALF_UP) -> Decimal:
    """Round an amount to the currency's smallest unit."""
    unit = Decimal(1).scaleb(-currency_exponent(currency))
    return amount.quantize(unit, rounding=_DECIMAL_ROUNDING[Rounding(rounding)])


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount: Decimal = ZERO


@dataclass(frozen=True)
class LineAmount:
    gross: Decimal  # quantity × unit price, in the currency's unit
    discount: Decimal
    net: Decimal  # gross − discount
    tax_rate: Decimal


@dataclass(frozen=True)
class RateTotal:
    """One row of the per-rate summary a qualified invoice must show."""

    rate: Decimal
    subtotal: Decimal  # sum of line net amounts at this rate
    discount: Decimal  # this rate's share of the document discount
    taxable: Decimal  # 対象額: subtotal − discount
    tax: Decimal  # 消費税額, rounded once


@dataclass(frozen=True)
class Totals:
    currency: str
    rounding: Rounding
    lines: list[LineAmount]
    rates: list[RateTotal]  # highest rate first, only rates that occur
    subtotal: Decimal
    discount: Decimal
    taxable: Decimal
    tax: Decimal
    total: Decimal
    errors: dict[str, list[str]] = field(default_factory=dict)


def _has_places(amount: Decimal, places: int) -> bool:
    """True when the amount needs no more than ``places`` decimal places."""
    if not amount.is_finite():
        return False
    normal = amount.normalize()
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)
    return exponent >= -places


def _check_lines(lines: Sequence[Line], currency: str) -> dict[str, list[str]]:
    places = currency_exponent(currency)
    errors: dict[str, list[str]] = {}

    def add(index: int, name: str, message: str) -> None:
        errors.setdefault(f"lines.{index}.{name}", []).append(message)

    if not lines:
        errors["lines"] = [_("A quote needs at least one line.")]
    for i, line in enumerate(lines):
        if not line.quantity.is_finite() or line.quantity <= 0:
            add(i, "quantity", _("The quantity must be more than zero."))
        elif not _has_places(line.quantity, QUANTITY_PLACES):
            add(i, "quantity", _("A quantity has at most three decimal places."))
        if not line.unit_price.is_finite() or line.unit_price < 0:
            add(i, "unit_price", _("The unit price cannot be negative."))
        elif not _has_places(line.unit_price, places):
            add(i, "unit_price", _no_places_message(currency))
        if line.tax_rate not in TAX_RATES:
            add(i, "tax_rate", _("Choose a tax rate of 10 %, 8 % or 0 %."))
        if not line.discount.is_finite() or line.discount < 0:
            add(i, "discount", _("A discount cannot be negative."))
        elif not _has_places(line.discount, places):
            add(i, "discount", _no_places_message(currency))
    return errors


def _no_places_message(currency: str) -> str:
    places = currency_exponent(currency)
    if places == 0:
        return _("%(currency)s amounts have no decimal places.") % {"currency": currency}
    return _("%(currency)s amounts have at most %(places)d decimal places.") % {
        "currency": currency,
        "places": places,
    }


def _allocate(discount: Decimal, subtotals: dict[Decimal, Decimal], currency: str):
    """Split the document discount over the rates in proportion to their subtotals.

    Each share is rounded down to the currency's unit and the units left over
    go to the largest remainders (ties to the higher rate), so the shares add
    up to the discount exactly and the result does not depend on line order.
    """
    total = sum(subtotals.values(), ZERO)
    shares = dict.fromkeys(subtotals, ZERO)
    if not discount or not total:
        return shares
    unit = Decimal(1).scaleb(-currency_exponent(currency))
    exact = {rate: discount * amount / total for rate, amount in subtotals.items()}
    for rate, value in exact.items():
        shares[rate] = quantize(value, currency, Rounding.DOWN)
    left = int((discount - sum(shares.values(), ZERO)) / unit)
    by_remainder = sorted(exact, key=lambda r: (exact[r] - shares[r], r), reverse=True)
    for rate in by_remainder[:left]:
        shares[rate] += unit
    return shares


def compute(
    lines: Sequence[Line],
    *,
    currency: str,
    discount: Decimal = ZERO,
    rounding: Rounding | str = Rounding.DOWN,
) -> Totals:
    """The amounts of a quote; raises one ``ValidationError`` keyed by field."""
    rounding = Rounding(rounding)
    errors = _check_lines(lines, currency)
    if not discount.is_finite() or discount < 0:
        errors.setdefault("discount", []).append(_("A discount cannot be negative."))
    elif not _has_places(discount, currency_exponent(currency)):
        errors.setdefault("discount", []).append(_no_places_message(currency))
    if errors:
        raise ValidationError(errors)

    amounts: list[LineAmount] = []
    for i, line in enumerate(lines):
        # A fractional quantity can give a fraction of a yen; the line amount
        # is rounded with the document's rounding mode.
        gross = quantize(line.quantity * line.unit_price, currency, rounding)
        if line.discount > gross:
            errors.setdefault(f"lines.{i}.discount", []).append(
                _("A discount cannot be larger than the line amount.")
            )
        amounts.append(
            LineAmount(
                gross=gross,
                discount=line.discount,
                net=gross - line.discount,
                tax_rate=line.tax_rate,
            )
        )
    subtotals: dict[Decimal, Decimal] = {}
    for amount in amounts:
        subtotals[amount.tax_rate] = subtotals.get(amount.tax_rate, ZERO) + amount.net
    subtotal = sum(subtotals.values(), ZERO)
    if not errors and discount > subtotal:
        errors.setdefault("discount", []).append(
            _("The discount cannot be larger than the subtotal.")
        )
    if errors:
        raise ValidationError(errors)

    shares = _allocate(discount, subtotals, currency)
    rates: list[RateTotal] = []
    for rate in sorted(subtotals, reverse=True):
        taxable = subtotals[rate] - shares[rate]
        tax = quantize(taxable * rate / HUNDRED, currency, rounding)
        rates.append(
            RateTotal(
                rate=rate,
                subtotal=subtotals[rate],
                discount=shares[rate],
                taxable=taxable,
                tax=tax,
            )
        )
    taxable_total = sum((r.taxable for r in rates), ZERO)
    tax_total = sum((r.tax for r in rates), ZERO)
    return Totals(
        currency=currency,
        rounding=rounding,
        lines=amounts,
        rates=rates,
        subtotal=subtotal,
        discount=discount,
        taxable=taxable_total,
        tax=tax_total,
        total=taxable_total + tax_total,
    )


# --- Typed amounts -------------------------------------------------------

_GROUPED = re.compile(r"\d{1,3}(,\d{3})+")
_PLAIN = re.compile(r"\d+")


def parse_amount(
    raw: str | int | Decimal | float, *, currency: str, places: int | None = None
) -> Decimal:
    """Read an amount as people type it: ``1,000円``, ``￥1,000``, ``１０００``.

    Accepted when unambiguous: full-width digits, thousands separators in
    groups of three, the currency's own sign or word before or after. Refused
    with a message: another currency's sign, a decimal point in a currency
    without minor units (``1.000`` could mean one or a thousand), misplaced
    separators, anything that is not a number. ``places`` overrides the
    currency's decimal places (quantities).
    """
    allowed = currency_exponent(currency) if places is None else places
    if isinstance(raw, bool):
        raw = str(raw)
    elif isinstance(raw, float):
        raw = Decimal(str(raw))
    if isinstance(raw, int | Decimal):
        # A number, not text: 1080.00 from a DecimalField is 1080.
        value = Decimal(raw)
        if not value.is_finite():
            raise ValidationError(_("This is not an amount."), code="invalid")
        if not _has_places(value, allowed):
            if places is None:
                raise ValidationError(_no_places_message(currency), code="places")
            raise ValidationError(
                _("Type at most %(places)d decimal places.") % {"places": allowed},
                code="places",
            )
        return value
    if not isinstance(raw, str):
        raise ValidationError(_("This is not an amount."), code="invalid")
    text = raw
    original = text
    text = unicodedata.normalize("NFKC", text).strip().upper()
    text = re.sub(r"\s+", "", text)
    # Full-width minus and the like become "-" under NFKC except U+2212.
    text = text.replace("\u2212", "-")
    for other, marks in _CURRENCY_MARKS.items():
        for mark in marks:
            if mark in text and other != currency:
                raise ValidationError(
                    _("“%(value)s” is not an amount in %(currency)s."),
                    code="currency",
                    params={"value": original, "currency": currency},
                )
    for mark in sorted(_CURRENCY_MARKS.get(currency, ()), key=len, reverse=True):
        if text.startswith(mark):
            text = text[len(mark) :]
        if text.endswith(mark):
            text = text[: -len(mark)]
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    whole, dot, fraction = text.partition(".")
    invalid = ValidationError(
        _("“%(value)s” is not an amount. Type digits, for example 1,000 or 1000."),
        code="invalid",
        params={"value": original},
    )
    if not whole or not (_PLAIN.fullmatch(whole) or _GROUPED.fullmatch(whole)):
        raise invalid
    if dot:
        if not fraction.isdigit() or not fraction.isascii():
            raise invalid
        if allowed == 0:
            if places is None:
                raise ValidationError(_no_places_message(currency), code="places")
            raise ValidationError(_("Type a whole number."), code="places")
        if len(fraction) > allowed:
            raise ValidationError(
                _("Type at most %(places)d decimal places.") % {"places": allowed},
                code="places",
            )
    try:
        value = Decimal(whole.replace(",", "") + (("." + fraction) if dot else ""))
    except InvalidOperation:
        raise invalid from None
    return -value if negative else value


def parse_quantity(raw: str | int | Decimal) -> Decimal:
    return parse_amount(raw, currency="JPY", places=QUANTITY_PLACES)


def format_amount(amount: Decimal, currency: str, *, symbol: bool = True) -> str:
    """``¥1,234,567``, ``₩1,234,567``, ``$1,234.50``."""
    places = currency_exponent(currency)
    text = f"{abs(amount):,.{places}f}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{CURRENCY_SYMBOLS[currency] if symbol else ''}{text}"


def format_rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}%"


# --- Qualified-invoice registration number (適格請求書発行事業者登録番号) ----

_REGISTRATION_STRIP = re.compile(r"[\s\-]")


def normalize_registration_number(raw: str) -> str:
    """``Ｔ１２３４-５６７８-…`` → ``T1234…``; leaves the rest to validation."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    return _REGISTRATION_STRIP.sub("", text)


def validate_registration_number(value: str, *, sole_proprietor: bool = False) -> None:
    """A registration number is "T" and 13 digits.

    For a corporation the digits are its 法人番号, whose check digit is
    verified. A sole proprietor is given a 13-digit number that is not a
    法人番号 and has no check digit we can verify, so for sellers marked as
    sole proprietors only the form is checked. The org setting says which,
    so that a typo in a company's number is still caught.
    """
    if not (len(value) == 14 and value[0] == "T" and value[1:].isascii() and value[1:].isdigit()):
        raise ValidationError(
            _("A registration number is “T” followed by 13 digits, e.g. T1234567890123."),
            code="format",
        )
    if not sole_proprietor:
        try:
            validate_corporate_number(value[1:])
        except ValidationError:
            raise ValidationError(
                _(
                    "The check digit of this registration number is wrong. "
                    "(A sole proprietor's number has none: mark the seller as a "
                    "sole proprietor.)"
                ),
                code="check_digit",
            ) from None


def is_corporate_registration_number(value: str) -> bool:
    """True when the 13 digits carry a valid 法人番号 check digit."""
    digits = value[1:] if value.startswith("T") else value
    return (
        len(digits) == 13
        and digits.isdigit()
        and int(digits[0]) == corporate_number_check_digit(digits[1:])
    )
