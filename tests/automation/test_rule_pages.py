"""The rule pages as an admin uses them (without a browser)."""

import pytest

from kizuna.automation.models import Rule, RuleRun
from kizuna.automation.services import rule_save
from kizuna.customers.services import lead_create

pytestmark = pytest.mark.django_db

FORM = {
    "name": "大阪の見込み客",
    "object_type": "lead",
    "trigger": "created",
    "match": "all",
    "cond-0-field": "prefecture",
    "cond-0-op": "contains",
    "cond-0-value": "大阪",
    "act-0-type": "notify",
    "act-0-to": "owner",
    "act-0-message": "大阪からの問い合わせです",
}


def make_rule(org) -> Rule:
    return rule_save(
        actor=org.admin,
        name="r",
        object_type="lead",
        trigger="created",
        conditions=[],
        actions=[{"type": "notify", "to": "owner", "message": "m"}],
    )


def test_create_edit_toggle_delete(client, org):
    client.force_login(org.admin)
    assert client.get("/settings/rules/").status_code == 200
    assert client.get("/settings/rules/new/?object_type=deal").status_code == 200
    response = client.post("/settings/rules/new/", {**FORM, "_op": "save"})
    rule = Rule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/rules/{rule.pk}/"
    assert rule.conditions == [{"field": "prefecture", "op": "contains", "value": "大阪"}]
    (action,) = rule.actions
    assert action == {"type": "notify", "to": "owner", "message": "大阪からの問い合わせです"}

    edit = client.get(f"/settings/rules/{rule.pk}/edit/").content.decode()
    assert 'value="大阪"' in edit and "大阪からの問い合わせです" in edit
    client.post(f"/settings/rules/{rule.pk}/edit/", {**FORM, "name": "改名", "_op": "save"})
    rule.refresh_from_db()
    assert rule.name == "改名"

    client.post(f"/settings/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert not rule.is_active and rule.disabled_reason
    client.post(f"/settings/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert rule.is_active and not rule.disabled_reason
    client.post(f"/settings/rules/{rule.pk}/delete/")
    assert not Rule.objects.exists()


def test_htmx_adds_and_removes_rows_and_shows_row_errors(client, org):
    client.force_login(org.admin)
    headers = {"HX-Request": "true"}
    added = client.post("/settings/rules/new/", {**FORM, "_op": "add_action"}, headers=headers)
    body = added.content.decode()
    assert added.status_code == 200 and "<html" not in body
    assert 'name="act-1-type"' in body
    removed = client.post(
        "/settings/rules/new/", {**FORM, "_op": "remove_cond_0"}, headers=headers
    ).content.decode()
    assert 'name="cond-0-field"' not in removed
    bad = client.post(
        "/settings/rules/new/",
        {**FORM, "cond-0-op": "gt", "act-0-message": "", "_op": "save"},
        headers=headers,
    )
    text = bad.content.decode()
    assert "does not work with" in text and "Give a message" in text
    assert not Rule.objects.exists()
    saved = client.post("/settings/rules/new/", {**FORM, "_op": "save"}, headers=headers)
    assert saved.status_code == 204 and saved["HX-Redirect"].startswith("/settings/rules/")


def test_run_log_page_does_not_grow_queries_with_runs(
    client, org, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    rule = make_rule(org)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            lead_create(actor=org.rep, family_name=f"客{i}", channel="ad")
    client.force_login(org.admin)
    client.get(f"/settings/rules/{rule.pk}/")
    with django_assert_max_num_queries(14):
        page = client.get(f"/settings/rules/{rule.pk}/").content.decode()
    assert page.count("客") >= 3
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(10):
            lead_create(actor=org.rep, family_name=f"追加{i}", channel="ad")
    with django_assert_max_num_queries(14):
        client.get(f"/settings/rules/{rule.pk}/")
    assert RuleRun.objects.filter(rule=rule).count() == 13


def test_non_admins_are_refused(client, org):
    rule = make_rule(org)
    client.force_login(org.rep)
    for url in ("/settings/rules/", f"/settings/rules/{rule.pk}/", "/settings/assignment/"):
        assert client.get(url).status_code == 403
    assert client.post("/settings/rules/new/", {**FORM, "_op": "save"}).status_code == 403
    assert Rule.objects.count() == 1
