"""Demo deals: a pipeline that looks like a real quarter, with consistent stage history.

A deal past a stage has captured what that stage's exit criteria ask for, so that the
demo data never contradicts the rules the board enforces.
"""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from kizuna.customers.models import PROVINCES_KR, Company, Contact, Lead
from kizuna.sales.models import Deal, DealContact, LossReason, Pipeline, Stage, StageChange

SUBJECTS_JA = [
    "クラウド会計システム導入",
    "営業支援ツール刷新",
    "保守契約更新",
    "全社PC入替",
    "物流管理システム構築",
    "セキュリティ診断",
    "研修プログラム導入",
    "基幹システム連携",
]
SUBJECTS_KO = [
    "클라우드 ERP 도입",
    "영업 지원 시스템 교체",
    "유지보수 계약 갱신",
    "보안 진단",
    "물류 관리 시스템 구축",
]
CAPTURED = {
    "amount": {},
    "expected_close_date": {},
    "budget": {"budget_status": "captured", "budget_note": "今期予算内"},
    "authority": {"authority_status": "captured", "authority_note": "部長決裁"},
    "need": {"need_status": "captured", "need_note": "手作業の削減"},
    "timing": {"timing_status": "captured", "timing_note": "来期初に稼働"},
    "first_reaction": {"first_reaction": "positive"},
    "competitor": {"competitor": "no"},
    "hurdle": {"hurdle": "approval", "hurdle_note": "役員会で稟議"},
    "next_step": {"next_step": "scheduled"},
}


def _install_defaults() -> None:
    from kizuna.sales.models import HandoffTask, Phase
    from kizuna.sales.presets import install_defaults

    install_defaults(
        Pipeline=Pipeline, Phase=Phase, Stage=Stage, LossReason=LossReason, HandoffTask=HandoffTask
    )


def create_demo_deals(*, count: int = 320, seed: int = 2024) -> int:
    rng = random.Random(seed)
    pipeline = Pipeline.objects.filter(is_active=True).first()
    if pipeline is None and not Pipeline.objects.exists():
        # The shipped pipeline and loss reasons come from a data migration; a
        # database flushed since (a transactional test run) has lost them, and
        # the demo would load no deals at all. Put the defaults back.
        _install_defaults()
        pipeline = Pipeline.objects.filter(is_active=True).first()
    if pipeline is None:
        return 0
    stages = list(pipeline.stages.all())
    open_stages = [s for s in stages if s.is_open]
    won = [s for s in stages if s.outcome == Stage.Outcome.WON]
    lost = next(s for s in stages if s.outcome == Stage.Outcome.LOST)
    reasons = list(LossReason.objects.all())
    companies = list(
        Company.objects.filter(parent__isnull=True).values_list(
            "id", "owner_id", "team_id", "prefecture"
        )
    )
    contacts: dict[int, list[int]] = {}
    for contact_id, company_id in Contact.objects.values_list("id", "company_id"):
        if company_id:
            contacts.setdefault(company_id, []).append(contact_id)
    if not companies:
        return 0
    # Leads converted into a company become the source of a deal there, so
    # that conversion by channel has something to count.
    source_leads = dict(
        Lead.objects.filter(converted_company__isnull=False)
        .order_by("converted_at")
        .values_list("converted_company_id", "id")
    )
    lead_channels = dict(
        Lead.objects.filter(id__in=source_leads.values()).values_list("id", "channel")
    )
    now = timezone.now()
    today = timezone.localdate()
    deals: list[Deal] = []
    paths: list[list[Stage]] = []
    starts: list[datetime.datetime] = []
    for _i in range(count):
        company_id, owner_id, team_id, prefecture = rng.choice(companies)
        kr = prefecture in PROVINCES_KR
        roll = rng.random()
        if roll < 0.62:
            target = rng.choices(open_stages, [5, 4, 4, 3, 3, 3, 2, 2][: len(open_stages)])[0]
            path = [s for s in open_stages if s.position <= target.position]
        elif roll < 0.84:
            target = won[0] if rng.random() < 0.85 or len(won) == 1 else won[1]
            path = [*open_stages, *[w for w in won if w.position <= target.position]]
        else:
            reached = rng.choice(open_stages)
            path = [s for s in open_stages if s.position <= reached.position] + [lost]
            target = lost
        # Eighteen months of history: closed deals end anywhere between
        # their start and today, open ones entered their stage lately.
        created = now - datetime.timedelta(days=rng.uniform(5, 540))
        if target.is_open:
            entered = created + (now - created) * len(path) / (len(path) + 1)
        else:
            entered = created + (now - created) * rng.uniform(0.3, 1.0)
        source_lead_id = source_leads.pop(company_id, None)
        deal = Deal(
            created_at=created,
            updated_at=entered,
            name=rng.choice(SUBJECTS_KO if kr else SUBJECTS_JA),
            company_id=company_id,
            owner_id=owner_id,
            team_id=team_id,
            pipeline=pipeline,
            stage=target,
            status=target.outcome,
            currency="KRW" if kr else "JPY",
            amount=Decimal(rng.randrange(10, 900) * (100_000 if kr else 10_000)),
            expected_close_date=today + datetime.timedelta(days=rng.randint(-20, 150)),
            source_lead_id=source_lead_id,
            channel=lead_channels.get(source_lead_id or 0)
            or rng.choice(["web_form", "referral", "trade_show", "seminar", "phone"]),
            forecast_category=rng.choice(["pipeline", "pipeline", "best_case", "commit"]),
            stage_entered_at=entered,
            # Most deals saw an activity in the last days; some are left alone (below).
            last_touched_at=max(entered, now - datetime.timedelta(days=rng.uniform(0, 8))),
        )
        for stage in path[:-1]:
            for key in stage.required_fields:
                for name, value in CAPTURED.get(key, {}).items():
                    setattr(deal, name, value)
            if stage.checklist:
                deal.checklist_done[str(stage.pk)] = [i["key"] for i in stage.checklist]
            if "next_action" in stage.required_fields:
                deal.next_action = "見積送付" if not kr else "견적 송부"
                deal.next_action_due = today + datetime.timedelta(days=rng.randint(-5, 14))
        if target.is_open:
            if rng.random() < 0.75:
                deal.next_action = rng.choice(["定例MTG", "デモ実施", "見積提出", "決裁者面談"])
                deal.next_action_due = today + datetime.timedelta(days=rng.randint(-7, 21))
            if rng.random() < 0.2:
                # Untouched for a while: the stalled deals a manager must see.
                deal.last_touched_at = deal.stage_entered_at = max(
                    created, now - datetime.timedelta(days=rng.randint(20, 60))
                )
        else:
            deal.closed_at = deal.stage_entered_at
            if target.outcome == Stage.Outcome.LOST:
                deal.loss_reason = rng.choice(reasons) if reasons else None
        deal.refresh_search_index()
        deals.append(deal)
        paths.append(path)
        starts.append(created)
    from kizuna.demo.generate import keep_timestamps

    with keep_timestamps(Deal):
        Deal.objects.bulk_create(deals, batch_size=500)
    changes = []
    links = []
    for deal, path, created in zip(deals, paths, starts, strict=True):
        step = (deal.stage_entered_at - created) / max(len(path) - 1, 1)
        at = created
        previous = None
        for stage in path:
            changes.append(
                StageChange(
                    deal=deal,
                    from_stage=previous,
                    to_stage=stage,
                    actor_id=deal.owner_id,
                    at=at,
                    seconds_in_from=None if previous is None else int(step.total_seconds()),
                )
            )
            previous = stage
            at += step
        people = contacts.get(deal.company_id, [])
        if people:
            role = "decision_maker" if deal.authority_status else "influencer"
            links.append(DealContact(deal=deal, contact_id=rng.choice(people), role=role))
    StageChange.objects.bulk_create(changes, batch_size=1000)
    DealContact.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    return len(deals)


