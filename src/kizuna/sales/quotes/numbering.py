"""Quote number patterns such as ``Q-{year}-{seq:04d}``.

The pattern is configurable per org; only ``{year}``, ``{yy}`` and ``{seq}``
(with an optional zero-padded width, ``{seq:04d}``) may appear, so that a
pattern can never reach into Python objects or raise at issue time.
Numbering restarts every year, so the year must be part of the number. The
counter itself lives in ``QuoteSeries`` and is taken under a row lock in the
transaction that writes the quote, so numbers have no gaps.
"""

import re
import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_PATTERN = "Q-{year}-{seq:04d}"
_FIELDS = {"year", "yy", "seq"}
_SEQ_SPEC = re.compile(r"0?[1-9]d|d|")


def validate_pattern(pattern: str) -> None:
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        parts = None
    fields = [(name, spec, conv) for _text, name, spec, conv in parts or [] if name is not None]
    valid = (
        parts is not None
        and len(pattern) <= 40
        and all(name in _FIELDS and not conv for name, _spec, conv in fields)
        and all(_SEQ_SPEC.fullmatch(spec or "") for name, spec, _ in fields if name == "seq")
        and all(not spec for name, spec, _ in fields if name != "seq")
        and any(name == "seq" for name, _spec, _conv in fields)
        and any(name in ("year", "yy") for name, _spec, _conv in fields)
    )
    if not valid:
        raise ValidationError(
            _(
                "A number pattern uses {year} or {yy}, and {seq} (e.g. {seq:04d} for four "
                "digits): numbers restart every year, so both must be in it."
            ),
            code="pattern",
        )


def format_number(pattern: str, *, year: int, seq: int) -> str:
    validate_pattern(pattern)
    return pattern.format(year=year, yy=f"{year % 100:02d}", seq=seq)
