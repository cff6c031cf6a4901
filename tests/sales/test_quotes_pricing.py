"""Quote amounts and tax, checked against totals computed by hand."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from kizuna.sales.quotes.pricing import (
    Line,
    Rounding,
    compute,
    format_amount,
    normalize_registration_number,
    parse_amount,
    parse_quantity,
    validate_registration_number,
)


def line(quantity, price, rate, discount="0"):
    return Line(quantity=D(quantity), unit_price=D(price), tax_rate=D(rate), discount=D(discount))


# Each case: lines, currency, document discount, rounding,
# expected [(rate, 対象額, 消費税額)], expected total.
CASES = {
    "one line": (
        [line(2, 1000, 10)],
        "JPY", "0", Rounding.DOWN,
        [(10, 2000, 200)], 2200,
    ),
    # Per line the tax would be 10 + 10 + 10 = 30 and 98 + 98 = 196; the
    # rules round once per rate per document: 31.5 → 31 and 197.44 → 197.
    "rounded once per rate, not per line": (
        [line(1, 105, 10), line(1, 105, 10), line(1, 105, 10), line(1, 1234, 8),
         line(1, 1234, 8)],
        "JPY", "0", Rounding.DOWN,
        [(10, 315, 31), (8, 2468, 197)], 315 + 31 + 2468 + 197,
    ),
    "half up": (
        [line(3, 105, 10), line(2, 1234, 8)],
        "JPY", "0", Rounding.HALF_UP,
        [(10, 315, 32), (8, 2468, 197)], 315 + 32 + 2468 + 197,
    ),
    "up": (
        [line(3, 105, 10), line(2, 1234, 8)],
        "JPY", "0", Rounding.UP,
        [(10, 315, 32), (8, 2468, 198)], 315 + 32 + 2468 + 198,
    ),
    # 1,001 over 30,000 : 10,000 is 750.75 : 250.25; the odd yen goes to the
    # larger remainder (10 %): 751 and 250.
    "document discount spread over the rates": (
        [line(3, 10000, 10), line(10, 1000, 8)],
        "JPY", "1001", Rounding.DOWN,
        [(10, 29249, 2924), (8, 9750, 780)], 29249 + 2924 + 9750 + 780,
    ),
    "line discount": (
        [line(10, 1500, 10, discount=500)],
        "JPY", "0", Rounding.DOWN,
        [(10, 14500, 1450)], 15950,
    ),
    "zero rate next to 10 %": (
        [line(1, 50000, 0), line(1, 1000, 10)],
        "JPY", "0", Rounding.DOWN,
        [(10, 1000, 100), (0, 50000, 0)], 51100,
    ),
    # 1.5 × 333 = 499.5 → 499 (down); 49.9 → 49.
    "fractional quantity": (
        [line("1.5", 333, 10)],
        "JPY", "0", Rounding.DOWN,
        [(10, 499, 49)], 548,
    ),
    # 부가세 10 %: 37,035 × 10 % = 3,703.5 → 3,703.
    "Korean won": (
        [line(3, 12345, 10)],
        "KRW", "0", Rounding.DOWN,
        [(10, 37035, 3703)], 40738,
    ),
    "US dollars keep cents": (
        [line(3, "19.99", 10)],
        "USD", "0", Rounding.DOWN,
        [(10, D("59.97"), D("5.99"))], D("65.96"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_totals(case):
    lines, currency, discount, rounding, rates, total = case
    totals = compute(lines, currency=currency, discount=D(discount), rounding=rounding)
    assert [(r.rate, r.taxable, r.tax) for r in totals.rates] == [
        (D(rate), D(taxable), D(tax)) for rate, taxable, tax in rates
    ]
    assert totals.total == D(total)
    assert totals.taxable + totals.tax == totals.total
    assert sum(r.discount for r in totals.rates) == D(discount)


def test_default_rounding_is_down():
    assert compute([line(1, 105, 10)], currency="JPY").tax == D(10)


def test_allocation_does_not_depend_on_line_order():
    lines = [line(1, 333, 10), line(1, 333, 8), line(1, 334, 0)]
    forward = compute(lines, currency="JPY", discount=D(100))
    backward = compute(lines[::-1], currency="JPY", discount=D(100))
    assert forward.rates == backward.rates


BAD = {
    "no lines": ([], "0", "lines"),
    "zero quantity": ([line(0, 100, 10)], "0", "lines.0.quantity"),
    "yen with sen": ([line(1, "100.5", 10)], "0", "lines.0.unit_price"),
    "unknown rate": ([line(1, 100, 5)], "0", "lines.0.tax_rate"),
    "negative price": ([line(1, -100, 10)], "0", "lines.0.unit_price"),
    "line discount above amount": ([line(1, 100, 10, discount=101)], "0", "lines.0.discount"),
    "discount above subtotal": ([line(1, 100, 10)], "101", "discount"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_lines_are_refused_by_field(case):
    lines, discount, key = case
    with pytest.raises(ValidationError) as exc:
        compute(lines, currency="JPY", discount=D(discount))
    assert key in exc.value.message_dict


@pytest.mark.parametrize(
    "raw, currency, expected",
    [
        ("1000", "JPY", 1000),
        ("1,000", "JPY", 1000),
        ("1,000円", "JPY", 1000),
        ("￥1,000", "JPY", 1000),
        ("¥ 1,000", "JPY", 1000),
        ("１０００", "JPY", 1000),
        ("１，２３４，５６７円", "JPY", 1234567),
        ("JPY 1,000", "JPY", 1000),
        ("₩1,000", "KRW", 1000),
        ("12,000원", "KRW", 12000),
        ("$1,234.50", "USD", D("1234.50")),
        ("1234.5", "USD", D("1234.5")),
        ("-500", "JPY", -500),
    ],
)
def test_amounts_people_type(raw, currency, expected):
    assert parse_amount(raw, currency=currency) == D(expected)


@pytest.mark.parametrize(
    "raw, currency, code",
    [
        ("1.000", "JPY", "places"),  # one, or a thousand?
        ("1,00", "JPY", "invalid"),
        ("10,00,000", "JPY", "invalid"),
        ("$100", "JPY", "currency"),
        ("1,000원", "JPY", "currency"),
        ("1,000円", "KRW", "currency"),
        ("1.234", "USD", "places"),
        ("1万", "JPY", "invalid"),
        ("abc", "JPY", "invalid"),
        ("", "JPY", "invalid"),
    ],
)
def test_ambiguous_amounts_are_refused(raw, currency, code):
    with pytest.raises(ValidationError) as exc:
        parse_amount(raw, currency=currency)
    assert exc.value.code == code
    assert exc.value.messages[0]


def test_quantities_allow_three_places():
    assert parse_quantity("１.５") == D("1.5")
    with pytest.raises(ValidationError):
        parse_quantity("1.2345")


@pytest.mark.parametrize(
    "amount, currency, text",
    [
        (D(1234567), "JPY", "¥1,234,567"),
        (D(1234567), "KRW", "₩1,234,567"),
        (D("1234.5"), "USD", "$1,234.50"),
        (D(-500), "JPY", "-¥500"),
    ],
)
def test_format_amount(amount, currency, text):
    assert format_amount(amount, currency) == text


# 7000012050002 is the 法人番号 of the National Tax Agency.
def test_registration_number_of_a_corporation():
    assert normalize_registration_number(" ｔ７０００-０１２０-５０００２ ") == "T7000012050002"
    validate_registration_number("T7000012050002")


@pytest.mark.parametrize(
    "value", ["7000012050002", "T700001205000", "T70000120500023", "X7000012050002"]
)
def test_registration_number_form(value):
    with pytest.raises(ValidationError) as exc:
        validate_registration_number(value, sole_proprietor=True)
    assert exc.value.code == "format"


def test_registration_number_check_digit_unless_sole_proprietor():
    with pytest.raises(ValidationError) as exc:
        validate_registration_number("T8000012050002")
    assert exc.value.code == "check_digit"
    validate_registration_number("T8000012050002", sole_proprietor=True)
