import pytest
from django.core.exceptions import ValidationError

from kizuna.sales.quotes.numbering import DEFAULT_PATTERN, format_number, validate_pattern


@pytest.mark.parametrize(
    "pattern, expected",
    [
        (DEFAULT_PATTERN, "Q-2026-0001"),
        ("見積{yy}-{seq:05d}", "見積26-00001"),
        ("{year}{seq}", "20261"),
    ],
)
def test_format(pattern, expected):
    assert format_number(pattern, year=2026, seq=1) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "Q-{year}",
        "Q-{seq:04d}",
        "{seq.__class__}",
        "{seq!r}",
        "{other}{seq}",
        "{seq:>10}",
        "{seq",
        "",
    ],
)
def test_bad_patterns(pattern):
    with pytest.raises(ValidationError):
        validate_pattern(pattern)
