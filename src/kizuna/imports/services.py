"""Every write of the import app: upload, mapping, run, cancel, undo, presets."""

import uuid
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.automation.jobs import enqueue_on_commit
from kizuna.core import access, audit
from kizuna.core.models import AuditEntry
from kizuna.imports import analysis, reading, writing
from kizuna.imports.fields import ENTITIES, FIELDS, propose
from kizuna.imports.models import ImportBatch, ImportRow, MappingPreset

Status = ImportBatch.Status
MAX_SIZE = 500 * 1024 * 1024


class UndoConflict(ValidationError):
    """Records changed after the import; ``names`` says which."""

    def __init__(self, names: list[str]):
        super().__init__(
            _(
                "These records were changed after the import: %(names)s. "
                "Undoing the import would lose those changes."
            )
            % {"names": ", ".join(names)}
        )
        self.names = names


def may_manage(user, batch: ImportBatch) -> bool:
    return batch.created_by_id == user.pk or access.is_admin(user)


def require_manage(user, batch: ImportBatch) -> None:
    if not may_manage(user, batch):
        raise PermissionDenied(_("Only the user who uploaded this file may change its import."))


def batch_upload(*, actor, entity: str, upload) -> ImportBatch:
    """Store the file, read its header, detect its encoding, propose a mapping."""
    if entity not in ENTITIES:
        raise ValidationError({"entity": _("Choose what the file contains.")})
    name = PurePath(upload.name or "import.csv").name[:200]
    if not name.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm")):
        raise ValidationError({"file": _("Upload a CSV or Excel (.xlsx) file.")})
    if upload.size > MAX_SIZE:
        raise ValidationError({"file": _("The file is larger than 500 MB.")})
    path = default_storage.save(f"imports/{uuid.uuid4().hex}/{name}", upload)
    try:
        with default_storage.open(path, "rb") as handle:
            table = reading.open_table(handle, name)
            headers, encoding = table.headers, table.encoding
            first = next(table.rows, None)
    except Exception as exc:
        default_storage.delete(path)
        raise ValidationError(
            {"file": _("The file could not be read: %(error)s") % {"error": exc}}
        ) from exc
    if not headers:
        default_storage.delete(path)
        raise ValidationError({"file": _("The file is empty: it has no header row.")})
    if first is None:
        default_storage.delete(path)
        raise ValidationError({"file": _("The file has a header row but no data rows.")})
    mapping = propose(entity, headers)
    preset = _preset_mapping(entity, headers)
    if preset is not None:
        # The preset decides the columns it knows; the proposal fills the rest.
        taken = set(preset)
        mapping = [p or (m if m not in taken else "") for p, m in zip(preset, mapping, strict=True)]
    return ImportBatch.objects.create(
        entity=entity,
        file_name=name,
        file_path=path,
        file_size=upload.size,
        encoding=encoding,
        headers=headers,
        mapping=mapping,
        created_by=actor,
    )


def _preset_mapping(entity: str, headers: list[str]) -> list[str] | None:
    """The preset that knows most of these headers, when it knows at least half."""
    best, best_hits = None, 0
    for preset in MappingPreset.objects.filter(entity=entity):
        hits = sum(1 for h in headers if preset.mapping.get(h))
        if hits > best_hits:
            best, best_hits = preset, hits
    if best is None or best_hits * 2 < len(headers):
        return None
    return [best.mapping.get(h, "") for h in headers]


def preset_apply(*, batch: ImportBatch, preset: MappingPreset) -> list[str]:
    return [preset.mapping.get(h, "") for h in batch.headers]


@transaction.atomic
def preset_save(*, actor, entity: str, name: str, headers: list[str], mapping: list[str]):
    name = name.strip()[:100]
    if not name:
        raise ValidationError({"preset_name": _("Give the preset a name.")})
    preset, _created = MappingPreset.objects.update_or_create(
        entity=entity,
        name=name,
        defaults={
            "mapping": {h: m for h, m in zip(headers, mapping, strict=True) if m},
            "created_by": actor,
        },
    )
    return preset


