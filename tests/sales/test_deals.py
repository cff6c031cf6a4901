"""Deals through their stages: exit criteria, history, hand-off, hygiene, forecast."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from kizuna.activities.models import Activity
from kizuna.activities.services import activity_create
from kizuna.core.models import AuditEntry, OrgSettings
from kizuna.customers.services import company_create
from kizuna.sales import selectors, services
from kizuna.sales.forms import DealForm
from kizuna.sales.models import Deal, LossReason, Pipeline, Stage, StageChange

pytestmark = pytest.mark.django_db


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline=Pipeline.objects.first(), translations__ja=name)


@pytest.fixture
def company(org):
    return company_create(actor=org.rep, name="株式会社テスト商事")


@pytest.fixture
def deal(org, company):
    return services.deal_create(
        actor=org.rep, name="基幹システム刷新", company=company, amount=1000
    )


def test_the_six_phase_pipeline_ships_translated():
    pipeline = Pipeline.objects.get()
    phases = [p.translations["ja"] for p in pipeline.phases.all()]
    assert phases == ["アプローチ", "ヒアリング", "提案", "クロージング", "成約", "フォロー"]
    names = [s.translations["ja"] for s in pipeline.stages.all()]
    assert "資料作成中" in names and "提案済み・反応待ち" in names and names[-1] == "失注"
    s = stage("資料作成中")
    with translation.override("ko"):
        assert s.label == "자료 작성 중"
    with translation.override("en"):
        assert s.label == "Preparing materials"
    assert LossReason.objects.count() >= 5


def test_a_new_deal_starts_in_the_first_stage_and_has_history(org, deal):
    assert deal.stage == stage("初回接触")
    assert deal.status == "open" and deal.team == org.tokyo
    [change] = StageChange.objects.filter(deal=deal)
    assert change.from_stage is None and change.actor == org.rep
    assert AuditEntry.objects.filter(object_type="deal", object_id=deal.pk).exists()


def test_a_forward_move_names_every_missing_item_and_changes_nothing(org, deal):
    services.deal_update(actor=org.rep, deal=deal, next_action="訪問", next_action_due=None)
    deal.refresh_from_db()
    with pytest.raises(services.ExitCriteriaError) as refused:
        services.deal_move(actor=org.rep, deal=deal, stage=stage("資料作成中"))
    missing = [m.key for m in refused.value.missing]
    # アポ獲得 needs the next action with a due date; 課題確認済み needs need, authority, budget.
    assert missing == ["next_action", "need", "authority", "budget"]
    assert "Decision maker (BANT)" in refused.value.messages[0]
    assert "Budget (BANT)" in refused.value.messages[0]
    deal.refresh_from_db()
    assert deal.stage == stage("初回接触")
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_filling_the_criteria_lets_the_deal_move_and_records_it(org, deal):
    services.deal_update(
        actor=org.rep,
        deal=deal,
        next_action="提案書送付",
        next_action_due=timezone.localdate(),
        need_status="captured",
        authority_status="captured",
        authority_note="田中部長",
        budget_status="captured",
    )
    moved = services.deal_move(actor=org.rep, deal=deal, stage=stage("資料作成中"))
    assert moved.stage == stage("資料作成中") and moved.version == deal.version + 2
    change = StageChange.objects.filter(deal=deal).last()
    assert change.from_stage == stage("初回接触") and change.seconds_in_from is not None
    timeline = Activity.objects.get(deal=deal, kind="stage")
    assert "→" in timeline.subject and timeline.company == deal.company
    # Backwards is always allowed.
    back = services.deal_move(actor=org.rep, deal=moved, stage=stage("ヒアリング中"))
    assert back.stage == stage("ヒアリング中")


def test_lost_needs_a_reason_but_no_criteria(org, deal):
    with pytest.raises(ValidationError) as refused:
        services.deal_move(actor=org.rep, deal=deal, stage=stage("失注"))
    assert "loss_reason" in refused.value.message_dict
    reason = LossReason.objects.first()
    lost = services.deal_move(actor=org.rep, deal=deal, stage=stage("失注"), loss_reason=reason)
    assert lost.status == "lost" and lost.closed_at and lost.loss_reason == reason
    reopened = services.deal_move(actor=org.rep, deal=lost, stage=stage("初回接触"))
    assert reopened.status == "open" and reopened.closed_at is None


def _complete(org, deal):
    return services.deal_update(
        actor=org.rep,
        deal=deal,
        next_action="契約締結",
        next_action_due=timezone.localdate(),
        need_status="captured",
        authority_status="captured",
        budget_status="captured",
        timing_status="captured",
        first_reaction="positive",
        competitor="no",
        hurdle="approval",
        next_step="scheduled",
        expected_close_date=timezone.localdate(),
    )


def test_winning_checks_the_checklist_and_creates_the_handoff_tasks(org, deal):
    deal = _complete(org, deal)
    with pytest.raises(services.ExitCriteriaError) as refused:
        services.deal_move(actor=org.rep, deal=deal, stage=stage("受注"))
    assert [m.kind for m in refused.value.missing] == ["checklist"]
    approval = stage("稟議中")
    deal = services.deal_set_checklist(
        actor=org.rep, deal=deal, stage=approval, key=approval.checklist[0]["key"], done=True
    )
    won = services.deal_move(actor=org.rep, deal=deal, stage=stage("受注"))
    assert won.status == "won" and won.closed_at
    tasks = Activity.objects.filter(deal=won, kind="task")
    assert tasks.count() == 2
    assert all(t.assignee == org.rep and t.due_date > timezone.localdate() for t in tasks)
    # Moving on to フォロー keeps it won and does not create the tasks twice.
    services.deal_move(actor=org.rep, deal=won, stage=stage("導入支援中"))
    assert Activity.objects.filter(deal=won, kind="task").count() == 2


def test_a_deal_cannot_be_created_past_incomplete_stages(org, company):
    with pytest.raises(services.ExitCriteriaError):
        services.deal_create(actor=org.rep, name="x", company=company, stage=stage("稟議中"))
    assert not Deal.objects.exists()


def test_bulk_moves_are_all_or_nothing(org, company, deal):
    ready = _complete(
        org, services.deal_create(actor=org.rep, name="準備済み", company=company, amount=5)
    )
    with pytest.raises(ValidationError) as refused:
        services.deal_bulk_move(actor=org.rep, deals=[ready, deal], stage=stage("見積提示"))
    assert "基幹システム刷新" in refused.value.messages[0]
    ready.refresh_from_db()
    assert ready.stage == stage("初回接触")


def test_only_editors_may_move(org, deal):
    with pytest.raises(PermissionDenied):
        services.deal_move(actor=org.outsider, deal=deal, stage=stage("アポ獲得"))


def test_fields_appear_when_the_deal_reaches_the_stage_that_needs_them(org, deal):
    form = DealForm(instance=deal)
    assert "budget_status" not in form.fields and "first_reaction" not in form.fields
    assert "next_action" in form.fields
    deal = services.deal_update(
        actor=org.rep, deal=deal, next_action="x", next_action_due=timezone.localdate()
    )
    services.deal_move(actor=org.rep, deal=deal, stage=stage("課題確認済み"))
    deal.refresh_from_db()
    form = DealForm(instance=deal)
    assert "budget_status" in form.fields and "authority_note" in form.fields
    assert form.fields["budget_status"].widget.attrs.get("data-required-to-advance") == "1"
    assert "first_reaction" not in form.fields


@pytest.mark.parametrize(
    "raw, currency, expected",
    [
        ("1,200,000", "JPY", Decimal("1200000")),
        ("１，２００円", "JPY", Decimal("1200")),
        ("¥ 5000", "JPY", Decimal("5000")),
        ("₩50,000", "KRW", Decimal("50000")),
        ("19.99", "USD", Decimal("19.99")),
        ("", "JPY", Decimal("0")),
    ],
)
def test_amounts_are_read_as_people_type_them(raw, currency, expected):
    assert services.parse_amount(raw, currency) == expected


@pytest.mark.parametrize("raw", ["1,200.5", "-3", "百万", "12万"])
def test_amounts_that_are_not_clear_are_refused(raw):
    with pytest.raises(ValidationError):
        services.parse_amount(raw, "JPY")


def test_another_teams_open_deal_on_the_group_is_reported(org, company):
    site = company_create(
        actor=org.admin, owner=org.outsider, name="テスト商事 大阪支店", parent=company
    )
    theirs = services.deal_create(actor=org.outsider, name="大阪案件", company=site)
    found = selectors.overlapping_for(user=org.rep, company=company, team_id=org.tokyo.pk)
    assert [d.pk for d in found] == [theirs.pk]
    assert found[0].is_visible is False  # the rep may not open it, but learns it exists
    assert not selectors.overlapping_for(user=org.rep, company=company, team_id=org.osaka.pk)


def test_stalled_and_next_action_hygiene(org, deal):
    assert selectors.card_badges(deal) == ["no_next_action"]
    Deal.objects.filter(pk=deal.pk).update(
        last_touched_at=timezone.now() - datetime.timedelta(days=30),
        next_action="電話",
        next_action_due=timezone.localdate() - datetime.timedelta(days=1),
    )
    deal.refresh_from_db()
    assert selectors.card_badges(deal) == ["stalled", "overdue"]
    assert selectors.hygiene_counts(user=org.rep) == {
        "stalled": 1,
        "no_next_action": 0,
        "overdue": 1,
    }
    assert selectors.hygiene_counts(user=org.outsider)["stalled"] == 0
    # An activity on the deal un-stalls it.
    activity_create(actor=org.rep, kind="call", subject="状況確認", deal=deal)
    deal.refresh_from_db()
    assert "stalled" not in selectors.card_badges(deal)


def test_fiscal_periods_follow_the_org_setting():
    periods = selectors.periods(datetime.date(2026, 11, 23))
    assert periods["month"].start == datetime.date(2026, 11, 1)
    assert periods["quarter"].start == datetime.date(2026, 10, 1)
    assert periods["quarter"].end == datetime.date(2027, 1, 1)
    assert periods["year"].start == datetime.date(2026, 4, 1)
    settings = OrgSettings.get()
    settings.fiscal_year_start_month = 1
    settings.save()
    periods = selectors.periods(datetime.date(2026, 2, 10))
    assert periods["year"].start == datetime.date(2026, 1, 1)
    assert periods["quarter"].end == datetime.date(2026, 4, 1)


def test_forecast_adds_up_by_owner(org, company):
    today = timezone.localdate()
    quarter = selectors.periods(today)["quarter"]

    def make(name, amount, category="pipeline", close=today, owner=org.rep):
        return services.deal_create(
            actor=owner,
            name=name,
            company=company,
            amount=amount,
            expected_close_date=close,
            forecast_category=category,
        )

    make("a", 1_000_000)  # 初回接触: 10 %
    make("b", 2_000_000, "commit")
    make("c", 500_000, "omitted")
    make("later", 9_000_000, close=quarter.end + datetime.timedelta(days=1))
    services.deal_create(
        actor=org.rep,
        name="usd",
        company=company,
        amount=5,
        currency="USD",
        expected_close_date=today,
    )
    rows, total = selectors.forecast(user=org.rep, period=quarter)
    assert total.pipeline == Decimal(3_000_000)  # omitted, later and USD deals are not in it
    assert total.commit == Decimal(2_000_000)
    assert total.weighted == Decimal(300_000)  # 10 % (初回接触) of 3,000,000
    assert total.open_count == 3
    assert [r.label for r in rows] == [str(org.rep)]
    # The outsider's forecast does not include what she may not see.
    assert selectors.forecast(user=org.outsider, period=quarter)[1].pipeline == 0


def test_board_queries_do_not_grow_with_deals(org, company, django_assert_max_num_queries):
    pipeline = Pipeline.objects.get()
    for i in range(3):
        services.deal_create(actor=org.rep, name=f"d{i}", company=company)
    with CaptureQueriesContext(connection) as few:
        selectors.board(user=org.rep, pipeline=pipeline, filters={})
    for i in range(30):
        services.deal_create(actor=org.rep, name=f"e{i}", company=company)
    with django_assert_max_num_queries(len(few)):
        columns = selectors.board(user=org.rep, pipeline=pipeline, filters={})
    first = columns[0]
    assert first.count == 33 and len(first.deals) == selectors.BOARD_PAGE and first.has_more


def test_conversion_and_time_in_stage(org, deal):
    deal = services.deal_update(
        actor=org.rep, deal=deal, next_action="x", next_action_due=timezone.localdate()
    )
    services.deal_move(actor=org.rep, deal=deal, stage=stage("ヒアリング中"))
    rows = {
        r["stage"].translations["ja"]: r
        for r in selectors.conversion(user=org.rep, pipeline=Pipeline.objects.get())
    }
    assert rows["初回接触"]["entered"] == 1 and rows["初回接触"]["rate"] == 1.0
    assert rows["ヒアリング中"]["onward"] == 0 and rows["ヒアリング中"]["rate"] == 0.0
    deal.refresh_from_db()
    spent = dict((s.translations["ja"], sec) for s, sec in selectors.time_in_stages(deal=deal))
    assert set(spent) == {"初回接触", "ヒアリング中"}


def test_the_daily_hygiene_job_alerts_owner_and_manager_once(org, deal):
    from kizuna.automation.models import Notification
    from kizuna.sales.tasks import alert_deal_hygiene

    Deal.objects.filter(pk=deal.pk).update(
        last_touched_at=timezone.now() - datetime.timedelta(days=40)
    )
    assert alert_deal_hygiene() == 4  # stalled + no next action, to the rep and her manager
    kinds = set(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == {
        ("rep", "deal_stalled"),
        ("rep", "deal_no_next_action"),
        ("manager", "deal_stalled"),
        ("manager", "deal_no_next_action"),
    }
    assert alert_deal_hygiene() == 0  # a second run the same day is a no-op
    assert "40" in Notification.objects.filter(kind="deal_stalled").first().text


def test_winning_and_losing_send_the_webhooks(org, deal, django_capture_on_commit_callbacks):
    from kizuna.automation.models import WebhookDelivery, WebhookSubscription

    WebhookSubscription.objects.create(
        name="会計システム",
        url="http://127.0.0.1:9/hook",
        events=["deal.won", "deal.lost"],
        secret="s" * 32,
    )
    reason = LossReason.objects.first()
    services.deal_move(actor=org.rep, deal=deal, stage=stage("失注"), loss_reason=reason)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "deal.lost"
    assert delivery.payload["name"] == "基幹システム刷新"
    assert delivery.payload["from_stage"]["id"] == stage("初回接触").pk


def test_lead_time_runs_from_first_contact_to_won(org, deal):
    deal = _complete(org, deal)
    approval = stage("稟議中")
    deal = services.deal_set_checklist(
        actor=org.rep, deal=deal, stage=approval, key=approval.checklist[0]["key"], done=True
    )
    StageChange.objects.filter(deal=deal).update(at=timezone.now() - datetime.timedelta(days=30))
    services.deal_move(actor=org.rep, deal=deal, stage=stage("受注"))
    days = selectors.lead_time_days(user=org.rep)
    assert days is not None and 29.9 < days < 30.1
    assert selectors.lead_time_days(user=org.outsider) is None


def test_the_edit_form_shows_the_amount_as_people_write_it(org, deal):
    form = DealForm(instance=services.deal_update(actor=org.rep, deal=deal, amount="4800000"))
    assert form.initial["amount"] == "4,800,000"
    assert services.parse_amount(form.initial["amount"], "JPY") == Decimal(4_800_000)
