"""The API of pipelines, stages, deals and their stage history."""

import datetime
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Response

from kizuna.api.concurrency import IF_MATCH, delete_checked, expected_version
from kizuna.api.errors import InvalidParameter
from kizuna.api.idempotency import IDEMPOTENCY_KEY, idempotent
from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.api.records import custom_filters, dump, many, respond, with_etag, write_args
from kizuna.api.schemas import RecordIn, RecordOut, VersionIn
from kizuna.customers import selectors as customer_selectors
from kizuna.sales import selectors, services
from kizuna.sales.models import Deal, LossReason, Pipeline, Stage

router = Router(tags=["sales"])
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class StageOut(Schema):
    id: int
    name: str
    label: str
    translations: dict[str, str]
    phase: str | None
    position: int
    probability: int
    outcome: str
    stall_days: int | None
    required_fields: list[str]
    checklist: list[dict[str, Any]]

    @staticmethod
    def resolve_phase(obj) -> str | None:
        return obj.phase.label if obj.phase else None


class PipelineOut(Schema):
    id: int
    name: str
    label: str
    translations: dict[str, str]
    kind: str
    is_active: bool
    default_stall_days: int
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj) -> list:
        return list(obj.stages.all())


class LossReasonOut(Schema):
    id: int
    name: str
    label: str


@router.get("/pipelines", response=list[PipelineOut])
def list_pipelines(request):
    return Pipeline.objects.prefetch_related("stages__phase")


@router.get("/pipelines/{int:pipeline_id}", response=PipelineOut)
def get_pipeline(request, pipeline_id: int):
    return Pipeline.objects.prefetch_related("stages__phase").get(pk=pipeline_id)


@router.get("/loss-reasons", response=list[LossReasonOut])
def list_loss_reasons(request):
    return selectors.loss_reasons()


# Deals -------------------------------------------------------------------------


class DealContactOut(Schema):
    contact: int
    role: str


class DealContactIn(Schema):
    contact: int
    role: str


class OverlapOut(Schema):
    """An open deal of another team on the same customer group; ``id`` only when visible."""

    id: int | None
    company: int
    team: int | None
    owner: int
    stage: str


class DealOut(RecordOut):
    name: str
    company: int
    pipeline: int
    stage: int
    status: str
    amount: Decimal
    currency: str
    expected_close_date: datetime.date | None
    channel: str
    source_lead: int | None
    probability: int | None
    effective_probability: int
    probability_reason: str
    forecast_category: str
    budget_status: str
    budget_note: str
    authority_status: str
    authority_note: str
    need_status: str
    need_note: str
    timing_status: str
    timing_note: str
    first_reaction: str
    first_reaction_note: str
    competitor: str
    competitor_name: str
    hurdle: str
    hurdle_note: str
    next_step: str
    next_step_note: str
    loss_reason: int | None
    loss_note: str
    won_points: str
    won_terms: str
    handoff_notes: str
    next_action: str
    next_action_due: datetime.date | None
    contacts: list[DealContactOut]
    closed_at: datetime.datetime | None
    stage_entered_at: datetime.datetime

    @staticmethod
    def resolve_company(obj) -> int:
        return obj.company_id

    @staticmethod
    def resolve_pipeline(obj) -> int:
        return obj.pipeline_id

    @staticmethod
    def resolve_stage(obj) -> int:
        return obj.stage_id

    @staticmethod
    def resolve_source_lead(obj) -> int | None:
        return obj.source_lead_id

    @staticmethod
    def resolve_loss_reason(obj) -> int | None:
        return obj.loss_reason_id

    @staticmethod
    def resolve_contacts(obj) -> list[dict]:
        return [{"contact": dc.contact_id, "role": dc.role} for dc in obj.deal_contacts.all()]


class DealCreated(DealOut):
    overlapping_deals: list[OverlapOut]


class DealFields(RecordIn):
    name: str | None = None
    company: int | None = None
    amount: Decimal | str | None = None
    currency: str | None = None
    expected_close_date: datetime.date | None = None
    channel: str | None = None
    source_lead: int | None = None
    probability: int | None = None
    probability_reason: str | None = None
    forecast_category: str | None = None
    budget_status: str | None = None
    budget_note: str | None = None
    authority_status: str | None = None
    authority_note: str | None = None
    need_status: str | None = None
    need_note: str | None = None
    timing_status: str | None = None
    timing_note: str | None = None
    first_reaction: str | None = None
    first_reaction_note: str | None = None
    competitor: str | None = None
    competitor_name: str | None = None
    hurdle: str | None = None
    hurdle_note: str | None = None
    next_step: str | None = None
    next_step_note: str | None = None
    loss_reason: int | None = None
    loss_note: str | None = None
    won_points: str | None = None
    won_terms: str | None = None
    handoff_notes: str | None = None
    next_action: str | None = None
    next_action_due: datetime.date | None = None
    contacts: list[DealContactIn] | None = None


