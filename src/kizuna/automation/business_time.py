"""Business days and business hours on the organisation's calendar.

Working hours and working weekdays come from ``BusinessCalendar``; days off
are the public holidays of its country (the ``holidays`` package: Japanese
振替休日 and 国民の休日, Korean 설날/추석 and 대체공휴일 included) plus the
company's own days off. Times are aware datetimes; working hours are read in
the calendar's time zone.
"""

import datetime
import functools
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import holidays
from django.utils import timezone

from kizuna.automation.models import BusinessCalendar, CompanyDayOff

# No business day in ten years means a broken calendar, not a long wait.
_MAX_DAYS = 3660


@functools.lru_cache(maxsize=64)
def public_holidays(country: str, year: int) -> dict[datetime.date, str]:
    """The public holidays of ``country`` in ``year``, named in its language."""
    language = {"JP": "ja", "KR": "ko"}.get(country)
    return dict(holidays.country_holidays(country, years=year, language=language).items())


@dataclass(frozen=True)
class Calendar:
    tz: datetime.tzinfo
    work_start: datetime.time
    work_end: datetime.time
    workdays: frozenset[int]
    country: str
    days_off: frozenset[datetime.date]

    def is_business_day(self, day: datetime.date) -> bool:
        return (
            day.isoweekday() in self.workdays
            and day not in self.days_off
            and day not in public_holidays(self.country, day.year)
        )

    def window(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        return (
            datetime.datetime.combine(day, self.work_start, self.tz),
            datetime.datetime.combine(day, self.work_end, self.tz),
        )


def load_calendar() -> Calendar:
    """The organisation's calendar (the defaults until an admin saves one)."""
    row = BusinessCalendar.objects.order_by("pk").first() or BusinessCalendar()
    return Calendar(
        tz=zoneinfo.ZoneInfo(row.time_zone),
        work_start=row.work_start,
        work_end=row.work_end,
        workdays=frozenset(int(d) for d in row.workdays),
        country=row.country,
        days_off=frozenset(CompanyDayOff.objects.values_list("date", flat=True)),
    )


def _aware(moment: datetime.datetime, name: str) -> None:
    if timezone.is_naive(moment):
        raise ValueError(f"{name} must be an aware datetime")


def is_business_day(day: datetime.date, *, calendar: Calendar | None = None) -> bool:
    return (calendar or load_calendar()).is_business_day(day)


def add_business_days(
    day: datetime.date, days: int, *, calendar: Calendar | None = None
) -> datetime.date:
    """The ``days``-th business day after ``day`` (before it when negative)."""
    cal = calendar or load_calendar()
    step = datetime.timedelta(days=1 if days >= 0 else -1)
    left = abs(days)
    for _ in range(_MAX_DAYS * max(left, 1)):
        if not left:
            return day
        day += step
        if cal.is_business_day(day):
            left -= 1
    raise ValueError("the business calendar has no working days")


def add_business_hours(
    start: datetime.datetime,
    hours: float | Decimal | int,
    *,
    calendar: Calendar | None = None,
) -> datetime.datetime:
    """The moment ``hours`` working hours after ``start``.

    Time outside working hours does not count: a lead that arrives at 23:10
    on Friday with a 48-hour limit is due 48 working hours after Monday 09:00.
    """
    _aware(start, "start")
    if hours < 0:
        raise ValueError("hours must not be negative")
    cal = calendar or load_calendar()
    remaining = datetime.timedelta(hours=float(hours))
    moment = start.astimezone(cal.tz)
    day = moment.date()
    for _ in range(_MAX_DAYS + int(remaining.total_seconds() // 3600)):
        if cal.is_business_day(day):
            opens, closes = cal.window(day)
            moment = max(moment, opens)
            if moment < closes:
                if remaining <= closes - moment:
                    return moment + remaining
                remaining -= closes - moment
        day += datetime.timedelta(days=1)
        moment = datetime.datetime.combine(day, datetime.time(0), cal.tz)
    raise ValueError("the business calendar has no working days")


def business_hours_between(
    start: datetime.datetime, end: datetime.datetime, *, calendar: Calendar | None = None
) -> float:
    """Working hours from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    _aware(start, "start")
    _aware(end, "end")
    if end < start:
        return -business_hours_between(end, start, calendar=calendar)
    cal = calendar or load_calendar()
    total = datetime.timedelta()
    day = start.astimezone(cal.tz).date()
    last = end.astimezone(cal.tz).date()
    while day <= last:
        if cal.is_business_day(day):
            opens, closes = cal.window(day)
            lo, hi = max(start, opens), min(end, closes)
            if hi > lo:
                total += hi - lo
        day += datetime.timedelta(days=1)
    return total.total_seconds() / 3600


def business_hours_since(start: datetime.datetime, *, calendar: Calendar | None = None) -> float:
    """Working hours from ``start`` until now (an SLA clock)."""
    return business_hours_between(start, timezone.now(), calendar=calendar)
