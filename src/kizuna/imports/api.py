"""The API of imports: upload a file, preview it, run it, follow it, undo it.

The same services as the pages; the preview and the run are background jobs,
so ``preview`` and ``run`` answer at once and ``GET /imports/{id}`` tells the
progress. An import belongs to the user who uploaded it (and admins).
"""

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile

from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.core import access
from kizuna.imports import services
from kizuna.imports.models import ImportBatch, ImportRow

router = Router(tags=["imports"])


class ImportOut(Schema):
    id: int
    entity: str
    file_name: str
    encoding: str
    headers: list[str]
    mapping: list[str]
    status: str
    counts: dict[str, int]
    total: int
    processed: int
    percent: int
    error: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    undone_at: datetime.datetime | None


class ImportRowOut(Schema):
    id: int
    number: int
    outcome: str
    target_id: int | None
    values: dict
    message: str
    changed_fields: list[str]
    score: float | None


class MappingIn(Schema):
    # One field key per column ("" = not imported); the proposal when left out.
    mapping: list[str] | None = None
    preset_name: str = ""


class UndoIn(Schema):
    force: bool = False


class RowFilters(Schema):
    outcome: str | None = None


def _batch(request, import_id: int) -> ImportBatch:
    batch = ImportBatch.objects.select_related("created_by").filter(pk=import_id).first()
    if batch is None or not services.may_manage(request.auth, batch):
        raise Http404
    return batch


@router.get("/imports", response=page_schema(ImportOut))
def list_imports(request, page: Query[PageQuery]):
    batches = ImportBatch.objects.all()
    if not access.is_admin(request.auth):
        batches = batches.filter(created_by=request.auth)
    return paginate(batches, page)


@router.post("/imports", response={201: ImportOut})
def upload_import(
    request,
    entity: str = Form("contact"),
    file: UploadedFile | None = File(None),  # noqa: B008 (ninja declares parameters so)
):
    """Upload a CSV or XLSX file: the answer has its headers, encoding and proposed mapping."""
    if file is None:
        raise ValidationError({"file": _("Choose a CSV or Excel file.")})
    return Status(201, services.batch_upload(actor=request.auth, entity=entity, upload=file))


@router.get("/imports/{int:import_id}", response=ImportOut)
def get_import(request, import_id: int):
    """The import's status, progress and counts per outcome (the preview's summary)."""
    return _batch(request, import_id)


@router.get("/imports/{int:import_id}/rows", response=page_schema(ImportRowOut))
def list_import_rows(request, import_id: int, filters: Query[RowFilters], page: Query[PageQuery]):
    """What the preview decided per row (and, after the run, which rows failed)."""
    rows = ImportRow.objects.filter(batch=_batch(request, import_id))
    if filters.outcome:
        rows = rows.filter(outcome=filters.outcome)
    return paginate(rows, page)


@router.post("/imports/{int:import_id}/preview", response={202: ImportOut})
def preview_import(request, import_id: int, payload: MappingIn):
    """Save the mapping and start the preview job."""
    batch = _batch(request, import_id)
    mapping = batch.mapping if payload.mapping is None else payload.mapping
    batch = services.batch_set_mapping(
        actor=request.auth, batch=batch, mapping=mapping, preset_name=payload.preset_name
    )
    return Status(202, batch)


@router.post("/imports/{int:import_id}/run", response={202: ImportOut})
def run_import(request, import_id: int):
    """Start the import job of a previewed file."""
    return Status(202, services.batch_start(actor=request.auth, batch=_batch(request, import_id)))


@router.post("/imports/{int:import_id}/cancel", response={202: ImportOut})
def cancel_import(request, import_id: int):
    batch = _batch(request, import_id)
    services.batch_cancel(actor=request.auth, batch=batch)
    batch.refresh_from_db()
    return Status(202, batch)


@router.post("/imports/{int:import_id}/undo", response=ImportOut)
def undo_import(request, import_id: int, payload: UndoIn):
    """Undo the whole import; 422 naming the records changed since, unless ``force``."""
    batch = _batch(request, import_id)
    services.batch_undo(actor=request.auth, batch=batch, force=payload.force)
    batch.refresh_from_db()
    return batch