class DealIn(DealFields):
    name: str
    company: int
    pipeline: int | None = None
    stage: int | None = None


class DealPatch(DealFields, VersionIn):
    pass


class DealFilters(Schema):
    q: str | None = None
    owner: int | None = None
    team: int | None = None
    tag: str | None = None
    pipeline: int | None = None
    stage: int | None = None
    company: int | None = None
    status: str | None = None
    close_month: str | None = None
    hygiene: str | None = None


class MoveIn(Schema):
    stage: int
    version: int | None = None
    loss_reason: int | None = None
    loss_note: str | None = None


class BulkMoveIn(Schema):
    deals: list[int]
    stage: int


class StageChangeOut(Schema):
    id: int
    from_stage: int | None
    to_stage: int
    actor: int | None
    at: datetime.datetime
    seconds_in_from: int | None

    @staticmethod
    def resolve_from_stage(obj) -> int | None:
        return obj.from_stage_id

    @staticmethod
    def resolve_to_stage(obj) -> int:
        return obj.to_stage_id

    @staticmethod
    def resolve_actor(obj) -> int | None:
        return obj.actor_id


def _deal_args(request, data: dict) -> dict:
    contacts = data.pop("contacts", None)
    args = write_args(
        Deal,
        data,
        {
            "company": customer_selectors.company_list(user=request.auth),
            "source_lead": customer_selectors.lead_list(user=request.auth),
            "pipeline": Pipeline.objects.filter(is_active=True),
            "stage": Stage.objects.all(),
            "loss_reason": LossReason.objects.all(),
        },
    )
    if contacts is not None:
        people = many(
            customer_selectors.contact_list(user=request.auth),
            [c["contact"] for c in contacts],
            "contacts",
        )
        by_id = {p.pk: p for p in people or []}
        args["contacts"] = [(by_id[c["contact"]], c["role"]) for c in contacts]
    amount = args.get("amount")
    if amount is not None:
        if isinstance(amount, str) and PLAIN_NUMBER.fullmatch(amount):
            # What the API itself answers ("1200000.00") comes back as a number.
            amount = Decimal(amount)
        args["amount"] = services.parse_amount(amount, args.get("currency") or "JPY")
    return args


def _prefetched(deal: Deal) -> Deal:
    return Deal.objects.prefetch_related("tags", "deal_contacts").get(pk=deal.pk)


@router.get("/deals", response=page_schema(DealOut))
def list_deals(request, filters: Query[DealFilters], page: Query[PageQuery]):
    f = filters.dict(exclude_none=True) | {"custom": custom_filters(request, "deal")}
    qs = selectors.deal_list(user=request.auth, filters=f).prefetch_related("tags", "deal_contacts")
    return paginate(qs, page)


@router.post("/deals", response={201: DealCreated}, openapi_extra=IDEMPOTENCY_KEY)
def create_deal(request, payload: DealIn):
    """Create a deal. ``overlapping_deals`` lists open deals of other teams on the same
    company, its parents or its children: the API creates the deal and warns."""

    def create():
        deal = services.deal_create(
            actor=request.auth, **_deal_args(request, payload.dict(exclude_unset=True))
        )
        overlapping = selectors.overlapping_for(
            user=request.auth, company=deal.company, team_id=deal.team_id, exclude_pk=deal.pk
        )
        body = dump(DealOut, _prefetched(deal))
        body["overlapping_deals"] = [
            {
                "id": d.pk if d.is_visible else None,  # type: ignore[attr-defined]
                "company": d.company_id,
                "team": d.team_id,
                "owner": d.owner_id,
                "stage": d.stage.label,
            }
            for d in overlapping
        ]
        return 201, body

    return idempotent(request, create, respond)


@router.get("/deals/{int:deal_id}", response=DealOut)
def get_deal(request, deal_id: int, response: HttpResponse):
    selectors.deal_detail(user=request.auth, pk=deal_id)
    return with_etag(response, _prefetched(Deal(pk=deal_id)))


