"""The reports API: the same validation as the builder, results as each user sees them."""

import pytest

from kizuna.analytics.models_reports import SavedReport
from kizuna.core.models import AuditEntry, CustomFieldDefinition

pytestmark = pytest.mark.django_db

SPEC = {
    "object": "deal",
    "filters": [{"field": "status", "op": "in", "value": ["won"]}],
    "group_by": [{"field": "company.industry"}, {"field": "closed_at", "period": "quarter"}],
    "measures": [{"op": "sum", "field": "amount"}],
    "chart": "stacked_bar",
}


def test_create_run_update_delete(org, sales_data, api_for):
    rep = api_for(org.rep)
    created = rep.post("reports", {"name": "業種×四半期", "spec": SPEC, "shared": True})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["object"] == "deal" and body["shared"] and body["team"] == org.tokyo.pk
    report_id = body["id"]

    run = rep.get(f"reports/{report_id}/run").json()
    assert [c["kind"] for c in run["columns"]] == ["group", "group", "currency", "measure"]
    first = run["rows"][0]
    assert [g["label"] for g in first["groups"]] == ["Manufacturing", "FY2025 Q1"]
    assert first["currency"] == "JPY" and first["values"] == ["1000000"]
    assert {t["currency"] for t in run["totals"]} == {"JPY", "KRW"}

    # The colleague sees the shared report, run over what she may see (the team's deals).
    colleague = api_for(org.colleague).get(f"reports/{report_id}/run").json()
    assert colleague["rows"] == run["rows"]
    # The outsider's own report over the same spec counts only Osaka's deal.
    outsider = api_for(org.outsider).post("reports/run", {"spec": SPEC}).json()
    assert [(r["groups"][0]["label"], r["values"]) for r in outsider["rows"]] == [
        ("Manufacturing", ["9000000"])
    ]

    stale = rep.patch(f"reports/{report_id}", {"name": "x"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 409
    patched = rep.patch(f"reports/{report_id}", {"name": "改名", "version": 1})
    assert patched.status_code == 200 and patched["ETag"] == '"2"'
    # Only the owner changes a shared report.
    assert api_for(org.colleague).patch(f"reports/{report_id}", {"name": "x"}).status_code == 403
    assert rep.delete(f"reports/{report_id}").status_code == 204
    assert not SavedReport.objects.exists()
    actions = set(AuditEntry.objects.filter(object_type="report").values_list("action", flat=True))
    assert actions == {"create", "update", "delete"}


def test_validation_errors_name_the_part_at_fault(org, api_for):
    rep = api_for(org.rep)
    bad = {**SPEC, "filters": [{"field": "amount", "op": "gt", "value": "たくさん"}]}
    response = rep.post("reports", {"name": "", "spec": bad})
    assert response.status_code == 422
    locs = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert locs[("body", "name")] == "This field is required."
    assert locs[("body", "spec", "filters", "0", "value")] == "Enter a number."
    run = rep.post("reports/run", {"spec": {**SPEC, "group_by": [{"field": "gone"}]}})
    assert run.status_code == 422
    assert run.json()["detail"][0]["loc"] == ["body", "spec", "group_by", "0", "field"]


def test_a_deleted_field_answers_an_error_state_not_a_500(org, sales_data, api_for):
    field = CustomFieldDefinition.objects.create(
        object_type="deal", key="region", label="Region", field_type="text"
    )
    rep = api_for(org.rep)
    spec = {"object": "deal", "group_by": [{"field": "cf.region"}]}
    report_id = rep.post("reports", {"name": "地域別", "spec": spec}).json()["id"]
    field.delete()
    response = rep.get(f"reports/{report_id}/run")
    assert response.status_code == 200
    assert response.json()["error"] == "This field was deleted: Region"
    assert response.json()["rows"] == []


def test_the_list_does_not_grow_queries(org, api_for, django_assert_max_num_queries):
    from kizuna.analytics.services_reports import report_create

    rep = api_for(org.rep)
    for i in range(8):
        report_create(actor=org.rep, name=f"r{i}", spec={"object": "lead"})
    with django_assert_max_num_queries(8):
        response = rep.get("reports")
    assert len(response.json()["items"]) == 8
    assert len(rep.get("reports", q="r1").json()["items"]) == 1
