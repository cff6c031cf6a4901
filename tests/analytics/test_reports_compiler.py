"""The report compiler: every object, grouping kinds, measures, filters and access."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.activities.services import activity_create
from kizuna.analytics import reports
from kizuna.core.models import CustomFieldDefinition, OrgSettings
from kizuna.customers.services import company_create, contact_create, lead_create
from kizuna.sales.models import Deal

pytestmark = pytest.mark.django_db

WON_BY_INDUSTRY_AND_QUARTER = {
    "object": "deal",
    "filters": [{"field": "status", "op": "in", "value": ["won"]}],
    "group_by": [{"field": "company.industry"}, {"field": "closed_at", "period": "quarter"}],
    "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
    "chart": "stacked_bar",
}


def run(spec, user, **kwargs):
    return reports.run(reports.clean_spec(spec), user=user, **kwargs)


def table(result):
    return [(*r.labels, r.currency, *r.values) for r in result.rows]


def test_won_amount_by_industry_and_fiscal_quarter_per_currency(org, sales_data):
    result = run(WON_BY_INDUSTRY_AND_QUARTER, org.admin)
    assert not result.error
    assert [c.label for c in result.columns] == [
        "Company: industry",
        "Closed at (by quarter)",
        "Currency",
        "Count",
        "Sum of amount",
    ]
    assert table(result) == [
        ("Manufacturing", "FY2025 Q1", "JPY", 2, Decimal("10000000")),
        ("Manufacturing", "FY2025 Q2", "JPY", 1, Decimal("3000000")),
        ("Retail", "FY2025 Q1", "JPY", 1, Decimal("500000")),
        ("Retail", "FY2025 Q1", "KRW", 1, Decimal("20000000")),
    ]
    # Totals per currency: yen and won are never added up.
    assert [(t.currency, *t.values) for t in result.totals] == [
        ("JPY", 4, Decimal("13500000")),
        ("KRW", 1, Decimal("20000000")),
    ]


def test_a_rep_never_sees_another_teams_records(org, sales_data):
    result = run(WON_BY_INDUSTRY_AND_QUARTER, org.rep)
    manufacturing_q1 = [r for r in result.rows if r.labels == ["Manufacturing", "FY2025 Q1"]]
    assert [(r.values) for r in manufacturing_q1] == [[1, Decimal("1000000")]]  # not o1
    outsider = run(WON_BY_INDUSTRY_AND_QUARTER, org.outsider)
    assert table(outsider) == [("Manufacturing", "FY2025 Q1", "JPY", 1, Decimal("9000000"))]


def test_the_fiscal_year_follows_the_org_setting(org, sales_data):
    spec = {
        **WON_BY_INDUSTRY_AND_QUARTER,
        "group_by": [{"field": "closed_at", "period": "quarter"}],
    }
    settings = OrgSettings.get()
    settings.fiscal_year_start_month = 1
    settings.save()
    labels = [r.labels[0] for r in run(spec, org.admin).rows]
    assert labels == ["FY2025 Q2", "FY2025 Q2", "FY2025 Q3"]  # Apr-Jun, then Jul
    fy = {**spec, "group_by": [{"field": "closed_at", "period": "fiscal_year"}]}
    assert [r.labels for r in run(fy, org.admin).rows] == [["FY2025"], ["FY2025"]]
    month = {**spec, "group_by": [{"field": "closed_at", "period": "month"}]}
    assert [(r.labels[0], r.currency) for r in run(month, org.admin).rows] == [
        ("2025-04", "JPY"),
        ("2025-05", "JPY"),
        ("2025-06", "KRW"),
        ("2025-07", "JPY"),
    ]


def test_months_are_counted_in_the_users_time_zone(org, sales_data):
    from django.utils import timezone

    from tests.analytics.conftest import won

    late = Deal.objects.get(name="m2")
    # 2025-06-30 23:30 in Tokyo is still June there (14:30 UTC).
    won(late, timezone.make_aware(datetime.datetime(2025, 6, 30, 23, 30)))
    spec = {
        "object": "deal",
        "filters": [{"field": "name", "op": "eq", "value": "m2"}],
        "group_by": [{"field": "closed_at", "period": "month"}],
    }
    assert [r.labels for r in run(spec, org.admin).rows] == [["2025-06"]]


@time_machine.travel(datetime.datetime(2025, 8, 10, 3, 0, tzinfo=datetime.UTC), tick=False)
def test_relative_and_absolute_date_filters(org, sales_data):
    def names(filters):
        result = run({"object": "deal", "filters": filters}, org.admin)
        return result.totals[0].values[0] if result.totals else 0

    # Fiscal Q2 (Jul-Sep) is this quarter on 2025-08-10: m2 only.
    assert names([{"field": "closed_at", "op": "period", "value": "this_quarter"}]) == 1
    assert names([{"field": "closed_at", "op": "period", "value": "last_quarter"}]) == 4
    assert names([{"field": "closed_at", "op": "period", "value": "this_fiscal_year"}]) == 5
    assert names([{"field": "closed_at", "op": "period", "value": "last_12_months"}]) == 5
    between = {"from": "2025-05-01", "to": "2025-06-30"}
    assert names([{"field": "closed_at", "op": "between", "value": between}]) == 2
    assert names([{"field": "closed_at", "op": "empty"}]) == 1  # the open deal


def test_filters_by_owner_team_tags_and_numbers(org, sales_data):
    from kizuna.sales.services import deal_update

    deal = Deal.objects.get(name="m2")
    deal_update(actor=org.rep, deal=deal, tags=["重要"])

    def count(filters, user=org.admin):
        result = run({"object": "deal", "filters": filters}, user)
        return result.totals[0].values[0] if result.totals else 0

    assert count([{"field": "team", "op": "in", "value": [org.osaka.pk]}]) == 1
    assert count([{"field": "team", "op": "in", "value": ["my_team"]}], org.rep) == 5
    assert count([{"field": "owner", "op": "in", "value": ["me"]}], org.colleague) == 1
    assert count([{"field": "owner", "op": "not_in", "value": [org.rep.pk]}]) == 2
    assert count([{"field": "tags", "op": "in", "value": ["重要"]}]) == 1
    assert count([{"field": "tags", "op": "not_in", "value": ["重要"]}]) == 5
    assert count([{"field": "amount", "op": "gte", "value": "3,000,000"}]) == 4
    assert count([{"field": "company.industry", "op": "eq", "value": "retail"}]) == 2
    assert count([{"field": "name", "op": "contains", "value": "m"}]) == 2


def test_average_and_no_values_is_na(org, sales_data):
    spec = {
        "object": "deal",
        "filters": [{"field": "currency", "op": "eq", "value": "JPY"}],
        "group_by": [{"field": "status"}],
        "measures": [{"op": "avg", "field": "amount"}, {"op": "avg", "field": "probability"}],
    }
    result = run(spec, org.admin)
    rows = {r.labels[0]: r.values for r in result.rows}
    assert rows["Won"][0] == Decimal("3375000")
    assert rows["Won"][1] is None  # no probability set on any deal: n/a, not 0 and no error
    column = result.measure_columns[1]
    assert reports.format_value(None, column, "JPY") == "n/a"
    assert reports.format_value(Decimal("3375000"), result.measure_columns[0], "JPY") == (
        "¥3,375,000"
    )


def test_group_by_owner_and_stage_use_names_and_few_queries(org, sales_data):
    spec = reports.clean_spec(
        {"object": "deal", "group_by": [{"field": "owner"}, {"field": "stage"}]}
    )
    OrgSettings.get()
    with CaptureQueriesContext(connection) as ctx:
        result = reports.run(spec, user=org.admin)
    labels = {tuple(r.labels) for r in result.rows}
    assert (str(org.rep), "受注") in labels or any(str(org.rep) == a for a, _b in labels)
    # The aggregate, then one lookup of names per grouped relation.
    aggregate = [q for q in ctx.captured_queries if "GROUP BY" in q["sql"]]
    assert len(aggregate) == 1
    # Custom field definitions, the fiscal year setting, the access policies (once per
    # user), the aggregate, and one lookup of names per grouped relation.
    assert len(ctx.captured_queries) == 6


def test_every_object_can_be_reported(org):
    company = company_create(actor=org.rep, name="株式会社A", industry="it", prefecture="大阪府")
    contact_create(actor=org.rep, family_name="山田", company=company, title="部長")
    lead_create(actor=org.rep, family_name="金", channel="seminar")
    lead_create(actor=org.rep, family_name="李", channel="seminar", status="qualified")
    activity_create(actor=org.rep, kind="call", subject="電話", company=company)
    activity_create(actor=org.rep, kind="task", subject="資料", company=company)
    cases = {
        "company": ({"field": "prefecture"}, [("大阪府", 1)]),
        "contact": ({"field": "company.industry"}, [("IT and software", 1)]),
        "lead": ({"field": "status"}, [("New", 1), ("Qualified", 1)]),
        "activity": ({"field": "kind"}, [("Call", 1), ("Task", 1)]),
    }
    for object_type, (group, expected) in cases.items():
        result = run({"object": object_type, "group_by": [group]}, org.rep)
        assert [(r.labels[0], r.values[0]) for r in result.rows] == expected, object_type
        assert run({"object": object_type, "group_by": [group]}, org.outsider).rows == []
    by_day = run(
        {"object": "activity", "group_by": [{"field": "occurred_at", "period": "month"}]}, org.rep
    )
    assert by_day.totals[0].values == [2]


def test_custom_fields_filter_group_and_sum(org, sales_data):
    CustomFieldDefinition.objects.create(
        object_type="deal",
        key="region",
        label="Region",
        field_type="select",
        choices=["関東", "関西"],
    )
    CustomFieldDefinition.objects.create(
        object_type="deal", key="seats", label="Seats", field_type="number"
    )
    for name, region, seats in (("m1", "関東", 10), ("m2", "関西", 5), ("r1", "関西", 7)):
        Deal.objects.filter(name=name).update(custom_field_data={"region": region, "seats": seats})
    spec = {
        "object": "deal",
        "filters": [{"field": "cf.region", "op": "in", "value": ["関西"]}],
        "group_by": [{"field": "cf.region"}],
        "measures": [{"op": "sum", "field": "cf.seats"}, {"op": "count"}],
    }
    result = run(spec, org.admin)
    assert [(r.labels[0], r.values) for r in result.rows] == [("関西", [Decimal(12), 2])]
    gt = {"object": "deal", "filters": [{"field": "cf.seats", "op": "gt", "value": 6}]}
    assert run(gt, org.admin).totals[0].values == [2]


def test_a_deleted_custom_field_is_an_honest_error(org, sales_data):
    field = CustomFieldDefinition.objects.create(
        object_type="deal", key="region", label="Region", field_type="text"
    )
    spec = reports.clean_spec({"object": "deal", "group_by": [{"field": "cf.region"}]})
    field.delete()
    result = reports.run(spec, user=org.admin)
    assert result.error == "This field was deleted: cf.region"
    assert result.rows == []


def test_bad_specs_are_explained_per_part():
    with pytest.raises(ValidationError) as exc:
        reports.clean_spec({"object": "invoices"})
    assert "object" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        reports.clean_spec(
            {
                "object": "deal",
                "filters": [
                    {"field": "nope", "op": "eq", "value": 1},
                    {"field": "amount", "op": "contains", "value": 1},
                    {"field": "closed_at", "op": "period", "value": "someday"},
                    {"field": "amount", "op": "gt", "value": "many"},
                ],
                "group_by": [{"field": "name"}, {"field": "stage"}, {"field": "owner"}],
                "measures": [{"op": "sum", "field": "status"}, {"op": "median"}],
                "chart": "pie",
            }
        )
    errors = exc.value.message_dict
    assert errors["filters.0.field"] == ["There is no field “nope”."]
    assert "filters.1.op" in errors and "filters.2.value" in errors
    assert errors["filters.3.value"] == ["Enter a number."]
    assert errors["group_by"] == ["Group by at most two fields."]
    assert errors["measures.0.field"] == ["Sums and averages need a number field."]
    assert "measures.1.op" in errors and "chart" in errors


def test_period_ranges_follow_the_fiscal_year():
    today = datetime.date(2026, 2, 10)
    assert reports.period_range("this_quarter", today, 4) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 4, 1),
    )
    assert reports.period_range("this_fiscal_year", today, 4) == (
        datetime.date(2025, 4, 1),
        datetime.date(2026, 4, 1),
    )
    assert reports.period_range("last_quarter", today, 4) == (
        datetime.date(2025, 10, 1),
        datetime.date(2026, 1, 1),
    )
    assert reports.period_range("last_12_months", today, 4) == (
        datetime.date(2025, 3, 1),
        datetime.date(2026, 3, 1),
    )
    assert reports.bucket_label(datetime.date(2026, 1, 1), "quarter", 4) == "FY2025 Q4"