@router.patch("/deals/{int:deal_id}", response=DealOut, openapi_extra=IF_MATCH)
def update_deal(request, deal_id: int, payload: DealPatch, response: HttpResponse):
    deal = selectors.deal_detail(user=request.auth, pk=deal_id)
    data = payload.dict(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    deal = services.deal_update(
        actor=request.auth, deal=deal, version=version, **_deal_args(request, data)
    )
    return with_etag(response, _prefetched(deal))


@router.delete("/deals/{int:deal_id}", response={204: None}, openapi_extra=IF_MATCH)
def delete_deal(request, deal_id: int):
    deal = selectors.deal_detail(user=request.auth, pk=deal_id)
    delete_checked(
        actor=request.auth, obj=deal, version=expected_version(request), delete=services.deal_delete
    )
    return HttpResponse(status=204)


class MissingOut(Schema):
    stage: int
    key: str
    label: str
    kind: str


class MoveRefused(Schema):
    detail: list[dict[str, Any]]
    missing: list[MissingOut]


def _refused(exc: services.ExitCriteriaError) -> Response:
    body = {
        "detail": [{"loc": ["body", "stage"], "msg": exc.messages[0], "type": "exit_criteria"}],
        "missing": [
            {"stage": m.stage_id, "key": m.key, "label": m.label, "kind": m.kind}
            for m in exc.missing
        ],
    }
    return Response(body, status=422)


@router.post(
    "/deals/{int:deal_id}/move",
    response={200: DealOut, 422: MoveRefused},
    openapi_extra=IF_MATCH,
)
def move_deal(request, deal_id: int, payload: MoveIn, response: HttpResponse):
    """Move to a stage. A forward move that leaves a stage incomplete answers 422 with
    ``missing``: each required field or checklist item, in the user's language."""
    deal = selectors.deal_detail(user=request.auth, pk=deal_id)
    args = write_args(
        Deal,
        {"stage": payload.stage, "loss_reason": payload.loss_reason},
        {"stage": Stage.objects.all(), "loss_reason": LossReason.objects.all()},
    )
    try:
        deal = services.deal_move(
            actor=request.auth,
            deal=deal,
            stage=args["stage"],
            version=expected_version(request, payload.version),
            loss_reason=args.get("loss_reason"),
            loss_note=payload.loss_note,
        )
    except services.ExitCriteriaError as exc:
        return _refused(exc)
    return with_etag(response, _prefetched(deal))


@router.post("/deals/bulk-move", response={200: list[int], 422: MoveRefused})
def bulk_move_deals(request, payload: BulkMoveIn):
    """Move every listed deal or none; a refusal names each deal and what it lacks."""
    deals = list(selectors.deal_list(user=request.auth).filter(pk__in=payload.deals))
    if len(deals) != len(set(payload.deals)):
        raise ValidationError({"deals": [_("Choose a record you have access to.")]})
    stage = write_args(Deal, {"stage": payload.stage}, {"stage": Stage.objects.all()})["stage"]
    moved = services.deal_bulk_move(actor=request.auth, deals=deals, stage=stage)
    return [d.pk for d in moved]


@router.get("/deals/{int:deal_id}/stage-history", response=list[StageChangeOut])
def deal_stage_history(request, deal_id: int):
    deal = selectors.deal_detail(user=request.auth, pk=deal_id)
    return selectors.stage_history(deal=deal)


class ForecastRowOut(Schema):
    key: int | None
    label: str
    pipeline: Decimal
    weighted: Decimal
    commit: Decimal
    best_case: Decimal
    won: Decimal
    open_count: int


class ForecastOut(Schema):
    period: str
    start: datetime.date
    end: datetime.date
    currency: str
    rows: list[ForecastRowOut]
    total: ForecastRowOut


class ForecastQuery(Schema):
    period: str = "quarter"
    by: str = "owner"
    currency: str = "JPY"


@router.get("/forecast", response=ForecastOut)
def get_forecast(request, query: Query[ForecastQuery]):
    """Expected orders for this month, quarter or fiscal year (``end`` is exclusive)."""
    periods = selectors.periods()
    if query.period not in periods:
        raise InvalidParameter("query", "period", "month, quarter or year")
    if query.by not in ("owner", "team"):
        raise InvalidParameter("query", "by", "owner or team")
    period = periods[query.period]
    rows, total = selectors.forecast(
        user=request.auth, period=period, group_by=query.by, currency=query.currency
    )
    return {
        "period": period.key,
        "start": period.start,
        "end": period.end,
        "currency": query.currency,
        "rows": rows,
        "total": total,
    }
