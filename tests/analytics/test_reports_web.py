"""The report builder's pages: build, preview, save, share, export, schedule."""

import csv
import io

import pytest
from openpyxl import load_workbook

from kizuna.analytics.models_reports import ReportSchedule, SavedReport
from kizuna.analytics.services_reports import report_create
from kizuna.core.models import AuditEntry

pytestmark = pytest.mark.django_db

SPEC = {
    "object": "deal",
    "filters": [{"field": "status", "op": "in", "value": ["won"]}],
    "group_by": [{"field": "company.industry"}, {"field": "closed_at", "period": "quarter"}],
    "measures": [{"op": "sum", "field": "amount"}],
    "chart": "stacked_bar",
}


def builder_post(**extra):
    data = {
        "name": "受注額(業種×四半期)",
        "object": "deal",
        "previous_object": "deal",
        "filter_rows": "2",
        "measure_rows": "1",
        "f-0-field": "status",
        "f-0-op": "in",
        "f-0-value": ["won"],
        "f-1-field": "team",
        "f-1-op": "in",
        "f-1-value": ["my_team"],
        "g-0-field": "company.industry",
        "g-1-field": "closed_at",
        "g-1-period": "quarter",
        "m-0-op": "sum",
        "m-0-field": "amount",
        "chart": "stacked_bar",
        "shared": "on",
    }
    data.update(extra)
    return data


def test_build_preview_save_and_list(client, org, sales_data):
    client.force_login(org.rep)
    page = client.get("/reports/new/")
    assert page.status_code == 200
    preview = client.post("/reports/new/", builder_post(preview="1"), HTTP_HX_REQUEST="true")
    body = preview.content.decode()
    assert preview.status_code == 200 and "<svg" in body
    assert "Manufacturing" in body and "¥1,000,000" in body
    assert "大阪機械" not in body and "9,000,000" not in body  # not the rep's to see
    saved = client.post("/reports/new/", builder_post(save="1"))
    report = SavedReport.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/reports/{report.pk}/"
    assert report.shared and report.team == org.tokyo
    assert report.spec["filters"][1] == {"field": "team", "op": "in", "value": ["my_team"]}
    # The colleague sees it listed (shared with the team); the outsider does not.
    client.force_login(org.colleague)
    assert "受注額(業種×四半期)" in client.get("/reports/").content.decode()
    detail = client.get(f"/reports/{report.pk}/")
    assert detail.status_code == 200 and "<svg" in detail.content.decode()
    client.force_login(org.outsider)
    assert "受注額" not in client.get("/reports/").content.decode()
    assert client.get(f"/reports/{report.pk}/").status_code == 404


def test_errors_are_shown_on_their_rows(client, org):
    client.force_login(org.rep)
    response = client.post(
        "/reports/new/",
        builder_post(
            save="1", name="", **{"f-0-field": "amount", "f-0-op": "gt", "f-0-value": "たくさん"}
        ),
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Enter a number." in body and "This field is required." in body
    assert not SavedReport.objects.exists()


def test_export_csv_with_bom_and_xlsx_are_audited(client, org, sales_data):
    report = report_create(actor=org.rep, name="=業種別", spec=SPEC)
    client.force_login(org.rep)
    response = client.get(f"/reports/{report.pk}/export/?format=csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Company: industry", "Closed at (by quarter)", "Currency", "Sum of amount"]
    assert rows[1] == ["Manufacturing", "FY2025 Q1", "JPY", "1000000"]
    xlsx = client.get(f"/reports/{report.pk}/export/?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]] == ["Manufacturing", "FY2025 Q1", "JPY", 1000000]
    assert sheet.title == "=業種別"  # a sheet name is never run as a formula
    exports = AuditEntry.objects.filter(action="export", object_type="report")
    assert sorted(e.changes["format"] for e in exports) == ["csv", "xlsx"]


def test_a_formula_in_a_group_label_is_neutralised(org):
    from kizuna.analytics import reports
    from kizuna.analytics.services_reports import report_export
    from kizuna.customers.services import company_create

    company_create(actor=org.rep, name="株式会社=HYPERLINK", prefecture="=cmd|' /C calc'!A0")
    spec = reports.clean_spec({"object": "company", "group_by": [{"field": "prefecture"}]})
    result = reports.run(spec, user=org.rep)
    data = report_export(actor=org.rep, result=result, fmt="csv").decode("utf-8-sig")
    assert "'=cmd" in data


def test_schedule_only_by_the_owner(client, org):
    report = report_create(actor=org.rep, name="週次", spec={"object": "lead"}, shared=True)
    client.force_login(org.colleague)
    url = f"/reports/{report.pk}/schedule/"
    assert client.post(url, {"weekday": 0, "hour": 8, "recipients": "team"}).status_code == 403
    client.force_login(org.rep)
    client.post(url, {"weekday": 4, "hour": 17, "recipients": "team"})
    schedule = ReportSchedule.objects.get()
    assert (schedule.weekday, schedule.hour, schedule.recipients) == (4, 17, "team")
    client.post(url, {"remove": "1"})
    assert not ReportSchedule.objects.exists()


def test_the_list_does_not_grow_queries(client, org, django_assert_max_num_queries):
    for i in range(6):
        report_create(actor=org.rep, name=f"r{i}", spec={"object": "lead"}, shared=True)
    client.force_login(org.colleague)
    client.get("/reports/")
    with django_assert_max_num_queries(10):
        response = client.get("/reports/")
    assert response.content.decode().count("/reports/") >= 6


def test_a_deleted_field_shows_an_error_state_not_a_500(client, org):
    from kizuna.core.models import CustomFieldDefinition

    field = CustomFieldDefinition.objects.create(
        object_type="lead", key="region", label="Region", label_ja="地域", field_type="text"
    )
    spec = {"object": "lead", "group_by": [{"field": "cf.region"}]}
    report = report_create(actor=org.rep, name="地域別", spec=spec)
    field.delete()
    client.force_login(org.rep)
    response = client.get(f"/reports/{report.pk}/")
    assert response.status_code == 200
    assert "This field was deleted: Region" in response.content.decode()
    export = client.get(f"/reports/{report.pk}/export/?format=csv")
    assert export.status_code == 302  # back to the report, with the message
    assert client.get(f"/reports/{report.pk}/edit/").status_code == 200


def test_pinned_reports_for_the_dashboards(org, sales_data):
    from kizuna.analytics.selectors_reports import pinned_reports

    spec = {"object": "deal", "group_by": [{"field": "status"}]}
    report_create(actor=org.rep, name="ピン留め", spec=spec, shared=True, pinned=True)
    report_create(actor=org.rep, name="非表示", spec=spec, shared=True)
    [(report, result)] = pinned_reports(org.colleague)
    assert report.name == "ピン留め"
    # Run as the colleague: the Tokyo team's deals, not Osaka's.
    assert sum(r.values[0] for r in result.rows) == 5
    assert pinned_reports(org.outsider) == []


def test_pinned_report_on_my_dashboard(client, org, sales_data):
    spec = {"object": "deal", "group_by": [{"field": "status"}]}
    report_create(actor=org.rep, name="ピン留め", spec=spec, shared=True, pinned=True)
    client.force_login(org.colleague)
    page = client.get("/dashboard/me/").content.decode()
    assert "ピン留め" in page and "report-table" in page
    client.force_login(org.outsider)
    assert "ピン留め" not in client.get("/dashboard/me/").content.decode()
