import datetime

import pytest
from django.utils import translation

from kizuna.analytics.periods import (
    fiscal_quarter_expression,
    fiscal_year_expression,
    last_periods,
    parse_period,
    period_bounds,
    period_for,
    periods_between,
)
from kizuna.core.models import OrgSettings

D = datetime.date


@pytest.mark.parametrize(
    "kind, day, start, end",
    [
        ("month", D(2026, 7, 15), D(2026, 7, 1), D(2026, 8, 1)),
        ("quarter", D(2026, 7, 15), D(2026, 7, 1), D(2026, 10, 1)),
        ("quarter", D(2027, 3, 31), D(2027, 1, 1), D(2027, 4, 1)),
        ("year", D(2027, 3, 31), D(2026, 4, 1), D(2027, 4, 1)),
        ("year", D(2026, 4, 1), D(2026, 4, 1), D(2027, 4, 1)),
    ],
)
def test_bounds_with_an_april_start(kind, day, start, end):
    assert period_bounds(kind, day, start_month=4) == (start, end)


def test_bounds_with_a_calendar_year_and_an_october_start():
    assert period_bounds("year", D(2026, 5, 2), start_month=1) == (D(2026, 1, 1), D(2027, 1, 1))
    assert period_bounds("quarter", D(2026, 11, 2), start_month=10) == (
        D(2026, 10, 1),
        D(2027, 1, 1),
    )
    assert period_bounds("quarter", D(2026, 9, 30), start_month=10) == (
        D(2026, 7, 1),
        D(2026, 10, 1),
    )


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        period_bounds("week", D(2026, 1, 1), start_month=4)


def test_labels_in_three_languages():
    q = period_for("quarter", D(2026, 8, 1), start_month=4)
    assert (q.fiscal_year, q.quarter, q.key) == (2026, 2, "FY2026-Q2")
    with translation.override("en"):
        assert q.label == "FY2026 Q2"
        assert period_for("year", D(2027, 2, 1), start_month=4).label == "FY2026"
    with translation.override("ja"):
        assert period_for("month", D(2026, 8, 1), start_month=4).label == "2026年8月"


def test_keys_read_back_and_neighbours():
    q = period_for("quarter", D(2027, 2, 1), start_month=4)
    assert q.key == "FY2026-Q4"
    assert parse_period("FY2026-Q4", start_month=4) == q
    assert parse_period("fy2026", start_month=4).start == D(2026, 4, 1)
    assert parse_period("2026-13", start_month=4) is None
    assert parse_period("<script>", start_month=4) is None
    assert q.next().key == "FY2027-Q1"
    assert q.previous().start == D(2026, 10, 1)
    months = last_periods("month", 3, D(2026, 1, 20), start_month=4)
    assert [m.key for m in months] == ["2025-11", "2025-12", "2026-01"]
    assert len(periods_between("quarter", D(2026, 4, 1), D(2027, 4, 1), start_month=4)) == 4


def test_default_start_comes_from_org_settings(db):
    settings_row = OrgSettings.get()
    settings_row.fiscal_year_start_month = 10
    settings_row.save()
    assert period_for("year", D(2026, 9, 1)).start == D(2025, 10, 1)


def test_sql_expressions_group_by_fiscal_year_and_quarter(db):
    from kizuna.customers.models import Lead
    from tests.factories import LeadFactory

    days = [D(2026, 3, 31), D(2026, 4, 1), D(2026, 12, 31), D(2027, 1, 1)]
    for day in days:
        lead = LeadFactory()
        noon = datetime.datetime(day.year, day.month, day.day, 3, tzinfo=datetime.UTC)
        Lead.objects.filter(pk=lead.pk).update(created_at=noon)  # noon in Tokyo
    rows = list(
        Lead.objects.annotate(
            fy=fiscal_year_expression("created_at", start_month=4),
            fq=fiscal_quarter_expression("created_at", start_month=4),
        )
        .order_by("created_at")
        .values_list("fy", "fq")
    )
    assert rows == [(2025, 4), (2026, 1), (2026, 3), (2026, 4)]
