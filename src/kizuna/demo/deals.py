"""Demo deals: a pipeline that looks like a real quarter, with consistent stage history.

A deal past a stage has captured what that stage's exit criteria ask for, so that the
demo data never contradicts the rules the board enforces.
"""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from kizuna.customers.models import PROVINCES_KR, Company, Contact
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
    now = timezone.now()
    today = timezone.localdate()
    deals: list[Deal] = []
    paths: list[list[Stage]] = []
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
        created = now - datetime.timedelta(days=rng.uniform(5, 330))
        step = (now - created) / (len(path) + 1)
        deal = Deal(
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
            channel=rng.choice(["web_form", "referral", "trade_show", "seminar", "phone"]),
            forecast_category=rng.choice(["pipeline", "pipeline", "best_case", "commit"]),
            stage_entered_at=created + step * len(path),
            # Most deals saw an activity in the last days; some are left alone (below).
            last_touched_at=max(
                created + step * len(path), now - datetime.timedelta(days=rng.uniform(0, 8))
            ),
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
                deal.last_touched_at = deal.stage_entered_at = now - datetime.timedelta(
                    days=rng.randint(20, 60)
                )
        else:
            deal.closed_at = deal.stage_entered_at
            if target.outcome == Stage.Outcome.LOST:
                deal.loss_reason = rng.choice(reasons) if reasons else None
        deal.refresh_search_index()
        deals.append(deal)
        paths.append(path)
    Deal.objects.bulk_create(deals, batch_size=500)
    changes = []
    links = []
    for deal, path in zip(deals, paths, strict=True):
        at = deal.stage_entered_at - datetime.timedelta(days=9 * (len(path) - 1))
        previous = None
        for stage in path:
            changes.append(
                StageChange(
                    deal=deal,
                    from_stage=previous,
                    to_stage=stage,
                    actor_id=deal.owner_id,
                    at=at,
                    seconds_in_from=None if previous is None else 9 * 86400,
                )
            )
            previous = stage
            at += datetime.timedelta(days=9)
        people = contacts.get(deal.company_id, [])
        if people:
            role = "decision_maker" if deal.authority_status else "influencer"
            links.append(DealContact(deal=deal, contact_id=rng.choice(people), role=role))
    StageChange.objects.bulk_create(changes, batch_size=1000)
    DealContact.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    return len(deals)