def create_demo_targets() -> int:
    """Quarterly won-amount targets per team and monthly call targets per rep,
    near what each has done, so that attainment reads like a real sales meeting."""
    from kizuna.analytics.models import Target
    from kizuna.analytics.periods import add_months, period_bounds
    from kizuna.iam.models import User

    today = timezone.localdate()
    quarter, _end = period_bounds("quarter", today)
    won = Deal.objects.filter(
        status=Deal.Status.WON,
        currency="JPY",
        closed_at__gte=timezone.now() - datetime.timedelta(days=182),
    )
    targets = []
    for team_id in {t for t in won.values_list("team_id", flat=True) if t}:
        amounts = [a for a in won.filter(team_id=team_id).values_list("amount", flat=True) if a]
        # A quarter's share of the last half year's wins, rounded to a million yen.
        per_quarter = sum(amounts, Decimal(0)) / 2
        value = max(Decimal(1_000_000), (per_quarter * Decimal("1.2")).quantize(Decimal("1e6")))
        for back in range(4):
            targets.append(
                Target(
                    metric=Target.Metric.WON_AMOUNT,
                    period_kind=Target.PeriodKind.QUARTER,
                    period_start=add_months(quarter, -3 * back),
                    team_id=team_id,
                    value=value,
                    currency="JPY",
                )
            )
    month, _end = period_bounds("month", today)
    for user_id in User.objects.filter(is_active=True, team__isnull=False).values_list(
        "id", flat=True
    ):
        targets.append(
            Target(
                metric=Target.Metric.CALLS,
                period_kind=Target.PeriodKind.MONTH,
                period_start=month,
                user_id=user_id,
                value=Decimal(40),
            )
        )
    Target.objects.bulk_create(targets)
    return len(targets)


def start_demo_lead_slas(*, seed: int = 2024) -> int:
    """First-contact deadlines for the demo leads, as the services set them: new
    leads are still waiting (the older ones past their deadline), the others
    were contacted before or after theirs."""
    from kizuna.automation import business_time, sla

    rng = random.Random(seed)
    calendar = business_time.load_calendar()
    hours = sla.sla_hours()
    leads = list(Lead.objects.only("id", "created_at", "status"))
    for lead in leads:
        due = business_time.add_business_hours(lead.created_at, hours, calendar=calendar)
        lead.first_contact_due_at = due
        if lead.status != Lead.Status.NEW:
            lead.first_contacted_at = lead.created_at + (due - lead.created_at) * rng.uniform(
                0.1, 1.3
            )
    Lead.objects.bulk_update(leads, ["first_contact_due_at", "first_contacted_at"], batch_size=500)
    return len(leads)
