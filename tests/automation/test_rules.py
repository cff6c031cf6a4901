"""Automation rules: triggers, conditions, actions, the loop guard, the run log."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kizuna.activities.models import Activity
from kizuna.activities.services import activity_create
from kizuna.automation import rules
from kizuna.automation.models import Notification, Rule, RuleRun, WebhookDelivery
from kizuna.automation.services import rule_save, rule_set_active
from kizuna.core.models import CustomFieldDefinition
from kizuna.customers.models import Lead
from kizuna.customers.services import company_create, lead_create, lead_update
from kizuna.sales.models import Phase, Pipeline, Stage
from kizuna.sales.services import deal_create, deal_move, deal_update

pytestmark = pytest.mark.django_db

# 2026-06-01 is a Monday with no Japanese holiday around it.
MONDAY = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Commit callbacks (the queued rule jobs) run at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def pipeline():
    p = Pipeline.objects.create(name="テスト", translations={"ja": "テスト"})
    phase = Phase.objects.create(pipeline=p, name="p")
    new = Stage.objects.create(pipeline=p, phase=phase, name="新規", position=0, probability=10)
    quote = Stage.objects.create(
        pipeline=p,
        phase=phase,
        name="見積",
        translations={"ja": "見積"},
        position=1,
        probability=70,
    )
    return type("P", (), {"pipeline": p, "new": new, "quote": quote})


def story_rule(org, pipeline, **extra):
    """The user story: when a deal enters 見積, a task for the owner in 2 business days."""
    return rule_save(
        actor=org.admin,
        name="見積→価格承認",
        object_type="deal",
        trigger="stage_entered",
        stage=pipeline.quote,
        conditions=[],
        actions=[
            {
                "type": "create_task",
                "subject": "send price approval",
                "assignee": "owner",
                "due_days": 2,
            }
        ],
        **extra,
    )


def test_a_deal_entering_the_stage_gets_the_task_due_in_two_business_days(org, pipeline, run_jobs):
    rule = story_rule(org, pipeline)
    company = company_create(actor=org.rep, name="株式会社大阪商事")
    deal = deal_create(
        actor=org.rep, name="案件", company=company, pipeline=pipeline.pipeline, amount=100
    )
    # Friday: two business days later is Tuesday.
    friday = datetime.datetime(2026, 6, 5, 15, 0, tzinfo=MONDAY.tzinfo)
    with time_machine.travel(friday), run_jobs():
        deal_move(actor=org.rep, deal=deal, stage=pipeline.quote)
    task = Activity.objects.get(kind="task", subject="send price approval")
    assert task.deal_id == deal.pk
    assert task.assignee == org.rep and task.owner == org.rep
    assert task.due_date == datetime.date(2026, 6, 9)
    (run,) = rule.runs.all()
    assert run.outcome == RuleRun.Outcome.SUCCEEDED
    assert run.object_type == "deal" and run.object_id == deal.pk
    assert "send price approval" in run.detail[0]
    # Moving elsewhere and back is a new event: a new run.
    with run_jobs():
        deal_move(actor=org.rep, deal=deal, stage=pipeline.new)
        deal_move(actor=org.rep, deal=deal, stage=pipeline.quote)
    assert rule.runs.count() == 2


def test_a_job_that_runs_twice_acts_once(org, pipeline):
    rule = story_rule(org, pipeline)
    company = company_create(actor=org.rep, name="株式会社大阪商事")
    deal = deal_create(
        actor=org.rep, name="案件", company=company, pipeline=pipeline.pipeline, amount=100
    )
    for _attempt in range(2):
        rules.run_rules(
            object_type="deal", object_id=deal.pk, event_key="stage_entered:x", rule_ids=[rule.pk]
        )
    assert Activity.objects.filter(kind="task", subject="send price approval").count() == 1
    assert rule.runs.count() == 1


def test_conditions_all_or_any_with_owner_tags_and_text(org, run_jobs):
    rule = rule_save(
        actor=org.admin,
        name="大阪の展示会リード",
        object_type="lead",
        trigger="created",
        conditions=[
            {"field": "prefecture", "op": "contains", "value": "大阪"},
            {"field": "tags", "op": "contains", "value": "展示会"},
            {"field": "owner", "op": "eq", "value": "rep"},
        ],
        actions=[{"type": "notify", "to": "manager", "message": "大阪の展示会リードです"}],
    )
    with run_jobs():
        lead_create(actor=org.rep, family_name="田中", channel="trade_show", prefecture="大阪府")
        hit = lead_create(
            actor=org.rep,
            family_name="鈴木",
            channel="trade_show",
            prefecture="大阪府",
            tags=["展示会"],
        )
    outcomes = dict(rule.runs.values_list("object_id", "outcome"))
    assert outcomes[hit.pk] == RuleRun.Outcome.SUCCEEDED
    assert sorted(outcomes.values()) == ["skipped", "succeeded"]
    (note,) = Notification.objects.filter(kind="rule")
    assert note.recipient == org.manager and "大阪の展示会リード" in note.text
    assert note.url == f"/leads/{hit.pk}/"

    rule = rule_save(
        actor=org.admin,
        rule=rule,
        name=rule.name,
        object_type="lead",
        trigger="created",
        match="any",
        conditions=rule.conditions,
        actions=rule.actions,
    )
    with run_jobs():
        lead_create(actor=org.rep, family_name="佐藤", channel="ad", prefecture="大阪府")
    assert rule.runs.filter(outcome="succeeded").count() == 2


def test_field_changed_to_a_value_sets_a_field_and_assigns(org, run_jobs):
    rule_save(
        actor=org.admin,
        name="有望→担当変更",
        object_type="lead",
        trigger="field_changed",
        trigger_field="status",
        trigger_value="qualified",
        conditions=[],
        actions=[
            {"type": "assign_owner", "mode": "user", "user": org.colleague.pk},
            {"type": "set_field", "field": "campaign", "value": "営業フォロー"},
        ],
    )
    lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
    with run_jobs():
        lead = lead_update(actor=org.rep, lead=lead, status="working")
    lead.refresh_from_db()
    assert lead.owner == org.rep and lead.campaign == ""
    with run_jobs():
        lead_update(actor=org.rep, lead=lead, status="qualified")
    lead.refresh_from_db()
    assert lead.owner == org.colleague and lead.campaign == "営業フォロー"


def test_rules_that_trigger_each_other_are_stopped_and_the_refusal_is_logged(org, run_jobs):
    rule_save(
        actor=org.admin,
        name="ping",
        object_type="lead",
        trigger="field_changed",
        trigger_field="campaign",
        conditions=[{"field": "campaign", "op": "eq", "value": "A"}],
        actions=[{"type": "set_field", "field": "campaign", "value": "B"}],
    )
    rule_save(
        actor=org.admin,
        name="pong",
        object_type="lead",
        trigger="field_changed",
        trigger_field="campaign",
        conditions=[{"field": "campaign", "op": "eq", "value": "B"}],
        actions=[{"type": "set_field", "field": "campaign", "value": "A"}],
    )
    lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
    with run_jobs():
        lead_update(actor=org.rep, lead=lead, campaign="A")
    # A -> ping sets B -> pong sets A -> ping again on the same record in
    # the same chain: refused, and the chain ends.
    refused = RuleRun.objects.filter(outcome="refused")
    assert refused.exists()
    assert all("same chain" in r.error for r in refused)
    assert RuleRun.objects.count() < 12
    assert max(RuleRun.objects.values_list("depth", flat=True)) <= rules.MAX_DEPTH


def test_the_depth_limit_stops_long_chains(org):
    rule = rule_save(
        actor=org.admin,
        name="deep",
        object_type="lead",
        trigger="updated",
        conditions=[],
        actions=[{"type": "notify", "to": "owner", "message": "x"}],
    )
    lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
    (run,) = rules.run_rules(
        object_type="lead",
        object_id=lead.pk,
        event_key="updated:deep",
        rule_ids=[rule.pk],
        depth=rules.MAX_DEPTH + 1,
    )
    assert run.outcome == RuleRun.Outcome.REFUSED and "levels deep" in run.error


def test_validation_on_save(org, pipeline):
    CustomFieldDefinition.objects.create(
        object_type="deal", key="budget_code", label="Budget code", field_type="number"
    )
    base = dict(actor=org.admin, name="x", object_type="deal", trigger="created")
    with pytest.raises(ValidationError) as exc:
        rule_save(
            **base,
            conditions=[
                {"field": "nope", "op": "eq", "value": "1"},
                {"field": "custom_fields.budget_code", "op": "gt", "value": "abc"},
                {"field": "amount", "op": "contains", "value": "1"},
            ],
            actions=[{"type": "create_task", "subject": "", "due_days": 2}],
        )
    errors = exc.value.message_dict
    assert set(errors) == {"conditions.0", "conditions.1", "conditions.2", "actions.0"}
    assert "Enter a number." in errors["conditions.1"][0]
    with pytest.raises(ValidationError) as exc:
        rule_save(**base, conditions=[], actions=[])
    assert "actions" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        rule_save(
            **{**base, "trigger": "stage_entered", "object_type": "lead"},
            conditions=[],
            actions=[{"type": "notify", "to": "owner", "message": "m"}],
        )
    assert "trigger" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        rule_save(
            **{**base, "actor": org.rep},
            conditions=[],
            actions=[{"type": "notify", "to": "owner", "message": "m"}],
        )
    # A custom field works in conditions and actions.
    ok = rule_save(
        **base,
        conditions=[{"field": "custom_fields.budget_code", "op": "gt", "value": "10"}],
        actions=[{"type": "set_field", "field": "custom_fields.budget_code", "value": "5"}],
    )
    assert ok.pk and Rule.objects.count() == 1


def test_a_rule_whose_field_was_deleted_is_disabled_and_admins_are_told(org, run_jobs):
    definition = CustomFieldDefinition.objects.create(
        object_type="lead", key="grade", label="Grade", field_type="text"
    )
    rule = rule_save(
        actor=org.admin,
        name="grade A",
        object_type="lead",
        trigger="created",
        conditions=[{"field": "custom_fields.grade", "op": "eq", "value": "A"}],
        actions=[{"type": "notify", "to": "owner", "message": "A!"}],
    )
    definition.delete()
    with run_jobs():
        lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
    assert Lead.objects.filter(pk=lead.pk).exists()  # the write went through
    rule.refresh_from_db()
    assert not rule.is_active and "custom_fields.grade" in rule.disabled_reason
    assert rule.runs.get().outcome == RuleRun.Outcome.DISABLED
    (note,) = Notification.objects.filter(kind="rule_failed")
    assert note.recipient == org.admin and "grade A" in note.text
    # Enabling it again checks it again.
    with pytest.raises(ValidationError):
        rule_set_active(actor=org.admin, rule=rule, active=True)


def test_a_failing_action_is_logged_and_never_loses_the_record(org, run_jobs):
    rule = rule_save(
        actor=org.admin,
        name="to colleague",
        object_type="lead",
        trigger="created",
        conditions=[],
        actions=[
            {"type": "notify", "to": "owner", "message": "first"},
            {"type": "assign_owner", "mode": "user", "user": org.colleague.pk},
        ],
    )
    org.colleague.is_active = False
    org.colleague.save()
    with run_jobs():
        lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
    assert Lead.objects.get(pk=lead.pk).owner == org.rep
    run = rule.runs.get()
    assert run.outcome == RuleRun.Outcome.FAILED and run.error
    # The actions ran in one transaction: the notification rolled back too.
    assert not Notification.objects.filter(kind="rule").exists()
    assert Notification.objects.filter(kind="rule_failed", recipient=org.admin).exists()


def test_date_relative_rule_fires_three_business_days_before_close(org, pipeline):
    rule = rule_save(
        actor=org.admin,
        name="close soon",
        object_type="deal",
        trigger="date_relative",
        trigger_field="expected_close_date",
        offset_days=-3,
        conditions=[],
        actions=[{"type": "notify", "to": "owner", "message": "締め切り間近"}],
    )
    company = company_create(actor=org.rep, name="株式会社大阪商事")
    deal = deal_create(
        actor=org.rep,
        name="案件",
        company=company,
        pipeline=pipeline.pipeline,
        amount=100,
        expected_close_date=datetime.date(2026, 6, 10),  # a Wednesday
    )
    # Three business days before Wednesday the 10th is Friday the 5th.
    with time_machine.travel(datetime.datetime(2026, 6, 4, 12, 0, tzinfo=MONDAY.tzinfo)):
        assert rules.time_rules_run() == 0
    with time_machine.travel(datetime.datetime(2026, 6, 5, 12, 0, tzinfo=MONDAY.tzinfo)):
        assert rules.time_rules_run() == 1
        assert rules.time_rules_run() == 0  # once per date
    assert rule.runs.get().event_key == "date:expected_close_date:2026-06-10"
    # A new close date is a new occasion.
    deal_update(actor=org.rep, deal=deal, expected_close_date=datetime.date(2026, 6, 12))
    with time_machine.travel(datetime.datetime(2026, 6, 9, 12, 0, tzinfo=MONDAY.tzinfo)):
        assert rules.time_rules_run() == 1


def test_no_activity_rule_fires_once_after_the_hours(org):
    rule = rule_save(
        actor=org.admin,
        name="untouched",
        object_type="lead",
        trigger="no_activity",
        hours=24,
        conditions=[],
        actions=[{"type": "notify", "to": "owner", "message": "まだ連絡なし"}],
    )
    with time_machine.travel(MONDAY):
        quiet = lead_create(actor=org.rep, family_name="田中", channel="ad")
        busy = lead_create(actor=org.rep, family_name="鈴木", channel="ad")
        activity_create(actor=org.rep, kind="call", subject="電話", lead=busy)
    with time_machine.travel(MONDAY + datetime.timedelta(hours=23)):
        assert rules.time_rules_run() == 0
    with time_machine.travel(MONDAY + datetime.timedelta(hours=25)):
        assert rules.time_rules_run() == 1
        assert rules.time_rules_run() == 0
    assert rule.runs.get().object_id == quiet.pk


def test_webhook_action_is_signed_retried_and_failures_reach_the_run_log(org, run_jobs, settings):
    import threading

    from tests.automation.test_webhooks import Receiver

    settings.KIZUNA_WEBHOOK_TIMEOUT = 0.5
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rule = rule_save(
            actor=org.admin,
            name="to accounting",
            object_type="lead",
            trigger="created",
            conditions=[],
            actions=[{"type": "webhook", "url": server.url("/fail")}],
        )
        sub_id = rule.actions[0]["subscription"]
        with run_jobs():
            lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
        delivery = WebhookDelivery.objects.get(subscription_id=sub_id)
        assert delivery.payload["id"] == lead.pk and delivery.event == "rule.fired"
        assert server.requests and "X-Kizuna-Signature" in server.requests[0][1]
        # The final attempt fails: the run says so and admins are told.
        from kizuna.automation.webhooks import deliver

        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="retrying")
        deliver(delivery_id=delivery.pk, retries_left=0)
        run = rule.runs.get()
        assert run.outcome == RuleRun.Outcome.FAILED and "HTTP 500" in run.error
        assert Notification.objects.filter(kind="rule_failed").exists()
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def test_record_event_costs_one_query_and_nothing_when_no_rule_fires(
    org, django_assert_max_num_queries
):
    for i in range(50):
        rule_save(
            actor=org.admin,
            name=f"r{i}",
            object_type="lead",
            trigger="field_changed",
            trigger_field="campaign",
            conditions=[],
            actions=[{"type": "notify", "to": "owner", "message": "m"}],
        )
    lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
    rules.forget_active_rules()
    with django_assert_max_num_queries(1):
        assert rules.record_event(obj=lead, event="created") == []
    # The active rules stay in this process for a few seconds: no query.
    with django_assert_max_num_queries(0):
        assert len(rules.record_event(obj=lead, event="updated", before={}, after={})) == 0
        changed = {"campaign": "A"}
        assert len(rules.record_event(obj=lead, event="updated", before={}, after=changed)) == 50
    # Saving a rule clears the copy.
    rule_set_active(actor=org.admin, rule=Rule.objects.first(), active=False)
    assert len(rules.record_event(obj=lead, event="updated", before={}, after=changed)) == 49
    assert timezone.now()


def test_send_email_action_sends_the_template_through_smtp(org, run_jobs, settings):
    from aiosmtpd.controller import Controller

    from kizuna.mail.services import template_create
    from tests.mail.conftest import Collector, free_port

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "sales@kizuna.example"
    try:
        template = template_create(
            actor=org.admin,
            name="お問い合わせ御礼",
            subject_ja="{{ lead.family_name }}様 お問い合わせありがとうございます",
            body_ja="{{ lead.family_name }}様\n\nお問い合わせありがとうございます。",
        )
        rule = rule_save(
            actor=org.admin,
            name="お礼メール",
            object_type="lead",
            trigger="created",
            conditions=[{"field": "channel", "op": "eq", "value": "web_form"}],
            actions=[{"type": "send_email", "template": template.pk}],
        )
        with run_jobs():
            lead_create(
                actor=org.rep, family_name="田中", channel="web_form", email="tanaka@example.jp"
            )
        run = rule.runs.get()
        assert run.outcome == RuleRun.Outcome.SUCCEEDED, run.error
        (sent,) = handler.messages
        assert sent.rcpt_tos == ["tanaka@example.jp"]
        assert Activity.objects.filter(kind="email", lead__family_name="田中").exists()
        with pytest.raises(ValidationError):
            rule_save(
                actor=org.admin,
                name="x",
                object_type="lead",
                trigger="created",
                conditions=[],
                actions=[{"type": "send_email", "template": 999999}],
            )
    finally:
        controller.stop()


def test_queueing_a_rule_job_writes_no_job_log_row_until_it_runs(org):
    from huey.storage import MemoryStorage

    from kizuna.automation.jobs import huey
    from kizuna.automation.models import JobRun
    from kizuna.automation.tasks import run_rules

    storage, huey.storage = huey.storage, MemoryStorage("rules-test")
    huey.immediate = False
    try:
        run_rules("lead", 1, "created:x", [], 0, [])
        assert not JobRun.objects.filter(name="run_rules").exists()
    finally:
        huey.storage.flush_all()
        huey.immediate, huey.storage = True, storage
    run_rules("lead", 1, "created:y", [], 0, [])  # immediate: runs now
    assert JobRun.objects.get(name="run_rules").status == JobRun.Status.SUCCEEDED


def test_an_unexpected_error_is_logged_and_the_job_retried(org, monkeypatch):
    from django.db import OperationalError

    rule = rule_save(
        actor=org.admin,
        name="flaky",
        object_type="lead",
        trigger="created",
        conditions=[],
        actions=[{"type": "notify", "to": "owner", "message": "ok"}],
    )
    lead = lead_create(actor=org.rep, family_name="田中", channel="ad")
    real = rules.do_action
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(rules, "do_action", flaky)
    with pytest.raises(rules.RuleFailed):
        rules.run_rules(
            object_type="lead", object_id=lead.pk, event_key="created:z", rule_ids=[rule.pk]
        )
    run = rule.runs.get()
    assert run.outcome == RuleRun.Outcome.FAILED and "database is locked" in run.error
    assert Notification.objects.filter(kind="rule_failed").exists()
    # huey runs the job again: the same event, now it works, once.
    rules.run_rules(
        object_type="lead", object_id=lead.pk, event_key="created:z", rule_ids=[rule.pk]
    )
    run.refresh_from_db()
    assert run.outcome == RuleRun.Outcome.SUCCEEDED and run.attempts == 2
    assert Notification.objects.filter(kind="rule").count() == 1
