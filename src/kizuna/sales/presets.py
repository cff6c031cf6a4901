"""The pipelines, loss reasons and hand-off tasks Kizuna ships with.

Functions take the model classes so that a data migration can use its historical models.
"""

from typing import Any

# (phase names ja/ko/en, [(stage ja/ko/en, probability, outcome, required, checklist)])
SIX_PHASE: list[tuple[tuple[str, str, str], list[tuple[Any, ...]]]] = [
    (
        ("アプローチ", "어프로치", "Approach"),
        [
            (("初回接触", "첫 접촉", "First contact"), 10, "open", [], []),
            (("アポ獲得", "미팅 확보", "Meeting set"), 15, "open", ["next_action"], []),
        ],
    ),
    (
        ("ヒアリング", "히어링", "Hearing"),
        [
            (("ヒアリング中", "히어링 중", "Hearing in progress"), 20, "open", [], []),
            (
                ("課題確認済み", "과제 확인 완료", "Needs confirmed"),
                30,
                "open",
                ["need", "authority", "budget"],
                [],
            ),
        ],
    ),
    (
        ("提案", "제안", "Proposal"),
        [
            (("資料作成中", "자료 작성 중", "Preparing materials"), 40, "open", [], []),
            (
                ("提案済み・反応待ち", "제안 완료·반응 대기", "Proposed, awaiting response"),
                50,
                "open",
                ["first_reaction", "competitor", "timing"],
                [],
            ),
        ],
    ),
    (
        ("クロージング", "클로징", "Closing"),
        [
            (
                ("見積提示", "견적 제시", "Quote presented"),
                70,
                "open",
                ["amount", "expected_close_date"],
                [],
            ),
            (
                ("稟議中", "품의 중", "In approval"),
                80,
                "open",
                ["hurdle", "next_step"],
                [
                    {
                        "key": "approval_route",
                        "name": "Approval route confirmed",
                        "translations": {
                            "ja": "稟議ルートを確認した",
                            "ko": "결재 라인을 확인했다",
                            "en": "Approval route confirmed",
                        },
                    }
                ],
            ),
        ],
    ),
    (("成約", "계약 성사", "Won"), [(("受注", "수주", "Won"), 100, "won", [], [])]),
    (
        ("フォロー", "팔로우", "Follow-up"),
        [(("導入支援中", "도입 지원 중", "Onboarding"), 100, "won", [], [])],
    ),
]
SIX_PHASE_LOST: tuple[Any, ...] = (("失注", "실주", "Lost"), 0, "lost", [], [])

SMB: list[tuple[Any, ...]] = [
    (("新規リード", "신규 리드", "New lead"), 10, "open", [], []),
    (("一次接触", "1차 접촉", "First contact"), 20, "open", ["next_action"], []),
    (("要件確認", "요건 확인", "Requirements"), 30, "open", ["need", "budget", "authority"], []),
    (("提案", "제안", "Proposal"), 50, "open", ["timing"], []),
    (("見積", "견적", "Quote"), 70, "open", ["amount", "expected_close_date"], []),
    (("交渉", "협상", "Negotiation"), 80, "open", [], []),
    (("受注", "수주", "Won"), 100, "won", [], []),
    (("失注", "실주", "Lost"), 0, "lost", [], []),
]

TEMPLATES = {
    "six_phase": (
        ("新規開拓(6フェーズ)", "신규 개척(6페이즈)", "New business (6 phases)"),
        "new_business",
    ),
    "smb": (("SMB パイプライン", "SMB 파이프라인", "SMB pipeline"), "new_business"),
}

LOSS_REASONS = [
    ("価格", "가격", "Price"),
    ("競合に敗退", "경쟁사에 패배", "Lost to a competitor"),
    ("予算なし", "예산 없음", "No budget"),
    ("時期尚早", "시기상조", "Timing"),
    ("機能不足", "기능 부족", "Missing features"),
    ("連絡途絶", "연락 두절", "No response"),
    ("その他", "기타", "Other"),
]

HANDOFF_TASKS = [
    (("請求書発行", "청구서 발행", "Issue the invoice"), 3),
    (("導入キックオフの設定", "도입 킥오프 일정 잡기", "Schedule the onboarding kick-off"), 5),
]


def _names(names: tuple[str, str, str]) -> dict[str, Any]:
    ja, ko, en = names
    return {"name": en, "translations": {"ja": ja, "ko": ko, "en": en}}


def install_pipeline(template: str, *, Pipeline, Phase, Stage, position: int = 0):
    names, kind = TEMPLATES[template]
    pipeline = Pipeline.objects.create(kind=kind, position=position, **_names(names))
    stage_position = 0

    def add(stage: tuple[Any, ...], phase=None) -> None:
        nonlocal stage_position
        stage_names, probability, outcome, required, checklist = stage
        Stage.objects.create(
            pipeline=pipeline,
            phase=phase,
            position=stage_position,
            probability=probability,
            outcome=outcome,
            required_fields=required,
            checklist=checklist,
            **_names(stage_names),
        )
        stage_position += 1

    if template == "six_phase":
        for phase_position, (phase_names, stages) in enumerate(SIX_PHASE):
            phase = Phase.objects.create(
                pipeline=pipeline, position=phase_position, **_names(phase_names)
            )
            for stage in stages:
                add(stage, phase)
        add(SIX_PHASE_LOST)
    else:
        for stage in SMB:
            add(stage)
    return pipeline


def install_defaults(*, Pipeline, Phase, Stage, LossReason, HandoffTask) -> None:
    if not Pipeline.objects.exists():
        install_pipeline("six_phase", Pipeline=Pipeline, Phase=Phase, Stage=Stage)
    if not LossReason.objects.exists():
        for position, names in enumerate(LOSS_REASONS):
            LossReason.objects.create(position=position, **_names(names))
    if not HandoffTask.objects.exists():
        for names, days in HANDOFF_TASKS:
            ja, ko, en = names
            HandoffTask.objects.create(
                subject=en, translations={"ja": ja, "ko": ko, "en": en}, due_in_days=days
            )
