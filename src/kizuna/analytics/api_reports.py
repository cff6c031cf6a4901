"""The API of saved reports: CRUD, and running a saved or an unsaved spec."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Query, Router, Schema

from kizuna.analytics import reports
from kizuna.analytics import selectors_reports as selectors
from kizuna.analytics import services_reports as services
from kizuna.api.concurrency import IF_MATCH, expected_version
from kizuna.api.idempotency import IDEMPOTENCY_KEY, idempotent
from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.api.records import dump, respond, with_etag

router = Router(tags=["reports"])


class ReportOut(Schema):
    id: int
    name: str
    owner: int
    team: int | None
    shared: bool
    pinned: bool
    object: str
    spec: dict[str, Any]
    chart: str
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_owner(obj) -> int:
        return obj.owner_id

    @staticmethod
    def resolve_team(obj) -> int | None:
        return obj.team_id

    @staticmethod
    def resolve_object(obj) -> str:
        return obj.object_type


class ReportIn(Schema):
    name: str
    spec: dict[str, Any]
    shared: bool = False
    pinned: bool = False


class ReportPatch(Schema):
    name: str | None = None
    spec: dict[str, Any] | None = None
    shared: bool | None = None
    pinned: bool | None = None
    version: int | None = None


class SpecIn(Schema):
    spec: dict[str, Any]


class ReportFilters(Schema):
    q: str | None = None


class ColumnOut(Schema):
    key: str
    label: str
    kind: str
    measure: str
    currency: str


class GroupOut(Schema):
    key: Any
    label: str


class RowOut(Schema):
    groups: list[GroupOut]
    currency: str | None
    values: list[Decimal | int | None]


class ResultOut(Schema):
    """``values`` follow the measure columns; a sum or average of money is per currency
    (``currency``), and a value with nothing to compute is null (n/a)."""

    columns: list[ColumnOut]
    rows: list[RowOut]
    totals: list[RowOut]
    truncated: bool
    error: str


def _result(result: reports.Result) -> dict:
    measures = result.measure_columns

    def row(r: reports.Row) -> dict:
        return {
            "groups": [
                {"key": k, "label": label} for k, label in zip(r.keys, r.labels, strict=True)
            ],
            "currency": r.currency,
            # Money in the currency's unit (yen and won have none), on every database.
            "values": [
                reports.plain_value(v, c, r.currency)
                for v, c in zip(r.values, measures, strict=True)
            ],
        }

    return {
        "columns": [
            {
                "key": c.key,
                "label": c.label,
                "kind": c.kind,
                "measure": c.measure,
                "currency": c.currency,
            }
            for c in result.columns
        ],
        "rows": [row(r) for r in result.rows],
        "totals": [row(r) for r in result.totals],
        "truncated": result.truncated,
        "error": result.error,
    }


@router.get("/reports", response=page_schema(ReportOut))
def list_reports(request, filters: Query[ReportFilters], page: Query[PageQuery]):
    """Your reports, your subordinates', and those shared with your team."""
    return paginate(selectors.report_list(user=request.auth, q=filters.q or ""), page)


@router.post("/reports", response={201: ReportOut}, openapi_extra=IDEMPOTENCY_KEY)
def create_report(request, payload: ReportIn):
    """Save a report. ``spec``: ``object``, ``filters``, ``group_by`` (at most two),
    ``measures`` and ``chart``; see the report builder's documentation."""

    def create():
        report = services.report_create(actor=request.auth, **payload.dict())
        return 201, dump(ReportOut, report)

    return idempotent(request, create, respond)


@router.post("/reports/run", response=ResultOut)
def run_unsaved_report(request, payload: SpecIn):
    """Run a spec without saving it (what the builder's preview shows)."""
    try:
        result = selectors.run_spec(user=request.auth, spec=payload.spec)
    except ValidationError as exc:
        # The same keys as when saving: ``loc`` is ["body", "spec", ...].
        raise ValidationError(
            {f"spec.{k}" if k != "spec" else k: v for k, v in exc.message_dict.items()}
        ) from exc
    return _result(result)


@router.get("/reports/{int:report_id}", response=ReportOut)
def get_report(request, report_id: int, response: HttpResponse):
    return with_etag(response, selectors.report_detail(user=request.auth, pk=report_id))


@router.patch("/reports/{int:report_id}", response=ReportOut, openapi_extra=IF_MATCH)
def update_report(request, report_id: int, payload: ReportPatch, response: HttpResponse):
    report = selectors.report_detail(user=request.auth, pk=report_id)
    data = payload.dict(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    report = services.report_update(actor=request.auth, report=report, version=version, **data)
    return with_etag(response, report)


@router.delete("/reports/{int:report_id}", response={204: None}, openapi_extra=IF_MATCH)
def delete_report(request, report_id: int):
    report = selectors.report_detail(user=request.auth, pk=report_id)
    services.report_delete(actor=request.auth, report=report, version=expected_version(request))
    return HttpResponse(status=204)


@router.get("/reports/{int:report_id}/run", response=ResultOut)
def run_report(request, report_id: int):
    """The report's result as you see it: only the records you may see are counted."""
    report = selectors.report_detail(user=request.auth, pk=report_id)
    return _result(selectors.run_report(user=request.auth, report=report))
