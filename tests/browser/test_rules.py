"""The user story's rule, built in Chromium by an admin, then seen running."""

import pytest
from playwright.sync_api import expect

from kizuna.activities.models import Activity
from kizuna.automation.models import Rule
from kizuna.customers.services import company_create
from kizuna.sales.models import Phase, Pipeline, Stage
from kizuna.sales.services import deal_create, deal_move

pytestmark = pytest.mark.browser


def _rerendered(page, act) -> None:
    """Run ``act`` and wait until htmx has swapped in a new form."""
    page.evaluate("document.getElementById('rule-form').dataset.old = '1'")
    act()
    page.wait_for_function(
        "document.getElementById('rule-form') && !document.querySelector("
        "'#rule-form[data-old], .htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def choose(page, selector: str, value: str) -> None:
    """Pick an option that makes htmx re-render the form, and wait for it."""
    _rerendered(page, lambda: page.select_option(selector, value))
    expect(page.locator(selector)).to_have_value(value)


def click(page, selector: str) -> None:
    _rerendered(page, lambda: page.click(selector))


def test_admin_builds_the_quote_stage_rule_and_sees_it_run(desktop, org, login, shot):
    pipeline = Pipeline.objects.create(name="SMB", translations={"ja": "SMB"})
    phase = Phase.objects.create(pipeline=pipeline, name="営業")
    first = Stage.objects.create(pipeline=pipeline, phase=phase, name="提案", position=0)
    quote = Stage.objects.create(
        pipeline=pipeline,
        phase=phase,
        name="見積",
        translations={"ja": "見積", "en": "見積"},
        position=1,
    )
    page = desktop
    login(page, "admin")
    page.goto("/settings/rules/")
    page.click("text=New rule")
    page.fill("input[name=name]", "見積→価格承認タスク")
    choose(page, "select[name=object_type]", "deal")
    # Choosing the trigger brings the stage picker (htmx re-renders the form).
    choose(page, "select[name=trigger]", "stage_entered")
    stage_select = page.locator("select[name=stage]")
    expect(stage_select).to_be_visible()
    stage_select.select_option(str(quote.pk))
    expect(page.locator("select[name=act-0-type]")).to_have_value("create_task")
    page.fill("input[name=act-0-subject]", "send price approval")
    expect(page.locator("select[name=act-0-assignee]")).to_have_value("owner")
    page.fill("input[name=act-0-due_days]", "2")
    # A condition row, added and then removed again, leaves no trace.
    click(page, "button[value=add_condition]")
    expect(page.locator(".condition-row")).to_have_count(1)
    click(page, "button[value=remove_cond_0]")
    expect(page.locator(".condition-row")).to_have_count(0)
    shot(page, "form")
    page.click("button[value=save]")
    expect(page.locator("h1")).to_have_text("見積→価格承認タスク")
    rule = Rule.objects.get()
    assert rule.stage == quote and rule.trigger == "stage_entered"
    (action,) = rule.actions
    assert action == {
        "type": "create_task",
        "subject": "send price approval",
        "assignee": "owner",
        "due_days": 2,
    }

    company = company_create(actor=org.rep, name="株式会社みなと精機")
    deal = deal_create(
        actor=org.rep, name="生産管理", company=company, pipeline=pipeline, stage=first, amount=1
    )
    deal_move(actor=org.rep, deal=deal, stage=quote)
    task = Activity.objects.get(kind="task", deal=deal)
    assert task.subject == "send price approval" and task.assignee == org.rep

    page.reload()
    log = page.locator("table.run-log")
    expect(log).to_contain_text("生産管理")
    expect(log).to_contain_text("succeeded")
    expect(log).to_contain_text("send price approval")
    shot(page, "run-log")


def test_validation_errors_show_on_their_rows(desktop, org, login, shot):
    page = desktop
    login(page, "admin")
    page.goto("/settings/rules/new/")
    page.fill("input[name=name]", "broken")
    click(page, "button[value=add_condition]")
    choose(page, "select[name=cond-0-field]", "prefecture")
    page.select_option("select[name=cond-0-op]", "contains")
    page.fill("input[name=cond-0-value]", "大阪")
    page.fill("input[name=act-0-subject]", "")
    page.click("button[value=save]")
    expect(page.locator(".action-row .errorlist")).to_contain_text("subject")
    expect(page.locator(".condition-row .errorlist")).to_have_count(0)
    assert not Rule.objects.exists()
    shot(page, "errors")


def test_assignment_away_and_the_first_contact_sla_in_the_lead_list(desktop, org, login, shot):
    import datetime

    from kizuna.customers.models import Lead
    from kizuna.customers.services import lead_create
    from tests.factories import TeamFactory, UserFactory

    kansai = TeamFactory(name="関西営業")
    first = UserFactory(username="kansai1", display_name="大阪 一郎", team=kansai)
    second = UserFactory(username="kansai2", display_name="大阪 花子", team=kansai)
    page = desktop
    login(page, "admin")
    page.goto("/settings/assignment/")
    page.fill("input[name=name]", "関西")
    page.select_option("select[name=team]", str(kansai.pk))
    page.fill("input[name=prefectures]", "大阪府, 京都府")
    page.click("form.card button[type=submit]")
    expect(page.locator("table")).to_contain_text("大阪府, 京都府")
    shot(page, "assignment")

    # Hanako marks herself away on her profile page.
    hanako = page.context.browser.new_context(base_url=page.url.split("/settings")[0])
    her_page = hanako.new_page()
    login(her_page, "kansai2")
    her_page.goto("/me/")
    until = datetime.date.today() + datetime.timedelta(days=3)
    her_page.fill("input[name=away_until]", until.isoformat())
    her_page.click("text=Mark me away")
    expect(her_page.locator("#away")).to_contain_text("I am back")
    shot(her_page, "away")
    hanako.close()

    for name in ("田中", "鈴木"):
        lead_create(actor=org.admin, family_name=name, channel="web_form", prefecture="大阪府")
    assert set(Lead.objects.values_list("owner", flat=True)) == {first.pk}
    Lead.objects.filter(family_name="鈴木").update(
        first_contact_due_at=datetime.datetime(2020, 1, 6, 9, 0, tzinfo=datetime.UTC)
    )
    assert second.pk
    page.goto("/leads/")
    table = page.locator("table")
    expect(table).to_contain_text("breached")
    expect(table).to_contain_text("on time")
    expect(table).to_contain_text("大阪 一郎")
    shot(page, "lead-list")
    page.goto("/leads/?sla=breached")
    expect(page.locator("table")).to_contain_text("鈴木")
    expect(page.locator("table")).not_to_contain_text("田中")
    page.click("text=鈴木")
    expect(page.locator("h1")).to_contain_text("First contact: breached")
    shot(page, "lead-detail")
