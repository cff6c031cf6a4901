"""Walk every HTML URL as a user without access and prove nothing leaks.

A new URL is covered automatically: the walk enumerates the URLconf, and a
pattern it cannot fill in fails the test until it is taught here.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kizuna.activities.services import activity_create
from kizuna.analytics.services_reports import report_create
from kizuna.customers.services import company_create, contact_create, lead_create
from kizuna.dedup.models import ScanRun
from kizuna.dedup.services import candidate_add, record_merge
from kizuna.imports.models import ImportBatch
from kizuna.sales.models import Stage
from kizuna.sales.services import deal_create
from kizuna.sales.services_quotes import LineInput, product_create, quote_create

SECRET = "極秘商事"
ADMIN_ONLY = {
    "core:audit_log",
    "core:customfield_list",
    "core:customfield_create",
    "core:customfield_edit",
    "core:customfield_delete",
    "core:access_settings",
    "sales:pipeline_list",
    "sales:pipeline_create",
    "sales:pipeline_template",
    "sales:pipeline_edit",
    "sales:product_create",
    "sales:product_edit",
    "sales:sales_settings",
    "automation:job_list",
    "automation:job_detail",
    "automation:job_retry",
    "automation:calendar_settings",
    "dedup:scan_start",
    "dedup:scan_progress",
    "dedup:scan_cancel",
    "automation:dayoff_add",
    "automation:dayoff_delete",
    "automation:webhook_list",
    "automation:webhook_detail",
    "automation:webhook_toggle",
    "automation:webhook_delete",
    "automation:webhook_redeliver",
    "automation:rule_list",
    "automation:rule_create",
    "automation:rule_detail",
    "automation:rule_edit",
    "automation:rule_toggle",
    "automation:rule_delete",
    "automation:assignment_list",
    "automation:assignment_toggle",
    "automation:assignment_delete",
    # Managers and admins; the outsider has no one under them.
    "analytics:target_list",
    "analytics:target_delete",
    "mail:incoming_settings",
    "mail:template_list",
    "mail:template_create",
    "mail:template_preview",
    "mail:template_edit",
    "mail:template_delete",
}
# Pages that show only the user's own things or nothing record-specific.
OWN_PAGES = {
    "iam:login",
    "iam:logout",
    "iam:profile",
    "iam:tokens",
    "iam:token_revoke",
    "automation:away_set",
    "mail:digest_preferences",
    "set_language",
    # A secret address instead of a login: tests/automation/test_ics.py.
    "automation:calendar_feed",
    # A secret address for mail relays: tests/mail/test_incoming.py.
    "mail:inbound",
}


def html_patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith("api/"):
                continue  # the API has its own walk
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from html_patterns(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}{p.name}", prefix + str(p.pattern), p


@pytest.fixture
def secret(org):
    company = company_create(actor=org.rep, name=SECRET, corporate_number="7000012050002")
    contact = contact_create(actor=org.rep, family_name=SECRET, company=company)
    lead = lead_create(actor=org.rep, family_name=SECRET, channel="web_form")
    activity = activity_create(actor=org.rep, kind="task", subject=SECRET, company=company)
    deal = deal_create(actor=org.rep, name=SECRET, company=company, amount=1000)
    product = product_create(actor=org.admin, code="P-1", name="保守", unit_price=1000)
    quote = quote_create(actor=org.rep, deal=deal, lines=[LineInput(product=product)])
    twin = contact_create(actor=org.rep, family_name=SECRET, given_name="二")
    candidate = candidate_add(
        entity="contact", a_id=contact.pk, b_id=twin.pk, score=0.9, evidence=[], source="scan"
    )
    merged = contact_create(actor=org.rep, family_name=SECRET, given_name="三")
    merge = record_merge(actor=org.rep, entity="contact", survivor=twin, others=[merged])
    batch = ImportBatch.objects.create(
        entity="company",
        file_name=f"{SECRET}.csv",
        file_path="-",
        created_by=org.rep,
        status=ImportBatch.Status.DONE,
        headers=["会社名"],
        mapping=["name"],
    )
    # A private report whose rows would name the secret company.
    report = report_create(
        actor=org.rep, name=SECRET, spec={"object": "deal", "group_by": [{"field": "company"}]}
    )
    return {
        "report": report,
        "candidate": candidate,
        "merge": merge,
        "import": batch,
        "scan": ScanRun.objects.create(entity="contact", status="running"),
        "product": product,
        "quote": quote,
        "company": company,
        "contact": contact,
        "lead": lead,
        "activity": activity,
        "deal": deal,
    }


def fill(route: str, name: str, secret) -> str:
    kind = name.split(":")[-1].split("_")[0]
    kind = {
        "task": "activity",
        "record": "company",
        "share": "company",
        "compare": "candidate",
        "dismiss": "candidate",
    }.get(kind, kind)
    obj = secret.get(kind)
    url = "/" + route
    url = url.replace("<int:pk>", str(obj.pk) if obj else "999999")
    url = url.replace("<str:object_type>", kind if obj else "company")
    url = url.replace("<int:stage_pk>", str(Stage.objects.first().pk))
    assert "<" not in url, f"teach the walk how to fill {route}"
    return url


@pytest.mark.django_db
def test_outsider_gets_403_or_404_and_sees_no_secret(client, org, secret):
    client.force_login(org.outsider)
    checked = 0
    for name, route, _pattern in html_patterns():
        if name in OWN_PAGES or name.startswith("None"):
            continue
        url = fill(route, name, secret)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            body = response.content.decode(errors="replace")
            assert SECRET not in body, f"{method.upper()} {url} leaks the record"
            if name in ADMIN_ONLY:
                assert response.status_code in (403, 405), f"{method.upper()} {url}"
            elif "<int:pk>" in route:
                assert response.status_code in (403, 404, 405), (
                    f"{method.upper()} {url} answered {response.status_code}"
                )
            else:
                assert response.status_code in (200, 302, 405, 422), f"{method.upper()} {url}"
            checked += 1
    assert checked > 40


@pytest.mark.django_db
def test_lists_counts_search_and_exports_do_not_leak(client, org, secret):
    client.force_login(org.outsider)
    for path in ("/companies/", "/contacts/", "/leads/", "/activities/", "/deals/", "/quotes/"):
        for query in ("", f"?q={SECRET[:2]}", "?export=csv"):
            response = client.get(path + query)
            assert SECRET not in response.content.decode(), path + query
            if not query.startswith("?export"):
                assert response.context["page"].paginator.count == 0, path + query
    response = client.get("/search/", {"q": SECRET[:2]})
    assert SECRET not in response.content.decode()
    for picker in ("/companies/pick/", "/contacts/pick/", "/leads/pick/", "/deals/pick/"):
        assert SECRET not in client.get(picker, {"q": SECRET[:2]}).content.decode()
    for entity, field in (("company", "name"), ("contact", "family_name"), ("lead", "family_name")):
        hint = client.get("/duplicates/hint/", {"entity": entity, field: SECRET})
        assert SECRET not in hint.content.decode(), entity
    column = f"/deals/board/stages/{Stage.objects.first().pk}/"
    dashboards = ("/dashboard/executive/", "/dashboard/manager/", "/dashboard/me/")
    drills = [f"/dashboard/drill/?kpi={k}" for k in ("won", "open", "leads", "activities")]
    for page in ("/deals/board/", "/deals/forecast/", column, "/reports/", *dashboards, *drills):
        body = client.get(page).content.decode()
        assert SECRET not in body, page


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_everywhere(client, secret):
    for name, route, _pattern in html_patterns():
        if name in OWN_PAGES or name.startswith("None"):
            continue
        response = client.get(fill(route, name, secret))
        assert response.status_code in (302, 405), route
        if response.status_code == 302:
            assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_the_owner_can_open_every_page(client, org, secret):
    client.force_login(org.rep)
    for name, route, _pattern in html_patterns():
        if name in OWN_PAGES | ADMIN_ONLY or name.startswith("None") or "delete" in name:
            continue
        response = client.get(fill(route, name, secret))
        assert response.status_code in (200, 405), f"{route}: {response.status_code}"


@pytest.mark.django_db
def test_a_report_counts_only_what_its_reader_may_see(client, org, secret):
    """The outsider's own report over deals by company does not name the secret one."""
    client.force_login(org.outsider)
    data = {
        "name": "x",
        "object": "deal",
        "previous_object": "deal",
        "filter_rows": "1",
        "measure_rows": "1",
        "g-0-field": "company",
        "m-0-op": "count",
        "chart": "bar",
    }
    response = client.post("/reports/new/", {**data, "preview": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
