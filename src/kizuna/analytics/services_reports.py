"""Writes of saved reports and schedules, and the audited exports."""

import csv
import io
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.analytics import reports
from kizuna.analytics.models_reports import ReportSchedule, SavedReport
from kizuna.analytics.selectors_reports import can_edit_report
from kizuna.core import audit
from kizuna.core.exports import neutralise
from kizuna.core.models import AuditEntry
from kizuna.core.records import ConflictError, check_version

OBJECT_TYPE = "report"
FIELDS = ("name", "shared", "pinned", "object_type", "spec", "chart")


def _snapshot(report: SavedReport) -> dict[str, Any]:
    return audit.snapshot(report, FIELDS)


def _clean(name: Any, spec: Any) -> tuple[str, dict]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 200:
        errors["name"] = [_("At most %(limit)d characters.") % {"limit": 200}]
    clean: dict = {}
    try:
        clean = reports.clean_spec(spec)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(f"spec.{key}" if key != "spec" else key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return name, clean


def _labels(spec: dict) -> dict[str, str]:
    fields = reports.catalogue(spec["object"])
    return {key: str(fields[key].label) for key in reports.referenced_fields(spec)}


@transaction.atomic
def report_create(
    *, actor, name: str, spec: dict, shared: bool = False, pinned: bool = False
) -> SavedReport:
    name, clean = _clean(name, spec)
    report = SavedReport.objects.create(
        name=name,
        owner=actor,
        team_id=actor.team_id,
        shared=bool(shared),
        pinned=bool(pinned),
        object_type=clean["object"],
        spec=clean,
        chart=clean["chart"],
        field_labels=_labels(clean),
    )
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=report,
        object_type=OBJECT_TYPE,
        changes={k: [None, v] for k, v in _snapshot(report).items() if v not in ("", None)},
    )
    return report


def _require_edit(actor, report: SavedReport) -> None:
    if not can_edit_report(actor, report):
        raise PermissionDenied(_("Only the report's owner may change it."))


@transaction.atomic
def report_update(
    *,
    actor,
    report: SavedReport,
    version: int | None = None,
    name: str | None = None,
    spec: dict | None = None,
    shared: bool | None = None,
    pinned: bool | None = None,
) -> SavedReport:
    report = SavedReport.objects.select_for_update().get(pk=report.pk)
    _require_edit(actor, report)
    check_version(report, version)
    before = _snapshot(report)
    new_name, clean = _clean(
        report.name if name is None else name, report.spec if spec is None else spec
    )
    report.name = new_name
    if spec is not None:
        report.spec = clean
        report.object_type = clean["object"]
        report.chart = clean["chart"]
        report.field_labels = _labels(clean)
    if shared is not None:
        report.shared = bool(shared)
        # Sharing shares with the owner's team as it is now.
        report.team_id = report.owner.team_id
    if pinned is not None:
        report.pinned = bool(pinned)
    changes = audit.diff(before, _snapshot(report))
    if changes:
        report.version += 1
        report.save()
        audit.record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            obj=report,
            object_type=OBJECT_TYPE,
            changes=changes,
        )
    return report


@transaction.atomic
def report_delete(*, actor, report: SavedReport, version: int | None = None) -> None:
    report = SavedReport.objects.select_for_update().get(pk=report.pk)
    _require_edit(actor, report)
    check_version(report, version)
    audit.record(
        actor=actor,
        action=AuditEntry.Action.DELETE,
        obj=report,
        object_type=OBJECT_TYPE,
        changes={k: [v, None] for k, v in _snapshot(report).items() if v not in ("", None)},
    )
    report.delete()


@transaction.atomic
def schedule_set(
    *,
    actor,
    report: SavedReport,
    weekday: int,
    hour: int,
    recipients: str,
    is_active: bool = True,
) -> ReportSchedule:
    _require_edit(actor, report)
    errors: dict[str, list[str]] = {}
    if weekday not in ReportSchedule.Weekday.values:
        errors["weekday"] = [_("Choose a weekday.")]
    if not isinstance(hour, int) or not 0 <= hour <= 23:
        errors["hour"] = [_("Choose an hour from 0 to 23.")]
    if recipients not in ReportSchedule.Recipients.values:
        errors["recipients"] = [_("Choose who receives the report.")]
    if recipients == ReportSchedule.Recipients.TEAM and report.owner.team_id is None:
        errors["recipients"] = [_("You are in no team; send the report to yourself.")]
    if errors:
        raise ValidationError(errors)
    schedule, created = ReportSchedule.objects.update_or_create(
        report=report,
        defaults={
            "weekday": weekday,
            "hour": hour,
            "recipients": recipients,
            "is_active": bool(is_active),
        },
    )
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
        obj=report,
        object_type=OBJECT_TYPE,
        changes={
            "schedule": [
                None,
                {
                    "weekday": weekday,
                    "hour": hour,
                    "recipients": recipients,
                    "is_active": bool(is_active),
                },
            ]
        },
    )
    return schedule


@transaction.atomic
def schedule_delete(*, actor, report: SavedReport) -> None:
    _require_edit(actor, report)
    deleted, _rows = ReportSchedule.objects.filter(report=report).delete()
    if deleted:
        audit.record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            obj=report,
            object_type=OBJECT_TYPE,
            changes={"schedule": ["weekly", None]},
        )


# Exports -------------------------------------------------------------------------


def table(result: reports.Result, *, plain: bool) -> tuple[list[str], list[list[Any]]]:
    """The result as a header and rows: display text, or numbers for a spreadsheet."""
    header = [c.label for c in result.columns]
    rows: list[list[Any]] = []
    for row in result.rows:
        cells: list[Any] = list(row.labels)
        if result.has_currency:
            cells.append(row.currency or "")
        measures = [c for c in result.columns if c.kind == "measure"]
        for column, value in zip(measures, row.values, strict=True):
            cells.append(
                reports.plain_value(value, column, row.currency)
                if plain
                else reports.format_value(value, column, row.currency)
            )
        rows.append(cells)
    return header, rows


def _audit_export(actor, *, report: SavedReport | None, spec: dict, fmt: str, rows: int) -> None:
    audit.record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        obj=report,
        object_type=OBJECT_TYPE,
        object_repr=str(report) if report else f"{spec.get('object')} report",
        changes={"format": fmt, "rows": rows, "spec": spec},
    )


def report_export(
    *, actor, result: reports.Result, fmt: str, report: SavedReport | None = None
) -> bytes:
    """The result as CSV (UTF-8 with BOM, for Excel) or XLSX; recorded in the audit log."""
    if result.error:
        raise ValidationError(result.error)
    header, rows = table(result, plain=True)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([neutralise(h) for h in header])
        for row in rows:
            writer.writerow(
                [
                    neutralise(str(v)) if isinstance(v, str) else ("" if v is None else v)
                    for v in row
                ]
            )
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    elif fmt == "xlsx":
        data = _xlsx(header, rows, title=str(report) if report else _("Report"))
    else:
        raise ValidationError({"format": [_("Choose CSV or XLSX.")]})
    _audit_export(actor, report=report, spec=result.spec, fmt=fmt, rows=len(rows))
    return data


def _xlsx(header: list[str], rows: list[list[Any]], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    # A sheet title may not hold []:*?/\ and has at most 31 characters.
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Report"
    sheet.append([neutralise(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = [
    "ConflictError",
    "report_create",
    "report_delete",
    "report_export",
    "report_update",
    "schedule_delete",
    "schedule_set",
    "table",
]
