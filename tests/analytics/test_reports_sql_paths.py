"""The SQL a report compiles to: each path gives the rows the plain join gives."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.analytics import reports
from kizuna.customers.services import company_create, contact_create

pytestmark = pytest.mark.django_db

WON_BY_INDUSTRY_AND_QUARTER = {
    "object": "deal",
    "filters": [{"field": "status", "op": "in", "value": ["won"]}],
    "group_by": [{"field": "company.industry"}, {"field": "closed_at", "period": "quarter"}],
    "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
}
EXPECTED = [
    ("Manufacturing", "FY2025 Q1", "JPY", 2, Decimal("10000000")),
    ("Manufacturing", "FY2025 Q2", "JPY", 1, Decimal("3000000")),
    ("Retail", "FY2025 Q1", "JPY", 1, Decimal("500000")),
    ("Retail", "FY2025 Q1", "KRW", 1, Decimal("20000000")),
]


def run_capturing(spec, user):
    with CaptureQueriesContext(connection) as ctx:
        result = reports.run(reports.clean_spec(spec), user=user)
    assert not result.error
    aggregate = [q["sql"] for q in ctx.captured_queries if "GROUP BY" in q["sql"]]
    assert len(aggregate) == 1
    return result, aggregate[0], [q["sql"] for q in ctx.captured_queries]


def table(result):
    return [(*r.labels, r.currency, *r.values) for r in result.rows]


def test_a_related_field_is_looked_up_by_key_on_sqlite_and_joined_on_postgresql(org, sales_data):
    result, sql, _queries = run_capturing(WON_BY_INDUSTRY_AND_QUARTER, org.admin)
    assert table(result) == EXPECTED
    if connection.vendor == "sqlite":
        # The deals drive the query; each one's company is read by its key.
        assert "JOIN" not in sql
    else:
        assert "JOIN" in sql


def test_a_filter_on_the_related_record_keeps_the_join(org, sales_data):
    spec = {
        **WON_BY_INDUSTRY_AND_QUARTER,
        "filters": [
            *WON_BY_INDUSTRY_AND_QUARTER["filters"],
            {"field": "company.industry", "op": "in", "value": ["manufacturing", "retail"]},
        ],
    }
    result, sql, _queries = run_capturing(spec, org.admin)
    assert table(result) == EXPECTED
    assert "JOIN" in sql
    retail = {
        **spec,
        "filters": [*spec["filters"][:1], {**spec["filters"][1], "value": ["retail"]}],
    }
    assert table(run_capturing(retail, org.admin)[0]) == EXPECTED[2:]


def test_a_rep_sees_the_same_rows_through_either_path(org, sales_data):
    by_key = run_capturing(WON_BY_INDUSTRY_AND_QUARTER, org.rep)[0]
    joined = {
        **WON_BY_INDUSTRY_AND_QUARTER,
        "filters": [
            *WON_BY_INDUSTRY_AND_QUARTER["filters"],
            {"field": "company.industry", "op": "not_empty", "value": None},
        ],
    }
    assert table(by_key) == table(run_capturing(joined, org.rep)[0])
    # m1, m2, r1 and k1 are the rep's team's; o1 (Osaka) is not.
    assert table(by_key) == [
        ("Manufacturing", "FY2025 Q1", "JPY", 1, Decimal("1000000")),
        ("Manufacturing", "FY2025 Q2", "JPY", 1, Decimal("3000000")),
        ("Retail", "FY2025 Q1", "JPY", 1, Decimal("500000")),
        ("Retail", "FY2025 Q1", "KRW", 1, Decimal("20000000")),
    ]


def test_a_record_without_the_related_record_is_in_the_none_group(org):
    company = company_create(actor=org.rep, name="株式会社A", industry="it")
    contact_create(actor=org.rep, family_name="山田", company=company)
    contact_create(actor=org.rep, family_name="佐藤", company=company)
    contact_create(actor=org.rep, family_name="田中")
    spec = {"object": "contact", "group_by": [{"field": "company.industry"}]}
    result, _sql, _queries = run_capturing(spec, org.rep)
    assert [(r.labels[0], r.values[0]) for r in result.rows] == [
        ("IT and software", 2),
        ("(none)", 1),
    ]


def test_a_date_grouping_leads_the_query_but_not_the_rows(org, sales_data):
    spec = {
        "object": "deal",
        "filters": [{"field": "status", "op": "in", "value": ["won"]}],
        "group_by": [{"field": "currency"}, {"field": "closed_at", "period": "month"}],
    }
    result, sql, queries = run_capturing(spec, org.admin)
    assert [(*r.labels, r.values[0]) for r in result.rows] == [
        ("JPY", "2025-04", 2),
        ("JPY", "2025-05", 1),
        ("JPY", "2025-07", 1),
        ("KRW", "2025-06", 1),
    ]
    # The month is the first key of the GROUP BY (the second column).
    group_by = sql.rsplit("GROUP BY", 1)[1].strip()
    assert group_by.startswith(("2,", "CASE")), group_by
    # The range of the months: one MIN and one MAX, each alone in its query.
    bounds = [q for q in queries if "MIN(" in q or "MAX(" in q]
    assert len(bounds) == 2
    assert not any("MIN(" in q and "MAX(" in q for q in bounds)