@transaction.atomic
def batch_set_mapping(
    *, actor, batch: ImportBatch, mapping: list[str], preset_name: str = ""
) -> ImportBatch:
    """Save the mapping and queue the preview."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    require_manage(actor, batch)
    if batch.status not in (Status.UPLOADED, Status.PREVIEW):
        raise ValidationError(_("This import has already run."))
    keys = {f.key for f in FIELDS[batch.entity]}
    mapping = [m if m in keys else "" for m in mapping][: len(batch.headers)]
    mapping += [""] * (len(batch.headers) - len(mapping))
    if not any(mapping):
        raise ValidationError({"mapping": _("Map at least one column.")})
    multiple = {f.key for f in FIELDS[batch.entity] if f.multiple}
    used = [m for m in mapping if m and m not in multiple]
    if len(used) != len(set(used)):
        raise ValidationError({"mapping": _("Each field can take one column only.")})
    if preset_name:
        preset_save(
            actor=actor,
            entity=batch.entity,
            name=preset_name,
            headers=batch.headers,
            mapping=mapping,
        )
    batch.mapping = mapping
    batch.status = Status.ANALYSING
    batch.processed = batch.total = 0
    batch.cancel_requested = False
    batch.save()
    from kizuna.imports.tasks import import_analyse

    enqueue_on_commit(import_analyse, batch.pk)
    return batch


@transaction.atomic
def batch_start(*, actor, batch: ImportBatch) -> ImportBatch:
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    require_manage(actor, batch)
    if batch.status != Status.PREVIEW:
        raise ValidationError(_("Only a previewed import can be run."))
    batch.status = Status.RUNNING
    batch.processed = 0
    batch.total = batch.rows.filter(outcome__in=writing.WRITTEN).count()
    batch.cancel_requested = False
    batch.save()
    from kizuna.imports.tasks import import_run

    enqueue_on_commit(import_run, batch.pk)
    return batch


def batch_cancel(*, actor, batch: ImportBatch) -> None:
    require_manage(actor, batch)
    ImportBatch.objects.filter(pk=batch.pk, status__in=[Status.ANALYSING, Status.RUNNING]).update(
        cancel_requested=True
    )


def _progress(batch_id: int):
    def report(done: int) -> bool:
        ImportBatch.objects.filter(pk=batch_id).update(processed=done)
        return not ImportBatch.objects.filter(pk=batch_id, cancel_requested=True).exists()

    return report


def analyse_now(batch_id: int) -> None:
    """The preview job: plan every row."""
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    if batch.status != Status.ANALYSING:
        return
    try:
        counts = analysis.analyse(batch, _progress(batch.pk))
    except Exception as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    if ImportBatch.objects.filter(pk=batch.pk, cancel_requested=True).exists():
        ImportRow.objects.filter(batch=batch).delete()
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.CANCELLED, finished_at=timezone.now()
        )
        return
    total = sum(counts.values())
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=Status.PREVIEW, counts=counts, total=total, processed=total
    )


def run_now(batch_id: int) -> None:
    """The import job: write the plan; a cancelled or failed run is rolled back."""
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    if batch.status != Status.RUNNING:
        return
    if batch.chunks.exists():
        # A run that died half-way (a crashed worker): start again from nothing.
        writing.undo(batch)
    try:
        result = writing.run(batch, _progress(batch.pk))
    except writing.Cancelled:
        writing.undo(batch)
        _candidates_delete(batch)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.CANCELLED, finished_at=timezone.now()
        )
        return
    except Exception as exc:
        writing.undo(batch)
        _candidates_delete(batch)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    counts = dict(batch.rows.order_by().values_list("outcome").annotate(n=Count("pk")))
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.DONE, counts=counts, finished_at=timezone.now()
        )
        audit.record(
            actor=batch.created_by,
            action=AuditEntry.Action.CREATE,
            object_type="import",
            object_id=batch.pk,
            object_repr=f"{batch.file_name} ({batch.entity})",
            changes={"import": [None, {"counts": counts, "errors": result["errors"]}]},
        )


def _candidates_delete(batch: ImportBatch) -> None:
    try:
        from kizuna.dedup.services import candidates_delete_for_batch
    except ImportError:
        return
    candidates_delete_for_batch(import_batch_id=batch.pk)


def batch_undo(*, actor, batch: ImportBatch, force: bool = False) -> None:
    """Undo a whole import: delete what it created, restore what it changed."""
    require_manage(actor, batch)
    if batch.status != Status.DONE:
        raise ValidationError(_("Only a finished import can be undone."))
    names = writing.conflicts(batch)
    if names and not force:
        raise UndoConflict(names)
    try:
        writing.undo(batch)
    except Exception as exc:
        from django.db.models import ProtectedError

        if isinstance(exc, ProtectedError):
            raise ValidationError(
                _("Other records now refer to records of this import: %(names)s.")
                % {"names": ", ".join(str(o) for o in list(exc.protected_objects)[:10])}
            ) from exc
        raise
    _candidates_delete(batch)
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.UNDONE, undone_at=timezone.now()
        )
        audit.record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            object_type="import",
            object_id=batch.pk,
            object_repr=f"{batch.file_name} ({batch.entity})",
            changes={"undo": [None, {"forced": bool(names) and force, "changed": names}]},
        )
