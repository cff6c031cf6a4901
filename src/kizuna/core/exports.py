"""Exports of list views (CSV, XLSX); every export goes to the audit log."""

import csv
import io
import tempfile
from collections.abc import Iterable

from django.http import FileResponse, HttpResponse
from django.utils import timezone

from kizuna.core import audit
from kizuna.core.models import AuditEntry
from kizuna.core.tables import Column, display

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _audit(actor, object_type: str, count: int, filters: dict, file_format: str) -> None:
    audit.record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        object_type=object_type,
        object_repr=f"{object_type} × {count}",
        changes={"filters": filters, "rows": count, "format": file_format},
    )


def _filename(object_type: str, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"{object_type}-{stamp}.{extension}"


def export_response(
    *,
    actor,
    object_type: str,
    columns: list[Column],
    rows: Iterable,
    filters: dict,
    file_format: str = "csv",
    bom: bool = True,
) -> HttpResponse | FileResponse:
    if file_format == "xlsx":
        return xlsx_response(
            actor=actor, object_type=object_type, columns=columns, rows=rows, filters=filters
        )
    return csv_response(
        actor=actor, object_type=object_type, columns=columns, rows=rows, filters=filters, bom=bom
    )


def csv_response(
    *, actor, object_type: str, columns: list[Column], rows: Iterable, filters: dict, bom: bool
) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c.label) for c in columns])
    count = 0
    for obj in rows:
        writer.writerow([neutralise(display(c.value(obj))) for c in columns])
        count += 1
    _audit(actor, object_type, count, filters, "csv" if bom else "csv-nobom")
    data = ("\ufeff" if bom else "") + buffer.getvalue()
    response = HttpResponse(data.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(object_type, "csv")}"'
    return response


def xlsx_response(
    *, actor, object_type: str, columns: list[Column], rows: Iterable, filters: dict
) -> FileResponse:
    """An Excel file written row by row (openpyxl's write-only mode).

    The workbook goes to a temporary file rather than memory and is streamed
    from there; cells are written as text, neutralised like the CSV, so that
    no value is ever taken for a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=object_type[:31])
    sheet.append([str(c.label) for c in columns])
    count = 0
    for obj in rows:
        cells = []
        for c in columns:
            cell = WriteOnlyCell(sheet, value=neutralise(display(c.value(obj))))
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    # FileResponse closes the file (and so deletes it) when it is sent.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    workbook.save(handle)
    handle.seek(0)
    _audit(actor, object_type, count, filters, "xlsx")
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_filename(object_type, "xlsx"),
        content_type=XLSX_TYPE,
    )
