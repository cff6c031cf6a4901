import csv
import io
import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core import access, ui
from kizuna.core.models import ObjectType
from kizuna.imports import reading, services
from kizuna.imports.fields import ENTITIES, FIELDS
from kizuna.imports.models import ImportBatch, ImportRow, MappingPreset

Status = ImportBatch.Status
LIST_URLS = {
    "company": "customers:company_list",
    "contact": "customers:contact_list",
    "lead": "customers:lead_list",
    "deal": "sales:deal_list",
    "activity": "activities:activity_list",
}


def _batch(request, pk) -> ImportBatch:
    batch = ImportBatch.objects.select_related("created_by").filter(pk=pk).first()
    if batch is None or not services.may_manage(request.user, batch):
        raise Http404
    return batch


def _entity_choices():
    labels = dict(ObjectType.choices)
    return [(e, labels[e]) for e in ENTITIES]


@login_required
def import_list(request):
    batches = ImportBatch.objects.select_related("created_by")
    if not access.is_admin(request.user):
        batches = batches.filter(created_by=request.user)
    return render(
        request,
        "imports/import_list.html",
        {"page": ui.paginate(request, batches), "entities": _entity_choices()},
    )


@login_required
def import_new(request):
    entity = request.POST.get("entity") or request.GET.get("entity") or "contact"
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors.append(_("Choose a file."))
        else:
            try:
                batch = services.batch_upload(actor=request.user, entity=entity, upload=upload)
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                return redirect("imports:import_detail", batch.pk)
    return render(
        request,
        "imports/import_new.html",
        {"entity": entity, "entities": _entity_choices(), "errors": errors},
        status=422 if errors else 200,
    )


def _samples(batch: ImportBatch, count: int = 3) -> list[list[str]]:
    """The first rows of the file, per column, for the mapping page."""
    try:
        with default_storage.open(batch.file_path, "rb") as handle:
            table = reading.open_table(handle, batch.file_name)
            rows = [cells for _n, cells in itertools.islice(table.rows, count)]
    except (OSError, ValueError):
        return [[] for _h in batch.headers]
    return [[r[i] if i < len(r) else "" for r in rows] for i in range(len(batch.headers))]


@login_required
def import_detail(request, pk):
    batch = _batch(request, pk)
    context: dict = {"batch": batch, "list_url": reverse(LIST_URLS[batch.entity])}
    if batch.status == Status.UPLOADED or request.GET.get("remap"):
        context.update(
            columns=list(zip(batch.headers, batch.mapping, _samples(batch), strict=False)),
            fields=FIELDS[batch.entity],
            presets=MappingPreset.objects.filter(entity=batch.entity),
            encoding=reading.ENCODING_LABELS.get(batch.encoding, batch.encoding),
        )
        return render(request, "imports/import_mapping.html", context)
    outcome = request.GET.get("outcome", "")
    rows = batch.rows.all()
    if outcome:
        rows = rows.filter(outcome=outcome)
    page = ui.paginate(request, rows, per_page=50)
    labels = {f.key: str(f.label) for f in FIELDS[batch.entity]}
    for row in page.object_list:
        row.display = _display(row)
        row.changed_labels = [labels.get(k, k) for k in row.changed_fields]
    context.update(
        review_url=_review_url(),
        outcome=outcome,
        tabs=[
            (value, label, batch.counts.get(value, 0))
            for value, label in ImportRow.Outcome.choices
            if batch.counts.get(value)
        ],
        page=page,
        can_undo=batch.status == Status.DONE,
    )
    return render(request, "imports/import_detail.html", context)


def _display(row: ImportRow) -> str:
    if row.outcome == ImportRow.Outcome.ERROR:
        return ", ".join(c for c in row.cells if c)
    parts = []
    for key, value in row.values.items():
        if key.startswith("_") or key.startswith("company_") or key in ("owner", "stage_id"):
            continue
        parts.append(", ".join(value) if isinstance(value, list) else str(value))
    return " · ".join(p for p in parts if p)


def _review_url() -> str:
    from django.urls import NoReverseMatch

    for name in ("dedup:candidate_list", "dedup:review_queue", "dedup:queue"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


@login_required
def import_progress(request, pk):
    batch = _batch(request, pk)
    response = render(request, "imports/_progress.html", {"batch": batch})
    if not batch.is_working:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_mapping(request, pk):
    batch = _batch(request, pk)
    if request.POST.get("preset"):
        preset = MappingPreset.objects.filter(
            pk=request.POST["preset"], entity=batch.entity
        ).first()
        if preset is not None:
            batch.mapping = services.preset_apply(batch=batch, preset=preset)
            batch.save(update_fields=["mapping"])
        return redirect(reverse("imports:import_detail", args=[batch.pk]) + "?remap=1")
    mapping = [request.POST.get(f"col_{i}", "") for i in range(len(batch.headers))]
    try:
        services.batch_set_mapping(
            actor=request.user,
            batch=batch,
            mapping=mapping,
            preset_name=request.POST.get("preset_name", ""),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(reverse("imports:import_detail", args=[batch.pk]) + "?remap=1")
    return redirect("imports:import_detail", batch.pk)


@login_required
@require_POST
def import_run(request, pk):
    batch = _batch(request, pk)
    try:
        services.batch_start(actor=request.user, batch=batch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:import_detail", batch.pk)


@login_required
@require_POST
def import_cancel(request, pk):
    batch = _batch(request, pk)
    services.batch_cancel(actor=request.user, batch=batch)
    messages.info(request, _("Cancelling: everything written so far is being removed."))
    return redirect("imports:import_detail", batch.pk)


@login_required
@require_POST
def import_undo(request, pk):
    batch = _batch(request, pk)
    try:
        services.batch_undo(actor=request.user, batch=batch, force=request.POST.get("force") == "1")
    except services.UndoConflict as exc:
        return render(
            request,
            "imports/import_undo_confirm.html",
            {"batch": batch, "names": exc.names},
            status=409,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The import was undone."))
    return redirect("imports:import_detail", batch.pk)


@login_required
def import_errors(request, pk):
    """The rows with errors: the original cells plus the reason (UTF-8 with BOM)."""
    batch = _batch(request, pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Row"), *batch.headers, _("Reason")])
    for number, cells, message in batch.rows.filter(outcome=ImportRow.Outcome.ERROR).values_list(
        "number", "cells", "message"
    ):
        writer.writerow([number, *cells, message])
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    stem = batch.file_name.rsplit(".", 1)[0]
    response["Content-Disposition"] = f'attachment; filename="{stem}-errors.csv"'.encode(
        "ascii", "ignore"
    ).decode()
    response["Content-Disposition"] += f"; filename*=UTF-8''{_quote(stem)}-errors.csv"
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
