"""Fiscal periods: months, quarters and fiscal years from the org's fiscal year start.

A fiscal year is named by the calendar year it starts in: with an April start,
2026年度 runs from 1 April 2026 to 31 March 2027 (the Japanese convention, and
the one ``sales.selectors.fiscal_year_label`` uses). Every ``end`` is exclusive.
"""

import datetime
import re
from dataclasses import dataclass
from typing import Literal

from django.db.models import Case, ExpressionWrapper, IntegerField, Value, When
from django.db.models.functions import ExtractMonth, ExtractYear, Mod
from django.utils import formats, timezone
from django.utils.translation import gettext as _

Kind = Literal["month", "quarter", "year"]
KINDS: tuple[Kind, ...] = ("month", "quarter", "year")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def fiscal_start_month() -> int:
    """The org's first month of the fiscal year (1-12; April in most Japanese firms)."""
    from kizuna.core.models import OrgSettings

    return OrgSettings.get().fiscal_year_start_month


def add_months(day: datetime.date, n: int) -> datetime.date:
    """The first of the month ``n`` months after ``day``'s month."""
    m = day.month - 1 + n
    return datetime.date(day.year + m // 12, m % 12 + 1, 1)


def _check_kind(kind: str) -> None:
    if kind not in _MONTHS:
        raise ValueError(f"unknown period kind {kind!r}")


def period_bounds(
    kind: str, day: datetime.date, *, start_month: int | None = None
) -> tuple[datetime.date, datetime.date]:
    """``(start, end)`` of the month, fiscal quarter or fiscal year holding ``day``;
    ``end`` is exclusive."""
    _check_kind(kind)
    start_month = start_month or fiscal_start_month()
    month = day.replace(day=1)
    if kind == "month":
        return month, add_months(month, 1)
    offset = (day.month - start_month) % 12
    fy = add_months(month, -offset)
    if kind == "year":
        return fy, add_months(fy, 12)
    quarter = add_months(fy, (offset // 3) * 3)
    return quarter, add_months(quarter, 3)


@dataclass(frozen=True)
class FiscalPeriod:
    kind: str
    start: datetime.date
    end: datetime.date  # exclusive
    start_month: int

    @property
    def fiscal_year(self) -> int:
        return self.start.year if self.start.month >= self.start_month else self.start.year - 1

    @property
    def quarter(self) -> int:
        """1-4 within the fiscal year."""
        return (self.start.month - self.start_month) % 12 // 3 + 1

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    @property
    def key(self) -> str:
        """A stable text form for query strings: ``2026-04``, ``FY2026-Q2``, ``FY2026``."""
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"FY{self.fiscal_year}-Q{self.quarter}"
        return f"FY{self.fiscal_year}"

    @property
    def label(self) -> str:
        """In the active language: 2026年度 Q2 / 2026 회계연도 2분기 / FY2026 Q2."""
        return period_label(self.kind, self.start, start_month=self.start_month)

    def __str__(self) -> str:
        return self.label

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day < self.end

    def shifted(self, n: int) -> "FiscalPeriod":
        """The period ``n`` periods of the same kind later (earlier when negative)."""
        start = add_months(self.start, n * _MONTHS[self.kind])
        return FiscalPeriod(
            self.kind, start, add_months(start, _MONTHS[self.kind]), self.start_month
        )

    def previous(self) -> "FiscalPeriod":
        return self.shifted(-1)

    def next(self) -> "FiscalPeriod":
        return self.shifted(1)

    def aware_bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Midnight at start and end in the current time zone, for datetime columns
        (compared directly they use the index; ``__date`` would not)."""
        return day_start(self.start), day_start(self.end)


@dataclass(frozen=True)
class Span:
    """Any stretch of days (``end`` exclusive), e.g. this week."""

    start: datetime.date
    end: datetime.date
    label: str = ""


def week_for(day: datetime.date | None = None) -> Span:
    """Monday to Sunday around ``day`` (today)."""
    day = day or timezone.localdate()
    start = day - datetime.timedelta(days=day.weekday())
    return Span(start, start + datetime.timedelta(days=7))


def years_before(day: datetime.date, n: int) -> datetime.date:
    """The same day ``n`` years earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - n)
    except ValueError:
        return day.replace(year=day.year - n, day=28)


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def period_for(
    kind: str, day: datetime.date | None = None, *, start_month: int | None = None
) -> FiscalPeriod:
    """The period of ``kind`` holding ``day`` (today in the current time zone)."""
    start_month = start_month or fiscal_start_month()
    start, end = period_bounds(kind, day or timezone.localdate(), start_month=start_month)
    return FiscalPeriod(kind, start, end, start_month)


def periods_between(
    kind: str, start: datetime.date, end: datetime.date, *, start_month: int | None = None
) -> list[FiscalPeriod]:
    """The periods of ``kind`` overlapping ``[start, end)``, oldest first."""
    start_month = start_month or fiscal_start_month()
    result = []
    period = period_for(kind, start, start_month=start_month)
    while period.start < end:
        result.append(period)
        period = period.next()
    return result


def last_periods(
    kind: str, n: int, day: datetime.date | None = None, *, start_month: int | None = None
) -> list[FiscalPeriod]:
    """The ``n`` periods of ``kind`` ending with the one holding ``day``, oldest first."""
    current = period_for(kind, day, start_month=start_month)
    return [current.shifted(i) for i in range(-n + 1, 1)]


def period_label(kind: str, start: datetime.date, *, start_month: int | None = None) -> str:
    _check_kind(kind)
    if kind == "month":
        return formats.date_format(start, "YEAR_MONTH_FORMAT")
    start_month = start_month or fiscal_start_month()
    period = FiscalPeriod(kind, start, start, start_month)
    if kind == "year":
        return _("FY%(year)s") % {"year": period.fiscal_year}
    return _("FY%(year)s Q%(quarter)s") % {
        "year": period.fiscal_year,
        "quarter": period.quarter,
    }


_KEY = re.compile(r"^(?:(\d{4})-(\d{2})|FY(\d{4})(?:-Q([1-4]))?)$")


def parse_period(text: str | None, *, start_month: int | None = None) -> FiscalPeriod | None:
    """Read a ``FiscalPeriod.key`` back (``2026-04``, ``FY2026-Q2``, ``FY2026``);
    anything else is None."""
    match = _KEY.match((text or "").strip().upper())
    if not match:
        return None
    start_month = start_month or fiscal_start_month()
    year, month, fy, quarter = match.groups()
    try:
        if year:
            return period_for("month", datetime.date(int(year), int(month), 1))
        start = datetime.date(int(fy), start_month, 1)
    except ValueError:
        return None
    if quarter:
        start = add_months(start, (int(quarter) - 1) * 3)
        return FiscalPeriod("quarter", start, add_months(start, 3), start_month)
    return FiscalPeriod("year", start, add_months(start, 12), start_month)


# SQL expressions, for grouping rows by fiscal year or quarter in the database.


def fiscal_year_expression(field: str, *, start_month: int | None = None):
    """The fiscal year of a date (or datetime, in the current time zone) column."""
    start_month = start_month or fiscal_start_month()
    year = ExtractYear(field)
    if start_month == 1:
        return year
    return Case(
        When(**{f"{field}__month__lt": start_month}, then=year - 1),
        default=year,
        output_field=IntegerField(),
    )


def fiscal_quarter_expression(field: str, *, start_month: int | None = None):
    """The fiscal quarter (1-4) of a date (or datetime) column."""
    start_month = start_month or fiscal_start_month()
    shifted = Mod(ExtractMonth(field) + Value(12 - start_month), Value(12))
    # Integer division on both databases: (m - start) mod 12, minus its rest mod 3, / 3.
    return ExpressionWrapper(
        (shifted - Mod(shifted, Value(3))) / Value(3) + Value(1), output_field=IntegerField()
    )


__all__ = [
    "KINDS",
    "Span",
    "week_for",
    "years_before",
    "FiscalPeriod",
    "add_months",
    "day_start",
    "fiscal_quarter_expression",
    "fiscal_start_month",
    "fiscal_year_expression",
    "last_periods",
    "parse_period",
    "period_bounds",
    "period_for",
    "period_label",
    "periods_between",
]
